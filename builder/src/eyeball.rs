//! Eyeball networks: ASNs that announce a large share of their country's routed space, the
//! access networks of national ISPs and mobile operators. Two rules of the build hold back
//! weak hosting evidence inside them (`docs/INTELLIGENCE.md`):
//!
//! * the AS-organisation sibling rule never lets such an ASN inherit a list's categories
//!   ([`crate::siblings`]);
//! * **aggregates inside eyeball space.** A hosting claim that only third-party aggregates
//!   make (a [`Tier::Curated`](ipsieve::Tier::Curated) source asserting `hosting` alone and
//!   naming no provider: X4BNet's datacenter list, ipcat) is dropped where the range's origin
//!   AS is a *large* eyeball network (an IPv4 share as above and at least [`LARGE_V4`] IPv4
//!   addresses) that no list names as hosting. Aggregates keep blocks their owners have since
//!   handed to customers (X4BNet still lists Sprint's former blocks, now T-Mobile US's mobile
//!   space; ipcat, last changed in 2019, ranges now used by Reliance Jio); a provider's own
//!   list, a provider-named copy, an ASN list and any other source asserting `hosting` there
//!   keep it.
//!
//! The share is measured in the build's own routing data: an ASN announcing
//! [`EYEBALL_SHARE_PERMILLE`]‰ or more of its country's routed space (either family; its
//! registered country as the AS-name source gives it, else the whole routed space).

use std::collections::HashMap;

use crate::builder::Builder;

/// An ASN announcing this share (per mille) of its country's routed space is an eyeball
/// network.
pub const EYEBALL_SHARE_PERMILLE: u128 = 10;

/// The IPv4 addresses (a /12) a large eyeball network announces at least, for the rule on
/// aggregates: a national access network serves millions of subscribers.
pub const LARGE_V4: u128 = 1 << 20;

/// The routed space of a build, per ASN and per country.
pub(crate) struct Eyeball {
    /// Routed addresses per ASN (IPv4, IPv6).
    pub space: HashMap<u32, (u128, u128)>,
    /// ASN → registered country.
    country: HashMap<u32, [u8; 2]>,
    /// Routed addresses per country (`None`: ASNs without one).
    country_total: HashMap<Option<[u8; 2]>, (u128, u128)>,
    /// Routed addresses of every ASN.
    everywhere: (u128, u128),
}

impl Eyeball {
    /// Measures the routed space of the builder's routing entries.
    pub fn new(b: &Builder) -> Self {
        let space = routed_space(b);
        let country: HashMap<u32, [u8; 2]> = space
            .keys()
            .filter_map(|a| b.as_country.get(a).map(|&c| (*a, c)))
            .collect();
        let mut country_total: HashMap<Option<[u8; 2]>, (u128, u128)> = HashMap::new();
        for (&asn, &(v4, v6)) in &space {
            let t = country_total.entry(country.get(&asn).copied()).or_default();
            t.0 = t.0.saturating_add(v4);
            t.1 = t.1.saturating_add(v6);
        }
        let everywhere = country_total.values().fold((0u128, 0u128), |a, t| {
            (a.0.saturating_add(t.0), a.1.saturating_add(t.1))
        });
        Eyeball {
            space,
            country,
            country_total,
            everywhere,
        }
    }

    /// Whether `asn` announces [`EYEBALL_SHARE_PERMILLE`]‰ or more of its country's routed
    /// space in either family.
    pub fn holds(&self, asn: u32) -> bool {
        let (v4, v6) = self.share(asn);
        v4 || v6
    }

    /// Whether `asn` announces [`EYEBALL_SHARE_PERMILLE`]‰ or more of its country's routed
    /// space, per family.
    fn share(&self, asn: u32) -> (bool, bool) {
        let (v4, v6) = self.space.get(&asn).copied().unwrap_or_default();
        let (t4, t6) = match self.country.get(&asn) {
            Some(&cc) => self
                .country_total
                .get(&Some(cc))
                .copied()
                .unwrap_or_default(),
            None => self.everywhere,
        };
        let big = |n: u128, t: u128| {
            t > 0 && n.saturating_mul(1000) >= t.saturating_mul(EYEBALL_SHARE_PERMILLE)
        };
        (big(v4, t4), big(v6, t6))
    }

