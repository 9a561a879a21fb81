//! Exporting an artifact for other tools: a MaxMind DB file ([`mmdb`]), a CSV of ranges
//! ([`csv`]), and nftables or ipset sets per category ([`firewall`]). `ipsieve export` is the
//! command line for all of them (docs/EXPORT.md).
//!
//! Every export reads the artifact with [`Database::ranges`](ipsieve::Database::ranges) — IPv4
//! then IPv6 in address order, one range per maximal run of addresses with the same answer —
//! so an export says exactly what [`Database::lookup`](ipsieve::Database::lookup) says, range
//! for range; the tests read each format back and compare it with the artifact. Files are
//! written with [`write_atomically`], the crate's one atomic write.
//!
//! ```
//! use ipsieve::{Categories, Database};
//! use ipsieve_builder::export::{csv, firewall, mmdb};
//! use ipsieve_builder::{Attrs, Builder, SourceSpec};
//!
//! let mut b = Builder::new();
//! let tor = b.add_source(SourceSpec::new("tor", "tor-exit-list").categories(Categories::TOR_EXIT))?;
//! b.add_net(tor, "185.220.101.0/30".parse().unwrap(), Attrs::default())?;
//! let db = Database::from_bytes(&b.compile()?.bytes)?;
//!
//! let (mmdb_bytes, stats) = mmdb::from_database(&db).to_bytes()?;
//! assert_eq!(stats.data_records, 1);
//!
//! let mut text = Vec::new();
//! csv::write(&db, &mut text)?;
//! assert!(String::from_utf8(text)?.contains("185.220.101.0,185.220.101.3,tor_exit,"));
//!
//! let sets = firewall::category_sets(&db, &[Categories::TOR_EXIT]);
//! assert_eq!(sets[0].v4, vec!["185.220.101.0/30".parse()?]);
//! # let _ = mmdb_bytes;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod csv;
pub mod firewall;
pub mod mmdb;

use std::io::Write;
use std::path::Path;

/// Why an export failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExportError {
    /// Writing the output failed; a file already at the destination is untouched.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file being written (`-` for standard output).
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Two ranges given to the MMDB writer overlap: each address may have one value.
    #[error("ranges {first} and {second} overlap: give the MMDB writer disjoint ranges")]
    Overlap {
        /// The earlier range, `first-last`.
        first: String,
        /// The range that overlaps it.
        second: String,
    },
    /// A range whose first address is after its last, or whose ends are of different families.
    #[error("invalid range {0}: the first address must not be after the last, in one family")]
    InvalidRange(String),
    /// The output exceeds a limit of the format.
    #[error("the export is too large: {0}")]
    TooLarge(String),
    /// A name given for the sets or table is not usable by nftables and ipset.
    #[error(
        "invalid set name {0:?}: use 1 to {max} ASCII letters, digits or `_`, starting with a \
         letter",
        max = firewall::SetName::max_len()
    )]
    InvalidName(String),
    /// A name given for the sets or table would make an ipset name longer than ipset takes
    /// ([`firewall::IPSET_MAX_NAME_LEN`]).
    #[error(
        "invalid set name {name:?}: ipset set names are at most {} bytes, and the longest this \
         export makes from it, {longest:?}, is {len} bytes: use a name of at most {max} \
         characters",
        firewall::IPSET_MAX_NAME_LEN,
        len = longest.len()
    )]
    NameTooLong {
        /// The name given.
        name: String,
        /// The longest set name it would make (`NAME_tor_relay_v6_new`).
        longest: String,
        /// The longest name accepted, in characters.
        max: usize,
    },
}

impl ExportError {
    /// The error-mapping function for I/O errors while writing `path`
    /// (`.map_err(ExportError::io(path))`).
    pub fn io(path: &Path) -> impl Fn(std::io::Error) -> ExportError + '_ {
        move |source| ExportError::Io {
            path: path.display().to_string(),
            source,
        }
    }
}

impl From<crate::WriteError> for ExportError {
    fn from(e: crate::WriteError) -> Self {
        ExportError::Io {
            path: e.path.display().to_string(),
            source: e.source,
        }
    }
}

/// [`crate::write_atomically`] for exports: `fill` writes into a temporary file beside
/// `dest`, which replaces `dest` by rename once complete and synced, so a reader of `dest` (a
/// firewall loader, a service mapping the MMDB) sees the old file or the new one, never a part.
///
/// # Errors
/// [`ExportError::Io`] when `dest` is not a regular file, on a write, sync or rename failure,
/// and whatever `fill` returns.
pub fn write_atomically<T>(
    dest: &Path,
    fill: impl FnOnce(&mut dyn Write) -> Result<T, ExportError>,
) -> Result<T, ExportError> {
    crate::write_atomically(dest, fill)
}
