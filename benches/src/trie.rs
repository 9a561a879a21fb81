//! `prefix-trie`'s `PrefixMap` (a binary trie with multi-bit nodes), answering by longest-prefix
//! match (`get_lpm`).

use std::net::{Ipv4Addr, Ipv6Addr};

use ipnet::{Ipv4Net, Ipv6Net};
use prefix_trie::PrefixMap;

use crate::{Lookup, NONE};

/// One `PrefixMap` per family.
#[derive(Debug, Clone)]
pub struct PrefixTrie {
    v4: PrefixMap<Ipv4Net, u32>,
    v6: PrefixMap<Ipv6Net, u32>,
}

impl PrefixTrie {
    /// Inserts every network with its value.
    pub fn new(v4: &[(Ipv4Net, u32)], v6: &[(Ipv6Net, u32)]) -> PrefixTrie {
        let mut t = PrefixTrie {
            v4: PrefixMap::new(),
            v6: PrefixMap::new(),
        };
        for &(net, v) in v4 {
            t.v4.insert(net, v);
        }
        for &(net, v) in v6 {
            t.v6.insert(net, v);
        }
        t
    }

    /// Heap bytes of both maps as the crate reports them (`PrefixMap::mem_size`: nodes, values
    /// and free lists).
    pub fn mem_size(&self) -> usize {
        self.v4.mem_size() + self.v6.mem_size()
    }
}

impl Lookup for PrefixTrie {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        self.v4
            .get_lpm(&Ipv4Net::from(ip))
            .map_or(NONE, |(_, &v)| v)
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        self.v6
            .get_lpm(&Ipv6Net::from(ip))
            .map_or(NONE, |(_, &v)| v)
    }
}
