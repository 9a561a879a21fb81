//! Hot reload: a [`SharedDatabase`] handle that services keep, which swaps to a new artifact
//! when asked ([`SharedDatabase::reload`]) or when a polling thread notices that the file was
//! replaced, and never serves a half-written or invalid one.
//!
//! # How to replace the file
//! Write the new artifact to a temporary file in the same directory, fsync it, then rename it
//! over the old path (what `ipsieve build` and `ipsieve_builder::write::publish` do): a reader
//! never sees a half-written file. By default each file is read into private memory
//! ([`Database::open`]), so nothing done to the file afterwards affects the artifact being
//! served. With the `unsafe` opt-in [`ReloadConfig::mapped`], files are mapped instead, and
//! then a file must never be modified, truncated or `cp`-ed over in place: every mapping of it
//! sees the change, which is undefined behaviour for the lookups already running and can kill
//! the process with `SIGBUS` (a rename leaves the old inode, and the mappings of it, intact).
//! Swapping a symbolic link with `ln -sfn` works too: the path is resolved at every check.
//! Anything at the path that is not a regular file (a FIFO, a device) is refused without
//! blocking and counted as a failure.
//!
//! # What a reload does
//! 1. Stats the path (before opening it, so a replacement racing with the reload is seen again
//!    at the next check instead of being missed).
//! 2. Opens it with [`Database::open`] (or [`Database::open_mmap`]), which validates the header
//!    and every section, and then, unless [`ReloadConfig::verify`] is off, runs
//!    [`Database::verify`] (the whole-file checksum and every trie node: an O(file) pass of a
//!    few milliseconds per 10 MB, off the lookup path).
//! 3. On success, swaps the new [`Database`] in: lookups that start afterwards see it, lookups
//!    that hold the old one (an [`Arc<Database>`] from [`SharedDatabase::load`]) finish on the
//!    old copy, which is freed when the last of them drops it. The success counter grows.
//! 4. On failure, keeps serving the old artifact, adds one to the failure counter and stores the
//!    error ([`SharedDatabase::last_error`]). Nothing is retried until the file changes again or
//!    [`SharedDatabase::reload`] is called.
//!
//! # Polling
//! By default a background thread named `ipsieve-reload` checks the path every
//! [`DEFAULT_POLL_INTERVAL`] (5 seconds; [`ReloadConfig::poll_interval`] changes or disables it).
//! A check is one `stat` call; it reloads when the file's identity differs from the one last
//! loaded: on Unix the device and inode numbers, the length and the modification time
//! (`std::os::unix::fs::MetadataExt`); elsewhere only the length and the modification time, so
//! there a same-length replacement within one tick of the file system's clock can go unnoticed
//! (call [`SharedDatabase::reload`] after publishing to be sure). The thread stops when the
//! last clone of the handle (and of every [`DatabaseCache`] made from it) is dropped, or at
//! [`SharedDatabase::stop_polling`]; both wait for it to exit.
//!
//! # Cost per lookup
//! [`SharedDatabase::load`] takes a read lock and clones an `Arc` (a few atomic operations on a
//! shared cache line, which costs more under contention than the lookup itself). A
//! [`DatabaseCache`], one per worker thread, only reads one atomic counter per lookup and touches
//! the lock after a swap.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, SystemTime};

use crate::database::Database;
use crate::error::OpenError;

/// How often the polling thread checks the file when [`ReloadConfig`] does not say otherwise.
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);

/// How a [`SharedDatabase`] opens and watches its file.
///
/// # Example
/// ```
/// use std::time::Duration;
/// let config = ipsieve::ReloadConfig::new()
///     .verify(true)
///     .poll_interval(Some(Duration::from_secs(30)));
/// assert_eq!(config.get_poll_interval(), Some(Duration::from_secs(30)));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReloadConfig {
    verify: bool,
    poll_interval: Option<Duration>,
    mapped: bool,
}

impl Default for ReloadConfig {
    fn default() -> Self {
        ReloadConfig::new()
    }
}

impl ReloadConfig {
    /// Verification on, polling every [`DEFAULT_POLL_INTERVAL`].
    pub fn new() -> ReloadConfig {
        ReloadConfig {
            verify: true,
            poll_interval: Some(DEFAULT_POLL_INTERVAL),
            mapped: false,
        }
    }

    /// Whether the first open and every reload also run [`Database::verify`] (the whole-file
    /// checksum) before serving the file. On by default: it costs milliseconds once per file,
    /// and without it a file with a flipped byte in its data passes the structural checks and
    /// serves wrong answers.
    pub fn verify(self, yes: bool) -> ReloadConfig {
        ReloadConfig {
            verify: yes,
            ..self
        }
    }

