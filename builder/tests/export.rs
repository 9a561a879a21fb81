//! The exports, read back and compared with the artifact.
//!
//! * MMDB: the export of the vendored snapshot is read with the `maxminddb` crate at every
//!   range boundary and at seeded random addresses (IPv4, IPv4-mapped, 6to4, IPv6) and must
//!   answer what ipsieve answers; the writer alone is checked against a naive model with random
//!   ranges and values at every record size.
//! * Firewall sets: every category's set holds exactly its addresses; the CIDR aggregation
//!   equals a naive minimal cover.
//!
//! `ipsieve export` (CSV, nft and ipset scripts, the real ipset and nft) is tested in
//! `cli/tests/export.rs`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use ipnet::IpNet;
use ipsieve::{Answer, Categories, Database};
use ipsieve_builder::export::firewall::{aggregate, category_sets};
use ipsieve_builder::export::mmdb::{self, MmdbStats, MmdbWriter, RecordSize, Value};
use ipsieve_builder::export::ExportError;
use ipsieve_builder::walk::{runs, Family};
use ipsieve_testkit::mmdb::Exported;
use proptest::prelude::*;
use serde::Deserialize;

/// A small seeded generator (splitmix64), so failures replay.
struct Rng(u64);

impl Rng {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn u128(&mut self) -> u128 {
        (u128::from(self.u64()) << 64) | u128::from(self.u64())
    }
    /// Uniform in `lo..=hi`.
    fn within(&mut self, lo: u128, hi: u128) -> u128 {
        match (hi - lo).checked_add(1) {
            Some(n) => lo + self.u128() % n,
            None => self.u128(),
        }
    }
}

fn snapshot_db() -> Database {
    Database::from_bytes(crate::snapshot::artifact()).unwrap()
}

/// The MMDB export of the snapshot, made once.
fn snapshot_mmdb() -> &'static (Vec<u8>, MmdbStats) {
    static MMDB: OnceLock<(Vec<u8>, MmdbStats)> = OnceLock::new();
    MMDB.get_or_init(|| mmdb::from_database(&snapshot_db()).to_bytes().unwrap())
}

/// The IPv4 address an IPv6 address answers as in the export: `::/96` (where IPv4 lives),
/// `::ffff:0:0/96` and `2002::/16` (6to4, the IPv4 address in bits 16..48).
fn aliased_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let x = u128::from(ip);
    match x >> 32 {
        0 | 0xffff => Some(Ipv4Addr::from(x as u32)),
        _ if x >> 112 == 0x2002 => Some(Ipv4Addr::from((x >> 80) as u32)),
        _ => None,
    }
}

/// ipsieve's answer for `ip` as the export must reproduce it.
fn answer_for(db: &Database, ip: IpAddr) -> Answer<'_> {
    match ip {
        IpAddr::V4(v4) => db.lookup_v4(v4),
        IpAddr::V6(v6) => match aliased_v4(v6) {
            Some(v4) => db.lookup_v4(v4),
            None => db.lookup_v6(v6),
        },
    }
}

/// Looks `ip` up in the export and compares with ipsieve; returns the data offset.
fn check(
    reader: &maxminddb::Reader<&[u8]>,
    db: &Database,
    ip: IpAddr,
) -> Result<Option<usize>, String> {
    let a = answer_for(db, ip);
    let want = Exported::expected(&a);
    let found = reader.lookup(ip).map_err(|e| format!("{ip}: {e}"))?;
    let got: Option<Exported> = found.decode().map_err(|e| format!("{ip}: {e}"))?;
    if got != want {
        return Err(format!("{ip}: export says {got:?}, ipsieve {want:?}"));
    }
    if want.is_some() {
        // The export's network holds the address and ipsieve answers the same at both of its
        // ends (through the aliases for IPv4 reached from IPv6).
        let net: IpNet = found.network().unwrap().to_string().parse().unwrap();
        if !net.contains(&ip) {
            return Err(format!("{ip}: export network {net} does not hold it"));
        }
        for end in [net.network(), net.broadcast()] {
            if Exported::expected(&answer_for(db, end)) != want {
                return Err(format!(
                    "{ip}: export network {net}, ipsieve differs at {end}"
                ));
            }
        }
    }
    Ok(found.offset())
}

