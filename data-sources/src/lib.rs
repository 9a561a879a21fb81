//! Streaming parsers for the upstream formats ipsieve compiles (Tor exit lists and consensuses,
//! address lists, cloud ranges, BGP prefix-to-AS tables and RIB dumps, AS names and lists, RIR
//! statistics, geofeeds, VPN relay lists, MaxMind databases), and the registry that declares
//! each format once ([`formats`]).
//!
//! # Quick start
//!
//! Every format has a `parse(reader, source_name)` returning an iterator of
//! `Result<Record, ParseError>`; [`input::open`] decompresses gzip and bzip2 transparently, and
//! [`Lenient`] turns the fallible stream into records plus a report:
//!
//! ```
//! use ipsieve_sources::{input, tor, Lenient};
//!
//! # fn main() -> std::io::Result<()> {
//! let list = "ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75\n\
//!             Published 2024-03-11 13:07:19\n\
//!             LastStatus 2024-03-12 08:00:00\n\
//!             ExitAddress 185.241.208.232 2024-03-12 08:10:51\n\
//!             ExitAddress 999.1.1.1 2024-03-12 08:10:51\n";
//! // With a file: `input::open(Path::new("exit-addresses.gz"))?`.
//! let reader = input::decode(std::io::Cursor::new(list))?;
//! let mut exits = Lenient::new(tor::parse(reader, "tor-exit-addresses"));
//! for exit in &mut exits {
//!     assert_eq!(exit.address.to_string(), "185.241.208.232");
//! }
//! let report = exits.report();
//! assert_eq!((report.accepted, report.rejected), (1, 1));
//! assert_eq!(
//!     report.first_errors[0].to_string(),
//!     "tor-exit-addresses: line 5: ExitAddress: not an ip address or network \
//!      (in \"ExitAddress 999.1.1.1 2024-03-12 08:10:51\")"
//! );
//! # Ok(())
//! # }
//! ```
//!
//! # Formats
//!
//! Every format is declared once, in the [registry](formats::FORMATS): its manifest name, its
//! parser module, what it yields, the fixtures that seed its fuzzing. The builder's manifest
//! and loader, the fuzz targets and this table all read that declaration (a test keeps this
//! table equal to it; `cargo run -p ipsieve-sources --features mmdb --example formats --
//! --markdown` prints it).
//!
//! <!-- formats:begin -->
//! | manifest `format` | module | what | each record yields |
//! |---|---|---|---|
//! | `tor-exit-list` | [`tor`] | TorDNSEL `exit-addresses`, live and CollecTor | a network per exit address |
//! | `tor-consensus` | [`tor_consensus`] | Tor network-status consensus, ns and microdesc flavours | a network per relay address, `tor_exit` (Exit and not BadExit) or `tor_relay` |
//! | `ip-list` | [`plain`] | one address or CIDR per line, comma-separated lines | a network per address or CIDR |
//! | `aws-ip-ranges` | [`aws`] | AWS `ip-ranges.json` | a network per prefix |
//! | `google-cloud` | [`google`] | Google `cloud.json` / `goog.json` | a network per prefix |
//! | `pfx2as` | [`pfx2as`] | CAIDA RouteViews prefix-to-AS | a network with its origin ASN (the first of a multi-origin set) |
//! | `asnames` | [`asnames`] | potaroo / CIDR-report AS names | an AS name |
//! | `iptoasn` | [`iptoasn`] | iptoasn.com `ip2asn-*.tsv` ranges | a range with its origin ASN, and the AS name; AS 0 (not routed) skipped |
//! | `ip-location-db-asn` | [`ip_location_db`] | ip-location-db `asn-ipv4.csv` / `asn-ipv6.csv` ranges | a range with its origin ASN, and the AS name; AS 0 (not routed) skipped |
//! | `asn-list` | [`asn_list`] | X4BNet `ASN.txt` (`AS123 # comment`) | an AS whose ranges get the source's categories |
//! | `bad-asn-list` | [`bad_asn`] | brianhama `bad-asn-list.csv` (lenient quoting) | an AS whose ranges get the source's categories |
//! | `ipcat` | [`ipcat`] | client9 ipcat `datacenters.csv` ranges | a range with its provider |
//! | `azure-service-tags` | [`azure`] | Azure Service Tags JSON | a network per prefix |
//! | `oracle-cloud` | [`oracle`] | Oracle Cloud `public_ip_ranges.json` | a network per CIDR |
//! | `geofeed-json` | [`geofeed_json`] | JSON geofeeds (Vultr, ip-fetcher `linode.json`) | a network with its country |
//! | `ip-fetcher` | [`ipfetcher`] | ip-fetcher `{"IPv4Prefixes", "IPv6Prefixes"}` lists | a network per prefix |
//! | `mullvad-relays` | [`mullvad`] | Mullvad relay lists, API and cached shapes | a network per address of an active relay; inactive relays skipped |
//! | `gluetun-servers` | [`gluetun`] | gluetun's `servers.json`: VPN servers of NordVPN, Surfshark, ExpressVPN and more | a network per server address, with the server's provider |
//! | `rir-delegated` | [`rir`] | RIR delegated and delegated-extended statistics | an IPv4 range or IPv6 network with its registration country (ASN rows skipped) |
//! | `proxy-list` | [`proxy`] | public proxy lists (`ip:port`, `scheme://ip:port`) | a network per proxy address |
//! | `geofeed` | [`geofeed`] | RFC 8805 geofeed CSV (DigitalOcean, Linode) | a network with its country |
//! | `icloud-egress` | [`icloud`] | iCloud Private Relay `egress-ip-ranges.csv` | a network with its country |
//! | `mrt` | [`mrt`] | MRT RIB dumps: `TABLE_DUMP_V2` (ADD-PATH too) and legacy `TABLE_DUMP` | a network with its most common origin ASN |
//! | `mmdb` | `mmdb` (feature `mmdb`) | MaxMind DB: GeoIP2 Anonymous IP / Anonymous Plus, ASN, Country | a network with its anonymity flags as categories, ASN, provider and country, and the AS name |
//! <!-- formats:end -->
//!
//! # Features
//!
//! - `mmdb` (off by default): the `mmdb` module, a MaxMind DB importer through the `maxminddb`
//!   crate, for users who hold a licensed GeoIP2 or GeoLite2 database.
//!
//! # Errors and limits
//!
//! Every error is a [`ParseError`] naming the source, the position (line; byte offset in the
//! binary MRT and MMDB formats), the reason and the
//! offending text (truncated). A bad entry is a recoverable error and the stream goes on; an
//! input that cannot be read to its end (a truncated gzip download) ends the stream with a
//! fatal error after the records read before it. Parsers never panic on any input and never
//! touch the network.
//!
//! Memory stays bounded on hostile input: text parsers reuse one line buffer and skip lines
//! over [`input::MAX_LINE`] bytes; a source yields at most [`input::MAX_RECORDS`] records; JSON
//! documents are read whole but capped at [`input::MAX_DOCUMENT`] bytes, and their `parse`
//! decodes one entry at a time, so memory stays at the document's size however many entries
//! it holds (the `read` functions keep every entry by design); an MRT record over
//! [`mrt::MAX_MRT_RECORD`] bytes is skipped without being buffered.
//!
//! # Performance
//!
//! Text parsers allocate only for what a record owns (the pfx2as origin list, a Tor
//! fingerprint, an AS name). The throughput of every parser on the full-size files (the
//! 998 042-row CAIDA pfx2as table parses at about 100 MiB/s from memory, a fifth slower
//! through gunzip) is in `docs/BENCHMARKS.md`; `cargo bench -p ipsieve-benches --bench parse`
//! measures it again (it needs `../shared/data`).
//!
//! # Safety and compatibility
//!
//! The crate has no `unsafe` code (`#![forbid(unsafe_code)]`). Record types and `parse`
//! signatures follow semantic versioning; the wording of error reasons is for people and may
//! change in any release (match on [`ParseError::fatal`] and [`ParseError::position`], not on
//! `reason`).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod asn_list;
pub mod asnames;
pub mod aws;
pub mod azure;
pub mod bad_asn;
pub mod error;
pub mod formats;
#[doc(hidden)]
pub mod fuzz;
pub mod geofeed;
pub mod geofeed_json;
pub mod gluetun;
pub mod google;
pub mod icloud;
pub mod input;
pub mod ip_location_db;
pub mod ipcat;
pub mod ipfetcher;
pub mod iptoasn;
pub mod lenient;
#[cfg(feature = "mmdb")]
pub mod mmdb;
pub mod mrt;
pub mod mullvad;
pub mod oracle;
pub mod pfx2as;
pub mod plain;
pub mod proxy;
pub mod rir;
pub mod time;
pub mod tor;
pub mod tor_consensus;

