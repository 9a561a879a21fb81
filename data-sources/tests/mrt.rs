//! `mrt`: TABLE_DUMP_V2 and legacy TABLE_DUMP RIB dumps, on real excerpts, bgpdump's golden
//! output, the full truncated RouteViews dumps, and hostile input.

use std::collections::BTreeMap;
use std::io::{BufRead, Cursor, Read, Write};
use std::time::Instant;

use ipnet::IpNet;
use ipsieve_sources::mrt::{self, MrtPrefix, MrtStats, MAX_MRT_RECORD};
use ipsieve_sources::pfx2as::OriginKind::{self, *};
use ipsieve_sources::{input, Lenient, ParseError, Position, Timestamp};
use proptest::prelude::*;

use crate::common::{fixture, fixture_bytes, shared_data, split};

/// Parses a fixture (decompressed transparently): prefixes, errors, stats.
fn parse_fixture(name: &str) -> (Vec<MrtPrefix>, Vec<ParseError>, MrtStats) {
    let reader = input::open(&fixture(name)).unwrap();
    parse_reader(reader, name)
}

fn parse_reader(reader: impl BufRead, name: &str) -> (Vec<MrtPrefix>, Vec<ParseError>, MrtStats) {
    let mut parser = mrt::parse(reader, name);
    let (prefixes, errors) = split(&mut parser, name);
    for e in &errors {
        assert!(
            matches!(e.position, Position::Byte(_) | Position::Whole),
            "{e}"
        );
    }
    (prefixes, errors, parser.stats().clone())
}

fn parse_bytes(bytes: &[u8]) -> (Vec<MrtPrefix>, Vec<ParseError>, MrtStats) {
    parse_reader(bytes, "t")
}

