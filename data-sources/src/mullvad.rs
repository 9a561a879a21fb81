//! Mullvad VPN relay lists, in both shapes seen: the app API's `/app/v1/relays` document and the
//! desktop app's cached relay list (the relay selector's `relays.json`).
//!
//! The API shape is an object; relays are grouped by protocol and point into a `locations`
//! table by key:
//!
//! ```text
//! { "locations": { "al-tia": { "country": "Albania", "city": "Tirana", … }, … },
//!   "openvpn":   { "ports": […], "relays": [] },
//!   "wireguard": { "port_ranges": […], "relays": [
//!       { "hostname": "al-tia-wg-003", "location": "al-tia", "active": true, "owned": false,
//!         "provider": "iRegister", "ipv4_addr_in": "103.124.165.130",
//!         "ipv6_addr_in": "2a04:27c0:0:c::f001",
//!         "shadowsocks_extra_addr_in": ["103.204.123.136"],
//!         "features": { "quic": { "addr_in": ["103.124.165.135", "2a04:27c0:0:c::f00a"], … } },
//!         … }, … ] },
//!   "bridge":    { "shadowsocks": […], "relays": [ { "hostname": "au-syd-br-001", … } ] } }
//! ```
//!
//! The cached shape is an array: relays nested under countries and cities, with their fields
//! split between the relay, `inner` and `endpoint_data`, and bridges in a second element:
//!
//! ```text
//! [ { "countries": [ { "name": "Albania", "code": "al", "cities": [ { "name": "Tirana",
//!       "code": "tia", "relays": [ { "owned": false, "provider": "iRegister",
//!         "endpoint_data": { "public_key": "…", "quic": { "addr_in": […] },
//!                            "shadowsocks_extra_addr_in": […] },
//!         "inner": { "hostname": "al-tia-wg-001", "ipv4_addr_in": "103.124.165.2",
//!                    "ipv6_addr_in": "2a04:27c0:0:e::f001", "active": true,
//!                    "location": { "country_code": "al", "city_code": "tia", … } } }, … ] } ] } ],
//!     "wireguard": {…} },
//!   { "bridges": [ { "hostname": "au-syd-br-001", "ipv4_addr_in": "146.70.141.154",
//!                    "ipv6_addr_in": null, "active": true, "location": {…} }, … ],
//!     "bridge_endpoint": {…} } ]
//! ```
//!
//! One [`MullvadRelay`] per relay (OpenVPN, then WireGuard, then bridges in the API shape;
//! WireGuard relays in country order, then bridges, in the cached shape), with every ingress
//! address it lists: `ipv4_addr_in`, `ipv6_addr_in`, and the extra addresses in
//! `shadowsocks_extra_addr_in` and the QUIC `addr_in` (mixed IPv4 and IPv6, several per relay;
//! clients connect to them, so traffic from these relays can appear on them too).
//! **Inactive relays** (`"active": false`) are yielded with [`MullvadRelay::active`] false:
//! whether a relay that is down today still marks its addresses is the builder's decision.
//!
//! The document is read whole (at most [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT) bytes).
//! Invalid JSON, a document of neither shape, or one that is too large is a fatal error (so is
//! a `locations` table of more than 65 536 entries). A relay (or, in the cached shape, a
//! country) that is not an object, or holds an array where an object is expected (`inner`,
//! `features`, a city: serde would read it by position), lacks a required field (`hostname`,
//! `active`), has an address that does not parse or is of the wrong family, or has no address
//! at all is one recoverable error at the line where it starts, naming the relay when its
//! hostname could be read.

use std::collections::HashMap;
use std::fmt;
use std::io::{BufRead, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use serde::de::{Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use crate::error::{Located, ParseError, Position};
use crate::json::{self, Array, Items};
use crate::net;

const WHAT: &str = "a mullvad relay list";

/// What a relay serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MullvadRelayKind {
    /// A WireGuard VPN server.
    WireGuard,
    /// An OpenVPN server (the list is empty since Mullvad retired OpenVPN).
    OpenVpn,
    /// A bridge (Shadowsocks obfuscation relay in front of the VPN servers).
    Bridge,
}

/// Which of the two relay-list shapes a document has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MullvadShape {
    /// The app API's `/app/v1/relays` object.
    AppApi,
    /// The desktop app's cached relay list (an array of two objects).
    Cached,
}

