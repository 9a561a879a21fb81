//! The common input of every structure: disjoint ranges with a `u32` value, their CIDR
//! decomposition for the tries, and the walk that reads them back out of an ipsieve artifact.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use ipsieve::{Answer, Database};

use crate::NONE;

/// The IPv4-mapped IPv6 block `::ffff:0:0/96`, which ipsieve answers as IPv4.
const MAPPED_LO: u128 = 0xffff_0000_0000;
/// Last address of `::ffff:0:0/96`.
const MAPPED_HI: u128 = 0xffff_ffff_ffff;

/// Disjoint inclusive ranges, each with the value every structure must answer inside it.
/// Addresses outside every range have no value ([`NONE`]).
#[derive(Debug, Clone, Default)]
pub struct RangeSet {
    /// IPv4 `(first, last, value)`, ascending, disjoint.
    pub v4: Vec<(u32, u32, u32)>,
    /// IPv6 `(first, last, value)`, ascending, disjoint.
    pub v6: Vec<(u128, u128, u32)>,
}

impl RangeSet {
    /// The CIDR blocks of the IPv4 ranges, each with its range's value.
    pub fn v4_nets(&self) -> Vec<(Ipv4Net, u32)> {
        let mut out = Vec::with_capacity(self.v4.len() * 2);
        for &(lo, hi, v) in &self.v4 {
            for (start, len) in cidrs(u128::from(lo), u128::from(hi), 32) {
                out.push((
                    Ipv4Net::new(Ipv4Addr::from(start as u32), len).expect("len"),
                    v,
                ));
            }
        }
        out
    }

    /// The CIDR blocks of the IPv6 ranges, each with its range's value.
    pub fn v6_nets(&self) -> Vec<(Ipv6Net, u32)> {
        let mut out = Vec::with_capacity(self.v6.len() * 2);
        for &(lo, hi, v) in &self.v6 {
            for (start, len) in cidrs(lo, hi, 128) {
                out.push((Ipv6Net::new(Ipv6Addr::from(start), len).expect("len"), v));
            }
        }
        out
    }

    /// The IPv4 ranges as `(first, last)` pairs, for "inside ranges" probes.
    pub fn v4_bounds(&self) -> Vec<(u32, u32)> {
        self.v4.iter().map(|r| (r.0, r.1)).collect()
    }

    /// The IPv6 ranges as `(first, last)` pairs.
    pub fn v6_bounds(&self) -> Vec<(u128, u128)> {
        self.v6.iter().map(|r| (r.0, r.1)).collect()
    }
}

/// The largest aligned blocks covering `lo..=hi` exactly, as `(start, prefix length)`, in a
/// `bits`-bit address space (the builder's own decomposition, which the exports use too).
pub use ipsieve_builder::walk::cidrs;

/// Merges possibly overlapping, unordered inclusive ranges into sorted disjoint ones (adjacent
/// ranges are joined).
pub fn merge(ranges: impl Iterator<Item = (u128, u128)>) -> Vec<(u128, u128)> {
    let mut v: Vec<(u128, u128)> = ranges.collect();
    v.sort_unstable();
    let mut out: Vec<(u128, u128)> = Vec::with_capacity(v.len());
    for (lo, hi) in v {
        match out.last_mut() {
            Some(last) if last.1 == u128::MAX || lo <= last.1 + 1 => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

/// Index of the record an answer points at (its identity: equal indices, equal answers), or
/// [`NONE`] for record 0, the empty answer.
pub fn record_index(_db: &Database, a: &Answer<'_>) -> u32 {
    match ipsieve::format::leaf::record(a.leaf_value()) {
        0 => NONE,
        i => i,
    }
}

/// Reads every disjoint range of the artifact back out by walking each family from its first
/// address (each answer's range end + 1 is the next start) and keeps the non-empty ones, with
/// `value(answer)` as their value (pieces the index splits at /16 boundaries are joined again).
/// `::ffff:0:0/96` is skipped: ipsieve answers it as IPv4.
pub fn from_database(db: &Database, value: impl Fn(&Answer<'_>) -> u32) -> RangeSet {
    let mut set = RangeSet::default();
    let mut x: u32 = 0;
    loop {
        let a = db.lookup_v4(Ipv4Addr::from(x));
        let (IpAddr::V4(lo), IpAddr::V4(hi)) = a.range() else {
            unreachable!("IPv4 answer with an IPv6 range")
        };
        let (lo, hi) = (u32::from(lo), u32::from(hi));
        assert!(lo <= x && x <= hi, "range of {x:#x} is {lo:#x}..={hi:#x}");
        push(&mut set.v4, x, hi, value(&a));
        if hi == u32::MAX {
            break;
        }
        x = hi + 1;
    }
    let mut x: u128 = 0;
    loop {
        if (MAPPED_LO..=MAPPED_HI).contains(&x) {
            x = MAPPED_HI + 1;
            continue;
        }
        let a = db.lookup_v6(Ipv6Addr::from(x));
        let (IpAddr::V6(lo), IpAddr::V6(hi)) = a.range() else {
            unreachable!("IPv6 answer with an IPv4 range")
        };
        let (lo, mut hi) = (u128::from(lo), u128::from(hi));
        assert!(lo <= x && x <= hi, "range of {x:#x} is {lo:#x}..={hi:#x}");
        if x < MAPPED_LO && hi >= MAPPED_LO {
            hi = MAPPED_LO - 1;
        }
        push(&mut set.v6, x, hi, value(&a));
        if hi == u128::MAX {
            break;
        }
        x = hi + 1;
    }
    set.v4.retain(|r| r.2 != NONE);
    set.v6.retain(|r| r.2 != NONE);
    set
}

/// Appends `lo..=hi` with value `v`, joining it to the previous range when adjacent and equal.
fn push<T: Copy + PartialEq + std::ops::Add<Output = T> + From<u8>>(
    v: &mut Vec<(T, T, u32)>,
    lo: T,
    hi: T,
    value: u32,
) {
    if let Some(last) = v.last_mut() {
        if last.2 == value && last.1 + T::from(1) == lo {
            last.1 = hi;
            return;
        }
    }
    v.push((lo, hi, value));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidrs_cover_exactly() {
        assert_eq!(cidrs(0, u128::from(u32::MAX), 32), vec![(0, 0)]);
        assert_eq!(cidrs(0, u128::MAX, 128), vec![(0, 0)]);
        assert_eq!(cidrs(5, 5, 32), vec![(5, 32)]);
        assert_eq!(cidrs(1, 6, 32), vec![(1, 32), (2, 31), (4, 31), (6, 32)]);
        let mut rng = fastrand::Rng::with_seed(7);
        for _ in 0..2000 {
            let a = rng.u128(..) >> rng.u32(0..128);
            let b = a.saturating_add(rng.u128(..) >> rng.u32(0..128));
            let blocks = cidrs(a, b, 128);
            let mut next = a;
            for (s, len) in blocks {
                assert_eq!(s, next);
                let size_log = 128 - u32::from(len);
                assert!(size_log == 128 || s % (1u128 << size_log) == 0);
                next = s.wrapping_add(if size_log == 128 {
                    0
                } else {
                    1u128 << size_log
                });
            }
            assert_eq!(next, b.wrapping_add(1));
        }
    }

    #[test]
    fn merge_joins_overlaps_and_neighbours() {
        let m = merge([(10, 20), (0, 4), (5, 7), (15, 30), (40, 40)].into_iter());
        assert_eq!(m, vec![(0, 7), (10, 30), (40, 40)]);
    }
}
