//! RIR statistics exchange files: `delegated-<rir>-latest` and `delegated-<rir>-extended-latest`
//! from AFRINIC, APNIC, ARIN, LACNIC and RIPE NCC.
//!
//! ```text
//! # comment lines (APNIC opens with a 27-line conditions-of-use block)
//! 2|apnic|20260214|84201|19830613|20260213|+1000        version line
//! apnic|*|ipv4|*|53993|summary                          one summary line per type
//! apnic|JP|asn|173|1|20020801|allocated
//! apnic|AU|ipv4|1.0.0.0|256|20110811|assigned           ipv4: start and address count
//! apnic|JP|ipv6|2001:200::|35|19990813|allocated        ipv6: start and prefix length
//! afrinic|ZA|asn|1228|1|19910301|allocated|F36B9F4B    extended: opaque id
//! lacnic||ipv6|2804:4e21::|32||available                 unallocated space
//! ```
//!
//! # Records
//!
//! Every line that is not a comment becomes one [`RirRecord`]:
//! * the version line → [`RirRecord::Version`], with the declared record count;
//! * each `summary` line → [`RirRecord::Summary`], with the declared count per type;
//! * `allocated` / `assigned` rows → [`RirRecord::Delegation`]: the country code and the
//!   resource. An IPv4 row's `value` is an address **count**, not always a power of two
//!   (AFRINIC and RIPE have such rows), so it becomes an inclusive range `start..=end`
//!   ([`Resource::networks`] splits it into CIDR blocks); an IPv6 row's `value` is a prefix
//!   length, so it becomes a network; an `asn` row becomes an ASN range. ASN rows are kept
//!   (they carry the same country facts) and are told apart by [`Resource::Asn`];
//! * `available` / `reserved` rows → [`RirRecord::Unallocated`], so they can be counted
//!   without being mistaken for delegations; they carry no country (AFRINIC writes `ZZ`,
//!   LACNIC nothing).
//!
//! The declared counts are informational, not a completeness check: LACNIC's standard file
//! declares 48 928 records (15 570 ASNs) and holds 47 408 (14 050 ASNs). The version line's
//! `serial` is kept as text (RIPE's 2014 file writes a Unix time there), its dates `00000000`
//! or empty become `None`.
//!
//! # Accepted and rejected
//!
//! Accepted quirks: the LACNIC extended file's version `2.3`; extended rows with the opaque-id
//! column missing (LACNIC's unallocated rows have 7 fields) or empty; further extension columns
//! (ignored); an empty country on a delegation (one APNIC row), which becomes `None`; empty
//! dates.
//!
//! Rejected, one error per line: fewer than 7 fields (6 for a summary), a version that is not
//! 2.x, a type other than `asn`/`ipv4`/`ipv6`, a status other than the four above, a start
//! that is not an address (or ASN) of the type, an IPv4 count of 0 or one running past
//! `255.255.255.255`, an IPv6 prefix length over 128 or with host bits set, an ASN range past
//! `4294967295`, a country that is not two letters, and a date that is not `YYYYMMDD`.

use std::io::BufRead;
use std::net::{IpAddr, Ipv4Addr};

use ipnet::{IpNet, Ipv4Net, Ipv4Subnets, Ipv6Net};

use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};
use crate::net::{self, HostBits};
use crate::time::Timestamp;

/// One non-comment line of a delegated-statistics file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RirRecord {
    /// The version line.
    Version(RirVersion),
    /// A `…|summary` line.
    Summary(RirSummary),
    /// An `allocated` or `assigned` row.
    Delegation(Delegation),
    /// An `available` or `reserved` row.
    Unallocated(Unallocated),
}

impl RirRecord {
    /// The delegation, if this record is one.
    pub fn into_delegation(self) -> Option<Delegation> {
        match self {
            RirRecord::Delegation(d) => Some(d),
            _ => None,
        }
    }
}

/// The version line: `version|registry|serial|records|startdate|enddate|UTCoffset`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RirVersion {
    /// The format version as written (`2`, or `2.3` in LACNIC's extended file).
    pub version: String,
    /// The registry (`afrinic`, `apnic`, `arin`, `lacnic`, `ripencc`).
    pub registry: String,
    /// The serial as written (a date, or a Unix time in RIPE's 2014 file).
    pub serial: String,
    /// The declared number of records; not always the actual number (see the module docs).
    pub records: u64,
    /// The first date covered, if given.
    pub start_date: Option<Timestamp>,
    /// The last date covered, if given.
    pub end_date: Option<Timestamp>,
    /// The registry's UTC offset as written (`+1000`).
    pub utc_offset: String,
}

