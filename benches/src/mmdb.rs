//! The MMDB data set and the `maxminddb` peer.
//!
//! The real `iptoasn-country.mmdb` (IP → country code, IPv4 and IPv6, from iptoasn.com data) is
//! read with `maxminddb`'s network iterator; its networks and country codes are the input of
//! ipsieve and of every other peer, and `maxminddb` answers from the file itself.
//!
//! On the full-size data set, `maxminddb` reads ipsieve's own MaxMind DB export of the artifact
//! ([`full_mmdb`], what `ipsieve export --format mmdb` writes) and answers the ASN
//! ([`MmdbAsn`]), as ipsieve's standard row does.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::Instant;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use ipsieve::Database;
use ipsieve_builder::{Attrs, Builder, SourceSpec};
use maxminddb::{PathElement, Reader, WithinOptions};
use serde::Deserialize;

use crate::ranges::RangeSet;
use crate::sieve::pack_country;
use crate::{shared_data, Lookup, NONE};

/// Path of the real MMDB file in the shared data mirror.
pub fn mmdb_path() -> PathBuf {
    shared_data().join("mmdb/ip-location-db/iptoasn-country.mmdb")
}

/// The record of `iptoasn-country.mmdb`: `{"country_code": "US"}`.
#[derive(Debug, Deserialize)]
struct CountryRecord<'a> {
    #[serde(borrow)]
    country_code: Option<&'a str>,
}

/// Everything built from the MMDB file's networks.
#[derive(Debug)]
pub struct MmdbSet {
    /// The MMDB file's bytes.
    pub mmdb: Vec<u8>,
    /// The ipsieve artifact built from the same networks (source `iptoasn-country`).
    pub artifact: Vec<u8>,
    /// The networks as disjoint ranges valued by [`pack_country`].
    pub ranges: RangeSet,
    /// The IPv4 networks with their packed country codes.
    pub v4_nets: Vec<(Ipv4Net, u32)>,
    /// The IPv6 networks with their packed country codes.
    pub v6_nets: Vec<(Ipv6Net, u32)>,
    /// Networks left out because their country code is not two uppercase ASCII letters, or
    /// they have no record.
    pub skipped: usize,
}

impl MmdbSet {
    /// Number of networks every structure was built from.
    pub fn networks(&self) -> usize {
        self.v4_nets.len() + self.v6_nets.len()
    }
}

/// Reads the MMDB file and builds ipsieve from its networks; exits the process with a message
/// when the shared data mirror (or the file) is absent.
///
/// # Panics
/// When the file is present but cannot be read or built from.
pub fn mmdb_set() -> MmdbSet {
    crate::require_shared_data();
    let path = mmdb_path();
    if !path.is_file() {
        eprintln!(
            "ipsieve-benches: {} is absent; not measuring.",
            path.display()
        );
        std::process::exit(0);
    }
    let started = Instant::now();
    let mmdb = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader =
        Reader::from_source(mmdb.as_slice()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut v4_nets = Vec::new();
    let mut v6_nets = Vec::new();
    let mut skipped = 0usize;
    // `networks` walks the whole tree once: IPv4 networks (the tree's ::/96 subtree) come out
    // as IPv4, everything else as IPv6; the IPv4 aliases (::ffff:0:0/96, 2002::/16) are skipped.
    for item in reader
        .networks(WithinOptions::default())
        .expect("iterate networks")
    {
        let item = item.expect("mmdb network");
        let net = item.network().expect("network");
        let record: Option<CountryRecord<'_>> = item.decode().expect("mmdb record");
        let value = pack_country(record.and_then(|r| r.country_code));
        let ok = value != NONE
            && [value as u8, (value >> 8) as u8]
                .iter()
                .all(u8::is_ascii_uppercase);
        if !ok {
            skipped += 1;
            continue;
        }
        match net.ip() {
            IpAddr::V4(a) => v4_nets.push((
                Ipv4Net::new(a, net.prefix()).expect("prefix").trunc(),
                value,
            )),
            IpAddr::V6(a) => v6_nets.push((
                Ipv6Net::new(a, net.prefix()).expect("prefix").trunc(),
                value,
            )),
        }
    }
    v4_nets.sort_unstable();
    v6_nets.sort_unstable();
    let ranges = RangeSet {
        v4: v4_nets
            .iter()
            .map(|&(n, v)| (u32::from(n.network()), u32::from(n.broadcast()), v))
            .collect(),
        v6: v6_nets
            .iter()
            .map(|&(n, v)| (u128::from(n.network()), u128::from(n.broadcast()), v))
            .collect(),
    };
    for w in ranges.v4.windows(2) {
        assert!(w[0].1 < w[1].0, "overlapping IPv4 networks in the MMDB");
    }
    for w in ranges.v6.windows(2) {
        assert!(w[0].1 < w[1].0, "overlapping IPv6 networks in the MMDB");
    }

    let mut b = Builder::new().build_time(0);
    let id = b
        .add_source(SourceSpec::new("iptoasn-country", "mmdb"))
        .expect("source");
    let nets = v4_nets
        .iter()
        .map(|&(n, v)| (IpNet::V4(n), v))
        .chain(v6_nets.iter().map(|&(n, v)| (IpNet::V6(n), v)));
    for (net, v) in nets {
        let attrs = Attrs {
            country: Some([v as u8, (v >> 8) as u8]),
            ..Attrs::default()
        };
        b.add_net(id, net, attrs).expect("valid network");
    }
    let artifact = b.compile().expect("compile").bytes;
    drop(reader);
    eprintln!(
        "ipsieve-benches: mmdb data set: {} IPv4 + {} IPv6 networks from {} ({} skipped: no \
         two-letter uppercase country), ipsieve artifact {} bytes, {:.2} s",
        v4_nets.len(),
        v6_nets.len(),
        path.display(),
        skipped,
        artifact.len(),
        started.elapsed().as_secs_f64()
    );
    MmdbSet {
        mmdb,
        artifact,
        ranges,
        v4_nets,
        v6_nets,
        skipped,
    }
}

/// Bytes of an MMDB file's search tree (its index, without the data section):
/// `node_count × 2 × record_size / 8`.
pub fn tree_bytes<S: AsRef<[u8]>>(reader: &Reader<S>) -> usize {
    let m = reader.metadata();
    m.node_count as usize * m.record_size as usize / 4
}

/// `maxminddb` answering as a user does: look up, then decode the record's `country_code`
/// (borrowed, no allocation), packed with [`pack_country`].
#[derive(Debug, Clone, Copy)]
pub struct MmdbCountry<'a, S: AsRef<[u8]>>(pub &'a Reader<S>);

