//! Hosting from VPN co-location (`docs/INTELLIGENCE.md`, "VPN co-location"; runs when the
//! manifest says `vpn_colocation = true`, [`crate::Builder::vpn_colocation`]): an AS on no
//! hosting list that announces the servers of [`MIN_PROVIDERS`] or more VPN providers, by the
//! build's own VPN server lists, gets `hosting` at the `asn-heuristic` tier through one source
//! the builder derives, `vpn-colocation`.
//!
//! VPN brands rent their servers from the same few dozen hosters (M247, Datacamp, Tzulo,
//! EstNOC…), and an AS several independent brands chose is a hoster whatever its name says. It
//! is the evidence X4BNet's VPN-ASN list is compiled from by hand, measured on every build: a
//! brand's new hoster is found once two other brands use it.
//!
//! * **Servers**: every entry asserting `vpn` of a `first-party` or `curated` source that names
//!   a provider (the entry's or the source's); ASN-wide lists and derived sources have none.
//! * **Providers** are told apart by name: a brand's own list and a copy of it (Mullvad's relay
//!   API, X4BNet's Mullvad list) count once; every brand of a multi-brand list counts.
//! * **Origin AS**: of the routing entry covering the server's first address that the
//!   compiler would pick (a current routing source before a historical one, then the
//!   narrowest, ties by source name).
//! * **Eyeball guard**: a large eyeball network ([`crate::eyeball`]: 1 % or more of its
//!   country's routed IPv4 space and at least a /12) never matches: AT&T's and Tele2's access
//!   networks carry the servers of three brands each in the shared data. (The share alone, as
//!   the keyword rule uses it, would hold back a hoster of a small country: EstNOC's AS206804
//!   announces 1 % of Estonia's space in 62 /24s.)
//! * **Listed ASNs** (as `hosting`, siblings included) keep their lists' signals and get no
//!   co-location signal on top.
//!
//! The derived source's snapshot date is the newest of the server lists that counted, so its
//! weight decays like theirs.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use ipsieve::{Categories, Tier};
use serde::Serialize;

use crate::builder::{Builder, Entry, SourceSpec};
use crate::eyeball::Eyeball;
use crate::siblings::Derived;

/// The derived source's name.
pub const SOURCE: &str = "vpn-colocation";

/// The number of VPN providers whose servers an AS must announce.
pub const MIN_PROVIDERS: usize = 3;

/// What the co-location rule derived, for the build report.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ColocationLine {
    /// ASNs announcing the servers of enough providers, on no hosting list and not eyeball
    /// networks: they get `hosting`.
    pub asns: Vec<u32>,
    /// ASNs announcing the servers of enough providers that the eyeball guard held back.
    pub eyeball: Vec<u32>,
}

impl ColocationLine {
    /// No AS announces the servers of enough providers.
    pub fn is_empty(&self) -> bool {
        self.asns.is_empty() && self.eyeball.is_empty()
    }
}

/// Adds the `vpn-colocation` source to `out` when an unlisted AS announces the servers of
/// [`MIN_PROVIDERS`] or more VPN providers. `historical` is, per source of `b`, whether it is a
/// historical routing source ([`crate::compile::historical_routes`]).
pub(crate) fn derive(
    b: &Builder,
    eyeball: &Eyeball,
    historical: &[bool],
    out: &mut Derived,
) -> ColocationLine {
    let mut line = ColocationLine::default();
    if b.by_name.contains_key(SOURCE) {
        return line;
    }
    // A server: (first address, provider, source) of a provider-named vpn entry of a
    // first-party or curated source.
    let server = |e: &Entry| {
        let tier = b.sources[e.src as usize].tier;
        let counts = e.cats & Categories::VPN.bits() != 0
            && matches!(tier, Tier::FirstParty | Tier::Curated);
        e.provider.filter(|_| counts).map(|p| (e.lo, p, e.src))
    };
    let name_rank = crate::compile::rank_by(
        &b.sources
            .iter()
            .map(|s| s.name.as_str())
            .collect::<Vec<_>>(),
    );
    // Source index → (historical, name rank): the compiler's order of routing sources.
    let order: Vec<(bool, u32)> = historical.iter().copied().zip(name_rank).collect();
    // ASN → the providers whose servers it announces, and the server lists that counted.
    let mut providers: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let mut lists: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    for family in [&b.v4, &b.v6] {
        let mut servers: Vec<(u128, u32, u32)> = family.iter().filter_map(server).collect();
        if servers.is_empty() {
            continue;
        }
        servers.sort_unstable();
        for (&(_, provider, src), asn) in servers.iter().zip(origins(family, &servers, &order)) {
            if let Some(asn) = asn {
                providers.entry(asn).or_default().insert(provider);
                lists.entry(asn).or_default().insert(src);
            }
        }
    }
    let mut counted: BTreeSet<u32> = BTreeSet::new();
    for (asn, p) in providers {
        if p.len() < MIN_PROVIDERS || out.listed(asn).contains(Categories::HOSTING) {
            continue;
        }
        if eyeball.is_large(asn) {
            line.eyeball.push(asn);
        } else {
            line.asns.push(asn);
            counted.extend(&lists[&asn]);
        }
    }
    if !line.asns.is_empty() {
        let id = out.sources.len() as u32;
        let mut spec = SourceSpec::new(SOURCE, "vpn-colocation")
            .categories(Categories::HOSTING)
            .tier(Tier::AsnHeuristic);
        spec.snapshot_day = counted
            .iter()
            .filter_map(|&s| b.sources[s as usize].snapshot_day)
            .max();
        out.sources.push(spec);
        for &asn in &line.asns {
            out.asn_lists.entry(asn).or_default().push(id);
        }
    }
    line
}

