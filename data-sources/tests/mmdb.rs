//! `mmdb` (feature `mmdb`): MaxMind's test databases against the JSON they were generated
//! from, maxminddb's own typed decoding, a real-size MMDB, and broken databases.

use std::collections::BTreeSet;
use std::io::{Cursor, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use ipsieve_sources::mmdb::{MmdbDatabase, MmdbRecord};
use ipsieve_sources::{input, ParseError, Position, Timestamp};
use proptest::prelude::*;
use serde_json::{Map, Value};

use crate::common::{fixture, fixture_bytes, shared_data};

fn open(name: &str) -> MmdbDatabase {
    MmdbDatabase::open(&fixture(name), name).unwrap_or_else(|e| panic!("{e}"))
}

/// Records, errors and the skipped count of a database's whole iteration.
fn all(db: &MmdbDatabase) -> (Vec<MmdbRecord>, Vec<ParseError>, u64) {
    let mut networks = db.networks();
    let mut ok = Vec::new();
    let mut errors = Vec::new();
    for item in &mut networks {
        match item {
            Ok(r) => ok.push(r),
            Err(e) => errors.push(e),
        }
    }
    (ok, errors, networks.skipped())
}

/// `::a.b.c.d/n` and `::ffff:a.b.c.d/n` (n ≥ 96) are the IPv4 network `a.b.c.d/(n-96)`, as the
/// database stores them.
fn normalise(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net {
        let bits = u128::from(v6.addr());
        if v6.prefix_len() >= 96 && (bits >> 32 == 0 || bits >> 32 == 0xFFFF) {
            let v4 = Ipv4Addr::from(bits as u32);
            return IpNet::new(IpAddr::V4(v4), v6.prefix_len() - 96).unwrap();
        }
    }
    net
}

/// The JSON source data: `[{ "<cidr>": { fields } }, …]`.
fn source_json(name: &str) -> Vec<(IpNet, Map<String, Value>)> {
    let mut text = String::new();
    input::open(&fixture(name))
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let doc: Vec<Map<String, Value>> = serde_json::from_str(&text).unwrap();
    doc.into_iter()
        .map(|entry| {
            let (cidr, fields) = entry.into_iter().next().unwrap();
            let Value::Object(fields) = fields else {
                panic!("{cidr}")
            };
            (normalise(cidr.parse().unwrap()), fields)
        })
        .collect()
}

/// What a JSON entry should become, written independently of the module's mapping.
fn expected(fields: &Map<String, Value>) -> Option<MmdbRecord> {
    let flag = |k: &str| fields.get(k).and_then(Value::as_bool).unwrap_or(false);
    let text = |k: &str| fields.get(k).and_then(Value::as_str).map(str::to_owned);
    let r = MmdbRecord {
        net: IpNet::default(),
        is_anonymous: flag("is_anonymous"),
        is_anonymous_vpn: flag("is_anonymous_vpn"),
        is_hosting_provider: flag("is_hosting_provider"),
        is_public_proxy: flag("is_public_proxy"),
        is_residential_proxy: flag("is_residential_proxy"),
        is_tor_exit_node: flag("is_tor_exit_node"),
        asn: fields
            .get("autonomous_system_number")
            .and_then(Value::as_u64)
            .map(|n| n as u32),
        as_org: text("autonomous_system_organization"),
        country: None,
        country_is_registered: false,
        provider_name: text("provider_name"),
        anonymizer_confidence: fields
            .get("anonymizer_confidence")
            .and_then(Value::as_u64)
            .map(|n| n as u8),
        network_last_seen: text("network_last_seen").map(|d| Timestamp::parse_date(&d).unwrap()),
    };
    (r != MmdbRecord::default()).then_some(r)
}

fn without_net(r: &MmdbRecord) -> MmdbRecord {
    MmdbRecord {
        net: IpNet::default(),
        ..r.clone()
    }
}

fn last_addr(net: &IpNet) -> IpAddr {
    net.broadcast()
}

/// Every network boundary of either side looks up the same data in the JSON (most specific
/// network wins) and in the records; the records are disjoint.
fn assert_same_as_json(records: &[MmdbRecord], json: &[(IpNet, Map<String, Value>)]) {
    let nets: BTreeSet<IpNet> = records.iter().map(|r| r.net).collect();
    assert_eq!(nets.len(), records.len(), "a network came out twice");
    for pair in nets.iter().collect::<Vec<_>>().windows(2) {
        assert!(
            !pair[0].contains(pair[1]),
            "{} overlaps {}",
            pair[0],
            pair[1]
        );
    }
    let from_json = |addr: IpAddr| {
        json.iter()
            .filter(|(net, _)| net.contains(&addr))
            .max_by_key(|(net, _)| net.prefix_len())
            .and_then(|(_, fields)| expected(fields))
    };
    let from_db = |addr: IpAddr| {
        records
            .iter()
            .find(|r| r.net.contains(&addr))
            .map(without_net)
    };
    let mut probes = Vec::new();
    for net in json.iter().map(|(n, _)| *n).chain(nets.iter().copied()) {
        probes.push(net.network());
        probes.push(last_addr(&net));
    }
    for addr in probes {
        assert_eq!(from_db(addr), from_json(addr), "at {addr}");
    }
}

#[test]
fn anonymous_ip_matches_its_source_json() {
    let db = open("mmdb-GeoIP2-Anonymous-IP-Test.mmdb");
    assert_eq!(db.database_type(), "GeoIP2-Anonymous-IP");
    assert_eq!(db.ip_version(), 6);
    assert_eq!(db.build_time().to_string(), "2026-02-04T22:49:29Z");
    let (records, errors, skipped) = all(&db);
    assert!(errors.is_empty(), "{errors:?}");
    // 12 networks with data and 587 empty maps: the 599 networks of the tree.
    assert_eq!((records.len(), skipped), (12, 587));
    let json = source_json("mmdb-GeoIP2-Anonymous-IP-Test.json");
    assert_eq!(json.len(), 12);
    assert_same_as_json(&records, &json);
    // Exact values of three networks.
    let find = |net: &str| {
        records
            .iter()
            .find(|r| r.net.to_string() == net)
            .unwrap_or_else(|| panic!("{net}"))
    };
    let r = find("81.2.69.0/24");
    assert!(
        r.is_anonymous
            && r.is_anonymous_vpn
            && r.is_hosting_provider
            && r.is_public_proxy
            && r.is_residential_proxy
            && r.is_tor_exit_node
    );
    let r = find("1.2.0.0/16");
    assert!(r.is_anonymous && r.is_anonymous_vpn && !r.is_tor_exit_node);
    assert_eq!(r.asn, None);
    let r = find("2001:480:3a::/64");
    assert!(r.is_anonymous && r.is_public_proxy && !r.is_anonymous_vpn);
}

#[test]
fn ipv4_networks_come_out_once_as_ipv4() {
    let db = open("mmdb-GeoIP2-Anonymous-IP-Test.mmdb");
    let (records, _, _) = all(&db);
    let v4 = records.iter().filter(|r| r.net.addr().is_ipv4()).count();
    assert_eq!(v4, 10);
    // Nothing under the IPv4 space's IPv6 homes and aliases.
    let aliases: [IpNet; 3] = [
        "::/96".parse().unwrap(),
        "::ffff:0:0/96".parse().unwrap(),
        "2002::/16".parse().unwrap(),
    ];
    for r in &records {
        assert!(
            !aliases.iter().any(|a| a.contains(&r.net)),
            "{} is an alias",
            r.net
        );
    }
}

#[test]
fn anonymous_plus_matches_its_source_json() {
    let db = open("mmdb-GeoIP-Anonymous-Plus-Test.mmdb");
    assert_eq!(db.database_type(), "GeoIP-Anonymous-Plus");
    let (records, errors, skipped) = all(&db);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((records.len(), skipped), (32, 615));
    let json = source_json("mmdb-GeoIP-Anonymous-Plus-Test.json");
    assert_eq!(json.len(), 32);
    assert_same_as_json(&records, &json);
    let r = records
        .iter()
        .find(|r| r.net.to_string() == "1.2.0.1/32")
        .unwrap();
    assert_eq!(r.provider_name.as_deref(), Some("foo"));
    assert_eq!(r.anonymizer_confidence, Some(30));
    assert_eq!(r.network_last_seen, Timestamp::parse_date("2025-04-14"));
    assert!(r.is_anonymous && r.is_anonymous_vpn);
    assert_eq!(
        records.iter().filter(|r| r.provider_name.is_some()).count(),
        2
    );
}

#[test]
fn asn_matches_its_source_json() {
    let db = open("mmdb-GeoLite2-ASN-Test.mmdb");
    assert_eq!(db.database_type(), "GeoLite2-ASN");
    let (records, errors, skipped) = all(&db);
    assert!(errors.is_empty(), "{errors:?}");
    // The writer merged adjacent JSON networks with equal data: 720 entries, 412 networks.
    assert_eq!((records.len(), skipped), (412, 0));
    let json = source_json("mmdb-GeoLite2-ASN-Test.json.gz");
    assert_eq!(json.len(), 720);
    assert_same_as_json(&records, &json);
    let r = &records[0];
    assert_eq!(r.net.to_string(), "1.0.0.0/24");
    assert_eq!(
        (r.asn, r.as_org.as_deref()),
        (Some(15169), Some("Google Inc."))
    );
    assert!(!r.any_anonymous_flag());
    // Merged: 38.0.0.0/10, 38.64.0.0/13, … are one /8 of AS174.
    assert!(records
        .iter()
        .any(|r| r.net.to_string() == "38.0.0.0/8" && r.asn == Some(174)));
    assert!(records.iter().any(|r| r.net.addr().is_ipv6()));
}

#[test]
fn country_matches_maxminddb_typed_decoding() {
    let db = open("mmdb-GeoIP2-Country-Test.mmdb");
    assert_eq!(db.database_type(), "GeoIP2-Country");
    let (records, errors, skipped) = all(&db);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((records.len(), skipped), (342, 3));
    // The same file through maxminddb's own `geoip2::Country` model, address by address.
    let reader =
        maxminddb::Reader::from_source(fixture_bytes("mmdb-GeoIP2-Country-Test.mmdb")).unwrap();
    for r in &records {
        for addr in [r.net.network(), last_addr(&r.net)] {
            let lookup = reader.lookup(addr).unwrap();
            let country: maxminddb::geoip2::Country = lookup.decode().unwrap().unwrap();
            let (want, is_registered) = match (
                country.country.iso_code,
                country.registered_country.iso_code,
            ) {
                (Some(c), _) => (Some(c), false),
                (None, c) => (c, c.is_some()),
            };
            assert_eq!(r.country.as_deref(), want, "{addr}");
            assert_eq!(r.country_is_registered, is_registered, "{addr}");
        }
        assert!(r.asn.is_none() && !r.any_anonymous_flag());
    }
    let r = records
        .iter()
        .find(|r| r.net.to_string() == "2.125.160.216/29")
        .unwrap();
    assert_eq!(
        (r.country.as_deref(), r.country_is_registered),
        (Some("GB"), false)
    );
}

#[test]
fn compressed_database_is_read_transparently() {
    let bytes = fixture_bytes("mmdb-GeoIP2-Anonymous-IP-Test.mmdb");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&bytes).unwrap();
    let reader = input::decode(Cursor::new(gz.finish().unwrap())).unwrap();
    let db = MmdbDatabase::read(reader, "gz").unwrap();
    assert_eq!(all(&db).0.len(), 12);
    db.verify().unwrap();
}

