//! The registry of source formats: every format ipsieve reads, declared once in [`FORMATS`]
//! with its manifest name, its parser module, what it yields, and the fixtures that seed its
//! fuzzing. Everything that needs the list reads it here: the builder's manifest (`format =
//! "…"` is looked up with [`by_name`]) and loader (one [`Format::read`] for every format), the
//! fuzz entry points and their replay tests ([`crate::fuzz`], by [`Format::module`]),
//! `fuzz/run-all.sh` (through `cargo run --example formats`), and the crate's overview
//! (a test checks that its table lists exactly these formats).
//!
//! A format turns a source file into [`Entry`] values, the one shape the builder adds: a
//! network or a range with [`Attrs`], an AS's name, an AS whose ranges get the source's
//! categories, or a record skipped for a counted reason. Each parser module says how its
//! records become entries, next to its record type (an implementation of the crate-private
//! `Parse` trait); the registry line binds that to the manifest name.
//!
//! # Adding a format
//! 1. A parser module with `parse` / `parse_located` (see the crate docs), its record type, and
//!    `pub(crate) struct Parser` implementing `Parse` (`entries` says what a record asserts;
//!    `check` adds record invariants for the fuzzer).
//! 2. One line in [`FORMATS`].
//! 3. Trimmed real fixtures in `tests/fixtures/` (named by the line's `fixtures` prefixes), with
//!    their provenance in `tests/fixtures/README.md`, and the parser's tests.
//!
//! ```
//! use ipsieve_sources::formats::{self, Entry, Sink};
//! use ipsieve_sources::{ParseError, Position};
//!
//! /// Counts networks and errors.
//! #[derive(Default)]
//! struct Count(usize, usize);
//! impl Sink for Count {
//!     fn record(&mut self, _: Position, entries: &mut dyn Iterator<Item = Entry>) {
//!         self.0 += entries.filter(|e| matches!(e, Entry::Net(..))).count();
//!     }
//!     fn error(&mut self, _: ParseError) {
//!         self.1 += 1;
//!     }
//! }
//!
//! let format = formats::by_name("ip-list").unwrap();
//! assert_eq!(format.module, "plain");
//! let mut count = Count::default();
//! let list = "192.0.2.1\n198.51.100.0/24\nnot an address\n";
//! format.read(Box::new(std::io::Cursor::new(list)), "example", &mut count);
//! assert_eq!((count.0, count.1), (2, 1));
//! ```

use std::io::{BufRead, BufReader};
use std::net::IpAddr;
use std::path::Path;

use ipnet::IpNet;
use ipsieve::Categories;

use crate::error::{Located, ParseError, Position};
use crate::{
    asn_list, asnames, aws, azure, bad_asn, geofeed, geofeed_json, gluetun, google, icloud, input,
    ip_location_db, ipcat, ipfetcher, iptoasn, mrt, mullvad, oracle, pfx2as, plain, proxy, rir,
    tor, tor_consensus,
};

