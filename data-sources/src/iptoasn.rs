//! IPtoASN (iptoasn.com) `ip2asn-v4.tsv`, `ip2asn-v6.tsv` and `ip2asn-combined.tsv`.
//!
//! ```text
//! 1.1.1.0\t1.1.1.0\t13335\tUS\tCLOUDFLARENET - Cloudflare, Inc.
//! 1.1.1.1\t1.1.1.1\t7497\tCN\tCSTNET-AS-AP Computer Network Information Center
//! 1.0.0.0\t1.0.0.255\t0\tNone\tNot routed
//! ```
//!
//! Tab-separated (`\t` above), no header: `range_start`, `range_end` (inclusive, not CIDR-aligned, possibly
//! a single address), `AS_number`, `country_code`, `AS_description`.
//!
//! **Unrouted space.** The full upstream files cover the whole address space; space that no AS
//! announces is written as AS `0`, country `None`, description `Not routed`. Such rows are
//! yielded like any other, with [`IptoasnRange::asn`] `== 0` and [`IptoasnRange::is_routed`]
//! false: they state a fact (nothing announces this range) and the builder decides what to do
//! with it (skip it for an ASN map, keep it for a "bogon/unrouted" flag).
//!
//! The country is `None` for `None`, `Unknown`, `-` and empty fields; two letters are kept
//! uppercased. The description is kept as written (it may be empty).
//!
//! Rejected, one error per row: a row without exactly five tab-separated fields, an address
//! that does not parse, a range whose ends are of different families or reversed
//! (`end < start`), an AS number that is not decimal or does not fit 32 bits, and a country
//! that is neither two letters nor an unknown spelling. Blank lines are skipped.

use std::io::BufRead;
use std::net::IpAddr;

use crate::addr_range;
use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};

/// One row of an iptoasn TSV file.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IptoasnRange {
    /// First address of the range.
    pub start: IpAddr,
    /// Last address of the range (inclusive; same family as `start`, never before it).
    pub end: IpAddr,
    /// The origin AS; `0` marks space no AS announces (see the [module docs](self)).
    pub asn: u32,
    /// The registry country of the AS, as two ASCII uppercase bytes; `None` when unknown.
    pub country: Option<[u8; 2]>,
    /// The AS description, e.g. `CLOUDFLARENET - Cloudflare, Inc.` (`Not routed` for AS 0).
    pub description: String,
}

impl IptoasnRange {
    /// False for the AS 0 rows marking unrouted space.
    pub fn is_routed(&self) -> bool {
        self.asn != 0
    }

    /// The country code as text.
    pub fn country_str(&self) -> Option<&str> {
        addr_range::country_str(&self.country)
    }
}

/// Streams the rows of an iptoasn TSV file (IPv4, IPv6 or combined).
///
/// ```
/// use ipsieve_sources::iptoasn;
///
/// let rows = "1.1.1.0\t1.1.1.0\t13335\tUS\tCLOUDFLARENET - Cloudflare, Inc.\n\
///             1.0.0.0\t1.0.0.255\t0\tNone\tNot routed\n";
/// let ranges: Vec<_> = iptoasn::parse(rows.as_bytes(), "ip2asn").map(Result::unwrap).collect();
/// assert_eq!((ranges[0].start, ranges[0].end), ("1.1.1.0".parse().unwrap(), "1.1.1.0".parse().unwrap()));
/// assert_eq!((ranges[0].asn, ranges[0].country_str()), (13335, Some("US")));
/// assert!(!ranges[1].is_routed());
/// assert_eq!(ranges[1].country, None);
/// ```
///
/// # Errors
/// Items are `Err` for rejected rows (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<IptoasnRange, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<IptoasnRange>, ParseError>> {
    Parsed::new(reader, source_name, Iptoasn)
}

#[derive(Debug)]
struct Iptoasn;

impl LineFormat for Iptoasn {
    type Record = IptoasnRange;

    fn line(&mut self, text: &str, out: &mut Sink<'_, IptoasnRange>) {
        if text.trim().is_empty() {
            return;
        }
        let mut fields = text.split('\t');
        let (Some(start), Some(end), Some(asn), Some(cc), Some(description), None) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            return out.error(
                "expected five tab-separated fields: range start, range end, as number, \
                 country, description",
                text,
            );
        };
        match record(start.trim(), end.trim(), asn.trim(), cc.trim(), description) {
            Ok(rec) => out.record(rec),
            Err(reason) => out.error(reason, text),
        }
    }
}

fn record(
    start: &str,
    end: &str,
    asn: &str,
    cc: &str,
    description: &str,
) -> Result<IptoasnRange, String> {
    let (start, end) = addr_range::parse_range(start, end)?;
    let asn = addr_range::parse_asn_field(asn, false)?;
    let country = addr_range::parse_country(cc)?;
    Ok(IptoasnRange {
        start,
        end,
        asn,
        country,
        description: description.trim().to_owned(),
    })
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "iptoasn";
    type Record = IptoasnRange;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<IptoasnRange>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: IptoasnRange) -> impl Iterator<Item = crate::formats::Entry> {
        crate::formats::as_range(r.start, r.end, r.asn, r.description)
    }
}