/// The decompressed bytes of a fixture.
fn decompressed(name: &str) -> Vec<u8> {
    let mut v = Vec::new();
    input::open(&fixture(name))
        .unwrap()
        .read_to_end(&mut v)
        .unwrap();
    v
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

/// (prefix, origins, kind, paths, primary paths) of a record, for compact assertions.
fn summary(p: &MrtPrefix) -> (String, Vec<u32>, OriginKind, u32, u32) {
    (
        p.net.to_string(),
        p.origins.clone(),
        p.kind,
        p.paths,
        p.primary_paths,
    )
}

fn s(
    net: &str,
    origins: &[u32],
    kind: OriginKind,
    paths: u32,
    primary: u32,
) -> (String, Vec<u32>, OriginKind, u32, u32) {
    (net.to_owned(), origins.to_vec(), kind, paths, primary)
}

// ---------------------------------------------------------------------------------------------
// Real excerpts

#[test]
fn routeviews_ipv4_excerpt() {
    let (prefixes, errors, stats) = parse_fixture("mrt-rib.20140523.0600-excerpt.bz2");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(prefixes.len(), 23);
    assert_eq!(
        stats,
        MrtStats {
            records: 24,
            peer_index_tables: 1,
            rib_records: 23,
            rib_entries: 638,
            ..MrtStats::default()
        }
    );
    // The collector's default route has a single peer.
    assert_eq!(
        summary(&prefixes[0]),
        s("0.0.0.0/0", &[16637], Single, 1, 1)
    );
    assert_eq!(
        summary(&prefixes[1]),
        s("1.0.0.0/24", &[15169], Single, 32, 32)
    );
    assert_eq!(
        summary(&prefixes[16]),
        s("1.0.128.0/19", &[9737], Single, 4, 4)
    );
    // MOAS: 28 of 34 peers see AS24151, the others AS24409 (pfx2as writes `24151_24409`).
    assert_eq!(
        summary(&prefixes[20]),
        s("1.2.4.0/24", &[24151, 24409], MultiOrigin, 34, 28)
    );
    // Every peer ends the path with the same one-member AS_SET {38266}.
    assert_eq!(
        summary(&prefixes[21]),
        s("1.38.0.0/17", &[38266], AsSet, 31, 31)
    );
    // Three different trailing AS_SETs: {50923,65014,65111,65200,65500} on 10 of the 26 peers,
    // {50923} on 9, {50923,65014,65100,65111,65500} on 7; the other sets add only AS65100.
    assert_eq!(
        summary(&prefixes[22]),
        s(
            "5.128.0.0/14",
            &[50923, 65014, 65111, 65200, 65500, 65100],
            Mixed,
            26,
            10
        )
    );
    assert!(prefixes
        .iter()
        .all(|p| p.dumped_at == Timestamp::parse_date_time("2014-05-23 06:00:00").unwrap()));
}

#[test]
fn routeviews_ipv4_excerpt_positions() {
    let reader = input::open(&fixture("mrt-rib.20140523.0600-excerpt.bz2")).unwrap();
    let located: Vec<_> = mrt::parse_located(reader, "rv2")
        .map(Result::unwrap)
        .collect();
    // The PEER_INDEX_TABLE is 619 + 12 bytes; the RIB records follow it.
    assert_eq!(located[0].position, Position::Byte(631));
    assert_eq!(located[1].position, Position::Byte(694));
    assert_eq!(located[2].position, Position::Byte(2121));
    assert!(located
        .windows(2)
        .all(|w| matches!((w[0].position, w[1].position), (Position::Byte(a), Position::Byte(b)) if a < b)));
}

#[test]
fn routeviews_ipv6_excerpt() {
    let (prefixes, errors, stats) = parse_fixture("mrt-rib6.20151101.0600-excerpt.bz2");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(prefixes.len(), 23);
    assert_eq!((stats.rib_records, stats.rib_entries), (23, 490));
    assert_eq!(
        summary(&prefixes[0]),
        s("2001::/32", &[6939, 1101, 25192], MultiOrigin, 24, 18)
    );
    assert_eq!(
        summary(&prefixes[3]),
        s("2001:200:136::/48", &[9367], Single, 1, 1)
    );
    assert_eq!(
        summary(&prefixes[11]),
        s("2001:218:3003:100::/56", &[2914], Single, 3, 3)
    );
    // A four-member AS_SET at the end of every path.
    assert_eq!(
        summary(&prefixes[20]),
        s("2001:410::/32", &[271, 7860, 8111, 26677], AsSet, 27, 27)
    );
    // {38266} on 14 peers, {38266,65001,65010} on 11.
    assert_eq!(
        summary(&prefixes[21]),
        s("2400:5200:1400::/40", &[38266, 65001, 65010], Mixed, 25, 14)
    );
    // 25 peers end in AS55644, one in the set {45271}.
    assert_eq!(
        summary(&prefixes[22]),
        s("2400:c700::/32", &[55644, 45271], Mixed, 26, 25)
    );
    assert!(prefixes.iter().all(|p| p.net.addr().is_ipv6()));
}

#[test]
fn ris_excerpt_without_peer_index_table() {
    // Three RIB_IPV4_UNICAST records and no PEER_INDEX_TABLE; the second (the RIS beacon
    // 84.205.86.0/24) has an empty AS_PATH: a route the collector originates, no origin.
    let (prefixes, errors, stats) = parse_fixture("mrt-bview.20140112.1600_3samples.bz2");
    assert!(errors.is_empty(), "{errors:?}");
    let got: Vec<_> = prefixes.iter().map(summary).collect();
    assert_eq!(
        got,
        [
            s("1.0.0.0/24", &[15169], Single, 1, 1),
            s("1.0.20.0/23", &[2519], Single, 1, 1)
        ]
    );
    assert_eq!(stats.peer_index_tables, 0);
    assert_eq!(
        (stats.entries_without_origin, stats.prefixes_without_origin),
        (1, 1)
    );
    assert_eq!(prefixes[1].dumped_at, Timestamp(1_389_542_400));
}

#[test]
fn legacy_table_dump_merges_consecutive_records() {
    // Legacy TABLE_DUMP (type 12): one record per (prefix, peer), 2-byte ASNs.
    let (prefixes, errors, stats) = parse_fixture("mrt-bview.20020722.2337-excerpt.gz");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!((stats.records, stats.rib_records), (38, 38));
    assert_eq!(prefixes.len(), 33);
    assert_eq!(summary(&prefixes[0]), s("3.0.0.0/8", &[80], Single, 1, 1));
    assert_eq!(
        summary(&prefixes[14]),
        s("12.0.0.0/8", &[7018], Single, 1, 1)
    );
    // `1853 1239 13659 {13659,701}`: the set, sorted.
    assert_eq!(
        summary(&prefixes[30]),
        s("24.223.0.0/18", &[701, 13659], AsSet, 1, 1)
    );
    // Two records, two origins, one each: the lower ASN leads.
    assert_eq!(
        summary(&prefixes[31]),
        s("62.41.80.0/21", &[517, 6786], MultiOrigin, 2, 1)
    );
    // Five records of five peers, all ending in AS20751.
    assert_eq!(
        summary(&prefixes[32]),
        s("80.64.128.0/20", &[20751], Single, 5, 5)
    );
    assert_eq!(
        prefixes[0].dumped_at,
        Timestamp::parse_date_time("2002-07-22 23:37:35").unwrap()
    );
}

#[test]
fn mrtparse_quagga_ipv4_and_ipv6() {
    let (prefixes, errors, stats) = parse_fixture("mrt-mrtparse-quagga_rib");
    assert!(errors.is_empty(), "{errors:?}");
    let got: Vec<_> = prefixes.iter().map(summary).collect();
    assert_eq!(
        got,
        [
            s("172.17.0.0/24", &[64512], Single, 1, 1),
            s("172.17.1.0/24", &[64512], Single, 1, 1),
            s("172.17.2.0/24", &[64512], Single, 1, 1),
            s("fd01:1::/64", &[64512], Single, 2, 2),
            s("fd01:1:1::/64", &[64512], Single, 2, 2),
            s("fd01:1:2::/64", &[64512], Single, 2, 2),
        ]
    );
    assert_eq!((stats.peer_index_tables, stats.rib_entries), (1, 9));
}

#[test]
fn mrtparse_openbgpd_skips_rib_generic() {
    // OpenBGPD: RIB_GENERIC (13/6, VPNv4) records are skipped and counted; most prefixes are
    // the router's own (empty AS_PATH) and name no origin.
    let (prefixes, errors, stats) = parse_fixture("mrt-mrtparse-openbgpd_rib_table-v2");
    assert!(errors.is_empty(), "{errors:?}");
    let got: Vec<_> = prefixes.iter().map(summary).collect();
    assert_eq!(
        got,
        [
            s("192.168.0.0/16", &[65015], Single, 1, 1),
            s("192.168.1.0/24", &[65015], Single, 1, 1),
        ]
    );
    assert_eq!(
        stats,
        MrtStats {
            records: 24,
            peer_index_tables: 1,
            rib_records: 21,
            rib_entries: 31,
            entries_without_origin: 29,
            prefixes_without_origin: 19,
            skipped_non_rib: 0,
            skipped_rib_subtypes: 2,
        }
    );
}

#[test]
fn mrtparse_bird_two_dumps_with_add_path() {
    // BIRD appends one dump per interval: two PEER_INDEX_TABLEs, each followed by the table,
    // so every prefix comes once per dump. ADD-PATH: one peer, two paths with different
    // origins (4-byte ASNs 4200000000 and 4294967194 prepended).
    let (prefixes, errors, stats) = parse_fixture("mrt-mrtparse-bird-mrtdump_rib");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(stats.peer_index_tables, 2);
    let got: Vec<_> = prefixes.iter().map(summary).collect();
    let dump = [
        s("172.17.0.0/24", &[64512, 65534], MultiOrigin, 2, 1),
        s("172.17.1.0/24", &[64512, 65534], MultiOrigin, 2, 1),
        s("172.17.2.0/24", &[64512, 65534], MultiOrigin, 2, 1),
    ];
    assert_eq!(got[..3], dump);
    assert_eq!(got[3..], dump);
    assert_eq!(prefixes[0].dumped_at, Timestamp(1_486_801_687));
    assert_eq!(prefixes[3].dumped_at, Timestamp(1_486_801_747));
    // 0.0.0.0/0, 169.254.169.254/32 and 192.168.0.0/24 are BIRD's own routes, twice.
    assert_eq!(stats.prefixes_without_origin, 6);

    let (prefixes, errors, _) = parse_fixture("mrt-mrtparse-bird6-mrtdump_rib");
    assert!(errors.is_empty(), "{errors:?}");
    let got: Vec<_> = prefixes.iter().map(summary).collect();
    assert_eq!(
        got,
        [
            s("fd01:1::/64", &[64512, 65534], MultiOrigin, 2, 1),
            s("fd01:1:1::/64", &[64512, 65534], MultiOrigin, 2, 1),
            s("fd01:1:2::/64", &[64512, 65534], MultiOrigin, 2, 1),
        ]
    );
}

#[test]
fn bgp4mp_updates_are_skipped_and_reported() {
    let (prefixes, errors, stats) = parse_fixture("mrt-bgpkit-updates.bz2");
    assert!(prefixes.is_empty());
    assert_eq!((stats.records, stats.skipped_non_rib), (85, 85));
    assert_eq!(errors.len(), 1);
    let e = &errors[0];
    assert!(!e.fatal);
    assert_eq!(e.position, Position::Whole);
    assert_eq!(
        e.to_string(),
        "mrt-bgpkit-updates.bz2: input: no routing-table records among 85 mrt records (85 of \
         other types such as BGP4MP updates, 0 of other table subtypes); this is not a rib dump"
    );
    // The lenient layer sees a source that is 100 % bad.
    let reader = input::open(&fixture("mrt-bgpkit-updates.bz2")).unwrap();
    let mut lenient = Lenient::new(mrt::parse(reader, "u"));
    assert_eq!((&mut lenient).count(), 0);
    assert_eq!(lenient.rejected_ratio(), 1.0);
}

// ---------------------------------------------------------------------------------------------
// bgpdump's golden output

/// Per prefix, the origins bgpdump's `-m` lines name, counted: the last AS of the path, or
/// the members of a trailing `{a,b}` set.
fn bgpdump_votes(text: &str) -> BTreeMap<IpNet, BTreeMap<Vec<u32>, u32>> {
    let mut votes: BTreeMap<IpNet, BTreeMap<Vec<u32>, u32>> = BTreeMap::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split('|').collect();
        let add_path = f[0].ends_with("_AP");
        let prefix = net(f[5]);
        let path = if add_path { f[7] } else { f[6] };
        let entry = votes.entry(prefix).or_default();
        let Some(last) = path.split(' ').next_back().filter(|t| !t.is_empty()) else {
            continue;
        };
        let mut origin: Vec<u32> = last
            .trim_matches(['{', '}'])
            .split(',')
            .map(|a| a.parse().unwrap())
            .collect();
        origin.sort_unstable();
        *entry.entry(origin).or_default() += 1;
    }
    votes
}

