//! The `poptrie` crate's `Poptrie` (Asai and Ohara's structure: 64-ary nodes with a child
//! bitmap and a leaf bitmap, popcount indexing, leaf runs stored once; no direct table on the
//! top bits), answering by longest-prefix match (`lookup`).
//!
//! Built in one go from every CIDR block with `FromIterator`, the crate's bulk constructor
//! (inserting one prefix at a time re-compacts the node array on every call).

use std::net::{Ipv4Addr, Ipv6Addr};

use ::poptrie::Poptrie;
use ipnet::{Ipv4Net, Ipv6Net};

use crate::{Lookup, NONE};

/// One `Poptrie` per family, keyed by the address as an integer (`u32` / `u128`). The crate
/// does not report its memory use.
pub struct PopTrie {
    v4: Poptrie<(u32, u8), u32>,
    v6: Poptrie<(u128, u8), u32>,
}

impl std::fmt::Debug for PopTrie {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PopTrie")
            .field("v4", &self.v4.len())
            .field("v6", &self.v6.len())
            .finish()
    }
}

impl PopTrie {
    /// Builds both families from every network with its value.
    pub fn new(v4: &[(Ipv4Net, u32)], v6: &[(Ipv6Net, u32)]) -> PopTrie {
        PopTrie {
            v4: v4
                .iter()
                .map(|&(n, v)| ((u32::from(n.network()), n.prefix_len()), v))
                .collect(),
            v6: v6
                .iter()
                .map(|&(n, v)| ((u128::from(n.network()), n.prefix_len()), v))
                .collect(),
        }
    }
}

impl Lookup for PopTrie {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        self.v4.lookup(u32::from(ip)).copied().unwrap_or(NONE)
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        self.v6.lookup(u128::from(ip)).copied().unwrap_or(NONE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins() {
        let v4 = [
            ("10.0.0.0/8".parse().unwrap(), 1),
            ("10.1.0.0/16".parse().unwrap(), 2),
            ("10.1.2.3/32".parse().unwrap(), 3),
        ];
        let v6 = [("2001:db8::/32".parse().unwrap(), 7)];
        let t = PopTrie::new(&v4, &v6);
        assert_eq!(t.v4("10.2.0.1".parse().unwrap()), 1);
        assert_eq!(t.v4("10.1.9.9".parse().unwrap()), 2);
        assert_eq!(t.v4("10.1.2.3".parse().unwrap()), 3);
        assert_eq!(t.v4("11.0.0.0".parse().unwrap()), NONE);
        assert_eq!(t.v6("2001:db8::1".parse().unwrap()), 7);
        assert_eq!(t.v6("2001:db9::1".parse().unwrap()), NONE);
    }
}