/// `maxminddb` taking only the answer: the data offset of the record, without decoding it.
#[derive(Debug, Clone, Copy)]
pub struct MmdbOffset<'a, S: AsRef<[u8]>>(pub &'a Reader<S>);

impl<S: AsRef<[u8]>> MmdbCountry<'_, S> {
    #[inline]
    fn get(&self, ip: IpAddr) -> u32 {
        let Ok(r) = self.0.lookup(ip) else {
            return NONE;
        };
        match r.decode::<CountryRecord<'_>>() {
            Ok(Some(rec)) => pack_country(rec.country_code),
            _ => NONE,
        }
    }
}

impl<S: AsRef<[u8]>> Lookup for MmdbCountry<'_, S> {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        self.get(IpAddr::V4(ip))
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        self.get(IpAddr::V6(ip))
    }
}

impl<S: AsRef<[u8]>> Lookup for MmdbOffset<'_, S> {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        self.0
            .lookup(IpAddr::V4(ip))
            .ok()
            .and_then(|r| r.offset())
            .map_or(NONE, |o| o as u32)
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        self.0
            .lookup(IpAddr::V6(ip))
            .ok()
            .and_then(|r| r.offset())
            .map_or(NONE, |o| o as u32)
    }
}

/// ipsieve's MaxMind DB export of `db` (`ipsieve export --format mmdb`: one record per range
/// with an answer, MaxMind's Anonymous-IP keys plus `autonomous_system_number` and the rest),
/// as bytes.
///
/// # Panics
/// When the export fails.
pub fn full_mmdb(db: &Database) -> Vec<u8> {
    let (bytes, _) = ipsieve_builder::export::mmdb::from_database(db)
        .to_bytes()
        .expect("mmdb export of the artifact");
    bytes
}

/// `maxminddb` answering the ASN from ipsieve's export: look up, then decode only the
/// `autonomous_system_number` key (`decode_path`, no allocation).
#[derive(Debug, Clone, Copy)]
pub struct MmdbAsn<'a, S: AsRef<[u8]>>(pub &'a Reader<S>);

impl<S: AsRef<[u8]>> MmdbAsn<'_, S> {
    #[inline]
    fn get(&self, ip: IpAddr) -> u32 {
        const PATH: [PathElement<'static>; 1] = [PathElement::Key("autonomous_system_number")];
        let Ok(r) = self.0.lookup(ip) else {
            return NONE;
        };
        match r.decode_path::<u32>(&PATH) {
            Ok(Some(asn)) => asn,
            _ => NONE,
        }
    }
}

impl<S: AsRef<[u8]>> Lookup for MmdbAsn<'_, S> {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        self.get(IpAddr::V4(ip))
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        self.get(IpAddr::V6(ip))
    }
}
