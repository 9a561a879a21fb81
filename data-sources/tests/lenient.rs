//! `Lenient`: counting, keeping the first errors, stopping at a fatal one.

use ipsieve_sources::lenient::KEPT_ERRORS;
use ipsieve_sources::{plain, Lenient, ParseError, Position};

#[test]
fn counts_and_keeps_the_first_errors() {
    let mut text = String::new();
    for i in 0..30 {
        text.push_str(&format!("192.0.2.{i}\nbad{i}\n"));
    }
    let mut it = Lenient::new(plain::parse(text.as_bytes(), "list"));
    let mut n = 0;
    for net in &mut it {
        assert!(net.to_string().starts_with("192.0.2."));
        n += 1;
    }
    assert_eq!(n, 30);
    let report = it.report();
    assert_eq!((report.accepted, report.rejected), (30, 30));
    assert_eq!(report.first_errors.len(), KEPT_ERRORS);
    assert_eq!(report.first_errors[0].position, Position::Line(2));
    assert_eq!(report.first_errors[19].position, Position::Line(40));
    assert!(report.fatal.is_none());
    assert!((it.rejected_ratio() - 0.5).abs() < 1e-12);
    assert_eq!(report.rejected_ratio(), it.rejected_ratio());
    assert_eq!(it.into_report(), report);
}

#[test]
fn empty_stream_has_zero_ratio() {
    let it = Lenient::new(plain::parse(&b""[..], "empty"));
    assert_eq!(it.rejected_ratio(), 0.0);
    assert_eq!(it.report().accepted, 0);
}

#[test]
fn a_fatal_error_ends_the_stream_and_is_remembered() {
    let items: Vec<Result<u32, ParseError>> = vec![
        Ok(1),
        Err(ParseError::at_line("s", 2, "bad", "x")),
        Ok(3),
        Err(ParseError::fatal("s", Position::Line(4), "cut")),
        Ok(5),
    ];
    let mut it = Lenient::new(items.into_iter());
    let got: Vec<u32> = (&mut it).collect();
    assert_eq!(got, [1, 3]);
    assert!(it.next().is_none(), "fused after the fatal error");
    let report = it.report();
    assert_eq!((report.accepted, report.rejected), (2, 1));
    assert_eq!(report.fatal.unwrap().reason, "cut");
}
