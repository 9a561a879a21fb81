//! `ipsieve fetch`: download every source of a manifest into the cache (`--offline`: report
//! what the cache holds; `--resolve-only`: say what each source would fetch now).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use ipsieve_builder::cache::{self, CacheMeta};
use ipsieve_builder::manifest::{day_string, Manifest, SourceEntry};

use crate::output;

/// The arguments of `ipsieve fetch`.
#[derive(clap::Args)]
// Without the `fetch` feature only `--offline` works and the download options go unread.
#[cfg_attr(not(feature = "fetch"), allow(dead_code))]
pub(crate) struct Args {
    /// Source manifest (TOML); every enabled source with a `url` or an `index` is fetched.
    #[arg(long)]
    sources: PathBuf,
    /// Cache directory (created if missing).
    #[arg(long, required_unless_present = "resolve_only")]
    cache: Option<PathBuf>,
    /// Do not touch the network: report what the cache holds and how old it is.
    #[arg(long, conflicts_with = "resolve_only")]
    offline: bool,
    /// Download nothing: print the URL (and date) each source would fetch now, and how it
    /// compares with the cached copy when --cache is given.
    #[arg(long)]
    resolve_only: bool,
    /// Print nothing but errors.
    #[arg(long)]
    quiet: bool,
    /// Connect and read timeout: a number of seconds (`30`, `1.5`) or a duration (`500ms`,
    /// `2m`); above zero, at most a day.
    #[arg(long, default_value = "30", value_parser = crate::duration::duration)]
    timeout: std::time::Duration,
    /// Retries of a timeout, connection error or 5xx answer (exponential backoff; 0 to
    /// 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=100))]
    retries: u32,
    /// Largest body, on the wire and after gunzip, for sources without `max_bytes` (at
    /// least 1).
    #[arg(long, default_value_t = 256 << 20, value_parser = byte_count)]
    max_bytes: u64,
    /// Wait before the first retry, in milliseconds (doubles each retry; at most an hour).
    #[arg(long, default_value_t = 1000, hide = true,
          value_parser = clap::value_parser!(u64).range(0..=3_600_000))]
    backoff_ms: u64,
    /// The longest one source's download may take, every retry included, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 1800,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    deadline: u64,
    /// The slowest transfer accepted, in bytes per second over every --min-rate-window
    /// (slower is cut off and retried); 0 turns the check off.
    #[arg(long, value_name = "BYTES", default_value_t = 1024,
          value_parser = clap::value_parser!(u64).range(0..=1 << 30))]
    min_rate: u64,
    /// The window over which --min-rate is measured, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=3_600))]
    min_rate_window: u64,
    /// Largest index (creation log, directory listing, download page) read to find a
    /// dated source's newest file, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = 8 << 20,
          value_parser = clap::value_parser!(u64).range(1..=1 << 30))]
    max_index_bytes: u64,
    /// The time dated sources are searched back from, in Unix seconds (tests).
    #[arg(long, value_name = "UNIX", hide = true)]
    now: Option<u64>,
}

/// `fetch --max-bytes`: a number of bytes, at least 1.
fn byte_count(text: &str) -> Result<u64, String> {
    match text.parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{text} is not a number of bytes (1 or more)")),
    }
}

/// Runs `ipsieve fetch`; false when a source failed: a download that failed its checks
/// (`--offline`: a missing or stale copy; `--resolve-only`: a source whose newest file cannot
/// be found).
pub(crate) fn run(args: &Args) -> Result<bool> {
    let manifest = Manifest::load(&args.sources)?;
    match (args.offline, args.resolve_only, args.cache.as_deref()) {
        (true, _, Some(dir)) => offline_report(&manifest, dir, args.quiet, args),
        (_, true, dir) => resolve_only(&manifest, dir, args),
        (false, false, Some(dir)) => fetch(&manifest, dir, args.quiet, args),
        (_, _, None) => anyhow::bail!("--cache DIR is needed unless --resolve-only is given"),
    }
}

/// `12.3 MiB` / `456 KiB` / `789 B`.
fn size(bytes: u64) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1u32 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}

/// `3 days` / `5 hours` / `12 minutes` between `then` and `now`.
fn age(then: u64, now: u64) -> String {
    match now.saturating_sub(then) {
        s if s >= 2 * 86_400 => format!("{} days", s / 86_400),
        s if s >= 2 * 3_600 => format!("{} hours", s / 3_600),
        s if s >= 60 => format!("{} minutes", s / 60),
        _ => "less than a minute".to_owned(),
    }
}

/// The time the command works with: `--now`, else the clock.
fn now(args: &Args) -> u64 {
    args.now.unwrap_or_else(cache::unix_now)
}

/// `, URL dated DATE` for a copy of a dated source, nothing for others.
fn dated(meta: &CacheMeta) -> String {
    meta.url_date_utc
        .as_deref()
        .map_or_else(String::new, |d| format!(", {} dated {d}", meta.url))
}

