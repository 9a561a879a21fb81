//! `asnames`: potaroo / CIDR-report AS names.

use ipsieve_sources::asnames::{self, AsName};
use ipsieve_sources::{ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, split};

fn parse_bytes(bytes: &[u8]) -> (Vec<AsName>, Vec<ParseError>) {
    split(asnames::parse(bytes, "asnames"), "asnames")
}

fn name(asn: u32, name: &str, cc: Option<&[u8; 2]>) -> AsName {
    AsName {
        asn,
        name: name.into(),
        country: cc.copied(),
    }
}

#[test]
fn fixture_exact_values() {
    let names = all_ok(asnames::parse(&fixture_bytes("asnames.txt")[..], "asnames"));
    assert_eq!(names.len(), 21);
    assert_eq!(names[0], name(1, "LVLT-1", Some(b"US")));
    assert_eq!(names[0].country_str(), Some("US"));
    assert_eq!(names[6], name(7, "DSTL", Some(b"EU")));
    assert_eq!(names[10], name(18253, "--No Registry Entry--", None));
    assert_eq!(names[11], name(64510, "-Reserved AS-", Some(b"ZZ")));
    assert_eq!(
        names[15],
        name(
            131078,
            "KDDLAB-4OCT KDDI R&D Laboratories, INC.",
            Some(b"JP")
        )
    );
    assert_eq!(
        names[19],
        name(3_741_437_414, "--No Registry Entry--", None)
    );
    assert_eq!(
        names[20],
        name(4_200_001_179, "--No Registry Entry--", None)
    );
}

#[test]
fn country_is_after_the_last_comma_space_when_it_is_a_code() {
    let (names, errors) = parse_bytes(
        "AS1 A, B, US\nAS2 lower, us\nAS3 three, USA\nAS4 no-space,US\nAS5 Telef\u{f3}nica, ES\nAS6\tTab\t, DE  \n"
            .as_bytes(),
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(names[0], name(1, "A, B", Some(b"US")));
    assert_eq!(names[1], name(2, "lower, us", None));
    assert_eq!(names[2], name(3, "three, USA", None));
    assert_eq!(names[3], name(4, "no-space,US", None));
    assert_eq!(names[4], name(5, "Telef\u{f3}nica", Some(b"ES")));
    assert_eq!(names[5], name(6, "Tab", Some(b"DE")));
    // Two real rows carry only a country (`AS56687       , IQ`).
    let (names, _) = parse_bytes(b"AS56687       , IQ\n");
    assert_eq!(names[0], name(56687, "", Some(b"IQ")));
}

#[test]
fn invalid_utf8_names_are_kept_lossily() {
    let (names, errors) = parse_bytes(b"AS5 Telef\xF3nica, ES\n");
    assert!(errors.is_empty());
    assert_eq!(names[0].name, "Telef\u{FFFD}nica");
}

#[test]
fn rejected_rows() {
    let cases = [
        (
            "AS4294967296 TOO-BIG, US",
            "the as number is not a 32-bit number",
        ),
        (
            "AS99999999999999999999999 TOO-BIG, US",
            "the as number is not a 32-bit number",
        ),
        (
            "AS TOO-SHORT, US",
            "expected \"AS<number>\" at the start of the line",
        ),
        ("AS12", "no as name after the number"),
        (
            "AS1x NAME, US",
            "expected \"AS<number>\" at the start of the line",
        ),
        (
            "as1 NAME, US",
            "expected \"AS<number>\" at the start of the line",
        ),
        (
            "13335 CLOUDFLARENET, US",
            "expected \"AS<number>\" at the start of the line",
        ),
        ("\0", "expected \"AS<number>\" at the start of the line"),
    ];
    for (row, reason) in cases {
        let (names, errors) = parse_bytes(format!("AS1 LVLT-1, US\n{row}\n").as_bytes());
        assert_eq!(names.len(), 1, "{row}");
        assert_eq!(errors.len(), 1, "{row}");
        assert_eq!(errors[0].reason, reason, "{row}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, row);
    }
}

#[test]
fn hostile_inputs() {
    assert!(parse_bytes(b"").0.is_empty());
    let (names, errors) = parse_bytes(b"\xEF\xBB\xBFAS1           LVLT-1, US\r\n\r\n");
    assert_eq!((names.len(), errors.len()), (1, 0));
    let mut bytes = b"AS1 ".to_vec();
    bytes.extend(long_line(2 << 20));
    bytes.extend(b"\nAS2 UDEL-DCN, US\n");
    let (names, errors) = parse_bytes(&bytes);
    assert_eq!((names.len(), errors.len()), (1, 1));
    assert!(errors[0].text.starts_with("AS1 xxx"));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = split(asnames::parse(&bytes[..], "fuzz"), "fuzz");
    }

    #[test]
    fn row_like_text_never_panics(text in "(AS[0-9]{0,12}[ \t]{0,14}[ -~\u{80}-\u{3ff}]{0,40}\n){0,20}") {
        let (names, _) = split(asnames::parse(text.as_bytes(), "fuzz"), "fuzz");
        for n in names {
            prop_assert!(!n.name.is_empty() || n.country.is_some());
            if let Some(cc) = n.country {
                prop_assert!(cc.iter().all(u8::is_ascii_uppercase));
            }
        }
    }
}
