//! `ipsieve fetch`: downloads each source into a cache directory, keeping the previous copy
//! unless the new one is demonstrably good (feature `fetch`).
//!
//! A fetch holds a [`CacheLock`] on the cache directory (an exclusive `flock` on
//! `DIR/.ipsieve-fetch.lock`), so two fetches never interleave their files and sidecars; a
//! second fetch into the same directory fails at once with [`FetchError::Locked`], naming the
//! process that holds it. Per source, a [`Fetcher`]:
//!
//! 1. removes what killed fetches of the source left behind: temporary files beside its copy
//!    and sidecar older than [`crate::STALE_TEMPORARY`], as publish does for artifacts;
//! 2. finds the URL to fetch ([`Fetcher::resolve`]): the manifest's `url`; for a `url` with date
//!    fields, the newest of its candidates (the template filled in at the latest publication
//!    step before now, then one step earlier each time) that exists, asked with `HEAD` (or a
//!    one-byte ranged `GET` where `HEAD` is refused); for an `index`, the link of the index
//!    whose path ends like the `link` pattern and that carries the newest date, the index read
//!    whole up to [`FetchOptions::max_index_bytes`] and only for its links. A dated source
//!    whose newest file is its cached copy's (or older) is not downloaded again:
//!    [`FetchOutcome::Current`]. A failure to find it is a [`FetchError::Resolve`];
//! 3. sends a conditional `GET` (`If-None-Match` / `If-Modified-Since` from the sidecar of the
//!    cached copy, when that copy still matches its SHA-256 and came from the same URL);
//!    `304 Not Modified` keeps the cached file byte for byte and only refreshes the sidecar's
//!    fetch time, and is refused when the request carried no validators;
//! 4. follows at most 10 redirects, never from https to http and never to a host other than
//!    the requested URL's unless the source's `allow_hosts` names it; the sidecar records
//!    where the body came from ([`CacheMeta::final_url`]);
//! 5. retries timeouts (no response head, or no data mid-body, within the read timeout),
//!    connection errors (refused; reset, before the head or mid-body; a body cut short), a
//!    transfer slower than [`FetchOptions::min_rate`] and `5xx` answers, at most
//!    [`FetchOptions::retries`] times with exponential backoff, all within one
//!    [`FetchOptions::deadline`] per download; any other status, and any failure to write the
//!    cache directory (a full disk), fails at once;
//! 6. streams the body to a temporary file in the cache directory, refusing it past
//!    `max_bytes` (per source in the manifest, else [`FetchOptions::max_bytes`]);
//! 7. undoes gzip (`Content-Encoding: gzip`, or a published `.gz` file) with the same cap on
//!    the inflated size, so a gzip bomb stops at the cap; a bzip2 body (RouteViews' `.bz2`
//!    RIB dumps) is cached as fetched, and reading it (at the content check below and in
//!    `ipsieve build`) stops at [`ipsieve_sources::input::MAX_DECOMPRESSED`] bytes;
//! 8. checks the content before anything replaces the cached copy: not empty, not an HTML
//!    (or other markup) page served with `200`, parses to its end with the source's parser
//!    exactly as `ipsieve build` reads it (into a throwaway [`Builder`]), has records, has no
//!    more of its entries rejected than the source's `max_reject_pct` allows (the same count
//!    and limit as `ipsieve build`: [`SourceReport::rejects_more_than`]), and has neither
//!    shrunk by more than `max_shrink_pct` (manifest, default 50 %) nor grown by more than
//!    `max_grow_pct` (manifest, default 200 %) versus the cached copy;
//! 9. only then renames the new file over the cached copy and writes the sidecar, each
//!    atomically (see [`crate::cache`]).
//!
//! A failure leaves the cached copy and its sidecar exactly as they were and is returned as a
//! [`FetchError`] naming the source, the URL and the reason.
//!
//! ```no_run
//! use std::path::Path;
//! use ipsieve_builder::fetch::{CacheLock, FetchOptions, FetchOutcome, Fetcher};
//! use ipsieve_builder::manifest::Manifest;
//!
//! let manifest = Manifest::load(Path::new("sources/default.toml"))?;
//! let fetcher = Fetcher::new(FetchOptions::default())?;
//! let cache = CacheLock::acquire(Path::new("cache"))?;
//! for source in manifest.enabled().filter(|s| s.is_fetched()) {
//!     match fetcher.fetch(source, &cache, &mut |_| {}) {
//!         Ok(FetchOutcome::Updated { meta, .. }) => println!("{}: {} records", meta.source, meta.records),
//!         Ok(FetchOutcome::NotModified { meta }) => println!("{}: not modified", meta.source),
//!         Ok(FetchOutcome::Current { meta, .. }) => println!("{}: {} is the newest", meta.source, meta.url),
//!         Err(e) => eprintln!("{e}"),
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, Response};
use reqwest::header::{
    HeaderMap, HeaderValue, ACCEPT_ENCODING, CONTENT_ENCODING, ETAG, IF_MODIFIED_SINCE,
    IF_NONE_MATCH, LAST_MODIFIED, LOCATION, RANGE,
};
use reqwest::{Method, StatusCode, Url};

use ipsieve_sources::input;

