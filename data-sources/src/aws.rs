//! Amazon Web Services `ip-ranges.json`.
//!
//! ```text
//! { "syncToken": "1787411825", "createDate": "2026-08-22-15-17-05",
//!   "prefixes":      [ { "ip_prefix": "3.4.12.4/32", "region": "eu-west-1",
//!                        "service": "AMAZON", "network_border_group": "eu-west-1" }, … ],
//!   "ipv6_prefixes": [ { "ipv6_prefix": "2406:daba:f000::/40", … }, … ] }
//! ```
//!
//! IPv4 entries come from `prefixes[]`, then IPv6 entries from `ipv6_prefixes[]`, each in file
//! order. The same prefix is listed once per service (`AMAZON` is the superset service); the
//! entries are yielded as they are and the builder deduplicates.
//!
//! The document is read whole (at most [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT) bytes).
//! Invalid JSON, a document of another shape (no `prefixes`/`ipv6_prefixes` arrays) or one
//! that is too large is a fatal error. One entry that is not an object (an array is not read
//! by position), lacks a field, holds a prefix that does not parse, has host bits set or is of
//! the other address family is a recoverable error at the line where the entry starts.

use std::io::{BufRead, Read};

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Located, ParseError, Position};
use crate::json::{self, Array, Items};
use crate::net::{self, HostBits};
use crate::time::Timestamp;

const WHAT: &str = "an aws ip-ranges.json document";

/// One entry of `prefixes[]` or `ipv6_prefixes[]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AwsPrefix {
    /// The published prefix.
    pub net: IpNet,
    /// The region, e.g. `eu-west-1` (`GLOBAL` for edge services).
    pub region: String,
    /// The service, e.g. `AMAZON`, `EC2`, `CLOUDFRONT`.
    pub service: String,
    /// The network border group, e.g. `us-east-1-wl1-bos-wlz-1`.
    pub network_border_group: String,
}

/// A whole `ip-ranges.json`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsDocument {
    /// `createDate` (`YYYY-MM-DD-hh-mm-ss`, UTC); `None` when absent or not in that form.
    pub create_date: Option<Timestamp>,
    /// `syncToken` as published (a Unix time in seconds, as a string).
    pub sync_token: Option<String>,
    /// Every entry, IPv4 first, each accepted or rejected.
    pub prefixes: Vec<Result<AwsPrefix, ParseError>>,
}

/// Reads a whole `ip-ranges.json`.
///
/// ```
/// let doc = r#"{"syncToken": "1787411825", "createDate": "2026-08-22-15-17-05",
///   "prefixes": [{"ip_prefix": "3.4.12.4/32", "region": "eu-west-1",
///                 "service": "AMAZON", "network_border_group": "eu-west-1"}],
///   "ipv6_prefixes": []}"#;
/// let doc = ipsieve_sources::aws::read(doc.as_bytes(), "aws").unwrap();
/// assert_eq!(doc.create_date.unwrap().to_string(), "2026-08-22T15:17:05Z");
/// assert_eq!(doc.prefixes[0].as_ref().unwrap().net.to_string(), "3.4.12.4/32");
/// ```
///
/// # Errors
/// A fatal [`ParseError`] when the input cannot be read, is larger than
/// [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT), is not JSON, or is not shaped like
/// `ip-ranges.json`. Rejected entries are `Err` items of [`AwsDocument::prefixes`]. Never
/// panics.
pub fn read(reader: impl Read, source_name: &str) -> Result<AwsDocument, ParseError> {
    let (mut doc, entries) = open(reader, source_name)?;
    doc.prefixes = entries.collect_all(Located::into_record)?;
    Ok(doc)
}

/// Reads and checks the document: its header, and a walk over its entries; the document's own
/// `prefixes` is left empty.
fn open(
    reader: impl Read,
    source_name: &str,
) -> Result<(AwsDocument, json::Walk<Entries>), ParseError> {
    let text = json::read_document(reader, source_name)?;
    let doc: RawDocument<'_> = json::from_document(&text, source_name, WHAT)?;
    if doc.prefixes.is_none() && doc.ipv6_prefixes.is_none() {
        let reason = format!("not {WHAT}: it has no \"prefixes\" or \"ipv6_prefixes\" array");
        return Err(ParseError::fatal(source_name, Position::Line(1), reason));
    }
    let entries = Entries {
        v4: doc.prefixes.map(|a| a.items(&text)).unwrap_or_default(),
        v6: doc
            .ipv6_prefixes
            .map(|a| a.items(&text))
            .unwrap_or_default(),
    };
    let header = AwsDocument {
        create_date: doc.create_date.as_deref().and_then(parse_create_date),
        sync_token: doc.sync_token,
        prefixes: Vec::new(),
    };
    Ok((header, json::Walk::new(text, source_name, entries)))
}

/// The entries not yet read: IPv4, then IPv6.
struct Entries {
    v4: Items,
    v6: Items,
}

impl json::Walker for Entries {
    type Record = AwsPrefix;

    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<AwsPrefix, String>)> {
        if let Some(raw) = self.v4.next(doc) {
            return Some((raw, entry(raw, false)));
        }
        let raw = self.v6.next(doc)?;
        Some((raw, entry(raw, true)))
    }
}

/// The entries of an `ip-ranges.json`, as an iterator: [`read`] flattened, a fatal error
/// becoming the only item. The document is read when `parse` is called; the entries are
/// decoded one at a time as the iterator advances, so memory stays at the document's size.
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<AwsPrefix, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each entry with the line where it starts.
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<AwsPrefix>, ParseError>> {
    json::Walk::from_result(open(reader, source_name).map(|(_, entries)| entries))
}

#[derive(Deserialize)]
struct RawDocument<'a> {
    #[serde(rename = "syncToken")]
    sync_token: Option<String>,
    #[serde(rename = "createDate")]
    create_date: Option<String>,
    #[serde(borrow)]
    prefixes: Option<Array<'a>>,
    #[serde(borrow)]
    ipv6_prefixes: Option<Array<'a>>,
}

#[derive(Deserialize)]
struct RawEntry {
    ip_prefix: Option<String>,
    ipv6_prefix: Option<String>,
    region: String,
    service: String,
    network_border_group: String,
}

fn entry(raw: &RawValue, v6: bool) -> Result<AwsPrefix, String> {
    let e: RawEntry = json::from_object(raw).map_err(|msg| format!("bad prefix entry: {msg}"))?;
    let (key, prefix) = if v6 {
        ("ipv6_prefix", e.ipv6_prefix)
    } else {
        ("ip_prefix", e.ip_prefix)
    };
    let prefix = prefix.ok_or_else(|| format!("bad prefix entry: missing field `{key}`"))?;
    let net =
        net::parse_net(&prefix, false, HostBits::Reject).map_err(|r| format!("{key}: {r}"))?;
    if matches!(net, IpNet::V6(_)) != v6 {
        return Err(format!(
            "{key} holds {prefix:?}, of the other address family"
        ));
    }
    Ok(AwsPrefix {
        net,
        region: e.region,
        service: e.service,
        network_border_group: e.network_border_group,
    })
}

/// `YYYY-MM-DD-hh-mm-ss`.
fn parse_create_date(text: &str) -> Option<Timestamp> {
    let (date, time) = (text.get(..10)?, text.get(10..)?);
    Timestamp::from_parts(date, time.strip_prefix('-')?, b'-')
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "aws";
    type Record = AwsPrefix;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<AwsPrefix>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: AwsPrefix) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::net(r.net))
    }
}
