//! ip-location-db ASN range CSVs (`asn-ipv4.csv`, `asn-ipv6.csv`, sapics/ip-location-db and its
//! `@ip-location-db/asn` npm package).
//!
//! ```text
//! 1.0.0.0,1.0.0.255,13335,"Cloudflare, Inc."
//! 1.0.4.0,1.0.7.255,38803,Gtelecom Pty Ltd
//! 2.26.200.0,2.26.215.255,201907,"LLC ""SPUTNIK"""
//! 2001:200::,2001:200:1b9:ffff:ffff:ffff:ffff:ffff,2500,WIDE Project
//! ```
//!
//! No header: `ip_range_start,ip_range_end,autonomous_system_number,autonomous_system_organization`.
//! Ranges are inclusive and not CIDR-aligned; IPv6 rows use compressed notation. An
//! organisation containing a comma or a quote is double-quoted with inner quotes doubled
//! (RFC 4180); quoting is undone by the `csv` crate, one line at a time, so a quote left open
//! is an error for its line only. Fields are trimmed of surrounding whitespace.
//!
//! AS `0` is yielded as written (the 2026 files have none); [`IpLocationAsn::is_routed`] tells
//! it apart, as for [`iptoasn`](crate::iptoasn).
//!
//! Rejected, one error per line: a line without exactly four fields, an unbalanced quote, an
//! address that does not parse, a range whose ends are of different families or reversed, and
//! an AS number that is not decimal or does not fit 32 bits. Blank lines are skipped.

use std::io::BufRead;
use std::net::IpAddr;

use crate::addr_range;
use crate::csv_line::CsvLine;
use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};

/// One row of an ip-location-db ASN CSV.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpLocationAsn {
    /// First address of the range.
    pub start: IpAddr,
    /// Last address of the range (inclusive; same family as `start`, never before it).
    pub end: IpAddr,
    /// The origin AS.
    pub asn: u32,
    /// The AS organisation, quoting undone (`Cloudflare, Inc.`, `LLC "SPUTNIK"`).
    pub org: String,
}

impl IpLocationAsn {
    /// False for AS 0 (reserved; never a real origin).
    pub fn is_routed(&self) -> bool {
        self.asn != 0
    }
}

/// Streams the rows of an ip-location-db ASN CSV (IPv4 or IPv6).
///
/// ```
/// use ipsieve_sources::ip_location_db;
///
/// let rows = "1.0.0.0,1.0.0.255,13335,\"Cloudflare, Inc.\"\n\
///             2.26.200.0,2.26.215.255,201907,\"LLC \"\"SPUTNIK\"\"\"\n";
/// let ranges: Vec<_> =
///     ip_location_db::parse(rows.as_bytes(), "asn-ipv4").map(Result::unwrap).collect();
/// assert_eq!(ranges[0].end.to_string(), "1.0.0.255");
/// assert_eq!((ranges[0].asn, ranges[0].org.as_str()), (13335, "Cloudflare, Inc."));
/// assert_eq!(ranges[1].org, "LLC \"SPUTNIK\"");
/// ```
///
/// # Errors
/// Items are `Err` for rejected rows (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<IpLocationAsn, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<IpLocationAsn>, ParseError>> {
    Parsed::new(
        reader,
        source_name,
        AsnCsv {
            csv: CsvLine::new(),
        },
    )
}

#[derive(Debug)]
struct AsnCsv {
    csv: CsvLine,
}

impl LineFormat for AsnCsv {
    type Record = IpLocationAsn;

    fn line(&mut self, text: &str, out: &mut Sink<'_, IpLocationAsn>) {
        if text.trim().is_empty() {
            return;
        }
        let fields = match self.csv.split(text) {
            Ok(fields) => fields,
            Err(reason) => return out.error(reason, text),
        };
        if fields.len() != 4 {
            return out.error(
                format!(
                    "expected four fields: range start, range end, as number, organisation \
                     (found {})",
                    fields.len()
                ),
                text,
            );
        }
        let result = addr_range::parse_range(&fields[0], &fields[1]).and_then(|(start, end)| {
            let asn = addr_range::parse_asn_field(&fields[2], false)?;
            Ok(IpLocationAsn {
                start,
                end,
                asn,
                org: fields[3].to_owned(),
            })
        });
        match result {
            Ok(rec) => out.record(rec),
            Err(reason) => out.error(reason, text),
        }
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "ip_location_db";
    type Record = IpLocationAsn;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<IpLocationAsn>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: IpLocationAsn) -> impl Iterator<Item = crate::formats::Entry> {
        crate::formats::as_range(r.start, r.end, r.asn, r.org)
    }
}