use crate::builder::Builder;
use crate::cache::{self, CacheMeta, SIDECAR_VERSION};
use crate::dated::{self, LinkMatcher, Pattern};
use crate::load;
use crate::manifest::{SourceEntry, DEFAULT_CANDIDATES};
#[cfg(doc)]
use crate::report::SourceReport;
use crate::write::Temporary;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const BLOCK: usize = 64 << 10;
/// Redirects followed per request.
const MAX_REDIRECTS: usize = 10;
/// The lock file of a cache directory (a name no source can have: names never start with `.`).
pub const LOCK_FILE: &str = ".ipsieve-fetch.lock";

/// Limits and retry policy of a [`Fetcher`]; every setter returns the updated value.
///
/// ```
/// use std::time::Duration;
/// use ipsieve_builder::fetch::FetchOptions;
///
/// let options = FetchOptions::default()
///     .timeout(Duration::from_secs(10))
///     .deadline(Duration::from_secs(600))
///     .min_rate(1024, Duration::from_secs(30))
///     .retries(2)
///     .max_bytes(64 << 20);
/// assert_eq!(options.max_bytes_default(), 64 << 20);
/// ```
#[derive(Debug, Clone)]
pub struct FetchOptions {
    connect_timeout: Duration,
    read_timeout: Duration,
    deadline: Duration,
    min_rate: u64,
    min_rate_window: Duration,
    retries: u32,
    backoff: Duration,
    max_bytes: u64,
    max_index_bytes: u64,
    progress_interval: Duration,
    user_agent: String,
    now: Option<u64>,
}