#[test]
fn mmdb_export_answers_like_ipsieve_at_every_boundary_and_at_random() {
    let db = snapshot_db();
    let (bytes, stats) = snapshot_mmdb();
    let reader = maxminddb::Reader::from_source(bytes.as_slice()).unwrap();
    reader.verify().unwrap();
    let meta = reader.metadata();
    assert_eq!(meta.database_type, mmdb::DATABASE_TYPE);
    assert!(!meta.database_type.starts_with("GeoIP"));
    assert_eq!(meta.ip_version, 6);
    assert_eq!(meta.binary_format_major_version, 2);
    assert_eq!(meta.build_epoch, db.build_time());
    assert_eq!(meta.node_count, stats.node_count);

    let mut probes: Vec<IpAddr> = Vec::new();
    let mut rng = Rng(0x1b5_1e7e);
    let mut nonempty = 0;
    for family in Family::BOTH {
        let bound = |x: u128| family.addr(x);
        for run in runs(&db, family) {
            nonempty += usize::from(!run.answer.is_empty());
            probes.push(bound(run.first));
            probes.push(bound(run.last));
            if run.first > 0 {
                probes.push(bound(run.first - 1));
            }
            if run.last < family.last() {
                probes.push(bound(run.last + 1));
            }
            probes.push(bound(rng.within(run.first, run.last)));
        }
    }
    assert!(nonempty > 10_000, "the snapshot has {nonempty} ranges");
    // Every IPv4 probe again as IPv4-mapped and as 6to4 (with random interface bits).
    let v4: Vec<Ipv4Addr> = probes
        .iter()
        .filter_map(|ip| match ip {
            IpAddr::V4(a) => Some(*a),
            IpAddr::V6(_) => None,
        })
        .collect();
    for a in &v4 {
        probes.push(IpAddr::V6(a.to_ipv6_mapped()));
        let six_to_four = (0x2002u128 << 112)
            | (u128::from(u32::from(*a)) << 80)
            | (rng.u128() & ((1 << 80) - 1));
        probes.push(IpAddr::V6(Ipv6Addr::from(six_to_four)));
    }
    // Seeded random addresses: anywhere, and in the blocks that alias IPv4.
    for _ in 0..3000 {
        probes.push(IpAddr::V4(Ipv4Addr::from(rng.u64() as u32)));
        probes.push(IpAddr::V6(Ipv6Addr::from(rng.u128())));
        // Mostly global unicast (2000::/3), where the snapshot's IPv6 ranges are.
        probes.push(IpAddr::V6(Ipv6Addr::from(
            (0x2000u128 << 112) | (rng.u128() >> 3),
        )));
        probes.push(IpAddr::V6(Ipv6Addr::from(rng.u64() as u32 as u128)));
    }
    let mut failures = Vec::new();
    let mut hits = 0;
    for ip in &probes {
        match check(&reader, &db, *ip) {
            Ok(Some(_)) => hits += 1,
            Ok(None) => {}
            Err(e) => failures.push(e),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} probes differ, first: {:#?}",
        failures.len(),
        probes.len(),
        &failures[..failures.len().min(5)]
    );
    assert!(
        hits > probes.len() / 4,
        "{hits} of {} probes hit",
        probes.len()
    );
}

#[test]
fn mmdb_export_stores_each_distinct_answer_once_with_true_flags_only() {
    let db = snapshot_db();
    let (bytes, stats) = snapshot_mmdb();
    let reader = maxminddb::Reader::from_source(bytes.as_slice()).unwrap();
    // Distinct exported values, and the data offsets the ranges point at.
    let mut offset_of: HashMap<String, usize> = HashMap::new();
    let mut offsets = HashSet::new();
    for family in Family::BOTH {
        for run in runs(&db, family).filter(|r| !r.answer.is_empty()) {
            let ip = family.addr(run.first);
            let want = format!("{:?}", Exported::expected(&run.answer).unwrap());
            let found = reader.lookup(ip).unwrap();
            let at = found.offset().expect("a range with an answer has data");
            offsets.insert(at);
            let first = *offset_of.entry(want.clone()).or_insert(at);
            assert_eq!(first, at, "{ip}: {want} is stored twice");
            // Flags appear only when true, as in MaxMind's files.
            let raw: BTreeMap<String, serde_json::Value> = found.decode().unwrap().unwrap();
            for (k, v) in &raw {
                assert_ne!(v, &serde_json::Value::Bool(false), "{ip}: {k} is false");
            }
        }
    }
    assert_eq!(offsets.len(), offset_of.len());
    assert_eq!(stats.data_records, offsets.len());

    // The record size is the smallest whose records hold the largest value.
    let meta = reader.metadata();
    let marker = bytes
        .windows(mmdb::METADATA_MARKER.len())
        .rposition(|w| w == mmdb::METADATA_MARKER)
        .unwrap();
    let tree = meta.node_count as usize * usize::from(meta.record_size) / 4;
    let data_len = (marker - tree - 16) as u64;
    let max_value = u64::from(meta.node_count) + 16 + data_len;
    let fits = |bits: u16| max_value < 1u64 << bits;
    assert!(fits(meta.record_size));
    let smaller = [24u16, 28, 32]
        .into_iter()
        .filter(|&b| b < meta.record_size)
        .any(fits);
    assert!(
        !smaller,
        "record size {} is not the smallest",
        meta.record_size
    );
}

/// A value for the writer's model test: every kind the writer encodes, and strings around
/// each size-encoding boundary of the format (28/29, 284/285, 65820/65821 bytes).
fn value_strategy() -> impl Strategy<Value = (u8, Value)> {
    (
        0u8..12,
        prop::sample::select(vec![0usize, 1, 2, 28, 29, 284, 285, 1000, 65_820, 65_821]),
        any::<u64>(),
        any::<bool>(),
    )
        .prop_map(|(tag, len, n, b)| {
            let s = char::from(b'a' + tag).to_string().repeat(len);
            let v = Value::Map(vec![
                ("tag".into(), Value::U16(u16::from(tag))),
                ("s".into(), Value::String(s)),
                ("n".into(), Value::U64(n)),
                ("m".into(), Value::U32(n as u32)),
                ("d".into(), Value::Double(n as f64 / 7.0)),
                ("b".into(), Value::Bool(b)),
                (
                    "a".into(),
                    Value::Array(vec![Value::String(format!("x{tag}")), Value::Bool(!b)]),
                ),
            ]);
            (tag, v)
        })
}

#[derive(Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelValue {
    tag: u16,
    s: String,
    n: u64,
    m: u32,
    d: f64,
    b: bool,
    a: (String, bool),
}