#[test]
fn real_size_country_mmdb_from_ip_location_db() {
    let Some(path) = shared_data("mmdb/ip-location-db/iptoasn-country.mmdb") else {
        return;
    };
    let db = MmdbDatabase::open(&path, "iptoasn-country").unwrap();
    let (records, errors, skipped) = all(&db);
    assert!(errors.is_empty(), "{:?}", &errors[..errors.len().min(3)]);
    // `{"country_code": "US"}` maps: the top-level fallback.
    assert_eq!(records.len() as u64 + skipped, 400_859);
    assert!(records
        .iter()
        .all(|r| r.country.as_ref().is_some_and(|c| c.len() == 2)));
    let v4 = records.iter().filter(|r| r.net.addr().is_ipv4()).count();
    println!(
        "iptoasn-country.mmdb: {} networks ({v4} IPv4), {skipped} without a country",
        records.len()
    );
}

// ---------------------------------------------------------------------------------------------
// Broken databases

#[test]
fn not_a_database_is_one_fatal_error() {
    for bytes in [
        Vec::new(),
        b"<!DOCTYPE html><html>rate limited</html>".to_vec(),
    ] {
        let e = MmdbDatabase::from_bytes(bytes, "db").unwrap_err();
        assert!(e.fatal);
        assert_eq!(e.position, Position::Whole);
        assert!(
            e.reason.starts_with("not a readable MaxMind DB (") && e.reason.contains("metadata"),
            "{e}"
        );
        assert!(e.to_string().starts_with("db: input: "), "{e}");
    }
    // A download cut in half has lost its metadata (it is at the end of the file).
    let bytes = fixture_bytes("mmdb-GeoLite2-ASN-Test.mmdb");
    let e = MmdbDatabase::from_bytes(bytes[..bytes.len() / 2].to_vec(), "half").unwrap_err();
    assert!(e.fatal);
    assert!(
        e.reason.contains("check that the file is a complete .mmdb"),
        "{e}"
    );
    let e = MmdbDatabase::open(&fixture("no-such.mmdb"), "missing").unwrap_err();
    assert!(e.fatal && e.reason.starts_with("cannot open "), "{e}");
}