/// `; stale: …` when the cached copy is older than the source's `max_age_days`.
fn stale(entry: &SourceEntry, meta: &CacheMeta, now: u64) -> Option<String> {
    meta.stale_days(entry, now).map(|days| {
        format!(
            "stale: its data ({}) is {days} days old, more than max_age_days {}",
            day_string(meta.data_day()),
            entry.max_age_days.unwrap_or(0)
        )
    })
}

#[cfg(feature = "fetch")]
fn fetcher(args: &Args) -> Result<ipsieve_builder::fetch::Fetcher> {
    use ipsieve_builder::fetch::{FetchOptions, Fetcher};
    use std::time::Duration;

    let mut options = FetchOptions::default()
        .timeout(args.timeout)
        .retries(args.retries)
        .max_bytes(args.max_bytes)
        .backoff(Duration::from_millis(args.backoff_ms))
        .deadline(Duration::from_secs(args.deadline))
        .min_rate(args.min_rate, Duration::from_secs(args.min_rate_window))
        .max_index_bytes(args.max_index_bytes);
    if let Some(now) = args.now {
        options = options.now(now);
    }
    Ok(Fetcher::new(options)?)
}

/// What the cache still holds for a source whose fetch failed, and whether the run fails for
/// it: a dated source that could not be resolved fails it only when its copy is missing or
/// older than `max_age_days`; any other failure fails it.
#[cfg(feature = "fetch")]
fn kept(
    entry: &SourceEntry,
    dir: &Path,
    error: &ipsieve_builder::fetch::FetchError,
    now: u64,
) -> (String, bool) {
    use ipsieve_builder::fetch::FetchError;
    let resolving = matches!(error, FetchError::Resolve { .. });
    match cache::inspect(entry, dir) {
        Ok(m) => {
            let copy = format!(
                "kept the cached copy of {} ({} records{})",
                m.fetched_at_utc,
                m.records,
                dated(&m)
            );
            match stale(entry, &m, now) {
                Some(s) => (format!("{copy}; {s}"), true),
                None if resolving => (
                    format!("{copy}; not a failure while the copy is within max_age_days"),
                    false,
                ),
                None => (copy, true),
            }
        }
        Err(_) => ("there is no cached copy to keep".to_owned(), true),
    }
}

#[cfg(feature = "fetch")]
fn fetch(manifest: &Manifest, dir: &Path, quiet: bool, args: &Args) -> Result<bool> {
    use ipsieve_builder::fetch::{CacheLock, FetchOutcome};

    let fetcher = fetcher(args)?;
    // One fetch per cache directory at a time; a second one stops here, naming the first.
    let lock = CacheLock::acquire(dir)?;
    let mut out = output::stdout();
    let (mut tried, mut failed) = (0, 0);
    // A bar per download on a terminal; nothing on standard error when piped or --quiet
    // (the one result line per source on standard output says what happened).
    let mut progress = crate::progress::Progress::new(quiet, std::time::Instant::now());
    for entry in manifest.enabled().filter(|s| s.is_fetched()) {
        tried += 1;
        progress.download(&entry.name);
        let result = fetcher.fetch(entry, &lock, &mut |p| {
            progress.received(p.received, p.total);
        });
        progress.clear();
        let now = now(args);
        match result {
            Ok(FetchOutcome::Updated { meta, previous }) => {
                if !quiet {
                    let was = previous.map_or_else(String::new, |p| {
                        format!(", was {} records of {}", p.records, p.fetched_at_utc)
                    });
                    writeln!(
                        out,
                        "{}: updated: {} records, {}{}{was}",
                        meta.source,
                        meta.records,
                        size(meta.bytes),
                        dated(&meta)
                    )?;
                }
            }
            Ok(FetchOutcome::NotModified { meta }) => {
                if !quiet {
                    writeln!(
                        out,
                        "{}: not modified: kept {} records, {} (downloaded {})",
                        meta.source,
                        meta.records,
                        size(meta.bytes),
                        cache::utc_string(meta.downloaded_at)
                    )?;
                }
            }
            Ok(FetchOutcome::Current { meta, newest }) => {
                let upstream = format!(
                    "the newest file upstream is {} dated {}",
                    newest.url,
                    newest.date_utc().unwrap_or_default()
                );
                if let Some(s) = stale(entry, &meta, now) {
                    failed += 1;
                    out.flush()?;
                    eprintln!(
                        "ipsieve: source '{}': nothing newer than the cached copy ({upstream}); {s}",
                        entry.name
                    );
                } else if !quiet {
                    writeln!(
                        out,
                        "{}: current: {upstream}; kept {} records{}",
                        meta.source,
                        meta.records,
                        dated(&meta)
                    )?;
                }
            }
            Err(e) => {
                let (copy, fails) = kept(entry, dir, &e, now);
                if fails {
                    failed += 1;
                }
                out.flush()?;
                eprintln!("ipsieve: {}; {copy}", output::escape(&e.to_string()));
            }
        }
    }
    if !quiet {
        writeln!(
            out,
            "fetched {} of {tried} sources into {}{}",
            tried - failed,
            dir.display(),
            if failed > 0 {
                format!("; {failed} failed")
            } else {
                String::new()
            }
        )?;
    }
    Ok(failed == 0)
}