    /// The large eyeball networks of the build: ASNs announcing [`EYEBALL_SHARE_PERMILLE`]‰ or
    /// more of their country's routed IPv4 space and at least [`LARGE_V4`] IPv4 addresses.
    /// (IPv6 shares say little about size, as a small hoster's allocation is as big as a
    /// national ISP's; a share of a small country's space can be a small network.)
    pub fn large(&self) -> impl Iterator<Item = u32> + '_ {
        self.space.keys().copied().filter(|&a| self.is_large(a))
    }

    /// Whether `asn` is one of [`Eyeball::large`].
    pub fn is_large(&self, asn: u32) -> bool {
        self.space
            .get(&asn)
            .is_some_and(|&(v4, _)| v4 >= LARGE_V4 && self.share(asn).0)
    }
}

/// Routed addresses per ASN (IPv4, IPv6): the union of its routing entries' ranges.
fn routed_space(b: &Builder) -> HashMap<u32, (u128, u128)> {
    let mut space: HashMap<u32, (u128, u128)> = HashMap::new();
    // IPv4 in 32-bit words: a third of the bytes to sort on a full routing table.
    let v4: Vec<(u32, u32, u32)> =
        b.v4.iter()
            .filter_map(|e| e.asn.map(|a| (a, e.lo as u32, e.hi as u32)))
            .collect();
    for (asn, n) in union_per_asn(v4) {
        space.entry(asn).or_default().0 = n;
    }
    let v6: Vec<(u32, u128, u128)> =
        b.v6.iter()
            .filter_map(|e| e.asn.map(|a| (a, e.lo, e.hi)))
            .collect();
    for (asn, n) in union_per_asn(v6) {
        space.entry(asn).or_default().1 = n;
    }
    space
}

/// Per ASN, the number of addresses in the union of its inclusive ranges.
fn union_per_asn<T: Copy + Ord + Into<u128>>(mut spans: Vec<(u32, T, T)>) -> Vec<(u32, u128)> {
    spans.sort_unstable();
    let mut out: Vec<(u32, u128)> = Vec::new();
    let mut open: Option<(u32, u128, u128)> = None;
    for (asn, lo, hi) in spans {
        let (lo, hi) = (lo.into(), hi.into());
        match &mut open {
            // Overlapping or adjacent: extend.
            Some((a, _, h)) if *a == asn && (*h == u128::MAX || lo <= *h + 1) => *h = (*h).max(hi),
            _ => {
                if let Some((a, l, h)) = open.replace((asn, lo, hi)) {
                    add_span(&mut out, a, l, h);
                }
            }
        }
    }
    if let Some((a, l, h)) = open {
        add_span(&mut out, a, l, h);
    }
    out
}

fn add_span(out: &mut Vec<(u32, u128)>, asn: u32, lo: u128, hi: u128) {
    let n = (hi - lo).saturating_add(1);
    match out.last_mut() {
        Some((a, total)) if *a == asn => *total = total.saturating_add(n),
        _ => out.push((asn, n)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn routed_space_is_the_union_of_each_asns_ranges() {
        let spans = vec![
            (7u32, 10u32, 19u32),
            (7, 15, 24),
            (7, 25, 29),
            (7, 40, 40),
            (9, 0, u32::MAX),
            (5, 3, 3),
        ];
        assert_eq!(super::union_per_asn(spans), [(5, 1), (7, 21), (9, 1 << 32)]);
        let all = vec![(1u32, 0u128, u128::MAX), (1, 5, 6)];
        assert_eq!(super::union_per_asn(all), [(1, u128::MAX)]);
    }
}