/// A summary line: `registry|*|type|*|count|summary`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RirSummary {
    /// The registry.
    pub registry: String,
    /// The resource type counted.
    pub kind: ResourceKind,
    /// The declared number of rows of that type.
    pub count: u64,
}

/// The three resource types of the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResourceKind {
    /// `asn`
    Asn,
    /// `ipv4`
    Ipv4,
    /// `ipv6`
    Ipv6,
}

/// The number resources of one row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Resource {
    /// An inclusive IPv4 range (`start` plus the row's address count, minus one).
    Ipv4 {
        /// First address.
        start: Ipv4Addr,
        /// Last address (inclusive).
        end: Ipv4Addr,
    },
    /// An IPv6 network.
    Ipv6(Ipv6Net),
    /// An inclusive range of AS numbers.
    Asn {
        /// First AS number.
        first: u32,
        /// Last AS number (inclusive).
        last: u32,
    },
}

impl Resource {
    /// The type of the resource.
    pub fn kind(&self) -> ResourceKind {
        match self {
            Resource::Ipv4 { .. } => ResourceKind::Ipv4,
            Resource::Ipv6(_) => ResourceKind::Ipv6,
            Resource::Asn { .. } => ResourceKind::Asn,
        }
    }

    /// The inclusive address range, `None` for ASNs.
    pub fn address_range(&self) -> Option<(IpAddr, IpAddr)> {
        match *self {
            Resource::Ipv4 { start, end } => Some((start.into(), end.into())),
            Resource::Ipv6(net) => Some((net.network().into(), net.broadcast().into())),
            Resource::Asn { .. } => None,
        }
    }

    /// The fewest CIDR networks covering the addresses exactly (several for an IPv4 count
    /// that is not a power of two or a start that is not aligned); none for ASNs.
    ///
    /// ```
    /// use ipsieve_sources::rir::Resource;
    ///
    /// // AFRINIC's `afrinic|ZA|ipv4|196.4.163.0|768|19940128|assigned`.
    /// let r = Resource::Ipv4 { start: "196.4.163.0".parse().unwrap(),
    ///                          end: "196.4.165.255".parse().unwrap() };
    /// let nets: Vec<String> = r.networks().map(|n| n.to_string()).collect();
    /// assert_eq!(nets, ["196.4.163.0/24", "196.4.164.0/23"]);
    /// ```
    pub fn networks(&self) -> impl Iterator<Item = IpNet> {
        let (v4, v6) = match *self {
            Resource::Ipv4 { start, end } => (Some(Ipv4Subnets::new(start, end, 0)), None),
            Resource::Ipv6(net) => (None, Some(net)),
            Resource::Asn { .. } => (None, None),
        };
        let v4 = v4.into_iter().flatten().map(|n: Ipv4Net| IpNet::V4(n));
        v4.chain(v6.map(IpNet::V6))
    }
}

/// The status column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// `allocated`: delegated to a local registry or ISP.
    Allocated,
    /// `assigned`: delegated to an end user.
    Assigned,
    /// `available`: free in the registry's pool.
    Available,
    /// `reserved`: held back by the registry.
    Reserved,
}

/// An `allocated` or `assigned` row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Delegation {
    /// The registry that delegated it.
    pub registry: String,
    /// The ISO 3166 country code (uppercase; `EU`/`AP` also occur); `None` when empty.
    pub country: Option<[u8; 2]>,
    /// The resources.
    pub resource: Resource,
    /// The delegation date, if given.
    pub date: Option<Timestamp>,
    /// [`Status::Allocated`] or [`Status::Assigned`].
    pub status: Status,
    /// The extended files' opaque holder id, if given.
    pub opaque_id: Option<String>,
}

impl Delegation {
    /// The country code as text.
    pub fn country_str(&self) -> Option<&str> {
        crate::addr_range::country_str(&self.country)
    }
}

/// An `available` or `reserved` row.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Unallocated {
    /// The registry.
    pub registry: String,
    /// The resources.
    pub resource: Resource,
    /// [`Status::Available`] or [`Status::Reserved`].
    pub status: Status,
}

