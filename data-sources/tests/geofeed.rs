//! `geofeed` (RFC 8805 CSV) and `icloud` (Apple's egress ranges in the same form).

use std::collections::HashSet;

use ipnet::IpNet;
use ipsieve_sources::{geofeed, icloud, input, plain, GeofeedEntry, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, shared_data, split};

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn row(network: &str, cc: &str, region: &str, city: &str, postal: &str) -> GeofeedEntry {
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    GeofeedEntry {
        network: net(network),
        country: (!cc.is_empty()).then(|| cc.as_bytes().try_into().unwrap()),
        region: some(region),
        city: some(city),
        postal_code: some(postal),
    }
}

fn parse_str(text: &str) -> (Vec<GeofeedEntry>, Vec<ParseError>) {
    split(geofeed::parse(text.as_bytes(), "feed"), "feed")
}

#[test]
fn digitalocean_fixture() {
    let rows = all_ok(geofeed::parse(
        &fixture_bytes("geofeed-digitalocean.csv")[..],
        "do",
    ));
    assert_eq!(rows.len(), 19);
    assert_eq!(
        rows[0],
        row("5.101.96.0/21", "NL", "NL-NH", "Amsterdam", "1098 XH")
    );
    assert_eq!(
        rows[2],
        row("24.144.64.0/22", "US", "US-NJ", "North Bergen", "07047")
    );
    assert_eq!(
        rows[12],
        row("2400:6180:0:d0::/64", "SG", "SG-05", "Singapore", "627753")
    );
    assert_eq!(
        rows[18],
        row("2a03:b0c0:3:f0::/64", "DE", "DE-HE", "Frankfurt", "60341")
    );
    assert_eq!(
        rows.iter().filter(|r| r.network.addr().is_ipv6()).count(),
        7
    );
}

#[test]
fn linode_fixture_with_comments_and_empty_postal() {
    let located = all_ok(geofeed::parse_located(
        &fixture_bytes("geofeed-linode.csv")[..],
        "linode",
    ));
    assert_eq!(located.len(), 15);
    assert_eq!(
        located[0].position,
        Position::Line(4),
        "three # lines are skipped"
    );
    assert_eq!(
        located[0].record,
        row("2600:3c00::/32", "US", "US-TX", "Richardson", "")
    );
    assert_eq!(
        located[6].record,
        row("2600:3c03::/32", "US", "US-NJ", "Cedar Knolls", "")
    );
    assert_eq!(
        located[7].record,
        row("72.14.177.0/24", "US", "US-TX", "Richardson", "")
    );
    assert_eq!(
        located[14].record,
        row("172.239.31.0/24", "FR", "FR-IDF", "Paris", "")
    );
    assert!(located.iter().all(|l| l.record.postal_code.is_none()));
}

#[test]
fn icloud_egress_csv() {
    let rows = all_ok(icloud::parse(
        &fixture_bytes("icloud-egress-ip-ranges.csv")[..],
        "icloud",
    ));
    assert_eq!(rows.len(), 15);
    assert_eq!(
        rows[0],
        row("172.224.226.0/27", "GB", "GB-EN", "London", "")
    );
    assert_eq!(
        rows[4],
        row("172.224.226.38/31", "GB", "GB-NI", "Belfast", "")
    );
    assert_eq!(
        rows[14],
        row("172.224.226.58/31", "GB", "GB-EN", "Egg Buckland", "")
    );
    // Every quoted row lies inside the merged derived list of shared/data.
    let Some(path) = shared_data("relay/icloud-private-relay/hroost/ipv4/ipv4-ranges.txt") else {
        return;
    };
    let merged = all_ok(plain::parse(input::open(&path).unwrap(), "merged"));
    for r in &rows {
        assert!(
            merged.iter().any(|m| m.contains(&r.network)),
            "{}",
            r.network
        );
    }
}

#[test]
fn short_rows_empty_fields_and_quoting() {
    let (rows, errors) = parse_str(
        "192.0.2.0/24\n\
         192.0.2.0/25,us\n\
         198.51.100.0/24,US,,\n\
         203.0.113.0/24, US , US-DC ,\"Washington, D.C.\", 20001 ,extra,columns\n\
         2001:db8::/32,,,,\n\
         192.0.2.7\n\
         2001:db8::1,-\n\
         \t# indented comment\n",
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        rows,
        [
            row("192.0.2.0/24", "", "", "", ""),
            row("192.0.2.0/25", "US", "", "", ""),
            row("198.51.100.0/24", "US", "", "", ""),
            row("203.0.113.0/24", "US", "US-DC", "Washington, D.C.", "20001"),
            row("2001:db8::/32", "", "", "", ""),
            row("192.0.2.7/32", "", "", "", ""),
            row("2001:db8::1/128", "", "", "", ""),
        ]
    );
}