/// MMDB data-section encoding, for hand-made databases.
mod enc {
    pub fn string(s: &str) -> Vec<u8> {
        assert!(s.len() < 29);
        let mut v = vec![(2 << 5) | s.len() as u8];
        v.extend(s.as_bytes());
        v
    }

    pub fn uint(kind: u8, n: u64) -> Vec<u8> {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|&b| b == 0)
            .collect();
        let mut v = match kind {
            5 | 6 => vec![(kind << 5) | bytes.len() as u8],
            // Extended type: uint64 is 9 = 7 + 2.
            _ => vec![bytes.len() as u8, 2],
        };
        v.extend(bytes);
        v
    }

    pub fn boolean(b: bool) -> Vec<u8> {
        vec![u8::from(b), 7]
    }

    pub fn map(pairs: &[(&str, Vec<u8>)]) -> Vec<u8> {
        let mut v = vec![(7 << 5) | pairs.len() as u8];
        for (k, val) in pairs {
            v.extend(string(k));
            v.extend(val);
        }
        v
    }

    /// An IPv4 database of one node: `0.0.0.0/1` → `left`, `128.0.0.0/1` → `right`.
    pub fn database(left: &[u8], right: &[u8]) -> Vec<u8> {
        let node_count = 1u32;
        let left_ptr = node_count + 16;
        let right_ptr = left_ptr + left.len() as u32;
        let mut v = Vec::new();
        v.extend(&left_ptr.to_be_bytes()[1..]);
        v.extend(&right_ptr.to_be_bytes()[1..]);
        v.extend([0u8; 16]);
        v.extend(left);
        v.extend(right);
        v.extend(b"\xAB\xCD\xEFMaxMind.com");
        v.extend(map(&[
            ("binary_format_major_version", uint(5, 2)),
            ("binary_format_minor_version", uint(5, 0)),
            ("build_epoch", uint(9, 1_700_000_000)),
            ("database_type", string("ipsieve-test")),
            ("description", map(&[("en", string("ipsieve test"))])),
            ("ip_version", uint(5, 4)),
            ("languages", vec![0, 4]),
            ("node_count", uint(6, u64::from(node_count))),
            ("record_size", uint(5, 24)),
        ]));
        v
    }
}

