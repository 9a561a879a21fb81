//! The reference model of a build, and the entry point of the `build_roundtrip` fuzz target in
//! `fuzz/` (so that the target is a one-liner). Not part of the public API.
//!
//! The model ([`expected`]) answers an address by scanning every entry: the smallest covering
//! entry wins the ASN, provider and country (ties by source name), categories and sources are
//! the union. It is the one model: the differential tests of `tests/model.rs` use it with
//! proptest's inputs, [`build_and_compare`] with the fuzzer's, which it decodes from arbitrary
//! bytes into a few sources and up to [`MAX_ENTRIES`] overlapping IPv4 / IPv6 prefixes and
//! ranges with categories, ASNs, providers and countries, then compares the answer at every
//! entry's first and last address and one past each.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipsieve::{Answer, Categories, Database, Tier};

use crate::{Attrs, Builder, Limits, SourceSpec};

/// Entries decoded from one input at most (the model is quadratic).
pub const MAX_ENTRIES: usize = 24;

const PROVIDERS: [Option<&str>; 3] = [None, Some("Acme"), Some("Mid")];

fn provider(i: usize) -> Option<String> {
    PROVIDERS[i].map(str::to_owned)
}
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

/// A source of the model.
#[derive(Debug, Clone)]
pub struct Src {
    /// Its name (sources tie-break by name).
    pub name: String,
    /// Categories it declares, as bits.
    pub cats: u32,
    /// Its provider.
    pub provider: Option<String>,
    /// Evidence tier (moves only the score).
    pub tier: Tier,
    /// Own weight in hundredths (moves only the score).
    pub weight: u8,
}

/// An entry of the model: an inclusive range of one family with its attributes.
#[derive(Debug, Clone)]
pub struct Ent {
    /// Index of its source.
    pub src: usize,
    /// IPv6 (else IPv4).
    pub v6: bool,
    /// First address, as an integer of the family.
    pub lo: u128,
    /// Last address.
    pub hi: u128,
    /// Categories it adds, as bits.
    pub cats: u32,
    /// Origin ASN.
    pub asn: Option<u32>,
    /// Provider overriding the source's.
    pub provider: Option<String>,
    /// Country code.
    pub country: Option<[u8; 2]>,
}

/// What an answer says, as the model computes it and as [`Expected::of`] reads it.
#[derive(Debug, PartialEq)]
pub struct Expected {
    /// Categories, as bits.
    pub cats: u32,
    /// Origin ASN.
    pub asn: Option<u32>,
    /// The AS's name.
    pub as_org: Option<String>,
    /// Provider.
    pub provider: Option<String>,
    /// Country code.
    pub country: Option<String>,
    /// Matching sources, by name, sorted.
    pub sources: Vec<String>,
}

impl Expected {
    /// What `a` says.
    pub fn of(a: &Answer<'_>) -> Expected {
        Expected {
            cats: a.categories().bits(),
            asn: a.asn(),
            as_org: a.as_org().map(str::to_owned),
            provider: a.provider().map(str::to_owned),
            country: a.country().map(str::to_owned),
            sources: a.sources().map(str::to_owned).collect(),
        }
    }
}

/// The name [`build`] gives AS `asn` (none for multiples of 3: an AS without a name).
pub fn as_name(asn: u32) -> String {
    format!("AS-{asn} org")
}

fn decode(data: &[u8]) -> (Vec<Src>, Vec<Ent>) {
    let mut b = Bytes(data);
    let nsrc = 1 + usize::from(b.byte() % 3);
    let srcs: Vec<Src> = (0..nsrc)
        .map(|i| Src {
            name: format!("src-{}", char::from(b'a' + i as u8)),
            cats: u32::from(b.byte() & 63),
            provider: provider(usize::from(b.byte() % 3)),
            tier: Tier::FirstParty,
            weight: 100,
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
            provider: provider(usize::from(f >> 5) % 3),
            country: COUNTRIES[usize::from(f >> 6)],
        });
    }
    (srcs, ents)
}

/// The reference: what an artifact built from `srcs` and `ents` must answer for address `x`
/// of its family, found by scanning every entry.
pub fn expected(srcs: &[Src], ents: &[Ent], v6: bool, x: u128) -> Expected {
    let cover: Vec<&Ent> = ents
        .iter()
        .filter(|e| e.v6 == v6 && e.lo <= x && x <= e.hi)
        .collect();
    let cats = cover.iter().fold(0, |a, e| a | e.cats | srcs[e.src].cats);
    let asn = smallest(srcs, &cover, |e| e.asn);
    let provider = smallest(srcs, &cover, |e| {
        e.provider.clone().or_else(|| srcs[e.src].provider.clone())
    });
    let country =
        smallest(srcs, &cover, |e| e.country).map(|c| String::from_utf8_lossy(&c).into_owned());
    let mut sources: Vec<String> = cover.iter().map(|e| srcs[e.src].name.clone()).collect();
    sources.sort();
    sources.dedup();
    Expected {
        cats,
        asn,
        as_org: asn.filter(|a| a % 3 != 0).map(as_name),
        provider,
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

/// The address of integer `x` in its family.
pub fn addr(v6: bool, x: u128) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(x))
    } else {
        IpAddr::V4(Ipv4Addr::from(x as u32))
    }
}

/// The artifact of `srcs` and `ents` (added in the order given; sources declared in reverse,
/// so that declaration order is exercised too), every named AS named by [`as_name`], with no
/// limits and build time 1.
///
/// # Panics
/// When the builder refuses a valid source or range, or the build fails.
pub fn build<'a>(srcs: &[Src], ents: impl Iterator<Item = &'a Ent>) -> Vec<u8> {
    let mut b = Builder::new().build_time(1).limits(Limits::none());
    let mut ids = vec![None; srcs.len()];
    for (i, s) in srcs.iter().enumerate().rev() {
        let mut spec =
            SourceSpec::new(s.name.clone(), "model").categories(Categories::from_bits(s.cats));
        spec.provider = s.provider.clone();
        spec.tier = s.tier;
        spec.weight = f32::from(s.weight) / 100.0;
        ids[i] = Some(b.add_source(spec).expect("a valid source"));
    }
    let ids: Vec<_> = ids.into_iter().flatten().collect();
    for e in ents {
        let attrs = Attrs {
            categories: Categories::from_bits(e.cats),
            asn: e.asn,
            provider: e.provider.clone(),
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
    let want = expected(srcs, ents, v6, x);
    assert_eq!(Expected::of(&a), want, "answer for {ip}");
    // The reported network holds the address and the same answer at both ends.
    let net = a.network();
    assert!(net.contains(&ip), "{ip} not in its network {net}");
    for end in [net.network(), net.broadcast()] {
        let e = match end {
            IpAddr::V4(v) => u128::from(u32::from(v)),
            IpAddr::V6(v) => u128::from(v),
        };
        assert_eq!(
            expected(srcs, ents, v6, e),
            want,
            "network {net} of {ip} at {end}"
        );
    }
}
