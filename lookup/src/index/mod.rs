//! The address index of one family: a direct table over the top bits, then a compressed
//! multibit trie (layout: [`crate::format::trie`]). One address's descent reads top to bottom
//! in [`Trie::lookup`] and [`Trie::step`]; [`v4`] and [`v6`] say what differs between the
//! families (widths, node size, guards).
//!
//! Lookups trust nothing beyond what open proved: every read is bounds-checked, every step
//! consumes at least one address bit (so a descent ends after at most 128 steps whatever the
//! file says), and a failed check answers leaf value 0, the empty answer.

pub(crate) mod v4;
pub(crate) mod v6;

use crate::format::trie::{
    any, has, inline_leaf, rank, upto, Node, NodeLayout, MAX_BITMAP_WORDS, NODE, SKIP_SHIFT,
};
use crate::format::Section;

/// What differs between the IPv4 and the IPv6 trie.
pub(crate) trait Family: Copy {
    /// An address as an integer.
    type Key: Copy;
    /// A node as stored: `[u64; 8]` or `[u64; 16]`.
    type Node: bytemuck::Pod + AsRef<[u64]>;
    /// Address width in bits.
    const BITS: u32;
    /// Bits of the direct table.
    const TOP_BITS: u32;
    /// The shape of the family's nodes.
    const LAYOUT: NodeLayout;
    /// The family's sections.
    const TOP: Section;
    /// The family's node section.
    const NODES: Section;
    /// The family's leaf section.
    const LEAVES: Section;
    /// The family's top-span section.
    const SPANS: Section;
    /// The `n` bits (1..=58) of `x` just below bit position `shift` (`n <= shift`).
    fn bits(x: Self::Key, shift: u32, n: u32) -> u64;
    /// The direct-table entry of `x`.
    fn top_index(x: Self::Key) -> usize;
    /// The family's trie among the sections sliced at open.
    fn trie<'a>(hot: &crate::database::Hot<'a>) -> Trie<'a, Self>;
    /// The family's address with integer value `x` (within the family's space).
    fn narrow(x: u128) -> Self::Key;
    /// The family's last address.
    const LAST: u128;
}

/// One step of a descent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Step {
    /// Go on at node `index`, with `shift` address bits left below it.
    Node { index: u32, shift: u32 },
    /// The answer is the leaf at `index` of the leaf array.
    Leaf(u32),
    /// The answer is this leaf value (a direct entry, or 0 after a corrupt reference).
    Done(u32),
}

/// One family's index, borrowed from the artifact.
#[derive(Clone, Copy)]
pub(crate) struct Trie<'a, F: Family> {
    pub top: &'a [u32],
    pub nodes: &'a [F::Node],
    pub leaves: &'a [u32],
    /// Per top entry, the log2 of its uniform aligned block (cold: network and range only).
    pub spans: &'a [u8],
    pub family: std::marker::PhantomData<F>,
}

impl<'a, F: Family> Trie<'a, F> {
    /// Node levels below the direct table in a valid file: each takes the stride's bits (or
    /// what is left), so a descent is at most this long.
    const LEVELS: u32 = (F::BITS - F::TOP_BITS).div_ceil(F::LAYOUT.stride);

    /// The leaf value of `x`. Never panics; at most [`Self::LEVELS`] nodes (a fixed bound, so
    /// the IPv4 descent unrolls into straight-line code).
    #[inline(always)]
    pub(crate) fn lookup(self, x: F::Key) -> u32 {
        self.finish(self.first(x), x)
    }

    /// The leaf value of `x` from `step` of its descent on (see [`Trie::lookup`]).
    #[inline(always)]
    pub(crate) fn finish(self, mut step: Step, x: F::Key) -> u32 {
        for _ in 0..Self::LEVELS {
            match step {
                Step::Node { index, shift } => step = self.step(index, shift, x),
                Step::Leaf(i) => return self.leaf(i),
                Step::Done(v) => return v,
            }
        }
        match step {
            Step::Leaf(i) => self.leaf(i),
            Step::Done(v) => v,
            // Deeper than a valid file can be: nothing known.
            Step::Node { .. } => 0,
        }
    }

    /// The first step: the direct-table entry of `x`.
    #[inline(always)]
    pub(crate) fn first(self, x: F::Key) -> Step {
        match self.top.get(F::top_index(x)) {
            Some(&e) if e & NODE != 0 => Step::Node {
                index: e & !NODE,
                shift: F::BITS - F::TOP_BITS,
            },
            Some(&e) => Step::Done(e),
            None => Step::Done(0),
        }
    }

