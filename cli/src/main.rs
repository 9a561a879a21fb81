//! The `ipsieve` command line: thin glue over the libraries. Each command is one module that
//! declares its arguments and runs them; [`Command`] is the one list of commands, read by the
//! parser, `--help` and the dispatch below. See docs/ARCHITECTURE.md for where the work happens.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use ipsieve::Database;

mod build;
mod diff;
mod duration;
mod eval;
mod explain;
mod export;
mod fetch;
mod lookup;
mod output;
mod progress;
mod serve;
mod stats;
mod verify;

/// Offline IP intelligence: Tor exits, VPNs, proxies, hosting and privacy relays.
#[derive(Parser)]
#[command(name = "ipsieve", version, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Every command, declared once: clap's parser and `--help` read this enum, [`Command::run`]
/// dispatches it.
#[derive(Subcommand)]
enum Command {
    /// Compile sources into an artifact (default: the vendored snapshot in data/snapshot).
    Build(build::Args),
    /// Download the manifest's sources into a cache directory, keeping each cached copy
    /// unless the new download passes every check (not HTML, not empty or truncated, parses,
    /// has not shrunk past `max_shrink_pct` or grown past `max_grow_pct`). A dated source (a
    /// `url` with date fields, or an `index`) fetches the newest file upstream. Exits non-zero
    /// if any source failed; a dated source whose newest file cannot be found counts only when
    /// its cached copy is missing or older than its `max_age_days`.
    ///
    /// The cache holds `DIR/<source>` (the body, gzip undone) and `DIR/<source>.meta.json`
    /// (URL, final URL, the URL's date, fetch time, ETag / Last-Modified, SHA-256, size, record
    /// count). One fetch at a time per cache directory: a second one fails at once.
    Fetch(fetch::Args),
    /// Look addresses up; `-` reads addresses from standard input, one a line.
    ///
    /// Without `--json`: on a terminal, a table with a header and aligned columns; piped, one
    /// tab-separated line per address (a header line first with `--header`): input, network,
    /// categories, score, verdict, ASN, AS organisation, provider, country, sources,
    /// special-purpose block (`-` when empty).
    ///
    /// The verdict speaks IPLogs' vocabulary: `vpn_detected` means "an anonymizer was
    /// detected" (a Tor exit, a VPN or a listed proxy), `vpn_likely` "probably one",
    /// `suspicious` hosting space, `clean` nothing that counts; `explain` names the category
    /// that decided it. The last column names the IANA special-purpose block an address is in
    /// (`Private-Use`, `Loopback`, `Documentation`, …); `--json` has it as `special` with
    /// `is_bogon` beside it.
    Lookup(lookup::Args),
    /// Explain answers for a person: verdict, score, trust score and risk level, then every
    /// matching source with the categories it asserts, its tier, its weight and its snapshot
    /// date, strongest first (rules: docs/INTELLIGENCE.md). `-` reads standard input.
    Explain(lookup::Args),
    /// Check an artifact completely: structure and whole-file checksum.
    Verify {
        /// The artifact.
        db: PathBuf,
    },
    /// Describe an artifact: build time, format, sources with snapshot dates and licences.
    Stats {
        /// The artifact.
        db: PathBuf,
        /// One JSON document, each source with its URL and provider too (the nightly
        /// pipeline's attribution file is generated from it).
        #[arg(long)]
        json: bool,
    },
    /// Compare two artifacts: per category, provider and source, the ranges and addresses
    /// added and removed and the coverage of the IPv4 and IPv6 space, then the largest changed
    /// prefixes. Address counts are exact (IPv6 too; a /64 is 18446744073709551616).
    Diff(diff::Args),
    /// Export the artifact for other tools: a MaxMind DB with the Anonymous-IP field names, a
    /// CSV of ranges, or nftables / ipset sets per category aggregated to CIDR blocks
    /// (docs/EXPORT.md).
    Export(export::Args),
    /// Measure accuracy against labelled addresses: per category the true- and false-positive
    /// rates and counts, a confusion table and the verdicts per expected category. LABELS is a
    /// CSV of `ip,expected_category` rows (docs/ACCURACY.md); a bad row is reported with its
    /// line number, the rest still count, and the run exits non-zero.
    Eval(eval::Args),
    /// Serve the artifact over HTTP: a self-hosted JSON API in the shapes of IPLogs
    /// (`POST /v1/check`, `POST /v1/bulk-check`) and ip2geoapi (`GET /ip/{ip}`), with
    /// `/healthz`, Prometheus `/metrics` and `/internal/stats` (docs/HTTP.md). Prints the bound
    /// address on standard output, logs to standard error, reloads a replaced artifact, and
    /// drains the requests in flight at SIGTERM or SIGINT.
    Serve(serve::Args),
}

impl Command {
    /// Runs the command: `Ok(false)` when it finished but something it was given was bad (an
    /// address, a label row, a source that failed to fetch, a shrink past the guard).
    fn run(self) -> Result<bool> {
        match self {
            Command::Build(args) => build::run(args).map(|()| true),
            Command::Fetch(args) => fetch::run(&args),
            Command::Lookup(a) => {
                let output = if a.json {
                    lookup::Output::Json
                } else if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
                    lookup::Output::Table
                } else {
                    lookup::Output::Tsv { header: a.header }
                };
                lookup::run(&a.db, output, &a.ips)
            }
            Command::Explain(a) => {
                let output = if a.json {
                    lookup::Output::Json
                } else {
                    lookup::Output::Explain
                };
                lookup::run(&a.db, output, &a.ips)
            }
            Command::Verify { db } => verify::run(&db).map(|()| true),
            Command::Stats { db, json } => stats::run(&db, json).map(|()| true),
            Command::Diff(args) => diff::run(&args),
            Command::Export(args) => export::run(&args).map(|()| true),
            Command::Eval(args) => eval::run(&args),
            Command::Serve(args) => serve::run(&args),
        }
    }
}

fn main() -> ExitCode {
    match Cli::parse().command.run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        // Standard output was closed (`| head`): the command stopped after writing its files.
        Err(_) if output::closed() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ipsieve: {}", output::escape_lines(&error_text(&e)));
            ExitCode::FAILURE
        }
    }
}

/// `error: cause: cause…` like anyhow's `{:#}`, minus a cause the text already ends with (an
/// error whose message shows its source, e.g. `… (temporary file …): File too large (os error
/// 27)`, would otherwise repeat it).
fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if text.is_empty() {
            text = c;
        } else if !text.ends_with(&c) {
            text.push_str(": ");
            text.push_str(&c);
        }
    }
    text
}

/// Opens the artifact a command reads (`--db`, `verify FILE`, `diff OLD NEW`). It must be a
/// regular file, checked before it is opened: opening a FIFO would block until some process
/// writes to it, and a device is no artifact.
fn open_db(path: &Path) -> Result<Database> {
    let opened = ipsieve_sources::input::require_regular_file(path)
        .map_err(anyhow::Error::from)
        .and_then(|()| Ok(Database::open(path)?));
    opened.with_context(|| format!("opening {}", path.display()))
}
