//! Special-purpose address blocks (IANA's IPv4 and IPv6 special-purpose registries, RFC 6890
//! and successors) that no public list can honestly claim as a Tor exit, VPN endpoint, proxy,
//! hosting or relay address: private, shared (CGNAT), loopback, link-local, multicast,
//! reserved, unspecified, IPv6 unique-local. A categorised entry overlapping one is rejected
//! with the block's name ([`crate::Limits::reject_special`]).
//!
//! Documentation blocks (`192.0.2.0/24`, `2001:db8::/32`, …) are left out on purpose: no real
//! list contains them, and tests and examples use them as stand-ins for public space.

/// One block [`overlap`] checks: its first and last address, and how it is named.
struct Block {
    first: u128,
    last: u128,
    v6: bool,
    special: ipsieve::special::Special,
}

/// The blocks [`overlap`] checks, in the order of [`ipsieve::special::all`], as integer bounds
/// worked out once: the check runs for every entry a list adds (millions on a full build), and
/// filtering the registry by name and converting its networks on each call took 12 % of a
/// full build.
fn blocks() -> &'static [Block] {
    static BLOCKS: std::sync::OnceLock<Vec<Block>> = std::sync::OnceLock::new();
    BLOCKS.get_or_init(|| {
        ipsieve::special::all()
            .filter(|s| s.is_bogon() && !s.name().starts_with("Documentation"))
            .filter(|s| s.name() != "Benchmarking")
            .map(|special| {
                let (first, last, v6) = match special.network() {
                    ipnet::IpNet::V4(n) => (
                        u128::from(u32::from(n.network())),
                        u128::from(u32::from(n.broadcast())),
                        false,
                    ),
                    ipnet::IpNet::V6(n) => {
                        (u128::from(n.network()), u128::from(n.broadcast()), true)
                    }
                };
                Block {
                    first,
                    last,
                    v6,
                    special,
                }
            })
            .collect()
    })
}

/// The first special block that `lo..=hi` overlaps, as "CIDR, what it is (RFC)": a bogon block
/// of [`ipsieve::special`] (the IANA registries plus multicast), documentation and benchmarking
/// blocks left out.
pub(crate) fn overlap(lo: u128, hi: u128, v6: bool) -> Option<String> {
    blocks()
        .iter()
        .find(|b| b.v6 == v6 && lo <= b.last && b.first <= hi)
        .map(|b| {
            let s = &b.special;
            format!("{}, {} ({})", s.network(), s.name(), s.rfc())
        })
}

#[cfg(test)]
mod tests {
    use super::overlap;

    #[test]
    fn overlaps_at_the_edges_only() {
        let v4 = |s: &str| u128::from(u32::from(s.parse::<std::net::Ipv4Addr>().unwrap()));
        assert!(overlap(v4("10.0.0.0"), v4("10.0.0.255"), false).is_some());
        assert!(overlap(v4("9.255.255.255"), v4("10.0.0.0"), false).is_some());
        assert!(overlap(v4("9.0.0.0"), v4("9.255.255.255"), false).is_none());
        assert!(overlap(v4("11.0.0.0"), v4("100.63.255.255"), false).is_none());
        assert!(overlap(v4("100.127.255.255"), v4("100.128.0.0"), false).is_some());
        assert!(overlap(v4("185.220.101.1"), v4("185.220.101.1"), false).is_none());
        assert!(overlap(v4("192.0.2.0"), v4("192.0.2.255"), false).is_none());
        let v6 = |s: &str| u128::from(s.parse::<std::net::Ipv6Addr>().unwrap());
        assert!(overlap(v6("fd00::"), v6("fd00::ff"), true).is_some());
        assert!(overlap(v6("2001:db8::"), v6("2001:db8::ff"), true).is_none());
        assert!(overlap(v6("2a00::"), v6("2a00::ffff"), true).is_none());
        assert!(overlap(v6("::"), v6("::"), true).is_some());
        assert!(overlap(v6("::2"), v6("::ffff"), true).is_none());
    }
}
