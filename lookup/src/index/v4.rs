//! The IPv4 trie: a direct table on the top 18 bits (1 MiB), then unguarded 64-byte nodes of
//! 64 slots (one cache line each, ten leaves inline) at /18 → /24, /24 → /30 and /30 → /32: at
//! most four dependent reads (entry, three nodes; a leaf past the inline ones adds one) before
//! the answer, and most random addresses end at the entry.

use super::Family;
use crate::format::{trie, Section};

/// The IPv4 family.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V4;

impl Family for V4 {
    type Key = u32;
    const BITS: u32 = 32;
    const TOP_BITS: u32 = trie::V4_TOP_BITS;
    const LAYOUT: trie::NodeLayout = trie::V4_NODE;
    type Node = [u64; 8];
    const TOP: Section = Section::V4Top;
    const NODES: Section = Section::V4Nodes;
    const LEAVES: Section = Section::V4Leaves;
    const SPANS: Section = Section::V4Spans;
    const LAST: u128 = u32::MAX as u128;

    #[inline(always)]
    fn bits(x: u32, shift: u32, n: u32) -> u64 {
        (u64::from(x) >> (shift - n)) & ((1u64 << n) - 1)
    }
    #[inline(always)]
    fn trie<'a>(hot: &crate::database::Hot<'a>) -> super::Trie<'a, Self> {
        hot.v4
    }
    #[inline(always)]
    fn top_index(x: u32) -> usize {
        (x >> (32 - trie::V4_TOP_BITS)) as usize
    }
    fn narrow(x: u128) -> u32 {
        x as u32
    }
}
