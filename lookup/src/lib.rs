//! # ipsieve
//!
//! Offline IP intelligence in nanoseconds: is a client a Tor exit, a VPN endpoint, a public
//! proxy, hosting space or a privacy relay such as iCloud Private Relay, who runs it, and which
//! sources say so. Answers come from a precompiled artifact (built by `ipsieve build` from
//! public data) that this crate memory-maps and reads in place, with no parsing, no network
//! round trip and no heap allocation per lookup.
//!
//! ## Quick start
//! ```
//! use ipsieve::Database;
//!
//! // `Database::open("ipsieve.db")` maps a file; tests and embedded uses read bytes.
//! let db = Database::from_bytes(include_bytes!("../tests/golden/v2.ipsieve"))?;
//!
//! let answer = db.lookup("185.220.101.1".parse().unwrap());
//! assert!(answer.is_tor());
//! assert!(answer.is_anonymous());
//! println!(
//!     "{} in {}: {} (score {}), AS{:?} {:?}, sources {:?}",
//!     answer.ip(),
//!     answer.network(),
//!     answer.verdict(),
//!     answer.score(),
//!     answer.asn(),
//!     answer.as_org(),
//!     answer.sources().collect::<Vec<_>>(),
//! );
//!
//! // Nothing known: empty categories and a clean verdict.
//! let quiet = db.lookup("192.0.2.1".parse().unwrap());
//! assert!(quiet.categories().is_empty());
//! assert_eq!(quiet.verdict(), ipsieve::Verdict::Clean);
//! # Ok::<(), ipsieve::OpenError>(())
//! ```
//!
//! ## What an answer holds
//! Categories (`tor_exit`, `tor_relay`, `vpn`, `proxy`, `hosting`, `relay`) are the union of
//! every source covering the address; the ASN and AS organisation come from the most specific
//! BGP prefix; provider and country from the most specific source that names them;
//! [`Answer::sources`] says which sources matched and [`Answer::network`] the widest network
//! that shares the answer. Privacy relays (iCloud Private Relay) are `relay`, never `vpn`, and
//! Tor relays are `tor_relay`, not exits.
//!
//! The [`Verdict`] (IPLogs' `clean`, `suspicious`, `vpn_likely`, `vpn_detected`) and the score
//! in 0..=1 come from weighted signals, one per matching source, weighted by category and
//! evidence [`Tier`] (first-party > curated > asn-heuristic > keyword) by the rules of
//! [`classify`] (`docs/INTELLIGENCE.md`). [`Answer::signals`] explains them source by source,
//! without allocating. The fields of other services are derived: ip2geoapi's
//! [`Answer::trust_score`] and [`Answer::risk_level`], MaxMind's [`Answer::is_anonymous`],
//! [`Answer::is_anonymous_vpn`], [`Answer::is_hosting_provider`], [`Answer::is_public_proxy`],
//! [`Answer::is_tor_exit_node`] and [`Answer::is_residential_proxy`].
//!
//! ## Overrides, policy and rate-limit keys
//! Three helpers sit next to the artifact, for the decisions a service makes with an answer:
//! * [`Overlay`]: the deployment's own allow and deny entries by address, prefix or ASN, each
//!   with a reason, read at run time from a small text file (see [`overlay`](mod@overlay) for
//!   the format) and never compiled into an artifact. An allow entry wins over everything, and
//!   the match names the entry, its file and line, and its reason.
//! * [`Policy`]: a table from an [`ActionClass`] (`read`, `signup`, `login`, `payment`, …) and
//!   what the answer indicates to a [`Response`] (`allow`, `elevate_risk`, `step_up`,
//!   `block`). The default (see [`policy`](mod@policy)) never blocks `read` traffic or an
//!   iCloud Private Relay user, and blocks a Tor exit only on `payment`.
//! * [`BucketKey`]: the rate-limiting key of an address: the IPv4 address itself, or its
//!   IPv6 /64, /56 or /48.
//!
//! All three answer without allocating.
//! ```
//! use ipsieve::{ActionClass, BucketKey, Database, Overlay, Policy, Response, V6Bucket};
//!
//! let db = Database::from_bytes(include_bytes!("../tests/golden/v2.ipsieve"))?;
//! // Normally `Overlay::load("/etc/ipsieve/overlay.txt")`.
//! let overlay = Overlay::parse(
//!     "overlay.txt",
//!     "# our penetration testers exit through Tor\n\
//!      allow 185.220.101.1   pentest contract 2025-07\n\
//!      deny  203.0.113.0/24  card testing\n"
//!         .as_bytes(),
//! )?;
//! let policy = Policy::default();
//!
//! let tor = db.lookup("185.220.101.1".parse().unwrap());
//! assert!(tor.is_tor());
//! // Without an overlay entry: a Tor exit may read, but not pay.
//! let d = policy.decide(ActionClass::PAYMENT, &tor, None);
//! assert_eq!(d.response, Response::Block);
//! assert_eq!(d.to_string(), "block: tor_exit");
//! assert_eq!(policy.decide(ActionClass::READ, &tor, None).response, Response::ElevateRisk);
//!
//! // With the overlay: the allow entry decides, and says why.
//! let d = policy.decide(ActionClass::PAYMENT, &tor, overlay.check(&tor));
//! assert_eq!(d.response, Response::Allow);
//! assert!(d.by_overlay());
//! assert_eq!(
//!     d.to_string(),
//!     "allow: overlay allow 185.220.101.1 (overlay.txt line 2): pentest contract 2025-07"
//! );
//!
//! // Count an IPv6 client per /64.
//! let key = BucketKey::new("2001:db8:7:8:a:b:c:d".parse().unwrap(), V6Bucket::Slash64);
//! assert_eq!(key.to_string(), "2001:db8:7:8::/64");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Safety model
//! * Opening validates the header, format version, section bounds, the source table and
//!   every entry of the two top tables, once, in time independent of the data's size; lookups
//!   are then infallible and never panic, even on a corrupt file (they would return wrong
//!   answers, which [`Database::verify`] detects: a whole-file checksum, every record and
//!   string, every tree).
//! * `unsafe` appears twice: the memory map in [`Database::open`], and the x86-64 prefetch
//!   hint that [`Database::lookup_many`] issues (a hint never faults; measured to halve batch
//!   time on a full-size artifact). A mapped file must never be modified or truncated in
//!   place: doing so is undefined behaviour for every memory-mapped reader (it can change
//!   bytes that open validated, or kill the process with `SIGBUS`). Replace it by writing a
//!   new file and renaming it over the old one (a live mapping keeps the old contents).
//!   `ipsieve build` always does so and never writes into an existing artifact.
//!   [`Database::load`] reads a private copy instead, which no change to the file can reach.
//! * The artifact is little-endian; a big-endian host refuses it with
//!   [`OpenError::Endianness`].
//!
//! ## Compatibility
//! The artifact carries a format version (see [`format`](mod@format) and `docs/FORMAT.md`). Readers accept
//! every minor version of their major version and refuse others with
//! [`OpenError::UnsupportedVersion`]; a new major version means rebuilding the artifact.
//!
//! ## Performance
//! IPv4: one 256 KiB direct table on the top 16 bits (72 % of random addresses end there on a
//! full BGP table), then a static B+ tree of 64-byte nodes over the /16's range starts, each
//! node searched by a fixed-length branch-free binary search: one cache line per level, one level for a /16
//! with up to 31 boundaries, two up to 1,023. IPv6: the same on the upper 64 bits, with a
//! second tree only for /64s that hold boundaries. On a shared 2-core VM with the 19.2 MB
//! full-size artifact (2.3 M input prefixes) a random IPv4 lookup reading the ASN took
//! 30–105 ns depending on the host's load, 1.1–1.3× faster than `prefix-trie` and binary
//! search measured in the same run; see `docs/FORMAT.md`, `docs/BENCHMARKS.md` and the
//! `ipsieve-benches` crate.
//!
//! For the fastest lookups in a long-running service, [`Database::load`] reads the artifact
//! into private memory on 2 MiB pages (Linux transparent huge pages), which spares most TLB
//! misses of the random reads: measured 1.2–2.2× faster than a mapping of a file on 4 KiB
//! pages, for the file's size in resident memory per process.
//!
//! When an artifact is much larger than the CPU caches and many addresses are at hand (a log
//! batch, a queue of requests), [`Database::lookup_many`] answers them in groups of
//! [`BATCH`] whose cache misses overlap: on the 19 MB full-size artifact it took 0.34–0.71× the
//! time of single lookups inside IPv4 and IPv6 ranges and at random IPv4 addresses (it is
//! slower only where single lookups never miss, such as unrouted IPv6).
//!
//! The lookup path holds no lock and allocates nothing; a [`Database`] is `Send + Sync` and is
//! shared across threads behind an `Arc`.
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod answer;
mod batch;
mod bucket;
pub mod classify;
mod database;
mod error;
pub mod format;
mod header;
mod index;
mod local_file;
pub mod overlay;
pub mod policy;
pub mod reload;
mod signals;
mod storage;
mod types;
mod verify;

#[doc(hidden)]
pub mod fuzz;

pub use answer::{Answer, SourceNames};
pub use batch::{LookupMany, BATCH};
pub use bucket::{BucketKey, V6Bucket};
pub use database::{Database, Range, Ranges, SourceInfo};
pub use error::OpenError;
pub use ipnet::IpNet;
pub use local_file::ConfigError;
pub use overlay::{Overlay, OverlayAction, OverlayEntry, OverlayMatch, OverlayTarget};
pub use policy::{ActionClass, Indicator, Policy, PolicyDecision, Reason, Response};
pub use reload::{DatabaseCache, ReloadConfig, ReloadError, SharedDatabase};
pub use signals::{Signal, Signals};
pub use types::{Categories, RiskLevel, Tier, Verdict};
