//! MaxMind DB import (feature `mmdb`): every network of a GeoIP2 / GeoLite2 database a user is
//! licensed for (Anonymous IP, Anonymous Plus, ASN, Country, City, Enterprise), or of another
//! MMDB with the same field names, as an optional source layered over the public lists.
//!
//! The file is read by the [`maxminddb`] crate (MaxMind's format, ISC licence, no `unsafe`
//! needed here: the database is read into memory rather than mapped). Every network with data
//! is visited once: [`MmdbDatabase::networks`] walks the whole tree (`::/0` in an IPv6
//! database, `0.0.0.0/0` in an IPv4 one) with `maxminddb`'s default options, which skip the
//! IPv6 aliases of the IPv4 space (`::ffff:0:0/96` and `2002::/16` lead to the same subtree as
//! `::/96`), so IPv4 networks come out once, as IPv4 [`IpNet`]s.
//!
//! An MMDB is a random-access format (a search tree of pointers into a data section), so
//! instead of the streaming `parse(reader)` of the text formats there is an open step that
//! reads and validates the whole file ([`MmdbDatabase::open`], [`MmdbDatabase::read`],
//! [`MmdbDatabase::from_bytes`]) and an iterator borrowing it ([`MmdbDatabase::networks`]).
//!
//! # Fields mapped
//!
//! | record field | MaxMind field |
//! |---|---|
//! | [`MmdbRecord::is_anonymous`] … [`MmdbRecord::is_tor_exit_node`] | the six `is_*` booleans of GeoIP2 Anonymous IP / Anonymous Plus (absent = `false`) |
//! | [`MmdbRecord::asn`], [`MmdbRecord::as_org`] | `autonomous_system_number`, `autonomous_system_organization` (ASN, ISP, Enterprise) |
//! | [`MmdbRecord::country`] | `country.iso_code`, else `registered_country.iso_code`, else a top-level `country_code` (ip-location-db's MMDBs) |
//! | [`MmdbRecord::provider_name`], [`MmdbRecord::anonymizer_confidence`], [`MmdbRecord::network_last_seen`] | GeoIP Anonymous Plus |
//!
//! Networks whose data carries none of these fields (the empty maps `{}` some databases
//! store, or a database of another kind) yield no record; [`Networks::skipped`] counts them.
//!
//! # Errors and limits
//!
//! Opening fails with one fatal [`ParseError`] when the input is longer than [`MAX_MMDB`]
//! bytes, cannot be read, or is not a MaxMind DB (no metadata marker, bad metadata, a search
//! tree that does not fit): the position is the byte offset `maxminddb` names, or the whole
//! input. While iterating, a record whose data cannot be decoded as a map of the expected
//! types (a string where a number belongs, `anonymizer_confidence` over 255, a malformed
//! `network_last_seen` date) is a recoverable error at the byte offset of its data, quoting
//! the network; a broken search tree (a pointer out of bounds, a cycle) ends the iteration
//! with a fatal error. `maxminddb` bounds the work and memory of each decode. Never panics.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use ipnet::IpNet;
use maxminddb::{MaxMindDbError, Reader, Within, WithinOptions};
use serde::Deserialize;

use crate::error::{ParseError, Position};
use crate::time::Timestamp;

/// Largest database accepted, in bytes (GeoIP2 Enterprise, the largest MaxMind ships, is well
/// under it). The whole file is held in memory while it is read.
pub const MAX_MMDB: u64 = 2 << 30;

