//! `ipsieve diff` on real data: the vendored snapshot against a variant of it (one source left
//! out, another cut to half its lines), checked against counts computed straight from the
//! source files, against lookups address by address, and through the command line's
//! `--max-shrink` exit codes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ipsieve::{Categories, Database};
use ipsieve_builder::diff::{diff, Amount, Diff, KeyKind};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::walk::{self, Family};
use ipsieve_builder::{load, Builder};

use crate::cli::bin;
use crate::snapshot::manifest_path;

/// The source the variant leaves out, and the one it cuts to the first half of its lines.
const DROPPED: &str = "google-cloud";
const HALVED: &str = "vpn-windscribe";

/// A fresh, empty temporary directory for this test run.
pub(crate) fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipsieve-diff-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a copy of the vendored manifest to `dir/sources.toml` with every path made absolute,
/// after `edit` has seen each source table (returning false drops the source).
pub(crate) fn manifest_variant(
    dir: &Path,
    mut edit: impl FnMut(&mut toml::Table) -> bool,
) -> PathBuf {
    let original = manifest_path();
    let base = original.parent().unwrap().canonicalize().unwrap();
    let mut doc: toml::Table = std::fs::read_to_string(&original).unwrap().parse().unwrap();
    let sources = doc["source"].as_array_mut().unwrap();
    for s in sources.iter_mut() {
        let t = s.as_table_mut().unwrap();
        if let Some(p) = t.get("path").and_then(|p| p.as_str()) {
            let abs = base.join(p).display().to_string();
            t.insert("path".into(), toml::Value::String(abs));
        }
    }
    sources.retain_mut(|s| edit(s.as_table_mut().unwrap()));
    let path = dir.join("sources.toml");
    std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
    path
}

/// The variant: [`DROPPED`] left out, [`HALVED`] read from a copy holding the first half of
/// its lines.
fn variant_manifest(dir: &Path) -> PathBuf {
    manifest_variant(dir, |t| {
        let name = t["name"].as_str().unwrap().to_owned();
        if name == DROPPED {
            return false;
        }
        if name == HALVED {
            let from = PathBuf::from(t["path"].as_str().unwrap());
            let lines: Vec<String> = ipsieve_sources::input::open(&from)
                .unwrap()
                .lines()
                .map(Result::unwrap)
                .collect();
            let half = dir.join("half.txt");
            let mut f = std::fs::File::create(&half).unwrap();
            for l in &lines[..lines.len() / 2] {
                writeln!(f, "{l}").unwrap();
            }
            t.insert(
                "path".into(),
                toml::Value::String(half.display().to_string()),
            );
        }
        true
    })
}

/// Builds a manifest's artifact with the library.
fn build(manifest: &Path) -> Vec<u8> {
    let mut b = Builder::new().build_time(1_750_000_000);
    load::load_manifest(&Manifest::load(manifest).unwrap(), &mut b, |_| {}).unwrap();
    b.compile().unwrap().bytes
}

/// The snapshot and the variant: manifests and artifacts, built once per test run.
struct Pair {
    old_manifest: PathBuf,
    new_manifest: PathBuf,
    old: Vec<u8>,
    new: Vec<u8>,
    /// The artifacts as files, for the command line.
    old_file: PathBuf,
    new_file: PathBuf,
}

fn pair() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let dir = tmp("pair");
        let new_manifest = variant_manifest(&dir);
        let old_manifest = manifest_path();
        let (old, new) = (build(&old_manifest), build(&new_manifest));
        let (old_file, new_file) = (dir.join("old.ipsieve"), dir.join("new.ipsieve"));
        std::fs::write(&old_file, &old).unwrap();
        std::fs::write(&new_file, &new).unwrap();
        Pair {
            old_manifest,
            new_manifest,
            old,
            new,
            old_file,
            new_file,
        }
    })
}

fn the_diff() -> &'static Diff {
    static DIFF: OnceLock<Diff> = OnceLock::new();
    DIFF.get_or_init(|| {
        let p = pair();
        let old = Database::from_bytes(&p.old).unwrap();
        let new = Database::from_bytes(&p.new).unwrap();
        diff(&old, &new, 20)
    })
}

/// Sorted, disjoint inclusive ranges, adjacent ones joined.
pub(crate) type Set = Vec<(u128, u128)>;

/// Per (kind, name), per family (IPv4, IPv6): the addresses under a category or source.
pub(crate) type Reference = BTreeMap<(KeyKind, String), [Set; 2]>;