/// Every format, in the order the crate's overview lists them.
pub static FORMATS: &[Format] = &[
    Format::of::<tor::Parser>(
        "tor-exit-list",
        "TorDNSEL `exit-addresses`, live and CollecTor",
        "a network per exit address",
        &["tor-exit-addresses", "tor-collector-2018-11-02"],
    ),
    Format::of::<tor_consensus::Parser>(
        "tor-consensus",
        "Tor network-status consensus, ns and microdesc flavours",
        "a network per relay address, `tor_exit` (Exit and not BadExit) or `tor_relay`",
        &["tor-consensus-", "tor-collector-2018-06-01"],
    ),
    Format::of::<plain::Parser>(
        "ip-list",
        "one address or CIDR per line, comma-separated lines",
        "a network per address or CIDR",
        &[
            "cloudflare-ips",
            "doodad-exit-nodes.txt",
            "secops-tor",
            "tor-torbulkexitlist",
            "icloud-ipv4",
        ],
    ),
    Format::of::<aws::Parser>(
        "aws-ip-ranges",
        "AWS `ip-ranges.json`",
        "a network per prefix",
        &["aws-"],
    ),
    Format::of::<google::Parser>(
        "google-cloud",
        "Google `cloud.json` / `goog.json`",
        "a network per prefix",
        &["google-"],
    ),
    Format::of::<pfx2as::Parser>(
        "pfx2as",
        "CAIDA RouteViews prefix-to-AS",
        "a network with its origin ASN (the first of a multi-origin set)",
        &["routeviews-"],
    ),
    Format::of::<asnames::Parser>(
        "asnames",
        "potaroo / CIDR-report AS names",
        "an AS name",
        &["asnames"],
    ),
    Format::of::<iptoasn::Parser>(
        "iptoasn",
        "iptoasn.com `ip2asn-*.tsv` ranges",
        "a range with its origin ASN, and the AS name; AS 0 (not routed) skipped",
        &["ip2asn-"],
    ),
    Format::of::<ip_location_db::Parser>(
        "ip-location-db-asn",
        "ip-location-db `asn-ipv4.csv` / `asn-ipv6.csv` ranges",
        "a range with its origin ASN, and the AS name; AS 0 (not routed) skipped",
        &["ip-location-db-"],
    ),
    Format::of::<asn_list::Parser>(
        "asn-list",
        "X4BNet `ASN.txt` (`AS123 # comment`)",
        "an AS whose ranges get the source's categories",
        &["x4bnet-"],
    ),
    Format::of::<bad_asn::Parser>(
        "bad-asn-list",
        "brianhama `bad-asn-list.csv` (lenient quoting)",
        "an AS whose ranges get the source's categories",
        &["bad-asn-"],
    ),
    Format::of::<ipcat::Parser>(
        "ipcat",
        "client9 ipcat `datacenters.csv` ranges",
        "a range with its provider",
        &["ipcat-"],
    ),
    Format::of::<azure::Parser>(
        "azure-service-tags",
        "Azure Service Tags JSON",
        "a network per prefix",
        &["azure-"],
    ),
    Format::of::<oracle::Parser>(
        "oracle-cloud",
        "Oracle Cloud `public_ip_ranges.json`",
        "a network per CIDR",
        &["oracle-"],
    ),
    Format::of::<geofeed_json::Parser>(
        "geofeed-json",
        "JSON geofeeds (Vultr, ip-fetcher `linode.json`)",
        "a network with its country",
        &["vultr-geofeed"],
    ),
    Format::of::<ipfetcher::Parser>(
        "ip-fetcher",
        "ip-fetcher `{\"IPv4Prefixes\", \"IPv6Prefixes\"}` lists",
        "a network per prefix",
        &["ipfetcher-"],
    ),
    Format::of::<mullvad::Parser>(
        "mullvad-relays",
        "Mullvad relay lists, API and cached shapes",
        "a network per address of an active relay; inactive relays skipped",
        &["mullvad-"],
    ),
    Format::of::<gluetun::Parser>(
        "gluetun-servers",
        "gluetun's `servers.json`: VPN servers of NordVPN, Surfshark, ExpressVPN and more",
        "a network per server address, with the server's provider",
        &["gluetun-"],
    ),
    Format::of::<rir::Parser>(
        "rir-delegated",
        "RIR delegated and delegated-extended statistics",
        "an IPv4 range or IPv6 network with its registration country (ASN rows skipped)",
        &["rir-"],
    ),
    Format::of::<proxy::Parser>(
        "proxy-list",
        "public proxy lists (`ip:port`, `scheme://ip:port`)",
        "a network per proxy address",
        &["proxy-"],
    ),
    Format::of::<geofeed::Parser>(
        "geofeed",
        "RFC 8805 geofeed CSV (DigitalOcean, Linode)",
        "a network with its country",
        &["geofeed-"],
    ),
    Format::of::<icloud::Parser>(
        "icloud-egress",
        "iCloud Private Relay `egress-ip-ranges.csv`",
        "a network with its country",
        &["icloud-egress"],
    ),
    Format::of::<mrt::Parser>(
        "mrt",
        "MRT RIB dumps: `TABLE_DUMP_V2` (ADD-PATH too) and legacy `TABLE_DUMP`",
        "a network with its most common origin ASN",
        &["mrt-"],
    ),
    #[cfg(feature = "mmdb")]
    Format::MMDB,
];

/// The format with this manifest name (`format = "…"`).
///
/// ```
/// let f = ipsieve_sources::formats::by_name("tor-exit-list").unwrap();
/// assert_eq!(f.module, "tor");
/// assert!(ipsieve_sources::formats::by_name("csv-thing").is_none());
/// ```
pub fn by_name(name: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.name == name)
}

/// The format whose parser is the module `module` (`tor`, `plain`, …).
pub fn by_module(module: &str) -> Option<&'static Format> {
    FORMATS.iter().find(|f| f.module == module)
}

