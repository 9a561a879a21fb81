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
//! let db = Database::from_bytes(include_bytes!("../tests/golden/v1.ipsieve"))?;
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
//! ## Safety model
//! * Opening validates the header, format version, section bounds and every index the top
//!   tables and records hold, once; lookups are then infallible and never panic, even on a
//!   corrupt file (they would return wrong answers, which [`Database::verify`] detects with a
//!   whole-file checksum).
//! * The only `unsafe` is the memory map in [`Database::open`]. A mapped file must never be
//!   modified or truncated in place: replace it by writing a new file and renaming it over the
//!   old one (a live mapping keeps the old contents). `ipsieve build` always does so.
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
//! second tree only for /64s that hold boundaries. On a 2-core VM with the full CAIDA table
//! (1.02 M prefixes, 9.3 MB artifact) a random IPv4 lookup took about 13–16 ns; see
//! `docs/FORMAT.md` and the `ipsieve-benches` crate.
//!
//! The lookup path holds no lock and allocates nothing; a [`Database`] is `Send + Sync` and is
//! shared across threads behind an `Arc`.
#![deny(missing_docs)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod answer;
mod database;
mod error;
pub mod format;
mod search;
mod types;
mod verify;

#[doc(hidden)]
pub mod fuzz;

pub use answer::{Answer, SourceNames};
pub use database::{Database, SourceInfo};
pub use error::OpenError;
pub use ipnet::IpNet;
pub use types::{Categories, Tier, Verdict};