#[test]
fn hand_made_database_reads() {
    let left = enc::map(&[
        ("is_tor_exit_node", enc::boolean(true)),
        ("autonomous_system_number", enc::uint(6, 4_200_000_001)),
        ("country_code", enc::string("DE")),
    ]);
    let right = enc::map(&[(
        "registered_country",
        enc::map(&[("iso_code", enc::string("NL"))]),
    )]);
    let db = MmdbDatabase::from_bytes(enc::database(&left, &right), "tiny").unwrap();
    db.verify().unwrap();
    let (records, errors, _) = all(&db);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].net.to_string(), "0.0.0.0/1");
    assert!(records[0].is_tor_exit_node && !records[0].is_anonymous);
    assert_eq!(records[0].asn, Some(4_200_000_001));
    assert_eq!(records[0].country.as_deref(), Some("DE"));
    assert_eq!(records[1].net.to_string(), "128.0.0.0/1");
    assert_eq!(
        (
            records[1].country.as_deref(),
            records[1].country_is_registered
        ),
        (Some("NL"), true)
    );
}

#[test]
fn undecodable_records_are_recoverable_errors_at_their_offset() {
    let good = enc::map(&[("is_public_proxy", enc::boolean(true))]);
    let cases = [
        (
            enc::map(&[("autonomous_system_number", enc::string("AS13335"))]),
            "decoding error",
        ),
        (
            enc::map(&[("anonymizer_confidence", enc::uint(5, 300))]),
            "decoding error",
        ),
        (
            enc::map(&[("network_last_seen", enc::string("2025-13-01"))]),
            "network_last_seen \"2025-13-01\" is not a YYYY-MM-DD date",
        ),
        (enc::string("not a map"), "decoding error"),
    ];
    for (bad, reason) in cases {
        let db = MmdbDatabase::from_bytes(enc::database(&bad, &good), "tiny").unwrap();
        let (records, errors, _) = all(&db);
        assert_eq!(errors.len(), 1, "{reason}: {errors:?}");
        let e = &errors[0];
        assert!(!e.fatal);
        assert!(e.reason.contains(reason), "{e}");
        // The tree (6 bytes) and the 16-byte separator come before the first record's data.
        assert_eq!(e.position, Position::Byte(22), "{e}");
        assert_eq!(e.text, "0.0.0.0/1");
        assert_eq!(records.len(), 1, "the next network is still read");
        assert!(records[0].is_public_proxy);
    }
}

