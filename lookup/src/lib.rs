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
//! // `Database::open("ipsieve.db")` reads a file; tests and embedded uses take bytes.
//! let db = Database::from_bytes(include_bytes!("../tests/golden/v4.ipsieve"))?;
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
//! evidence [`Tier`] (first-party > curated > asn-heuristic > asn-sibling > keyword) by the rules of
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
//! let db = Database::from_bytes(include_bytes!("../tests/golden/v4.ipsieve"))?;
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
//! * [`Database::open`], the default, reads the file into private memory: nothing done to the
//!   file afterwards can reach the answers. [`Database::open_mmap`] maps it instead (faster to
//!   open, pages shared between processes) and is `unsafe`: a file modified or truncated in
//!   place while mapped is undefined behaviour for every memory-mapped reader (it can change
//!   bytes that open validated, or kill the process with `SIGBUS`), and only the caller can
//!   promise it will not happen. Replacing a file by renaming a new one over it is always fine;
//!   `ipsieve build` never does anything else. [`SharedDatabase`] follows the same rule
//!   ([`ReloadConfig::mapped`] is the `unsafe` opt-in). A path that is not a regular file (a
//!   FIFO, a device) is refused without blocking.
//! * Opening validates the header (before reading the rest of a file), format version, section
//!   bounds, the source table and every entry of the two top tables, once, in time independent
//!   of the data's size; lookups are then infallible and never panic, even on a corrupt file
//!   (they would return wrong answers, which [`Database::verify`] detects: a whole-file
//!   checksum, every record and string, every trie node and leaf).
//! * The crate's own `unsafe` serves two things: the memory map of [`Database::open_mmap`] (and
//!   its caller's promise), and the x86-64 prefetch hint that [`Database::lookup_many`] issues
//!   (a hint never faults). The storage and the sections sliced from it at open are held
//!   together by the `self_cell` crate.
//! * The artifact is little-endian; a big-endian host refuses it with
//!   [`OpenError::Endianness`].
//!
//! ## Compatibility
//! The artifact carries a format version (see [`format`](mod@format) and `docs/FORMAT.md`). Readers accept
//! every minor version of their major version and refuse others with
//! [`OpenError::UnsupportedVersion`]; a new major version means rebuilding the artifact.
//!
//! ## Performance
//! Each family's index is a direct table on the top bits (IPv4: /18, 1 MiB; IPv6: /16) and
//! then a Poptrie-style compressed trie whose nodes also hold their first leaves (IPv4: 64
//! slots in one 64-byte cache line; IPv6: 256 slots in two lines): an IPv4 lookup reads the top entry and at most three node
//! lines (most random addresses end at the top entry, most addresses inside routed ranges in
//! the first node), with no search and no branch on the data beyond the node kind. IPv6 nodes
//! carry a guard that skips sparse bits. The leaf value carries a summary (categories, weak
//! categories, verdict), so [`Answer::categories`], [`Answer::verdict`],
//! [`Answer::is_anonymous`] and [`Policy::decide`] never read the 32-byte record; the record's
//! line is read only by the accessors of its fields (ASN, organisation, provider, country,
//! score, sources). The layout and the measurements behind it are in `docs/FORMAT.md`; the
//! figures against peers, measured in one run, in `docs/BENCHMARKS.md`
//! (`cargo bench -p ipsieve-benches --bench lookup` regenerates them).
//!
//! [`Database::lookup_many`] answers many addresses in groups of [`BATCH`]: IPv6 descents, up
//! to 14 node levels, go level by level together so that the group's cache misses overlap.
//!
//! Slots are counted with `u64::count_ones`: build with `-C target-cpu=x86-64-v2` (any x86-64
//! CPU since 2009) or `native` so that it is one `POPCNT` instruction, as this repository's
//! own builds do (`.cargo/config.toml`).
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
pub mod special;
mod storage;
mod types;
mod verify;

#[doc(hidden)]
pub mod fuzz;

pub use answer::{Answer, OwnedAnswer, SourceNames};
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