/// `ipsieve fetch --resolve-only`: the URL (and date) each source would fetch now, and how it
/// compares with the cached copy; nothing is downloaded. False when a source cannot be
/// resolved.
#[cfg(feature = "fetch")]
fn resolve_only(manifest: &Manifest, dir: Option<&Path>, args: &Args) -> Result<bool> {
    let fetcher = fetcher(args)?;
    let mut ok = true;
    let mut out = output::stdout();
    for entry in manifest.enabled().filter(|s| s.is_fetched()) {
        match fetcher.resolve(entry) {
            Ok(r) => {
                let mut notes = Vec::new();
                if let Some(d) = r.date_utc() {
                    notes.push(format!("dated {d}"));
                }
                if r.missing > 0 {
                    notes.push(format!("{} newer candidates missing", r.missing));
                }
                if let Some(index) = &r.index {
                    notes.push(format!("from {index}"));
                }
                if let Some(m) = dir.and_then(|d| cache::inspect(entry, d).ok()) {
                    notes.push(if m.url == r.url {
                        "the cached copy".to_owned()
                    } else {
                        format!("cached: {}{}", m.url, dated(&m))
                    });
                }
                let notes = if notes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", notes.join("; "))
                };
                writeln!(out, "{}: {}{notes}", entry.name, r.url)?;
            }
            Err(e) => {
                ok = false;
                out.flush()?;
                eprintln!("ipsieve: {}", output::escape(&e.to_string()));
            }
        }
    }
    Ok(ok)
}

#[cfg(not(feature = "fetch"))]
const NO_FETCH: &str = "this ipsieve was built without the `fetch` feature (as `cargo try` \
    builds it): only `ipsieve fetch --offline` works; `cargo install --locked --path cli` or \
    `cargo run --release -p ipsieve-cli -- fetch …` has the whole command line";

#[cfg(not(feature = "fetch"))]
fn fetch(_: &Manifest, _: &Path, _: bool, _: &Args) -> Result<bool> {
    anyhow::bail!(NO_FETCH)
}

#[cfg(not(feature = "fetch"))]
fn resolve_only(_: &Manifest, _: Option<&Path>, _: &Args) -> Result<bool> {
    anyhow::bail!(NO_FETCH)
}

/// `ipsieve fetch --offline`: what the cache holds for each source with a `url` or an
/// `index`, and how old it is. False when a source that has no `path` has no usable copy.
///
/// # Errors
/// Writing standard output.
fn offline_report(manifest: &Manifest, dir: &Path, quiet: bool, args: &Args) -> Result<bool> {
    let now = now(args);
    let mut stdout = output::stdout();
    let mut ok = true;
    // Sources without a copy are named together at the end, not a line each.
    let mut missing = Vec::new();
    let (mut cached, mut stale_count, mut total) = (0usize, 0usize, 0usize);
    for entry in manifest.enabled().filter(|s| s.is_fetched()) {
        total += 1;
        match cache::inspect(entry, dir) {
            Ok(meta) => {
                cached += 1;
                let stale = stale(entry, &meta, now);
                stale_count += usize::from(stale.is_some());
                if quiet {
                    continue;
                }
                let stale = stale.map_or_else(String::new, |s| format!("; {s}"));
                writeln!(
                    stdout,
                    "{}: cached: {} records, {}, fetched {} ({} ago){}{}",
                    entry.name,
                    meta.records,
                    size(meta.bytes),
                    output::escape(&meta.fetched_at_utc),
                    age(meta.fetched_at, now),
                    output::escape(&dated(&meta)),
                    output::escape(&stale)
                )?;
            }
            // A source with a `path` is built from it; its cached copy is optional.
            Err(_) if entry.path.is_some() => {
                if !quiet {
                    writeln!(stdout, "{}: not cached (built from its `path`)", entry.name)?;
                }
            }
            Err(cache::CacheError::Missing { name, .. }) => {
                ok = false;
                missing.push(name);
            }
            Err(e) => {
                ok = false;
                stdout.flush()?;
                eprintln!("ipsieve: {}", output::escape(&e.to_string()));
            }
        }
    }
    stdout.flush()?;
    if !missing.is_empty() {
        eprintln!(
            "ipsieve: {} of {total} sources have no cached copy in {}: {}; run `ipsieve fetch \
             --sources {} --cache {}` first",
            missing.len(),
            output::escape(&dir.display().to_string()),
            output::escape(&missing.join(", ")),
            output::escape(&args.sources.display().to_string()),
            output::escape(&dir.display().to_string()),
        );
    }
    if !quiet {
        writeln!(
            stdout,
            "cache {}: {cached} of {total} fetched sources cached ({stale_count} stale), {} \
             missing",
            output::escape(&dir.display().to_string()),
            missing.len()
        )?;
        stdout.flush()?;
    }
    Ok(ok)
}
