//! The diff fixture and its oracle: the vendored snapshot against a variant of it (one source
//! left out, another cut to half its lines), and what each category and source covers in
//! either, computed straight from the source files by loading each source on its own.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ipsieve::Database;
use ipsieve_builder::diff::{diff, Amount, Diff, KeyKind};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder};

/// The source the variant leaves out, and the one it cuts to the first half of its lines.
pub const DROPPED: &str = "google-cloud";

pub const HALVED: &str = "vpn-windscribe";

/// The variant: [`DROPPED`] left out, [`HALVED`] read from a copy holding the first half of
/// its lines.
fn variant_manifest(dir: &Path) -> PathBuf {
    crate::snapshot::manifest_variant(dir, |t| {
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

/// The snapshot and the variant: manifests and artifacts, built once per test run.
#[derive(Debug)]
pub struct Pair {
    /// The snapshot's manifest.
    pub old_manifest: PathBuf,
    /// The variant's manifest.
    pub new_manifest: PathBuf,
    /// The snapshot's artifact.
    pub old: Vec<u8>,
    /// The variant's artifact.
    pub new: Vec<u8>,
    /// The artifacts as files, for the command line.
    pub old_file: PathBuf,
    /// The variant's artifact as a file.
    pub new_file: PathBuf,
}

pub fn pair() -> &'static Pair {
    static PAIR: OnceLock<Pair> = OnceLock::new();
    PAIR.get_or_init(|| {
        let dir = crate::fresh_dir("diff-pair");
        let new_manifest = variant_manifest(&dir);
        let old_manifest = crate::snapshot_manifest();
        let (old, new) = (
            crate::snapshot::build(&old_manifest),
            crate::snapshot::build(&new_manifest),
        );
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

pub fn the_diff() -> &'static Diff {
    static DIFF: OnceLock<Diff> = OnceLock::new();
    DIFF.get_or_init(|| {
        let p = pair();
        let old = Database::from_bytes(&p.old).unwrap();
        let new = Database::from_bytes(&p.new).unwrap();
        diff(&old, &new, 20)
    })
}

/// Sorted, disjoint inclusive ranges, adjacent ones joined.
pub type Set = Vec<(u128, u128)>;

/// Per (kind, name), per family (IPv4, IPv6): the addresses under a category or source.
pub type Reference = BTreeMap<(KeyKind, String), [Set; 2]>;

pub fn normalise(mut v: Vec<(u128, u128)>) -> Set {
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
pub fn minus(a: &Set, b: &Set) -> Set {
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

pub fn amount(s: &Set) -> Amount {
    Amount {
        ranges: s.len() as u64,
        addresses: s.iter().map(|r| r.1 - r.0 + 1).sum(),
    }
}

/// Per (kind, name): the addresses a manifest's sources put under that category or source,
/// per family, read by loading each source on its own and taking the ranges it added.
pub fn reference(manifest: &Path) -> Reference {
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

pub fn references() -> &'static [Reference; 2] {
    static REFS: OnceLock<[Reference; 2]> = OnceLock::new();
    REFS.get_or_init(|| {
        let p = pair();
        [reference(&p.old_manifest), reference(&p.new_manifest)]
    })
}

/// The reference sets of a key in one family, before and after.
pub fn sets(kind: KeyKind, name: &str, family: usize) -> (Set, Set) {
    let [old, new] = references();
    let key = (kind, name.to_owned());
    let get = |m: &Reference| m.get(&key).map(|s| s[family].clone()).unwrap_or_default();
    (get(old), get(new))
}
/// The shrink of a key in one family computed from the reference, in percent.
pub fn reference_shrink(kind: KeyKind, name: &str, family: usize) -> f64 {
    let (old, new) = sets(kind, name, family);
    let (o, n) = (amount(&old).addresses, amount(&new).addresses);
    if o == 0 || n >= o {
        0.0
    } else {
        (o - n) as f64 * 100.0 / o as f64
    }
}