fn model_value(v: &Value) -> ModelValue {
    let Value::Map(m) = v else { unreachable!() };
    let get = |k: &str| &m.iter().find(|(key, _)| key == k).unwrap().1;
    match (
        get("tag"),
        get("s"),
        get("n"),
        get("m"),
        get("d"),
        get("b"),
        get("a"),
    ) {
        (
            Value::U16(tag),
            Value::String(s),
            Value::U64(n),
            Value::U32(mm),
            Value::Double(d),
            Value::Bool(b),
            Value::Array(a),
        ) => ModelValue {
            tag: *tag,
            s: s.clone(),
            n: *n,
            m: *mm,
            d: *d,
            b: *b,
            a: match (&a[0], &a[1]) {
                (Value::String(x), Value::Bool(y)) => (x.clone(), *y),
                _ => unreachable!(),
            },
        },
        _ => unreachable!(),
    }
}

/// Cut points splitting a `bits`-bit space: random ones, aligned ones (CIDR edges), and the
/// ends of the space, so /0, single addresses and adjacent ranges all occur.
fn cuts(bits: u32) -> impl Strategy<Value = Vec<u128>> {
    let top = if bits == 128 {
        u128::MAX
    } else {
        (1u128 << bits) - 1
    };
    proptest::collection::vec(
        prop_oneof![
            any::<u128>().prop_map(move |x| x & top),
            (any::<u128>(), 0..bits).prop_map(move |(x, k)| (x & top) >> k << k),
            Just(1u128),
            Just(top),
        ],
        0..12,
    )
}

/// Disjoint ranges from cut points: consecutive pieces of the space `0..=top`, each with the
/// next of `values` (some without a value).
fn pieces(cuts: &[u128], top: u128, values: &[Option<usize>]) -> Vec<(u128, u128, Option<usize>)> {
    let mut starts: Vec<u128> = cuts.iter().copied().filter(|&x| x > 0).collect();
    starts.push(0);
    starts.sort_unstable();
    starts.dedup();
    starts
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let last = starts.get(i + 1).map_or(top, |n| n - 1);
            (s, last, values[i % values.len()])
        })
        .collect()
}

/// The IPv6 blocks the export gives to IPv4 (see [`aliased_v4`]).
const RESERVED_V6: [(u128, u128); 3] = [
    (0, 0xffff_ffff),
    (0xffff_0000_0000, 0xffff_ffff_ffff),
    (0x2002 << 112, (0x2002 << 112) | ((1 << 112) - 1)),
];

