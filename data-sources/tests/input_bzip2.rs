//! `input`: transparent bzip2 (RouteViews ships its RIB dumps as `.bz2`).

use std::io::{Cursor, Read, Write};

use bzip2::write::BzEncoder;
use bzip2::Compression;
use ipsieve_sources::input::{self, LineReader};
use ipsieve_sources::{plain, Position};

use crate::common::{fixture, fixture_bytes};

fn bzip2(data: &[u8], level: u32) -> Vec<u8> {
    let mut enc = BzEncoder::new(Vec::new(), Compression::new(level));
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn bzip2_is_detected_by_magic_not_by_name() {
    let text = fixture_bytes("tor-exit-addresses.txt");
    for level in [1, 9] {
        let bz = bzip2(&text, level);
        assert_eq!(read_all(input::decode(Cursor::new(bz)).unwrap()), text);
    }
    // A real RouteViews excerpt, opened from its file.
    let rib = read_all(input::open(&fixture("mrt-rib.20140523.0600-excerpt.bz2")).unwrap());
    assert_eq!(rib.len(), 38_510);
    assert_eq!(
        &rib[4..8],
        [0, 13, 0, 1],
        "TABLE_DUMP_V2 / PEER_INDEX_TABLE"
    );
}

#[test]
fn text_that_starts_like_bzip2_is_passed_through() {
    for text in [
        &b"BZh9 is not a header\n"[..],
        b"BZh",
        b"BZh91AY&S",
        b"BZh01AY&SY",
    ] {
        assert_eq!(
            read_all(input::decode(Cursor::new(text.to_vec())).unwrap()),
            text
        );
    }
}

#[test]
fn empty_and_concatenated_bzip2_streams() {
    assert_eq!(
        read_all(input::decode(Cursor::new(bzip2(b"", 9))).unwrap()),
        b""
    );
    // pbzip2 writes one stream per block; they read as one.
    let mut both = bzip2(b"192.0.2.1\n", 9);
    both.extend(bzip2(b"192.0.2.2\n", 1));
    let reader = input::decode(Cursor::new(both)).unwrap();
    assert_eq!(plain::parse(reader, "two").count(), 2);
}

#[test]
fn truncated_bzip2_is_fatal_after_the_lines_before_it() {
    let text = fixture_bytes("tor-exit-addresses.txt");
    let mut bytes = bzip2(&text, 9);
    let second = bzip2(&text, 9);
    bytes.extend_from_slice(&second[..second.len() / 2]);
    let reader = input::decode(Cursor::new(bytes)).unwrap();
    let mut lines = LineReader::new(reader, "cut.bz2");
    let mut good = 0;
    let err = loop {
        match lines.next_line() {
            Some(Ok(_)) => good += 1,
            Some(Err(e)) => break e,
            None => panic!("a truncated bzip2 stream must end in an error"),
        }
    };
    // The whole first stream, none of the cut block of the second.
    assert_eq!(good, text.split(|&b| b == b'\n').count() - 1);
    assert!(err.fatal);
    assert_eq!(err.position, Position::Line(good as u64 + 1));
    assert!(err.reason.contains("truncated"), "{err}");
    assert!(lines.next_line().is_none());
}

#[test]
fn corrupt_bzip2_is_fatal_at_line_one() {
    let mut bz = bzip2(b"192.0.2.1\n", 9);
    let n = bz.len();
    bz[n / 2] ^= 0x55;
    let reader = input::decode(Cursor::new(bz)).unwrap();
    let mut lines = LineReader::new(reader, "bad.bz2");
    let e = lines.next_line().unwrap().unwrap_err();
    assert!(e.fatal);
    assert_eq!(e.position, Position::Line(1));
    assert!(lines.next_line().is_none());
}

/// A bzip2 bomb (64 MiB of one repeated line from a few hundred kilobytes: one small stream,
/// concatenated, which is quick to make) stops at the decompression cap: the lines before it
/// are read, then one fatal error names the source and the cap.
#[test]
fn a_bzip2_bomb_stops_at_the_decompression_cap() {
    const CAP: u64 = 1 << 20;
    let line = b"192.0.2.1\n";
    let block = line.repeat(6_554);
    let bomb = bzip2(&block, 9).repeat(1024);
    assert!(
        bomb.len() * 100 < block.len() * 1024,
        "{} bytes",
        bomb.len()
    );
    let reader = input::decode_with_limit(Cursor::new(bomb.clone()), CAP).unwrap();
    let items: Vec<_> = plain::parse(reader, "bomb.bz2").collect();
    // 104 857 whole lines fit in 1 MiB; the 104 858th is cut by the cap.
    let whole = CAP as usize / line.len();
    assert_eq!(items.len(), whole + 1);
    assert!(items[..whole].iter().all(Result::is_ok));
    let e = items[whole].as_ref().unwrap_err();
    assert!(e.fatal);
    assert_eq!(e.source_name, "bomb.bz2");
    assert_eq!(e.position, Position::Line(whole as u64 + 1));
    assert_eq!(
        e.reason,
        "decompressed input larger than 1048576 bytes (a compression bomb, or not the file this \
         source should be); check the file"
    );
    // The raw reader stops at the cap too, with an error of its own kind.
    let mut reader = input::decode_with_limit(Cursor::new(bomb), CAP).unwrap();
    let mut out = Vec::new();
    let e = reader.read_to_end(&mut out).unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
    assert_eq!(out.len() as u64, CAP);
}

#[test]
fn the_decompression_cap_is_inclusive_and_covers_gzip_and_json() {
    // Exactly the cap is fine; one byte more is not.
    let text = b"192.0.2.1\n".repeat(100);
    for (data, limit, ok) in [(&text, 1000, true), (&text, 999, false)] {
        let reader = input::decode_with_limit(Cursor::new(bzip2(data, 9)), limit).unwrap();
        let items: Vec<_> = plain::parse(reader, "t").collect();
        assert_eq!(items.iter().all(Result::is_ok), ok, "limit {limit}");
    }
    // A gzip bomb, read by a JSON parser: one fatal error for the document, naming the cap.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(b"{\"prefixes\": [").unwrap();
    gz.write_all(&b" ".repeat(8 << 20)).unwrap();
    gz.write_all(b"]}").unwrap();
    let reader = input::decode_with_limit(Cursor::new(gz.finish().unwrap()), 1 << 20).unwrap();
    let items: Vec<_> = ipsieve_sources::aws::parse(reader, "aws.json.gz").collect();
    assert_eq!(items.len(), 1);
    let e = items[0].as_ref().unwrap_err();
    assert!(e.fatal);
    assert_eq!(e.source_name, "aws.json.gz");
    assert!(
        e.reason
            .starts_with("decompressed input larger than 1048576 bytes"),
        "{e}"
    );
    // Plain input is not capped: its size is the file's.
    let reader = input::decode_with_limit(Cursor::new(text.clone()), 10).unwrap();
    assert_eq!(read_all(reader), text);
}
