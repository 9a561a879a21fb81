//! `pfx2as`: CAIDA RouteViews prefix-to-AS.

use ipnet::IpNet;
use ipsieve_sources::pfx2as::{self, OriginKind, Pfx2AsRecord};
use ipsieve_sources::{input, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture, long_line, split};

fn parse_str(text: &str) -> (Vec<Pfx2AsRecord>, Vec<ParseError>) {
    split(pfx2as::parse(text.as_bytes(), "pfx2as"), "pfx2as")
}

fn rec(net: &str, origins: &[u32], kind: OriginKind) -> Pfx2AsRecord {
    Pfx2AsRecord {
        net: net.parse().unwrap(),
        origins: origins.to_vec(),
        kind,
    }
}

#[test]
fn fixture_exact_values() {
    let reader = input::open(&fixture("routeviews-rv2-20240406.pfx2as.gz")).unwrap();
    let recs = all_ok(pfx2as::parse(reader, "rv2"));
    assert_eq!(recs.len(), 19);
    use OriginKind::*;
    assert_eq!(recs[0], rec("1.0.0.0/24", &[13335], Single));
    assert_eq!(recs[10], rec("1.2.4.0/24", &[24151, 24409], MultiOrigin));
    assert_eq!(
        recs[12],
        rec("2.59.118.0/24", &[210329, 204548, 41436], MultiOrigin)
    );
    assert_eq!(recs[13], rec("49.15.128.0/20", &[45271, 55644], AsSet));
    assert_eq!(
        recs[14],
        rec("67.14.0.0/17", &[209, 3356, 6223, 6224, 19901], Mixed)
    );
    // Repeats are dropped, first occurrence kept: `45458,134240_45458,65000,134240`.
    assert_eq!(
        recs[15],
        rec("103.20.204.0/22", &[45458, 134240, 65000], Mixed)
    );
    assert_eq!(recs[16], rec("168.187.36.0/24", &[42781, 65535], Mixed));
    assert_eq!(recs[17].origins.len(), 25);
    assert_eq!(recs[17].origins[0], 41001);
    assert_eq!(recs[18], rec("223.255.254.0/24", &[55415], Single));
    // Nested more-specifics are separate records.
    let nested: Vec<String> = recs[6..10].iter().map(|r| r.net.to_string()).collect();
    assert_eq!(
        nested,
        [
            "1.0.128.0/17",
            "1.0.128.0/18",
            "1.0.128.0/19",
            "1.0.128.0/24"
        ]
    );
}

#[test]
fn ipv6_rows_and_edges() {
    let (recs, errors) = parse_str(
        "2001:db8::\t32\t64496\n0.0.0.0\t0\t0\n::\t0\t4294967295\n1.0.0.0 24 13335\r\n\n",
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(recs[0], rec("2001:db8::/32", &[64496], OriginKind::Single));
    assert_eq!(recs[1].net, "0.0.0.0/0".parse::<IpNet>().unwrap());
    assert_eq!(recs[2].origins, [u32::MAX]);
    assert_eq!(recs[3].net.to_string(), "1.0.0.0/24");
}

#[test]
fn rejected_rows() {
    let cases = [
        (
            "1.0.0.1\t24\t13335",
            "host bits set after the prefix length (the network is 1.0.0.0/24)",
        ),
        ("1.0.0.0\t33\t13335", "prefix length 33 is longer than 32"),
        ("2001:db8::\t129\t1", "prefix length 129 is longer than 128"),
        (
            "1.0.0.0\t-1\t13335",
            "prefix length is not a number from 0 to 128",
        ),
        (
            "1.0.0.0\t24\t4294967296",
            "origin \"4294967296\" is not a 32-bit asn",
        ),
        (
            "1.0.0.0\t24\t99999999999999999999999",
            "origin \"99999999999999999999999\" is not a 32-bit asn",
        ),
        (
            "1.0.0.0\t24\tAS13335",
            "origin \"AS13335\" is not a 32-bit asn",
        ),
        (
            "1.0.0.0\t24\t+13335",
            "origin \"+13335\" is not a 32-bit asn",
        ),
        ("1.0.0.0\t24\t1_", "origin \"\" is not a 32-bit asn"),
        ("1.0.0.0\t24\t1,,2", "origin \"\" is not a 32-bit asn"),
        (
            "1.0.0.0\t24",
            "expected three fields: address, prefix length, origin",
        ),
        (
            "1.0.0.0\t24\t1\t2",
            "expected three fields: address, prefix length, origin",
        ),
        (
            "010.0.0.0\t8\t1",
            "ipv4 octet with a leading zero (octal or decimal?)",
        ),
        (
            "fe80::%eth0\t64\t1",
            "ipv6 zone ids (\"%...\") are not allowed",
        ),
        ("1.0.0.0/24\t24\t1", "not an ip address or network"),
    ];
    for (row, reason) in cases {
        let (recs, errors) = parse_str(&format!("1.0.0.0\t24\t13335\n{row}\n"));
        assert_eq!(recs.len(), 1, "{row}");
        assert_eq!(errors.len(), 1, "{row}");
        assert_eq!(errors[0].reason, reason, "{row}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, row);
        assert!(!errors[0].fatal);
    }
}

#[test]
fn hostile_inputs() {
    assert!(parse_str("").0.is_empty());
    let (recs, errors) = parse_str("\0\t\0\t\0\n1.0.0.0\t24\t1\u{FFFD}\n");
    assert_eq!((recs.len(), errors.len()), (0, 2));
    let (recs, errors) = split(
        pfx2as::parse(
            &b"\xEF\xBB\xBF1.0.0.0\t24\t13335\r\n1.0.0.0\t24\t1\xFF\n"[..],
            "pfx2as",
        ),
        "pfx2as",
    );
    assert_eq!((recs.len(), errors.len()), (1, 1));
    let mut bytes = long_line(2 << 20);
    bytes.extend(b"\n1.0.0.0\t24\t13335");
    let (recs, errors) = split(pfx2as::parse(&bytes[..], "pfx2as"), "pfx2as");
    assert_eq!((recs.len(), errors.len()), (1, 1));
    assert_eq!(errors[0].position, Position::Line(1));
}

#[test]
fn truncated_gzip_is_fatal_at_the_end() {
    let gz = std::fs::read(fixture("routeviews-rv2-20240406.pfx2as.gz")).unwrap();
    let reader = input::decode(std::io::Cursor::new(gz[..gz.len() * 3 / 4].to_vec())).unwrap();
    let (_, errors) = split(pfx2as::parse(reader, "cut"), "cut");
    assert!(errors.last().unwrap().fatal);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = split(pfx2as::parse(&bytes[..], "fuzz"), "fuzz");
    }

    #[test]
    fn row_like_text_never_panics(text in "([0-9a-f:.]{0,20}\t[0-9]{0,4}\t[0-9_,]{0,30}\n){0,20}") {
        let (recs, _) = split(pfx2as::parse(text.as_bytes(), "fuzz"), "fuzz");
        for r in recs {
            prop_assert!(!r.origins.is_empty());
            prop_assert_eq!(r.net, r.net.trunc());
        }
    }
}
