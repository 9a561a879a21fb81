//! `input`: opening, gunzip sniffing and the bounded line reader.

use std::io::{BufRead, Cursor, Read};

use flate2::write::GzEncoder;
use flate2::Compression;
use ipsieve_sources::input::{self, LineReader, MAX_LINE};
use ipsieve_sources::Position;

use crate::common::{fixture, fixture_bytes, long_line};

fn lines_of(bytes: &[u8]) -> Vec<Result<(u64, String), ipsieve_sources::ParseError>> {
    let mut reader = LineReader::new(bytes, "t");
    let mut out = Vec::new();
    while let Some(line) = reader.next_line() {
        out.push(line.map(|(n, s)| (n, s.to_owned())));
    }
    out
}

fn ok_lines(bytes: &[u8]) -> Vec<(u64, String)> {
    lines_of(bytes).into_iter().map(Result::unwrap).collect()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn open_gunzips_by_magic_not_by_name() {
    let plain = fixture_bytes("tor-exit-addresses.txt");
    assert_eq!(
        read_all(input::open(&fixture("tor-exit-addresses.txt.gz")).unwrap()),
        plain
    );
    assert_eq!(
        read_all(input::open(&fixture("tor-exit-addresses.txt")).unwrap()),
        plain
    );
    let gz = fixture_bytes("tor-exit-addresses.txt.gz");
    assert_eq!(read_all(input::decode(Cursor::new(gz)).unwrap()), plain);
}

#[test]
fn open_missing_file_is_an_io_error() {
    assert!(input::open(&fixture("no-such-file")).is_err());
}

#[test]
fn concatenated_gzip_members_read_as_one_stream() {
    let mut both = gzip(b"192.0.2.1\n");
    both.extend(gzip(b"192.0.2.2\n"));
    let out = read_all(input::decode(Cursor::new(both)).unwrap());
    assert_eq!(out, b"192.0.2.1\n192.0.2.2\n");
}

#[test]
fn short_inputs_are_passed_through() {
    assert_eq!(
        read_all(input::decode(Cursor::new(Vec::new())).unwrap()),
        b""
    );
    assert_eq!(
        read_all(input::decode(Cursor::new(vec![0x1f])).unwrap()),
        [0x1f]
    );
    assert_eq!(
        read_all(input::decode(Cursor::new(vec![0x1f, 0x00, 7])).unwrap()),
        [0x1f, 0, 7]
    );
}

#[test]
fn terminators_bom_and_last_line() {
    assert_eq!(ok_lines(b""), vec![]);
    assert_eq!(ok_lines(b"\n"), vec![(1, String::new())]);
    assert_eq!(
        ok_lines(b"\xEF\xBB\xBFa\r\nb\n\nc"),
        vec![
            (1, "a".into()),
            (2, "b".into()),
            (3, String::new()),
            (4, "c".into())
        ]
    );
    // A BOM is only a BOM on line 1.
    assert_eq!(ok_lines(b"a\n\xEF\xBB\xBFb")[1], (2, "\u{FEFF}b".into()));
    // A lone `\r` inside a line stays; only the one before `\n` (or at the end) goes.
    assert_eq!(ok_lines(b"a\rb\r\n")[0], (1, "a\rb".into()));
}

#[test]
fn invalid_utf8_and_nul_are_kept_lossily() {
    assert_eq!(
        ok_lines(b"a\xFF\xFEb\n")[0],
        (1, "a\u{FFFD}\u{FFFD}b".into())
    );
    assert_eq!(ok_lines(b"a\0b\n")[0], (1, "a\0b".into()));
}

#[test]
fn a_two_mib_line_is_skipped_with_one_error() {
    let mut data = b"first\n".to_vec();
    data.extend(long_line(2 << 20));
    data.extend(b"\nlast\n");
    let lines = lines_of(&data);
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[0].as_ref().unwrap(), &(1, "first".to_owned()));
    let e = lines[1].as_ref().unwrap_err();
    assert_eq!(e.reason, format!("line longer than {MAX_LINE} bytes"));
    assert_eq!(e.reason, "line longer than 1048576 bytes");
    assert_eq!(e.position, Position::Line(2));
    assert!(!e.fatal);
    assert!(
        e.text.starts_with("xxxx") && e.text.ends_with('…'),
        "{}",
        e.text
    );
    assert_eq!(lines[2].as_ref().unwrap(), &(3, "last".to_owned()));
}

#[test]
fn a_line_of_exactly_max_line_bytes_is_kept() {
    let mut data = long_line(MAX_LINE);
    data.push(b'\n');
    let lines = ok_lines(&data);
    assert_eq!(lines[0].1.len(), MAX_LINE);
}

#[test]
fn truncated_gzip_is_fatal_after_the_lines_before_it() {
    let gz = fixture_bytes("tor-exit-addresses.txt.gz");
    let half = gz[..gz.len() / 2].to_vec();
    let reader = input::decode(Cursor::new(half)).unwrap();
    let mut lines = LineReader::new(reader, "cut");
    let mut good = Vec::new();
    let err = loop {
        match lines.next_line() {
            Some(Ok((n, text))) => good.push((n, text.to_owned())),
            Some(Err(e)) => break e,
            None => panic!("a truncated gzip stream must end in an error"),
        }
    };
    assert!(err.fatal);
    assert_eq!(err.position, Position::Line(good.len() as u64 + 1));
    assert!(err.reason.contains("truncated"), "{err}");
    assert!(lines.next_line().is_none());
    // What came before the cut is intact.
    let plain = String::from_utf8(fixture_bytes("tor-exit-addresses.txt")).unwrap();
    for (n, text) in &good {
        assert_eq!(plain.lines().nth(*n as usize - 1), Some(text.as_str()));
    }
}

#[test]
fn corrupt_gzip_is_fatal_at_line_one() {
    let reader = input::decode(Cursor::new(b"\x1f\x8bnot really gzip".to_vec())).unwrap();
    let mut lines = LineReader::new(reader, "bad.gz");
    let e = lines.next_line().unwrap().unwrap_err();
    assert!(e.fatal);
    assert_eq!(e.position, Position::Line(1));
    assert_eq!(e.source_name, "bad.gz");
    assert!(lines.next_line().is_none());
}

#[test]
fn boxed_readers_are_accepted_by_parsers() {
    let reader: Box<dyn BufRead + Send> =
        input::open(&fixture("secops-tor-exit-nodes.lst")).unwrap();
    assert_eq!(ipsieve_sources::plain::parse(reader, "s").count(), 20);
}
