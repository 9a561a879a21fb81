//! The baseline every user can write in ten lines: the sorted starts of disjoint ranges that
//! cover the whole address space, a parallel array of values, and a binary search
//! (`partition_point`) for the last start at or below the address.

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::ranges::RangeSet;
use crate::{Lookup, NONE};

/// Sorted range starts and values for each family. `v4_starts[0] == 0` and
/// `v6_starts[0] == 0`: gaps between input ranges are ranges of their own, valued [`NONE`].
#[derive(Debug, Clone)]
pub struct BinarySearch {
    v4_starts: Vec<u32>,
    v4_values: Vec<u32>,
    v6_starts: Vec<u128>,
    v6_values: Vec<u32>,
}

impl BinarySearch {
    /// Builds both families from disjoint, ascending ranges.
    ///
    /// # Panics
    /// When the ranges overlap or are out of order.
    pub fn new(set: &RangeSet) -> BinarySearch {
        let (v4_starts, v4_values) = cover(set.v4.iter().copied());
        let (v6_starts, v6_values) = cover(set.v6.iter().copied());
        BinarySearch {
            v4_starts,
            v4_values,
            v6_starts,
            v6_values,
        }
    }

    /// Bytes of the four arrays (their lengths, not capacities).
    pub fn index_bytes(&self) -> usize {
        self.v4_starts.len() * 4
            + self.v4_values.len() * 4
            + self.v6_starts.len() * 16
            + self.v6_values.len() * 4
    }

    /// Number of ranges, gaps included (IPv4, IPv6).
    pub fn len(&self) -> (usize, usize) {
        (self.v4_starts.len(), self.v6_starts.len())
    }

    /// Never true: both families always have at least the range starting at 0.
    pub fn is_empty(&self) -> bool {
        false
    }
}

/// Starts and values covering the whole space from 0: every range, a [`NONE`] range for each
/// gap, adjacent equal values joined.
fn cover<T>(ranges: impl Iterator<Item = (T, T, u32)>) -> (Vec<T>, Vec<u32>)
where
    T: Copy + Ord + Default + std::ops::Add<Output = T> + From<u8> + Bounded,
{
    let mut starts = vec![T::default()];
    let mut values = vec![NONE];
    // First address not yet covered; None once the end of the space is covered.
    let mut next = Some(T::default());
    for (lo, hi, v) in ranges {
        let n = next.expect("ranges after the end of the space");
        assert!(lo >= n && lo <= hi, "ranges overlap or are out of order");
        if lo > n && *values.last().expect("non-empty") != NONE {
            starts.push(n);
            values.push(NONE);
        }
        if *values.last().expect("non-empty") != v {
            if *starts.last().expect("non-empty") == lo {
                *values.last_mut().expect("non-empty") = v;
            } else {
                starts.push(lo);
                values.push(v);
            }
        }
        next = (hi != T::MAX).then(|| hi + T::from(1));
    }
    if let Some(n) = next {
        if *values.last().expect("non-empty") != NONE {
            starts.push(n);
            values.push(NONE);
        }
    }
    (starts, values)
}

/// The largest value of an address type.
pub trait Bounded {
    /// The largest value.
    const MAX: Self;
}
impl Bounded for u32 {
    const MAX: u32 = u32::MAX;
}
impl Bounded for u128 {
    const MAX: u128 = u128::MAX;
}

impl Lookup for BinarySearch {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        let x = u32::from(ip);
        let i = self.v4_starts.partition_point(|&s| s <= x);
        self.v4_values[i - 1]
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        let x = u128::from(ip);
        let i = self.v6_starts.partition_point(|&s| s <= x);
        self.v6_values[i - 1]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_answer_none_and_neighbours_join() {
        let set = RangeSet {
            v4: vec![(10, 19, 1), (20, 29, 1), (40, 49, 2), (50, u32::MAX, 3)],
            v6: vec![(0, 5, 7)],
        };
        let b = BinarySearch::new(&set);
        assert_eq!(b.v4_starts, vec![0, 10, 30, 40, 50]);
        assert_eq!(b.v4_values, vec![NONE, 1, NONE, 2, 3]);
        assert_eq!(b.v6_starts, vec![0, 6]);
        for (ip, want) in [
            (0, NONE),
            (9, NONE),
            (10, 1),
            (29, 1),
            (30, NONE),
            (45, 2),
            (u32::MAX, 3),
        ] {
            assert_eq!(b.v4(Ipv4Addr::from(ip)), want, "{ip}");
        }
        assert_eq!(b.v6(Ipv6Addr::from(5)), 7);
        assert_eq!(b.v6(Ipv6Addr::from(6)), NONE);
    }
}