fn normalise(mut v: Vec<(u128, u128)>) -> Set {
    v.sort_unstable();
    let mut out: Set = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// `a` without `b`.
fn minus(a: &Set, b: &Set) -> Set {
    let mut out = Vec::new();
    for &(lo, hi) in a {
        let mut x = lo;
        let mut done = false;
        for &(blo, bhi) in b.iter().filter(|r| r.1 >= lo && r.0 <= hi) {
            if blo > x {
                out.push((x, blo - 1));
            }
            if bhi >= hi {
                done = true;
                break;
            }
            x = x.max(bhi + 1);
        }
        if !done {
            out.push((x, hi));
        }
    }
    out
}

pub(crate) fn amount(s: &Set) -> Amount {
    Amount {
        ranges: s.len() as u64,
        addresses: s.iter().map(|r| r.1 - r.0 + 1).sum(),
    }
}

/// Per (kind, name): the addresses a manifest's sources put under that category or source,
/// per family, read by loading each source on its own and taking the ranges it added.
pub(crate) fn reference(manifest: &Path) -> Reference {
    let m = Manifest::load(manifest).unwrap();
    let mut raw: Reference = BTreeMap::new();
    for entry in m.enabled() {
        let mut b = Builder::new();
        load::load_source(entry, &mut b).unwrap();
        let v4: Vec<(u128, u128)> = b
            .ranges_v4()
            .map(|r| (u32::from(*r.start()).into(), u32::from(*r.end()).into()))
            .collect();
        let v6: Vec<(u128, u128)> = b
            .ranges_v6()
            .map(|r| (u128::from(*r.start()), u128::from(*r.end())))
            .collect();
        let mut keys = vec![(KeyKind::Source, entry.name.clone())];
        for c in &entry.categories {
            keys.push((KeyKind::Category, c.clone()));
            keys.push((KeyKind::Any, "any".to_owned()));
        }
        for k in keys {
            let sets = raw.entry(k).or_default();
            sets[0].extend(&v4);
            sets[1].extend(&v6);
        }
    }
    raw.into_iter()
        .map(|(k, [a, b])| (k, [normalise(a), normalise(b)]))
        .collect()
}

fn references() -> &'static [Reference; 2] {
    static REFS: OnceLock<[Reference; 2]> = OnceLock::new();
    REFS.get_or_init(|| {
        let p = pair();
        [reference(&p.old_manifest), reference(&p.new_manifest)]
    })
}

/// The reference sets of a key in one family, before and after.
fn sets(kind: KeyKind, name: &str, family: usize) -> (Set, Set) {
    let [old, new] = references();
    let key = (kind, name.to_owned());
    let get = |m: &Reference| m.get(&key).map(|s| s[family].clone()).unwrap_or_default();
    (get(old), get(new))
}

/// The shrink of a key in one family computed from the reference, in percent.
fn reference_shrink(kind: KeyKind, name: &str, family: usize) -> f64 {
    let (old, new) = sets(kind, name, family);
    let (o, n) = (amount(&old).addresses, amount(&new).addresses);
    if o == 0 || n >= o {
        0.0
    } else {
        (o - n) as f64 * 100.0 / o as f64
    }
}