/// The overview table of the crate docs (`src/lib.rs`), one row per registered format: a test
/// keeps the two equal, and `cargo run -p ipsieve-sources --example formats -- --markdown`
/// prints it.
#[doc(hidden)]
pub fn overview_table() -> String {
    let mut out = String::from(
        "| manifest `format` | module | what | each record yields |\n|---|---|---|---|\n",
    );
    for f in FORMATS {
        // The mmdb module exists only with its feature: no link that could break.
        let module = if f.module == "mmdb" {
            "`mmdb` (feature `mmdb`)".to_owned()
        } else {
            format!("[`{}`]", f.module)
        };
        out.push_str(&format!(
            "| `{}` | {module} | {} | {} |\n",
            f.name, f.summary, f.yields
        ));
    }
    out
}

/// Every manifest name, comma-separated (for messages).
pub fn names() -> String {
    FORMATS
        .iter()
        .map(|f| f.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// One source format. See the [module docs](self).
#[derive(Debug)]
pub struct Format {
    /// Its manifest name (`format = "tor-exit-list"`).
    pub name: &'static str,
    /// Its parser module (`tor`), also naming its fuzz corpus and regressions
    /// (`fuzz/regressions/parse_tor/`).
    pub module: &'static str,
    /// What it is, for people.
    pub summary: &'static str,
    /// What each record yields, for people.
    pub yields: &'static str,
    /// File-name prefixes of its fixtures in `tests/fixtures/`, which seed its fuzzing.
    pub fixtures: &'static [&'static str],
    /// Read as it is: no gzip or bzip2 sniffing (an MMDB's first bytes may look like any
    /// magic number).
    pub raw: bool,
    read: fn(Box<dyn BufRead + Send>, &str, &mut dyn Sink),
    fuzz: fn(&[u8]),
}

impl Format {
    /// The registry line of a format whose parser module implements [`Parse`].
    const fn of<P: Parse>(
        name: &'static str,
        summary: &'static str,
        yields: &'static str,
        fixtures: &'static [&'static str],
    ) -> Format {
        Format {
            name,
            module: P::MODULE,
            summary,
            yields,
            fixtures,
            raw: false,
            read: read_with::<P>,
            fuzz: crate::fuzz::parse_with::<P>,
        }
    }

    /// A MaxMind DB: read whole, not as a stream of lines or a JSON document.
    #[cfg(feature = "mmdb")]
    const MMDB: Format = Format {
        name: "mmdb",
        module: "mmdb",
        summary: "MaxMind DB: GeoIP2 Anonymous IP / Anonymous Plus, ASN, Country",
        yields: "a network with its anonymity flags as categories, ASN, provider and country, \
                 and the AS name",
        fixtures: &["mmdb-GeoIP2-Country", "mmdb-GeoIP2-Anonymous-IP-Test.mmdb"],
        raw: true,
        read: crate::mmdb::read_entries,
        fuzz: crate::fuzz::parse_mmdb,
    };

    /// Opens a source file of this format for [`Format::read`]: decompressed (gzip, bzip2,
    /// at most `max_decompressed` bytes) unless the format is [`raw`](Format::raw).
    ///
    /// # Errors
    /// [`input::require_regular_file`]'s error for anything but a regular file, or the error
    /// of opening or first reading it.
    pub fn open(
        &self,
        path: &Path,
        max_decompressed: u64,
    ) -> std::io::Result<Box<dyn BufRead + Send>> {
        if self.raw {
            input::require_regular_file(path)?;
            Ok(Box::new(BufReader::new(std::fs::File::open(path)?)))
        } else {
            input::open_with_limit(path, max_decompressed)
        }
    }

    /// Reads `reader` as this format, telling `sink` of every record (with the entries it
    /// asserts) and every error, in input order; `source` names the source in errors. As the
    /// parsers, it never panics, and a fatal error is the last thing `sink` hears.
    pub fn read(&self, reader: Box<dyn BufRead + Send>, source: &str, sink: &mut dyn Sink) {
        (self.read)(reader, source, sink);
    }

    /// The fuzz entry point: parses `data` (and its decompression, when it starts with a gzip
    /// or bzip2 magic) and panics when an invariant breaks (see [`crate::fuzz`]).
    #[doc(hidden)]
    pub fn fuzz(&self, data: &[u8]) {
        (self.fuzz)(data);
    }
}

