//! Microsoft Azure Service Tags (`ServiceTags_Public_YYYYMMDD.json`, and the same shape for the
//! sovereign clouds).
//!
//! ```text
//! { "changeNumber": 398, "cloud": "Public",
//!   "values": [ { "name": "AzureCloud.brazilne", "id": "AzureCloud.brazilne",
//!                 "properties": { "changeNumber": 2, "region": "brazilne", "regionId": 78,
//!                                 "platform": "Azure", "systemService": "",
//!                                 "addressPrefixes": [ "23.97.112.224/27",
//!                                                      "2603:1050:100::/40", … ],
//!                                 "networkFeatures": [ "API", "NSG" ] } }, … ] }
//! ```
//!
//! One record per (tag, prefix), tags in file order, each tag's prefixes in order; IPv4 and
//! IPv6 prefixes are mixed in `addressPrefixes`. **Duplicates:** tags overlap heavily —
//! `AzureCloud` is the superset, `AzureCloud.<region>` repeats its share, and service tags
//! (`Storage.WestEurope`, …) repeat prefixes again (the 2026-05 file has 101 516 entries for
//! 56 725 distinct prefixes). Every entry is yielded with its tag; the builder deduplicates,
//! and can tell the superset from the service tags by [`AzurePrefix::tag`] and
//! [`AzurePrefix::system_service`].
//!
//! The document is read whole (at most [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT) bytes).
//! Invalid JSON, a document without a `values` array or one that is too large is a fatal error.
//! A tag without a `name` or `properties.addressPrefixes`, or whose tag or `properties` is not
//! an object (an array is not read by position), is one recoverable error at the line where the
//! tag starts; a prefix that does not parse, lacks its length or has host bits set is a
//! recoverable error at its own line.

use std::io::{BufRead, Read};

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Located, ParseError};
use crate::json::{self, Array, Items};
use crate::net::{self, HostBits};

const WHAT: &str = "an azure service tags document";

/// One prefix of one service tag.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AzurePrefix {
    /// The published prefix.
    pub net: IpNet,
    /// The tag's `name`, e.g. `AzureCloud`, `AzureCloud.westeurope`, `Storage.WestEurope`.
    pub tag: String,
    /// `properties.region`, e.g. `westeurope`; empty for global tags.
    pub region: String,
    /// `properties.systemService`, e.g. `AzureStorage`; empty for the `AzureCloud` tags.
    pub system_service: String,
}

/// A whole Service Tags document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureDocument {
    /// The document's `changeNumber` (Microsoft bumps it on every change).
    pub change_number: Option<u64>,
    /// `cloud`, e.g. `Public`, `AzureGovernment`.
    pub cloud: Option<String>,
    /// Every (tag, prefix) entry in file order, each accepted or rejected.
    pub prefixes: Vec<Result<AzurePrefix, ParseError>>,
}

/// Reads a whole Service Tags document.
///
/// ```
/// let doc = r#"{"changeNumber": 398, "cloud": "Public", "values": [
///   {"name": "AzureCloud.brazilne", "id": "AzureCloud.brazilne",
///    "properties": {"region": "brazilne", "systemService": "",
///                   "addressPrefixes": ["23.97.112.224/27", "2603:1050:100::/40"]}}]}"#;
/// let doc = ipsieve_sources::azure::read(doc.as_bytes(), "azure").unwrap();
/// assert_eq!((doc.change_number, doc.cloud.as_deref()), (Some(398), Some("Public")));
/// let second = doc.prefixes[1].as_ref().unwrap();
/// assert_eq!(second.net.to_string(), "2603:1050:100::/40");
/// assert_eq!((second.tag.as_str(), second.region.as_str()), ("AzureCloud.brazilne", "brazilne"));
/// ```
///
/// # Errors
/// A fatal [`ParseError`] when the input cannot be read, is larger than
/// [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT), is not JSON, or has no `values` array.
/// Rejected tags and prefixes are `Err` items of [`AzureDocument::prefixes`]. Never panics.
pub fn read(reader: impl Read, source_name: &str) -> Result<AzureDocument, ParseError> {
    let (mut doc, entries) = open(reader, source_name)?;
    doc.prefixes = entries.collect_all(Located::into_record)?;
    Ok(doc)
}

