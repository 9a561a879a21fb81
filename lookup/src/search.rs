//! Searching a chunk tree (layout in [`crate::format::tree`]).
//!
//! Every node is searched for the count of keys below the probe by a fixed-length branch-free
//! binary search inside its cache line: no data-dependent branch inside a node, one cache line
//! per level, and independent lookups overlap their cache misses. Every read is bounds-checked and every descent is bounded by
//! the height, so a corrupt artifact that got past validation yields a wrong slot or `None`
//! (the caller answers "no data"), never a panic or a loop.

use crate::format::tree::{self, Key};

/// The 64-byte line starting at slot `at` of the little-endian key bytes.
#[inline(always)]
fn line<K: Key>(keys: &[u8], at: usize) -> Option<&[u8; tree::LINE_BYTES]> {
    K::read_line(keys, at)
}

/// Asks the CPU to start loading the cache line holding byte `at` of `bytes` (nothing when it
/// is out of range), so that a later read of it finds it cached or in flight.
#[inline(always)]
pub(crate) fn prefetch(bytes: &[u8], at: usize) {
    let Some(b) = bytes.get(at) else {
        return;
    };
    #[cfg(target_arch = "x86_64")]
    {
        // Measured: a batch staged with `touch` instead (a load through `black_box`, also an
        // optimisation barrier) took 1.3-3.6x as long on the full-size artifact.
        let p = std::ptr::from_ref(b).cast();
        // SAFETY: `_mm_prefetch` is only a hint to the cache: it never faults, reads nothing
        // into the program and changes no memory; `p` points inside a live slice anyway. SSE is
        // part of the x86_64 baseline, so the instruction always exists.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) };
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = std::hint::black_box(*b);
}

/// Reads byte `at` of `bytes` (nothing when out of range) and discards it through
/// `black_box`: a demand load that starts the line's miss. On the single-lookup path this
/// measured faster than [`prefetch`] (the value line is needed a few instructions later, and
/// a demand load is not dropped or deprioritised as a hint may be).
#[inline(always)]
pub(crate) fn touch(bytes: &[u8], at: usize) {
    let _ = std::hint::black_box(bytes.get(at).copied());
}

/// Starts loading the `u32` values of slots `at..at + n` (at most two lines) before the keys
/// that select one of them are searched, so that the value's cache miss overlaps the key
/// line's instead of following it: by [`prefetch`] when `HINT`, else by [`touch`].
#[inline(always)]
fn preload<const HINT: bool>(values: &[u8], at: usize, n: usize) {
    const LINE_VALUES: usize = tree::LINE_BYTES / 4;
    let load = |at: usize| {
        if HINT {
            prefetch(values, at.wrapping_mul(4));
        } else {
            touch(values, at.wrapping_mul(4));
        }
    };
    load(at);
    if n > LINE_VALUES {
        load(at + LINE_VALUES);
    }
}

/// Starts loading the key line holding slot `at` (the first stage of a batch lookup).
#[inline(always)]
pub(crate) fn preload_key<K: Key>(keys: &[u8], at: usize) {
    prefetch(keys, at.wrapping_mul(std::mem::size_of::<K>()));
}

/// A search of one chunk tree in progress: the line to read next and what is left to do.
/// [`find`] runs one to the end; a batch ([`crate::Database::lookup_many`]) steps a group of
/// cursors one level at a time, loading every cursor's next line before reading any, so the
/// group's cache misses at each level overlap.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor {
    /// First slot of the line to read next.
    line: usize,
    /// The leaf's window in its line: slots `from..from + width`.
    from: usize,
    width: usize,
    /// Internal levels left above the leaf (at most 14: a 4-bit height field).
    levels: u32,
    /// Whether every level so far took its first child.
    leftmost: bool,
}

impl Cursor {
    /// The start of a search of the tree referenced by `r` (reads nothing). Offsets are at
    /// most 2^31 slots (28- or 26-bit fields times at most 32), so they cannot overflow.
    #[inline(always)]
    pub(crate) fn new<K: Key, const B: usize>(r: u32) -> Cursor {
        if r & tree::LEAF != 0 {
            // One leaf, counted over its aligned line with the other leaves' slots masked out.
            let at = (r & tree::LEAF_OFFSET_MASK) as usize * tree::unit_slots::<K>();
            let line = at & !(B - 1);
            Cursor {
                line,
                from: at - line,
                width: (B / 4) << ((r >> tree::LEAF_CLASS_SHIFT) & 3).min(2),
                levels: 0,
                leftmost: true,
            }
        } else {
            Cursor {
                line: (r & tree::ROOT_MASK) as usize * B,
                from: 0,
                width: B,
                levels: ((r >> tree::HEIGHT_SHIFT) & 0xF).saturating_sub(1),
                leftmost: true,
            }
        }
    }

    /// Whether an internal level is left before the leaf.
    #[inline(always)]
    pub(crate) fn descending(&self) -> bool {
        self.levels > 0
    }

    /// First slot of the line this cursor reads next (to preload it).
    #[inline(always)]
    pub(crate) fn line(&self) -> usize {
        self.line
    }

