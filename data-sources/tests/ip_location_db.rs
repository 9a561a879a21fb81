//! `ip_location_db`: ip-location-db `asn-ipv4.csv` / `asn-ipv6.csv`.

use std::io::Write;
use std::net::IpAddr;
use std::time::Instant;

use ipsieve_sources::ip_location_db::{self, IpLocationAsn};
use ipsieve_sources::{input, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, shared_data, split};

fn parse_bytes(bytes: &[u8]) -> (Vec<IpLocationAsn>, Vec<ParseError>) {
    split(ip_location_db::parse(bytes, "asn"), "asn")
}

fn row(start: &str, end: &str, asn: u32, org: &str) -> IpLocationAsn {
    IpLocationAsn {
        start: start.parse().unwrap(),
        end: end.parse().unwrap(),
        asn,
        org: org.into(),
    }
}

#[test]
fn ipv4_fixture_exact_values() {
    let rows = all_ok(ip_location_db::parse(
        &fixture_bytes("ip-location-db-asn-ipv4.csv")[..],
        "asn-ipv4",
    ));
    assert_eq!(rows.len(), 19);
    assert_eq!(
        rows[0],
        row("1.0.0.0", "1.0.0.255", 13335, "Cloudflare, Inc.")
    );
    assert_eq!(
        rows[1],
        row("1.0.4.0", "1.0.7.255", 38803, "Gtelecom Pty Ltd")
    );
    assert_eq!(rows[3].org, "Enecom,Inc.");
    assert_eq!(rows[8].org, "Yamu Technologies Co., Ltd.");
    assert_eq!(
        rows[10],
        row("2.26.200.0", "2.26.215.255", 201907, "LLC \"SPUTNIK\"")
    );
    assert_eq!(
        rows[12].org,
        "Fundacio Privada per a la Xarxa Lliure, Oberta i Neutral, guifi.net"
    );
    // A single address, and a private 32-bit ASN kept as written.
    assert_eq!(rows[14].start, rows[14].end);
    assert_eq!(
        rows[15],
        row(
            "103.138.210.0",
            "103.138.210.255",
            4_294_967_294,
            "AS4294967294"
        )
    );
    assert_eq!(
        rows[18],
        row(
            "223.255.254.0",
            "223.255.254.255",
            55415,
            "Marina Bay Sands Pte Ltd"
        )
    );
    assert!(rows.iter().all(|r| r.start.is_ipv4() && r.is_routed()));
    assert_eq!(rows.iter().filter(|r| r.org.contains(',')).count(), 7);
}

#[test]
fn ipv6_fixture_exact_values() {
    let rows = all_ok(ip_location_db::parse(
        &fixture_bytes("ip-location-db-asn-ipv6.csv")[..],
        "asn-ipv6",
    ));
    assert_eq!(rows.len(), 16);
    assert_eq!(
        rows[0],
        row(
            "2001::",
            "2001::ffff:ffff:ffff:ffff:ffff:ffff",
            6939,
            "Hurricane Electric LLC"
        )
    );
    assert_eq!(rows[3].org, "Internet Systems Consortium, Inc.");
    assert_eq!(rows[5].org, "UAB \"Atlantis Capital\"");
    assert_eq!(
        rows[6].start,
        "2001:500:30ff::30".parse::<IpAddr>().unwrap()
    );
    assert_eq!(rows[6].start, rows[6].end);
    // Upstream cut this name short, inside its quotes; it is kept as published.
    assert_eq!(
        rows[7].org,
        "Autonomous Nonprofit Organisation \"Russian Scientific-Research Institute for Pu"
    );
    assert_eq!(
        rows[8].org,
        "Join-stock company \"Internet Exchange\"MSK-IX\""
    );
    assert_eq!(rows[15].asn, 37125);
    assert!(rows.iter().all(|r| !r.start.is_ipv4()));
}

#[test]
fn located_lines() {
    let located: Vec<_> = ip_location_db::parse_located(
        &fixture_bytes("ip-location-db-asn-ipv6.csv")[..],
        "asn-ipv6",
    )
    .map(Result::unwrap)
    .collect();
    assert_eq!(located[7].position, Position::Line(8));
    assert_eq!(located[15].position, Position::Line(16));
}

#[test]
fn gzip_is_transparent_and_truncation_fatal() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&fixture_bytes("ip-location-db-asn-ipv4.csv"))
        .unwrap();
    let gz = gz.finish().unwrap();
    let whole = input::decode(std::io::Cursor::new(gz.clone())).unwrap();
    assert_eq!(all_ok(ip_location_db::parse(whole, "gz")).len(), 19);
    let cut = input::decode(std::io::Cursor::new(gz[..gz.len() / 2].to_vec())).unwrap();
    let (_, errors) = split(ip_location_db::parse(cut, "cut"), "cut");
    let last = errors.last().expect("a cut gzip ends in an error");
    assert!(last.fatal, "{last}");
    assert!(
        last.reason
            .starts_with("input cannot be read past this point"),
        "{last}"
    );
}

