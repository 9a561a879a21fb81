//! Whole upstream files from `shared/data`: the counts documented in its SOURCES.md. Each test
//! skips, with a note, when the file is absent.

use std::collections::HashSet;
use std::io::Cursor;
use std::net::IpAddr;
use std::time::Instant;

use ipnet::IpNet;
use ipsieve_sources::pfx2as::OriginKind;
use ipsieve_sources::{asnames, aws, google, input, pfx2as, plain, tor, Lenient, Timestamp};

use crate::common::{shared_data, split};

#[test]
fn tor_exit_addresses_live() {
    let Some(path) = shared_data("tor/exit-addresses/exit-addresses.gz") else {
        return;
    };
    let (exits, errors) = split(tor::parse(input::open(&path).unwrap(), "live"), "live");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(exits.len(), 2378);
    let ips: HashSet<IpAddr> = exits.iter().map(|e| e.address).collect();
    assert_eq!(ips.len(), 1174);
    let nodes: HashSet<&str> = exits.iter().map(|e| e.fingerprint.as_str()).collect();
    assert_eq!(nodes.len(), 2372);
    let newest = exits.iter().filter_map(|e| e.last_status).max().unwrap();
    assert_eq!(newest.to_string(), "2024-03-12T14:00:00Z");

    // The bulk exit list of the same hour is exactly the set of exit addresses.
    let Some(bulk) = shared_data("tor/exit-addresses/torbulkexitlist") else {
        return;
    };
    let (nets, errors) = split(plain::parse(input::open(&bulk).unwrap(), "bulk"), "bulk");
    assert!(errors.is_empty());
    let bulk: HashSet<IpAddr> = nets.iter().map(IpNet::addr).collect();
    assert_eq!(bulk, ips);
}

#[test]
fn tor_exit_addresses_truncated_gzip() {
    let Some(path) = shared_data("tor/exit-addresses/exit-addresses.gz") else {
        return;
    };
    let gz = std::fs::read(path).unwrap();
    let reader = input::decode(Cursor::new(gz[..gz.len() / 2].to_vec())).unwrap();
    let mut it = Lenient::new(tor::parse(reader, "cut"));
    let n = (&mut it).count();
    let report = it.report();
    let fatal = report.fatal.expect("a cut gzip ends in a fatal error");
    assert!(n > 1000, "records before the cut are kept ({n})");
    assert!(n < 2378);
    assert_eq!(report.rejected, 0, "{:?}", report.first_errors);
    println!("truncated exit-addresses.gz: {n} records, then {fatal}");
}

