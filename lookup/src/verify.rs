//! The O(file) part of [`Database::verify`]: strings, records, the class table, and every trie
//! node and leaf against the one layout the builder writes.

use crate::database::{record_summary, Database};
use crate::error::OpenError;
use crate::format::trie::{has, inline_leaf, Node, MAX_SKIP, NODE};
use crate::format::{class, hot, leaf, rec, Section, NONE};
use crate::index::v4::V4;
use crate::index::v6::V6;
use crate::index::Family;

fn bad(section: Section, reason: impl Into<String>) -> OpenError {
    OpenError::corrupt(section.name(), reason)
}

/// Everything `verify` checks after the checksum.
pub(crate) fn contents(db: &Database) -> Result<(), OpenError> {
    strings(db)?;
    let summaries = records(db)?;
    classes(db)?;
    trie::<V4>(db, &summaries)?;
    trie::<V6>(db, &summaries)
}

/// String offsets ascend on char boundaries of a valid UTF-8 blob (open checked the ends).
fn strings(db: &Database) -> Result<(), OpenError> {
    let blob = std::str::from_utf8(db.raw_slice::<u8>(Section::StrBlob)).map_err(|e| {
        bad(
            Section::StrBlob,
            format!("invalid UTF-8 at byte {}", e.valid_up_to()),
        )
    })?;
    let offs: &[u32] = db.raw_slice(Section::StrOffsets);
    for (i, w) in offs.windows(2).enumerate() {
        if w[1] < w[0] || !blob.is_char_boundary(w[1] as usize) {
            return Err(bad(
                Section::StrOffsets,
                format!(
                    "string {i} ends at {} (not ascending or not a char boundary)",
                    w[1]
                ),
            ));
        }
    }
    Ok(())
}

/// Every record field in range and the hot column equal to the records; returns each record's summary class word.
fn records(db: &Database) -> Result<Vec<u32>, OpenError> {
    let string_ok = |i: u32| i == NONE || (i as usize) < db.string_count();
    let records: &[[u32; rec::WORDS]] = db.raw_slice(Section::Records);
    let mut summaries = Vec::with_capacity(records.len());
    for (i, r) in records.iter().enumerate() {
        let cvs = r[rec::COUNTRY_VERDICT_SCORE];
        let cc = [cvs as u8, (cvs >> 8) as u8];
        let country_ok = cc == [0, 0] || cc.iter().all(u8::is_ascii_uppercase);
        let ok = string_ok(r[rec::AS_ORG])
            && string_ok(r[rec::PROVIDER])
            && (r[rec::SOURCE_SET] == NONE || (r[rec::SOURCE_SET] as usize) < db.set_count())
            && r[rec::CATEGORIES] & !crate::Categories::KNOWN_BITS == 0
            && country_ok
            && (cvs >> 16) as u8 <= 3
            && (cvs >> 24) <= 100
            && (r[rec::CATEGORIES] != 0 || r[rec::LAST_SEEN] == NONE);
        if !ok {
            return Err(bad(
                Section::Records,
                format!("record {i} has a field out of range"),
            ));
        }
        summaries.push(record_summary(db, r));
    }
    // The hot column is the records' ASN and country, entry for entry (open checked its
    // length against the record count).
    let column: &[[u32; hot::WORDS]] = db.raw_slice(Section::Hot);
    if let Some(i) =
        (0..records.len()).find(|&i| column.get(i) != Some(&hot::of_record(&records[i])))
    {
        return Err(bad(
            Section::Hot,
            format!("entry {i} does not match record {i}'s ASN and country"),
        ));
    }
    Ok(summaries)
}

/// Class words use only the bits the format defines.
fn classes(db: &Database) -> Result<(), OpenError> {
    let known = crate::Categories::KNOWN_BITS;
    let classes: &[u32] = db.raw_slice(Section::Classes);
    for (i, &w) in classes.iter().enumerate() {
        let defined = class::encode(class::categories(w), class::weak(w), 3);
        if w & !defined != 0 || class::categories(w) & !known != 0 || class::weak(w) & !known != 0 {
            return Err(bad(
                Section::Classes,
                format!("class {i} ({w:#x}) has undefined bits"),
            ));
        }
    }
    Ok(())
}

/// A leaf value names an existing record, and a class that summarises that record (or the
/// escape class).
fn check_leaf(
    db: &Database,
    summaries: &[u32],
    v: u32,
    section: Section,
    what: impl Fn() -> String,
) -> Result<(), OpenError> {
    if v & NODE != 0 {
        return Err(bad(
            section,
            format!("{}: {v:#x} has the node flag (bit 31) set", what()),
        ));
    }
    let r = leaf::record(v) as usize;
    if r >= summaries.len() {
        return Err(bad(section, format!("{}: record {r} out of range", what())));
    }
    if leaf::class(v) != leaf::CLASS_IN_RECORD && db.class(v) != Some(summaries[r]) {
        return Err(bad(
            section,
            format!(
                "{}: class {} does not summarise record {r}",
                what(),
                leaf::class(v)
            ),
        ));
    }
    Ok(())
}

