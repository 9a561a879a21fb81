//! The VPN server lists that gluetun maintains (`internal/storage/servers.json` of
//! qdm12/gluetun, MIT): one document, one section per VPN provider, each server with the
//! addresses gluetun's updater resolved or read from the provider's own API or configuration
//! files. It is the maintained public mirror for brands that publish no list of their own in a
//! fetchable form (NordVPN, Surfshark, ExpressVPN, CyberGhost, PureVPN, and about twenty more).
//!
//! ```text
//! { "version": 1,
//!   "cyberghost": { "version": 5, "timestamp": 1662639450, "servers": [
//!       { "vpn": "openvpn", "country": "Albania", "hostname": "87-1-al.cg-dialup.net",
//!         "udp": true, "ips": ["31.171.155.3", "31.171.155.4", …] }, … ] },
//!   "nordvpn": { "version": …, "timestamp": …, "servers": [
//!       { "vpn": "openvpn", "region": "Australia", "number": 744,
//!         "hostname": "au744.nordvpn.com", "tcp": true, "udp": true,
//!         "ips": ["45.248.77.147"] }, … ] },
//!   … }
//! ```
//!
//! One [`GluetunServer`] per server, providers in key order (the file lists them
//! alphabetically), servers in file order, with the provider's display name
//! ([`provider_name`]: `"nordvpn"` → `NordVPN`; a key this module does not know is kept as
//! written) and every address of `ips` (IPv4 and IPv6). Each address yields a host network
//! whose provider is the server's: one source names every brand of the file.
//!
//! The document is read whole (at most [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT) bytes; the
//! real file is about 3 MB). Invalid JSON, a document that is not an object, one that is too
//! large, or one with no provider section at all is a fatal error. A top-level value other
//! than the `version` number that is not a provider section (an object with a `servers`
//! array), or whose key is empty or longer than 64 bytes, is one recoverable error at its line,
//! naming the provider; so is a server that is not an object, lacks `ips`, lists no address,
//! or has an address that does not parse (naming its hostname when it has one). The other
//! servers still count.

use std::collections::BTreeMap;
use std::io::{BufRead, Read};
use std::net::IpAddr;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::{truncate, Located, ParseError, Position};
use crate::json::{self, Array, Items};
use crate::net;

const WHAT: &str = "a gluetun server list (an object of provider sections)";

/// The longest provider key read (gluetun's longest is 23 bytes).
const MAX_PROVIDER: usize = 64;

/// Display names of gluetun's provider keys, as answers name the operator. Keys are those of
/// gluetun's `servers.json`; a key not listed here is kept as written.
const NAMES: &[(&str, &str)] = &[
    ("airvpn", "AirVPN"),
    ("cyberghost", "CyberGhost"),
    ("expressvpn", "ExpressVPN"),
    ("fastestvpn", "FastestVPN"),
    ("giganews", "Giganews"),
    ("hidemyass", "HideMyAss"),
    ("ipvanish", "IPVanish"),
    ("ivpn", "IVPN"),
    ("mullvad", "Mullvad"),
    ("nordvpn", "NordVPN"),
    ("perfect privacy", "Perfect Privacy"),
    ("privado", "PrivadoVPN"),
    ("private internet access", "Private Internet Access"),
    ("privatevpn", "PrivateVPN"),
    ("protonvpn", "Proton VPN"),
    ("purevpn", "PureVPN"),
    ("slickvpn", "SlickVPN"),
    ("surfshark", "Surfshark"),
    ("torguard", "TorGuard"),
    ("vpn secure", "VPNSecure"),
    ("vpn unlimited", "VPN Unlimited"),
    ("vyprvpn", "VyprVPN"),
    ("wevpn", "WeVPN"),
    ("windscribe", "Windscribe"),
];

/// The display name of gluetun provider key `key` (`"nordvpn"` → `"NordVPN"`); an unknown key
/// as written.
///
/// ```
/// use ipsieve_sources::gluetun::provider_name;
/// assert_eq!(provider_name("nordvpn"), "NordVPN");
/// assert_eq!(provider_name("private internet access"), "Private Internet Access");
/// assert_eq!(provider_name("somenewvpn"), "somenewvpn");
/// ```
pub fn provider_name(key: &str) -> &str {
    NAMES
        .iter()
        .find(|(k, _)| *k == key)
        .map_or(key, |(_, name)| name)
}

/// One server of a gluetun list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GluetunServer {
    /// The provider's display name ([`provider_name`] of its section's key).
    pub provider: String,
    /// The server's hostname, when the list gives one.
    pub hostname: Option<String>,
    /// Its addresses, in list order (at least one).
    pub addresses: Vec<IpAddr>,
}

/// Streams the servers of a gluetun list. The document is read when `parse` is called; the
/// servers are decoded one at a time as the iterator advances.
///
/// ```
/// let doc = r#"{"version": 1, "nordvpn": {"version": 1, "timestamp": 0, "servers": [
///     {"hostname": "au744.nordvpn.com", "ips": ["45.248.77.147"]}]}}"#;
/// let servers: Vec<_> = ipsieve_sources::gluetun::parse(doc.as_bytes(), "gluetun")
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(servers[0].provider, "NordVPN");
/// assert_eq!(servers[0].addresses, ["45.248.77.147".parse::<std::net::IpAddr>().unwrap()]);
/// ```
///
/// # Errors
/// A single fatal error when the input cannot be read, is larger than
/// [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT), is not a JSON object, or has no provider
/// section; otherwise one `Err` per rejected section or server. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<GluetunServer, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each server with the line where it starts.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<GluetunServer>, ParseError>> {
    json::Walk::from_result(open(reader, source_name))
}