/// One network of a MaxMind DB and the fields ipsieve uses (see the [module docs](self)).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct MmdbRecord {
    /// The network (IPv4 networks of an IPv6 database come out as IPv4).
    pub net: IpNet,
    /// `is_anonymous`: any kind of anonymizer (the union of the flags below).
    pub is_anonymous: bool,
    /// `is_anonymous_vpn`: a VPN provider's address.
    pub is_anonymous_vpn: bool,
    /// `is_hosting_provider`: a hosting or VPN provider's address.
    pub is_hosting_provider: bool,
    /// `is_public_proxy`: a public proxy.
    pub is_public_proxy: bool,
    /// `is_residential_proxy`: a proxy on a residential ISP's address.
    pub is_residential_proxy: bool,
    /// `is_tor_exit_node`: a Tor exit.
    pub is_tor_exit_node: bool,
    /// `autonomous_system_number`.
    pub asn: Option<u32>,
    /// `autonomous_system_organization`.
    pub as_org: Option<String>,
    /// ISO 3166-1 alpha-2 country: `country.iso_code`, else `registered_country.iso_code`,
    /// else `country_code`.
    pub country: Option<String>,
    /// True when [`MmdbRecord::country`] came from `registered_country` (where the network is
    /// registered, not where it is used).
    pub country_is_registered: bool,
    /// Anonymous Plus `provider_name`: the VPN or proxy service.
    pub provider_name: Option<String>,
    /// Anonymous Plus `anonymizer_confidence` (1–99).
    pub anonymizer_confidence: Option<u8>,
    /// Anonymous Plus `network_last_seen` (a date, midnight UTC).
    pub network_last_seen: Option<Timestamp>,
}

impl MmdbRecord {
    /// True when any of the six anonymous-IP flags is set.
    pub fn any_anonymous_flag(&self) -> bool {
        self.is_anonymous
            || self.is_anonymous_vpn
            || self.is_hosting_provider
            || self.is_public_proxy
            || self.is_residential_proxy
            || self.is_tor_exit_node
    }

    /// True when the record carries none of the mapped fields.
    fn is_empty(&self) -> bool {
        !self.any_anonymous_flag()
            && self.asn.is_none()
            && self.as_org.is_none()
            && self.country.is_none()
            && self.provider_name.is_none()
            && self.anonymizer_confidence.is_none()
            && self.network_last_seen.is_none()
    }
}

/// An open MaxMind DB, validated (metadata and search-tree bounds) when it is opened.
///
/// ```
/// use ipsieve_sources::mmdb::MmdbDatabase;
/// # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
/// #     .join("tests/fixtures/mmdb-GeoIP2-Anonymous-IP-Test.mmdb");
///
/// let db = MmdbDatabase::open(&path, "geoip2-anonymous-ip")?;
/// assert_eq!(db.database_type(), "GeoIP2-Anonymous-IP");
/// let tor: Vec<_> = db
///     .networks()
///     .filter_map(Result::ok)
///     .filter(|r| r.is_tor_exit_node)
///     .map(|r| r.net.to_string())
///     .collect();
/// assert_eq!(tor, ["1.124.213.1/32", "65.0.0.0/13", "81.2.69.0/24"]);
/// # Ok::<(), ipsieve_sources::ParseError>(())
/// ```
#[derive(Debug)]
pub struct MmdbDatabase {
    reader: Reader<Vec<u8>>,
    source_name: String,
    /// File offset of the data section (pointers are relative to it).
    data_start: u64,
    /// Length of the file, to keep error positions inside it.
    len: u64,
}

impl MmdbDatabase {
    /// Opens the `.mmdb` file at `path`, read as it is: an MMDB starts with its search tree,
    /// whose first bytes can look like any magic number, so nothing is sniffed. For a
    /// compressed copy, pass [`crate::input::open`]'s reader to [`MmdbDatabase::read`].
    ///
    /// # Errors
    /// A fatal [`ParseError`] when the file is not a regular file (checked before it is
    /// opened: see [`crate::input::require_regular_file`]), cannot be read, is over
    /// [`MAX_MMDB`] bytes, or is not a MaxMind DB.
    pub fn open(path: &Path, source_name: &str) -> Result<Self, ParseError> {
        let file = crate::input::require_regular_file(path)
            .and_then(|()| File::open(path))
            .map_err(|e| whole(source_name, format!("cannot open {}: {e}", path.display())))?;
        Self::read(file, source_name)
    }

