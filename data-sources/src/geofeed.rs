//! RFC 8805 self-published IP geolocation feeds ("geofeeds"): CSV rows
//! `ip_prefix,alpha2code,region,city,postal_code`, as DigitalOcean and Linode publish them
//! (and Apple for iCloud Private Relay, see [`crate::icloud`]).
//!
//! ```text
//! # Last modified: 2025-07-24 10:00:06.525037          (Linode: a few # comment lines)
//! # ip_prefix, alpha2code, region, city, postal_code
//! 2600:3c00::/32,US,US-TX,Richardson,                   empty postal code
//! 5.101.96.0/21,NL,NL-NH,Amsterdam,1098 XH              (DigitalOcean: no comments)
//! ```
//!
//! One [`GeofeedEntry`] per data row. Fields are split by the `csv` crate (RFC 4180 quoting,
//! one record per line: a quoted field may hold a comma, as in `"Washington, D.C."`, but not a
//! line break) and trimmed of surrounding whitespace. RFC 8805 lets a publisher leave any field
//! after the prefix empty and rows short (`prefix,country`), so empty and missing fields are
//! `None`; columns after the fifth are ignored.
//!
//! Accepted: CIDR prefixes and bare addresses (as /32 or /128), IPv4 and IPv6 mixed; country
//! codes in either case (uppercased), with `None`/`Unknown`/`-` read as no country; region,
//! city and postal code as written (the region is meant to be an ISO 3166-2 code such as
//! `US-TX`, but is not checked). Skipped silently: blank lines and lines whose first
//! non-blank character is `#`.
//!
//! Rejected, one error per row: a prefix that does not parse or has host bits set after its
//! length (a geofeed is machine-written, so `192.0.2.1/24` is a publisher error; see the
//! error's network), a country that is not two letters, an unbalanced quote, and a carriage
//! return inside a row. A column-header row (`ip_prefix,country,…` without `#`) is rejected
//! like any other row whose first field is not a prefix.

use std::io::BufRead;

use ipnet::IpNet;

use crate::addr_range;
use crate::csv_line::CsvLine;
use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};
use crate::net::{self, HostBits};

/// One row of a geofeed: a network and where its publisher says its users are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GeofeedEntry {
    /// The network.
    pub network: IpNet,
    /// ISO 3166-1 alpha-2 country code, uppercase; `None` when empty.
    pub country: Option<[u8; 2]>,
    /// ISO 3166-2 region code as written (`US-TX`); `None` when empty.
    pub region: Option<String>,
    /// City name as written; `None` when empty.
    pub city: Option<String>,
    /// Postal code as written (RFC 8805 deprecates it); `None` when empty.
    pub postal_code: Option<String>,
}

impl GeofeedEntry {
    /// The country code as text.
    pub fn country_str(&self) -> Option<&str> {
        addr_range::country_str(&self.country)
    }
}

/// Streams the rows of an RFC 8805 geofeed.
///
/// ```
/// use ipsieve_sources::geofeed;
///
/// let feed = "# ip_prefix, alpha2code, region, city, postal_code\n\
///             2600:3c00::/32,US,US-TX,Richardson,\n\
///             5.101.96.0/21,NL,NL-NH,Amsterdam,1098 XH\n";
/// let rows: Vec<_> = geofeed::parse(feed.as_bytes(), "linode").map(Result::unwrap).collect();
/// assert_eq!(rows[0].network.to_string(), "2600:3c00::/32");
/// assert_eq!(rows[0].country_str(), Some("US"));
/// assert_eq!(rows[0].postal_code, None);
/// assert_eq!(rows[1].postal_code.as_deref(), Some("1098 XH"));
/// ```
///
/// # Errors
/// Items are `Err` for rejected rows (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<GeofeedEntry, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<GeofeedEntry>, ParseError>> {
    Parsed::new(reader, source_name, Geofeed::new())
}

/// The geofeed line format, shared with [`crate::icloud`].
#[derive(Debug)]
pub(crate) struct Geofeed {
    csv: CsvLine,
}

impl Geofeed {
    pub(crate) fn new() -> Self {
        Geofeed {
            csv: CsvLine::new(),
        }
    }

    fn row(&mut self, body: &str) -> Result<GeofeedEntry, String> {
        let fields = self.csv.split(body)?;
        let field = |i: usize| fields.get(i).filter(|f| !f.is_empty());
        let prefix = fields.get(0).unwrap_or_default();
        let network = net::parse_net(prefix, true, HostBits::Reject)
            .map_err(|reason| format!("prefix {:?}: {reason}", crate::error::truncate(prefix)))?;
        let country = match field(1) {
            Some(cc) => addr_range::parse_country(cc)?,
            None => None,
        };
        Ok(GeofeedEntry {
            network,
            country,
            region: field(2).map(str::to_owned),
            city: field(3).map(str::to_owned),
            postal_code: field(4).map(str::to_owned),
        })
    }
}

impl LineFormat for Geofeed {
    type Record = GeofeedEntry;

    fn line(&mut self, text: &str, out: &mut Sink<'_, GeofeedEntry>) {
        let body = text.trim();
        if body.is_empty() || body.starts_with('#') {
            return;
        }
        match self.row(body) {
            Ok(entry) => out.record(entry),
            Err(reason) => out.error(reason, text),
        }
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "geofeed";
    type Record = GeofeedEntry;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<GeofeedEntry>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: GeofeedEntry) -> impl Iterator<Item = crate::formats::Entry> {
        std::iter::once(crate::formats::located(r))
    }
}