impl Default for FetchOptions {
    /// Connect 10 s, read 30 s, 30 min per download (every attempt included), at least
    /// 1 KiB/s over every 60 s, 3 retries from 1 s backoff, 256 MiB per body, 8 MiB per index,
    /// progress every second, the system clock.
    fn default() -> Self {
        FetchOptions {
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            deadline: Duration::from_secs(30 * 60),
            min_rate: 1024,
            min_rate_window: Duration::from_secs(60),
            retries: 3,
            backoff: Duration::from_secs(1),
            max_bytes: ipsieve_sources::input::MAX_DOCUMENT,
            max_index_bytes: 8 << 20,
            progress_interval: Duration::from_secs(1),
            user_agent: format!("ipsieve/{}", env!("CARGO_PKG_VERSION")),
            now: None,
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
    /// Sets the longest one source's download may take, every attempt and backoff included
    /// (a trickling server). It is checked after each read, so a silent server overruns it by
    /// at most the read timeout.
    #[must_use]
    pub fn deadline(mut self, d: Duration) -> Self {
        self.deadline = d;
        self
    }
    /// Sets the slowest transfer accepted: a body that brings fewer than `bytes_per_sec` bytes
    /// a second over any `window` is cut off (and retried, within the deadline). 0 turns the
    /// check off.
    #[must_use]
    pub fn min_rate(mut self, bytes_per_sec: u64, window: Duration) -> Self {
        self.min_rate = bytes_per_sec;
        self.min_rate_window = window;
        self
    }
    /// Sets how many times a timeout, connection error, slow transfer or `5xx` is retried
    /// (0: never).
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
    /// Sets the largest index (a creation log, a directory listing, a download page) read to
    /// find a dated source's newest file.
    #[must_use]
    pub fn max_index_bytes(mut self, n: u64) -> Self {
        self.max_index_bytes = n;
        self
    }
    /// Sets how often the progress callback is called during a download.
    #[must_use]
    pub fn progress_interval(mut self, d: Duration) -> Self {
        self.progress_interval = d;
        self
    }
    /// Sets the time, in Unix seconds, from which a dated `url`'s candidates are counted back
    /// (default: the system clock when each source is resolved).
    #[must_use]
    pub fn now(mut self, unix_secs: u64) -> Self {
        self.now = Some(unix_secs);
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
    /// The source has neither a `url` nor an `index`.
    #[error("source '{name}': no `url` or `index` in the manifest, nothing to fetch")]
    NoUrl {
        /// The source's name.
        name: String,
    },
    /// No response, or the body broke off: timeouts, refused or reset connections, a body
    /// shorter than its `Content-Length`, a transfer slower than the minimum rate or past the
    /// deadline.
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
    /// A redirect the source does not allow: to another host than the requested URL's (and
    /// not in its `allow_hosts`), from https to http, or too many.
    #[error("source '{name}': GET {url}: {reason}")]
    Redirect {
        /// The source's name.
        name: String,
        /// The URL requested.
        url: String,
        /// Which redirect was refused, and what to do.
        reason: String,
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
    /// mostly rejected, shrunk or grown past the thresholds), or a `304` answered a request
    /// without validators.
    #[error("source '{name}': GET {url}: {reason}")]
    Rejected {
        /// The source's name.
        name: String,
        /// The URL requested.
        url: String,
        /// Why the body was refused.
        reason: String,
    },
    /// A dated source's newest file could not be found: its index is unreachable, too large
    /// or lists no matching link (an error page?), its newest link points to a host that is not
    /// allowed, or none of its template's candidates exists. Nothing was downloaded.
    #[error("source '{name}': cannot find its newest file ({origin}): {reason}")]
    Resolve {
        /// The source's name.
        name: String,
        /// What the manifest says to search: the `url` template, or the `index` and `link`.
        origin: String,
        /// What went wrong.
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
    /// Another fetch holds the cache directory's lock.
    #[error("the cache directory {} is in use by another `ipsieve fetch` ({holder}; lock file {}): wait for it to finish, or fetch into another --cache", .dir.display(), .path.display())]
    Locked {
        /// The cache directory.
        dir: PathBuf,
        /// Its lock file.
        path: PathBuf,
        /// Who holds the lock, as it wrote into the lock file (`pid N since TIME`).
        holder: String,
    },
    /// The cache directory or its lock file cannot be created or locked.
    #[error("cannot use the cache directory {}: {error}", .path.display())]
    CacheDir {
        /// The directory or lock file.
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
    /// The name of the source that failed (`None` for the errors of the cache directory and
    /// of the client).
    pub fn source_name(&self) -> Option<&str> {
        match self {
            FetchError::NoUrl { name }
            | FetchError::Transport { name, .. }
            | FetchError::Status { name, .. }
            | FetchError::Redirect { name, .. }
            | FetchError::TooLarge { name, .. }
            | FetchError::Rejected { name, .. }
            | FetchError::Resolve { name, .. }
            | FetchError::Cache { name, .. } => Some(name),
            FetchError::Locked { .. } | FetchError::CacheDir { .. } | FetchError::Client(_) => None,
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
    /// A dated source whose newest file upstream is the cached copy's, or older: nothing was
    /// downloaded and the cache is unchanged. Whether that is a failure depends on how old
    /// the copy is ([`CacheMeta::stale_days`]).
    Current {
        /// The cached copy's sidecar, unchanged.
        meta: CacheMeta,
        /// The newest file found upstream.
        newest: Resolved,
    },
}

/// The URL a source fetches now ([`Fetcher::resolve`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The URL: the manifest's `url`, its template filled in, or the link taken from its
    /// index.
    pub url: String,
    /// For a dated source: the date and time the URL carries, Unix seconds.
    pub date: Option<u64>,
    /// For a source with an `index`: the index read (after redirects).
    pub index: Option<String>,
    /// For a `url` template: the newer candidates that did not exist (`404` / `410`).
    pub missing: u32,
}

impl Resolved {
    /// [`Resolved::date`] as `YYYY-MM-DDTHH:MM:SSZ`.
    pub fn date_utc(&self) -> Option<String> {
        self.date.map(cache::utc_string)
    }
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

/// An exclusive lock on a cache directory, held while it lives: the `flock` of
/// `DIR/.ipsieve-fetch.lock` ([`LOCK_FILE`]). The kernel releases it when the process ends,
/// however it ends, so a killed fetch never leaves the directory locked.
#[derive(Debug)]
pub struct CacheLock {
    dir: PathBuf,
    // Holding the open file holds the lock.
    _file: File,
}

impl CacheLock {
    /// Creates `dir` if needed and takes its lock without waiting, then writes `pid N since
    /// TIME` into the lock file for the message another fetch prints.
    ///
    /// # Errors
    /// [`FetchError::Locked`] when another process (or another `CacheLock` of this one) holds
    /// it; [`FetchError::CacheDir`] when the directory or lock file cannot be created or
    /// locked.
    pub fn acquire(dir: &Path) -> Result<CacheLock, FetchError> {
        let path = dir.join(LOCK_FILE);
        let failed = |path: &Path| {
            let path = path.to_path_buf();
            move |error| FetchError::CacheDir { path, error }
        };
        fs::create_dir_all(dir).map_err(failed(dir))?;
        let file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(failed(&path))?;
        // Called through the trait: std's inherent `File::try_lock` needs Rust 1.89.
        match fs4::FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(fs4::TryLockError::WouldBlock) => {
                // The holder writes its line just after locking: wait a moment for a new one.
                let mut holder = String::new();
                for _ in 0..5 {
                    let text = fs::read_to_string(&path).unwrap_or_default();
                    holder = text.lines().next().unwrap_or("").trim().to_owned();
                    if !holder.is_empty() {
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                if holder.is_empty() {
                    "another process".clone_into(&mut holder);
                }
                return Err(FetchError::Locked {
                    dir: dir.to_path_buf(),
                    path,
                    holder,
                });
            }
            Err(fs4::TryLockError::Error(e)) => return Err(failed(&path)(e)),
        }
        let stamp = format!(
            "pid {} since {}\n",
            std::process::id(),
            cache::utc_string(cache::unix_now())
        );
        // Only informative: a failure to write it does not weaken the lock. Written over the
        // previous holder's line, then cut to length, so that a reader never finds it empty.
        let _ = (&file)
            .seek(io::SeekFrom::Start(0))
            .and_then(|_| (&file).write_all(stamp.as_bytes()))
            .and_then(|()| file.set_len(stamp.len() as u64));
        Ok(CacheLock {
            dir: dir.to_path_buf(),
            _file: file,
        })
    }

    /// The locked cache directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
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
        raw: Temporary,
        wire_bytes: u64,
        content_gzip: bool,
        etag: Option<String>,
        last_modified: Option<String>,
        final_url: String,
    },
    NotModified {
        etag: Option<String>,
        last_modified: Option<String>,
    },
}

/// Whether a candidate URL exists.
enum Probe {
    Found,
    Missing,
}

/// A response body being read: a source's data or an index.
struct Body<'a> {
    /// `"body"` or `"index"`, for messages.
    what: &'static str,
    /// The URL requested.
    url: &'a str,
    /// The `Content-Length`, when the server sent one.
    total: Option<u64>,
    /// The most bytes accepted.
    cap: u64,
    /// When the request was sent.
    started: Instant,
    /// The download's deadline.
    until: Instant,
}

impl Body<'_> {
    /// The failure for a body past its cap: `max_bytes` for data, `--max-index-bytes` for an
    /// index. Not retried.
    fn too_large(&self, entry: &SourceEntry) -> Failure {
        permanent(if self.what == "index" {
            rejected(
                entry,
                self.url,
                format!(
                    "the index is larger than {} bytes (--max-index-bytes)",
                    self.cap
                ),
            )
        } else {
            too_large(entry, self.url, "body", self.cap)
        })
    }
}

/// Whether `host` may be reached from `from` for `entry`: the same host, or one its
/// `allow_hosts` names (`*.example.org` covers every subdomain of example.org).
fn host_allowed(entry: &SourceEntry, from: &Url, to: &Url) -> bool {
    let (Some(from), Some(to)) = (from.host_str(), to.host_str()) else {
        return false;
    };
    from.eq_ignore_ascii_case(to)
        || entry
            .allow_hosts
            .iter()
            .flatten()
            .any(|h| match h.strip_prefix("*.") {
                Some(domain) => to
                    .to_ascii_lowercase()
                    .strip_suffix(domain)
                    .is_some_and(|sub| sub.ends_with('.')),
                None => h.eq_ignore_ascii_case(to),
            })
}

/// The tokens of an index that may be links: runs of characters between white space, quotes,
/// angle brackets, parentheses and backquotes.
fn link_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || "\"'<>()`".contains(c))
        .filter(|t| !t.is_empty())
}

impl Fetcher {
    /// A fetcher with its own HTTP client: rustls with the webpki roots, the standard proxy
    /// environment variables, no automatic decompression (gzip is undone by the fetcher, with
    /// a cap) and no automatic redirects (the fetcher follows them itself, per source).
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
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| FetchError::Client(error_chain(&e)))?;
        Ok(Fetcher { client, options })
    }

    /// The options this fetcher was made with.
    pub fn options(&self) -> &FetchOptions {
        &self.options
    }

    /// The URL `entry` fetches now, without downloading it: its `url`; for a `url` with date
    /// fields the newest candidate that exists; for an `index` the matching link with the
    /// newest date (see the [module docs](self)).
    ///
    /// # Errors
    /// [`FetchError::NoUrl`] for a source with neither `url` nor `index`; otherwise
    /// [`FetchError::Resolve`], whose reason says what failed (the index unreachable, too
    /// large, or without a matching link; a link to a host that is not allowed; no candidate
    /// that exists).
    pub fn resolve(&self, entry: &SourceEntry) -> Result<Resolved, FetchError> {
        let origin = entry.origin().ok_or_else(|| FetchError::NoUrl {
            name: entry.name.clone(),
        })?;
        let found = match (&entry.index, entry.url.as_deref().unwrap_or_default()) {
            (Some(index), _) => self.resolve_index(entry, index),
            (None, url) => match Pattern::parse(url, false) {
                Ok(p) if p.is_dated() => self.resolve_template(entry, &p),
                Ok(_) => {
                    return Ok(Resolved {
                        url: url.to_owned(),
                        date: None,
                        index: None,
                        missing: 0,
                    })
                }
                Err(e) => Err(reason(entry, e)),
            },
        };
        found.map_err(|e| {
            if let FetchError::Resolve { .. } = e {
                return e;
            }
            let text = e.to_string();
            let prefix = format!("source '{}': ", entry.name);
            FetchError::Resolve {
                name: entry.name.clone(),
                origin,
                reason: text.strip_prefix(&prefix).unwrap_or(&text).to_owned(),
            }
        })
    }

    /// The newest candidate of a `url` template that exists.
    fn resolve_template(
        &self,
        entry: &SourceEntry,
        template: &Pattern,
    ) -> Result<Resolved, FetchError> {
        let step = dated::parse_step(entry.publication_step.as_deref().unwrap_or("1d"))
            .map_err(|e| reason(entry, format!("publication_step {e}")))?;
        let offset = dated::parse_step(entry.publication_offset.as_deref().unwrap_or("0m"))
            .map_err(|e| reason(entry, format!("publication_offset {e}")))?;
        let count = entry.candidates.unwrap_or(DEFAULT_CANDIDATES);
        let now = self.options.now.unwrap_or_else(cache::unix_now);
        let times = dated::candidates(now, step, offset, count);
        let mut missing = 0;
        for &t in &times {
            let url = template.expand(t);
            match self.with_retries(None, || self.probe(entry, &url))? {
                Probe::Found => {
                    return Ok(Resolved {
                        url,
                        date: Some(t),
                        index: None,
                        missing,
                    })
                }
                Probe::Missing => missing += 1,
            }
        }
        let span = match (times.first(), times.last()) {
            (Some(&newest), Some(&oldest)) => format!(
                "from {} back to {}",
                template.expand(newest),
                template.expand(oldest)
            ),
            _ => "(no candidate before now)".to_owned(),
        };
        Err(reason(
            entry,
            format!(
                "none of the {} candidates exists ({span}: each answered 404 or 410); upstream \
                 stopped publishing, or raise `candidates`",
                times.len()
            ),
        ))
    }

    /// Whether `url` exists: `HEAD`, or a one-byte ranged `GET` where `HEAD` is refused.
    fn probe(&self, entry: &SourceEntry, url: &str) -> Result<Probe, Failure> {
        let mut status = self
            .send(entry, Method::HEAD, url, HeaderMap::new())?
            .0
            .status();
        if matches!(
            status,
            StatusCode::METHOD_NOT_ALLOWED | StatusCode::NOT_IMPLEMENTED
        ) {
            let mut range = HeaderMap::new();
            range.insert(RANGE, HeaderValue::from_static("bytes=0-0"));
            // The response is dropped unread: the connection closes, nothing is downloaded.
            status = self.send(entry, Method::GET, url, range)?.0.status();
        }
        match status {
            s if s.is_success() => Ok(Probe::Found),
            StatusCode::NOT_FOUND | StatusCode::GONE => Ok(Probe::Missing),
            s => Err(Failure {
                transient: s.is_server_error(),
                error: FetchError::Status {
                    name: entry.name.clone(),
                    url: url.to_owned(),
                    status: s.to_string(),
                    attempts: 0,
                },
            }),
        }
    }

    /// The link of `index` that matches the source's `link` pattern and carries the newest
    /// date.
    fn resolve_index(&self, entry: &SourceEntry, index: &str) -> Result<Resolved, FetchError> {
        let pattern = entry.link.as_deref().unwrap_or_default();
        let matcher = Pattern::parse(pattern, true)
            .and_then(|p| LinkMatcher::new(&p))
            .map_err(|e| reason(entry, format!("link '{pattern}': {e}")))?;
        let until = Instant::now() + self.options.deadline;
        let (body, base) =
            self.with_retries(Some(until), || self.read_index(entry, index, until))?;
        let text = String::from_utf8_lossy(&body).replace("\\/", "/");
        let mut newest: Option<(u64, Url)> = None;
        for token in link_tokens(&text) {
            let Ok(link) = base.join(token) else {
                continue;
            };
            if !matches!(link.scheme(), "http" | "https") {
                continue;
            }
            if let Some(date) = matcher.date(link.path()) {
                if newest.as_ref().is_none_or(|(d, _)| date >= *d) {
                    newest = Some((date, link));
                }
            }
        }
        let Some((date, link)) = newest else {
            return Err(reason(
                entry,
                format!(
                    "GET {index}: no link in the index ({} bytes) matches '{pattern}' (an error \
                     page, or the publisher renamed its files?)",
                    body.len()
                ),
            ));
        };
        if base.scheme() == "https" && link.scheme() == "http" {
            return Err(reason(
                entry,
                format!("GET {index}: the newest link, {link}, would leave https for plain http"),
            ));
        }
        if !host_allowed(entry, &base, &link) {
            let host = link.host_str().unwrap_or_default();
            return Err(reason(
                entry,
                format!(
                    "GET {index}: the newest link, {link}, points to host {host}, not the \
                     index's host {}: add \"{host}\" to allow_hosts for this source if that host \
                     is trusted",
                    base.host_str().unwrap_or_default()
                ),
            ));
        }
        Ok(Resolved {
            url: link.to_string(),
            date: Some(date),
            index: Some(base.to_string()),
            missing: 0,
        })
    }

    /// The index's bytes (at most `max_index_bytes`, within the deadline and at the minimum
    /// rate, like a download) and where they came from.
    fn read_index(
        &self,
        entry: &SourceEntry,
        index: &str,
        until: Instant,
    ) -> Result<(Vec<u8>, Url), Failure> {
        let started = Instant::now();
        let (mut response, at) = self.send(entry, Method::GET, index, HeaderMap::new())?;
        let status = response.status();
        if status != StatusCode::OK {
            return Err(Failure {
                transient: status.is_server_error(),
                error: FetchError::Status {
                    name: entry.name.clone(),
                    url: index.to_owned(),
                    status: status.to_string(),
                    attempts: 0,
                },
            });
        }
        if header(response.headers(), CONTENT_ENCODING)
            .is_some_and(|e| !e.eq_ignore_ascii_case("identity"))
        {
            return Err(permanent(rejected(
                entry,
                index,
                "the index came with a Content-Encoding that was not asked for".into(),
            )));
        }
        let body = Body {
            what: "index",
            url: index,
            total: response.content_length(),
            cap: self.options.max_index_bytes,
            started,
            until,
        };
        if body.total.is_some_and(|n| n > body.cap) {
            return Err(body.too_large(entry));
        }
        let mut bytes = Vec::new();
        let received = self.stream_body(
            entry,
            &mut response,
            &body,
            &mut |block| {
                bytes.extend_from_slice(block);
                Ok(())
            },
            &mut |_| {},
        )?;
        if body.total.is_some_and(|t| received < t) {
            return Err(Failure {
                transient: true,
                error: FetchError::Transport {
                    name: entry.name.clone(),
                    url: index.to_owned(),
                    attempts: 0,
                    reason: format!(
                        "the index broke off after {received} of {} bytes",
                        body.total.unwrap_or_default()
                    ),
                },
            });
        }
        Ok((bytes, at))
    }

    /// Runs `attempt` until it succeeds, fails for good, or has been retried
    /// [`FetchOptions::retries`] times (with exponential backoff, never sleeping past `until`).
    fn with_retries<T>(
        &self,
        until: Option<Instant>,
        mut attempt: impl FnMut() -> Result<T, Failure>,
    ) -> Result<T, FetchError> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            match attempt() {
                Ok(v) => return Ok(v),
                Err(f) if f.transient && attempts <= self.options.retries => {
                    let factor = 1u32 << (attempts - 1).min(16);
                    let wait = self.options.backoff.saturating_mul(factor);
                    if until.is_some_and(|u| Instant::now() + wait >= u) {
                        return Err(with_attempts(f.error, attempts));
                    }
                    std::thread::sleep(wait);
                }
                Err(f) => return Err(with_attempts(f.error, attempts)),
            }
        }
    }