    /// Leaf `i` of the leaf array (0 when out of range).
    #[inline(always)]
    pub(crate) fn leaf(self, i: u32) -> u32 {
        self.leaves.get(i as usize).copied().unwrap_or(0)
    }

    /// The value of leaf `k` of node `w` (cold paths).
    fn node_leaf_value(self, w: &[u64], n: &Node, k: u32) -> u32 {
        match Self::node_leaf(w, n.leaf_base, k) {
            Step::Done(v) => v,
            Step::Leaf(i) => self.leaf(i),
            Step::Node { .. } => 0,
        }
    }

    /// Node `index`, covering the `2^shift` addresses around `x`: the next step. Returns
    /// [`Step::Node`] only with a smaller, non-zero `shift`.
    ///
    /// Reads the node's words in place: the bitmap word of `x`'s slot, the words before it for
    /// the rank, the bases, the guard. (Decoding the whole node into a [`Node`] first copied
    /// both 256-bit IPv6 bitmaps on every level: 460 instructions per IPv6 lookup in the bench
    /// gate, against ~260 this way.)
    #[inline(always)]
    pub(crate) fn step(self, index: u32, shift: u32, x: F::Key) -> Step {
        let Some(w) = self.nodes.get(index as usize) else {
            return Step::Done(0);
        };
        let w = w.as_ref();
        let layout = F::LAYOUT;
        let word = |i: usize| w.get(i).copied().unwrap_or(0);
        let bases = word(layout.bases_word());
        let mut shift = shift;
        let mut guarded = 0;
        if layout.guarded {
            let g = word(layout.bases_word() + 1);
            let skip = (g >> SKIP_SHIFT) as u32;
            if skip != 0 {
                if skip >= shift {
                    return Step::Done(0);
                }
                if F::bits(x, shift, skip) != g & ((1u64 << SKIP_SHIFT) - 1) {
                    // Outside the guarded sub-block: the node's leaf 0.
                    return Self::node_leaf(w, (bases >> 32) as u32, 0);
                }
                shift -= skip;
                guarded = 1;
            }
        }
        let st = shift.min(layout.stride);
        if st == 0 {
            return Step::Done(0);
        }
        let slot = F::bits(x, shift, st) as u32;
        let at = (slot >> 6) as usize;
        let below = upto(slot);
        // Set bits of bitmap `b` (0: children, 1: leaf runs) at and below `slot`: word `at`
        // under `below`, plus every word under its [`BEFORE`] mask (all of it before `at`,
        // nothing from `at` on), without a branch on `at`. (A loop adding the words before
        // `at` mispredicted about three times per IPv6 lookup in callgrind's branch
        // simulation, 60 % of the lookup's mispredictions.)
        let before = &BEFORE[at & (MAX_BITMAP_WORDS - 1)];
        let rank = |b: usize| {
            let base = b * layout.bitmap_words;
            let mut n = (word(base + at) & below).count_ones();
            for (i, m) in before.iter().enumerate().take(layout.bitmap_words) {
                n += (word(base + i) & m).count_ones();
            }
            n
        };
        if word(at) >> (slot & 63) & 1 != 0 {
            if shift == st {
                return Step::Done(0);
            }
            Step::Node {
                index: (bases as u32).wrapping_add(rank(0)).wrapping_sub(1),
                shift: shift - st,
            }
        } else {
            let k = guarded + rank(1);
            Self::node_leaf(w, (bases >> 32) as u32, k.wrapping_sub(1))
        }
    }

    /// Leaf `k` of the node with words `w` whose overflow leaves start at `leaf_base`: inline,
    /// or the step that reads it from the leaf array.
    #[inline(always)]
    fn node_leaf(w: &[u64], leaf_base: u32, k: u32) -> Step {
        match inline_leaf(w, F::LAYOUT, k) {
            Some(v) => Step::Done(v),
            None => Step::Leaf(
                leaf_base
                    .wrapping_add(k)
                    .wrapping_sub(F::LAYOUT.inline() as u32),
            ),
        }
    }

