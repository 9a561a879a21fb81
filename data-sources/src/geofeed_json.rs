//! Geofeeds rendered as JSON: Vultr's `geofeed.constant.com` JSON and the ip-fetcher
//! (jonhadfield/cloud-ips) `linode.json` conversion of Linode's RFC 8805 geofeed.
//!
//! ```text
//! { "description": "Constant.com / Vultr.com GeoFeed", "asn": 20473,
//!   "email": "support@vultr.com", "updated": "2024-04-18T07:55:40-04:00",
//!   "subnets": [ { "ip_prefix": "8.3.29.0/24", "alpha2code": "US", "region": "US-CA",
//!                  "city": "Los Angeles", "postal_code": "90012" }, … ] }
//!
//! { "etag": "\"6a8821a5-2f0e8\"", "lastModified": "2026-08-21T10:00:05Z",
//!   "records": [ { "alpha2code": "US", "city": "Richardson", "postalCode": "",
//!                  "prefix": "2600:3c00::/32", "region": "US-TX" }, … ] }
//! ```
//!
//! The two carry the same RFC 8805 columns under different keys: the entries are `subnets[]`
//! or `records[]`, the prefix `ip_prefix` or `prefix`, the postal code `postal_code` or
//! `postalCode`, the date `updated` or `lastModified`. IPv4 and IPv6 entries are mixed.
//!
//! Entries are the [`GeofeedEntry`] records of the RFC 8805 CSV parser
//! ([`geofeed`](crate::geofeed)), read the same way: a prefix or a bare address (as /32 or
//! /128); a two-letter country (uppercased), with empty, `None`, `Unknown` and `-` read as no
//! country; region (ISO 3166-2, such as `US-CA`), city and postal code as written, `None` when
//! empty, absent or `null`.
//!
//! The document is read whole (at most [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT) bytes).
//! Invalid JSON, a document with neither (or both) `subnets` and `records`, or one that is too
//! large is a fatal error. An entry that is not an object (an array is not read by position),
//! has no prefix, a prefix that does not parse or has host bits set, or a country that is not
//! two letters is a recoverable error at the line where the entry starts.

use std::io::{BufRead, Read};

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::addr_range;
use crate::error::{Located, ParseError, Position};
use crate::geofeed::GeofeedEntry;
use crate::json::{self, Array, Items};
use crate::net::{self, HostBits};
use crate::time::Timestamp;

const WHAT: &str = "a json geofeed (\"subnets\" or \"records\" array)";

/// A whole JSON geofeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeofeedJsonDocument {
    /// `updated` (Vultr, ISO 8601 with a UTC offset) or `lastModified` (ip-fetcher, `…Z`),
    /// converted to UTC; `None` when absent or in another form.
    pub updated: Option<Timestamp>,
    /// `asn`, the publisher's AS (Vultr: 20473); `None` when absent.
    pub asn: Option<u32>,
    /// `description`; `None` when absent.
    pub description: Option<String>,
    /// Every entry in file order, each accepted or rejected.
    pub entries: Vec<Result<GeofeedEntry, ParseError>>,
}

/// Reads a whole JSON geofeed.
///
/// ```
/// let doc = r#"{"asn": 20473, "updated": "2024-04-18T07:55:40-04:00", "subnets": [
///   {"ip_prefix": "8.3.29.0/24", "alpha2code": "US", "region": "US-CA",
///    "city": "Los Angeles", "postal_code": "90012"}]}"#;
/// let doc = ipsieve_sources::geofeed_json::read(doc.as_bytes(), "vultr").unwrap();
/// assert_eq!(doc.updated.unwrap().to_string(), "2024-04-18T11:55:40Z");
/// let first = doc.entries[0].as_ref().unwrap();
/// assert_eq!((first.country_str(), first.city.as_deref()), (Some("US"), Some("Los Angeles")));
/// ```
///
/// # Errors
/// A fatal [`ParseError`] when the input cannot be read, is larger than
/// [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT), is not JSON, or has no entry array. Rejected
/// entries are `Err` items of [`GeofeedJsonDocument::entries`]. Never panics.
pub fn read(reader: impl Read, source_name: &str) -> Result<GeofeedJsonDocument, ParseError> {
    let (mut doc, entries) = open(reader, source_name)?;
    doc.entries = entries.collect_all(Located::into_record)?;
    Ok(doc)
}

/// Reads and checks the document: its header, and a walk over its entries; the document's own
/// `entries` is left empty.
fn open(
    reader: impl Read,
    source_name: &str,
) -> Result<(GeofeedJsonDocument, json::Walk<Entries>), ParseError> {
    let text = json::read_document(reader, source_name)?;
    let doc: RawDocument<'_> = json::from_document(&text, source_name, WHAT)?;
    let raw_entries = match (doc.subnets, doc.records) {
        (Some(entries), None) | (None, Some(entries)) => entries,
        (None, None) => {
            let reason = format!("not {WHAT}: it has no \"subnets\" or \"records\" array");
            return Err(ParseError::fatal(source_name, Position::Line(1), reason));
        }
        (Some(_), Some(_)) => {
            let reason = format!("not {WHAT}: it has both \"subnets\" and \"records\"");
            return Err(ParseError::fatal(source_name, Position::Line(1), reason));
        }
    };
    let entries = Entries(raw_entries.items(&text));
    let updated = doc.updated.or(doc.last_modified);
    let header = GeofeedJsonDocument {
        updated: updated.as_deref().and_then(parse_offset_date_time),
        asn: doc.asn,
        description: doc.description,
        entries: Vec::new(),
    };
    Ok((header, json::Walk::new(text, source_name, entries)))
}