    /// How often a background thread checks whether the file was replaced; `None` starts no
    /// thread (reload only through [`SharedDatabase::reload`]).
    ///
    /// [`SharedDatabase::open_with`] refuses `Some(Duration::ZERO)` (a busy loop) with an
    /// [`OpenError::Io`] of kind `InvalidInput`.
    pub fn poll_interval(self, interval: Option<Duration>) -> ReloadConfig {
        ReloadConfig {
            poll_interval: interval,
            ..self
        }
    }

    /// Whether each file is mapped with [`Database::open_mmap`] (pages shared with the page
    /// cache and other processes, opens in well under a millisecond) instead of read into
    /// private memory with [`Database::open`] (the default: huge pages, lookups as fast as on a mapping,
    /// the file's size in memory per process).
    ///
    /// # Safety
    /// With `yes`, every file this handle ever opens at its path must never be modified or
    /// truncated in place while the handle (or an `Arc<Database>` it handed out) lives:
    /// [`Database::open_mmap`]'s contract. Replacing the file by rename, as `ipsieve build`
    /// does, keeps it.
    pub unsafe fn mapped(self, yes: bool) -> ReloadConfig {
        ReloadConfig {
            mapped: yes,
            ..self
        }
    }

    /// Whether files are mapped rather than read into private memory.
    pub fn get_mapped(&self) -> bool {
        self.mapped
    }

    /// Whether verification is on.
    pub fn get_verify(&self) -> bool {
        self.verify
    }

    /// The polling interval, `None` when polling is off.
    pub fn get_poll_interval(&self) -> Option<Duration> {
        self.poll_interval
    }
}

/// A reload that was refused: the file, when, and why. The handle kept serving the previous
/// artifact.
#[derive(Debug)]
pub struct ReloadError {
    path: PathBuf,
    time: SystemTime,
    error: OpenError,
}

impl ReloadError {
    /// The path that was reloaded.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// When the reload failed.
    pub fn time(&self) -> SystemTime {
        self.time
    }

    /// Why the file was refused.
    pub fn error(&self) -> &OpenError {
        &self.error
    }
}

impl fmt::Display for ReloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "cannot reload {}, still serving the previous artifact: {}",
            self.path.display(),
            self.error
        )
    }
}

impl std::error::Error for ReloadError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

/// What identifies one version of the file at the path: a replacement by rename changes the
/// inode, an in-place rewrite at least the modification time or the length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId {
    len: u64,
    modified: Option<SystemTime>,
    #[cfg(unix)]
    dev: u64,
    #[cfg(unix)]
    ino: u64,
}

/// The result of one check of the path (a missing file is a state too, so it is reported once).
type Seen = Result<FileId, io::ErrorKind>;

