//! Special-purpose address blocks (IANA's IPv4 and IPv6 special-purpose registries, RFC 6890
//! and successors) that no public list can honestly claim as a Tor exit, VPN endpoint, proxy,
//! hosting or relay address: private, shared (CGNAT), loopback, link-local, multicast,
//! reserved, unspecified, IPv6 unique-local. A categorised entry overlapping one is rejected
//! with the block's name ([`crate::Limits::reject_special`]).
//!
//! Documentation blocks (`192.0.2.0/24`, `2001:db8::/32`, …) are left out on purpose: no real
//! list contains them, and tests and examples use them as stand-ins for public space.

/// IPv4 blocks, ascending: (first, last, CIDR, what it is).
const V4: &[(u32, u32, &str, &str)] = &[
    (
        0x0000_0000,
        0x00FF_FFFF,
        "0.0.0.0/8",
        "\"this network\" (RFC 791)",
    ),
    (0x0A00_0000, 0x0AFF_FFFF, "10.0.0.0/8", "private (RFC 1918)"),
    (
        0x6440_0000,
        0x647F_FFFF,
        "100.64.0.0/10",
        "shared address space, CGNAT (RFC 6598)",
    ),
    (
        0x7F00_0000,
        0x7FFF_FFFF,
        "127.0.0.0/8",
        "loopback (RFC 1122)",
    ),
    (
        0xA9FE_0000,
        0xA9FE_FFFF,
        "169.254.0.0/16",
        "link-local (RFC 3927)",
    ),
    (
        0xAC10_0000,
        0xAC1F_FFFF,
        "172.16.0.0/12",
        "private (RFC 1918)",
    ),
    (
        0xC0A8_0000,
        0xC0A8_FFFF,
        "192.168.0.0/16",
        "private (RFC 1918)",
    ),
    (
        0xE000_0000,
        0xEFFF_FFFF,
        "224.0.0.0/4",
        "multicast (RFC 5771)",
    ),
    (
        0xF000_0000,
        0xFFFF_FFFF,
        "240.0.0.0/4",
        "reserved and broadcast (RFC 1112, RFC 919)",
    ),
];

/// IPv6 blocks, ascending. IPv4-mapped addresses never reach here (they are stored as IPv4).
const V6: &[(u128, u128, &str, &str)] = &[
    (0, 0, "::/128", "unspecified (RFC 4291)"),
    (1, 1, "::1/128", "loopback (RFC 4291)"),
    (
        0xfc00 << 112,
        (0xfe00 << 112) - 1,
        "fc00::/7",
        "unique local (RFC 4193)",
    ),
    (
        0xfe80 << 112,
        (0xfec0 << 112) - 1,
        "fe80::/10",
        "link-local (RFC 4291)",
    ),
    (0xff00 << 112, u128::MAX, "ff00::/8", "multicast (RFC 4291)"),
];

/// The first special block that `lo..=hi` overlaps, as "CIDR, what it is".
pub(crate) fn overlap(lo: u128, hi: u128, v6: bool) -> Option<String> {
    let hit = |(a, b): (u128, u128)| lo <= b && a <= hi;
    if v6 {
        V6.iter()
            .find(|&&(a, b, _, _)| hit((a, b)))
            .map(|(_, _, net, what)| format!("{net}, {what}"))
    } else {
        V4.iter()
            .find(|&&(a, b, _, _)| hit((u128::from(a), u128::from(b))))
            .map(|(_, _, net, what)| format!("{net}, {what}"))
    }
}

#[cfg(test)]
mod tests {
    use super::{overlap, V4, V6};

    #[test]
    fn tables_match_their_cidrs() {
        for &(a, b, net, _) in V4 {
            let n: ipnet::Ipv4Net = net.parse().unwrap();
            assert_eq!(
                (u32::from(n.network()), u32::from(n.broadcast())),
                (a, b),
                "{net}"
            );
        }
        for &(a, b, net, _) in V6 {
            let n: ipnet::Ipv6Net = net.parse().unwrap();
            assert_eq!(
                (u128::from(n.network()), u128::from(n.broadcast())),
                (a, b),
                "{net}"
            );
        }
    }

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
