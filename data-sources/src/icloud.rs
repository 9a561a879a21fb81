//! iCloud Private Relay egress ranges in Apple's own form, `egress-ip-ranges.csv` from
//! `mask-api.icloud.com`: an RFC 8805 geofeed without comments, one row per egress range.
//!
//! ```text
//! 172.224.226.0/27,GB,GB-EN,London,
//! 172.224.226.32/31,GB,GB-SC,Aberdeen,
//! ```
//!
//! The columns are `prefix,country,region,city,` with the fifth (postal code) always empty;
//! rows are parsed exactly as [`crate::geofeed`] does and yield the same [`GeofeedEntry`]. The
//! geography is where the relay *users* appear to be, not where the egress servers are: every
//! row is a privacy-relay egress range whatever its country. The derived lists that drop the
//! geo columns (merged CIDRs, some written as bare addresses) are plain lists: read them with
//! [`crate::plain`].

use std::io::BufRead;

use crate::error::{Located, ParseError};
use crate::geofeed::{self, GeofeedEntry};

/// Streams the egress ranges of Apple's `egress-ip-ranges.csv`.
///
/// ```
/// use ipsieve_sources::icloud;
///
/// let csv = "172.224.226.0/27,GB,GB-EN,London,\n172.224.226.32/31,GB,GB-SC,Aberdeen,\n";
/// let ranges: Vec<_> = icloud::parse(csv.as_bytes(), "icloud").map(Result::unwrap).collect();
/// assert_eq!(ranges[1].network.to_string(), "172.224.226.32/31");
/// assert_eq!(ranges[1].region.as_deref(), Some("GB-SC"));
/// assert_eq!(ranges[1].city.as_deref(), Some("Aberdeen"));
/// ```
///
/// # Errors
/// As [`crate::geofeed::parse`]. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<GeofeedEntry, ParseError>> {
    geofeed::parse(reader, source_name)
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<GeofeedEntry>, ParseError>> {
    geofeed::parse_located(reader, source_name)
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "icloud";
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