    /// Sends `method` to `url` with `headers`, following the redirects the source allows: at
    /// most [`MAX_REDIRECTS`], never from https to plain http, never to a host other than
    /// `url`'s unless `allow_hosts` names it. Returns the final response and its URL.
    fn send(
        &self,
        entry: &SourceEntry,
        method: Method,
        url: &str,
        headers: HeaderMap,
    ) -> Result<(Response, Url), Failure> {
        let name = entry.name.as_str();
        let refuse = |reason: String| {
            permanent(FetchError::Redirect {
                name: name.to_owned(),
                url: url.to_owned(),
                reason,
            })
        };
        let first = Url::parse(url)
            .map_err(|e| permanent(rejected(entry, url, format!("not a URL ({e})"))))?;
        let mut at = first.clone();
        for _ in 0..=MAX_REDIRECTS {
            let response = self
                .client
                .request(method.clone(), at.clone())
                .headers(headers.clone())
                .send()
                .map_err(|e| {
                    // The error names the URL already.
                    let e = e.without_url();
                    Failure {
                        transient: e.is_timeout() || e.is_connect() || e.is_request(),
                        error: FetchError::Transport {
                            name: name.to_owned(),
                            url: url.to_owned(),
                            attempts: 0,
                            reason: describe(&e, self.options.read_timeout),
                        },
                    }
                })?;
            let status = response.status();
            if !status.is_redirection() || status == StatusCode::NOT_MODIFIED {
                return Ok((response, at));
            }
            let Some(location) = header(response.headers(), LOCATION) else {
                return Ok((response, at));
            };
            let next = at.join(&location).map_err(|e| {
                refuse(format!(
                    "the server answered {status} with a Location that is not a URL ({location:?}: \
                     {e})"
                ))
            })?;
            if at.scheme() == "https" && next.scheme() == "http" {
                return Err(refuse(format!(
                    "refusing a redirect from https to plain http ({next})"
                )));
            }
            if !matches!(next.scheme(), "http" | "https") {
                return Err(refuse(format!("refusing a redirect to {next}")));
            }
            if !host_allowed(entry, &first, &next) {
                let host = next.host_str().unwrap_or_default();
                return Err(refuse(format!(
                    "refusing a redirect to {next}: host {host} is not {}, and the source's \
                     allow_hosts does not name it (add \"{host}\" if the redirect is expected)",
                    first.host_str().unwrap_or_default()
                )));
            }
            at = next;
        }
        Err(refuse(format!("more than {MAX_REDIRECTS} redirects")))
    }

