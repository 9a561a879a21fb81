//! `ipsieve fetch`: downloads each source's `url` into a cache directory, keeping the previous
//! copy unless the new one is demonstrably good (feature `fetch`).
//!
//! Per source, a [`Fetcher`]:
//!
//! 1. sends a conditional `GET` (`If-None-Match` / `If-Modified-Since` from the sidecar of the
//!    cached copy, when that copy still matches its SHA-256); `304 Not Modified` keeps the
//!    cached file byte for byte and only refreshes the sidecar's fetch time;
//! 2. retries timeouts (no response head, or no data mid-body, within the read timeout),
//!    connection errors (refused; reset, before the head or mid-body; a body cut short) and
//!    `5xx` answers, at most [`FetchOptions::retries`] times with exponential backoff; any
//!    other status, and any failure to write the cache directory (a full disk), fails at once;
//! 3. streams the body to a temporary file in the cache directory, refusing it past
//!    `max_bytes` (per source in the manifest, else [`FetchOptions::max_bytes`]), and with a
//!    connect, a per-read and a whole-download time limit;
//! 4. undoes gzip (`Content-Encoding: gzip`, or a published `.gz` file) with the same cap on
//!    the inflated size, so a gzip bomb stops at the cap; a bzip2 body (RouteViews' `.bz2`
//!    RIB dumps) is cached as fetched, and reading it (at the content check below and in
//!    `ipsieve build`) stops at [`ipsieve_sources::input::MAX_DECOMPRESSED`] bytes;
//! 5. checks the content before anything replaces the cached copy: not empty, not an HTML
//!    (or other markup) page served with `200`, parses to its end with the source's parser
//!    exactly as `ipsieve build` reads it (into a throwaway [`Builder`]), has records, has no
//!    more than [`FetchOptions::max_rejected_pct`] of its entries rejected, and has not shrunk
//!    by more than `max_shrink_pct` (manifest, default 50 %) versus the cached copy;
//! 6. only then renames the new file over the cached copy and writes the sidecar, each
//!    atomically (see [`crate::cache`]).
//!
//! A failure leaves the cached copy and its sidecar exactly as they were and is returned as a
//! [`FetchError`] naming the source, the URL and the reason.
//!
//! ```no_run
//! use std::path::Path;
//! use ipsieve_builder::fetch::{FetchOptions, FetchOutcome, Fetcher};
//! use ipsieve_builder::manifest::Manifest;
//!
//! let manifest = Manifest::load(Path::new("sources/default.toml"))?;
//! let fetcher = Fetcher::new(FetchOptions::default())?;
//! for source in manifest.enabled().filter(|s| s.url.is_some()) {
//!     match fetcher.fetch(source, Path::new("cache"), &mut |_| {}) {
//!         Ok(FetchOutcome::Updated { meta, .. }) => println!("{}: {} records", meta.source, meta.records),
//!         Ok(FetchOutcome::NotModified { meta }) => println!("{}: not modified", meta.source),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::header::{
    HeaderMap, ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_MODIFIED_SINCE, IF_NONE_MATCH,
    LAST_MODIFIED,
};
use reqwest::StatusCode;

use crate::builder::Builder;
use crate::cache::{self, CacheMeta, SIDECAR_VERSION};
use crate::load;
use crate::manifest::SourceEntry;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BLOCK: usize = 64 << 10;

/// Limits and retry policy of a [`Fetcher`]; every setter returns the updated value.
///
/// ```
/// use std::time::Duration;
/// use ipsieve_builder::fetch::FetchOptions;
///
/// let options = FetchOptions::default()
///     .timeout(Duration::from_secs(10))
///     .retries(2)
///     .max_bytes(64 << 20);
/// assert_eq!(options.max_bytes_default(), 64 << 20);
/// ```
#[derive(Debug, Clone)]
pub struct FetchOptions {
    connect_timeout: Duration,
    read_timeout: Duration,
    total_timeout: Duration,
    retries: u32,
    backoff: Duration,
    max_bytes: u64,
    max_rejected_pct: u8,
    progress_interval: Duration,
    user_agent: String,
}