#[test]
fn counts_match_the_source_files() {
    let d = the_diff();
    let [old_ref, new_ref] = references();
    let keys: BTreeSet<&(KeyKind, String)> = old_ref.keys().chain(new_ref.keys()).collect();
    let mut checked = 0;
    for (kind, name) in keys {
        let k = d.key(*kind, name);
        for (fi, family) in Family::BOTH.into_iter().enumerate() {
            let (old, new) = sets(*kind, name, fi);
            // A source that adds no ranges (AS names) matches no address.
            let Some(k) = k else {
                assert!(old.is_empty() && new.is_empty(), "{kind:?} {name} missing");
                continue;
            };
            let f = k.family(family);
            let what = format!("{kind:?} {name} {family:?}");
            assert_eq!(f.old, amount(&old), "{what}: old");
            assert_eq!(f.new, amount(&new), "{what}: new");
            assert_eq!(f.added, amount(&minus(&new, &old)), "{what}: added");
            assert_eq!(f.removed, amount(&minus(&old, &new)), "{what}: removed");
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} key families compared");
    // Every category and source the diff lists is one the inputs speak of, or covers nothing.
    for k in d.keys.iter().filter(|k| k.kind != KeyKind::Provider) {
        let known = old_ref.contains_key(&(k.kind, k.name.clone()))
            || new_ref.contains_key(&(k.kind, k.name.clone()));
        let empty = k.v4.old.addresses + k.v4.new.addresses == 0
            && k.v6.old.addresses + k.v6.new.addresses == 0;
        assert!(known || empty, "{k:?}");
    }
    // The variant really lost the dropped source and half of the halved one.
    let dropped = d.key(KeyKind::Source, DROPPED).unwrap();
    assert!(dropped.v4.old.addresses > 0 && dropped.v4.new.addresses == 0);
    assert_eq!(dropped.v4.removed, dropped.v4.old);
    assert_eq!(dropped.v4.added, Amount::default());
    let halved = d.key(KeyKind::Source, HALVED).unwrap();
    assert!(halved.v4.removed.addresses > 0);
    assert!(halved.v4.new.addresses > 0);
    // Sources the variant did not touch are unchanged.
    let untouched = d
        .of_kind(KeyKind::Source)
        .filter(|k| k.name != DROPPED && k.name != HALVED)
        .inspect(|k| assert!(k.is_unchanged(), "{k:?}"))
        .count();
    assert!(untouched > 5, "{untouched}");
}

/// The halved source's lost addresses, one lookup at a time in both artifacts.
#[test]
fn removed_addresses_agree_with_lookups_one_by_one() {
    let p = pair();
    let old = Database::from_bytes(&p.old).unwrap();
    let new = Database::from_bytes(&p.new).unwrap();
    let (mut lost, mut kept) = (0u128, 0u128);
    let (before, _) = sets(KeyKind::Source, HALVED, 0);
    for &(lo, hi) in &before {
        for x in lo..=hi {
            let ip = IpAddr::V4(Ipv4Addr::from(x as u32));
            assert!(old.lookup(ip).sources().any(|s| s == HALVED), "{ip}");
            if new.lookup(ip).sources().any(|s| s == HALVED) {
                kept += 1;
            } else {
                lost += 1;
            }
        }
    }
    let k = the_diff().key(KeyKind::Source, HALVED).unwrap();
    assert_eq!(k.v4.removed.addresses, lost);
    assert_eq!(k.v4.new.addresses, kept);
    assert_eq!(k.v4.added.addresses, 0);
}

/// Each of the largest changes is a real, uniform change at its first, middle and last
/// address, and the list is ordered by size.
#[test]
fn largest_changes_are_real() {
    let p = pair();
    let old = Database::from_bytes(&p.old).unwrap();
    let new = Database::from_bytes(&p.new).unwrap();
    let d = the_diff();
    for list in [&d.largest_v4, &d.largest_v6] {
        assert_eq!(list.len(), 20, "the variant changes more than 20 blocks");
        assert!(list.windows(2).all(|w| w[0].addresses >= w[1].addresses));
        let mut nets: Vec<_> = list.iter().map(|c| c.net).collect();
        nets.sort();
        nets.dedup();
        assert_eq!(nets.len(), list.len(), "a block listed twice");
        for c in list {
            let (lo, hi) = (c.net.network(), c.net.broadcast());
            let mid = match (lo, hi) {
                (IpAddr::V4(a), IpAddr::V4(b)) => {
                    let (a, b) = (u32::from(a), u32::from(b));
                    IpAddr::V4(Ipv4Addr::from(a + (b - a) / 2))
                }
                (IpAddr::V6(a), IpAddr::V6(b)) => {
                    let (a, b) = (u128::from(a), u128::from(b));
                    IpAddr::V6(Ipv6Addr::from(a + (b - a) / 2))
                }
                _ => unreachable!(),
            };
            let size_log = u32::from(c.net.max_prefix_len() - c.net.prefix_len());
            assert_eq!(c.addresses, 1u128 << size_log, "{}", c.net);
            for ip in [lo, mid, hi] {
                let (a, b) = (old.lookup(ip), new.lookup(ip));
                let (ca, cb) = (a.categories(), b.categories());
                assert_eq!(
                    Categories::from_bits(cb.bits() & !ca.bits()),
                    c.categories_added,
                    "{ip}"
                );
                assert_eq!(
                    Categories::from_bits(ca.bits() & !cb.bits()),
                    c.categories_removed,
                    "{ip}"
                );
                for s in &c.sources_removed {
                    assert!(a.sources().any(|x| x == s) && !b.sources().any(|x| x == s));
                }
                for s in &c.sources_added {
                    assert!(!a.sources().any(|x| x == s) && b.sources().any(|x| x == s));
                }
                let provider = (a.provider() != b.provider()).then(|| {
                    (
                        a.provider().map(str::to_owned),
                        b.provider().map(str::to_owned),
                    )
                });
                assert_eq!(provider, c.provider, "{ip}");
            }
        }
        // The largest listed block is the largest aligned block inside any changed run: the
        // dropped source's space, where it was the only categorised source.
        let (old_set, new_set) = sets(
            KeyKind::Any,
            "any",
            usize::from(list[0].net.max_prefix_len() == 128),
        );
        let bits = list[0].net.max_prefix_len();
        let largest = minus(&old_set, &new_set)
            .iter()
            .flat_map(|&(a, b)| walk::cidrs(a, b, bits))
            .map(|(_, len)| bits - len)
            .max()
            .unwrap();
        assert!(
            list[0].addresses >= 1u128 << largest,
            "{}: a block of 2^{largest} lost its category",
            list[0].net
        );
    }
}

/// Against itself an artifact is unchanged, and its coverage per category is what the
/// compiler counted.
#[test]
fn an_artifact_against_itself_is_unchanged_and_matches_the_build_stats() {
    let mut b = Builder::new().build_time(1_750_000_000);
    load::load_manifest(&Manifest::load(&manifest_path()).unwrap(), &mut b, |_| {}).unwrap();
    let compiled = b.compile().unwrap();
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    let d = diff(&db, &db, 20);
    assert!(d
        .keys
        .iter()
        .all(|k| k.is_unchanged() && k.v4.old == k.v4.new));
    assert!(d.largest_v4.is_empty() && d.largest_v6.is_empty());
    assert!(d.shrinks(0.0).is_empty());
    for (name, c) in &compiled.stats.per_category {
        let k = d.key(KeyKind::Category, name).unwrap();
        assert_eq!(k.v4.old.addresses, u128::from(c.v4_addresses), "{name}");
        assert_eq!(k.v6.old.addresses, c.v6_addresses, "{name}");
    }
}

/// The walk covers each family without gap or overlap, joins pieces of one record, and every
/// run answers like a lookup inside it.
#[test]
fn walk_covers_each_family_once() {
    let db = Database::from_bytes(&pair().old).unwrap();
    let mut rng_state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = || {
        // xorshift64*: a fixed sequence, so a failure replays.
        rng_state ^= rng_state >> 12;
        rng_state ^= rng_state << 25;
        rng_state ^= rng_state >> 27;
        rng_state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    for family in Family::BOTH {
        let runs: Vec<_> = walk::runs(&db, family).collect();
        assert_eq!(runs[0].first, 0);
        assert_eq!(runs.last().unwrap().last, family.last());
        for w in runs.windows(2) {
            let gap = family == Family::V6 && w[0].last + 1 == walk::MAPPED_FIRST;
            let want = if gap {
                walk::MAPPED_LAST + 1
            } else {
                w[0].last + 1
            };
            assert_eq!(w[1].first, want, "{family:?}");
            // Neighbours differ, except across the gap the walk leaves for ::ffff:0:0/96.
            let same = std::ptr::eq(w[0].answer.record_words(), w[1].answer.record_words());
            assert!(
                !same || gap,
                "{family:?} {:#x}: pieces not joined",
                w[1].first
            );
        }
        for r in runs.iter().step_by(7) {
            let span = r.last - r.first;
            let x = r.first + u128::from(next()) % span.saturating_add(1).max(1);
            let x = x.min(r.last);
            let a = db.lookup(family.addr(x));
            assert!(std::ptr::eq(a.record_words(), r.answer.record_words()));
        }
    }
    // The merge of an artifact with itself is its own runs.
    for family in Family::BOTH {
        let runs: Vec<(u128, u128)> = walk::runs(&db, family).map(|r| (r.first, r.last)).collect();
        let pairs: Vec<(u128, u128)> = walk::merge(&db, &db, family)
            .map(|p| (p.first, p.last))
            .collect();
        assert_eq!(runs, pairs);
    }
}

fn run_diff(args: &[&str]) -> std::process::Output {
    let p = pair();
    bin()
        .arg("diff")
        .arg(&p.old_file)
        .arg(&p.new_file)
        .args(args)
        .output()
        .unwrap()
}

/// The (kind, name, family) each failing run names on standard error.
fn named(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter(|l| l.contains(" lost "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let family = w.iter().position(|x| *x == "its").map(|i| w[i + 1]);
            format!("{} {} {}", w[1], w[2], family.unwrap())
        })
        .collect()
}

/// What the reference says must be named at threshold `pct`.
fn expected(pct: f64) -> BTreeSet<String> {
    let [old_ref, _] = references();
    let mut out = BTreeSet::new();
    for (kind, name) in old_ref.keys() {
        if !matches!(kind, KeyKind::Category | KeyKind::Source) {
            continue;
        }
        for (fi, family) in ["IPv4", "IPv6"].into_iter().enumerate() {
            if reference_shrink(*kind, name, fi) > pct {
                out.insert(format!("{} {name} {family}", kind.as_str()));
            }
        }
    }
    out
}

#[test]
fn max_shrink_fails_the_run_naming_each_offender() {
    let halved = reference_shrink(KeyKind::Source, HALVED, 0);
    assert!(halved > 0.0 && halved < 100.0, "{halved}");
    // Every threshold up to the halved source's shrink names at least it; past it, only the
    // dropped source (and any category it emptied that much) remains; at 100 nothing fails.
    for pct in [0.0, halved / 2.0, (halved + 100.0) / 2.0] {
        let out = run_diff(&["--max-shrink", &pct.to_string()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--max-shrink {pct}: {stderr}");
        let want = expected(pct);
        assert!(want.contains(&format!("source {DROPPED} IPv4")), "{want:?}");
        assert_eq!(named(&stderr), want, "--max-shrink {pct}: {stderr}");
        assert!(stderr.contains("keep the old one"), "{stderr}");
    }
    assert!(expected(halved / 2.0).contains(&format!("source {HALVED} IPv4")));
    assert!(!expected((halved + 100.0) / 2.0).contains(&format!("source {HALVED} IPv4")));

    let out = run_diff(&["--max-shrink", "100"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("shrink guard: no category or source lost more than 100%"));
    // The other way round nothing shrank, it only grew.
    let p = pair();
    let out = bin()
        .arg("diff")
        .arg(&p.new_file)
        .arg(&p.old_file)
        .args(["--max-shrink", "0"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the guard a shrink is reported, not failed.
    assert!(run_diff(&[]).status.success());
    let bad = run_diff(&["--max-shrink", "150"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a percentage"));
}

#[test]
fn text_names_every_change() {
    let out = run_diff(&["--top", "5"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let d = the_diff();
    let dropped = d.key(KeyKind::Source, DROPPED).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(DROPPED))
        .unwrap_or_else(|| panic!("no line for {DROPPED}:\n{text}"));
    assert!(
        line.contains(&format!(
            "addresses {} → 0 (+0, -{})",
            dropped.v4.old.addresses, dropped.v4.removed.addresses
        )),
        "{line}"
    );
    let top = text
        .split("largest changes, IPv4 (top 5):\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .collect::<Vec<_>>();
    assert_eq!(top.len(), 5, "{text}");
    assert!(
        top[0].starts_with(&format!("  {}", d.largest_v4[0].net)),
        "{}",
        top[0]
    );
}

#[test]
fn json_carries_the_numbers() {
    let out = run_diff(&["--json", "--max-shrink", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = the_diff();
    let find = |list: &str, name: &str| -> serde_json::Value {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap_or_else(|| panic!("{list} {name}"))
            .clone()
    };
    for (list, kind) in [
        ("categories", KeyKind::Category),
        ("sources", KeyKind::Source),
        ("providers", KeyKind::Provider),
    ] {
        assert_eq!(
            v[list].as_array().unwrap().len(),
            d.of_kind(kind).count(),
            "{list}"
        );
        for k in d.of_kind(kind) {
            let j = find(list, &k.name);
            assert_eq!(j["ipv4"]["old_addresses"], k.v4.old.addresses as u64);
            assert_eq!(j["ipv4"]["removed_ranges"], k.v4.removed.ranges);
            assert_eq!(j["ipv4"]["added_addresses"], k.v4.added.addresses as u64);
            assert_eq!(j["ipv6"]["old_addresses"], k.v6.old.addresses.to_string());
            assert_eq!(
                j["ipv6"]["removed_addresses"],
                k.v6.removed.addresses.to_string()
            );
        }
    }
    let (old, new) = sets(KeyKind::Source, DROPPED, 1);
    assert_eq!(
        find("sources", DROPPED)["ipv6"]["removed_addresses"],
        amount(&minus(&old, &new)).addresses.to_string()
    );
    assert_eq!(v["largest"]["ipv4"].as_array().unwrap().len(), 20);
    assert_eq!(
        v["largest"]["ipv4"][0]["net"],
        d.largest_v4[0].net.to_string()
    );
    let shrinks: BTreeSet<String> = v["shrinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let family = if s["family"] == "ipv4" {
                "IPv4"
            } else {
                "IPv6"
            };
            format!(
                "{} {} {family}",
                s["kind"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(shrinks, expected(0.0));
    assert_eq!(v["old"]["build_time"], 1_750_000_000);
    assert!(v["old"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == DROPPED));
    assert!(!v["new"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == DROPPED));
}
