//! Google's published ranges: `cloud.json` (Google Cloud, with service and scope) and the
//! same-shaped `goog.json` (all Google, without them).
//!
//! ```text
//! { "syncToken": "1787299542583", "creationTime": "2026-08-21T01:05:42.583377",
//!   "prefixes": [ { "ipv4Prefix": "34.1.208.0/20", "service": "Google Cloud",
//!                   "scope": "africa-south1" },
//!                 { "ipv6Prefix": "2600:1900:8000::/44", … }, … ] }
//! ```
//!
//! Each entry has either `ipv4Prefix` or `ipv6Prefix`. The document is read whole (at most
//! [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT) bytes). Invalid JSON, a document without a
//! `prefixes` array or one that is too large is a fatal error. An entry that is not an object
//! (an array is not read by position), has neither or both prefix keys, or a prefix that does
//! not parse, has host bits set or is of the wrong family is a recoverable error at the line
//! where the entry starts.

use std::io::{BufRead, Read};

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Located, ParseError};
use crate::json::{self, Array, Items};
use crate::net::{self, HostBits};
use crate::time::Timestamp;

const WHAT: &str = "a google cloud.json document";

/// One entry of `prefixes[]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GooglePrefix {
    /// The published prefix.
    pub net: IpNet,
    /// The service, `Google Cloud` in `cloud.json`; empty when absent (`goog.json`).
    pub service: String,
    /// The region, e.g. `us-east1`; empty when absent (`goog.json`).
    pub scope: String,
}

/// A whole `cloud.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoogleDocument {
    /// `creationTime` (ISO 8601 without time zone, read as UTC; fractional seconds dropped);
    /// `None` when absent or not in that form.
    pub creation_time: Option<Timestamp>,
    /// `syncToken` as published (a Unix time in milliseconds, as a string).
    pub sync_token: Option<String>,
    /// Every entry, in file order, each accepted or rejected.
    pub prefixes: Vec<Result<GooglePrefix, ParseError>>,
}

/// Reads a whole `cloud.json` (or `goog.json`).
///
/// ```
/// let doc = r#"{"syncToken": "1787299542583", "creationTime": "2026-08-21T01:05:42.583377",
///   "prefixes": [{"ipv6Prefix": "2600:1900:8000::/44", "service": "Google Cloud",
///                 "scope": "africa-south1"}]}"#;
/// let doc = ipsieve_sources::google::read(doc.as_bytes(), "gcp").unwrap();
/// assert_eq!(doc.creation_time.unwrap().to_string(), "2026-08-21T01:05:42Z");
/// assert_eq!(doc.prefixes[0].as_ref().unwrap().scope, "africa-south1");
/// ```
///
/// # Errors
/// A fatal [`ParseError`] when the input cannot be read, is larger than
/// [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT), is not JSON, or has no `prefixes` array.
/// Rejected entries are `Err` items of [`GoogleDocument::prefixes`]. Never panics.
pub fn read(reader: impl Read, source_name: &str) -> Result<GoogleDocument, ParseError> {
    let (mut doc, entries) = open(reader, source_name)?;
    doc.prefixes = entries.collect_all(Located::into_record)?;
    Ok(doc)
}

/// Reads and checks the document: its header, and a walk over its entries; the document's own
/// `prefixes` is left empty.
fn open(
    reader: impl Read,
    source_name: &str,
) -> Result<(GoogleDocument, json::Walk<Entries>), ParseError> {
    let text = json::read_document(reader, source_name)?;
    let doc: RawDocument<'_> = json::from_document(&text, source_name, WHAT)?;
    let entries = Entries(doc.prefixes.items(&text));
    let header = GoogleDocument {
        creation_time: doc
            .creation_time
            .as_deref()
            .and_then(Timestamp::parse_date_time),
        sync_token: doc.sync_token,
        prefixes: Vec::new(),
    };
    Ok((header, json::Walk::new(text, source_name, entries)))
}

/// The entries not yet read.
struct Entries(Items);

impl json::Walker for Entries {
    type Record = GooglePrefix;

    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<GooglePrefix, String>)> {
        let raw = self.0.next(doc)?;
        Some((raw, entry(raw)))
    }
}

/// The entries of a `cloud.json`, as an iterator: [`read`] flattened, a fatal error becoming
/// the only item. The document is read when `parse` is called; the entries are decoded one at
/// a time as the iterator advances, so memory stays at the document's size.
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<GooglePrefix, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each entry with the line where it starts.
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<GooglePrefix>, ParseError>> {
    json::Walk::from_result(open(reader, source_name).map(|(_, entries)| entries))
}

#[derive(Deserialize)]
struct RawDocument<'a> {
    #[serde(rename = "syncToken")]
    sync_token: Option<String>,
    #[serde(rename = "creationTime")]
    creation_time: Option<String>,
    #[serde(borrow)]
    prefixes: Array<'a>,
}

#[derive(Deserialize)]
struct RawEntry {
    #[serde(rename = "ipv4Prefix")]
    ipv4_prefix: Option<String>,
    #[serde(rename = "ipv6Prefix")]
    ipv6_prefix: Option<String>,
    #[serde(default)]
    service: String,
    #[serde(default)]
    scope: String,
}

fn entry(raw: &RawValue) -> Result<GooglePrefix, String> {
    let e: RawEntry = json::from_object(raw).map_err(|msg| format!("bad prefix entry: {msg}"))?;
    let (key, prefix, v6) = match (e.ipv4_prefix, e.ipv6_prefix) {
        (Some(p), None) => ("ipv4Prefix", p, false),
        (None, Some(p)) => ("ipv6Prefix", p, true),
        (Some(_), Some(_)) => return Err("entry has both ipv4Prefix and ipv6Prefix".to_owned()),
        (None, None) => return Err("entry has neither ipv4Prefix nor ipv6Prefix".to_owned()),
    };
    let net =
        net::parse_net(&prefix, false, HostBits::Reject).map_err(|r| format!("{key}: {r}"))?;
    if matches!(net, IpNet::V6(_)) != v6 {
        return Err(format!(
            "{key} holds {prefix:?}, of the other address family"
        ));
    }
    Ok(GooglePrefix {
        net,
        service: e.service,
        scope: e.scope,
    })
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "google";
    type Record = GooglePrefix;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<GooglePrefix>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: GooglePrefix) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::net(r.net))
    }
}