/// Streams the records of a delegated or delegated-extended statistics file.
///
/// ```
/// use ipsieve_sources::rir::{self, Resource, RirRecord};
///
/// let file = "2|afrinic|20260213|9593|00000000|20260213|00000\n\
///             afrinic|*|ipv4|*|5327|summary\n\
///             afrinic|ZA|ipv4|196.4.163.0|768|19940128|assigned\n\
///             afrinic|ZZ|ipv4|41.57.112.0|2048||reserved|\n";
/// let records: Vec<_> = rir::parse(file.as_bytes(), "afrinic").map(Result::unwrap).collect();
/// let RirRecord::Delegation(d) = &records[2] else { panic!() };
/// assert_eq!(d.country_str(), Some("ZA"));
/// assert_eq!(d.resource, Resource::Ipv4 { start: "196.4.163.0".parse().unwrap(),
///                                         end: "196.4.165.255".parse().unwrap() });
/// assert!(matches!(records[3], RirRecord::Unallocated(_)));
/// ```
///
/// # Errors
/// Items are `Err` for rejected lines (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<RirRecord, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<RirRecord>, ParseError>> {
    Parsed::new(reader, source_name, Delegated)
}

#[derive(Debug)]
struct Delegated;

impl LineFormat for Delegated {
    type Record = RirRecord;

    fn line(&mut self, text: &str, out: &mut Sink<'_, RirRecord>) {
        let body = text.trim();
        if body.is_empty() || body.starts_with('#') {
            return;
        }
        let mut fields = [""; 8];
        let mut n = 0;
        for field in body.split('|') {
            if let Some(slot) = fields.get_mut(n) {
                *slot = field.trim();
            }
            n += 1;
        }
        let result = if fields[0].bytes().next().is_some_and(|b| b.is_ascii_digit()) {
            version(&fields, n)
        } else if n == 6 && fields[5] == "summary" {
            summary(&fields)
        } else {
            row(&fields, n)
        };
        match result {
            Ok(record) => out.record(record),
            Err(reason) => out.error(reason, text),
        }
    }
}

fn version(f: &[&str; 8], n: usize) -> Result<RirRecord, String> {
    if n < 7 {
        return Err(format!(
            "version line has {n} fields, expected 7 \
             (version|registry|serial|records|startdate|enddate|UTCoffset)"
        ));
    }
    let v = f[0];
    let major_2 = v == "2"
        || v.strip_prefix("2.")
            .is_some_and(|minor| !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit()));
    if !major_2 {
        return Err(format!(
            "unsupported format version {v:?} (expected 2 or 2.x)"
        ));
    }
    let records = count(f[3]).ok_or("version line: record count is not a number")?;
    Ok(RirRecord::Version(RirVersion {
        version: v.to_owned(),
        registry: registry(f[1])?.to_owned(),
        serial: f[2].to_owned(),
        records,
        start_date: date(f[4]).map_err(|r| format!("version line: start {r}"))?,
        end_date: date(f[5]).map_err(|r| format!("version line: end {r}"))?,
        utc_offset: f[6].to_owned(),
    }))
}

fn summary(f: &[&str; 8]) -> Result<RirRecord, String> {
    if f[1] != "*" || f[3] != "*" {
        return Err("summary line must be registry|*|type|*|count|summary".to_owned());
    }
    Ok(RirRecord::Summary(RirSummary {
        registry: registry(f[0])?.to_owned(),
        kind: kind(f[2])?,
        count: count(f[4]).ok_or("summary line: count is not a number")?,
    }))
}

fn row(f: &[&str; 8], n: usize) -> Result<RirRecord, String> {
    if n < 7 {
        return Err(format!(
            "{n} fields; a record has 7 or more (registry|cc|type|start|value|date|status)"
        ));
    }
    let registry = registry(f[0])?.to_owned();
    let status = match f[6] {
        "allocated" => Status::Allocated,
        "assigned" => Status::Assigned,
        "available" => Status::Available,
        "reserved" => Status::Reserved,
        other => {
            return Err(format!(
                "status {other:?} is not allocated, assigned, available or reserved"
            ))
        }
    };
    let resource = resource(kind(f[2])?, f[3], f[4])?;
    if matches!(status, Status::Available | Status::Reserved) {
        return Ok(RirRecord::Unallocated(Unallocated {
            registry,
            resource,
            status,
        }));
    }
    let country = match f[1] {
        "" => None,
        cc => match cc.as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()])
            }
            _ => return Err(format!("country {cc:?} is not a two-letter code")),
        },
    };
    Ok(RirRecord::Delegation(Delegation {
        registry,
        country,
        resource,
        date: date(f[5])?,
        status,
        opaque_id: (n >= 8 && !f[7].is_empty()).then(|| f[7].to_owned()),
    }))
}

fn registry(text: &str) -> Result<&str, String> {
    let ok = !text.is_empty()
        && text.len() <= 16
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    if ok {
        Ok(text)
    } else {
        Err(format!(
            "registry {text:?} is not a lowercase registry name"
        ))
    }
}