    /// Reads a whole database from `reader` (at most [`MAX_MMDB`] bytes) and opens it.
    ///
    /// # Errors
    /// As [`MmdbDatabase::open`].
    pub fn read(reader: impl Read, source_name: &str) -> Result<Self, ParseError> {
        let mut bytes = Vec::new();
        reader
            .take(MAX_MMDB + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| {
                let reason = format!(
                    "input cannot be read past byte {} ({e}); the file is probably truncated \
                     or corrupt, fetch it again",
                    bytes.len()
                );
                whole(source_name, reason)
            })?;
        if bytes.len() as u64 > MAX_MMDB {
            let reason = format!(
                "database larger than {MAX_MMDB} bytes; this is not a plausible MaxMind DB"
            );
            return Err(whole(source_name, reason));
        }
        Self::from_bytes(bytes, source_name)
    }

    /// Opens a database held in memory.
    ///
    /// # Errors
    /// A fatal [`ParseError`] when `bytes` is not a MaxMind DB.
    pub fn from_bytes(bytes: Vec<u8>, source_name: &str) -> Result<Self, ParseError> {
        let len = bytes.len() as u64;
        let reader = Reader::from_source(bytes).map_err(|e| {
            let mut err = db_error(source_name, &e, 0, len);
            err.reason = format!(
                "not a readable MaxMind DB ({}); check that the file is a complete .mmdb",
                err.reason
            );
            err.fatal = true;
            err
        })?;
        let meta = reader.metadata();
        let tree = u64::from(meta.node_count) * u64::from(meta.record_size) / 4;
        Ok(MmdbDatabase {
            reader,
            source_name: source_name.to_owned(),
            data_start: tree + 16,
            len,
        })
    }

    /// The `database_type` of the metadata (`GeoIP2-Anonymous-IP`, `GeoLite2-ASN`, …).
    pub fn database_type(&self) -> &str {
        &self.reader.metadata().database_type
    }

    /// When the database was built (`build_epoch` of the metadata).
    pub fn build_time(&self) -> Timestamp {
        Timestamp(i64::try_from(self.reader.metadata().build_epoch).unwrap_or(i64::MAX))
    }

    /// 4 for an IPv4-only database, 6 for one holding both families.
    pub fn ip_version(&self) -> u16 {
        self.reader.metadata().ip_version
    }

    /// Checks the whole database (search tree, data section, metadata) in one pass: an O(n)
    /// integrity check to run once after a download, as `maxminddb::Reader::verify` does.
    ///
    /// # Errors
    /// A fatal [`ParseError`] naming the first problem found.
    pub fn verify(&self) -> Result<(), ParseError> {
        self.reader.verify().map_err(|e| {
            let mut err = db_error(&self.source_name, &e, 0, self.len);
            err.fatal = true;
            err
        })
    }

    /// Every network with data, in address order within each family, as records (see the
    /// [module docs](self)).
    ///
    /// # Errors
    /// Items are `Err` for a record that cannot be decoded (recoverable) and for a broken
    /// search tree (fatal, last). Never panics.
    pub fn networks(&self) -> Networks<'_> {
        let within = self.reader.networks(WithinOptions::default()).map_err(|e| {
            let mut err = db_error(&self.source_name, &e, 0, self.len);
            err.fatal = true;
            err
        });
        let (within, first_error) = match within {
            Ok(w) => (Some(w), None),
            Err(e) => (None, Some(e)),
        };
        Networks {
            db: self,
            within,
            first_error,
            skipped: 0,
        }
    }
}

/// The iterator of [`MmdbDatabase::networks`].
#[derive(Debug)]
pub struct Networks<'a> {
    db: &'a MmdbDatabase,
    within: Option<Within<'a, Vec<u8>>>,
    first_error: Option<ParseError>,
    skipped: u64,
}

impl Networks<'_> {
    /// Networks passed over because their data has none of the mapped fields.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }
}