fn check_against_bgpdump(dump: &str, golden: &str) -> usize {
    let mut text = String::new();
    input::open(&fixture(golden))
        .unwrap()
        .read_to_string(&mut text)
        .unwrap();
    let expected = bgpdump_votes(&text);
    let (prefixes, errors, stats) = parse_fixture(dump);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(stats.rib_entries, text.lines().count() as u64);
    let mut seen = 0;
    for (prefix, votes) in &expected {
        let ours = prefixes.iter().find(|p| p.net == *prefix);
        if votes.is_empty() {
            assert!(ours.is_none(), "{prefix}: bgpdump shows no origin");
            continue;
        }
        let ours = ours.unwrap_or_else(|| panic!("{prefix} missing"));
        seen += 1;
        let mut all: Vec<u32> = votes.keys().flatten().copied().collect();
        all.sort_unstable();
        all.dedup();
        let mut got = ours.origins.clone();
        got.sort_unstable();
        assert_eq!(got, all, "{prefix}");
        assert_eq!(ours.paths, votes.values().sum::<u32>(), "{prefix}");
        let best = votes.values().max().unwrap();
        assert_eq!(ours.primary_paths, *best, "{prefix}");
        assert!(
            votes.get(&[ours.origins[0]][..]) == Some(best),
            "{prefix}: the leading origin is a most common one"
        );
    }
    assert_eq!(seen, prefixes.len(), "no prefix bgpdump does not show");
    seen
}