/// One relay and every address it lists.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MullvadRelay {
    /// E.g. `al-tia-wg-003`.
    pub hostname: String,
    /// WireGuard, OpenVPN or bridge.
    pub kind: MullvadRelayKind,
    /// ISO 3166-1 country code as Mullvad writes it, lowercase (`al`, `gb`); empty when the
    /// relay has no location.
    pub country_code: String,
    /// Mullvad's three-letter city code (`tia`); empty when the relay has no location.
    pub city_code: String,
    /// Country name (`Albania`); empty when the document does not give it.
    pub country: String,
    /// City name (`Tirana`, `Ashburn, VA`); empty when the document does not give it.
    pub city: String,
    /// False for relays Mullvad lists but has taken out of service.
    pub active: bool,
    /// True when Mullvad owns the hardware; `None` when not stated (cached bridges).
    pub owned: Option<bool>,
    /// The hosting company (`M247`, `DataPacket`, …); empty when not stated.
    pub provider: String,
    /// `ipv4_addr_in`.
    pub ipv4_addr_in: Option<Ipv4Addr>,
    /// `ipv6_addr_in` (`null` or absent for bridges).
    pub ipv6_addr_in: Option<Ipv6Addr>,
    /// `shadowsocks_extra_addr_in`: extra ingress addresses, IPv4 and IPv6, in file order.
    pub shadowsocks_extra_addr_in: Vec<IpAddr>,
    /// The QUIC feature's `addr_in`: extra ingress addresses, IPv4 and IPv6, in file order.
    pub quic_addr_in: Vec<IpAddr>,
}

impl MullvadRelay {
    /// Every address of the relay without repeats: `ipv4_addr_in`, `ipv6_addr_in`, then the
    /// Shadowsocks and QUIC extra addresses in file order.
    pub fn addresses(&self) -> Vec<IpAddr> {
        let main = self
            .ipv4_addr_in
            .map(IpAddr::V4)
            .into_iter()
            .chain(self.ipv6_addr_in.map(IpAddr::V6));
        let extra = self
            .shadowsocks_extra_addr_in
            .iter()
            .chain(&self.quic_addr_in)
            .copied();
        let mut all: Vec<IpAddr> = Vec::new();
        for addr in main.chain(extra) {
            if !all.contains(&addr) {
                all.push(addr);
            }
        }
        all
    }
}

/// A whole Mullvad relay list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MullvadDocument {
    /// The shape the document had.
    pub shape: MullvadShape,
    /// Every relay in document order, each accepted or rejected.
    pub relays: Vec<Result<MullvadRelay, ParseError>>,
}

/// Reads a whole Mullvad relay list, of either shape.
///
/// ```
/// use ipsieve_sources::mullvad::{self, MullvadRelayKind, MullvadShape};
///
/// let doc = r#"{"locations": {"al-tia": {"country": "Albania", "city": "Tirana"}},
///   "wireguard": {"relays": [{"hostname": "al-tia-wg-003", "location": "al-tia",
///     "active": false, "owned": false, "provider": "iRegister",
///     "ipv4_addr_in": "103.124.165.130", "ipv6_addr_in": "2a04:27c0:0:c::f001",
///     "shadowsocks_extra_addr_in": ["103.204.123.136"],
///     "features": {"quic": {"addr_in": ["103.124.165.135"]}}}]}}"#;
/// let doc = mullvad::read(doc.as_bytes(), "mullvad").unwrap();
/// assert_eq!(doc.shape, MullvadShape::AppApi);
/// let relay = doc.relays[0].as_ref().unwrap();
/// assert_eq!((relay.kind, relay.active), (MullvadRelayKind::WireGuard, false));
/// assert_eq!((relay.country_code.as_str(), relay.city.as_str()), ("al", "Tirana"));
/// assert_eq!(relay.addresses().len(), 4);
/// ```
///
/// # Errors
/// A fatal [`ParseError`] when the input cannot be read, is larger than
/// [`MAX_DOCUMENT`](crate::input::MAX_DOCUMENT), is not JSON, or is of neither shape.
/// Rejected relays are `Err` items of [`MullvadDocument::relays`]. Never panics.
pub fn read(reader: impl Read, source_name: &str) -> Result<MullvadDocument, ParseError> {
    let (shape, relays) = open(reader, source_name)?;
    let relays = relays.collect_all(Located::into_record)?;
    Ok(MullvadDocument { shape, relays })
}

