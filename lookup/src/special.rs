//! Special-purpose address space: the IANA IPv4 and IPv6 Special-Purpose Address Registries
//! (RFC 6890 and the RFCs each block cites), built in, no artifact needed.
//!
//! [`lookup`] names the most specific registered block holding an address (`10.0.0.1` is
//! Private-Use `10.0.0.0/8`, `192.0.0.9` is the PCP anycast `192.0.0.9/32` inside the IETF
//! protocol assignments `192.0.0.0/24`), with the registry's "globally reachable" column and
//! whether operators treat it as a **bogon** (a source address that cannot appear on the public
//! internet, so one that does was spoofed). IPv4-mapped IPv6 addresses answer as their IPv4
//! address, as lookups do.
//!
//! Registry state: IPv4 as updated 2020-09-04, IPv6 as updated 2024-05 (with `3fff::/20`,
//! RFC 9637, and `5f00::/16`, RFC 9602).
//!
//! ```
//! let s = ipsieve::special::lookup("10.1.2.3".parse().unwrap()).unwrap();
//! assert_eq!(s.network().to_string(), "10.0.0.0/8");
//! assert_eq!(s.name(), "Private-Use");
//! assert!(s.is_bogon() && !s.is_globally_reachable());
//! assert!(ipsieve::special::lookup("8.8.8.8".parse().unwrap()).is_none());
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// The source format of the RIRs' delegated statistics files (`ipsieve-sources`' `rir`
/// parser): an artifact built with those of all five [`RIRS`] knows which space has been
/// delegated, so [`crate::Answer::is_bogon`] can name what has not.
pub const RIR_DELEGATED_FORMAT: &str = "rir-delegated";

/// The five regional internet registries, as their statistics files name them.
pub const RIRS: [&str; 5] = ["afrinic", "apnic", "arin", "lacnic", "ripencc"];

/// The artifact metadata key listing the registries whose delegations the build read
/// (comma-separated, sorted): the builder writes it, the lookup compares it with [`RIRS`].
pub const RIR_REGISTRIES_KEY: &str = "rir_registries";

/// One block of a special-purpose registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Special {
    /// First address, as an integer of the family.
    first: u128,
    /// Prefix length.
    len: u8,
    v6: bool,
    name: &'static str,
    rfc: &'static str,
    global: bool,
    bogon: bool,
}

impl Special {
    /// The registered block.
    pub fn network(&self) -> IpNet {
        if self.v6 {
            IpNet::V6(Ipv6Net::new(Ipv6Addr::from(self.first), self.len).unwrap_or_default())
        } else {
            IpNet::V4(Ipv4Net::new(Ipv4Addr::from(self.first as u32), self.len).unwrap_or_default())
        }
    }
    /// The registry's name for the block (`"Private-Use"`, `"Loopback"`, `"Documentation
    /// (TEST-NET-1)"`, …).
    pub fn name(&self) -> &'static str {
        self.name
    }
    /// The RFC that registered it (`"RFC 1918"`).
    pub fn rfc(&self) -> &'static str {
        self.rfc
    }
    /// The registry's "Globally Reachable" column: whether traffic to the block may cross
    /// administrative domains (6to4, TEREDO, AS112 and the translation prefixes are; private,
    /// loopback, documentation and the like are not).
    pub fn is_globally_reachable(&self) -> bool {
        self.global
    }
    /// Whether the block is a bogon in the operators' sense (Team Cymru's list, RFC 6890's
    /// "not globally reachable", multicast and reserved space): an address from it cannot be a
    /// real client on the public internet.
    pub fn is_bogon(&self) -> bool {
        self.bogon
    }
    fn last(&self) -> u128 {
        let bits = if self.v6 { 128 } else { 32 };
        let host = bits - u32::from(self.len);
        self.first | u128::MAX.checked_shr(128 - host).unwrap_or(0)
    }
}

/// A table row: first address, prefix length, name, RFC, globally reachable, bogon.
type Row = (u128, u8, &'static str, &'static str, bool, bool);

const fn v4(a: u8, b: u8, c: u8, d: u8) -> u128 {
    (a as u128) << 24 | (b as u128) << 16 | (c as u128) << 8 | d as u128
}