/// What a source asserts, whatever its format: what the builder adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A network, with what the record says of it beyond what the source asserts.
    Net(IpNet, Attrs),
    /// An inclusive address range of one family (first, last), likewise.
    Range(IpAddr, IpAddr, Attrs),
    /// The name of an AS.
    AsName(u32, String),
    /// The country an AS is registered in (ISO 3166 alpha-2, upper case).
    AsCountry(u32, [u8; 2]),
    /// An AS: every range it originates gets the source's categories (the ASN lists).
    Asn(u32),
    /// A record that asserts nothing, and why (counted and reported per source).
    Skipped(Skip),
    /// The regional internet registry (`afrinic`, `apnic`, `arin`, `lacnic`, `ripencc`) that
    /// made the delegation beside it: what an RIR statistics file covers.
    Registry(String),
}

impl Entry {
    /// A network with no attributes of its own.
    pub fn net(net: IpNet) -> Entry {
        Entry::Net(net, Attrs::default())
    }
}

/// Per-entry attributes beyond what the source asserts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Attrs {
    /// Categories added to the source's.
    pub categories: Categories,
    /// Origin ASN: marks the entry as BGP routing data (most specific prefix wins).
    pub asn: Option<u32>,
    /// Provider name overriding the source's.
    pub provider: Option<String>,
    /// ISO 3166-1 alpha-2 country code (uppercase ASCII).
    pub country: Option<[u8; 2]>,
}

/// Why a record asserts nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Skip {
    /// A range of AS 0 in an IP-to-AS table: space no AS announces (RFC 7607).
    Unrouted,
    /// A relay its operator marks inactive.
    InactiveRelay,
}

impl Skip {
    /// The report's line for `n` records skipped for this reason.
    pub fn describe(self, n: u64) -> String {
        match self {
            Skip::Unrouted => format!(
                "ranges of AS 0 skipped: {n} (AS 0 marks space no AS announces, RFC 7607: it is \
                 no origin)"
            ),
            Skip::InactiveRelay => format!("{n} inactive relays skipped"),
        }
    }
}

/// Where [`Format::read`] puts what it reads.
pub trait Sink {
    /// A record was read at `position`; `entries` are what it asserts (often one, sometimes
    /// none or several).
    fn record(&mut self, position: Position, entries: &mut dyn Iterator<Item = Entry>);
    /// An entry could not be read (a recoverable error), or reading stopped (`error.fatal`).
    fn error(&mut self, error: ParseError);
}

/// What the registry needs of a parser module: its records and what each asserts.
pub(crate) trait Parse {
    /// The parser module's name.
    const MODULE: &'static str;
    /// Its record type.
    type Record;
    /// The records of `reader` (already decompressed), with their positions.
    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<Self::Record>, ParseError>>;
    /// What one record asserts.
    fn entries(record: Self::Record) -> impl Iterator<Item = Entry>;
    /// Invariants of a record beyond its entries' that must hold for any input; the fuzzer
    /// checks them (panicking when one breaks). None by default.
    fn check(_record: &Self::Record) {}
}

fn read_with<P: Parse>(reader: Box<dyn BufRead + Send>, source: &str, sink: &mut dyn Sink) {
    for item in P::parse(reader, source) {
        match item {
            Ok(Located { position, record }) => sink.record(position, &mut P::entries(record)),
            Err(e) => sink.error(e),
        }
    }
}

/// A range originated by `asn`, after the AS's name when the record gives one; a range of AS 0
/// (space no AS announces, RFC 7607: it is no origin) is skipped and counted.
pub(crate) fn as_range(
    first: IpAddr,
    last: IpAddr,
    asn: u32,
    name: String,
) -> impl Iterator<Item = Entry> {
    let routed = asn != 0;
    let name = (routed && !name.is_empty()).then_some(Entry::AsName(asn, name));
    let range = if routed {
        let attrs = Attrs {
            asn: Some(asn),
            ..Attrs::default()
        };
        Entry::Range(first, last, attrs)
    } else {
        Entry::Skipped(Skip::Unrouted)
    };
    name.into_iter().chain(std::iter::once(range))
}

/// A network with the country it is located in (geofeeds and their relatives).
pub(crate) fn located(g: crate::GeofeedEntry) -> Entry {
    let attrs = Attrs {
        country: g.country,
        ..Attrs::default()
    };
    Entry::Net(g.network, attrs)
}
