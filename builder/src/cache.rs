//! The fetch cache: where `ipsieve fetch` keeps each source's latest good copy and what
//! `ipsieve build --cache DIR` reads for sources that only name a `url`.
//!
//! For a source named `aws` the cache directory holds:
//!
//! * `DIR/aws`: the body as downloaded, with gzip undone (whether the server sent it with
//!   `Content-Encoding: gzip` or published a `.gz` file), so any tool can read it. It is only
//!   ever replaced whole (a [`crate::Temporary`] beside it, fsync, rename) and only by a
//!   download that passed the content check of `crate::fetch`.
//! * `DIR/aws.meta.json`: the sidecar, a [`CacheMeta`]: URL, fetch time, HTTP validators
//!   (`ETag`, `Last-Modified`), SHA-256 and size of `DIR/aws`, and its record count.
//!
//! Reading the cache needs no network code: [`use_cache`] points a manifest's url-only sources
//! at their cached copies (checking each against its sidecar's SHA-256) and, where the
//! manifest gives no `snapshot`, dates them by their fetch time, which then appears in the
//! artifact's source table.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::BuildError;
use crate::manifest::{day_string, Manifest, SourceEntry};

/// Version of the sidecar layout written by this crate.
pub const SIDECAR_VERSION: u32 = 1;

/// The sidecar `DIR/<source>.meta.json` describing a cached copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheMeta {
    /// Sidecar layout version ([`SIDECAR_VERSION`]).
    pub version: u32,
    /// The source's name (also the cached file's name).
    pub source: String,
    /// The source's format when it was fetched (the content check parsed it as this).
    pub format: String,
    /// The URL requested: the manifest's `url`, or for a dated source the URL found for it
    /// (its template filled in, or the link taken from its index). `ipsieve build --cache`
    /// records it as the source's URL in the artifact.
    pub url: String,
    /// Where the body came from after redirects (the same as `url` without one). Absent from
    /// sidecars written before ipsieve recorded it.
    #[serde(default)]
    pub final_url: Option<String>,
    /// What the manifest said to fetch when this copy was fetched
    /// ([`SourceEntry::origin`]): the `url` (a template for a dated source), or the `index`
    /// and its `link` pattern. Absent from older sidecars, where `url` plays its part.
    #[serde(default)]
    pub origin: Option<String>,
    /// For a source found through an `index`: the index read.
    #[serde(default)]
    pub index: Option<String>,
    /// For a dated source: the date and time its URL carries (the file's date), Unix seconds.
    /// `ipsieve build --cache` takes its day as the source's snapshot date.
    #[serde(default)]
    pub url_date: Option<u64>,
    /// [`CacheMeta::url_date`] as `YYYY-MM-DDTHH:MM:SSZ`, for people.
    #[serde(default)]
    pub url_date_utc: Option<String>,
    /// When upstream last confirmed this copy (a `200` or a `304 Not Modified`), Unix seconds.
    /// `ipsieve build --cache` dates the source by this day when the manifest gives no
    /// `snapshot`.
    pub fetched_at: u64,
    /// [`CacheMeta::fetched_at`] as `YYYY-MM-DDTHH:MM:SSZ`, for people.
    pub fetched_at_utc: String,
    /// When these bytes were downloaded, Unix seconds (differs from `fetched_at` after a 304).
    pub downloaded_at: u64,
    /// The `ETag` of the response, sent back as `If-None-Match`.
    pub etag: Option<String>,
    /// The `Last-Modified` of the response, sent back as `If-Modified-Since`.
    pub last_modified: Option<String>,
    /// How the body was gzipped, if it was: `"content-encoding"` (the server compressed it
    /// for transfer) or `"gzip-file"` (upstream publishes a `.gz`). The cached file is plain.
    pub gunzipped: Option<String>,
    /// Bytes received on the wire.
    pub wire_bytes: u64,
    /// SHA-256 of the cached file, lowercase hex.
    pub sha256: String,
    /// Size of the cached file in bytes.
    pub bytes: u64,
    /// Records the content check parsed from the cached file, exactly as `ipsieve build`
    /// counts them (the report's `read`).
    pub records: u64,
}