fn model_lookup(ranges: &[(u128, u128, Option<usize>)], x: u128) -> Option<usize> {
    ranges
        .iter()
        .find(|r| r.0 <= x && x <= r.1)
        .and_then(|r| r.2)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn mmdb_writer_equals_a_naive_model_at_every_record_size(
        values in proptest::collection::vec(value_strategy(), 1..6),
        which in proptest::collection::vec(proptest::option::weighted(0.8, 0usize..6), 1..16),
        cuts4 in cuts(32),
        cuts6 in cuts(128),
        size in prop::sample::select(vec![
            RecordSize::Auto, RecordSize::Bits24, RecordSize::Bits28, RecordSize::Bits32,
        ]),
        seed in any::<u64>(),
    ) {
        let which: Vec<Option<usize>> = which.iter().map(|w| w.map(|i| i % values.len())).collect();
        let v4 = pieces(&cuts4, u128::from(u32::MAX), &which);
        let v6 = pieces(&cuts6, u128::MAX, &which);
        let mut w = MmdbWriter::new("Test-Model").description("en", "model").record_size(size);
        // Insert in reverse: the writer sorts.
        for &(f, l, v) in v4.iter().rev() {
            if let Some(v) = v {
                w.insert(Family::V4.addr(f), Family::V4.addr(l), values[v].1.clone()).unwrap();
            }
        }
        for &(f, l, v) in v6.iter().rev() {
            if let Some(v) = v {
                w.insert(Family::V6.addr(f), Family::V6.addr(l), values[v].1.clone()).unwrap();
            }
        }
        let (bytes, stats) = w.to_bytes().unwrap();
        let reader = maxminddb::Reader::from_source(bytes.as_slice()).unwrap();
        reader.verify().unwrap();
        if let Some(bits) = size.bits() {
            prop_assert_eq!(reader.metadata().record_size, bits);
        }
        prop_assert_eq!(reader.metadata().node_count, stats.node_count);
        // Values used by some range that the file can hold (IPv6 inside the IPv4 blocks is not).
        let kept6 = v6.iter().filter(|r| !RESERVED_V6.iter().any(|b| b.0 <= r.0 && r.1 <= b.1));
        let distinct: HashSet<&Value> = v4.iter().chain(kept6).filter_map(|r| r.2)
            .map(|i| &values[i].1)
            .collect();
        prop_assert_eq!(stats.data_records, distinct.len());

        let mut rng = Rng(seed);
        let mut probes: Vec<IpAddr> = Vec::new();
        for &(f, l, _) in &v4 {
            for x in [f, l, f.saturating_sub(1), (l + 1).min(u128::from(u32::MAX)), rng.within(f, l)] {
                let a = Family::V4.addr(x);
                probes.push(a);
                if let IpAddr::V4(a) = a {
                    probes.push(IpAddr::V6(a.to_ipv6_mapped()));
                }
            }
        }
        for &(f, l, _) in &v6 {
            for x in [f, l, f.saturating_sub(1), l.saturating_add(1), rng.within(f, l)] {
                probes.push(Family::V6.addr(x));
            }
        }
        for ip in probes {
            let want = match ip {
                IpAddr::V4(a) => model_lookup(&v4, u128::from(u32::from(a))),
                IpAddr::V6(a) => match aliased_v4(a) {
                    Some(a4) => model_lookup(&v4, u128::from(u32::from(a4))),
                    None => model_lookup(&v6, u128::from(a)),
                },
            };
            let got: Option<ModelValue> = reader.lookup(ip).unwrap().decode().unwrap();
            prop_assert_eq!(got, want.map(|i| model_value(&values[i].1)), "{}", ip);
        }
    }
}

#[test]
fn mmdb_writer_refuses_overlapping_and_inverted_ranges() {
    let v = || Value::Bool(true);
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let mut w = MmdbWriter::new("Test-Overlap");
    w.insert(ip("10.0.0.0"), ip("10.0.0.255"), v()).unwrap();
    w.insert(ip("10.0.0.255"), ip("10.0.1.0"), v()).unwrap();
    match w.to_bytes() {
        Err(ExportError::Overlap { first, second }) => {
            assert_eq!(first, "10.0.0.0-10.0.0.255");
            assert_eq!(second, "10.0.0.255-10.0.1.0");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        w.insert(ip("10.0.0.9"), ip("10.0.0.1"), v()),
        Err(ExportError::InvalidRange(_))
    ));
    assert!(matches!(
        w.insert(ip("10.0.0.1"), ip("::1"), v()),
        Err(ExportError::InvalidRange(_))
    ));
}