    /// The prefix length of the widest aligned block around `x` whose addresses all have
    /// `x`'s leaf value (MaxMind's "network"). Cold, but O(depth): the top spans give the
    /// answer at once for a direct entry, and a node's bitmaps show which neighbouring slots
    /// share a leaf.
    pub(crate) fn network(self, x: u128) -> u8 {
        let top_shift = F::BITS - F::TOP_BITS;
        let t = (x >> top_shift) as usize;
        let e = self.top.get(t).copied().unwrap_or(0);
        if e & NODE == 0 {
            let k = u32::from(self.spans.get(t).copied().unwrap_or(0)).min(F::TOP_BITS);
            return (F::TOP_BITS - k) as u8;
        }
        let (mut index, mut start, mut shift) = (e & !NODE, x >> top_shift << top_shift, top_shift);
        // The block that is certainly uniform: the single address, until a node says more.
        let single = F::BITS as u8;
        loop {
            let Some(w) = self.nodes.get(index as usize) else {
                return single;
            };
            let n = Node::decode(w.as_ref(), F::LAYOUT);
            if F::LAYOUT.guarded && n.skip != 0 {
                // A guard with bits past its skip would place the sub-block outside the block
                // (and overflow the address arithmetic): corrupt, like a skip past the block.
                if n.skip >= shift || n.guard >> n.skip != 0 {
                    return single;
                }
                let q_shift = shift - n.skip;
                let q_start = start + (u128::from(n.guard) << q_shift);
                let d = x ^ q_start;
                if d >> q_shift != 0 {
                    // Outside the guarded sub-block: the widest block around `x` that does not
                    // reach it (below the highest bit where `x` and the sub-block differ).
                    let h = 127 - d.leading_zeros();
                    return (F::BITS - h) as u8;
                }
                (start, shift) = (q_start, q_shift);
            }
            let st = shift.min(F::LAYOUT.stride);
            if st == 0 {
                return single;
            }
            let slot_shift = shift - st;
            let slot = ((x - start) >> slot_shift) as u32;
            if has(&n.vector, slot) {
                if slot_shift == 0 {
                    return single;
                }
                index = n
                    .child_base
                    .wrapping_add(rank(&n.vector, F::LAYOUT.bitmap_words, slot))
                    .wrapping_sub(1);
                start += u128::from(slot) << slot_shift;
                shift = slot_shift;
                continue;
            }
            // The largest aligned group of slots around `slot` that are all leaves of one run:
            // no child in it, and no run starting after its first slot.
            let mut g = 0;
            while g < st {
                let width = 1u32 << (g + 1);
                let first = slot & !(width - 1);
                if any(&n.vector, first, first + width) || any(&n.leafvec, first + 1, first + width)
                {
                    break;
                }
                g += 1;
            }
            return (F::BITS - slot_shift - g) as u8;
        }
    }

    /// The first address after `x` (`forward`) or before it whose leaf value is not `leaf`,
    /// or `None` when there is none up to the end of the space. Cold: walks the trie beside
    /// `x`'s path, visiting at most a few thousand nodes (on a valid file, about two per
    /// level: every node's block holds at least two values).
    pub(crate) fn next_change(self, x: u128, leaf: u32, forward: bool) -> Option<u128> {
        let mut scan = Scan {
            trie: self,
            x,
            leaf,
            forward,
            budget: 4096,
        };
        let top_size = 1u128 << (F::BITS - F::TOP_BITS);
        let count = self.top.len();
        let mut t = (x >> (F::BITS - F::TOP_BITS)) as usize;
        loop {
            let start = t as u128 * top_size;
            // Top entries count against the nodes' budget: with spans that do not match the
            // table (corrupt) the run is crossed an entry at a time, up to 2^18 of them.
            if scan.budget == 0 {
                return Some(if forward {
                    start
                } else {
                    start + (top_size - 1)
                });
            }
            scan.budget -= 1;
            let e = self.top.get(t).copied().unwrap_or(0);
            // A run of top entries of one leaf is crossed a whole aligned block at a time.
            let span = if e & NODE == 0 {
                u32::from(self.spans.get(t).copied().unwrap_or(0)).min(F::TOP_BITS)
            } else {
                0
            };
            let found = if e & NODE != 0 {
                scan.node(e & !NODE, start, F::BITS - F::TOP_BITS)
            } else {
                let lo = (t >> span << span) as u128 * top_size;
                scan.uniform(lo, lo | low_mask(span + F::BITS - F::TOP_BITS), e)
            };
            if found.is_some() {
                return found;
            }
            if forward {
                t = ((t >> span) + 1) << span;
                if t >= count {
                    return None;
                }
            } else {
                t = (t >> span << span).checked_sub(1)?;
            }
        }
    }
}

/// `BEFORE[at][i]`: all of bitmap word `i` when it lies before word `at`, else nothing (the
/// branch-free rank of [`Trie::step`]).
const BEFORE: [[u64; MAX_BITMAP_WORDS]; MAX_BITMAP_WORDS] = {
    let mut t = [[0; MAX_BITMAP_WORDS]; MAX_BITMAP_WORDS];
    let mut at = 0;
    while at < MAX_BITMAP_WORDS {
        let mut i = 0;
        while i < at {
            t[at][i] = u64::MAX;
            i += 1;
        }
        at += 1;
    }
    t
};