/// Why a cached copy cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CacheError {
    /// There is no cached copy (no sidecar, or no file).
    #[error("source '{name}': no cached copy ({} is missing): run `ipsieve fetch` first", .path.display())]
    Missing {
        /// The source's name.
        name: String,
        /// The missing file.
        path: PathBuf,
    },
    /// The sidecar is not a sidecar of this version.
    #[error("source '{name}': the sidecar {} is unreadable ({reason}): run `ipsieve fetch` again", .path.display())]
    BadSidecar {
        /// The source's name.
        name: String,
        /// The sidecar.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The cached file differs from what its sidecar describes (edited, or a fetch was
    /// interrupted between the file and the sidecar).
    #[error("source '{name}': the cached copy {} does not match its sidecar ({reason}): run `ipsieve fetch` again", .path.display())]
    Mismatch {
        /// The source's name.
        name: String,
        /// The cached file.
        path: PathBuf,
        /// Which check failed.
        reason: String,
    },
    /// Reading the cache failed.
    #[error("source '{name}': cannot read {}: {error}", .path.display())]
    Io {
        /// The source's name.
        name: String,
        /// The file being read.
        path: PathBuf,
        /// The underlying error.
        #[source]
        error: io::Error,
    },
}

/// `DIR/<name>`: the cached body of source `name`.
pub fn body_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// `DIR/<name>.meta.json`: the sidecar of source `name`.
pub fn sidecar_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.meta.json"))
}

impl CacheMeta {
    /// Reads the sidecar of source `name` in `dir` (without checking the cached file; see
    /// [`CacheMeta::verify`]).
    ///
    /// # Errors
    /// [`CacheError::Missing`] when there is no sidecar, [`CacheError::BadSidecar`] when it
    /// does not parse or is of another version, [`CacheError::Io`] when it cannot be read.
    pub fn read(dir: &Path, name: &str) -> Result<CacheMeta, CacheError> {
        let path = sidecar_path(dir, name);
        let text = match fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CacheError::Missing {
                    name: name.to_owned(),
                    path,
                })
            }
            Err(error) => {
                return Err(CacheError::Io {
                    name: name.to_owned(),
                    path,
                    error,
                })
            }
        };
        let bad = |reason: String| CacheError::BadSidecar {
            name: name.to_owned(),
            path: path.clone(),
            reason,
        };
        let meta: CacheMeta = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if meta.version != SIDECAR_VERSION {
            return Err(bad(format!(
                "version {}, this ipsieve writes {SIDECAR_VERSION}",
                meta.version
            )));
        }
        if meta.source != name {
            return Err(bad(format!("it describes source '{}'", meta.source)));
        }
        Ok(meta)
    }

    /// Checks that the cached file exists and has the sidecar's size and SHA-256.
    ///
    /// # Errors
    /// [`CacheError::Missing`], [`CacheError::Mismatch`] or [`CacheError::Io`].
    pub fn verify(&self, dir: &Path) -> Result<(), CacheError> {
        let path = body_path(dir, &self.source);
        let (sha256, bytes) = match sha256_file(&path) {
            Ok(v) => v,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(CacheError::Missing {
                    name: self.source.clone(),
                    path,
                })
            }
            Err(error) => {
                return Err(CacheError::Io {
                    name: self.source.clone(),
                    path,
                    error,
                })
            }
        };
        let mismatch = |reason: String| CacheError::Mismatch {
            name: self.source.clone(),
            path: path.clone(),
            reason,
        };
        if bytes != self.bytes {
            return Err(mismatch(format!(
                "{bytes} bytes, the sidecar says {}",
                self.bytes
            )));
        }
        if sha256 != self.sha256 {
            return Err(mismatch(format!(
                "SHA-256 {sha256}, the sidecar says {}",
                self.sha256
            )));
        }
        Ok(())
    }

    /// Writes the sidecar into `dir` atomically ([`crate::write_atomically`]).
    ///
    /// # Errors
    /// The I/O error of writing, syncing or renaming; the previous sidecar is then untouched.
    pub fn write(&self, dir: &Path) -> io::Result<()> {
        crate::write_atomically(&sidecar_path(dir, &self.source), |w| {
            w.write_all(self.to_json().as_bytes())
        })
    }

    /// The sidecar's text: pretty-printed JSON and a final newline.
    pub fn to_json(&self) -> String {
        // Serializing plain strings and integers cannot fail.
        let mut json = serde_json::to_string_pretty(self).unwrap_or_default();
        json.push('\n');
        json
    }

    /// The day (days since 1970-01-01) of [`CacheMeta::fetched_at`].
    pub fn fetched_day(&self) -> u32 {
        u32::try_from(self.fetched_at / 86_400).unwrap_or(u32::MAX)
    }

    /// The day the cached data is from: the date its URL carries for a dated source, else
    /// the day upstream last confirmed it ([`CacheMeta::fetched_day`]).
    pub fn data_day(&self) -> u32 {
        self.url_date.map_or_else(
            || self.fetched_day(),
            |t| u32::try_from(t / 86_400).unwrap_or(u32::MAX),
        )
    }

    /// How many days old the cached data is at Unix time `now` when that is more than the
    /// source's `max_age_days` (`None` when it is not, or the source sets no limit); the age
    /// is counted from [`CacheMeta::data_day`], as `ipsieve build` counts it.
    pub fn stale_days(&self, entry: &SourceEntry, now: u64) -> Option<u64> {
        let max = entry.max_age_days?;
        let age = (now / 86_400).saturating_sub(u64::from(self.data_day()));
        (age > u64::from(max)).then_some(age)
    }
}

