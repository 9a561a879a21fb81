//! Writing one family's trie (layout in [`ipsieve::format::trie`]) from its disjoint ranges.

use std::collections::VecDeque;

use ipsieve::format::trie::{
    Node, NodeLayout, MAX_SKIP, NODE, V4_NODE, V4_TOP_BITS, V6_NODE, V6_TOP_BITS,
};

use crate::error::BuildError;

/// One family's index, ready to serialise.
#[derive(Debug, Default)]
pub(crate) struct Trie {
    /// The direct table.
    pub top: Vec<u32>,
    /// Node words, the layout's `words` per node.
    pub nodes: Vec<u64>,
    /// Leaf values.
    pub leaves: Vec<u32>,
    /// Per top entry, the log2 of its uniform aligned block ([`spans`]).
    pub spans: Vec<u8>,
}

/// A node waiting to be written: the block `[lo, lo + 2^shift)`, whose change points (range
/// starts strictly inside it) are `starts[first..end]`.
struct Pending {
    lo: u128,
    shift: u32,
    first: usize,
    end: usize,
}

/// The family's ranges as parallel arrays: `starts[i]` begins a range of leaf value `values[i]`.
struct Ranges<'a> {
    starts: &'a [u128],
    values: &'a [u32],
}

impl Ranges<'_> {
    /// Index of the range holding `p`.
    fn at(&self, p: u128) -> usize {
        self.starts.partition_point(|&s| s <= p) - 1
    }
    /// Indices of the change points in `(lo, hi]`, as a half-open index range.
    fn inside(&self, lo: u128, hi: u128) -> (usize, usize) {
        (
            self.starts.partition_point(|&s| s <= lo),
            self.starts.partition_point(|&s| s <= hi),
        )
    }
}

/// The IPv4 trie of `ranges` (see [`encode`]).
pub(crate) fn encode_v4(ranges: &[(u128, u32)]) -> Result<Trie, BuildError> {
    encode(ranges, 32, V4_TOP_BITS, V4_NODE)
}

/// The IPv6 trie of `ranges` (see [`encode`]).
pub(crate) fn encode_v6(ranges: &[(u128, u32)]) -> Result<Trie, BuildError> {
    encode(ranges, 128, V6_TOP_BITS, V6_NODE)
}