    /// Descends one internal level. `None` when the node is outside the array (a corrupt
    /// file). A child distance read from a corrupt file can overflow; it then wraps to some
    /// index that the next read bounds-checks.
    #[inline(always)]
    pub(crate) fn step<K: Key, const B: usize>(&mut self, keys: &[u8], x: K) -> Option<()> {
        let node = line::<K>(keys, self.line)?;
        let c = K::count_below_in(node, 0, B - 1, x);
        self.leftmost &= c == 0;
        let child = K::slot(node, B - 1)
            .to_distance()
            .wrapping_add(c)
            .wrapping_mul(B);
        self.line = self.line.wrapping_add(child);
        self.levels -= 1;
        Some(())
    }

    /// Starts loading the values the leaf can answer with (see [`preload`]).
    #[inline(always)]
    pub(crate) fn preload_values<const HINT: bool>(&self, values: &[u8]) {
        preload::<HINT>(values, self.line + self.from, self.width);
    }

    /// At the leaf: the slot of `x`'s value and whether it is the chunk's first.
    #[inline(always)]
    pub(crate) fn finish<K: Key>(&self, keys: &[u8], x: K) -> Option<(usize, bool)> {
        let c = K::count_below_in(line::<K>(keys, self.line)?, self.from, self.width, x);
        Some((self.line + self.from + c, self.leftmost && c == 0))
    }
}

/// Finds `x` in the chunk tree referenced by `r`: the slot of its value, and whether that is
/// the chunk's first value. The range found starts after the key in the previous slot (at the
/// chunk's start when first) and ends at the key in the value's slot (at the chunk's end when
/// that slot is padding). `B` is `K::PER_LINE`; `values` is the parallel `u32` value array,
/// whose candidate line is loaded while the last key line is searched. Every descent is
/// bounded by the height field, so a corrupt pointer cycle cannot loop.
#[inline(always)]
pub(crate) fn find<K: Key, const B: usize>(
    keys: &[u8],
    values: &[u8],
    r: u32,
    x: K,
) -> Option<(usize, bool)> {
    let mut c = Cursor::new::<K, B>(r);
    while c.descending() {
        c.step::<K, B>(keys, x)?;
    }
    c.preload_values::<false>(values);
    c.finish(keys, x)
}

#[cfg(test)]
mod tests {
    use super::find;
    use crate::format::tree::{self, Key};

    /// Lays `keys` out as the builder does and finds every probe, against a linear count.
    fn check<K: Key, const B: usize>(keys: &[K], probes: impl Iterator<Item = K>) {
        let (slots, r, first) = match tree::layout(keys) {
            Some(l) => {
                let r = l.height << tree::HEIGHT_SHIFT;
                let first = l.first_leaf * B;
                (l.slots, r, first)
            }
            None => {
                let mut slots = keys.to_vec();
                slots.resize(B, K::PAD);
                (slots, tree::LEAF | (2 << tree::LEAF_CLASS_SHIFT), 0)
            }
        };
        let bytes: &[u8] = bytemuck::cast_slice(&slots);
        for x in probes {
            let g = keys.iter().filter(|&&k| k < x).count();
            assert_eq!(
                find::<K, B>(bytes, &[], r, x),
                Some((first + g, g == 0)),
                "x={x:?} n={}",
                keys.len()
            );
        }
    }

    #[test]
    fn every_size_and_probe_finds_its_slot() {
        for n in [
            0usize, 1, 7, 30, 31, 32, 33, 63, 64, 100, 1023, 1024, 1025, 5000, 40000,
        ] {
            let keys: Vec<u16> = (0..n).map(|i| (i * 65534 / n.max(1)) as u16 + 1).collect();
            let mut k2 = keys.clone();
            k2.dedup();
            check::<u16, 32>(&k2, (0..=u16::MAX).step_by(61).chain([0, 1, u16::MAX]));
        }
        for n in [0usize, 6, 7, 8, 9, 64, 65, 600] {
            let keys: Vec<u64> = (0..n as u64).map(|i| i * 1_000_003 + 5).collect();
            check::<u64, 8>(
                &keys,
                (0..n as u64 * 1_000_003 + 10)
                    .step_by(250_007)
                    .chain([0, u64::MAX]),
            );
        }
    }

    #[test]
    fn malformed_references_never_panic() {
        let slots = vec![3u16; 64];
        for r in [
            0u32,
            0x3FFF_FFFF,
            0x7FFF_FFFF,
            tree::LEAF | tree::LEAF_OFFSET_MASK,
            15 << tree::HEIGHT_SHIFT,
        ] {
            let _ = find::<u16, 32>(bytemuck::cast_slice(&slots), &[], r, 9);
        }
        // A node pointing at itself descends at most `height` times.
        let mut cyc = vec![u16::MAX; 32];
        cyc[31] = 0;
        let cyc: &[u8] = bytemuck::cast_slice(&cyc);
        assert!(find::<u16, 32>(cyc, &[], 15 << tree::HEIGHT_SHIFT, 5).is_some());
    }
}