/// The lowest `bits` bits set (all 128 for 128).
fn low_mask(bits: u32) -> u128 {
    u128::MAX.checked_shr(128 - bits.min(128)).unwrap_or(0)
}

/// The state of one [`Trie::next_change`] walk.
struct Scan<'a, F: Family> {
    trie: Trie<'a, F>,
    /// The address the search starts beside (exclusive).
    x: u128,
    /// The leaf value being left.
    leaf: u32,
    forward: bool,
    /// Nodes and top entries still allowed to visit: a corrupt file cannot make a walk long.
    budget: u32,
}

impl<F: Family> Scan<'_, F> {
    /// The part of `[lo, hi]` on the search's side of `x`, if any.
    fn clip(&self, lo: u128, hi: u128) -> Option<(u128, u128)> {
        let (lo, hi) = if self.forward {
            (lo.max(self.x.checked_add(1)?), hi)
        } else {
            (lo, hi.min(self.x.checked_sub(1)?))
        };
        (lo <= hi).then_some((lo, hi))
    }

    /// A block `[lo, hi]` of one leaf value: its first address on the search's side of `x` if
    /// the value differs.
    fn uniform(&self, lo: u128, hi: u128, value: u32) -> Option<u128> {
        let (lo, hi) = self.clip(lo, hi)?;
        (value != self.leaf).then_some(if self.forward { lo } else { hi })
    }

    /// The block of `2^shift` addresses at `start` under node `index`.
    fn node(&mut self, index: u32, start: u128, shift: u32) -> Option<u128> {
        let end = start + ((1u128 << shift) - 1);
        self.clip(start, end)?;
        if self.budget == 0 {
            // Only a corrupt file gets here: end the range at this block.
            return Some(if self.forward { start } else { end });
        }
        self.budget -= 1;
        let trie = self.trie;
        let w = trie.nodes.get(index as usize)?.as_ref();
        let n = Node::decode(w, F::LAYOUT);
        let (mut q_start, mut q_shift, mut guarded) = (start, shift, 0);
        if F::LAYOUT.guarded && n.skip != 0 {
            // As in `network`: a guard with bits past its skip is corrupt.
            if n.skip >= shift || n.guard >> n.skip != 0 {
                return None;
            }
            q_shift = shift - n.skip;
            q_start = start + (u128::from(n.guard) << q_shift);
            guarded = 1;
        }
        let q_end = q_start + ((1u128 << q_shift) - 1);
        let outside = trie.node_leaf_value(w, &n, 0);
        let before = (guarded == 1 && q_start > start).then(|| (start, q_start - 1));
        let after = (guarded == 1 && q_end < end).then(|| (q_end + 1, end));
        let (near, far) = if self.forward {
            (before, after)
        } else {
            (after, before)
        };
        if let Some((lo, hi)) = near {
            if let Some(found) = self.uniform(lo, hi, outside) {
                return Some(found);
            }
        }
        let st = q_shift.min(F::LAYOUT.stride);
        if st == 0 {
            return None;
        }
        let words = F::LAYOUT.bitmap_words;
        let size_shift = q_shift - st;
        let slots = 1u32 << st;
        // The ranks of the slot about to be visited, kept as the walk goes (slot by slot, so
        // one bit test each rather than a rank per slot): in a forward walk the counts below
        // the slot, in a backward one the counts at and below it.
        let (mut children, mut runs) = if self.forward {
            (0, 0)
        } else {
            (
                rank(&n.vector, words, slots - 1),
                rank(&n.leafvec, words, slots - 1),
            )
        };
        for k in 0..slots {
            let slot = if self.forward { k } else { slots - 1 - k };
            let child = has(&n.vector, slot);
            let starts_run = has(&n.leafvec, slot);
            if self.forward {
                children += u32::from(child);
                runs += u32::from(starts_run);
            }
            let (rank_v, rank_l) = (children, runs);
            if !self.forward {
                children -= u32::from(child);
                runs -= u32::from(starts_run);
            }
            let lo = q_start + (u128::from(slot) << size_shift);
            let hi = lo + ((1u128 << size_shift) - 1);
            if self.clip(lo, hi).is_none() {
                continue;
            }
            let found = if child {
                if size_shift == 0 {
                    return None;
                }
                let index = n.child_base.wrapping_add(rank_v).wrapping_sub(1);
                self.node(index, lo, size_shift)
            } else {
                let k = (guarded + rank_l).wrapping_sub(1);
                self.uniform(lo, hi, trie.node_leaf_value(w, &n, k))
            };
            if found.is_some() {
                return found;
            }
        }
        far.and_then(|(lo, hi)| self.uniform(lo, hi, outside))
    }
}