fn stat(path: &Path) -> Seen {
    let m = std::fs::metadata(path).map_err(|e| e.kind())?;
    Ok(FileId {
        len: m.len(),
        modified: m.modified().ok(),
        #[cfg(unix)]
        dev: std::os::unix::fs::MetadataExt::dev(&m),
        #[cfg(unix)]
        ino: std::os::unix::fs::MetadataExt::ino(&m),
    })
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held; a poisoned lock still holds consistent data.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// State shared by every clone of a handle and by the polling thread.
struct Inner {
    path: PathBuf,
    config: ReloadConfig,
    /// The artifact being served.
    current: RwLock<Arc<Database>>,
    /// Number of swaps; written under the `current` write lock, so a reader holding the read
    /// lock sees the value that goes with the `Arc` it clones.
    successes: AtomicU64,
    failures: AtomicU64,
    last_error: Mutex<Option<Arc<ReloadError>>>,
    /// What the path looked like before the last (attempted) load; held for the whole reload so
    /// reloads never overlap.
    seen: Mutex<Seen>,
}

impl Inner {
    fn open(path: &Path, config: ReloadConfig) -> Result<Database, OpenError> {
        let db = if config.mapped {
            // SAFETY: `ReloadConfig::mapped` is unsafe and its caller promised that no file at
            // this path is modified in place while mapped.
            unsafe { Database::open_mmap(path)? }
        } else {
            Database::open(path)?
        };
        if config.verify {
            db.verify()?;
        }
        Ok(db)
    }

    /// Loads the file and swaps it in, or records why not. The caller holds `seen`.
    fn reload_locked(&self, seen: &mut Seen) -> Result<Arc<Database>, Arc<ReloadError>> {
        *seen = stat(&self.path);
        match Self::open(&self.path, self.config) {
            Ok(db) => {
                let db = Arc::new(db);
                let old = {
                    let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
                    self.successes.fetch_add(1, Ordering::Release);
                    std::mem::replace(&mut *current, Arc::clone(&db))
                };
                // Unmapped here unless a lookup still holds it, outside the lock.
                drop(old);
                Ok(db)
            }
            Err(error) => {
                let error = Arc::new(ReloadError {
                    path: self.path.clone(),
                    time: SystemTime::now(),
                    error,
                });
                self.failures.fetch_add(1, Ordering::Relaxed);
                *lock(&self.last_error) = Some(Arc::clone(&error));
                Err(error)
            }
        }
    }

    /// One polling check: reloads when the file is not the one last seen.
    fn poll(&self) {
        let mut seen = lock(&self.seen);
        if stat(&self.path) != *seen {
            // The outcome is recorded in the counters and the last error.
            let _ = self.reload_locked(&mut seen);
        }
    }

    fn load(&self) -> (Arc<Database>, u64) {
        let current = self.current.read().unwrap_or_else(PoisonError::into_inner);
        (Arc::clone(&current), self.successes.load(Ordering::Acquire))
    }
}

/// The polling thread, stopped when the last handle drops it.
struct Poller {
    stop: Mutex<Option<mpsc::Sender<()>>>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Poller {
    fn start(inner: Arc<Inner>, interval: Duration) -> io::Result<Poller> {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("ipsieve-reload".into())
            .spawn(move || {
                // A message or a dropped sender both mean stop.
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    inner.poll();
                }
            })?;
        Ok(Poller {
            stop: Mutex::new(Some(stop)),
            thread: Mutex::new(Some(thread)),
        })
    }

    fn stop(&self) {
        drop(lock(&self.stop).take());
        if let Some(thread) = lock(&self.thread).take() {
            // The thread never panics (poll only records errors); nothing to report if it did.
            let _ = thread.join();
        }
    }

    fn is_running(&self) -> bool {
        lock(&self.thread).is_some()
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A hot-reloadable artifact shared by a service's threads: cheap to clone (`Arc`s), `Send +
/// Sync`, and every lookup sees one complete, validated artifact. See the
/// [module docs](crate::reload) for the replacement rule, polling and failures.
///
/// # Example
/// ```
/// use ipsieve::{ReloadConfig, SharedDatabase};
///
/// let dir = std::env::temp_dir().join(format!("ipsieve-doc-reload-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let live = dir.join("ipsieve.db");
/// std::fs::write(&live, include_bytes!("../tests/golden/v4.ipsieve"))?;
///
/// let handle = SharedDatabase::open_with(&live, ReloadConfig::new().poll_interval(None))?;
/// let db = handle.load(); // one artifact for as long as `db` lives
/// assert!(db.lookup("185.220.101.1".parse().unwrap()).is_tor());
///
/// // Publishing: write elsewhere in the directory, then rename over the live file.
/// std::fs::write(dir.join("new.tmp"), b"<html>502 Bad Gateway</html>")?;
/// std::fs::rename(dir.join("new.tmp"), &live)?;
/// assert!(handle.reload().is_err()); // refused: still serving the previous file
/// assert_eq!(handle.failures(), 1);
/// assert!(handle.load().lookup("185.220.101.1".parse().unwrap()).is_tor());
/// # drop((db, handle));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct SharedDatabase {
    inner: Arc<Inner>,
    poller: Option<Arc<Poller>>,
}

impl fmt::Debug for SharedDatabase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedDatabase")
            .field("path", &self.inner.path)
            .field("current", &*self.load())
            .field("successes", &self.successes())
            .field("failures", &self.failures())
            .field("polling", &self.is_polling())
            .finish_non_exhaustive()
    }
}

impl SharedDatabase {
    /// Opens the artifact at `path` with [`ReloadConfig::new`]: verified, and polled every
    /// [`DEFAULT_POLL_INTERVAL`].
    ///
    /// # Errors
    /// As [`SharedDatabase::open_with`].
    pub fn open(path: impl AsRef<Path>) -> Result<SharedDatabase, OpenError> {
        Self::open_with(path, ReloadConfig::new())
    }