impl Iterator for Networks<'_> {
    type Item = Result<MmdbRecord, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if let Some(e) = self.first_error.take() {
            return Some(Err(e));
        }
        loop {
            let within = self.within.as_mut()?;
            let lookup = match within.next()? {
                Ok(lookup) => lookup,
                Err(e) => {
                    self.within = None;
                    let mut err = db_error(&self.db.source_name, &e, 0, self.db.len);
                    err.reason = format!(
                        "search tree broken ({}); the database is corrupt, fetch it again",
                        err.reason
                    );
                    err.fatal = true;
                    return Some(Err(err));
                }
            };
            let at = self.db.data_start + lookup.offset().unwrap_or(0) as u64;
            let net = match lookup.network() {
                Ok(n) => IpNet::new(n.ip(), n.prefix()).map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            let net = match net {
                Ok(net) => net,
                Err(reason) => {
                    let reason = format!("network of a search-tree record: {reason}");
                    return Some(Err(at_byte(&self.db.source_name, at, reason, "")));
                }
            };
            let raw = match lookup.decode::<Raw<'_>>() {
                Ok(Some(raw)) => raw,
                Ok(None) => continue,
                Err(e) => {
                    let mut err =
                        db_error(&self.db.source_name, &e, self.db.data_start, self.db.len);
                    err.position = Position::Byte(at);
                    err.text = net.to_string();
                    return Some(Err(err));
                }
            };
            match record(net, raw) {
                Ok(r) if r.is_empty() => self.skipped += 1,
                Ok(r) => return Some(Ok(r)),
                Err(reason) => {
                    let text = net.to_string();
                    return Some(Err(at_byte(&self.db.source_name, at, reason, &text)));
                }
            }
        }
    }
}

/// The fields read from a record; everything else in it is ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Raw<'a> {
    is_anonymous: bool,
    is_anonymous_vpn: bool,
    is_hosting_provider: bool,
    is_public_proxy: bool,
    is_residential_proxy: bool,
    is_tor_exit_node: bool,
    autonomous_system_number: Option<u32>,
    #[serde(borrow)]
    autonomous_system_organization: Option<&'a str>,
    #[serde(borrow)]
    country: Option<RawCountry<'a>>,
    #[serde(borrow)]
    registered_country: Option<RawCountry<'a>>,
    #[serde(borrow)]
    country_code: Option<&'a str>,
    #[serde(borrow)]
    provider_name: Option<&'a str>,
    anonymizer_confidence: Option<u8>,
    #[serde(borrow)]
    network_last_seen: Option<&'a str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawCountry<'a> {
    #[serde(borrow)]
    iso_code: Option<&'a str>,
}

fn record(net: IpNet, raw: Raw<'_>) -> Result<MmdbRecord, String> {
    let network_last_seen = match raw.network_last_seen {
        None => None,
        Some(date) => Some(Timestamp::parse_date(date).ok_or_else(|| {
            format!(
                "network_last_seen {:?} is not a YYYY-MM-DD date",
                crate::error::truncate(date)
            )
        })?),
    };
    let own = raw.country.and_then(|c| c.iso_code);
    let registered = raw.registered_country.and_then(|c| c.iso_code);
    let (country, country_is_registered) = match (own, registered, raw.country_code) {
        (Some(c), _, _) => (Some(c), false),
        (None, Some(c), _) => (Some(c), true),
        (None, None, c) => (c, false),
    };
    Ok(MmdbRecord {
        net,
        is_anonymous: raw.is_anonymous,
        is_anonymous_vpn: raw.is_anonymous_vpn,
        is_hosting_provider: raw.is_hosting_provider,
        is_public_proxy: raw.is_public_proxy,
        is_residential_proxy: raw.is_residential_proxy,
        is_tor_exit_node: raw.is_tor_exit_node,
        asn: raw.autonomous_system_number,
        as_org: raw.autonomous_system_organization.map(str::to_owned),
        country: country.map(str::to_owned),
        country_is_registered,
        provider_name: raw.provider_name.map(str::to_owned),
        anonymizer_confidence: raw.anonymizer_confidence,
        network_last_seen,
    })
}