/// The IPv4 registry, ascending by first address then prefix length.
const V4: &[Row] = &[
    (
        v4(0, 0, 0, 0),
        8,
        "\"This network\"",
        "RFC 791",
        false,
        true,
    ),
    (
        v4(0, 0, 0, 0),
        32,
        "\"This host on this network\"",
        "RFC 1122",
        false,
        true,
    ),
    (v4(10, 0, 0, 0), 8, "Private-Use", "RFC 1918", false, true),
    (
        v4(100, 64, 0, 0),
        10,
        "Shared Address Space",
        "RFC 6598",
        false,
        true,
    ),
    (v4(127, 0, 0, 0), 8, "Loopback", "RFC 1122", false, true),
    (
        v4(169, 254, 0, 0),
        16,
        "Link Local",
        "RFC 3927",
        false,
        true,
    ),
    (
        v4(172, 16, 0, 0),
        12,
        "Private-Use",
        "RFC 1918",
        false,
        true,
    ),
    (
        v4(192, 0, 0, 0),
        24,
        "IETF Protocol Assignments",
        "RFC 6890",
        false,
        true,
    ),
    (
        v4(192, 0, 0, 0),
        29,
        "IPv4 Service Continuity Prefix",
        "RFC 7335",
        false,
        true,
    ),
    (
        v4(192, 0, 0, 8),
        32,
        "IPv4 dummy address",
        "RFC 7600",
        false,
        true,
    ),
    (
        v4(192, 0, 0, 9),
        32,
        "Port Control Protocol Anycast",
        "RFC 7723",
        true,
        false,
    ),
    (
        v4(192, 0, 0, 10),
        32,
        "Traversal Using Relays around NAT Anycast",
        "RFC 8155",
        true,
        false,
    ),
    (
        v4(192, 0, 0, 170),
        32,
        "NAT64/DNS64 Discovery",
        "RFC 8880",
        false,
        true,
    ),
    (
        v4(192, 0, 0, 171),
        32,
        "NAT64/DNS64 Discovery",
        "RFC 8880",
        false,
        true,
    ),
    (
        v4(192, 0, 2, 0),
        24,
        "Documentation (TEST-NET-1)",
        "RFC 5737",
        false,
        true,
    ),
    (v4(192, 31, 196, 0), 24, "AS112-v4", "RFC 7535", true, false),
    (v4(192, 52, 193, 0), 24, "AMT", "RFC 7450", true, false),
    (
        v4(192, 88, 99, 0),
        24,
        "Deprecated (6to4 Relay Anycast)",
        "RFC 7526",
        false,
        false,
    ),
    (
        v4(192, 168, 0, 0),
        16,
        "Private-Use",
        "RFC 1918",
        false,
        true,
    ),
    (
        v4(192, 175, 48, 0),
        24,
        "Direct Delegation AS112 Service",
        "RFC 7534",
        true,
        false,
    ),
    (
        v4(198, 18, 0, 0),
        15,
        "Benchmarking",
        "RFC 2544",
        false,
        true,
    ),
    (
        v4(198, 51, 100, 0),
        24,
        "Documentation (TEST-NET-2)",
        "RFC 5737",
        false,
        true,
    ),
    (
        v4(203, 0, 113, 0),
        24,
        "Documentation (TEST-NET-3)",
        "RFC 5737",
        false,
        true,
    ),
    (v4(224, 0, 0, 0), 4, "Multicast", "RFC 5771", false, true),
    (v4(240, 0, 0, 0), 4, "Reserved", "RFC 1112", false, true),
    (
        v4(255, 255, 255, 255),
        32,
        "Limited Broadcast",
        "RFC 919",
        false,
        true,
    ),
];

const fn v6(h: [u16; 8]) -> u128 {
    let mut x = 0u128;
    let mut i = 0;
    while i < 8 {
        x = x << 16 | h[i] as u128;
        i += 1;
    }
    x
}