/// Reads and checks the document: its header, and a walk over its entries; the document's own
/// `prefixes` is left empty.
fn open(
    reader: impl Read,
    source_name: &str,
) -> Result<(AzureDocument, json::Walk<Entries>), ParseError> {
    let text = json::read_document(reader, source_name)?;
    let doc: RawDocument<'_> = json::from_document(&text, source_name, WHAT)?;
    let entries = Entries {
        tags: doc.values.items(&text),
        tag: None,
    };
    let header = AzureDocument {
        change_number: doc.change_number,
        cloud: doc.cloud,
        prefixes: Vec::new(),
    };
    Ok((header, json::Walk::new(text, source_name, entries)))
}

/// The entries not yet read: the rest of the current tag's prefixes, then the next tags.
struct Entries {
    tags: Items,
    tag: Option<Tag>,
}

/// The tag being read.
struct Tag {
    name: String,
    region: String,
    system_service: String,
    prefixes: Items,
}

impl json::Walker for Entries {
    type Record = AzurePrefix;

    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<AzurePrefix, String>)> {
        loop {
            if let Some(tag) = &mut self.tag {
                if let Some(raw) = tag.prefixes.next(doc) {
                    let outcome = match prefix(raw) {
                        Ok(net) => Ok(AzurePrefix {
                            net,
                            tag: tag.name.clone(),
                            region: tag.region.clone(),
                            system_service: tag.system_service.clone(),
                        }),
                        Err(reason) => Err(format!("tag {}: {reason}", tag.name)),
                    };
                    return Some((raw, outcome));
                }
                self.tag = None;
            }
            let raw_tag = self.tags.next(doc)?;
            let read_tag = json::from_object::<RawTag<'_>>(raw_tag).and_then(|tag| {
                let props = json::from_object::<RawProperties<'_>>(tag.properties)?;
                Ok(Tag {
                    name: tag.name,
                    region: props.region.unwrap_or_default(),
                    system_service: props.system_service.unwrap_or_default(),
                    prefixes: props.address_prefixes.items(doc),
                })
            });
            match read_tag {
                Ok(tag) => self.tag = Some(tag),
                // The whole tag is one error at the line where it starts, quoting it.
                Err(msg) => return Some((raw_tag, Err(format!("bad service tag: {msg}")))),
            }
        }
    }
}

/// The entries of a Service Tags document, as an iterator: [`read`] flattened, a fatal error
/// becoming the only item. The document is read when `parse` is called; the entries are
/// decoded one at a time as the iterator advances, so memory stays at the document's size
/// however many prefixes a tag holds.
///
/// ```
/// let doc = r#"{"values": [{"name": "AzureCloud", "properties": {"addressPrefixes": ["4.145.74.52/30"]}}]}"#;
/// let nets: Vec<_> = ipsieve_sources::azure::parse(doc.as_bytes(), "azure")
///     .map(|p| p.unwrap().net.to_string())
///     .collect();
/// assert_eq!(nets, ["4.145.74.52/30"]);
/// ```
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<AzurePrefix, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each entry with the line of its prefix.
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<AzurePrefix>, ParseError>> {
    json::Walk::from_result(open(reader, source_name).map(|(_, entries)| entries))
}

#[derive(Deserialize)]
struct RawDocument<'a> {
    #[serde(rename = "changeNumber")]
    change_number: Option<u64>,
    cloud: Option<String>,
    #[serde(borrow)]
    values: Array<'a>,
}

#[derive(Deserialize)]
struct RawTag<'a> {
    name: String,
    /// Read as [`RawProperties`] once known to be an object (see [`json::from_object`]).
    #[serde(borrow)]
    properties: &'a RawValue,
}

#[derive(Deserialize)]
struct RawProperties<'a> {
    /// `null` is read as empty, like a missing field.
    #[serde(default)]
    region: Option<String>,
    #[serde(default, rename = "systemService")]
    system_service: Option<String>,
    #[serde(borrow, rename = "addressPrefixes")]
    address_prefixes: Array<'a>,
}

fn prefix(raw: &RawValue) -> Result<IpNet, String> {
    let text: String = serde_json::from_str(raw.get())
        .map_err(|e| format!("bad address prefix: {}", json::message(&e)))?;
    net::parse_net(&text, false, HostBits::Reject)
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "azure";
    type Record = AzurePrefix;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<AzurePrefix>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: AzurePrefix) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::net(r.net))
    }
}
