//! Oracle Cloud Infrastructure `public_ip_ranges.json`.
//!
//! ```text
//! { "last_updated_timestamp": "2026-07-27T06:55:33.696145",
//!   "regions": [ { "region": "mx-monterrey-1",
//!                  "cidrs": [ { "cidr": "40.233.0.0/19", "tags": [ "OCI" ] },
//!                             { "cidr": "134.70.156.0/22", "tags": [ "OSN", "OBJECT_STORAGE" ] },
//!                             … ] }, … ] }
//! ```
//!
//! One record per CIDR, regions in file order. Tags are `OCI` (customer compute),
//! `OSN` (Oracle Services Network) and `OBJECT_STORAGE` (with `OSN`); they are kept as written.
//! The 2026 file is IPv4 only; IPv6 CIDRs are accepted all the same.
//!
//! The document is read whole (at most [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT) bytes).
//! Invalid JSON, a document without a `regions` array or one that is too large is a fatal
//! error. A region without `region` or `cidrs`, or that is not an object (an array is not read
//! by position), is one recoverable error at the line where it starts; a CIDR entry that is not
//! an object, lacks `cidr`, or whose prefix does not parse, lacks its length or has host bits
//! set, is a recoverable error at its own line.

use std::io::{BufRead, Read};

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Located, ParseError};
use crate::json::{self, Array, Items};
use crate::net::{self, HostBits};
use crate::time::Timestamp;

const WHAT: &str = "an oracle public_ip_ranges.json document";

/// One CIDR of one region.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OraclePrefix {
    /// The published prefix.
    pub net: IpNet,
    /// The region, e.g. `mx-monterrey-1`.
    pub region: String,
    /// The tags, e.g. `["OSN", "OBJECT_STORAGE"]`; empty when absent.
    pub tags: Vec<String>,
}

/// A whole `public_ip_ranges.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OracleDocument {
    /// `last_updated_timestamp` (ISO 8601 without time zone, read as UTC; fractional seconds
    /// dropped); `None` when absent or not in that form.
    pub last_updated: Option<Timestamp>,
    /// Every CIDR in file order, each accepted or rejected.
    pub prefixes: Vec<Result<OraclePrefix, ParseError>>,
}

/// Reads a whole `public_ip_ranges.json`.
///
/// ```
/// let doc = r#"{"last_updated_timestamp": "2026-07-27T06:55:33.696145", "regions": [
///   {"region": "mx-monterrey-1", "cidrs": [{"cidr": "40.233.0.0/19", "tags": ["OCI"]}]}]}"#;
/// let doc = ipsieve_sources::oracle::read(doc.as_bytes(), "oracle").unwrap();
/// assert_eq!(doc.last_updated.unwrap().to_string(), "2026-07-27T06:55:33Z");
/// let first = doc.prefixes[0].as_ref().unwrap();
/// assert_eq!((first.net.to_string(), first.tags.clone()), ("40.233.0.0/19".into(), vec!["OCI".to_owned()]));
/// ```
///
/// # Errors
/// A fatal [`ParseError`] when the input cannot be read, is larger than
/// [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT), is not JSON, or has no `regions` array.
/// Rejected regions and CIDRs are `Err` items of [`OracleDocument::prefixes`]. Never panics.
pub fn read(reader: impl Read, source_name: &str) -> Result<OracleDocument, ParseError> {
    let (mut doc, entries) = open(reader, source_name)?;
    doc.prefixes = entries.collect_all(Located::into_record)?;
    Ok(doc)
}

/// Reads and checks the document: its header, and a walk over its entries; the document's own
/// `prefixes` is left empty.
fn open(
    reader: impl Read,
    source_name: &str,
) -> Result<(OracleDocument, json::Walk<Entries>), ParseError> {
    let text = json::read_document(reader, source_name)?;
    let doc: RawDocument<'_> = json::from_document(&text, source_name, WHAT)?;
    let entries = Entries {
        regions: doc.regions.items(&text),
        region: None,
    };
    let header = OracleDocument {
        last_updated: doc
            .last_updated_timestamp
            .as_deref()
            .and_then(Timestamp::parse_date_time),
        prefixes: Vec::new(),
    };
    Ok((header, json::Walk::new(text, source_name, entries)))
}

/// The entries not yet read: the rest of the current region's CIDRs, then the next regions.
struct Entries {
    regions: Items,
    region: Option<(String, Items)>,
}

impl json::Walker for Entries {
    type Record = OraclePrefix;

    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<OraclePrefix, String>)> {
        loop {
            if let Some((region, cidrs)) = &mut self.region {
                if let Some(raw) = cidrs.next(doc) {
                    let outcome =
                        cidr(raw, region).map_err(|reason| format!("region {region}: {reason}"));
                    return Some((raw, outcome));
                }
                self.region = None;
            }
            let raw_region = self.regions.next(doc)?;
            match json::from_object::<RawRegion<'_>>(raw_region) {
                Ok(region) => self.region = Some((region.region, region.cidrs.items(doc))),
                // The whole region is one error at the line where it starts, quoting it.
                Err(msg) => return Some((raw_region, Err(format!("bad region: {msg}")))),
            }
        }
    }
}

/// The CIDRs of a `public_ip_ranges.json`, as an iterator: [`read`] flattened, a fatal error
/// becoming the only item. The document is read when `parse` is called; the CIDRs are decoded
/// one at a time as the iterator advances, so memory stays at the document's size.
///
/// ```
/// let doc = r#"{"regions": [{"region": "eu-jovanovac-1", "cidrs": [{"cidr": "192.29.224.0/20", "tags": ["OSN"]}]}]}"#;
/// let regions: Vec<_> = ipsieve_sources::oracle::parse(doc.as_bytes(), "oracle")
///     .map(|p| p.unwrap().region)
///     .collect();
/// assert_eq!(regions, ["eu-jovanovac-1"]);
/// ```
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<OraclePrefix, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each entry with the line where its CIDR object starts.
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<OraclePrefix>, ParseError>> {
    json::Walk::from_result(open(reader, source_name).map(|(_, entries)| entries))
}

#[derive(Deserialize)]
struct RawDocument<'a> {
    last_updated_timestamp: Option<String>,
    #[serde(borrow)]
    regions: Array<'a>,
}

#[derive(Deserialize)]
struct RawRegion<'a> {
    region: String,
    #[serde(borrow)]
    cidrs: Array<'a>,
}

#[derive(Deserialize)]
struct RawCidr {
    cidr: String,
    #[serde(default)]
    tags: Option<Vec<String>>,
}

fn cidr(raw: &RawValue, region: &str) -> Result<OraclePrefix, String> {
    let e: RawCidr = json::from_object(raw).map_err(|msg| format!("bad cidr entry: {msg}"))?;
    let net = net::parse_net(&e.cidr, false, HostBits::Reject).map_err(|r| format!("cidr: {r}"))?;
    Ok(OraclePrefix {
        net,
        region: region.to_owned(),
        tags: e.tags.unwrap_or_default(),
    })
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "oracle";
    type Record = OraclePrefix;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<OraclePrefix>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: OraclePrefix) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::net(r.net))
    }
}