fn kind(text: &str) -> Result<ResourceKind, String> {
    match text {
        "asn" => Ok(ResourceKind::Asn),
        "ipv4" => Ok(ResourceKind::Ipv4),
        "ipv6" => Ok(ResourceKind::Ipv6),
        _ => Err(format!("type {text:?} is not asn, ipv4 or ipv6")),
    }
}

/// A plain decimal count (at most 20 digits).
fn count(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 20 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn resource(kind: ResourceKind, start: &str, value: &str) -> Result<Resource, String> {
    match kind {
        ResourceKind::Ipv4 => {
            let start = match net::parse_addr(start) {
                Ok(IpAddr::V4(addr)) => addr,
                Ok(IpAddr::V6(_)) => return Err(format!("ipv4 start {start} is an ipv6 address")),
                Err(r) => return Err(format!("ipv4 start {start:?}: {r}")),
            };
            let n = match count(value) {
                Some(n) if n > 0 => n,
                _ => return Err(format!("ipv4 count {value:?} is not a positive number")),
            };
            let end = u64::from(u32::from(start))
                .checked_add(n - 1)
                .and_then(|last| u32::try_from(last).ok())
                .ok_or_else(|| {
                    format!("ipv4 range {start} + {n} addresses runs past 255.255.255.255")
                })?;
            Ok(Resource::Ipv4 {
                start,
                end: Ipv4Addr::from(end),
            })
        }
        ResourceKind::Ipv6 => {
            let addr = match net::parse_addr(start) {
                Ok(IpAddr::V6(addr)) => addr,
                Ok(IpAddr::V4(_)) => return Err(format!("ipv6 start {start} is an ipv4 address")),
                Err(r) => return Err(format!("ipv6 start {start:?}: {r}")),
            };
            let len = net::parse_len(value, IpAddr::V6(addr)).map_err(|r| format!("ipv6 {r}"))?;
            match net::make_net(IpAddr::V6(addr), len, HostBits::Reject) {
                Ok(IpNet::V6(net)) => Ok(Resource::Ipv6(net)),
                Ok(IpNet::V4(_)) => Err("ipv6 start is not ipv6".to_owned()),
                Err(r) => Err(format!("ipv6 {start}/{value}: {r}")),
            }
        }
        ResourceKind::Asn => {
            let Some(first) = net::parse_asn(start) else {
                return Err(format!("asn start {start:?} is not a 32-bit as number"));
            };
            let n = match count(value) {
                Some(n) if n > 0 => n,
                _ => return Err(format!("asn count {value:?} is not a positive number")),
            };
            let last = u64::from(first)
                .checked_add(n - 1)
                .and_then(|last| u32::try_from(last).ok())
                .ok_or_else(|| format!("asn range {first} + {n} runs past 4294967295"))?;
            Ok(Resource::Asn { first, last })
        }
    }
}

/// `YYYYMMDD`; empty and `00000000` are `None`.
fn date(text: &str) -> Result<Option<Timestamp>, String> {
    if text.is_empty() || text == "00000000" {
        return Ok(None);
    }
    let iso = match (text.len(), text.get(0..4), text.get(4..6), text.get(6..8)) {
        (8, Some(y), Some(m), Some(d)) => format!("{y}-{m}-{d}"),
        _ => String::new(),
    };
    match Timestamp::parse_date(&iso) {
        Some(t) => Ok(Some(t)),
        None => Err(format!("date {text:?} is not YYYYMMDD")),
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "rir";
    type Record = RirRecord;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<RirRecord>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: RirRecord) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::{Attrs, Entry};
        let entries = match r {
            RirRecord::Delegation(d) => {
                let attrs = Attrs {
                    country: d.country,
                    ..Attrs::default()
                };
                let range = match d.resource {
                    Resource::Ipv4 { start, end } => {
                        Some(Entry::Range(start.into(), end.into(), attrs))
                    }
                    Resource::Ipv6(net) => Some(Entry::Net(ipnet::IpNet::V6(net), attrs)),
                    Resource::Asn { .. } => None,
                };
                range.map(|r| [r, Entry::Registry(d.registry)])
            }
            _ => None,
        };
        entries.into_iter().flatten()
    }

    fn check(r: &RirRecord) {
        if let RirRecord::Delegation(d) = r {
            if let Resource::Asn { first, last } = d.resource {
                assert!(first <= last, "{first}-{last}");
            }
            d.resource
                .networks()
                .for_each(|n| crate::fuzz::check_net(&n));
        }
    }
}
