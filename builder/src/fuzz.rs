//! Entry point for the `build_roundtrip` fuzz target in `fuzz/` and the tests that replay its
//! findings, so that the target is a one-liner. Not part of the public API.
//!
//! [`build_and_compare`] decodes arbitrary bytes into a few sources and up to
//! [`MAX_ENTRIES`] overlapping IPv4 / IPv6 prefixes and ranges with categories, ASNs, providers
//! and countries, compiles them, opens the artifact and compares the answer at every entry's
//! first and last address and one past each with a naive reference model that scans every
//! entry (the model of `tests/model.rs`): the smallest covering entry wins the ASN, provider
//! and country (ties by source name), categories and sources are the union.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsieve::{Categories, Database};

use crate::{Attrs, Builder, Limits, SourceSpec};

/// Entries decoded from one input at most (the model is quadratic).
pub const MAX_ENTRIES: usize = 24;

const PROVIDERS: [Option<&str>; 3] = [None, Some("Acme"), Some("Mid")];
const COUNTRIES: [Option<[u8; 2]>; 4] = [None, Some(*b"US"), Some(*b"DE"), Some(*b"NL")];

/// Bytes read front to back, zeros once they run out.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn byte(&mut self) -> u8 {
        let Some((&b, rest)) = self.0.split_first() else {
            return 0;
        };
        self.0 = rest;
        b
    }

    fn int(&mut self, n: usize) -> u128 {
        (0..n).fold(0, |x, _| x << 8 | u128::from(self.byte()))
    }

    /// An address: raw bytes, or clustered in a few blocks so that entries overlap and abut.
    fn addr(&mut self, v6: bool) -> u128 {
        let mode = self.byte();
        match (mode & 0x80 != 0, v6) {
            (true, false) => self.int(4),
            (true, true) => self.int(16),
            (false, false) => 0x0A00_0000 + (u128::from(mode & 3) << 16) + self.int(2),
            (false, true) => {
                let shift = 8 * u32::from((mode >> 2) & 7);
                (0x2001_0db8 << 96) + (u128::from(mode & 3) << 64) + (self.int(2) << shift)
            }
        }
    }
}

struct Src {
    name: String,
    cats: u32,
    provider: Option<&'static str>,
}

struct Ent {
    src: usize,
    v6: bool,
    lo: u128,
    hi: u128,
    cats: u32,
    asn: Option<u32>,
    provider: Option<&'static str>,
    country: Option<[u8; 2]>,
}

#[derive(Debug, PartialEq)]
struct Expected {
    cats: u32,
    asn: Option<u32>,
    as_org: Option<String>,
    provider: Option<String>,
    country: Option<String>,
    sources: Vec<String>,
}

fn as_name(asn: u32) -> String {
    format!("AS-{asn} org")
}

fn decode(data: &[u8]) -> (Vec<Src>, Vec<Ent>) {
    let mut b = Bytes(data);
    let nsrc = 1 + usize::from(b.byte() % 3);
    let srcs: Vec<Src> = (0..nsrc)
        .map(|i| Src {
            name: format!("src-{}", char::from(b'a' + i as u8)),
            cats: u32::from(b.byte() & 63),
            provider: PROVIDERS[usize::from(b.byte() % 3)],
        })
        .collect();
    let mut ents = Vec::new();
    while !b.0.is_empty() && ents.len() < MAX_ENTRIES {
        let f = b.byte();
        let v6 = f & 1 != 0;
        let bits = if v6 { 128 } else { 32 };
        let top = if v6 { u128::MAX } else { u128::from(u32::MAX) };
        let (lo, hi) = if f & 2 != 0 {
            let a = b.addr(v6);
            let len = u32::from(b.byte()) % (bits + 1);
            let host = top.checked_shr(len).unwrap_or(0);
            (a & !host & top, (a & !host & top) | host)
        } else {
            let (x, y) = (b.addr(v6), b.addr(v6));
            (x.min(y), x.max(y))
        };
        let c = b.byte();
        ents.push(Ent {
            src: usize::from(f >> 2) % nsrc,
            v6,
            lo,
            hi,
            cats: if c & 0xC0 == 0 { u32::from(c) } else { 0 },
            asn: (f & 0x10 != 0).then(|| 1 + u32::from(b.byte() % 12)),
            provider: PROVIDERS[usize::from(f >> 5) % 3],
            country: COUNTRIES[usize::from(f >> 6)],
        });
    }
    (srcs, ents)
}