/// Encodes the trie of a `bits`-bit family from `ranges`: `(start, leaf value)` pairs that
/// start at 0, ascend, and never repeat a value in neighbouring entries. Nodes are laid out as
/// `layout` says (stride, inline leaves, guard).
fn encode(
    ranges: &[(u128, u32)],
    bits: u32,
    top_bits: u32,
    layout: NodeLayout,
) -> Result<Trie, BuildError> {
    debug_assert_eq!(ranges.first().map(|r| r.0), Some(0));
    let starts: Vec<u128> = ranges.iter().map(|r| r.0).collect();
    let values: Vec<u32> = ranges.iter().map(|r| r.1).collect();
    let r = Ranges {
        starts: &starts,
        values: &values,
    };
    let mut out = Trie::default();
    let mut queue: VecDeque<Pending> = VecDeque::new();
    let mut assigned = 0usize;
    let top_shift = bits - top_bits;
    for t in 0..1u128 << top_bits {
        let lo = t << top_shift;
        let hi = lo + ((1u128 << top_shift) - 1);
        let (first, end) = r.inside(lo, hi);
        if first == end {
            out.top.push(values[r.at(lo)]);
        } else {
            out.top.push(NODE | node_index(assigned)?);
            assigned += 1;
            queue.push_back(Pending {
                lo,
                shift: top_shift,
                first,
                end,
            });
        }
    }
    out.spans = spans(&out.top);
    let mut leaves: Vec<u32> = Vec::with_capacity(257);
    while let Some(p) = queue.pop_front() {
        let mut node = Node::default();
        leaves.clear();
        let (mut lo, mut shift) = (p.lo, p.shift);
        let (mut first, mut end) = (p.first, p.end);
        if layout.guarded {
            if let Some((skip, q_lo)) = guard(&r, &p) {
                node.skip = skip;
                shift -= skip;
                node.guard = ((q_lo - lo) >> shift) as u64;
                leaves.push(values[r.at(lo)]);
                lo = q_lo;
                (first, end) = r.inside(lo, lo + ((1u128 << shift) - 1));
            }
        }
        // An unguarded node's block holds a change point; a guarded one's sub-block may be
        // one value (a range that is exactly an aligned block inside a uniform one).
        debug_assert!(node.skip > 0 || first < end);
        let st = shift.min(layout.stride);
        let slot_shift = shift - st;
        let mut previous: Option<u32> = None;
        let mut at = r.at(lo);
        let mut next_change = first;
        for slot in 0..1u32 << st {
            let s_lo = lo + (u128::from(slot) << slot_shift);
            let s_hi = s_lo + ((1u128 << slot_shift) - 1);
            while at + 1 < starts.len() && starts[at + 1] <= s_lo {
                at += 1;
            }
            while next_change < end && starts[next_change] <= s_lo {
                next_change += 1;
            }
            let mut inner_end = next_change;
            while inner_end < end && starts[inner_end] <= s_hi {
                inner_end += 1;
            }
            if inner_end > next_change {
                node.vector[(slot >> 6) as usize] |= 1 << (slot & 63);
                queue.push_back(Pending {
                    lo: s_lo,
                    shift: slot_shift,
                    first: next_change,
                    end: inner_end,
                });
            } else {
                let v = values[at];
                if previous != Some(v) {
                    node.leafvec[(slot >> 6) as usize] |= 1 << (slot & 63);
                    leaves.push(v);
                    previous = Some(v);
                }
            }
        }
        let children: usize = node.vector.iter().map(|w| w.count_ones() as usize).sum();
        if children > 0 {
            node.child_base = node_index(assigned)?;
            assigned += children;
            node_index(assigned)?;
        }
        node.leaf_base = u32::try_from(out.leaves.len())
            .map_err(|_| BuildError::TooLarge("more than 2^32 trie leaves".into()))?;
        out.leaves.extend(leaves.iter().skip(layout.inline()));
        out.nodes.extend(node.encode(layout, &leaves));
    }
    Ok(out)
}

/// For each entry of a top table, the largest `k` such that the aligned block of `2^k` entries
/// around it holds one leaf value in every entry (0 for a node entry). `ipsieve`'s `verify`
/// recomputes the same.
pub(crate) fn spans(top: &[u32]) -> Vec<u8> {
    ipsieve::format::trie::spans(top)
}

/// A node index, or an error past the format's 2^31 nodes.
fn node_index(i: usize) -> Result<u32, BuildError> {
    u32::try_from(i)
        .ok()
        .filter(|&i| i < NODE)
        .ok_or_else(|| BuildError::TooLarge("more than 2^31 trie nodes".into()))
}

/// The guard of a node's block, when it has one: if the block has the same value at both ends
/// and everything that differs from it lies in one aligned sub-block smaller than the block,
/// the bits to skip (as many as fit, up to [`MAX_SKIP`]) and the first address of the smallest
/// such sub-block of at least two addresses.
fn guard(r: &Ranges<'_>, p: &Pending) -> Option<(u32, u128)> {
    let hi = p.lo + ((1u128 << p.shift) - 1);
    let outside = r.values[r.at(p.lo)];
    if p.end - p.first < 2 || r.values[r.at(hi)] != outside {
        return None;
    }
    // Addresses whose value may differ from `outside`: from the first change point up to the
    // last one, exclusive (after it the value is `outside` again).
    let (c_min, c_max) = (r.starts[p.first], r.starts[p.end - 1]);
    let span = c_min ^ (c_max - 1);
    let needed = (128 - span.leading_zeros()).max(1);
    let skip = (p.shift - needed).min(MAX_SKIP);
    if skip == 0 {
        return None;
    }
    let q_shift = p.shift - skip;
    Some((skip, c_min >> q_shift << q_shift))
}