#[test]
fn add_path_ipv4_matches_bgpdump() {
    let n = check_against_bgpdump(
        "mrt-bview.ipv4_unicast_add_path.gz",
        "mrt-bview.ipv4_unicast_add_path.gz.bgp.gz",
    );
    assert_eq!(n, 31);
    let (prefixes, _, stats) = parse_fixture("mrt-bview.ipv4_unicast_add_path.gz");
    // Two paths per prefix from one peer; the collector's own routes have no AS_PATH.
    assert_eq!((stats.rib_entries, stats.entries_without_origin), (62, 2));
    let p = prefixes
        .iter()
        .find(|p| p.net == net("10.0.10.0/24"))
        .unwrap();
    assert_eq!(
        summary(p),
        s("10.0.10.0/24", &[65010, 65011], MultiOrigin, 2, 1)
    );
    let p = prefixes
        .iter()
        .find(|p| p.net == net("10.0.15.0/24"))
        .unwrap();
    assert_eq!(summary(p), s("10.0.15.0/24", &[65015], Single, 1, 1));
}

#[test]
fn add_path_ipv6_matches_bgpdump() {
    let n = check_against_bgpdump(
        "mrt-bview.ipv6_unicast_add_path.gz",
        "mrt-bview.ipv6_unicast_add_path.gz.bgp.gz",
    );
    assert_eq!(n, 31);
}

// ---------------------------------------------------------------------------------------------
// Truncation

/// Every cut of a small dump: the prefixes completed before the cut, then exactly one fatal
/// error at the start of the partial record (none when the cut falls between records).
#[test]
fn every_cut_of_a_dump_keeps_what_was_complete() {
    let whole = fixture_bytes("mrt-mrtparse-quagga_rib");
    let (all, _, _) = parse_bytes(&whole);
    let located: Vec<_> = mrt::parse_located(&whole[..], "t")
        .map(Result::unwrap)
        .collect();
    let starts: Vec<u64> = located
        .iter()
        .map(|l| match l.position {
            Position::Byte(b) => b,
            _ => unreachable!(),
        })
        .collect();
    // Record boundaries: the header starts (the peer table at 0, then each RIB record).
    let mut boundaries = vec![0u64];
    boundaries.extend(&starts);
    boundaries.push(whole.len() as u64);
    for cut in 0..whole.len() {
        let (prefixes, errors, _) = parse_bytes(&whole[..cut]);
        // Records whose end is at or before the cut are complete.
        let complete = boundaries
            .iter()
            .skip(1)
            .filter(|&&b| b <= cut as u64)
            .count();
        let complete_ribs = complete.saturating_sub(1);
        assert_eq!(prefixes, all[..complete_ribs], "cut at {cut}");
        if boundaries.contains(&(cut as u64)) {
            assert!(errors.is_empty(), "cut at {cut}: {errors:?}");
        } else {
            assert_eq!(errors.len(), 1, "cut at {cut}");
            assert!(errors[0].fatal);
            assert_eq!(
                errors[0].position,
                Position::Byte(boundaries[complete]),
                "cut at {cut}"
            );
            assert!(errors[0].reason.contains("truncated"), "{}", errors[0]);
        }
    }
}