/// The current time in Unix seconds (0 if the clock is before 1970).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `YYYY-MM-DDTHH:MM:SSZ` of a Unix time.
pub fn utc_string(secs: u64) -> String {
    ipsieve_sources::time::Timestamp(i64::try_from(secs).unwrap_or(i64::MAX)).to_string()
}

/// SHA-256 (lowercase hex) and length of the file at `path`, read in 64 KiB blocks.
///
/// # Errors
/// Whatever opening or reading the file returns.
pub fn sha256_file(path: &Path) -> io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 << 10];
    let mut len = 0u64;
    loop {
        let n = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        hasher.update(&buf[..n]);
        len += n as u64;
    }
    Ok((hex(&hasher.finalize()), len))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Removes what killed fetches of source `name` left in `dir`: temporary files of its body
/// and of its sidecar (`.NAME.tmp-…`, `.NAME.meta.json.tmp-…`) last modified more than
/// [`crate::STALE_TEMPORARY`] ago. Recent ones are left alone (best effort, like publish).
#[cfg(feature = "fetch")]
pub(crate) fn remove_stale_temporaries(dir: &Path, name: &str) {
    crate::write::sweep_stale(dir, name);
    crate::write::sweep_stale(dir, &format!("{name}.meta.json"));
}

/// Reads and verifies the cached copy of `entry` in `dir`: the sidecar must exist, be for the
/// manifest's current `url` (or template, or `index` and `link`: [`SourceEntry::origin`]),
/// and match the cached file's size and SHA-256.
///
/// # Errors
/// A [`CacheError`]; a sidecar for another URL is a [`CacheError::Mismatch`].
pub fn inspect(entry: &SourceEntry, dir: &Path) -> Result<CacheMeta, CacheError> {
    let meta = CacheMeta::read(dir, &entry.name)?;
    if let Some(origin) = entry.origin() {
        let fetched = meta.origin.as_deref().unwrap_or(&meta.url);
        if fetched != origin {
            return Err(CacheError::Mismatch {
                name: entry.name.clone(),
                path: sidecar_path(dir, &entry.name),
                reason: format!("fetched from {fetched}, the manifest now says {origin}"),
            });
        }
    }
    meta.verify(dir)?;
    Ok(meta)
}

/// Points every enabled source of `manifest` that has a `url` or an `index` but no `path` at
/// its cached copy in `dir`, checked with [`inspect`]. A dated source (a `url` with date
/// fields, or an `index`) takes the URL that was found for it ([`CacheMeta::url`]) and the
/// date that URL carries as its snapshot; any other source without a `snapshot` is dated by
/// the day the copy was fetched. Sources with a `path` are left alone: a `path` always wins.
/// Returns the sidecars used, in manifest order.
///
/// # Errors
/// [`BuildError::Input`] naming the manifest line and the source when its cached copy is
/// missing, was fetched from another URL, or does not match its sidecar.
pub fn use_cache(manifest: &mut Manifest, dir: &Path) -> Result<Vec<CacheMeta>, BuildError> {
    let mut used = Vec::new();
    for entry in &mut manifest.sources {
        if !entry.enabled.unwrap_or(true) || entry.path.is_some() || !entry.is_fetched() {
            continue;
        }
        let meta = inspect(entry, dir).map_err(|e| {
            BuildError::Input(format!(
                "line {}: {e} (cache directory {})",
                entry.line,
                dir.display()
            ))
        })?;
        entry.path = Some(body_path(dir, &entry.name));
        if entry.is_dated() {
            entry.url = Some(meta.url.clone());
        }
        if entry.snapshot.is_none() {
            entry.snapshot = Some(day_string(meta.data_day()));
        }
        used.push(meta);
    }
    Ok(used)
}