    /// Opens and validates the artifact at `path` (and verifies it, if `config` says so), and
    /// starts the polling thread if `config` has an interval.
    ///
    /// # Errors
    /// Every [`OpenError`] of [`Database::open`] (or [`Database::open_mmap`]) and
    /// [`Database::verify`];
    /// [`OpenError::Io`] also when the thread cannot be started, and (kind `InvalidInput`) when
    /// the polling interval is zero.
    ///
    /// # Panics
    /// Never.
    pub fn open_with(
        path: impl AsRef<Path>,
        config: ReloadConfig,
    ) -> Result<SharedDatabase, OpenError> {
        if config.poll_interval.is_some_and(|i| i.is_zero()) {
            return Err(OpenError::Io(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the polling interval must not be zero (a busy loop): give a duration, or None",
            )));
        }
        let path = path.as_ref().to_path_buf();
        let seen = stat(&path);
        let db = Inner::open(&path, config)?;
        let inner = Arc::new(Inner {
            path,
            config,
            current: RwLock::new(Arc::new(db)),
            successes: AtomicU64::new(0),
            failures: AtomicU64::new(0),
            last_error: Mutex::new(None),
            seen: Mutex::new(seen),
        });
        let poller = match config.poll_interval {
            Some(interval) => Some(Arc::new(Poller::start(Arc::clone(&inner), interval)?)),
            None => None,
        };
        Ok(SharedDatabase { inner, poller })
    }

    /// The artifact being served, kept alive (and mapped) for as long as the returned `Arc`
    /// lives, whatever reloads happen meanwhile. Take one per request, not one per service.
    ///
    /// Never blocks on a reload's file I/O (only on the instant of a swap), never panics.
    #[inline]
    pub fn load(&self) -> Arc<Database> {
        self.inner.load().0
    }

    /// A per-thread cache of the served artifact whose [`DatabaseCache::load`] costs one
    /// atomic load until the next swap.
    pub fn cache(&self) -> DatabaseCache {
        let (db, generation) = self.inner.load();
        DatabaseCache {
            shared: self.clone(),
            db,
            generation,
        }
    }

    /// Reloads the file now, whether or not it looks changed, and returns the new artifact.
    /// Waits for a reload in progress (from another thread or the poller) to finish first.
    ///
    /// # Errors
    /// When the file cannot be opened or is not a valid artifact (or fails verification): the
    /// handle keeps serving the previous one, and the same error is returned by
    /// [`SharedDatabase::last_error`].
    pub fn reload(&self) -> Result<Arc<Database>, Arc<ReloadError>> {
        let mut seen = lock(&self.inner.seen);
        self.inner.reload_locked(&mut seen)
    }

    /// The path this handle loads.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Number of successful reloads (swaps) since open.
    pub fn successes(&self) -> u64 {
        self.inner.successes.load(Ordering::Acquire)
    }

    /// Number of refused reloads since open.
    pub fn failures(&self) -> u64 {
        self.inner.failures.load(Ordering::Relaxed)
    }

    /// The most recent refused reload, if any. A later success does not clear it: compare
    /// [`ReloadError::time`] or the counters to tell whether it is still current.
    pub fn last_error(&self) -> Option<Arc<ReloadError>> {
        lock(&self.inner.last_error).clone()
    }

    /// Whether the polling thread is running.
    pub fn is_polling(&self) -> bool {
        self.poller.as_ref().is_some_and(|p| p.is_running())
    }

    /// Stops the polling thread for every clone of this handle and waits for it to exit;
    /// [`SharedDatabase::reload`] still works. Does nothing when it is not running.
    pub fn stop_polling(&self) {
        if let Some(p) = &self.poller {
            p.stop();
        }
    }
}

/// A worker thread's view of a [`SharedDatabase`]: holds the served artifact and re-reads the
/// shared one only after a swap, so a lookup costs one atomic load on top of the search.
/// Keeps the handle (and its polling thread) alive.
///
/// # Example
/// ```
/// # let dir = std::env::temp_dir().join(format!("ipsieve-doc-cache-{}", std::process::id()));
/// # std::fs::create_dir_all(&dir)?;
/// # let live = dir.join("ipsieve.db");
/// # std::fs::write(&live, include_bytes!("../tests/golden/v4.ipsieve"))?;
/// let handle = ipsieve::SharedDatabase::open(&live)?;
/// let mut cache = handle.cache(); // move into the worker thread
/// let answer = cache.load().lookup("185.220.101.1".parse().unwrap());
/// assert!(answer.is_tor());
/// # drop((cache, handle));
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct DatabaseCache {
    shared: SharedDatabase,
    db: Arc<Database>,
    generation: u64,
}

impl fmt::Debug for DatabaseCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseCache")
            .field("path", &self.shared.inner.path)
            .field("current", &*self.db)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl DatabaseCache {
    /// The artifact being served: the cached one, or the shared one when it was swapped since.
    /// Never panics.
    #[inline]
    pub fn load(&mut self) -> &Arc<Database> {
        if self.shared.inner.successes.load(Ordering::Acquire) != self.generation {
            (self.db, self.generation) = self.shared.inner.load();
        }
        &self.db
    }

    /// The handle this cache reads.
    pub fn shared(&self) -> &SharedDatabase {
        &self.shared
    }
}

const _: () = {
    const fn send_sync<T: Send + Sync>() {}
    send_sync::<SharedDatabase>();
    send_sync::<crate::OwnedAnswer>();
    send_sync::<DatabaseCache>();
    send_sync::<ReloadError>();
};