#[test]
fn mmdb_record_size_grows_past_24_bits_and_a_fixed_one_too_small_is_refused() {
    // 300 records of 60 kB: a data section past 2^24 bytes, so records need 28 bits and the
    // top nibbles of the 28-bit layout carry data pointers.
    let pad = "x".repeat(60_000);
    let mut w = MmdbWriter::new("Test-Big");
    for i in 0..300u32 {
        let rec = Value::Map(vec![("pad".into(), Value::String(format!("{i:03}{pad}")))]);
        let a = IpAddr::V4(Ipv4Addr::from(i << 8));
        w.insert(a, a, rec).unwrap();
    }
    let (bytes, stats) = w.to_bytes().unwrap();
    assert!(stats.data_bytes > 1 << 24);
    assert_eq!(stats.record_size, 28);
    let reader = maxminddb::Reader::from_source(bytes.as_slice()).unwrap();
    reader.verify().unwrap();
    #[derive(Deserialize)]
    struct Rec {
        pad: String,
    }
    for i in 0..300u32 {
        let r: Rec = reader
            .lookup(IpAddr::V4(Ipv4Addr::from(i << 8)))
            .unwrap()
            .decode()
            .unwrap()
            .unwrap();
        assert_eq!(&r.pad[..3], format!("{i:03}"));
    }
    // A record size too small for the file is an error, not a corrupt file.
    let w = w.record_size(RecordSize::Bits24);
    assert!(matches!(w.to_bytes(), Err(ExportError::TooLarge(_))));
    let (bytes, _) = w.record_size(RecordSize::Bits32).to_bytes().unwrap();
    let reader = maxminddb::Reader::from_source(bytes.as_slice()).unwrap();
    let r: Rec = reader
        .lookup("0.0.255.0".parse().unwrap())
        .unwrap()
        .decode()
        .unwrap()
        .unwrap();
    assert_eq!(&r.pad[..3], "255");
}

#[test]
fn mmdb_pointers_of_every_size_read_back() {
    // Records of 20 kB each; every fourth record introduces a string the next three share,
    // so pointers reach offsets past 2 KiB and past 512 KiB (the 2-, 3- and 4-byte forms).
    let mut w = MmdbWriter::new("Test-Pointers");
    let n = 48u32;
    for i in 0..n {
        let rec = Value::Map(vec![
            (
                "pad".into(),
                Value::String(format!("{i:03}{}", "p".repeat(20_000))),
            ),
            ("group".into(), Value::String(format!("group-{}", i / 4))),
        ]);
        let a = IpAddr::V4(Ipv4Addr::from(i << 4));
        w.insert(a, a, rec).unwrap();
    }
    let (bytes, stats) = w.to_bytes().unwrap();
    assert!(stats.data_bytes > 526_336 + 20_000, "{}", stats.data_bytes);
    let reader = maxminddb::Reader::from_source(bytes.as_slice()).unwrap();
    reader.verify().unwrap();
    #[derive(Deserialize)]
    struct Rec {
        pad: String,
        group: String,
    }
    for i in 0..n {
        let r: Rec = reader
            .lookup(IpAddr::V4(Ipv4Addr::from(i << 4)))
            .unwrap()
            .decode()
            .unwrap()
            .unwrap();
        assert_eq!(r.group, format!("group-{}", i / 4));
        assert!(r.pad.starts_with(&format!("{i:03}")) && r.pad.len() == 20_003);
    }
    // Each group string is stored once and pointed at by the three records after it.
    let stored = bytes.windows(8).filter(|w| w == b"group-11").count();
    assert_eq!(stored, 1);
}

/// Inclusive ranges of a sorted list of CIDR blocks, joined where they touch.
fn joined(blocks: impl IntoIterator<Item = (u128, u128)>) -> Vec<(u128, u128)> {
    let mut out: Vec<(u128, u128)> = Vec::new();
    for (f, l) in blocks {
        match out.last_mut() {
            Some(p) if p.1 < u128::MAX && p.1 + 1 == f => p.1 = l,
            _ => out.push((f, l)),
        }
    }
    out
}

fn net_bounds(n: &IpNet) -> (u128, u128) {
    match n {
        IpNet::V4(n) => (
            u128::from(u32::from(n.network())),
            u128::from(u32::from(n.broadcast())),
        ),
        IpNet::V6(n) => (u128::from(n.network()), u128::from(n.broadcast())),
    }
}