/// The relays of a Mullvad relay list, as an iterator: [`read`] flattened, a fatal error
/// becoming the only item. The document is read when `parse` is called; the relays are decoded
/// one at a time as the iterator advances, so memory stays at the document's size.
///
/// ```
/// let doc = r#"[{"countries": [{"name": "Albania", "code": "al", "cities": [{"name": "Tirana",
///   "code": "tia", "relays": [{"owned": false, "provider": "iRegister",
///   "endpoint_data": {"public_key": "k", "quic": null, "shadowsocks_extra_addr_in": []},
///   "inner": {"hostname": "al-tia-wg-001", "ipv4_addr_in": "103.124.165.2",
///             "ipv6_addr_in": "2a04:27c0:0:e::f001", "active": true}}]}]}]},
///   {"bridges": []}]"#;
/// let relays: Vec<_> = ipsieve_sources::mullvad::parse(doc.as_bytes(), "mullvad")
///     .map(Result::unwrap)
///     .collect();
/// assert_eq!(relays[0].hostname, "al-tia-wg-001");
/// assert_eq!(relays[0].city_code, "tia");
/// ```
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<MullvadRelay, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each relay with the line where it starts.
///
/// # Errors
/// As [`read`]. Never panics.
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<MullvadRelay>, ParseError>> {
    json::Walk::from_result(open(reader, source_name).map(|(_, relays)| relays))
}

/// Most entries in the app API's `locations` table (the 2026 list has about a hundred): the
/// table is kept whole while the relays are read, so it is bounded.
const MAX_LOCATIONS: usize = 1 << 16;

/// Reads and checks the document: its shape, and a walk over its relays.
fn open(
    reader: impl Read,
    source_name: &str,
) -> Result<(MullvadShape, json::Walk<Relays>), ParseError> {
    let text = json::read_document(reader, source_name)?;
    if text.trim_start().starts_with('[') {
        let parts: Array<'_> =
            serde_json::from_str(&text).map_err(|e| document_error(source_name, &e))?;
        check_cached(&text, parts, source_name)?;
        let relays = Relays::Cached(CachedRelays {
            parts: parts.items(&text),
            ..CachedRelays::default()
        });
        Ok((
            MullvadShape::Cached,
            json::Walk::new(text, source_name, relays),
        ))
    } else {
        let doc: RawApi<'_> = json::from_document(&text, source_name, WHAT)?;
        if doc.openvpn.is_none() && doc.wireguard.is_none() && doc.bridge.is_none() {
            return Err(no_relays(
                source_name,
                "it has no \"wireguard\", \"openvpn\" or \"bridge\" relays",
            ));
        }
        let list = |list: Option<json::Object<RawRelayList<'_>>>| {
            list.and_then(|l| l.0.relays)
                .map(|a| a.items(&text))
                .unwrap_or_default()
        };
        let relays = Relays::Api(ApiRelays {
            lists: [
                (list(doc.openvpn), MullvadRelayKind::OpenVpn),
                (list(doc.wireguard), MullvadRelayKind::WireGuard),
                (list(doc.bridge), MullvadRelayKind::Bridge),
            ],
            at: 0,
            locations: doc.locations.map(|l| l.0).unwrap_or_default(),
        });
        Ok((
            MullvadShape::AppApi,
            json::Walk::new(text, source_name, relays),
        ))
    }
}

/// The relays not yet read, in either shape.
enum Relays {
    Api(ApiRelays),
    Cached(CachedRelays),
}

impl json::Walker for Relays {
    type Record = MullvadRelay;

    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<MullvadRelay, String>)> {
        match self {
            Relays::Api(api) => api.next_entry(doc),
            Relays::Cached(cached) => cached.next_entry(doc),
        }
    }
}