/// A fatal error about the input as a whole.
fn whole(source_name: &str, reason: String) -> ParseError {
    ParseError::fatal(source_name, Position::Whole, reason)
}

/// A recoverable error at a byte offset of the file.
fn at_byte(source_name: &str, at: u64, reason: String, text: &str) -> ParseError {
    ParseError {
        source_name: source_name.to_owned(),
        position: Position::Byte(at),
        reason,
        text: crate::error::truncate(text),
        fatal: false,
    }
}

/// A recoverable error from `maxminddb`, at the offset it names (plus `base` for offsets
/// relative to the data section), or the whole input.
/// A `maxminddb` error as a [`ParseError`] at the byte it names (relative to `base`), or for
/// the whole file when it names none or one past the file's `len` bytes (a corrupt pointer: the
/// message still carries `maxminddb`'s offset).
fn db_error(source_name: &str, e: &MaxMindDbError, base: u64, len: u64) -> ParseError {
    let offset = match e {
        MaxMindDbError::InvalidDatabase { offset, .. } => offset.map(|o| o as u64),
        MaxMindDbError::Decoding { offset, .. } | MaxMindDbError::ResourceLimit { offset, .. } => {
            offset.map(|o| o as u64 + base)
        }
        _ => None,
    };
    ParseError {
        source_name: source_name.to_owned(),
        position: offset
            .filter(|&o| o < len)
            .map_or(Position::Whole, Position::Byte),
        reason: e.to_string(),
        text: String::new(),
        fatal: false,
    }
}

/// The registry's reader of a MaxMind DB ([`crate::formats::Format`] `mmdb`): the whole
/// database read from `reader` (at most [`MAX_MMDB`] bytes), then each network as the entries
/// [`entries`] makes of it. A database that does not open is one fatal error.
pub(crate) fn read_entries(
    reader: Box<dyn std::io::BufRead + Send>,
    source: &str,
    sink: &mut dyn crate::formats::Sink,
) {
    let db = match MmdbDatabase::read(reader, source) {
        Ok(db) => db,
        Err(e) => return sink.error(e),
    };
    for item in db.networks() {
        match item {
            Ok(record) => sink.record(Position::Whole, &mut entries(record)),
            Err(e) => sink.error(e),
        }
    }
}

/// What one MaxMind record asserts: the AS's name (when the record has both ASN and name),
/// then its network with the anonymity flags as categories (residential proxies are `proxy`;
/// `is_anonymous` alone asserts nothing, as MaxMind sets it only with a more specific flag),
/// its ASN (an ASN database's rows are routing data, like a prefix-to-AS table), provider and
/// country.
pub(crate) fn entries(r: MmdbRecord) -> impl Iterator<Item = crate::formats::Entry> {
    use crate::formats::{Attrs, Entry};
    use ipsieve::Categories;

    let mut categories = Categories::empty();
    for (flag, c) in [
        (r.is_anonymous_vpn, Categories::VPN),
        (r.is_hosting_provider, Categories::HOSTING),
        (
            r.is_public_proxy || r.is_residential_proxy,
            Categories::PROXY,
        ),
        (r.is_tor_exit_node, Categories::TOR_EXIT),
    ] {
        if flag {
            categories |= c;
        }
    }
    let country = r
        .country
        .as_deref()
        .and_then(|c| <[u8; 2]>::try_from(c.as_bytes()).ok())
        .filter(|c| c.iter().all(u8::is_ascii_uppercase));
    let name = match (r.asn, r.as_org) {
        (Some(asn), Some(org)) => Some(Entry::AsName(asn, org)),
        _ => None,
    };
    let attrs = Attrs {
        categories,
        asn: r.asn,
        provider: r.provider_name,
        country,
    };
    name.into_iter()
        .chain(std::iter::once(Entry::Net(r.net, attrs)))
}
