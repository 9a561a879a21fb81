//! # ipsieve-builder
//!
//! Compiles IP-intelligence sources (Tor exit lists, cloud and VPN ranges, BGP prefix-to-AS
//! tables, AS names, …) into the artifact that the [`ipsieve`] crate reads; fetches sources
//! into a cache (feature `fetch`); compares, evaluates and exports artifacts. The `ipsieve`
//! command line (crate `ipsieve-cli`) is thin glue over this library; docs/ARCHITECTURE.md
//! shows where each step lives.
//!
//! * [`Builder`]: declare sources, add networks or ranges with attributes, compile or
//!   [`write_to`](Builder::write_to) a path (temporary file, fsync, rename).
//! * [`manifest`]: the TOML source manifest (`data/snapshot/sources.toml` is the vendored one).
//! * [`load`]: reads every source of a manifest with the `ipsieve-sources` parsers into a
//!   builder and reports what was read and rejected, per source and line.
//! * [`cache`]: the directory `ipsieve fetch` fills and `ipsieve build --cache` reads: one
//!   file per source plus a sidecar (URL, fetch time, validators, SHA-256, record count).
//! * `fetch` (cargo feature `fetch`, off by default; the command line turns it on):
//!   downloads sources into the cache with timeouts, a deadline and a minimum rate, retries,
//!   size caps, conditional requests, a per-source redirect policy and a content check before
//!   anything replaces a cached copy,
//!   one fetch per cache directory at a time; finds a dated source's newest file (a `url`
//!   template, or an index's newest link). Without the feature the crate has no HTTP stack.
//! * [`walk`]: an artifact's runs of equal answers in address order, and the merge of two.
//! * [`diff`]: what changed between two artifacts per category, provider and source (what
//!   `ipsieve diff` prints and its `--max-shrink` guard reads).
//! * [`export`]: the artifact as a MaxMind DB, a CSV of ranges, or nftables / ipset sets per
//!   category (what `ipsieve export` writes; docs/EXPORT.md).
//! * [`publish`] / [`publish_keeping`]: write, fsync, check, rename; optionally keep the
//!   previous artifacts as `FILE.1` … `FILE.N` (`ipsieve build --keep N`).
//!   [`check_destination`] refuses to replace anything but a regular file, or a file the run
//!   reads.
//!
//! ```
//! use ipsieve::{Categories, Database};
//! use ipsieve_builder::{Attrs, Builder, SourceSpec};
//!
//! let mut b = Builder::new();
//! let aws = b.add_source(
//!     SourceSpec::new("aws", "aws-ip-ranges").categories(Categories::HOSTING).provider("Amazon AWS"),
//! )?;
//! let bgp = b.add_source(SourceSpec::new("caida-pfx2as", "pfx2as"))?;
//! b.add_net(aws, "3.5.140.0/22".parse().unwrap(), Attrs::default())?;
//! b.add_net(bgp, "3.5.128.0/17".parse().unwrap(), Attrs { asn: Some(16509), ..Attrs::default() })?;
//! b.add_as_name(16509, "AMAZON-02, US");
//! let db = Database::from_bytes(&b.compile()?.bytes)?;
//! let a = db.lookup("3.5.140.9".parse().unwrap());
//! assert!(a.is_hosting());
//! assert_eq!(a.provider(), Some("Amazon AWS"));
//! assert_eq!(a.asn(), Some(16509));
//! assert_eq!(a.network().to_string(), "3.5.140.0/22");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod builder;
pub mod cache;
pub mod colocation;
mod compile;
mod dated;
pub mod diff;
mod error;
pub mod eval;
pub mod export;
pub mod eyeball;
#[cfg(feature = "fetch")]
pub mod fetch;
#[doc(hidden)]
pub mod fuzz;
pub mod keywords;
pub mod load;
pub mod manifest;
pub mod report;
pub mod siblings;
mod special;
mod trie;
pub mod walk;
mod write;

pub use builder::{Attrs, Builder, Limits, MinPrefix, SourceId, SourceSpec};
pub use compile::{CategoryCoverage, CompileStats, Compiled, EyeballHeld};
pub use error::BuildError;
pub use write::{
    check_destination, kept_path, publish, publish_keeping, same_file, write_atomically, Temporary,
    WriteError, MAX_KEEP, STALE_TEMPORARY,
};
