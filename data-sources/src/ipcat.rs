//! client9 ipcat `datacenters.csv`: inclusive IPv4 ranges of hosting and datacenter providers.
//!
//! ```text
//! 3.0.0.0,3.1.255.255,Amazon AWS,http://www.amazon.com/aws/
//! 64.5.32.0,64.5.63.255,"ThePlanet.com Internet Services, Inc.",http://theplanet.com
//! ```
//!
//! No header: `start,end,provider name,provider url`; ranges are inclusive and not
//! CIDR-aligned. Names containing commas are double-quoted (RFC 4180, undone by the `csv`
//! crate one line at a time). The url may be missing. The list was last updated in 2019 and
//! holds stale ranges (some are residential or mobile space now): weigh it accordingly.
//!
//! Rejected, one error per line: a line with fewer than three or more than four fields, an
//! unbalanced quote, an address that does not parse, and a range whose ends are of different
//! families or reversed. Blank lines are skipped.

use std::io::BufRead;
use std::net::IpAddr;

use crate::addr_range;
use crate::csv_line::CsvLine;
use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};

/// One provider range.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IpcatRange {
    /// First address of the range.
    pub start: IpAddr,
    /// Last address of the range (inclusive; same family as `start`, never before it).
    pub end: IpAddr,
    /// The provider's name, quoting undone (`ThePlanet.com Internet Services, Inc.`).
    pub name: String,
    /// The provider's web site as listed; empty when absent.
    pub url: String,
}

/// Streams the ranges of an ipcat `datacenters.csv`.
///
/// ```
/// use ipsieve_sources::ipcat;
///
/// let csv = "64.5.32.0,64.5.63.255,\"ThePlanet.com Internet Services, Inc.\",http://theplanet.com\n";
/// let ranges: Vec<_> = ipcat::parse(csv.as_bytes(), "ipcat").map(Result::unwrap).collect();
/// assert_eq!(ranges[0].end.to_string(), "64.5.63.255");
/// assert_eq!(ranges[0].name, "ThePlanet.com Internet Services, Inc.");
/// assert_eq!(ranges[0].url, "http://theplanet.com");
/// ```
///
/// # Errors
/// Items are `Err` for rejected lines (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<IpcatRange, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<IpcatRange>, ParseError>> {
    Parsed::new(
        reader,
        source_name,
        Ipcat {
            csv: CsvLine::new(),
        },
    )
}

#[derive(Debug)]
struct Ipcat {
    csv: CsvLine,
}

impl LineFormat for Ipcat {
    type Record = IpcatRange;

    fn line(&mut self, text: &str, out: &mut Sink<'_, IpcatRange>) {
        if text.trim().is_empty() {
            return;
        }
        let fields = match self.csv.split(text) {
            Ok(fields) => fields,
            Err(reason) => return out.error(reason, text),
        };
        if !(3..=4).contains(&fields.len()) {
            return out.error(
                format!(
                    "expected four fields: range start, range end, provider name, provider url \
                     (found {})",
                    fields.len()
                ),
                text,
            );
        }
        match addr_range::parse_range(&fields[0], &fields[1]) {
            Ok((start, end)) => out.record(IpcatRange {
                start,
                end,
                name: fields[2].to_owned(),
                url: fields.get(3).unwrap_or_default().to_owned(),
            }),
            Err(reason) => out.error(reason, text),
        }
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "ipcat";
    type Record = IpcatRange;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<IpcatRange>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: IpcatRange) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::{Attrs, Entry};
        let attrs = Attrs {
            provider: Some(r.name),
            ..Attrs::default()
        };
        std::iter::once(Entry::Range(r.start, r.end, attrs))
    }
}