impl Default for FetchOptions {
    /// Connect 10 s, read 30 s, 30 min per attempt, 3 retries from 1 s backoff, 256 MiB,
    /// 50 % rejected entries at most, progress every second.
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            total_timeout: Duration::from_secs(30 * 60),
            retries: 3,
            backoff: Duration::from_secs(1),
            max_bytes: ipsieve_sources::input::MAX_DOCUMENT,
            max_rejected_pct: 50,
            progress_interval: Duration::from_secs(1),
            user_agent: format!("ipsieve/{}", env!("CARGO_PKG_VERSION")),
        }
    }
}

impl FetchOptions {
    /// Sets both the connect and the read timeout.
    #[must_use]
    pub fn timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self.read_timeout = t;
        self
    }
    /// Sets the time allowed to open a connection (TCP and TLS).
    #[must_use]
    pub fn connect_timeout(mut self, t: Duration) -> Self {
        self.connect_timeout = t;
        self
    }
    /// Sets the longest wait for the response head and for each read of the body.
    #[must_use]
    pub fn read_timeout(mut self, t: Duration) -> Self {
        self.read_timeout = t;
        self
    }
    /// Sets the longest one attempt's download may take as a whole (a trickling server).
    #[must_use]
    pub fn total_timeout(mut self, t: Duration) -> Self {
        self.total_timeout = t;
        self
    }
    /// Sets how many times a timeout, connection error or `5xx` is retried (0: never).
    #[must_use]
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }
    /// Sets the wait before the first retry; each further retry waits twice as long.
    #[must_use]
    pub fn backoff(mut self, d: Duration) -> Self {
        self.backoff = d;
        self
    }
    /// Sets the largest body, on the wire and after gunzip, for sources whose manifest entry
    /// gives no `max_bytes`.
    #[must_use]
    pub fn max_bytes(mut self, n: u64) -> Self {
        self.max_bytes = n;
        self
    }
    /// Sets the largest share of rejected entries, in percent, a download may have.
    #[must_use]
    pub fn max_rejected_pct(mut self, pct: u8) -> Self {
        self.max_rejected_pct = pct.min(100);
        self
    }
    /// Sets how often the progress callback is called during a download.
    #[must_use]
    pub fn progress_interval(mut self, d: Duration) -> Self {
        self.progress_interval = d;
        self
    }
    /// The body cap for sources whose manifest entry gives no `max_bytes`.
    pub fn max_bytes_default(&self) -> u64 {
        self.max_bytes
    }
}

/// Why fetching one source failed. The cached copy, if any, is untouched.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The source has no `url`.
    #[error("source '{name}': no `url` in the manifest, nothing to fetch")]
    NoUrl {
        /// The source's name.
        name: String,
    },
    /// No response, or the body broke off: timeouts, refused or reset connections, a body
    /// shorter than its `Content-Length`.
    #[error("source '{name}': GET {url}: {reason} (gave up after {attempts} attempt{})", plural(*.attempts))]
    Transport {
        /// The source's name.
        name: String,
        /// The URL requested.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// What went wrong on the last attempt.
        reason: String,
    },
    /// The server answered with a status other than `200` or `304`.
    #[error("source '{name}': GET {url}: the server answered {status} (gave up after {attempts} attempt{})", plural(*.attempts))]
    Status {
        /// The source's name.
        name: String,
        /// The URL requested.
        url: String,
        /// The HTTP status, e.g. `404 Not Found`.
        status: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The body, or what it inflates to, passed the size cap.
    #[error("source '{name}': GET {url}: the {what} is larger than {limit} bytes; raise `max_bytes` for this source if it really grew that much")]
    TooLarge {
        /// The source's name.
        name: String,
        /// The URL requested.
        url: String,
        /// `"body"` or `"gunzipped body"`.
        what: &'static str,
        /// The cap, in bytes.
        limit: u64,
    },
    /// The body arrived but failed the content check (empty, HTML, unparseable, truncated,
    /// mostly rejected, or shrunk past the threshold).
    #[error("source '{name}': GET {url}: {reason}")]
    Rejected {
        /// The source's name.
        name: String,
        /// The URL requested.
        url: String,
        /// Why the body was refused.
        reason: String,
    },
    /// Writing into the cache directory failed.
    #[error("source '{name}': cannot write the cache file {}: {error}", .path.display())]
    Cache {
        /// The source's name.
        name: String,
        /// The file being written.
        path: PathBuf,
        /// The underlying error.
        #[source]
        error: io::Error,
    },
    /// The HTTP client could not be set up (TLS backend).
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
}

