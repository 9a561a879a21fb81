//! `format::trie::spans` against its definition: for each entry of a top table, the largest
//! `k` such that the aligned block of `2^k` entries around it holds one leaf value in every
//! entry (0 for a node entry), on tables of every small length, power of two or not.

use ipsieve::format::trie::{spans, NODE};
use proptest::prelude::*;

/// The definition, checked block by block.
fn naive(top: &[u32]) -> Vec<u8> {
    (0..top.len())
        .map(|c| {
            (1..usize::BITS)
                .take_while(|&k| 1usize << k <= top.len())
                .filter(|&k| {
                    let lo = c >> k << k;
                    let block = top.get(lo..lo + (1 << k));
                    block.is_some_and(|b| b.iter().all(|&x| x == top[c] && x & NODE == 0))
                })
                .max()
                .unwrap_or(0) as u8
        })
        .collect()
}

/// A table of `len` entries from few values (long runs) and node references.
fn table(max_len: usize) -> impl Strategy<Value = Vec<u32>> {
    proptest::collection::vec(
        prop_oneof![4 => Just(0u32), 2 => 1u32..3, 1 => Just(NODE | 5)],
        0..max_len,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn spans_match_their_definition(top in table(300)) {
        let want = naive(&top);
        prop_assert_eq!(&by_levels(&top), &want);
        prop_assert_eq!(spans(&top), want);
    }
}

/// The definition level by level (format 2.0's first implementation): the blocks of `2^k`
/// entries that hold one leaf value, for each `k` from 1 up.
fn by_levels(top: &[u32]) -> Vec<u8> {
    let mut level: Vec<Option<u32>> = top.iter().map(|&e| (e & NODE == 0).then_some(e)).collect();
    let mut out = vec![0u8; top.len()];
    let mut k = 0u8;
    while level.len() > 1 {
        k += 1;
        level = level
            .chunks(2)
            .map(|p| match (p[0], p.get(1).copied().flatten()) {
                (Some(a), Some(b)) if a == b => Some(a),
                _ => None,
            })
            .collect();
        for (c, s) in out.iter_mut().enumerate() {
            if level[c >> k].is_some() {
                *s = k;
            }
        }
    }
    out
}

#[test]
fn full_tables() {
    // One leaf value everywhere: every entry spans the whole table; a node entry, and runs of
    // other values at unaligned places, break the blocks that hold them.
    for bits in [16, 18] {
        let mut top = vec![7u32; 1 << bits];
        assert!(spans(&top).iter().all(|&k| u32::from(k) == bits));
        let mid = top.len() / 2 + 3;
        top[mid] = NODE;
        for (i, e) in top.iter_mut().enumerate().skip(1000).step_by(4099).take(40) {
            *e = (i % 3) as u32;
        }
        top[5000..7001].fill(9);
        assert_eq!(spans(&top), by_levels(&top));
    }
}