fn document_error(source_name: &str, e: &serde_json::Error) -> ParseError {
    let msg = json::message(e);
    let reason = if e.is_data() {
        format!("not {WHAT}: {msg}")
    } else {
        format!("invalid json ({msg}); the file is probably truncated or not {WHAT}")
    };
    ParseError::fatal(source_name, Position::Line(e.line() as u64), reason)
}

fn no_relays(source_name: &str, what: &str) -> ParseError {
    let reason = format!("not {WHAT}: {what}");
    ParseError::fatal(source_name, Position::Line(1), reason)
}

// ---- the app API shape ----

#[derive(Deserialize)]
struct RawApi<'a> {
    #[serde(default)]
    locations: Option<Locations>,
    #[serde(borrow)]
    openvpn: Option<json::Object<RawRelayList<'a>>>,
    #[serde(borrow)]
    wireguard: Option<json::Object<RawRelayList<'a>>>,
    #[serde(borrow)]
    bridge: Option<json::Object<RawRelayList<'a>>>,
}

/// The `locations` table: country and city names by location key, at most [`MAX_LOCATIONS`].
#[derive(Default)]
struct Locations(HashMap<String, RawApiLocation>);

impl<'de> Deserialize<'de> for Locations {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(LocationsVisitor)
    }
}

struct LocationsVisitor;

impl<'de> Visitor<'de> for LocationsVisitor {
    type Value = Locations;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Locations, A::Error> {
        let mut table = HashMap::new();
        while let Some((key, value)) = map.next_entry::<String, json::Object<RawApiLocation>>()? {
            if table.len() == MAX_LOCATIONS && !table.contains_key(&key) {
                return Err(A::Error::custom(format!(
                    "more than {MAX_LOCATIONS} locations; this is not a plausible relay list"
                )));
            }
            table.insert(key, value.0);
        }
        Ok(Locations(table))
    }
}

#[derive(Deserialize)]
struct RawApiLocation {
    #[serde(default)]
    country: Option<String>,
    #[serde(default)]
    city: Option<String>,
}

#[derive(Deserialize)]
struct RawRelayList<'a> {
    /// Absent is no relays; `null` is refused, as anything else but an array.
    #[serde(borrow, default, deserialize_with = "some_array")]
    relays: Option<Array<'a>>,
}

fn some_array<'de: 'a, 'a, D: Deserializer<'de>>(d: D) -> Result<Option<Array<'a>>, D::Error> {
    Array::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct RawApiRelay {
    hostname: String,
    location: Option<String>,
    active: bool,
    owned: Option<bool>,
    provider: Option<String>,
    ipv4_addr_in: Option<String>,
    ipv6_addr_in: Option<String>,
    shadowsocks_extra_addr_in: Option<Vec<String>>,
    features: Option<json::Object<RawFeatures>>,
}

#[derive(Deserialize)]
struct RawFeatures {
    quic: Option<json::Object<RawQuic>>,
}

#[derive(Deserialize)]
struct RawQuic {
    addr_in: Option<Vec<String>>,
}

/// The API shape's relays not yet read: OpenVPN, WireGuard, then bridges.
struct ApiRelays {
    lists: [(Items, MullvadRelayKind); 3],
    at: usize,
    locations: HashMap<String, RawApiLocation>,
}

impl ApiRelays {
    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<MullvadRelay, String>)> {
        while let Some((relays, kind)) = self.lists.get_mut(self.at) {
            if let Some(raw) = relays.next(doc) {
                return Some((raw, api_relay(raw, *kind, &self.locations)));
            }
            self.at += 1;
        }
        None
    }
}