fn plural(n: u32) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

impl FetchError {
    /// The name of the source that failed (`None` for [`FetchError::Client`]).
    pub fn source_name(&self) -> Option<&str> {
        match self {
            FetchError::NoUrl { name }
            | FetchError::Transport { name, .. }
            | FetchError::Status { name, .. }
            | FetchError::TooLarge { name, .. }
            | FetchError::Rejected { name, .. }
            | FetchError::Cache { name, .. } => Some(name),
            FetchError::Client(_) => None,
        }
    }
}

/// What a successful fetch did.
#[derive(Debug, Clone)]
pub enum FetchOutcome {
    /// A new copy passed the checks and replaced the cached one.
    Updated {
        /// The new sidecar.
        meta: CacheMeta,
        /// The sidecar of the copy it replaced, if there was a valid one.
        previous: Option<Box<CacheMeta>>,
    },
    /// The server answered `304 Not Modified`: the cached file is unchanged, its sidecar's
    /// fetch time (and validators, if the server sent new ones) refreshed.
    NotModified {
        /// The refreshed sidecar.
        meta: CacheMeta,
    },
}

/// A download in progress, passed to the progress callback every progress interval.
#[derive(Debug, Clone, Copy)]
pub struct Progress<'a> {
    /// The source's name.
    pub source: &'a str,
    /// Bytes received so far.
    pub received: u64,
    /// The `Content-Length`, when the server sent one.
    pub total: Option<u64>,
    /// Time since the download started.
    pub elapsed: Duration,
}

/// Downloads sources into a cache directory; see the [module docs](self).
#[derive(Debug)]
pub struct Fetcher {
    client: Client,
    options: FetchOptions,
}

/// One failed attempt, and whether trying again may help.
struct Failure {
    transient: bool,
    error: FetchError,
}