/// The reference: scan every entry.
fn model(srcs: &[Src], ents: &[Ent], v6: bool, x: u128) -> Expected {
    let cover: Vec<&Ent> = ents
        .iter()
        .filter(|e| e.v6 == v6 && e.lo <= x && x <= e.hi)
        .collect();
    let cats = cover.iter().fold(0, |a, e| a | e.cats | srcs[e.src].cats);
    let asn = smallest(srcs, &cover, |e| e.asn);
    let provider = smallest(srcs, &cover, |e| e.provider.or(srcs[e.src].provider));
    let country =
        smallest(srcs, &cover, |e| e.country).map(|c| String::from_utf8_lossy(&c).into_owned());
    let mut sources: Vec<String> = cover.iter().map(|e| srcs[e.src].name.clone()).collect();
    sources.sort();
    sources.dedup();
    Expected {
        cats,
        asn,
        as_org: asn.filter(|a| a % 3 != 0).map(as_name),
        provider: provider.map(str::to_owned),
        country,
        sources,
    }
}

/// The value `f` gives for the smallest covering entry that has one (ties by source name).
fn smallest<T: Ord>(srcs: &[Src], cover: &[&Ent], f: impl Fn(&Ent) -> Option<T>) -> Option<T> {
    cover
        .iter()
        .filter_map(|e| f(e).map(|v| ((e.hi - e.lo, &srcs[e.src].name), v)))
        .min()
        .map(|(_, v)| v)
}

fn addr(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(x as u32))
    }
}

fn build<'a>(srcs: &[Src], ents: impl Iterator<Item = &'a Ent>) -> Vec<u8> {
    let mut b = Builder::new().build_time(1).limits(Limits::none());
    let ids: Vec<_> = srcs
        .iter()
        .map(|s| {
            let mut spec =
                SourceSpec::new(s.name.clone(), "fuzz").categories(Categories::from_bits(s.cats));
            spec.provider = s.provider.map(str::to_owned);
            b.add_source(spec).expect("a valid source")
        })
        .collect();
    for e in ents {
        let attrs = Attrs {
            categories: Categories::from_bits(e.cats),
            asn: e.asn,
            provider: e.provider.map(str::to_owned),
            country: e.country,
        };
        b.add_range(ids[e.src], addr(e.v6, e.lo), addr(e.v6, e.hi), attrs)
            .unwrap_or_else(|err| panic!("a valid range {:x}-{:x} refused: {err}", e.lo, e.hi));
        if let Some(a) = e.asn.filter(|a| a % 3 != 0) {
            b.add_as_name(a, as_name(a));
        }
    }
    b.compile().expect("a valid build compiles").bytes
}

/// Builds an artifact from the ranges `data` decodes to, in file order and reversed (the bytes
/// must be identical), and compares the answer at every range boundary ±1 with the reference
/// model.
///
/// # Panics
/// On any mismatch, a refused valid input, or an artifact that does not open or verify.
pub fn build_and_compare(data: &[u8]) {
    let (srcs, ents) = decode(data);
    let bytes = build(&srcs, ents.iter());
    assert!(
        bytes == build(&srcs, ents.iter().rev()),
        "the artifact depends on insertion order"
    );
    let db = Database::from_bytes(&bytes).expect("a fresh artifact opens");
    db.verify().expect("a fresh artifact verifies");
    for e in &ents {
        let top = if e.v6 {
            u128::MAX
        } else {
            u128::from(u32::MAX)
        };
        let probes = [
            Some(e.lo),
            Some(e.hi),
            e.lo.checked_sub(1),
            e.hi.checked_add(1).filter(|&h| h <= top),
        ];
        for x in probes.into_iter().flatten() {
            compare(&db, &srcs, &ents, e.v6, x);
        }
    }
}

fn compare(db: &Database, srcs: &[Src], ents: &[Ent], v6: bool, x: u128) {
    let a = db.lookup(addr(v6, x));
    // `::ffff:a.b.c.d` answers as `a.b.c.d`: the model is asked about the IPv4 address.
    let (v6, x) = if v6 && x >> 32 == 0xFFFF {
        (false, x & 0xFFFF_FFFF)
    } else {
        (v6, x)
    };
    let ip = addr(v6, x);
    let want = model(srcs, ents, v6, x);
    let got = Expected {
        cats: a.categories().bits(),
        asn: a.asn(),
        as_org: a.as_org().map(str::to_owned),
        provider: a.provider().map(str::to_owned),
        country: a.country().map(str::to_owned),
        sources: a.sources().map(str::to_owned).collect(),
    };
    assert_eq!(got, want, "answer for {ip}");
    // The reported network holds the address and the same answer at both ends.
    let net = a.network();
    assert!(net.contains(&ip), "{ip} not in its network {net}");
    for end in [net.network(), net.broadcast()] {
        let e = match end {
            IpAddr::V4(v) => u128::from(u32::from(v)),
            IpAddr::V6(v) => u128::from(v),
        };
        assert_eq!(
            model(srcs, ents, v6, e),
            want,
            "network {net} of {ip} at {end}"
        );
    }
}