/// The entries not yet read.
struct Entries(Items);

impl json::Walker for Entries {
    type Record = GeofeedEntry;

    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<GeofeedEntry, String>)> {
        let raw = self.0.next(doc)?;
        Some((raw, entry(raw)))
    }
}

/// The entries of a JSON geofeed, as an iterator: [`read`] flattened, a fatal error becoming
/// the only item. The document is read when `parse` is called; the entries are decoded one at
/// a time as the iterator advances, so memory stays at the document's size.
///
/// ```
/// let doc = r#"{"lastModified": "2026-08-21T10:00:05Z", "records": [{"alpha2code": "US",
///   "city": "Richardson", "postalCode": "", "prefix": "2600:3c00::/32", "region": "US-TX"}]}"#;
/// let entries: Vec<_> = ipsieve_sources::geofeed_json::parse(doc.as_bytes(), "linode")
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(entries[0].network.to_string(), "2600:3c00::/32");
/// assert_eq!(entries[0].region.as_deref(), Some("US-TX"));
/// assert_eq!(entries[0].postal_code, None);
/// ```
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<GeofeedEntry, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each entry with the line where it starts.
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<GeofeedEntry>, ParseError>> {
    json::Walk::from_result(open(reader, source_name).map(|(_, entries)| entries))
}

#[derive(Deserialize)]
struct RawDocument<'a> {
    description: Option<String>,
    asn: Option<u32>,
    updated: Option<String>,
    #[serde(rename = "lastModified")]
    last_modified: Option<String>,
    #[serde(borrow)]
    subnets: Option<Array<'a>>,
    #[serde(borrow)]
    records: Option<Array<'a>>,
}

#[derive(Deserialize)]
struct RawEntry {
    ip_prefix: Option<String>,
    prefix: Option<String>,
    #[serde(default)]
    alpha2code: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    postal_code: Option<String>,
    #[serde(default, rename = "postalCode")]
    postal_code_camel: Option<String>,
}

fn entry(raw: &RawValue) -> Result<GeofeedEntry, String> {
    let e: RawEntry = json::from_object(raw).map_err(|msg| format!("bad geofeed entry: {msg}"))?;
    let (key, prefix) = match (e.ip_prefix, e.prefix) {
        (Some(p), None) => ("ip_prefix", p),
        (None, Some(p)) => ("prefix", p),
        (Some(_), Some(_)) => return Err("entry has both ip_prefix and prefix".to_owned()),
        (None, None) => return Err("entry has neither ip_prefix nor prefix".to_owned()),
    };
    let network =
        net::parse_net(prefix.trim(), true, HostBits::Reject).map_err(|r| format!("{key}: {r}"))?;
    let country = addr_range::parse_country(e.alpha2code.as_deref().unwrap_or_default().trim())
        .map_err(|r| format!("alpha2code: {r}"))?;
    let text = |field: Option<String>| field.filter(|s| !s.trim().is_empty());
    Ok(GeofeedEntry {
        network,
        country,
        region: text(e.region),
        city: text(e.city),
        postal_code: text(e.postal_code.or(e.postal_code_camel)),
    })
}

/// ISO 8601 date and time, either as [`Timestamp::parse_date_time`] reads it (no zone, or
/// `Z`) or with a `±HH:MM` offset, which is applied to give UTC.
fn parse_offset_date_time(text: &str) -> Option<Timestamp> {
    if let Some(t) = Timestamp::parse_date_time(text) {
        return Some(t);
    }
    // The offset is the last six bytes: a sign, two digits, a colon, two digits.
    let split = text.len().checked_sub(6)?;
    let (local, offset) = (text.get(..split)?, text.get(split..)?.as_bytes());
    let sign = match offset[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let digit = |b: u8| b.is_ascii_digit().then(|| i64::from(b - b'0'));
    if offset[3] != b':' {
        return None;
    }
    let hours = digit(offset[1])? * 10 + digit(offset[2])?;
    let minutes = digit(offset[4])? * 10 + digit(offset[5])?;
    if hours > 23 || minutes > 59 {
        return None;
    }
    let local = Timestamp::parse_date_time(local).filter(|_| !local.ends_with('Z'))?;
    Some(Timestamp(local.0 - sign * (hours * 3600 + minutes * 60)))
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "geofeed_json";
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets() {
        let t = |s| parse_offset_date_time(s).map(|t| t.to_string());
        assert_eq!(
            t("2024-04-18T07:55:40-04:00").as_deref(),
            Some("2024-04-18T11:55:40Z")
        );
        assert_eq!(
            t("2024-04-18T07:55:40+05:30").as_deref(),
            Some("2024-04-18T02:25:40Z")
        );
        assert_eq!(
            t("2026-08-21T10:00:05Z").as_deref(),
            Some("2026-08-21T10:00:05Z")
        );
        assert_eq!(t("2024-04-18T07:55:40Z+01:00"), None);
        assert_eq!(t("2024-04-18T07:55:40-24:00"), None);
        assert_eq!(t("2024-04-18T07:55:40-0400"), None);
        assert_eq!(t("é-04:00"), None);
        assert_eq!(t(""), None);
    }
}