/// The IPv6 registry, ascending by first address then prefix length. `::ffff:0:0/96` is left
/// out: such addresses answer as their IPv4 address.
const V6: &[Row] = &[
    (0, 128, "Unspecified Address", "RFC 4291", false, true),
    (1, 128, "Loopback Address", "RFC 4291", false, true),
    (
        v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0]),
        96,
        "IPv4-IPv6 Translat.",
        "RFC 6052",
        true,
        false,
    ),
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0]),
        48,
        "IPv4-IPv6 Translat.",
        "RFC 8215",
        false,
        false,
    ),
    (
        v6([0x100, 0, 0, 0, 0, 0, 0, 0]),
        64,
        "Discard-Only Address Block",
        "RFC 6666",
        false,
        true,
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0]),
        23,
        "IETF Protocol Assignments",
        "RFC 2928",
        false,
        false,
    ),
    (
        v6([0x2001, 0, 0, 0, 0, 0, 0, 0]),
        32,
        "TEREDO",
        "RFC 4380",
        false,
        false,
    ),
    (
        v6([0x2001, 1, 0, 0, 0, 0, 0, 1]),
        128,
        "Port Control Protocol Anycast",
        "RFC 7723",
        true,
        false,
    ),
    (
        v6([0x2001, 1, 0, 0, 0, 0, 0, 2]),
        128,
        "Traversal Using Relays around NAT Anycast",
        "RFC 8155",
        true,
        false,
    ),
    (
        v6([0x2001, 1, 0, 0, 0, 0, 0, 3]),
        128,
        "DNS-SD Service Registration Protocol Anycast",
        "RFC 9665",
        true,
        false,
    ),
    (
        v6([0x2001, 2, 0, 0, 0, 0, 0, 0]),
        48,
        "Benchmarking",
        "RFC 5180",
        false,
        true,
    ),
    (
        v6([0x2001, 3, 0, 0, 0, 0, 0, 0]),
        32,
        "AMT",
        "RFC 7450",
        true,
        false,
    ),
    (
        v6([0x2001, 4, 0x112, 0, 0, 0, 0, 0]),
        48,
        "AS112-v6",
        "RFC 7535",
        true,
        false,
    ),
    (
        v6([0x2001, 0x10, 0, 0, 0, 0, 0, 0]),
        28,
        "Deprecated (previously ORCHID)",
        "RFC 4843",
        false,
        true,
    ),
    (
        v6([0x2001, 0x20, 0, 0, 0, 0, 0, 0]),
        28,
        "ORCHIDv2",
        "RFC 7343",
        true,
        false,
    ),
    (
        v6([0x2001, 0x30, 0, 0, 0, 0, 0, 0]),
        28,
        "Drone Remote ID Protocol Entity Tags (DETs) Prefix",
        "RFC 9374",
        true,
        false,
    ),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0]),
        32,
        "Documentation",
        "RFC 3849",
        false,
        true,
    ),
    (
        v6([0x2002, 0, 0, 0, 0, 0, 0, 0]),
        16,
        "6to4",
        "RFC 3056",
        false,
        false,
    ),
    (
        v6([0x2620, 0x4f, 0x8000, 0, 0, 0, 0, 0]),
        48,
        "Direct Delegation AS112 Service",
        "RFC 7534",
        true,
        false,
    ),
    (
        v6([0x3fff, 0, 0, 0, 0, 0, 0, 0]),
        20,
        "Documentation",
        "RFC 9637",
        false,
        true,
    ),
    (
        v6([0x5f00, 0, 0, 0, 0, 0, 0, 0]),
        16,
        "Segment Routing (SRv6) SIDs",
        "RFC 9602",
        false,
        true,
    ),
    (
        v6([0xfc00, 0, 0, 0, 0, 0, 0, 0]),
        7,
        "Unique-Local",
        "RFC 4193",
        false,
        true,
    ),
    (
        v6([0xfe80, 0, 0, 0, 0, 0, 0, 0]),
        10,
        "Link-Local Unicast",
        "RFC 4291",
        false,
        true,
    ),
    (
        v6([0xff00, 0, 0, 0, 0, 0, 0, 0]),
        8,
        "Multicast",
        "RFC 4291",
        false,
        true,
    ),
];

fn block(row: &Row, v6: bool) -> Special {
    let &(first, len, name, rfc, global, bogon) = row;
    Special {
        first,
        len,
        v6,
        name,
        rfc,
        global,
        bogon,
    }
}

/// The most specific special-purpose block holding `ip` (IPv4-mapped IPv6 as IPv4), or `None`
/// for ordinary unicast space. Never allocates; a scan of 50 rows.
pub fn lookup(ip: IpAddr) -> Option<Special> {
    let (x, table, v6) = match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), V4, false),
        IpAddr::V6(a) => match a.to_ipv4_mapped() {
            Some(m) => (u128::from(u32::from(m)), V4, false),
            None => (u128::from(a), V6, true),
        },
    };
    table
        .iter()
        .map(|row| block(row, v6))
        .filter(|b| b.first <= x && x <= b.last())
        .max_by_key(|b| b.len)
}