fn api_relay(
    raw: &RawValue,
    kind: MullvadRelayKind,
    locations: &HashMap<String, RawApiLocation>,
) -> Result<MullvadRelay, String> {
    let r: RawApiRelay = json::from_object(raw).map_err(|msg| format!("bad relay: {msg}"))?;
    let key = r.location.unwrap_or_default();
    let (country_code, city_code) = key.split_once('-').unwrap_or((&key, ""));
    let names = locations.get(&key);
    let quic = r.features.and_then(|f| f.0.quic).and_then(|q| q.0.addr_in);
    let addrs = Addresses::parse(
        r.ipv4_addr_in.as_deref(),
        r.ipv6_addr_in.as_deref(),
        r.shadowsocks_extra_addr_in.as_deref(),
        quic.as_deref(),
    )
    .map_err(|reason| format!("relay {}: {reason}", r.hostname))?;
    Ok(MullvadRelay {
        kind,
        country_code: country_code.to_owned(),
        city_code: city_code.to_owned(),
        country: names.and_then(|n| n.country.clone()).unwrap_or_default(),
        city: names.and_then(|n| n.city.clone()).unwrap_or_default(),
        active: r.active,
        owned: r.owned,
        provider: r.provider.unwrap_or_default(),
        ipv4_addr_in: addrs.v4,
        ipv6_addr_in: addrs.v6,
        shadowsocks_extra_addr_in: addrs.shadowsocks,
        quic_addr_in: addrs.quic,
        hostname: r.hostname,
    })
}

// ---- the cached (relay selector) shape ----

#[derive(Deserialize)]
struct RawCachedPart<'a> {
    #[serde(borrow)]
    countries: Option<Array<'a>>,
    #[serde(borrow)]
    bridges: Option<Array<'a>>,
}

#[derive(Deserialize)]
struct RawCountry<'a> {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(borrow)]
    cities: Array<'a>,
}

#[derive(Deserialize)]
struct RawCity<'a> {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    code: Option<String>,
    #[serde(borrow)]
    relays: Array<'a>,
}

#[derive(Deserialize)]
struct RawCachedRelay<'a> {
    owned: Option<bool>,
    provider: Option<String>,
    #[serde(borrow)]
    endpoint_data: Option<&'a RawValue>,
    inner: json::Object<RawInner>,
}

/// `inner` of a cached relay, and a cached bridge as a whole.
#[derive(Deserialize)]
struct RawInner {
    hostname: String,
    ipv4_addr_in: Option<String>,
    ipv6_addr_in: Option<String>,
    active: bool,
    location: Option<json::Object<RawCachedLocation>>,
}

#[derive(Deserialize)]
struct RawCachedLocation {
    country: Option<String>,
    country_code: Option<String>,
    city: Option<String>,
    city_code: Option<String>,
}

#[derive(Deserialize)]
struct RawEndpoint {
    quic: Option<json::Object<RawQuic>>,
    shadowsocks_extra_addr_in: Option<Vec<String>>,
}

/// The names and codes of the country and city a relay is listed under.
#[derive(Default)]
struct Place {
    country: String,
    country_code: String,
    city: String,
    city_code: String,
}

/// Checks the top-level array before any relay is read: each object in it must hold
/// `countries` or `bridges` arrays (or neither), and one at least must. Elements other than
/// objects are not ours to judge.
fn check_cached(text: &str, parts: Array<'_>, source_name: &str) -> Result<(), ParseError> {
    let mut any = false;
    let mut items = parts.items(text);
    while let Some(part) = items.next(text) {
        if !part.get().starts_with('{') {
            continue;
        }
        match serde_json::from_str::<RawCachedPart<'_>>(part.get()) {
            Ok(part) => any |= part.countries.is_some() || part.bridges.is_some(),
            Err(e) => {
                let line = json::LineFinder::new().line_of(text, part);
                let reason = format!("not {WHAT}: {}", json::message(&e));
                return Err(ParseError::fatal(source_name, Position::Line(line), reason));
            }
        }
    }
    if !any {
        return Err(no_relays(
            source_name,
            "the array holds no \"countries\" or \"bridges\"",
        ));
    }
    Ok(())
}

/// The cached shape's relays not yet read: the rest of the current city, country and part
/// (its countries, then its bridges), then the next parts.
#[derive(Default)]
struct CachedRelays {
    parts: Items,
    countries: Items,
    bridges: Items,
    /// The country being read: its name and code, and its cities not yet read.
    country: Option<(Option<String>, Option<String>, Items)>,
    /// The city being read, and its relays not yet read.
    city: Option<(Place, Items)>,
}