/// A route as the sweep of [`origins`] ranks it: (historical, width, source name rank, ASN,
/// last address).
type Route = (bool, u128, u32, u32, u128);

/// The origin AS of each server (sorted by first address): of the routing entries of `family`
/// covering its first address, the one the compiler picks (`order`: per source, whether it is
/// historical and its name rank; then the narrowest entry).
fn origins(
    family: &[Entry],
    servers: &[(u128, u32, u32)],
    order: &[(bool, u32)],
) -> Vec<Option<u32>> {
    // The routing entries covering at least one server, by first address. (A binary search
    // per entry: the servers are few, the routing entries millions.)
    let covers = |e: &Entry| {
        let at = servers.partition_point(|s| s.0 < e.lo);
        servers.get(at).is_some_and(|s| s.0 <= e.hi)
    };
    let mut routes: Vec<(u128, u128, (bool, u32), u32)> = family
        .iter()
        .filter(|e| e.asn.is_some() && covers(e))
        .filter_map(|e| e.asn.map(|a| (e.lo, e.hi, order[e.src as usize], a)))
        .collect();
    routes.sort_unstable();
    // Sweep: the heap holds every route started so far, first as the compiler ranks them
    // (historical, width, source name, ASN); routes that ended
    // before the current server are dropped when they reach the top (servers come in order,
    // so an ended route never covers a later one).
    let mut heap: BinaryHeap<Reverse<Route>> = BinaryHeap::new();
    let mut next = routes.iter().peekable();
    servers
        .iter()
        .map(|&(at, _, _)| {
            while let Some(&&(lo, hi, (old, rank), asn)) = next.peek() {
                if lo > at {
                    break;
                }
                heap.push(Reverse((old, hi - lo, rank, asn, hi)));
                next.next();
            }
            while heap.peek().is_some_and(|Reverse(r)| r.4 < at) {
                heap.pop();
            }
            heap.peek().map(|Reverse(r)| r.3)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::origins;
    use crate::builder::Entry;

    fn route(lo: u128, hi: u128, src: u32, asn: u32) -> Entry {
        Entry {
            lo,
            hi,
            src,
            cats: 0,
            asn: Some(asn),
            provider: None,
            country: None,
        }
    }

    #[test]
    fn the_compilers_route_gives_the_origin() {
        let family = [
            route(0, 255, 0, 1),
            route(16, 31, 0, 2),
            // Same width as the one above, from a source ranked first: it wins.
            route(16, 31, 1, 3),
            route(100, 100, 0, 4),
            route(300, 400, 0, 5),
            // From a historical source: the current one's wider route wins.
            route(50, 50, 2, 6),
            route(600, 700, 2, 7),
        ];
        let servers = [
            (5, 0, 0),
            (20, 0, 0),
            (40, 0, 0),
            (50, 0, 0),
            (100, 0, 0),
            (256, 0, 0),
            (650, 0, 0),
        ];
        // Sources 0 and 1 current, source 2 historical; by name: 1, 0, 2.
        let order = [(false, 1), (false, 0), (true, 2)];
        assert_eq!(
            origins(&family, &servers, &order),
            [Some(1), Some(3), Some(1), Some(1), Some(4), None, Some(7)]
        );
    }
}
