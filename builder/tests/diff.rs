//! The diff library on real data: the vendored snapshot against a variant of it (one source left
//! out, another cut to half its lines; testkit's diff fixture), checked against counts computed
//! straight from the source files and against lookups address by address; the walk and merge
//! it reads. The command line's `ipsieve diff` is tested in `cli/tests/diff.rs`.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsieve::{Categories, Database};
use ipsieve_builder::diff::{diff, Amount, KeyKind};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::walk::{self, Family};
use ipsieve_builder::{load, Builder};

use ipsieve_testkit::diff::{amount, minus, pair, references, sets, the_diff, DROPPED, HALVED};

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
    load::load_manifest(
        &Manifest::load(&ipsieve_testkit::snapshot_manifest()).unwrap(),
        &mut b,
        |_| {},
    )
    .unwrap();
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