fn bzip2_bytes(data: &[u8]) -> Vec<u8> {
    let mut enc = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

fn gzip_bytes(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    enc.write_all(data).unwrap();
    enc.finish().unwrap()
}

/// A compressed stream cut mid-way (as the RouteViews excerpts are): the records the decoder
/// could deliver, then one fatal error naming the decoder's complaint.
#[test]
fn truncated_bzip2_and_gzip_streams() {
    let raw = decompressed("mrt-rib.20140523.0600-excerpt.bz2");
    let (all, _, _) = parse_bytes(&raw);
    // The peer table and 9 RIB records end at byte 14256, where the 10th RIB record starts.
    let split_at = 14256;
    for (name, compress) in [
        ("bz2", bzip2_bytes as fn(&[u8]) -> Vec<u8>),
        ("gz", gzip_bytes),
    ] {
        // Two streams (pbzip2 writes many; gzip members likewise), the second one cut.
        let mut bytes = compress(&raw[..split_at]);
        let second = compress(&raw[split_at..]);
        bytes.extend_from_slice(&second[..second.len() / 2]);
        let reader = input::decode(Cursor::new(bytes)).unwrap();
        let (prefixes, errors, stats) = parse_reader(reader, name);
        assert_eq!(errors.len(), 1, "{name}: {errors:?}");
        let e = &errors[0];
        assert!(e.fatal, "{name}");
        assert!(e.reason.contains("truncated"), "{name}: {e}");
        let Position::Byte(at) = e.position else {
            panic!("{e}")
        };
        // bzip2 delivers whole blocks only: nothing of the cut stream. gzip delivers what it
        // inflated, so more records may come through; all of them are intact.
        if name == "bz2" {
            assert_eq!(prefixes.len(), 9);
            assert_eq!(at, split_at as u64);
            assert_eq!(stats.records, 10);
            assert!(e.reason.contains("decompression not finished"), "{e}");
        }
        assert!(prefixes.len() >= 9 && prefixes.len() < all.len());
        assert_eq!(prefixes, all[..prefixes.len()]);
    }
}

// ---------------------------------------------------------------------------------------------
// Whole files from shared/data

fn check_full_truncated(path: &str, expect: (usize, u64, u64), last: &str) {
    let Some(path) = shared_data(path) else {
        return;
    };
    let started = Instant::now();
    let reader = input::open(&path).unwrap();
    let (prefixes, errors, stats) = parse_reader(reader, "rv");
    let elapsed = started.elapsed();
    let (count, entries, fatal_at) = expect;
    assert_eq!(prefixes.len(), count);
    assert_eq!(stats.rib_records, count as u64);
    assert_eq!(stats.records, count as u64 + 1);
    assert_eq!(stats.rib_entries, entries);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0].fatal);
    assert_eq!(errors[0].position, Position::Byte(fatal_at));
    assert!(
        errors[0]
            .reason
            .contains("decompression not finished but EOF reached"),
        "{}",
        errors[0]
    );
    assert_eq!(prefixes.last().unwrap().net.to_string(), last);
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    for p in &prefixes {
        *kinds.entry(format!("{:?}", p.kind)).or_default() += 1;
        assert!(!p.origins.is_empty() && p.primary_paths >= 1 && p.primary_paths <= p.paths);
    }
    println!(
        "{}: {count} prefixes, {kinds:?}, {:?} (this build's speed, bzip2 included); then {}",
        path.display(),
        elapsed,
        errors[0]
    );
}

#[test]
fn full_routeviews_ipv4_dump_truncated_mid_stream() {
    // The first MiB of the .bz2: 9 072 complete RIB records after the PEER_INDEX_TABLE, and
    // 270 005 RIB entries, as bgpdump reads them; every origin was compared with bgpdump's.
    check_full_truncated(
        "bgp/mrt/rib.20140523.0600_firstMB.bz2",
        (9072, 270_005, 15_273_283),
        "12.167.138.0/24",
    );
}

