//! `ip_network_table`'s `IpNetworkTable` (a tree bitmap, from the `treebitmap` crate),
//! answering by longest match.

use std::net::{Ipv4Addr, Ipv6Addr};

use ip_network::{Ipv4Network, Ipv6Network};
use ip_network_table::IpNetworkTable;
use ipnet::{Ipv4Net, Ipv6Net};

use crate::{Lookup, NONE};

/// One table holding both families. The crate does not report its memory use.
pub struct NetworkTable {
    table: IpNetworkTable<u32>,
}

impl std::fmt::Debug for NetworkTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (v4, v6) = self.table.len();
        f.debug_struct("NetworkTable")
            .field("v4", &v4)
            .field("v6", &v6)
            .finish_non_exhaustive()
    }
}

impl NetworkTable {
    /// Inserts every network with its value.
    pub fn new(v4: &[(Ipv4Net, u32)], v6: &[(Ipv6Net, u32)]) -> NetworkTable {
        let mut table = IpNetworkTable::with_capacity(v4.len(), v6.len());
        for &(net, v) in v4 {
            let n = Ipv4Network::new(net.network(), net.prefix_len()).expect("aligned network");
            table.insert(n, v);
        }
        for &(net, v) in v6 {
            let n = Ipv6Network::new(net.network(), net.prefix_len()).expect("aligned network");
            table.insert(n, v);
        }
        NetworkTable { table }
    }
}

impl Lookup for NetworkTable {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        self.table.longest_match_ipv4(ip).map_or(NONE, |(_, &v)| v)
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        self.table.longest_match_ipv6(ip).map_or(NONE, |(_, &v)| v)
    }
}