    /// Fetches `entry` into the locked cache directory; see the [module docs](self).
    /// `progress` is called every progress interval while a body downloads.
    ///
    /// # Errors
    /// A [`FetchError`] naming the source, URL and reason; the cached copy is then untouched.
    pub fn fetch(
        &self,
        entry: &SourceEntry,
        cache: &CacheLock,
        progress: &mut dyn FnMut(&Progress<'_>),
    ) -> Result<FetchOutcome, FetchError> {
        let name = entry.name.as_str();
        let dir = cache.dir();
        cache::remove_stale_temporaries(dir, name);
        // Validators are only worth sending for a copy that is really there and intact.
        let previous = cache::inspect(entry, dir).ok();
        let newest = self.resolve(entry)?;
        if let (Some(prev), Some(date)) = (&previous, newest.date) {
            let newer = prev.url_date.is_none_or(|old| date > old) && prev.url != newest.url;
            if !newer {
                return Ok(FetchOutcome::Current {
                    meta: prev.clone(),
                    newest,
                });
            }
        }
        let url = newest.url.as_str();
        let validators = previous.as_ref().filter(|p| p.url == url);
        let max_bytes = entry.max_bytes.unwrap_or(self.options.max_bytes);
        let dest = cache::body_path(dir, name);

        let until = Instant::now() + self.options.deadline;
        let got = self.with_retries(Some(until), || {
            self.attempt(entry, url, validators, &dest, max_bytes, until, progress)
        })?;

        let now = cache::unix_now();
        match got {
            Got::NotModified {
                etag,
                last_modified,
            } => {
                let Some(mut meta) = validators.cloned() else {
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
                final_url,
            } => {
                let (plain, gunzipped) =
                    self.gunzip(entry, url, raw, content_gzip, &dest, max_bytes)?;
                let records = self.check_content(entry, url, plain.path(), previous.as_ref())?;
                let (sha256, bytes) = cache::sha256_file(plain.path())
                    .map_err(|error| cache_error(name, plain.path().to_path_buf(), error))?;
                let meta = CacheMeta {
                    version: SIDECAR_VERSION,
                    source: name.to_owned(),
                    format: entry.format.name.to_owned(),
                    url: url.to_owned(),
                    final_url: Some(final_url),
                    origin: entry.origin(),
                    index: newest.index.clone(),
                    url_date: newest.date,
                    url_date_utc: newest.date_utc(),
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
                let meta_tmp = Temporary::beside(&sidecar);
                let mut file = meta_tmp
                    .create()
                    .map_err(|error| cache_error(name, sidecar.clone(), error))?;
                file.write_all(meta.to_json().as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|error| cache_error(name, meta_tmp.path().to_path_buf(), error))?;
                drop(file);
                plain
                    .persist(&dest)
                    .map_err(|error| cache_error(name, dest.clone(), error))?;
                meta_tmp
                    .persist(&sidecar)
                    .map_err(|error| cache_error(name, sidecar.clone(), error))?;
                Ok(FetchOutcome::Updated {
                    meta,
                    previous: previous.map(Box::new),
                })
            }
        }
    }

    /// One request: the response head, then the body streamed into a temporary file.
    #[allow(clippy::too_many_arguments)] // one private call site; a struct would only rename them
    fn attempt(
        &self,
        entry: &SourceEntry,
        url: &str,
        validators: Option<&CacheMeta>,
        dest: &Path,
        max_bytes: u64,
        until: Instant,
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
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("gzip"));
        let mut validated = false;
        if let Some(p) = validators {
            for (key, value) in [
                (IF_NONE_MATCH, &p.etag),
                (IF_MODIFIED_SINCE, &p.last_modified),
            ] {
                if let Some(v) = value.as_deref().and_then(|v| HeaderValue::from_str(v).ok()) {
                    headers.insert(key, v);
                    validated = true;
                }
            }
        }
        let started = Instant::now();
        let (mut response, final_url) = self.send(entry, Method::GET, url, headers)?;
        let status = response.status();
        let etag = header(response.headers(), ETAG);
        let last_modified = header(response.headers(), LAST_MODIFIED);
        if status == StatusCode::NOT_MODIFIED {
            if !validated {
                // Nothing was asked to be confirmed: keeping the copy and calling it fresh
                // would date old data as new.
                return Err(permanent(rejected(
                    entry,
                    url,
                    "the server answered 304 Not Modified to a request that carried no \
                     validators (the cached copy has no ETag or Last-Modified): nothing \
                     confirmed, the cached copy and its fetch time are left as they were"
                        .into(),
                )));
            }
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
                return Err(permanent(rejected(
                    entry,
                    url,
                    format!("unsupported Content-Encoding '{other}' (only gzip is undone)"),
                )))
            }
        };
        let total = response.content_length();
        if total.is_some_and(|n| n > max_bytes) {
            return Err(permanent(too_large(entry, url, "body", max_bytes)));
        }
        let raw = Temporary::beside(dest);
        let file = raw
            .create()
            .map_err(|error| permanent(cache_error(name, dest.to_path_buf(), error)))?;
        let mut out = BufWriter::new(file);
        let body = Body {
            what: "body",
            url,
            total,
            cap: max_bytes,
            started,
            until,
        };
        let received = self.stream_body(
            entry,
            &mut response,
            &body,
            &mut |block| {
                out.write_all(block)
                    .map_err(|error| permanent(cache_error(name, raw.path().to_path_buf(), error)))
            },
            progress,
        )?;
        out.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(|error| permanent(cache_error(name, raw.path().to_path_buf(), error)))?;
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
            final_url: final_url.to_string(),
        })
    }

    /// Passes the body to `sink` block by block, enforcing the size cap, the minimum rate and
    /// the deadline and reporting progress; returns the bytes received. The same for a data
    /// body (into a temporary file) and an index (into memory): `body.what` names it in errors.
    fn stream_body(
        &self,
        entry: &SourceEntry,
        response: &mut Response,
        body: &Body<'_>,
        sink: &mut dyn FnMut(&[u8]) -> Result<(), Failure>,
        progress: &mut dyn FnMut(&Progress<'_>),
    ) -> Result<u64, Failure> {
        let name = entry.name.as_str();
        let broke = |transient: bool, reason: String| Failure {
            transient,
            error: FetchError::Transport {
                name: name.to_owned(),
                url: body.url.to_owned(),
                attempts: 0,
                reason,
            },
        };
        let of = |received: u64| {
            let of = body.total.map_or_else(String::new, |t| format!(" of {t}"));
            format!("{received}{of}")
        };
        let (min_rate, window) = (self.options.min_rate, self.options.min_rate_window);
        let mut buf = vec![0u8; BLOCK];
        let mut received = 0u64;
        let mut last_report = Instant::now();
        let (mut window_start, mut window_bytes) = (Instant::now(), 0u64);
        loop {
            let n = match response.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(broke(
                        true,
                        format!(
                            "the {} broke off after {} bytes: {}",
                            body.what,
                            of(received),
                            io_reason(&e, self.options.read_timeout)
                        ),
                    ));
                }
            };
            received += n as u64;
            if received > body.cap {
                return Err(body.too_large(entry));
            }
            sink(&buf[..n])?;
            let now = Instant::now();
            if now > body.until {
                return Err(broke(
                    false,
                    format!(
                        "the download passed its deadline of {:.1} s (--deadline) after {} bytes",
                        self.options.deadline.as_secs_f64(),
                        of(received)
                    ),
                ));
            }
            window_bytes += n as u64;
            let spent = now - window_start;
            if min_rate > 0 && spent >= window {
                let rate = window_bytes as f64 / spent.as_secs_f64();
                if rate < min_rate as f64 {
                    return Err(broke(
                        true,
                        format!(
                            "the transfer slowed to {rate:.0} bytes/s over {:.1} s, below the \
                             minimum of {min_rate} bytes/s (--min-rate), after {} bytes",
                            spent.as_secs_f64(),
                            of(received)
                        ),
                    ));
                }
                (window_start, window_bytes) = (now, 0);
            }
            if last_report.elapsed() >= self.options.progress_interval {
                last_report = Instant::now();
                progress(&Progress {
                    source: name,
                    received,
                    total: body.total,
                    elapsed: body.started.elapsed(),
                });
            }
        }
        Ok(received)
    }

    /// Undoes gzip (transfer encoding or a `.gz` body) into a second temporary file, capping
    /// the inflated size with the capped gunzip every input goes through
    /// ([`ipsieve_sources::input::gunzip_with_limit`]); returns the plain file and how it was
    /// gzipped.
    fn gunzip(
        &self,
        entry: &SourceEntry,
        url: &str,
        raw: Temporary,
        content_gzip: bool,
        dest: &Path,
        max_bytes: u64,
    ) -> Result<(Temporary, Option<String>), FetchError> {
        let name = entry.name.as_str();
        let gzip_file = starts_with(raw.path(), &GZIP_MAGIC)
            .map_err(|error| cache_error(name, raw.path().to_path_buf(), error))?;
        if !content_gzip && !gzip_file {
            return Ok((raw, None));
        }
        let how = if content_gzip {
            "content-encoding"
        } else {
            "gzip-file"
        };
        let plain = Temporary::beside(dest);
        let file = plain
            .create()
            .map_err(|error| cache_error(name, dest.to_path_buf(), error))?;
        let source = File::open(raw.path())
            .map_err(|error| cache_error(name, raw.path().to_path_buf(), error))?;
        let mut gunzip = input::gunzip_with_limit(BufReader::new(source), max_bytes);
        let mut out = BufWriter::new(file);
        let mut buf = vec![0u8; BLOCK];
        let mut inflated = 0u64;
        loop {
            let n = match gunzip.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) if input::over_limit(&e).is_some() => {
                    return Err(too_large(entry, url, "gunzipped body", max_bytes));
                }
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
            out.write_all(&buf[..n])
                .map_err(|error| cache_error(name, plain.path().to_path_buf(), error))?;
        }
        out.into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all())
            .map_err(|error| cache_error(name, plain.path().to_path_buf(), error))?;
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
        let format = entry.format.name;
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
        // Too many rejected entries already failed `load_source` above, with the count and
        // limit `ipsieve build` applies.
        if let Some(prev) = previous {
            let (now, before) = (u128::from(report.read), u128::from(prev.records));
            let shrink = entry.shrink_threshold_pct();
            if now * 100 < before * u128::from(100 - shrink) {
                return Err(refuse(format!(
                    "{} records, down from {} in the cached copy of {}: more than {shrink} % \
                     fewer (set `max_shrink_pct` for this source if that is expected)",
                    report.read, prev.records, prev.fetched_at_utc
                )));
            }
            let grow = entry.grow_threshold_pct();
            if now * 100 > before * (100 + u128::from(grow)) {
                return Err(refuse(format!(
                    "{} records, up from {} in the cached copy of {}: more than {grow} % more \
                     (set `max_grow_pct` for this source if that is expected)",
                    report.read, prev.records, prev.fetched_at_utc
                )));
            }
        }
        Ok(report.read)
    }
}

/// An error of `entry` with a reason but no request (an invalid pattern, nothing found), to
/// be wrapped as [`FetchError::Resolve`].
fn reason(entry: &SourceEntry, reason: String) -> FetchError {
    FetchError::Resolve {
        name: entry.name.clone(),
        origin: entry.origin().unwrap_or_default(),
        reason,
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
