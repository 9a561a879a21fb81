//! Prefix lists compiled by ip-fetcher (jonhadfield/cloud-ips: `vultr.json`, `hetzner.json`,
//! `ovh.json`, `m247.json`, `contabo.json`, `leaseweb.json`, `scaleway.json`, `ibmcloud.json`).
//!
//! ```text
//! {"IPv4Prefixes":["195.154.0.0/16","151.115.160.0/19",…],"IPv6Prefixes":["2001:bc8::/32",…]}
//! ```
//!
//! One line, two arrays of CIDR strings; IPv4 entries are yielded first, then IPv6, each in
//! file order, repeats included (leaseweb's lists eight prefixes twice). These lists are
//! compiled from routing and registry data, not published by the providers: treat them as
//! hosting hints. (ip-fetcher's `linode.json` is a geofeed and has another shape: read it with
//! [`geofeed_json`](crate::geofeed_json).)
//!
//! The document is read whole (at most [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT) bytes).
//! Invalid JSON, a document with neither array, or one that is too large is a fatal error. An
//! item that is not a string, does not parse, lacks its length, has host bits set or is in the
//! other family's array is a recoverable error at its line (line 1 in the one-line files; the
//! error quotes the item).

use std::io::{BufRead, Read};

use ipnet::IpNet;
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{Located, ParseError, Position};
use crate::json::{self, Array, Items};
use crate::net::{self, HostBits};

const WHAT: &str = "an ip-fetcher prefix list (\"IPv4Prefixes\"/\"IPv6Prefixes\")";

/// Streams the prefixes of an ip-fetcher list. The document is read when `parse` is called;
/// the items are decoded one at a time as the iterator advances.
///
/// ```
/// let doc = r#"{"IPv4Prefixes":["195.154.0.0/16"],"IPv6Prefixes":["2001:bc8::/32"]}"#;
/// let nets: Vec<String> = ipsieve_sources::ipfetcher::parse(doc.as_bytes(), "scaleway")
///     .map(|n| n.unwrap().to_string())
///     .collect();
/// assert_eq!(nets, ["195.154.0.0/16", "2001:bc8::/32"]);
/// ```
///
/// # Errors
/// A single fatal error when the input cannot be read, is larger than
/// [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT), is not JSON, or has neither array; otherwise
/// one `Err` per rejected item. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<IpNet, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each prefix with the line of its item.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<IpNet>, ParseError>> {
    json::Walk::from_result(open(reader, source_name))
}

/// Reads and checks the document, and walks its items.
fn open(reader: impl Read, source_name: &str) -> Result<json::Walk<Entries>, ParseError> {
    let text = json::read_document(reader, source_name)?;
    let doc: RawDocument<'_> = json::from_document(&text, source_name, WHAT)?;
    if doc.v4.is_none() && doc.v6.is_none() {
        let reason = format!("not {WHAT}: it has neither array");
        return Err(ParseError::fatal(source_name, Position::Line(1), reason));
    }
    let entries = Entries {
        v4: doc.v4.map(|a| a.items(&text)).unwrap_or_default(),
        v6: doc.v6.map(|a| a.items(&text)).unwrap_or_default(),
    };
    Ok(json::Walk::new(text, source_name, entries))
}

/// The items not yet read: IPv4, then IPv6.
struct Entries {
    v4: Items,
    v6: Items,
}

impl json::Walker for Entries {
    type Record = IpNet;

    fn next_entry<'d>(&mut self, doc: &'d str) -> Option<(&'d RawValue, Result<IpNet, String>)> {
        if let Some(raw) = self.v4.next(doc) {
            return Some((raw, item(raw, false)));
        }
        let raw = self.v6.next(doc)?;
        Some((raw, item(raw, true)))
    }
}

#[derive(Deserialize)]
struct RawDocument<'a> {
    #[serde(borrow, rename = "IPv4Prefixes")]
    v4: Option<Array<'a>>,
    #[serde(borrow, rename = "IPv6Prefixes")]
    v6: Option<Array<'a>>,
}

fn item(raw: &RawValue, v6: bool) -> Result<IpNet, String> {
    let key = if v6 { "IPv6Prefixes" } else { "IPv4Prefixes" };
    let text: String = serde_json::from_str(raw.get())
        .map_err(|e| format!("{key}: bad item: {}", json::message(&e)))?;
    let net = net::parse_net(&text, false, HostBits::Reject).map_err(|r| format!("{key}: {r}"))?;
    if matches!(net, IpNet::V6(_)) != v6 {
        return Err(format!("{key} holds {text:?}, of the other address family"));
    }
    Ok(net)
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "ipfetcher";
    type Record = ipnet::IpNet;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<ipnet::IpNet>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: ipnet::IpNet) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        std::iter::once(Entry::net(r))
    }
}
