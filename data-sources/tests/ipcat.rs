//! `ipcat`: client9 ipcat `datacenters.csv`.

use std::collections::HashSet;
use std::net::IpAddr;

use ipsieve_sources::ipcat::{self, IpcatRange};
use ipsieve_sources::{input, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, shared_data, split};

fn parse_bytes(bytes: &[u8]) -> (Vec<IpcatRange>, Vec<ParseError>) {
    split(ipcat::parse(bytes, "ipcat"), "ipcat")
}

fn range(start: &str, end: &str, name: &str, url: &str) -> IpcatRange {
    IpcatRange {
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        name: name.into(),
        url: url.into(),
    }
}

#[test]
fn fixture_exact_values() {
    let ranges = all_ok(ipcat::parse(
        &fixture_bytes("ipcat-datacenters.csv")[..],
        "ipcat",
    ));
    assert_eq!(ranges.len(), 12);
    assert_eq!(
        ranges[0],
        range(
            "3.0.0.0",
            "3.1.255.255",
            "Amazon AWS",
            "http://www.amazon.com/aws/"
        )
    );
    assert_eq!(
        ranges[5],
        range(
            "64.5.32.0",
            "64.5.63.255",
            "ThePlanet.com Internet Services, Inc.",
            "http://theplanet.com"
        )
    );
    // A single address, an empty url, a range not starting on a boundary.
    assert_eq!(ranges[7].start, ranges[7].end);
    assert_eq!(
        ranges[8],
        range(
            "95.57.120.0",
            "95.57.120.255",
            "Kazakhtelecom Colocation",
            ""
        )
    );
    assert_eq!(ranges[9].start, "103.1.112.1".parse::<IpAddr>().unwrap());
    assert_eq!(ranges[11].name, "Voxel");
    let names: HashSet<&str> = ranges.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names.len(), 7);
    let located: Vec<_> = ipcat::parse_located(&fixture_bytes("ipcat-datacenters.csv")[..], "i")
        .map(Result::unwrap)
        .collect();
    assert_eq!(located[11].position, Position::Line(12));
}

#[test]
fn missing_url_and_ipv6() {
    let (ranges, errors) =
        parse_bytes(b"192.0.2.0,192.0.2.255,Example\n2001:db8::,2001:db8::ffff,V6,u\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ranges[0].url, "");
    assert!(!ranges[1].start.is_ipv4());
}

#[test]
fn rejected_rows() {
    let cases = [
        (
            "3.1.255.255,3.0.0.0,Amazon AWS,http://www.amazon.com/aws/",
            "range 3.1.255.255-3.0.0.0 ends before it starts (reversed)",
        ),
        (
            "3.0.0.0,::1,Mixed,",
            "range 3.0.0.0-::1 mixes ipv4 and ipv6",
        ),
        (
            "3.0.0.0/15,3.1.255.255,Amazon AWS,",
            "range start: not an ip address or network",
        ),
        (
            "3.0.0.0,3.1.255.255",
            "expected four fields: range start, range end, provider name, provider url (found 2)",
        ),
        (
            "3.0.0.0,3.1.255.255,Amazon, Inc.,http://x,y",
            "expected four fields: range start, range end, provider name, provider url (found 6)",
        ),
        (
            "3.0.0.0,3.1.255.255,\"Amazon, Inc.,http://x",
            "unbalanced double quote (a quoted field must end on its line)",
        ),
    ];
    for (row, reason) in cases {
        let (ranges, errors) =
            parse_bytes(format!("3.8.0.0,3.11.255.255,Amazon AWS,x\n{row}\n").as_bytes());
        assert_eq!(ranges.len(), 1, "{row}");
        assert_eq!(errors.len(), 1, "{row}");
        assert_eq!(errors[0].reason, reason, "{row}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, row);
    }
}

#[test]
fn hostile_inputs() {
    assert!(parse_bytes(b"").0.is_empty());
    let (ranges, errors) = parse_bytes(b"\xEF\xBB\xBF3.0.0.0,3.1.255.255,Amazon AWS,u\r\n\n");
    assert_eq!((ranges.len(), errors.len()), (1, 0));
    let (ranges, errors) = parse_bytes(b"\0,\0,\0,\0\n3.0.0.0,3.0.0.0,\xC3,u\n");
    assert_eq!((ranges.len(), errors.len()), (1, 1));
    assert_eq!(ranges[0].name, "\u{FFFD}");
    let mut bytes = long_line(2 << 20);
    bytes.extend(b"\n3.0.0.0,3.0.0.0,x,u\n");
    let (ranges, errors) = parse_bytes(&bytes);
    assert_eq!((ranges.len(), errors.len()), (1, 1));
}

#[test]
fn whole_upstream_file() {
    let Some(path) = shared_data("asn/client9-ipcat/datacenters.csv") else {
        return;
    };
    let (ranges, errors) = split(ipcat::parse(input::open(&path).unwrap(), "ipcat"), "ipcat");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(ranges.len(), 3429);
    assert!(ranges.iter().all(|r| r.start.is_ipv4() && r.start <= r.end));
    assert_eq!(
        ranges
            .iter()
            .filter(|r| r.name == "ThePlanet.com Internet Services, Inc.")
            .count(),
        24
    );
    assert_eq!(ranges.iter().filter(|r| r.start == r.end).count(), 1);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics(text in "([0-9.]{0,15},[0-9.]{0,15},[\" ,A-Za-z]{0,16},[a-z:/.]{0,10}\r?\n){0,20}") {
        let (ranges, _) = parse_bytes(text.as_bytes());
        for r in ranges {
            prop_assert!(r.start <= r.end);
        }
    }
}