#[test]
fn full_routeviews_ipv6_dump_truncated_mid_stream() {
    check_full_truncated(
        "bgp/mrt/rib6.20151101.0600_firstMB.bz2",
        (6870, 149_578, 12_131_168),
        "2401:be00::/32",
    );
}

#[test]
fn full_legacy_table_dump() {
    let Some(path) = shared_data("bgp/mrt/bview.20020722.2337.gz") else {
        return;
    };
    let (prefixes, errors, stats) = parse_reader(input::open(&path).unwrap(), "legacy");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(stats.records, 115_521);
    assert_eq!(prefixes.len(), 112_988);
    assert_eq!(prefixes.iter().filter(|p| p.kind == AsSet).count(), 160);
    assert_eq!(prefixes.iter().filter(|p| p.kind == MultiOrigin).count(), 4);
    assert_eq!(
        summary(prefixes.last().unwrap()),
        s("220.63.0.0/16", &[17676], Single, 1, 1)
    );
}

#[test]
fn shared_samples_equal_the_fixtures() {
    for (shared, fixture_name) in [
        (
            "bgp/mrt/bview.ipv4_unicast_add_path.gz",
            "mrt-bview.ipv4_unicast_add_path.gz",
        ),
        (
            "bgp/mrt/mrtparse-samples/openbgpd_rib_table-v2",
            "mrt-mrtparse-openbgpd_rib_table-v2",
        ),
        ("bgp/mrt/bgpkit-updates.bz2", "mrt-bgpkit-updates.bz2"),
    ] {
        let Some(path) = shared_data(shared) else {
            return;
        };
        assert_eq!(std::fs::read(path).unwrap(), fixture_bytes(fixture_name));
    }
}

// ---------------------------------------------------------------------------------------------
// Hostile and malformed input

fn header(kind: u16, subtype: u16, len: u32) -> Vec<u8> {
    let mut v = 1_400_000_000u32.to_be_bytes().to_vec();
    v.extend(kind.to_be_bytes());
    v.extend(subtype.to_be_bytes());
    v.extend(len.to_be_bytes());
    v
}

fn record(kind: u16, subtype: u16, body: &[u8]) -> Vec<u8> {
    let mut v = header(kind, subtype, body.len() as u32);
    v.extend_from_slice(body);
    v
}

/// A RIB_IPV4_UNICAST body: `prefix_len`, `packed` prefix bytes, entries given as attribute
/// blocks.
fn rib_v4(prefix_len: u8, packed: &[u8], entries: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![0, 0, 0, 7, prefix_len];
    v.extend_from_slice(packed);
    v.extend((entries.len() as u16).to_be_bytes());
    for attrs in entries {
        v.extend([0, 0, 0, 0, 0, 0]);
        v.extend((attrs.len() as u16).to_be_bytes());
        v.extend_from_slice(attrs);
    }
    v
}

/// An AS_PATH attribute with one AS_SEQUENCE of 4-byte ASNs.
fn as_path(asns: &[u32]) -> Vec<u8> {
    let mut v = vec![0x40, 2, (2 + 4 * asns.len()) as u8, 2, asns.len() as u8];
    for a in asns {
        v.extend(a.to_be_bytes());
    }
    v
}

#[test]
fn good_record_after_each_malformed_one() {
    let good = record(
        13,
        2,
        &rib_v4(24, &[192, 0, 2], &[as_path(&[64500, 64501])]),
    );
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            record(13, 2, &rib_v4(33, &[1, 2, 3, 4, 5], &[])),
            "mrt record type 13/2: prefix length 33 is longer than 32; skipped",
        ),
        (
            record(13, 2, &[0, 0, 0, 7, 24, 192, 0]),
            "mrt record type 13/2: prefix needs 3 bytes, only 2 left in the record; skipped",
        ),
        (
            {
                let mut body = rib_v4(24, &[192, 0, 2], &[as_path(&[1])]);
                body.extend([0xAA, 0xBB]);
                record(13, 2, &body)
            },
            "mrt record type 13/2: 2 bytes after the last of 1 rib entries; skipped",
        ),
        (
            {
                // The AS_PATH says 10 bytes, the entry's attributes hold 6.
                let attrs = vec![0x40, 2, 10, 2, 1, 0, 0, 0];
                record(13, 2, &rib_v4(24, &[192, 0, 2], &[attrs]))
            },
            "mrt record type 13/2: rib entry 1 of 1: AS_PATH: attribute value needs 10 bytes, \
             only 5 left in the record; skipped",
        ),
        (
            {
                // A segment of 3 ASNs with room for 1.
                let attrs = vec![0x40, 2, 6, 2, 3, 0, 0, 0, 1];
                record(13, 2, &rib_v4(24, &[192, 0, 2], &[attrs]))
            },
            "mrt record type 13/2: rib entry 1 of 1: AS_PATH: segment needs 12 bytes, only 4 \
             left in the record; skipped",
        ),
        (
            {
                let attrs = vec![0x40, 2, 6, 7, 1, 0, 0, 0, 1];
                record(13, 2, &rib_v4(24, &[192, 0, 2], &[attrs]))
            },
            "mrt record type 13/2: rib entry 1 of 1: AS_PATH: unknown segment type 7; skipped",
        ),
        (
            record(13, 1, &[0, 0, 0, 0, 0, 9, b'v']),
            "mrt record type 13/1: view name needs 9 bytes, only 1 left in the record; skipped",
        ),
        (
            record(12, 1, &[0; 12]),
            "mrt record type 12/1: originated time needs 4 bytes, only 2 left in the record; \
             skipped",
        ),
    ];
    for (bad, reason) in cases {
        let mut input = bad.clone();
        input.extend(&good);
        let (prefixes, errors, _) = parse_bytes(&input);
        assert_eq!(errors.len(), 1, "{reason}: {errors:?}");
        assert_eq!(errors[0].reason, reason);
        assert_eq!(errors[0].position, Position::Byte(0));
        assert!(!errors[0].fatal);
        assert_eq!(prefixes.len(), 1, "{reason}");
        assert_eq!(prefixes[0].net, net("192.0.2.0/24"));
        assert_eq!(prefixes[0].origins, [64501]);
    }
}