#[test]
fn a_pointer_out_of_the_data_section_ends_the_iteration() {
    let mut bytes = enc::database(&enc::map(&[]), &enc::map(&[]));
    // Point the right record far past the data section.
    bytes[3..6].copy_from_slice(&[0x7F, 0xFF, 0xFF]);
    match MmdbDatabase::from_bytes(bytes, "broken") {
        Err(e) => assert!(e.fatal, "{e}"),
        Ok(db) => {
            let (_, errors, _) = all(&db);
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert!(errors[0].fatal, "{}", errors[0]);
            assert!(db.verify().is_err());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        if let Ok(db) = MmdbDatabase::from_bytes(bytes, "fuzz") {
            let _ = db.verify();
            prop_assert!(db.networks().take(10_000).count() < 10_000);
        }
    }

    #[test]
    fn mutated_test_databases_never_panic(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
    ) {
        let name = ["mmdb-GeoIP2-Anonymous-IP-Test.mmdb", "mmdb-GeoIP-Anonymous-Plus-Test.mmdb",
                    "mmdb-GeoLite2-ASN-Test.mmdb"][which];
        let mut bytes = fixture_bytes(name);
        for (at, x) in flips {
            let at = at % bytes.len();
            bytes[at] ^= x;
        }
        if let Ok(db) = MmdbDatabase::from_bytes(bytes, "fuzz") {
            let _ = db.verify();
            let mut fatal = 0;
            let mut n = 0;
            for item in db.networks().take(100_000) {
                n += 1;
                if let Err(e) = item {
                    prop_assert!(matches!(e.position, Position::Byte(_) | Position::Whole));
                    fatal += usize::from(e.fatal);
                }
            }
            prop_assert!(fatal <= 1);
            prop_assert!(n < 100_000);
        }
    }
}

#[test]
fn ipv6_addresses_of_the_fixture_are_found() {
    // The IPv6 network of the Anonymous IP test data, by its first and last address.
    let db = open("mmdb-GeoIP2-Anonymous-IP-Test.mmdb");
    let (records, _, _) = all(&db);
    let v6: Vec<_> = records.iter().filter(|r| r.net.addr().is_ipv6()).collect();
    assert_eq!(v6.len(), 2);
    let first: Ipv6Addr = "abcd:1000::".parse().unwrap();
    assert!(v6.iter().any(|r| r.net.contains(&IpAddr::V6(first))));
}