impl CachedRelays {
    fn next_entry<'d>(
        &mut self,
        doc: &'d str,
    ) -> Option<(&'d RawValue, Result<MullvadRelay, String>)> {
        loop {
            if let Some((place, relays)) = &mut self.city {
                if let Some(raw) = relays.next(doc) {
                    return Some((raw, cached_relay(raw, place)));
                }
                self.city = None;
            }
            if let Some((name, code, cities)) = &mut self.country {
                if let Some(raw_city) = cities.next(doc) {
                    // Checked with its country (see `country`), so this is always `Ok`.
                    if let Ok(city) = json::from_object::<RawCity<'_>>(raw_city) {
                        let place = Place {
                            country: name.clone().unwrap_or_default(),
                            country_code: code.clone().unwrap_or_default(),
                            city: city.name.unwrap_or_default(),
                            city_code: city.code.unwrap_or_default(),
                        };
                        self.city = Some((place, city.relays.items(doc)));
                    }
                    continue;
                }
                self.country = None;
            }
            if let Some(raw_country) = self.countries.next(doc) {
                match country(raw_country) {
                    Ok(country) => {
                        let cities = country.cities.items(doc);
                        self.country = Some((country.name, country.code, cities));
                    }
                    Err(msg) => return Some((raw_country, Err(format!("bad country: {msg}")))),
                }
                continue;
            }
            if let Some(raw) = self.bridges.next(doc) {
                return Some((raw, cached_bridge(raw)));
            }
            let part = self.parts.next(doc)?;
            if !part.get().starts_with('{') {
                continue;
            }
            // Checked by `check_cached`, so this is always `Ok`.
            if let Ok(part) = serde_json::from_str::<RawCachedPart<'_>>(part.get()) {
                self.countries = part.countries.map(|a| a.items(doc)).unwrap_or_default();
                self.bridges = part.bridges.map(|a| a.items(doc)).unwrap_or_default();
            }
        }
    }
}

/// A country, its cities checked whole (without keeping them) so that a bad city makes the
/// country one error before any of its relays is yielded.
fn country(raw: &RawValue) -> Result<RawCountry<'_>, String> {
    let country: RawCountry<'_> = json::from_object(raw)?;
    serde_json::from_str::<Vec<json::Checked<json::Object<RawCity<'_>>>>>(country.cities.get())
        .map_err(|e| json::message(&e))?;
    Ok(country)
}

fn cached_relay(raw: &RawValue, place: &Place) -> Result<MullvadRelay, String> {
    let r: RawCachedRelay<'_> =
        json::from_object(raw).map_err(|msg| format!("bad relay: {msg}"))?;
    let inner = r.inner.0;
    let hostname = inner.hostname.clone();
    let (kind, endpoint) = match r.endpoint_data {
        None => (MullvadRelayKind::WireGuard, None),
        Some(e) => match serde_json::from_str::<String>(e.get()) {
            Ok(s) if s.eq_ignore_ascii_case("openvpn") => (MullvadRelayKind::OpenVpn, None),
            Ok(s) if s.eq_ignore_ascii_case("bridge") => (MullvadRelayKind::Bridge, None),
            Ok(_) => (MullvadRelayKind::WireGuard, None),
            Err(_) => {
                let endpoint: RawEndpoint = json::from_object(e)
                    .map_err(|msg| format!("relay {hostname}: bad endpoint_data: {msg}"))?;
                (MullvadRelayKind::WireGuard, Some(endpoint))
            }
        },
    };
    let (shadowsocks, quic) = match endpoint {
        Some(e) => (
            e.shadowsocks_extra_addr_in,
            e.quic.and_then(|q| q.0.addr_in),
        ),
        None => (None, None),
    };
    let mut relay = inner_relay(inner, kind, place, shadowsocks, quic)?;
    relay.owned = r.owned;
    relay.provider = r.provider.unwrap_or_default();
    Ok(relay)
}

fn cached_bridge(raw: &RawValue) -> Result<MullvadRelay, String> {
    let inner: RawInner = json::from_object(raw).map_err(|msg| format!("bad bridge: {msg}"))?;
    inner_relay(
        inner,
        MullvadRelayKind::Bridge,
        &Place::default(),
        None,
        None,
    )
}

