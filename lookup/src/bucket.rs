//! Rate-limiting keys: one key per IPv4 address, one per IPv6 /64, /56 or /48.
//!
//! An IPv6 host usually owns a whole /64 (SLAAC, privacy addresses rotate inside it) and a
//! subscriber often a /56 or /48, so limiting per IPv6 address lets one client multiply its
//! quota by 2^64. [`BucketKey`] groups addresses the way a limiter should count them.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

/// How wide an IPv6 rate-limiting bucket is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum V6Bucket {
    /// One /64: one host or one LAN (the usual choice).
    #[default]
    Slash64,
    /// One /56: a typical residential delegation.
    Slash56,
    /// One /48: a typical site or business delegation.
    Slash48,
}

impl V6Bucket {
    /// All widths, narrowest first.
    pub const ALL: [V6Bucket; 3] = [V6Bucket::Slash64, V6Bucket::Slash56, V6Bucket::Slash48];

    /// The prefix length (64, 56 or 48).
    pub const fn prefix_len(self) -> u8 {
        match self {
            V6Bucket::Slash64 => 64,
            V6Bucket::Slash56 => 56,
            V6Bucket::Slash48 => 48,
        }
    }

    /// From a prefix length; `None` unless it is 64, 56 or 48.
    pub const fn from_prefix_len(len: u8) -> Option<V6Bucket> {
        match len {
            64 => Some(V6Bucket::Slash64),
            56 => Some(V6Bucket::Slash56),
            48 => Some(V6Bucket::Slash48),
            _ => None,
        }
    }
}

/// A rate-limiting key: an IPv4 address, or the IPv6 network of a [`V6Bucket`] width that
/// contains an IPv6 address. IPv4-mapped IPv6 (`::ffff:a.b.c.d`) keys as its IPv4 address, so
/// a dual-stack socket and an IPv4 socket count the same client once.
///
/// `Copy`, 20 bytes, `Hash + Eq + Ord`: use it directly as a `HashMap` or `BTreeMap` key.
/// Keys of different widths never compare equal, even when their networks start at the same
/// address.
///
/// ```
/// use ipsieve::{BucketKey, V6Bucket};
///
/// let a = BucketKey::new("2001:db8:1:2::1".parse().unwrap(), V6Bucket::Slash64);
/// let b = BucketKey::new("2001:db8:1:2:ffff::9".parse().unwrap(), V6Bucket::Slash64);
/// assert_eq!(a, b);
/// assert_eq!(a.to_string(), "2001:db8:1:2::/64");
///
/// let v4 = BucketKey::new("::ffff:192.0.2.7".parse().unwrap(), V6Bucket::Slash48);
/// assert_eq!(v4, BucketKey::new("192.0.2.7".parse().unwrap(), V6Bucket::Slash64));
/// assert_eq!(v4.to_string(), "192.0.2.7/32");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BucketKey {
    /// First address of the bucket.
    start: IpAddr,
    /// Prefix length: 32 for IPv4, 64, 56 or 48 for IPv6.
    len: u8,
}

impl BucketKey {
    /// The bucket of `ip`: the address itself for IPv4 (and IPv4-mapped IPv6), the `width`
    /// network containing it for IPv6. Never allocates, never panics.
    #[inline]
    pub fn new(ip: IpAddr, width: V6Bucket) -> BucketKey {
        match ip.to_canonical() {
            IpAddr::V4(a) => BucketKey::v4(a),
            IpAddr::V6(a) => BucketKey::v6(a, width),
        }
    }

    /// The bucket of an IPv4 address (the address itself).
    #[inline]
    pub fn v4(ip: Ipv4Addr) -> BucketKey {
        BucketKey {
            start: IpAddr::V4(ip),
            len: 32,
        }
    }

    /// The bucket of an IPv6 address, without the IPv4-mapped check of [`BucketKey::new`].
    #[inline]
    pub fn v6(ip: Ipv6Addr, width: V6Bucket) -> BucketKey {
        let len = width.prefix_len();
        let mask = u128::MAX << (128 - u32::from(len));
        BucketKey {
            start: IpAddr::V6(Ipv6Addr::from(u128::from(ip) & mask)),
            len,
        }
    }

    /// First address of the bucket.
    #[inline]
    pub fn addr(&self) -> IpAddr {
        self.start
    }

    /// Prefix length of the bucket: 32 for IPv4; 64, 56 or 48 for IPv6.
    #[inline]
    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// The bucket as a network (`192.0.2.7/32`, `2001:db8:1:200::/56`).
    pub fn network(&self) -> IpNet {
        match self.start {
            IpAddr::V4(a) => IpNet::V4(Ipv4Net::from(a)),
            IpAddr::V6(a) => {
                IpNet::V6(Ipv6Net::new(a, self.len).unwrap_or_else(|_| Ipv6Net::from(a)))
            }
        }
    }
}

impl fmt::Display for BucketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.start, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ip: &str, w: V6Bucket) -> BucketKey {
        BucketKey::new(ip.parse().unwrap(), w)
    }

    #[test]
    fn v6_widths_cut_at_the_right_bit() {
        let ip = "2001:db8:abcd:12ff:1:2:3:4";
        assert_eq!(
            key(ip, V6Bucket::Slash64).to_string(),
            "2001:db8:abcd:12ff::/64"
        );
        assert_eq!(
            key(ip, V6Bucket::Slash56).to_string(),
            "2001:db8:abcd:1200::/56"
        );
        assert_eq!(key(ip, V6Bucket::Slash48).to_string(), "2001:db8:abcd::/48");
        // The neighbouring /56 inside the same /48.
        assert_ne!(
            key(ip, V6Bucket::Slash56),
            key("2001:db8:abcd:1300::1", V6Bucket::Slash56)
        );
        assert_eq!(
            key(ip, V6Bucket::Slash48),
            key("2001:db8:abcd:1300::1", V6Bucket::Slash48)
        );
    }

    #[test]
    fn widths_of_one_network_are_different_keys() {
        let a = key("2001:db8::1", V6Bucket::Slash64);
        let b = key("2001:db8::1", V6Bucket::Slash48);
        assert_eq!(a.addr(), b.addr());
        assert_ne!(a, b);
    }

    #[test]
    fn ipv4_and_mapped_ipv4_are_the_address() {
        for w in V6Bucket::ALL {
            assert_eq!(key("198.51.100.9", w).to_string(), "198.51.100.9/32");
            assert_eq!(key("::ffff:198.51.100.9", w), key("198.51.100.9", w));
        }
        assert_ne!(
            key("198.51.100.9", V6Bucket::Slash64),
            key("198.51.100.10", V6Bucket::Slash64)
        );
    }

    #[test]
    fn extremes_and_round_trips() {
        let top = BucketKey::v6(Ipv6Addr::from(u128::MAX), V6Bucket::Slash48);
        assert_eq!(top.to_string(), "ffff:ffff:ffff::/48");
        assert_eq!(top.network().to_string(), "ffff:ffff:ffff::/48");
        assert_eq!(
            BucketKey::v6(Ipv6Addr::UNSPECIFIED, V6Bucket::Slash64).to_string(),
            "::/64"
        );
        for w in V6Bucket::ALL {
            assert_eq!(V6Bucket::from_prefix_len(w.prefix_len()), Some(w));
        }
        assert_eq!(V6Bucket::from_prefix_len(32), None);
        assert!(std::mem::size_of::<BucketKey>() <= 20);
    }
}