#[test]
fn quoting_edges() {
    let text = "1.0.0.0,1.0.0.255,1,\"\"\n\
                1.0.0.0,1.0.0.255,2,\"a\"\"b\"\n\
                \"1.0.0.0\",\"1.0.0.255\",\"3\",\"quoted everything\"\n\
                1.0.0.0,1.0.0.255,4, padded \n";
    let (rows, errors) = parse_bytes(text.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    let orgs: Vec<&str> = rows.iter().map(|r| r.org.as_str()).collect();
    assert_eq!(orgs, ["", "a\"b", "quoted everything", "padded"]);
}

#[test]
fn asn_zero_and_the_largest_asn_are_yielded() {
    let (rows, errors) =
        parse_bytes(b"0.0.0.0,0.255.255.255,0,Not routed\n::,::ffff,4294967295,Max\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((rows[0].asn, rows[0].is_routed()), (0, false));
    assert_eq!((rows[1].asn, rows[1].is_routed()), (u32::MAX, true));
}

#[test]
fn rejected_rows() {
    let cases = [
        (
            "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.",
            "unbalanced double quote (a quoted field must end on its line)",
        ),
        (
            "1.0.0.0,1.0.0.255,13335,Cloudflare, Inc.",
            "expected four fields: range start, range end, as number, organisation (found 5)",
        ),
        (
            "1.0.0.0,1.0.0.255,13335",
            "expected four fields: range start, range end, as number, organisation (found 3)",
        ),
        (
            "1.0.0.255,1.0.0.0,13335,X",
            "range 1.0.0.255-1.0.0.0 ends before it starts (reversed)",
        ),
        (
            "2001::,1.0.0.0,13335,X",
            "range 2001::-1.0.0.0 mixes ipv4 and ipv6",
        ),
        (
            "1.0.0.0,1.0.0.255,4294967296,X",
            "as number 4294967296 does not fit in 32 bits",
        ),
        ("1.0.0.0,1.0.0.255,,X", "\"\" is not an as number"),
        (
            "fe80::1%eth0,fe80::2,1,X",
            "range start: ipv6 zone ids (\"%...\") are not allowed",
        ),
        (
            "1.0.0.0,1.0.0.255,1,a\rb",
            "carriage return inside the line",
        ),
    ];
    for (text, reason) in cases {
        let (rows, errors) = parse_bytes(
            format!("1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n{text}\n").as_bytes(),
        );
        assert_eq!(rows.len(), 1, "{text}");
        assert_eq!(errors.len(), 1, "{text}");
        assert_eq!(errors[0].reason, reason, "{text}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, text);
        assert!(!errors[0].fatal);
    }
}

#[test]
fn an_unclosed_quote_stays_on_its_line() {
    let (rows, errors) = parse_bytes(b"1.0.0.0,1.0.0.255,1,\"open\n1.0.1.0,1.0.1.255,2,next\n");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].org, "next");
    assert_eq!(errors[0].position, Position::Line(1));
}

#[test]
fn hostile_inputs() {
    assert!(parse_bytes(b"").0.is_empty());
    let (rows, errors) =
        parse_bytes(b"\xEF\xBB\xBF1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\r\n\r\n");
    assert_eq!((rows.len(), errors.len()), (1, 0));
    let (rows, errors) = parse_bytes(b"\0,\0,\0,\0\n1.0.0.0,1.0.0.255,1,\"\xFF\"\n");
    assert_eq!((rows.len(), errors.len()), (1, 1));
    assert_eq!(rows[0].org, "\u{FFFD}");
    let mut bytes = b"1.0.0.0,1.0.0.255,1,\"".to_vec();
    bytes.extend(long_line(2 << 20));
    bytes.extend(b"\"\n1.0.1.0,1.0.1.255,2,x\n");
    let (rows, errors) = parse_bytes(&bytes);
    assert_eq!((rows.len(), errors.len()), (1, 1));
    assert_eq!(errors[0].reason, "line longer than 1048576 bytes");
}

#[test]
fn whole_upstream_files() {
    for (rel, want, v4) in [
        ("bgp/ip-location-db-asn/asn-ipv4.csv.gz", 411_961, true),
        ("bgp/ip-location-db-asn/asn-ipv6.csv.gz", 103_197, false),
    ] {
        let Some(path) = shared_data(rel) else {
            return;
        };
        let started = Instant::now();
        let (rows, errors) = split(ip_location_db::parse(input::open(&path).unwrap(), rel), rel);
        println!("{rel}: {} rows in {:?}", rows.len(), started.elapsed());
        assert!(errors.is_empty(), "{:?}", &errors[..errors.len().min(5)]);
        assert_eq!(rows.len(), want);
        assert!(rows
            .iter()
            .all(|r| r.start.is_ipv4() == v4 && r.start <= r.end));
        if v4 {
            let cloudflare = rows.iter().filter(|r| r.org == "Cloudflare, Inc.").count();
            assert!(cloudflare > 100, "{cloudflare}");
            assert!(rows.iter().any(|r| r.org == "LLC \"SPUTNIK\""));
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics(text in "([0-9a-f:.]{0,16},[0-9a-f:.]{0,16},[0-9]{0,11},[\" ,a-z]{0,12}\r?\n){0,20}") {
        let (rows, _) = parse_bytes(text.as_bytes());
        for r in rows {
            prop_assert!(r.start <= r.end);
        }
    }

    #[test]
    fn quoted_orgs_round_trip(org in "[ -~]{0,40}") {
        let quoted = format!("\"{}\"", org.replace('"', "\"\""));
        let line = format!("192.0.2.0,192.0.2.255,64496,{quoted}\n");
        let (rows, errors) = parse_bytes(line.as_bytes());
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(&rows[0].org, org.trim());
    }
}