/// One top-level value of the document still to walk: a provider's servers, or a value that
/// is not a provider section (by its byte range, to report at its line).
enum Section {
    Servers {
        provider: String,
        items: Items,
    },
    Bad {
        span: (usize, usize),
        reason: String,
    },
}

/// Reads and checks the document, and walks its sections.
fn open(reader: impl Read, source_name: &str) -> Result<json::Walk<Sections>, ParseError> {
    let text = json::read_document(reader, source_name)?;
    let doc: BTreeMap<String, &RawValue> = json::from_document(&text, source_name, WHAT)?;
    let mut sections = Vec::new();
    for (key, raw) in doc {
        if key == "version" {
            continue;
        }
        let provider = provider_name(&key).to_owned();
        let parsed = if key.is_empty() || key.len() > MAX_PROVIDER {
            // Every address carries the name: an empty one names nobody, and a hostile one
            // must not be copied per entry.
            Err(format!("a key of {} bytes names no provider", key.len()))
        } else {
            json::from_object::<RawSection<'_>>(raw)
        };
        let section = match parsed {
            Ok(s) => Section::Servers {
                provider,
                items: s.servers.items(&text),
            },
            Err(reason) => Section::Bad {
                span: span_of(&text, raw),
                reason: format!(
                    "provider {:?}: not a provider section ({reason})",
                    truncate(&key)
                ),
            },
        };
        sections.push(section);
    }
    if sections.is_empty() {
        let reason = format!("not {WHAT}: it has no provider section");
        return Err(ParseError::fatal(source_name, Position::Line(1), reason));
    }
    let walker = Sections {
        sections: sections.into_iter(),
        current: None,
    };
    Ok(json::Walk::new(text, source_name, walker))
}

/// The byte range of `raw` inside `doc` (empty when it is not a slice of it, never the case).
fn span_of(doc: &str, raw: &RawValue) -> (usize, usize) {
    let text = raw.get();
    json::offset_in(doc, text).map_or((0, 0), |at| (at, at + text.len()))
}

#[derive(Deserialize)]
struct RawSection<'a> {
    #[serde(borrow)]
    servers: Array<'a>,
}

#[derive(Deserialize)]
struct RawServer {
    hostname: Option<String>,
    ips: Option<Vec<String>>,
}

/// The sections not yet walked and the servers of the one being walked.
struct Sections {
    sections: std::vec::IntoIter<Section>,
    current: Option<(String, Items)>,
}

impl json::Walker for Sections {
    type Record = GluetunServer;

    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<GluetunServer, String>)> {
        loop {
            if let Some((provider, items)) = &mut self.current {
                if let Some(raw) = items.next(doc) {
                    return Some((raw, server(raw, provider)));
                }
                self.current = None;
            }
            match self.sections.next()? {
                Section::Servers { provider, items } => self.current = Some((provider, items)),
                Section::Bad { span, reason } => {
                    let raw = doc
                        .get(span.0..span.1)
                        .and_then(|t| serde_json::from_str::<&RawValue>(t).ok());
                    if let Some(raw) = raw {
                        return Some((raw, Err(reason)));
                    }
                }
            }
        }
    }
}

/// The server of item `raw` of `provider`'s section.
fn server(raw: &RawValue, provider: &str) -> Result<GluetunServer, String> {
    let s: RawServer =
        json::from_object(raw).map_err(|e| format!("{provider}: bad server: {e}"))?;
    let name = s.hostname.as_deref().map_or_else(
        || format!("{provider} server"),
        |h| format!("{provider} {}", truncate(h)),
    );
    let ips = s.ips.ok_or_else(|| format!("{name}: no \"ips\""))?;
    if ips.is_empty() {
        return Err(format!("{name}: \"ips\" lists no address"));
    }
    let addresses = ips
        .iter()
        .map(|ip| net::parse_addr(ip).map_err(|r| format!("{name}: {:?}: {r}", truncate(ip))))
        .collect::<Result<Vec<IpAddr>, String>>()?;
    Ok(GluetunServer {
        provider: provider.to_owned(),
        hostname: s.hostname,
        addresses,
    })
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "gluetun";
    type Record = GluetunServer;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<GluetunServer>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: GluetunServer) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::{Attrs, Entry};
        let provider = r.provider;
        r.addresses.into_iter().map(move |a| {
            let attrs = Attrs {
                provider: Some(provider.clone()),
                ..Attrs::default()
            };
            Entry::Net(ipnet::IpNet::from(a), attrs)
        })
    }

    fn check(r: &GluetunServer) {
        assert!(!r.addresses.is_empty(), "a server without an address");
        assert!(!r.provider.is_empty(), "a server without a provider");
    }
}
