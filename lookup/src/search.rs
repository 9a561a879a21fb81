//! The in-chunk search: a branchless "how many keys are ≤ x" over a sorted slice.

/// Number of elements of the ascending slice `keys` that are `<= x`.
///
/// Branchless (the loop trip count depends only on `keys.len()`), so the CPU never mispredicts
/// on the data and independent lookups overlap their cache misses. On an unsorted slice (a
/// corrupt artifact) the result is some index in `0..=keys.len()`, never a panic.
#[inline(always)]
pub(crate) fn count_le<K: Copy + Ord>(keys: &[K], x: K) -> usize {
    let mut size = keys.len();
    if size == 0 {
        return 0;
    }
    let mut base = 0usize;
    while size > 1 {
        let half = size / 2;
        let mid = base + half;
        // `mid < base + size <= keys.len()` holds on every iteration.
        base = if keys.get(mid).is_some_and(|&k| k <= x) { mid } else { base };
        size -= half;
    }
    base + usize::from(keys.get(base).is_some_and(|&k| k <= x))
}

#[cfg(test)]
mod tests {
    use super::count_le;

    #[test]
    fn matches_partition_point() {
        let keys: Vec<u16> = vec![3, 5, 5, 9, 100, 4000, 65535];
        for n in 0..=keys.len() {
            let k = &keys[..n];
            for x in [0u16, 2, 3, 4, 5, 6, 9, 10, 99, 100, 3999, 4000, 65534, 65535] {
                assert_eq!(count_le(k, x), k.partition_point(|&v| v <= x), "n={n} x={x}");
            }
        }
    }
}