/// The shortest prefix length, at least `len`, whose network around `ip` overlaps no block
/// that does not hold `ip`: an answer's network never reaches into a special-purpose block
/// from outside it (`11.0.0.1` is in `11.0.0.0/8`, not `10.0.0.0/7`), nor from a block into a
/// more specific block inside it. `ip` is IPv4 or IPv6 as the answer gives it.
pub(crate) fn clear_len(ip: IpAddr, len: u8) -> u8 {
    let (x, table, v6, bits) = match ip {
        IpAddr::V4(a) => (u128::from(u32::from(a)), V4, false, 32u32),
        IpAddr::V6(a) => (u128::from(a), V6, true, 128),
    };
    let mut len = u32::from(len).min(bits);
    for b in table.iter().map(|row| block(row, v6)) {
        if b.first <= x && x <= b.last() {
            continue;
        }
        // Both are aligned blocks of one family: the network at `len` overlaps the block only
        // by holding it, which ends where `x` and the block's first address part.
        let common = ((x ^ b.first) << (128 - bits)).leading_zeros();
        if common >= len {
            len = common + 1;
        }
    }
    len as u8
}

/// Every registered block of both families, IPv4 first, in table order (for tools and tests).
pub fn all() -> impl Iterator<Item = Special> {
    V4.iter()
        .map(|r| block(r, false))
        .chain(V6.iter().map(|r| block(r, true)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_aligned_networks() {
        for s in all() {
            let net = s.network();
            assert_eq!(net.trunc(), net, "{} is not aligned", net);
            assert_eq!(net.prefix_len(), s.len);
        }
    }

    #[test]
    fn networks_stop_at_block_edges() {
        let net = |ip: &str, len: u8| {
            let ip: IpAddr = ip.parse().unwrap();
            let len = clear_len(ip, len);
            IpNet::new(ip, len).unwrap().trunc().to_string()
        };
        // Outside a block, the network stops short of it; inside, short of a nested block.
        assert_eq!(net("11.0.0.1", 7), "11.0.0.0/8");
        assert_eq!(net("11.0.0.1", 0), "11.0.0.0/8");
        assert_eq!(net("8.8.8.8", 0), "8.0.0.0/7");
        assert_eq!(net("192.0.0.9", 24), "192.0.0.9/32");
        assert_eq!(net("192.0.0.128", 24), "192.0.0.128/27"); // .170 and .171 are blocks
        assert_eq!(net("0.0.0.1", 8), "0.0.0.1/32");
        assert_eq!(net("2a00::1", 0), "2800::/5");
        assert_eq!(net("::2", 0), "::2/127");
        assert_eq!(net("10.1.2.3", 8), "10.0.0.0/8");
        assert_eq!(net("10.1.2.3", 30), "10.1.2.0/30");
        // Whatever the start, no network overlaps a block that does not hold the address.
        for ip in [
            "1.1.1.1",
            "100.63.255.255",
            "172.32.0.1",
            "223.255.255.255",
            "2001:db9::1",
            "fe7f::1",
        ] {
            for len in [0, 4, 9, 16] {
                let ip: IpAddr = ip.parse().unwrap();
                let n = IpNet::new(ip, clear_len(ip, len)).unwrap().trunc();
                for b in all() {
                    let bn = b.network();
                    if !bn.contains(&ip) {
                        assert!(!n.contains(&bn) && !bn.contains(&n), "{n} overlaps {bn}");
                    }
                }
            }
        }
    }

    #[test]
    fn most_specific_block_wins() {
        let name =
            |s: &str| lookup(s.parse().unwrap()).map(|b| (b.network().to_string(), b.name()));
        assert_eq!(
            name("10.255.255.255"),
            Some(("10.0.0.0/8".into(), "Private-Use"))
        );
        assert_eq!(name("11.0.0.1"), None);
        assert_eq!(
            name("192.0.0.9"),
            Some(("192.0.0.9/32".into(), "Port Control Protocol Anycast"))
        );
        assert_eq!(name("192.0.0.77").map(|b| b.0), Some("192.0.0.0/24".into()));
        assert_eq!(name("0.0.0.0").map(|b| b.0), Some("0.0.0.0/32".into()));
        assert_eq!(
            name("::ffff:127.0.0.1").map(|b| b.0),
            Some("127.0.0.0/8".into())
        );
        assert_eq!(name("2001:db8::1").map(|b| b.1), Some("Documentation"));
        assert_eq!(name("2001:0:4136:e378::1").map(|b| b.1), Some("TEREDO"));
        assert_eq!(name("2606:4700::1111"), None);
        assert!(lookup("fd00::1".parse().unwrap()).unwrap().is_bogon());
        assert!(!lookup("2002::1".parse().unwrap()).unwrap().is_bogon());
        assert!(!lookup("192.0.0.9".parse().unwrap()).unwrap().is_bogon());
    }
}