#[test]
fn host_bits_are_cleared_and_short_prefixes_padded() {
    // /20 written with 3 bytes, the last one carrying bits past the length.
    let input = record(13, 2, &rib_v4(20, &[10, 1, 0xFF], &[as_path(&[7])]));
    let (prefixes, errors, _) = parse_bytes(&input);
    assert!(errors.is_empty());
    assert_eq!(prefixes[0].net, net("10.1.240.0/20"));
    // /0: no prefix bytes at all.
    let input = record(13, 4, &rib_v4(0, &[], &[as_path(&[9])]));
    let (prefixes, _, _) = parse_bytes(&input);
    assert_eq!(prefixes[0].net, net("::/0"));
}

#[test]
fn as_set_and_as4_path() {
    // AS_SEQUENCE 1 2, then AS_SET {9, 7, 9}.
    let attrs = vec![
        0x40, 2, 24, 2, 2, 0, 0, 0, 1, 0, 0, 0, 2, 1, 3, 0, 0, 0, 9, 0, 0, 0, 7, 0, 0, 0, 9,
    ];
    let (prefixes, errors, _) = parse_bytes(&record(13, 2, &rib_v4(8, &[10], &[attrs])));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        (prefixes[0].origins.clone(), prefixes[0].kind),
        (vec![7, 9], AsSet)
    );
    // AS_TRANS as origin, the real 4-byte origin in AS4_PATH (extended-length flag).
    let mut attrs = as_path(&[3356, 23456]);
    attrs.extend([0xD0, 17, 0, 6, 2, 1]);
    attrs.extend(4_200_000_001u32.to_be_bytes());
    let (prefixes, errors, _) = parse_bytes(&record(13, 2, &rib_v4(8, &[10], &[attrs])));
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(prefixes[0].origins, [4_200_000_001]);
}

#[test]
fn unknown_type_is_fatal_and_html_is_not_mrt() {
    let good = record(13, 2, &rib_v4(24, &[192, 0, 2], &[as_path(&[1])]));
    let mut input = good.clone();
    input.extend(header(99, 0, 4));
    input.extend([0; 4]);
    input.extend(&good);
    let (prefixes, errors, _) = parse_bytes(&input);
    assert_eq!(prefixes.len(), 1);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fatal);
    assert_eq!(errors[0].position, Position::Byte(good.len() as u64));
    assert_eq!(
        errors[0].reason,
        "mrt type 99 (subtype 0) is not defined by rfc 6396; the input is not an mrt dump, or \
         is corrupt"
    );
    let (_, errors, _) = parse_bytes(b"<!DOCTYPE html><html><body>503</body></html>");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fatal && errors[0].position == Position::Byte(0));
}

#[test]
fn a_4_gib_length_does_not_allocate_4_gib() {
    // The header promises u32::MAX bytes; 100 follow. Nothing is buffered past the limit.
    let mut input = header(13, 2, u32::MAX);
    input.extend([0u8; 100]);
    let (prefixes, errors, _) = parse_bytes(&input);
    assert!(prefixes.is_empty());
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fatal);
    assert_eq!(errors[0].position, Position::Byte(0));
    assert_eq!(
        errors[0].reason,
        "input ends 100 bytes into an mrt record of 4294967295 bytes (type 13/2); the file is \
         truncated, fetch it again"
    );
}