/// Every category's addresses straight from the artifact: joined runs whose answer has it.
fn category_ranges(db: &Database, cat: Categories, family: Family) -> Vec<(u128, u128)> {
    joined(
        runs(db, family)
            .filter(|r| r.answer.categories().contains(cat))
            .map(|r| (r.first, r.last)),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// In a 10-bit space the minimal cover is known by brute force: a block belongs to it
    /// when it is inside the set and its parent is not.
    #[test]
    fn aggregate_equals_the_brute_force_minimal_cover(
        ranges in proptest::collection::vec((0u128..1024, 0u128..64), 0..12),
    ) {
        let ranges: Vec<(u128, u128)> = ranges.iter().map(|&(f, n)| (f, (f + n).min(1023))).collect();
        let mut member = [false; 1024];
        for &(f, l) in &ranges {
            for m in &mut member[f as usize..=l as usize] {
                *m = true;
            }
        }
        let full = |start: usize, len: u8| member[start..start + (1 << (10 - len))].iter().all(|&m| m);
        let mut want = Vec::new();
        for len in 0..=10u8 {
            for start in (0..1024).step_by(1 << (10 - len)) {
                let parent = start & !((1usize << (11 - len.max(1))) - 1);
                if full(start, len) && (len == 0 || !full(parent, len - 1)) {
                    want.push((start as u128, len));
                }
            }
        }
        want.sort_unstable();
        prop_assert_eq!(aggregate(ranges, 10), want);
    }

    /// In the full 128-bit space: sorted, aligned, disjoint blocks covering exactly the union,
    /// with no two sibling blocks left unmerged.
    #[test]
    fn aggregate_covers_exactly_and_minimally_in_128_bits(
        ranges in proptest::collection::vec((any::<u128>(), 0u32..128, any::<u128>()), 0..10),
    ) {
        let ranges: Vec<(u128, u128)> = ranges
            .iter()
            .map(|&(f, k, n)| (f, f.saturating_add(n >> k)))
            .collect();
        let blocks = aggregate(ranges.clone(), 128);
        let bounds: Vec<(u128, u128)> = blocks
            .iter()
            .map(|&(s, len)| (s, s | (u128::MAX.checked_shr(u32::from(len)).unwrap_or(0))))
            .collect();
        for (&(s, len), &(f, l)) in blocks.iter().zip(&bounds) {
            prop_assert_eq!(s, f);
            prop_assert!(len == 0 || s.trailing_zeros() >= 128 - u32::from(len));
            prop_assert!(l >= f);
        }
        for pair in blocks.windows(2) {
            let ((a, la), (b, lb)) = (pair[0], pair[1]);
            prop_assert!(a < b);
            // Siblings: same length, same parent.
            let siblings = la == lb && la > 0 && (a ^ b) == 1u128 << (128 - u32::from(la));
            prop_assert!(!siblings, "{:x}/{} and {:x}/{} should be one block", a, la, b, lb);
        }
        let mut want = ranges.clone();
        want.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::new();
        for (f, l) in want {
            match merged.last_mut() {
                Some(p) if p.1 == u128::MAX || f <= p.1 + 1 => p.1 = p.1.max(l),
                _ => merged.push((f, l)),
            }
        }
        prop_assert_eq!(joined(bounds), merged);
    }
}

#[test]
fn category_sets_hold_exactly_each_category_of_the_snapshot() {
    let db = snapshot_db();
    let sets = category_sets(&db, &[]);
    assert_eq!(sets.len(), Categories::NAMED.len());
    let mut nonempty = 0;
    for set in &sets {
        for family in Family::BOTH {
            let nets: Vec<IpNet> = match family {
                Family::V4 => set.v4.iter().map(|n| IpNet::V4(*n)).collect(),
                Family::V6 => set.v6.iter().map(|n| IpNet::V6(*n)).collect(),
            };
            let want = category_ranges(&db, set.category, family);
            nonempty += usize::from(!want.is_empty());
            assert_eq!(
                joined(nets.iter().map(net_bounds)),
                want,
                "{} {}",
                set.name,
                family.name()
            );
        }
    }
    assert!(
        nonempty >= 4,
        "only {nonempty} non-empty sets in the snapshot"
    );
    let only = category_sets(&db, &[Categories::VPN, Categories::TOR_EXIT]);
    assert_eq!(
        only.iter().map(|s| s.name).collect::<Vec<_>>(),
        ["vpn", "tor_exit"]
    );
}
