//! What the fetch tests share: a fast fetcher, manifests of url-only sources served by
//! [`crate::http::Server`], the cache directory as `ipsieve fetch` leaves it, and the record
//! count a build reads from a file.

use std::collections::HashMap;
use std::path::Path;

use ipsieve_builder::cache::CacheMeta;
use std::time::Duration;

use ipsieve_builder::fetch::{
    CacheLock, FetchError, FetchOptions, FetchOutcome, Fetcher, LOCK_FILE,
};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder};

/// The cache directory's lock, as `ipsieve fetch` takes it.
///
/// # Panics
/// When the lock cannot be taken.
pub fn lock(dir: &Path) -> CacheLock {
    CacheLock::acquire(dir).unwrap()
}

/// Every file in the cache directory with its bytes, but the lock file.
///
/// # Panics
/// When the directory cannot be read.
pub fn cache_files(dir: &Path) -> HashMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != LOCK_FILE)
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

/// Records `ipsieve build` reads from `bytes` in `format`.
///
/// # Panics
/// When the bytes do not load as that format.
pub fn records(format: &str, bytes: &[u8]) -> u64 {
    static COUNT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = COUNT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = crate::fresh_dir(&format!("fetch-count-{n}"));
    let file = dir.join("input");
    std::fs::write(&file, bytes).unwrap();
    let text = format!(
        "[[source]]\nname = \"count\"\nformat = \"{format}\"\npath = \"{}\"\n",
        file.display()
    );
    let m = Manifest::parse(&text).unwrap();
    load::load_source(&m.sources[0], &mut Builder::new())
        .unwrap()
        .read
}

/// The new sidecar and the one it replaced, of a fetch that must have updated the cache.
///
/// # Panics
/// When the fetch did anything else.
pub fn updated(r: &Result<FetchOutcome, FetchError>) -> (&CacheMeta, Option<&CacheMeta>) {
    match r {
        Ok(FetchOutcome::Updated { meta, previous }) => (meta, previous.as_deref()),
        other => panic!("expected an update, got {other:?}"),
    }
}

/// The error of a fetch that must have failed.
///
/// # Panics
/// When the fetch succeeded.
pub fn failure(r: &Result<FetchOutcome, FetchError>) -> &FetchError {
    match r {
        Err(e) => e,
        Ok(o) => panic!("expected a failure, got {o:?}"),
    }
}

/// The first `n` lines of `bytes`, each ended by a line feed.
pub fn lines(bytes: &[u8], n: usize) -> Vec<u8> {
    let text = String::from_utf8_lossy(bytes);
    let mut out: String = text.lines().take(n).collect::<Vec<_>>().join("\n");
    out.push('\n');
    out.into_bytes()
}

/// Short timeouts, one retry, 10 ms backoff: the fault tests stay fast.
fn fast() -> FetchOptions {
    FetchOptions::default()
        .timeout(Duration::from_secs(1))
        .retries(1)
        .backoff(Duration::from_millis(10))
}

/// A fetcher with short timeouts, one retry and 10 ms backoff: the fault tests stay fast.
///
/// # Panics
/// When the HTTP client cannot be set up.
pub fn fetcher() -> Fetcher {
    Fetcher::new(fast()).unwrap()
}

/// As [`fetcher`], with the clock stopped at `now` (Unix seconds): what dated URLs resolve
/// against.
///
/// # Panics
/// When the HTTP client cannot be set up.
pub fn fetcher_at(now: u64) -> Fetcher {
    Fetcher::new(fast().now(now)).unwrap()
}

/// A manifest of url-only sources: (name, format, path on the server, extra TOML lines).
pub fn manifest(server: &crate::http::Server, sources: &[(&str, &str, &str, &str)]) -> String {
    let mut text = String::new();
    for (name, format, path, extra) in sources {
        text.push_str(&format!(
            "[[source]]\nname = \"{name}\"\nformat = \"{format}\"\nurl = \"{}\"\n{extra}\n",
            server.url(path)
        ));
    }
    text
}

/// Fetches every source of `m` into `dir` (one lock for the run, as `ipsieve fetch` does),
/// by name.
pub fn fetch_all(
    f: &Fetcher,
    m: &Manifest,
    dir: &Path,
) -> HashMap<String, Result<FetchOutcome, FetchError>> {
    let lock = lock(dir);
    m.sources
        .iter()
        .map(|s| (s.name.clone(), f.fetch(s, &lock, &mut |_| {})))
        .collect()
}