#[test]
fn a_complete_oversized_record_is_skipped() {
    let len = MAX_MRT_RECORD + 1;
    let mut input = header(13, 2, len);
    input.resize(input.len() + len as usize, 0);
    let good = record(13, 2, &rib_v4(24, &[192, 0, 2], &[as_path(&[1])]));
    input.extend(&good);
    let (prefixes, errors, stats) = parse_bytes(&input);
    assert_eq!(prefixes.len(), 1);
    assert_eq!(stats.records, 2);
    assert_eq!(errors.len(), 1);
    assert!(!errors[0].fatal);
    assert_eq!(
        errors[0].reason,
        "mrt record (type 13/2) of 16777217 bytes is longer than the 16777216-byte limit; \
         skipped"
    );
}

#[test]
fn empty_input_is_no_records_and_no_error() {
    let (prefixes, errors, stats) = parse_bytes(b"");
    assert!(prefixes.is_empty() && errors.is_empty());
    assert_eq!(stats, MrtStats::default());
}

#[test]
fn errors_name_source_and_byte() {
    let (_, errors, _) = parse_bytes(&header(13, 2, 50)[..7]);
    assert_eq!(
        errors[0].to_string(),
        "t: byte 0: input ends 7 bytes into an mrt record header; the file is truncated, fetch \
         it again"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let items: Vec<_> = mrt::parse(&bytes[..], "fuzz").collect();
        // At most one fatal error, and it is last.
        let fatal: Vec<usize> = items.iter().enumerate()
            .filter(|(_, i)| matches!(i, Err(e) if e.fatal)).map(|(n, _)| n).collect();
        prop_assert!(fatal.len() <= 1);
        if let Some(&n) = fatal.first() {
            prop_assert_eq!(n, items.len() - 1);
        }
    }

    #[test]
    fn mutated_real_dumps_never_panic(
        which in 0usize..3,
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8),
        cut in any::<usize>(),
    ) {
        let name = ["mrt-mrtparse-quagga_rib", "mrt-mrtparse-bird-mrtdump_rib",
                    "mrt-mrtparse-openbgpd_rib_table-v2"][which];
        let mut bytes = fixture_bytes(name);
        for (at, x) in flips {
            let at = at % bytes.len();
            bytes[at] ^= x;
        }
        bytes.truncate(cut % (bytes.len() + 1));
        let mut parser = mrt::parse(&bytes[..], "fuzz");
        let mut n = 0;
        for item in &mut parser {
            if let Ok(p) = item {
                prop_assert!(!p.origins.is_empty());
                prop_assert!(p.primary_paths >= 1 && p.primary_paths <= p.paths);
            }
            n += 1;
        }
        prop_assert!(n <= 1 + 2 * parser.stats().records as usize + 1);
    }

    #[test]
    fn compressed_garbage_never_panics(
        magic in prop_oneof![Just(b"\x1f\x8b".to_vec()), Just(b"BZh91AY&SY".to_vec())],
        tail in proptest::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut bytes = magic;
        bytes.extend(tail);
        let reader = input::decode(Cursor::new(bytes)).unwrap();
        let items: Vec<_> = mrt::parse(reader, "fuzz").collect();
        prop_assert!(items.iter().filter(|i| matches!(i, Err(e) if e.fatal)).count() <= 1);
    }
}

#[test]
fn legacy_ipv6_and_4_byte_as_subtypes() {
    // TABLE_DUMP subtype 2 (AFI_IPv6, 2-byte ASNs) and 4 (AFI_IPv6 with 4-byte ASNs).
    let legacy = |subtype: u16, asn_path: Vec<u8>| {
        let mut body = vec![0, 0, 0, 1];
        body.extend([0x20, 0x01, 0x0d, 0xb8]);
        body.extend([0; 12]);
        body.extend([32, 1, 0, 0, 0, 0]);
        body.extend([0; 16]);
        body.extend(if subtype == 4 {
            vec![0, 0, 0xFD, 0xE8]
        } else {
            vec![0xFD, 0xE8]
        });
        body.extend((asn_path.len() as u16).to_be_bytes());
        body.extend(asn_path);
        record(12, subtype, &body)
    };
    let mut input = legacy(2, vec![0x40, 2, 6, 2, 2, 0xFD, 0xE8, 0x5B, 0xA0]);
    input.extend(legacy(4, as_path(&[65000, 4_200_000_000])));
    let (prefixes, errors, stats) = parse_bytes(&input);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(stats.rib_records, 2);
    // One prefix over two consecutive records: AS_TRANS (23456, from a 2-byte path without an
    // AS4_PATH) and AS4200000000 tie; the lower ASN leads.
    assert_eq!(
        summary(&prefixes[0]),
        s("2001:db8::/32", &[23456, 4_200_000_000], MultiOrigin, 2, 1)
    );
}