#[test]
fn tor_collector_exit_list() {
    let Some(path) = shared_data("tor/collector/2018-11-02-01-02-01") else {
        return;
    };
    let (exits, errors) = split(
        tor::parse(input::open(&path).unwrap(), "collector"),
        "collector",
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(exits.len(), 929);
    assert_eq!(
        exits
            .iter()
            .map(|e| e.address)
            .collect::<HashSet<_>>()
            .len(),
        862
    );
    assert_eq!(
        exits
            .iter()
            .map(|e| &e.fingerprint)
            .collect::<HashSet<_>>()
            .len(),
        925
    );
    assert!(exits
        .iter()
        .all(|e| e.seen <= Timestamp::parse_date_time("2018-11-02 01:02:01").unwrap()));
}

#[test]
fn plain_lists() {
    let cases = [
        ("tor/secops-institute/tor-exit-nodes.lst", 1746),
        ("tor/secops-institute/tor-nodes.lst", 8054),
        ("tor/doodad-labs/2025-12-11/exit-nodes.txt", 2093),
        ("tor/doodad-labs/2025-12-11/exit-nodes.csv", 2093),
        (
            "relay/icloud-private-relay/hroost/ipv4/ipv4-ranges.txt",
            3290,
        ),
        (
            "relay/icloud-private-relay/hroost/ipv6/ipv6-ranges.txt",
            10455,
        ),
        ("relay/icloud-private-relay/x4bnet-apple.txt", 3290),
    ];
    let mut sets = Vec::new();
    for (rel, count) in cases {
        let Some(path) = shared_data(rel) else {
            continue;
        };
        let (nets, errors) = split(plain::parse(input::open(&path).unwrap(), rel), rel);
        assert!(errors.is_empty(), "{rel}: {errors:?}");
        assert_eq!(nets.len(), count, "{rel}");
        sets.push((rel, nets.into_iter().collect::<HashSet<_>>()));
    }
    let set = |name: &str| sets.iter().find(|(rel, _)| *rel == name).map(|(_, s)| s);
    // The doodad-labs CSV is the same set as its .txt; the X4BNet copy of the iCloud list
    // writes the bare hosts as /32, so both parse to the same networks.
    if let (Some(txt), Some(csv)) = (
        set("tor/doodad-labs/2025-12-11/exit-nodes.txt"),
        set("tor/doodad-labs/2025-12-11/exit-nodes.csv"),
    ) {
        assert_eq!(txt, csv);
    }
    if let (Some(hroost), Some(x4b)) = (
        set("relay/icloud-private-relay/hroost/ipv4/ipv4-ranges.txt"),
        set("relay/icloud-private-relay/x4bnet-apple.txt"),
    ) {
        assert_eq!(hroost, x4b);
    }
}

#[test]
fn pfx2as_full_file() {
    let Some(path) = shared_data("bgp/pfx2as/routeviews-rv2-20240406.pfx2as.gz") else {
        return;
    };
    let start = Instant::now();
    let (recs, errors) = split(pfx2as::parse(input::open(&path).unwrap(), "rv2"), "rv2");
    let took = start.elapsed();
    println!(
        "pfx2as: {} records in {took:?} (this build profile)",
        recs.len()
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(recs.len(), 998_042);
    let moas = recs
        .iter()
        .filter(|r| matches!(r.kind, OriginKind::MultiOrigin | OriginKind::Mixed))
        .count();
    let sets = recs
        .iter()
        .filter(|r| matches!(r.kind, OriginKind::AsSet | OriginKind::Mixed))
        .count();
    assert_eq!((moas, sets), (5018, 39));
    let lens: Vec<u8> = recs.iter().map(|r| r.net.prefix_len()).collect();
    assert_eq!(
        (lens.iter().min(), lens.iter().max()),
        (Some(&8), Some(&32))
    );
    assert_eq!(recs[0].origins, [13335]);

    // The parse alone, from decompressed bytes in memory.
    let mut text = Vec::new();
    std::io::Read::read_to_end(&mut input::open(&path).unwrap(), &mut text).unwrap();
    let start = Instant::now();
    let n = pfx2as::parse(&text[..], "rv2")
        .filter(Result::is_ok)
        .count();
    println!(
        "pfx2as: {n} records in {:?} without gunzip",
        start.elapsed()
    );
    assert_eq!(n, 998_042);
}

#[test]
fn aws_ip_ranges() {
    let Some(path) = shared_data("cloud/aws/ip-ranges.json.gz") else {
        return;
    };
    let doc = aws::read(input::open(&path).unwrap(), "aws").unwrap();
    assert_eq!(doc.create_date.unwrap().to_string(), "2026-08-22T15:17:05Z");
    assert_eq!(doc.sync_token.as_deref(), Some("1787411825"));
    let prefixes: Vec<_> = doc.prefixes.into_iter().map(Result::unwrap).collect();
    let v4 = prefixes
        .iter()
        .filter(|p| matches!(p.net, IpNet::V4(_)))
        .count();
    assert_eq!((v4, prefixes.len() - v4), (10_668, 6_160));
    let unique_v4: HashSet<_> = prefixes
        .iter()
        .filter(|p| matches!(p.net, IpNet::V4(_)))
        .map(|p| p.net)
        .collect();
    assert!(unique_v4.len() < v4, "prefixes repeat across services");
}

#[test]
fn google_cloud_json() {
    let Some(path) = shared_data("cloud/google/cloud.json") else {
        return;
    };
    let doc = google::read(input::open(&path).unwrap(), "gcp").unwrap();
    assert_eq!(
        doc.creation_time.unwrap().to_string(),
        "2026-08-21T01:05:42Z"
    );
    let prefixes: Vec<_> = doc.prefixes.into_iter().map(Result::unwrap).collect();
    assert_eq!(prefixes.len(), 1092);
    assert_eq!(
        prefixes
            .iter()
            .filter(|p| matches!(p.net, IpNet::V6(_)))
            .count(),
        95
    );
    assert!(prefixes
        .iter()
        .all(|p| p.service == "Google Cloud" && !p.scope.is_empty()));
}

#[test]
fn asnames_full_file() {
    let Some(path) = shared_data("asn/asnames/asnames.txt.gz") else {
        return;
    };
    let (names, errors) = split(
        asnames::parse(input::open(&path).unwrap(), "asnames"),
        "asnames",
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(names.len(), 69_032);
    assert_eq!(names.iter().filter(|n| n.country.is_none()).count(), 54);
    assert!(names
        .iter()
        .filter(|n| n.country.is_none())
        .all(|n| n.name == "--No Registry Entry--"));
    assert_eq!(names.iter().filter(|n| n.asn > 65_535).count(), 27_126);
    assert_eq!(names.last().unwrap().asn, 4_200_001_179);
}
