//! The IPv6 trie: a direct table on the top 16 bits (256 KiB), then 128-byte nodes of 256
//! slots (eight bits per level: /24, /32, /40, /48, …) whose guard skips up to 58 bits where a
//! block's boundaries all sit in one small sub-block (a /48 inside an otherwise uniform /32, a
//! single address inside a /64), so sparse regions cost one node, not one per level.

use super::Family;
use crate::format::{trie, Section};

/// The IPv6 family.
#[derive(Debug, Clone, Copy)]
pub(crate) struct V6;

impl Family for V6 {
    type Key = u128;
    const BITS: u32 = 128;
    const TOP_BITS: u32 = trie::V6_TOP_BITS;
    const LAYOUT: trie::NodeLayout = trie::V6_NODE;
    type Node = [u64; 16];
    const TOP: Section = Section::V6Top;
    const NODES: Section = Section::V6Nodes;
    const LEAVES: Section = Section::V6Leaves;
    const SPANS: Section = Section::V6Spans;
    const LAST: u128 = u128::MAX;

    #[inline(always)]
    fn bits(x: u128, shift: u32, n: u32) -> u64 {
        ((x >> (shift - n)) as u64) & ((1u64 << n) - 1)
    }
    #[inline(always)]
    fn trie<'a>(hot: &crate::database::Hot<'a>) -> super::Trie<'a, Self> {
        hot.v6
    }
    #[inline(always)]
    fn top_index(x: u128) -> usize {
        (x >> (128 - trie::V6_TOP_BITS)) as usize
    }
    fn narrow(x: u128) -> u128 {
        x
    }
}