/// What one attempt brought back.
enum Got {
    Body {
        raw: TempFile,
        wire_bytes: u64,
        content_gzip: bool,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    NotModified {
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// A temporary file in the cache directory, removed when dropped (after a successful
/// rename there is nothing left to remove).
struct TempFile {
    path: PathBuf,
}

impl TempFile {
    fn create(dest: &Path, tag: &str) -> io::Result<(TempFile, File)> {
        let path = cache::temp_beside(dest, tag);
        let file = File::create(&path)?;
        Ok((TempFile { path }, file))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

impl Fetcher {
    /// A fetcher with its own HTTP client: rustls with the webpki roots, the standard proxy
    /// environment variables, at most 10 redirects and none from https to http, no automatic
    /// decompression (gzip is undone by the fetcher, with a cap).
    ///
    /// # Errors
    /// [`FetchError::Client`] when the TLS backend cannot be initialised.
    pub fn new(options: FetchOptions) -> Result<Fetcher, FetchError> {
        let client = Client::builder()
            .user_agent(options.user_agent.clone())
            .connect_timeout(options.connect_timeout)
            // The blocking client applies this to the wait for the response head and to
            // every read of the body: a per-read timeout, not a whole-download one.
            .timeout(options.read_timeout)
            .redirect(reqwest::redirect::Policy::custom(|attempt| {
                let downgrade = attempt.url().scheme() == "http"
                    && attempt.previous().iter().any(|u| u.scheme() == "https");
                if downgrade {
                    attempt.error("refusing a redirect from https to plain http")
                } else if attempt.previous().len() >= 10 {
                    attempt.error("more than 10 redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|e| FetchError::Client(error_chain(&e)))?;
        Ok(Fetcher { client, options })
    }

    /// The options this fetcher was made with.
    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// Fetches `entry`'s `url` into `dir` (created if missing); see the [module docs](self).
    /// `progress` is called every progress interval while a body downloads.
    ///
    /// # Errors
    /// A [`FetchError`] naming the source, URL and reason; the cached copy is then untouched.
    pub fn fetch(
        &self,
        entry: &SourceEntry,
        dir: &Path,
        progress: &mut dyn FnMut(&Progress<'_>),
    ) -> Result<FetchOutcome, FetchError> {
        let name = entry.name.as_str();
        let url = entry.url.as_deref().ok_or_else(|| FetchError::NoUrl {
            name: name.to_owned(),
        })?;
        fs::create_dir_all(dir).map_err(|error| FetchError::Cache {
            name: name.to_owned(),
            path: dir.to_path_buf(),
            error,
        })?;
        // Validators are only worth sending for a copy that is really there and intact.
        let previous = cache::inspect(entry, dir).ok();
        let max_bytes = entry.max_bytes.unwrap_or(self.options.max_bytes);
        let dest = cache::body_path(dir, name);

        let mut attempts = 0;
        let got = loop {
            attempts += 1;
            match self.attempt(entry, url, previous.as_ref(), &dest, max_bytes, progress) {
                Ok(got) => break got,
                Err(f) if f.transient && attempts <= self.options.retries => {
                    let factor = 1u32 << (attempts - 1).min(16);
                    std::thread::sleep(self.options.backoff.saturating_mul(factor));
                }
                Err(f) => return Err(with_attempts(f.error, attempts)),
            }
        };

        let now = cache::unix_now();
        match got {
            Got::NotModified {
                etag,
                last_modified,
            } => {
                let Some(mut meta) = previous else {
                    return Err(rejected(
                        entry,
                        url,
                        "the server answered 304 Not Modified to a request without validators"
                            .into(),
                    ));
                };
                meta.fetched_at = now;
                meta.fetched_at_utc = cache::utc_string(now);
                meta.etag = etag.or(meta.etag);
                meta.last_modified = last_modified.or(meta.last_modified);
                meta.write(dir)
                    .map_err(|error| cache_error(name, cache::sidecar_path(dir, name), error))?;
                Ok(FetchOutcome::NotModified { meta })
            }
            Got::Body {
                raw,
                wire_bytes,
                content_gzip,
                etag,
                last_modified,
            } => {
                let (plain, gunzipped) =
                    self.gunzip(entry, url, raw, content_gzip, &dest, max_bytes)?;
                let records = self.check_content(entry, url, &plain.path, previous.as_ref())?;
                let (sha256, bytes) = cache::sha256_file(&plain.path)
                    .map_err(|error| cache_error(name, plain.path.clone(), error))?;
                let meta = CacheMeta {
                    version: SIDECAR_VERSION,
                    source: name.to_owned(),
                    format: entry.format.as_str().to_owned(),
                    url: url.to_owned(),
                    fetched_at: now,
                    fetched_at_utc: cache::utc_string(now),
                    downloaded_at: now,
                    etag,
                    last_modified,
                    gunzipped,
                    wire_bytes,
                    sha256,
                    bytes,
                    records,
                };
                // Both files are complete and synced before either is renamed into place, so
                // only a failing rename between the two could leave them disagreeing (then
                // the SHA-256 check refuses the copy until the next good fetch).
                let sidecar = cache::sidecar_path(dir, name);
                let (meta_tmp, mut file) = TempFile::create(&sidecar, "meta")
                    .map_err(|error| cache_error(name, sidecar.clone(), error))?;
                file.write_all(meta.to_json().as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|error| cache_error(name, meta_tmp.path.clone(), error))?;
                drop(file);
                cache::persist(&plain.path, &dest)
                    .map_err(|error| cache_error(name, dest.clone(), error))?;
                cache::persist(&meta_tmp.path, &sidecar)
                    .map_err(|error| cache_error(name, sidecar.clone(), error))?;
                Ok(FetchOutcome::Updated {
                    meta,
                    previous: previous.map(Box::new),
                })
            }
        }
    }

    /// One request: the response head, then the body streamed into a temporary file.
    fn attempt(
        &self,
        entry: &SourceEntry,
        url: &str,
        previous: Option<&CacheMeta>,
        dest: &Path,
        max_bytes: u64,
        progress: &mut dyn FnMut(&Progress<'_>),
    ) -> Result<Got, Failure> {
        let name = entry.name.as_str();
        let transport = |transient: bool, reason: String| Failure {
            transient,
            error: FetchError::Transport {
                name: name.to_owned(),
                url: url.to_owned(),
                attempts: 0,
                reason,
            },
        };
        // We undo gzip ourselves, with a cap; reqwest's own decompression is not compiled in.
        let mut request = self.client.get(url).header(ACCEPT_ENCODING, "gzip");
        if let Some(p) = previous {
            if let Some(etag) = &p.etag {
                request = request.header(IF_NONE_MATCH, etag.as_str());
            }
            if let Some(lm) = &p.last_modified {
                request = request.header(IF_MODIFIED_SINCE, lm.as_str());
            }
        }
        let started = Instant::now();
        let mut response = request.send().map_err(|e| {
            // The error names the URL already.
            let e = e.without_url();
            let transient = e.is_timeout() || e.is_connect() || e.is_request();
            transport(transient, describe(&e, self.options.read_timeout))
        })?;
        let status = response.status();
        let etag = header(response.headers(), ETAG);
        let last_modified = header(response.headers(), LAST_MODIFIED);
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Got::NotModified {
                etag,
                last_modified,
            });
        }
        if status != StatusCode::OK {
            return Err(Failure {
                transient: status.is_server_error(),
                error: FetchError::Status {
                    name: name.to_owned(),
                    url: url.to_owned(),
                    status: status.to_string(),
                    attempts: 0,
                },
            });
        }
        let content_gzip = match header(response.headers(), CONTENT_ENCODING)
            .map(|v| v.to_ascii_lowercase())
            .as_deref()
        {
            None | Some("identity") => false,
            Some("gzip" | "x-gzip") => true,
            Some(other) => {
                return Err(Failure {
                    transient: false,
                    error: rejected(
                        entry,
                        url,
                        format!("unsupported Content-Encoding '{other}' (only gzip is undone)"),
                    ),
                })
            }
        };
        let total = response.content_length();
        if total.is_some_and(|n| n > max_bytes) {
            return Err(Failure {
                transient: false,
                error: too_large(entry, url, "body", max_bytes),
            });
        }
        let (raw, file) = TempFile::create(dest, "download")
            .map_err(|error| permanent(cache_error(name, dest.to_path_buf(), error)))?;
        let mut out = BufWriter::new(file);
        let received = self.stream_body(
            entry,
            url,
            &mut response,
            (&mut out, &raw.path),
            total,
            max_bytes,
            started,
            progress,
        )?;
        out.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(|error| permanent(cache_error(name, raw.path.clone(), error)))?;
        if let Some(total) = total {
            if received < total {
                return Err(transport(
                    true,
                    format!(
                        "truncated body: the connection closed after {received} of {total} bytes"
                    ),
                ));
            }
        }
        Ok(Got::Body {
            raw,
            wire_bytes: received,
            content_gzip,
            etag,
            last_modified,
        })
    }

    /// Copies the body to `out`, enforcing the size cap and the whole-download time limit and
    /// reporting progress; returns the bytes received.
    #[allow(clippy::too_many_arguments)] // one private call site; a struct would only rename them
    fn stream_body(
        &self,
        entry: &SourceEntry,
        url: &str,
        response: &mut Response,
        (out, out_path): (&mut impl Write, &Path),
        total: Option<u64>,
        max_bytes: u64,
        started: Instant,
        progress: &mut dyn FnMut(&Progress<'_>),
    ) -> Result<u64, Failure> {
        let name = entry.name.as_str();
        let broke = |reason: String| Failure {
            transient: true,
            error: FetchError::Transport {
                name: name.to_owned(),
                url: url.to_owned(),
                attempts: 0,
                reason,
            },
        };
        let mut buf = vec![0u8; BLOCK];
        let mut received = 0u64;
        let mut last_report = Instant::now();
        loop {
            let n = match response.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let of = total.map_or_else(String::new, |t| format!(" of {t}"));
                    return Err(broke(format!(
                        "the body broke off after {received}{of} bytes: {}",
                        io_reason(&e, self.options.read_timeout)
                    )));
                }
            };
            received += n as u64;
            if received > max_bytes {
                return Err(permanent(too_large(entry, url, "body", max_bytes)));
            }
            out.write_all(&buf[..n])
                .map_err(|error| permanent(cache_error(name, out_path.to_path_buf(), error)))?;
            if started.elapsed() > self.options.total_timeout {
                return Err(broke(format!(
                    "the download took longer than {} s ({received} bytes received)",
                    self.options.total_timeout.as_secs()
                )));
            }
            if last_report.elapsed() >= self.options.progress_interval {
                last_report = Instant::now();
                progress(&Progress {
                    source: name,
                    received,
                    total,
                    elapsed: started.elapsed(),
                });
            }
        }
        Ok(received)
    }

    /// Undoes gzip (transfer encoding or a `.gz` body) into a second temporary file, capping
    /// the inflated size; returns the plain file and how it was gzipped.
    fn gunzip(
        &self,
        entry: &SourceEntry,
        url: &str,
        raw: TempFile,
        content_gzip: bool,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<(TempFile, Option<String>), FetchError> {
        let name = entry.name.as_str();
        let gzip_file = starts_with(&raw.path, &GZIP_MAGIC)
            .map_err(|error| cache_error(name, raw.path.clone(), error))?;
        if !content_gzip && !gzip_file {
            return Ok((raw, None));
        }
        let how = if content_gzip {
            "content-encoding"
        } else {
            "gzip-file"
        };
        let (plain, file) = TempFile::create(dest, "plain")
            .map_err(|error| cache_error(name, dest.to_path_buf(), error))?;
        let source =
            File::open(&raw.path).map_err(|error| cache_error(name, raw.path.clone(), error))?;
        let mut gunzip = flate2::read::MultiGzDecoder::new(BufReader::new(source));
        let mut out = BufWriter::new(file);
        let mut buf = vec![0u8; BLOCK];
        let mut inflated = 0u64;
        loop {
            let n = match gunzip.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(rejected(
                        entry,
                        url,
                        format!(
                            "the gzip stream is corrupt or truncated after {inflated} inflated \
                             bytes ({e})"
                        ),
                    ))
                }
            };
            inflated += n as u64;
            if inflated > max_bytes {
                return Err(too_large(entry, url, "gunzipped body", max_bytes));
            }
            out.write_all(&buf[..n])
                .map_err(|error| cache_error(name, plain.path.clone(), error))?;
        }
        out.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(|error| cache_error(name, plain.path.clone(), error))?;
        drop(raw);
        Ok((plain, Some(how.to_owned())))
    }

    /// The content check; returns the record count.
    fn check_content(
        &self,
        entry: &SourceEntry,
        url: &str,
        plain: &Path,
        previous: Option<&CacheMeta>,
    ) -> Result<u64, FetchError> {
        let name = entry.name.as_str();
        let format = entry.format.as_str();
        let refuse = |reason: String| rejected(entry, url, reason);
        let mut head = Vec::with_capacity(1024);
        File::open(plain)
            .and_then(|f| f.take(1024).read_to_end(&mut head))
            .map_err(|error| cache_error(name, plain.to_path_buf(), error))?;
        if head.is_empty() {
            return Err(refuse("the body is empty".into()));
        }
        if let Some(kind) = markup(&head) {
            return Err(refuse(format!(
                "the body is {kind}, not {format} data (an error or login page served with 200?)"
            )));
        }
        if head.starts_with(&GZIP_MAGIC) {
            return Err(refuse(
                "the body is gzip inside gzip; no source is published like that".into(),
            ));
        }
        // Parse it exactly as `ipsieve build` will, into a builder that is then dropped.
        let mut probe = entry.clone();
        probe.path = Some(plain.to_path_buf());
        probe.enabled = Some(true);
        let mut scratch = Builder::new();
        let report = load::load_source(&probe, &mut scratch).map_err(|e| refuse(e.to_string()))?;
        if let Some(fatal) = &report.fatal {
            return Err(refuse(format!(
                "the body does not parse to its end as {format} (truncated, or not this format): \
                 {fatal}"
            )));
        }
        if report.read == 0 {
            let why = report
                .errors
                .first()
                .map_or_else(String::new, |e| format!("; first rejected entry: {e}"));
            return Err(refuse(format!("no {format} records in the body{why}")));
        }
        let seen = u128::from(report.read) + u128::from(report.rejected);
        if u128::from(report.rejected) * 100 > seen * u128::from(self.options.max_rejected_pct) {
            return Err(refuse(format!(
                "{} of {seen} entries rejected (more than {} %), e.g. {}",
                report.rejected,
                self.options.max_rejected_pct,
                report.errors.first().map_or("?", String::as_str)
            )));
        }
        if let Some(prev) = previous {
            let pct = entry.shrink_threshold_pct();
            if u128::from(report.read) * 100 < u128::from(prev.records) * u128::from(100 - pct) {
                return Err(refuse(format!(
                    "{} records, down from {} in the cached copy of {}: more than {pct} % fewer \
                     (set `max_shrink_pct` for this source if that is expected)",
                    report.read, prev.records, prev.fetched_at_utc
                )));
            }
        }
        Ok(report.read)
    }
}

/// `"an HTML page"` / `"markup (XML?)"` when the body's first non-blank byte opens a tag: no
/// format ipsieve reads starts with `<`.
fn markup(head: &[u8]) -> Option<&'static str> {
    let text = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    let start = text.iter().position(|b| !b.is_ascii_whitespace())?;
    if text[start] != b'<' {
        return None;
    }
    let lower = String::from_utf8_lossy(&text[start..]).to_ascii_lowercase();
    if [
        "<!doctype html",
        "<html",
        "<head",
        "<body",
        "<title",
        "<meta",
    ]
    .iter()
    .any(|t| lower.starts_with(t))
        || lower.contains("<html")
    {
        Some("an HTML page")
    } else {
        Some("markup (XML?)")
    }
}

fn starts_with(path: &Path, magic: &[u8]) -> io::Result<bool> {
    let mut head = Vec::with_capacity(magic.len());
    File::open(path)?
        .take(magic.len() as u64)
        .read_to_end(&mut head)?;
    Ok(head == magic)
}

fn header(headers: &HeaderMap, name: reqwest::header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn rejected(entry: &SourceEntry, url: &str, reason: String) -> FetchError {
    FetchError::Rejected {
        name: entry.name.clone(),
        url: url.to_owned(),
        reason,
    }
}

fn too_large(entry: &SourceEntry, url: &str, what: &'static str, limit: u64) -> FetchError {
    FetchError::TooLarge {
        name: entry.name.clone(),
        url: url.to_owned(),
        what,
        limit,
    }
}

fn cache_error(name: &str, path: PathBuf, error: io::Error) -> FetchError {
    FetchError::Cache {
        name: name.to_owned(),
        path,
        error,
    }
}

fn permanent(error: FetchError) -> Failure {
    Failure {
        transient: false,
        error,
    }
}

fn with_attempts(error: FetchError, n: u32) -> FetchError {
    match error {
        FetchError::Transport {
            name, url, reason, ..
        } => FetchError::Transport {
            name,
            url,
            attempts: n,
            reason,
        },
        FetchError::Status {
            name, url, status, ..
        } => FetchError::Status {
            name,
            url,
            status,
            attempts: n,
        },
        other => other,
    }
}

/// A reqwest error with its causes, saying "timed out" or "reset" plainly when it was.
fn describe(e: &reqwest::Error, read_timeout: Duration) -> String {
    if e.is_timeout() {
        format!(
            "no response within {:.1} s (timed out)",
            read_timeout.as_secs_f64()
        )
    } else if e.is_connect() {
        format!("cannot connect: {}", error_chain(e))
    } else if was_reset(e) {
        format!(
            "the server reset the connection before the response arrived ({})",
            error_chain(e)
        )
    } else {
        error_chain(e)
    }
}

fn io_reason(e: &io::Error, read_timeout: Duration) -> String {
    if e.kind() == io::ErrorKind::TimedOut || error_chain(e).contains("timed out") {
        format!(
            "no data for {:.1} s (timed out)",
            read_timeout.as_secs_f64()
        )
    } else if was_reset(e) {
        format!("the server reset the connection ({})", error_chain(e))
    } else {
        error_chain(e)
    }
}

/// Whether an I/O error anywhere in `e`'s chain is a reset (`ECONNRESET`, a TCP RST) or an
/// abort of the connection.
fn was_reset(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(c) = cause {
        if let Some(io) = c.downcast_ref::<io::Error>() {
            if matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted
            ) {
                return true;
            }
        }
        cause = c.source();
    }
    false
}

/// `error: cause: cause…`, skipping causes whose text the previous one already contains.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let c = cause.to_string();
        if !text.contains(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
        source = cause.source();
    }
    text
}
