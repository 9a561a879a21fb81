//! ipsieve behind the common [`Lookup`] interface: reading one field of the record (what a
//! caller who wants the ASN or the country does), reading only the summary in the leaf
//! (categories and verdict: what a caller deciding allow/deny does, no record fetch), or only
//! taking the leaf value (the answer's identity).

use std::net::{Ipv4Addr, Ipv6Addr};

use ipsieve::Database;

use crate::{Lookup, NONE};

/// `db.lookup_v*(ip).asn()`: the index walk plus the record fetch (the full-size data set).
#[derive(Debug, Clone, Copy)]
pub struct SieveAsn<'a>(pub &'a Database);

/// `db.lookup_v*(ip).country()` packed into a `u32` with [`pack_country`]: the index walk plus
/// the record fetch (the MMDB data set, whose peers store the same packed code).
#[derive(Debug, Clone, Copy)]
pub struct SieveCountry<'a>(pub &'a Database);

/// The leaf value `db.lookup_v*(ip)` ends on (the answer's identity: record index and summary
/// class), without reading the record: the index walk only.
#[derive(Debug, Clone, Copy)]
pub struct SieveAnswer<'a>(pub &'a Database);

/// `categories()` and `verdict()` of `db.lookup_v*(ip)`, packed as `categories | verdict << 8`
/// ([`pack_verdict`]): the index walk and the summary class (a table of at most 255 words),
/// never the 32-byte record. The verdict-only path of issue 13.
#[derive(Debug, Clone, Copy)]
pub struct SieveVerdict<'a>(pub &'a Database);

/// An answer's categories and verdict as one `u32`: `categories | verdict << 8`.
#[inline]
pub fn pack_verdict(a: &ipsieve::Answer<'_>) -> u32 {
    a.categories().bits() | u32::from(a.verdict() as u8) << 8
}

/// A two-letter country code as a `u32` (`b0 | b1 << 8`), [`NONE`] for none: the value every
/// structure of the MMDB data set stores and answers.
#[inline]
pub fn pack_country(cc: Option<&str>) -> u32 {
    match cc.map(str::as_bytes) {
        Some(&[a, b]) => u32::from(a) | u32::from(b) << 8,
        _ => NONE,
    }
}

impl Lookup for SieveAsn<'_> {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        self.0.lookup_v4(ip).asn().unwrap_or(NONE)
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        self.0.lookup_v6(ip).asn().unwrap_or(NONE)
    }
}

impl Lookup for SieveCountry<'_> {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        pack_country(self.0.lookup_v4(ip).country())
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        pack_country(self.0.lookup_v6(ip).country())
    }
}

impl Lookup for SieveVerdict<'_> {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        pack_verdict(&self.0.lookup_v4(ip))
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        pack_verdict(&self.0.lookup_v6(ip))
    }
}

impl Lookup for SieveAnswer<'_> {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        self.0.lookup_v4(ip).leaf_value()
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        self.0.lookup_v6(ip).leaf_value()
    }
}

/// The index of the record ipsieve answers ([`crate::ranges::record_index`]): the answer's
/// identity, which the full-size data set's peers store. Used to check agreement, not timed.
#[derive(Debug, Clone, Copy)]
pub struct SieveRecord<'a>(pub &'a Database);

impl Lookup for SieveRecord<'_> {
    #[inline]
    fn v4(&self, ip: Ipv4Addr) -> u32 {
        crate::ranges::record_index(self.0, &self.0.lookup_v4(ip))
    }

    #[inline]
    fn v6(&self, ip: Ipv6Addr) -> u32 {
        crate::ranges::record_index(self.0, &self.0.lookup_v6(ip))
    }
}

/// The field a batch row reads from each answer, as the matching single-lookup row does. A
/// type, not a function pointer, so that the read is inlined into the batch loop as it is
/// into the single lookups' loop.
pub trait Field {
    /// The value read from `a`.
    fn read(a: &ipsieve::Answer<'_>) -> u32;
}

/// The ASN, as [`SieveAsn`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct AsnField;

/// The packed country, as [`SieveCountry`] reads it.
#[derive(Debug, Clone, Copy)]
pub struct CountryField;

/// Categories and verdict, as [`SieveVerdict`] reads them (no record).
#[derive(Debug, Clone, Copy)]
pub struct VerdictField;

impl Field for AsnField {
    #[inline]
    fn read(a: &ipsieve::Answer<'_>) -> u32 {
        a.asn().unwrap_or(NONE)
    }
}

impl Field for CountryField {
    #[inline]
    fn read(a: &ipsieve::Answer<'_>) -> u32 {
        pack_country(a.country())
    }
}

impl Field for VerdictField {
    #[inline]
    fn read(a: &ipsieve::Answer<'_>) -> u32 {
        pack_verdict(a)
    }
}

/// `db.lookup_many(addresses)` reading field `F` ([`AsnField`], [`CountryField`] or
/// [`VerdictField`]): a batch of independent lookups whose memory accesses overlap
/// (throughput mode only: a batch cannot wait for the previous answer).
#[derive(Debug)]
pub struct SieveMany<'a, F> {
    /// The database.
    pub db: &'a Database,
    field: std::marker::PhantomData<F>,
}

impl<'a, F: Field> SieveMany<'a, F> {
    /// Batches over `db` reading `F`.
    pub fn new(db: &'a Database) -> Self {
        SieveMany {
            db,
            field: std::marker::PhantomData,
        }
    }

    /// One pass over `probes`, each answer's field through `black_box`.
    #[inline(never)]
    pub fn pass(&self, probes: &crate::Probes) -> u32 {
        use std::net::IpAddr;
        match probes {
            crate::Probes::V4(ips) => {
                for a in self.db.lookup_many(ips.iter().map(|&ip| IpAddr::V4(ip))) {
                    std::hint::black_box(F::read(&a));
                }
            }
            crate::Probes::V6(ips) => {
                for a in self.db.lookup_many(ips.iter().map(|&ip| IpAddr::V6(ip))) {
                    std::hint::black_box(F::read(&a));
                }
            }
        }
        0
    }

    /// The answers for the first `n` addresses, to check agreement with single lookups.
    pub fn answers(&self, probes: &crate::Probes, n: usize) -> Vec<u32> {
        use std::net::IpAddr;
        let ips: Vec<IpAddr> = match probes {
            crate::Probes::V4(v) => v.iter().take(n).map(|&ip| IpAddr::V4(ip)).collect(),
            crate::Probes::V6(v) => v.iter().take(n).map(|&ip| IpAddr::V6(ip)).collect(),
        };
        self.db.lookup_many(ips).map(|a| F::read(&a)).collect()
    }
}