/// One family's trie: the roots in top-table order, then breadth-first, each node's children
/// right after those of the nodes before it and its leaves right after theirs; every node at a
/// depth where its guard and slots fit; every leaf valid.
fn trie<F: Family>(db: &Database, summaries: &[u32]) -> Result<(), OpenError> {
    let t = db.trie::<F>();
    let node_count = t.nodes.len();
    // Bits left below each node, known once its parent (or the top table) is checked.
    let mut shifts = vec![0u32; node_count];
    let mut next_node = 0usize;
    for (i, &e) in t.top.iter().enumerate() {
        if e & NODE == 0 {
            check_leaf(db, summaries, e, F::TOP, || format!("entry {i}"))?;
            continue;
        }
        if (e & !NODE) as usize != next_node {
            return Err(bad(
                F::TOP,
                format!(
                    "entry {i} refers to node {}, not {next_node} (roots are in address order)",
                    e & !NODE
                ),
            ));
        }
        shifts[next_node] = F::BITS - F::TOP_BITS;
        next_node += 1;
    }
    // After the entries, so that a bad entry is named rather than the spans derived from it.
    if crate::format::trie::spans(t.top) != t.spans {
        return Err(bad(F::SPANS, "does not match the top table"));
    }
    let mut next_leaf = 0u64;
    let layout = F::LAYOUT;
    for (i, words) in t.nodes.iter().enumerate() {
        let words = words.as_ref();
        let n = Node::decode(words, layout);
        let what = |why: &str| bad(F::NODES, format!("node {i}: {why}"));
        let shift = shifts[i];
        if shift == 0 {
            return Err(what("no parent refers to it"));
        }
        let (skip, guarded) = if n.skip != 0 {
            if n.skip >= shift || n.skip > MAX_SKIP || n.guard >> n.skip != 0 {
                return Err(what("bad guard"));
            }
            (n.skip, 1u32)
        } else {
            if n.guard != 0 {
                return Err(what("guard bits without a skip"));
            }
            (0, 0)
        };
        let st = (shift - skip).min(layout.stride);
        let slots = 1u32 << st;
        // Bitmap bits past the node's slots, a slot both child and leaf, and the first leaf
        // slot, which must start a run.
        let mut first_leaf = None;
        for w in 0..layout.bitmap_words {
            let live = slots.saturating_sub(64 * w as u32).min(64);
            let mask = if live == 64 {
                u64::MAX
            } else {
                (1u64 << live) - 1
            };
            if n.vector[w] & !mask != 0 || n.leafvec[w] & !mask != 0 {
                return Err(what("slot bits past its stride"));
            }
            if n.vector[w] & n.leafvec[w] != 0 {
                return Err(what("a slot is both a child and a leaf"));
            }
            let leaf_slots = mask & !n.vector[w];
            if first_leaf.is_none() && leaf_slots != 0 {
                first_leaf = Some(64 * w as u32 + leaf_slots.trailing_zeros());
            }
        }
        if first_leaf.is_some_and(|s| !has(&n.leafvec, s)) {
            return Err(what("its first leaf slot starts no run"));
        }
        let children: u32 = n.vector.iter().map(|w| w.count_ones()).sum();
        let children = children as usize;
        if children > 0 {
            let child_shift = shift - skip - st;
            if child_shift == 0 {
                return Err(what("children below the last address bit"));
            }
            if n.child_base as usize != next_node || next_node <= i {
                return Err(what(&format!(
                    "children at {}, expected {next_node} (breadth-first, after the node)",
                    n.child_base
                )));
            }
            if next_node + children > node_count {
                return Err(what("children past the end"));
            }
            shifts[next_node..next_node + children].fill(child_shift);
            next_node += children;
        } else if n.child_base != 0 {
            // Unused, and zero as written, like the unused inline slots.
            return Err(what(&format!(
                "child base {} without children",
                n.child_base
            )));
        }
        if u64::from(n.leaf_base) != next_leaf {
            return Err(what(&format!(
                "leaves at {}, expected {next_leaf}",
                n.leaf_base
            )));
        }
        // Its leaves: the first inline (the unused inline slots zero), the rest overflowing
        // into the leaf array.
        let count: u32 = n.leafvec.iter().map(|w| w.count_ones()).sum::<u32>() + guarded;
        for k in 0..layout.inline() as u32 {
            let v = inline_leaf(words, layout, k).unwrap_or(0);
            if k < count {
                check_leaf(db, summaries, v, F::NODES, || format!("node {i} leaf {k}"))?;
            } else if v != 0 {
                return Err(what("an unused inline leaf slot is not zero"));
            }
        }
        next_leaf += u64::from(count.saturating_sub(layout.inline() as u32));
    }
    if next_node != node_count {
        return Err(bad(
            F::NODES,
            format!("{} nodes but {next_node} are referred to", node_count),
        ));
    }
    if next_leaf != t.leaves.len() as u64 {
        return Err(bad(
            F::LEAVES,
            format!(
                "{} leaves but the nodes account for {next_leaf}",
                t.leaves.len()
            ),
        ));
    }
    for (i, &v) in t.leaves.iter().enumerate() {
        check_leaf(db, summaries, v, F::LEAVES, || format!("leaf {i}"))?;
    }
    Ok(())
}