#[test]
fn rejected_rows_name_the_line_and_reason() {
    let cases = [
        ("192.0.2.1/24,US", "prefix \"192.0.2.1/24\": host bits set after the prefix length (the network is 192.0.2.0/24)"),
        ("192.0.2.0/33,US", "prefix \"192.0.2.0/33\": prefix length 33 is longer than 32"),
        ("ip_prefix,alpha2code,region,city,postal_code", "prefix \"ip_prefix\": not an ip address or network"),
        (",US,US-CA,,", "prefix \"\": not an ip address or network"),
        ("192.0.2.0/24,USA,US-CA", "country \"USA\" is not a two-letter code"),
        ("192.0.2.0/24,U1", "country \"U1\" is not a two-letter code"),
        ("192.0.2.0/24,US,\"US-CA", "unbalanced double quote (a quoted field must end on its line)"),
        ("192.0.2.0/24,US,US-CA\rx", "carriage return inside the line"),
        ("fe80::/64%eth0,US", "prefix \"fe80::/64%eth0\": ipv6 zone ids (\"%...\") are not allowed"),
        ("\0\0\0", "prefix \"\\0\\0\\0\": not an ip address or network"),
    ];
    for (line, reason) in cases {
        let (rows, errors) = parse_str(&format!("192.0.2.0/24,US\n{line}\n"));
        assert_eq!(rows.len(), 1, "{line}");
        assert_eq!(errors.len(), 1, "{line}");
        assert_eq!(errors[0].reason, reason, "{line}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, line);
    }
}

#[test]
fn hostile_inputs() {
    // CRLF line ends and a BOM on the first row are fine.
    let (rows, errors) =
        parse_str("\u{FEFF}192.0.2.0/24,US,US-CA,San Jose,\r\n2001:db8::/32,DE\r\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows.len(), 2);
    let mut bytes = b"192.0.2.0/24,US,US-CA,S\xFFn Jose,\n".to_vec();
    bytes.extend(long_line(2 << 20));
    bytes.extend(b"\n192.0.2.0/25,US");
    let (rows, errors) = split(geofeed::parse(&bytes[..], "g"), "g");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].city.as_deref(), Some("S\u{FFFD}n Jose"));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].position, Position::Line(2));
    // Truncated gzip.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &fixture_bytes("geofeed-linode.csv")).unwrap();
    let gz = gz.finish().unwrap();
    let reader = input::decode(std::io::Cursor::new(gz[..gz.len() / 2].to_vec())).unwrap();
    let (rows, errors) = split(icloud::parse(reader, "cut"), "cut");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fatal);
    assert!(rows.len() < 15);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = split(geofeed::parse(&bytes[..], "fuzz"), "fuzz");
    }

    #[test]
    fn csv_like_rows_never_panic(text in "[0-9a-fA-Z:./,\"# \\t\\r\\n-]{0,200}") {
        let (rows, _) = split(geofeed::parse(text.as_bytes(), "fuzz"), "fuzz");
        for r in rows {
            prop_assert_eq!(r.network, r.network.trunc());
            if let Some(cc) = r.country {
                prop_assert!(cc.iter().all(u8::is_ascii_uppercase));
            }
        }
    }

    #[test]
    fn any_network_round_trips(addr in any::<std::net::IpAddr>(), len in 0u8..=128, city in "[a-zA-Z ,]{0,20}") {
        let len = if addr.is_ipv4() { len % 33 } else { len };
        let want = IpNet::new(addr, len).unwrap().trunc();
        let quoted = format!("\"{}\"", city);
        let (rows, errors) = parse_str(&format!("{want},GB,GB-EN,{quoted},"));
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(rows[0].network, want);
        let city = city.trim();
        prop_assert_eq!(rows[0].city.as_deref(), (!city.is_empty()).then_some(city));
    }
}

// Whole upstream files from shared/data: the counts documented in its SOURCES.md.

#[test]
fn whole_geofeeds() {
    for (rel, count, v6) in [
        ("cloud/digitalocean/google.csv", 1182, 145),
        ("cloud/linode/geofeed.csv", 4552, 88),
    ] {
        let Some(path) = shared_data(rel) else {
            continue;
        };
        let (rows, errors) = split(geofeed::parse(input::open(&path).unwrap(), rel), rel);
        assert!(errors.is_empty(), "{rel}: {errors:?}");
        assert_eq!(rows.len(), count, "{rel}");
        assert_eq!(
            rows.iter().filter(|r| r.network.addr().is_ipv6()).count(),
            v6,
            "{rel}"
        );
        assert!(
            rows.iter().all(|r| r.country.is_some() && r.city.is_some()),
            "{rel}"
        );
        let unique: HashSet<IpNet> = rows.iter().map(|r| r.network).collect();
        println!(
            "{rel}: {} rows, {} distinct networks",
            rows.len(),
            unique.len()
        );
    }
}
