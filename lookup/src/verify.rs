//! The O(file) part of [`Database::verify`]: every tree's layout, key order, padding and value
//! indices.

use crate::database::Database;
use crate::error::OpenError;
use crate::format::tree::{self, Key};
use crate::format::{self, Section};

fn bad(section: Section, reason: String) -> OpenError {
    OpenError::corrupt(section.name(), reason)
}

/// Checks the tree referenced by `r` in `keys`: keys strictly ascending within `[lo, hi]`,
/// padding after them, internal nodes exactly as [`tree::layout`] lays them out; returns its
/// `n + 1` values.
fn check_tree<K: Key>(
    db: &Database,
    (keys_sec, values_sec): (Section, Section),
    r: u32,
    (lo, hi): (K, K),
) -> Result<&[u32], OpenError> {
    let keys: &[K] = db.raw_slice(keys_sec);
    let values: &[u32] = db.raw_slice(values_sec);
    let what = || format!("tree {r:#x}");
    let (root, height) = db
        .tree_root::<K>(keys_sec, r)
        .ok_or_else(|| bad(keys_sec, format!("{} is out of range", what())))?;
    let b = K::PER_LINE;
    // The leaf area: the leaf itself, or the lines after the leftmost descent.
    let (first, n) = if height == 1 {
        let width = tree::leaf_width::<K>((r >> tree::LEAF_CLASS_SHIFT) & 3);
        let slots = &keys[root..root + width];
        let n = slots.iter().take_while(|&&k| k != K::PAD).count();
        if n >= width || slots[n..].iter().any(|&k| k != K::PAD) {
            return Err(bad(
                keys_sec,
                format!(
                    "{}: leaf has no room for its last value or bad padding",
                    what()
                ),
            ));
        }
        (root, n)
    } else {
        let mut at = root;
        for _ in 1..height {
            let d = keys
                .get(at + b - 1)
                .map(|&k| k.to_distance())
                .unwrap_or(usize::MAX);
            at = d
                .checked_mul(b)
                .and_then(|d| at.checked_add(d))
                .filter(|&a| a < keys.len())
                .ok_or_else(|| bad(keys_sec, format!("{}: child pointer out of range", what())))?;
        }
        let n = keys[at..].iter().take_while(|&&k| k != K::PAD).count();
        let layout = tree::layout(&keys[at..at + n]).ok_or_else(|| {
            bad(
                keys_sec,
                format!("{}: {n} keys do not make a multi-level tree", what()),
            )
        })?;
        let stored = keys.get(root..root + layout.slots.len());
        if layout.height != height
            || root + layout.first_leaf * b != at
            || stored != Some(&layout.slots[..])
        {
            return Err(bad(
                keys_sec,
                format!("{}: nodes differ from the layout of its keys", what()),
            ));
        }
        (at, n)
    };
    let mut prev: Option<K> = None;
    for &k in &keys[first..first + n] {
        if k < lo || k > hi || prev.is_some_and(|p| k <= p) {
            return Err(bad(
                keys_sec,
                format!("{}: key {k:?} out of order or range", what()),
            ));
        }
        prev = Some(k);
    }
    values
        .get(first..=first + n)
        .ok_or_else(|| bad(values_sec, format!("{}: values run past the end", what())))
}

pub(crate) fn trees(db: &Database) -> Result<(), OpenError> {
    let records = db.record_count() as u32;
    let rec_ok = |v: u32, s: Section| {
        if v < records {
            Ok(())
        } else {
            Err(bad(s, format!("record {v} out of range")))
        }
    };

    let v4 = (Section::V4Keys, Section::V4Values);
    let top: &[u32] = db.raw_slice(Section::V4Top);
    for &e in top.iter().filter(|&&e| e & format::TOP_DIRECT == 0) {
        for &v in check_tree::<u16>(db, v4, e, (0, u16::MAX - 1))? {
            rec_ok(v, Section::V4Values)?;
        }
    }

    let v6 = (Section::V6Keys, Section::V6Values);
    let sub = (Section::V6SubKeys, Section::V6SubValues);
    let top: &[u32] = db.raw_slice(Section::V6Top);
    for (c, &e) in top.iter().enumerate() {
        if e & format::TOP_DIRECT != 0 {
            continue;
        }
        let floor = (c as u64) << 48;
        for &v in check_tree::<u64>(db, v6, e, (floor, floor | ((1 << 48) - 2)))? {
            if v & format::V6_SUB == 0 {
                rec_ok(v, Section::V6Values)?;
                continue;
            }
            // A reference that names no sub-tree is the value's fault, not the sub-keys' (as
            // open blames a top entry, not the keys, for a tree outside them).
            let r = v & !format::V6_SUB;
            if db.tree_root::<u64>(sub.0, r).is_none() {
                return Err(bad(
                    v6.1,
                    format!(
                        "value {v:#x} refers to a sub-tree outside '{}'",
                        sub.0.name()
                    ),
                ));
            }
            for &w in check_tree::<u64>(db, sub, r, (0, u64::MAX - 1))? {
                rec_ok(w, Section::V6SubValues)?;
            }
        }
    }
    Ok(())
}