/// A relay from an `inner` object; its own `location` wins over the enclosing country and city.
fn inner_relay(
    inner: RawInner,
    kind: MullvadRelayKind,
    place: &Place,
    shadowsocks: Option<Vec<String>>,
    quic: Option<Vec<String>>,
) -> Result<MullvadRelay, String> {
    let addrs = Addresses::parse(
        inner.ipv4_addr_in.as_deref(),
        inner.ipv6_addr_in.as_deref(),
        shadowsocks.as_deref(),
        quic.as_deref(),
    )
    .map_err(|reason| format!("relay {}: {reason}", inner.hostname))?;
    let loc = inner.location.map(|l| l.0);
    let pick = |own: Option<String>, outer: &str| own.unwrap_or_else(|| outer.to_owned());
    let (country, country_code, city, city_code) = match loc {
        Some(l) => (
            pick(l.country, &place.country),
            pick(l.country_code, &place.country_code),
            pick(l.city, &place.city),
            pick(l.city_code, &place.city_code),
        ),
        None => (
            place.country.clone(),
            place.country_code.clone(),
            place.city.clone(),
            place.city_code.clone(),
        ),
    };
    Ok(MullvadRelay {
        hostname: inner.hostname,
        kind,
        country_code,
        city_code,
        country,
        city,
        active: inner.active,
        owned: None,
        provider: String::new(),
        ipv4_addr_in: addrs.v4,
        ipv6_addr_in: addrs.v6,
        shadowsocks_extra_addr_in: addrs.shadowsocks,
        quic_addr_in: addrs.quic,
    })
}

// ---- addresses ----

struct Addresses {
    v4: Option<Ipv4Addr>,
    v6: Option<Ipv6Addr>,
    shadowsocks: Vec<IpAddr>,
    quic: Vec<IpAddr>,
}

impl Addresses {
    fn parse(
        v4: Option<&str>,
        v6: Option<&str>,
        shadowsocks: Option<&[String]>,
        quic: Option<&[String]>,
    ) -> Result<Addresses, String> {
        let v4 = match v4 {
            None => None,
            Some(text) => match one("ipv4_addr_in", text)? {
                IpAddr::V4(a) => Some(a),
                IpAddr::V6(_) => {
                    return Err(format!("ipv4_addr_in holds {text:?}, an ipv6 address"))
                }
            },
        };
        let v6 = match v6 {
            None => None,
            Some(text) => match one("ipv6_addr_in", text)? {
                IpAddr::V6(a) => Some(a),
                IpAddr::V4(_) => {
                    return Err(format!("ipv6_addr_in holds {text:?}, an ipv4 address"))
                }
            },
        };
        let list = |key: &str, items: Option<&[String]>| -> Result<Vec<IpAddr>, String> {
            items
                .unwrap_or_default()
                .iter()
                .map(|text| one(key, text))
                .collect()
        };
        let addrs = Addresses {
            v4,
            v6,
            shadowsocks: list("shadowsocks_extra_addr_in", shadowsocks)?,
            quic: list("quic addr_in", quic)?,
        };
        if addrs.v4.is_none()
            && addrs.v6.is_none()
            && addrs.shadowsocks.is_empty()
            && addrs.quic.is_empty()
        {
            return Err("no address (ipv4_addr_in, ipv6_addr_in or extra addresses)".to_owned());
        }
        Ok(addrs)
    }
}

fn one(key: &str, text: &str) -> Result<IpAddr, String> {
    net::parse_addr(text).map_err(|r| format!("{key}: {r} ({text:?})"))
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "mullvad";
    type Record = MullvadRelay;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<MullvadRelay>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: MullvadRelay) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::Entry;
        let addresses = if r.active { r.addresses() } else { Vec::new() };
        let skipped = (!r.active).then_some(Entry::Skipped(crate::formats::Skip::InactiveRelay));
        skipped.into_iter().chain(
            addresses
                .into_iter()
                .map(|ip| Entry::net(ipnet::IpNet::from(ip))),
        )
    }
}