mod addr_range;
mod csv_line;
mod json;
mod net;

pub use asn_list::AsnEntry;
pub use asnames::AsName;
pub use aws::{AwsDocument, AwsPrefix};
pub use azure::{AzureDocument, AzurePrefix};
pub use error::{Located, ParseError, Position};
pub use geofeed::GeofeedEntry;
pub use geofeed_json::GeofeedJsonDocument;
pub use gluetun::GluetunServer;
pub use google::{GoogleDocument, GooglePrefix};
pub use ip_location_db::IpLocationAsn;
pub use ipcat::IpcatRange;
pub use iptoasn::IptoasnRange;
pub use lenient::{Lenient, LenientReport};
#[cfg(feature = "mmdb")]
pub use mmdb::{MmdbDatabase, MmdbRecord};
pub use mrt::{MrtPrefix, MrtStats};
pub use mullvad::{MullvadDocument, MullvadRelay, MullvadRelayKind, MullvadShape};
pub use oracle::{OracleDocument, OraclePrefix};
pub use pfx2as::{OriginKind, Pfx2AsRecord};
pub use proxy::{Proxy, ProxyScheme};
pub use rir::{Delegation, RirRecord};
pub use time::Timestamp;
pub use tor::ExitAddress;
pub use tor_consensus::{ConsensusHeader, ConsensusItem, Relay};
