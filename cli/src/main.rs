//! The `ipsieve` command line: build an artifact from sources, look addresses up in it.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use ipsieve::{Answer, Database};
use ipsieve_builder::cache;
use ipsieve_builder::manifest::{day_string, Manifest};
use ipsieve_builder::report::BuildReport;
use ipsieve_builder::{load, Builder};
use serde::Serialize;

mod diff;
mod eval;
mod explain;
mod export;
mod fetch;
mod output;
mod progress;

/// Offline IP intelligence: Tor exits, VPNs, proxies, hosting and privacy relays.
#[derive(Parser)]
#[command(name = "ipsieve", version, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compile sources into an artifact (default: the vendored snapshot in data/snapshot).
    Build {
        /// Source manifest (TOML). Default: data/snapshot/sources.toml.
        #[arg(long)]
        sources: Option<PathBuf>,
        /// Where to write the artifact (written to a temporary file, then renamed).
        #[arg(long)]
        out: PathBuf,
        /// Print nothing but errors.
        #[arg(long)]
        quiet: bool,
        /// Also write the build report as JSON to this file, with the coverage (ranges and
        /// addresses per family) of every category, provider and source.
        #[arg(long)]
        report_json: Option<PathBuf>,
        /// Keep the previous N artifacts beside the output as OUT.1 (the last one) … OUT.N,
        /// shifted by rename when a new artifact is published; none is ever written to
        /// (0 to 100).
        #[arg(long, value_name = "N", default_value_t = 0, value_parser = keep_count())]
        keep: usize,
        /// Fetch cache (filled by `ipsieve fetch`): sources with a `url` and no `path` are read
        /// from it, dated by their fetch time when the manifest gives no `snapshot`.
        #[arg(long)]
        cache: Option<PathBuf>,
    },
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
    /// Without `--json`, one tab-separated line per address: input, network, categories,
    /// score, verdict, ASN, AS organisation, provider, country, sources (`-` when empty).
    Lookup(AddressArgs),
    /// Explain answers for a person: verdict, score, trust score and risk level, then every
    /// matching source with the categories it asserts, its tier, its weight and its snapshot
    /// date, strongest first (rules: docs/INTELLIGENCE.md). `-` reads standard input.
    Explain(AddressArgs),
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
}

/// What `lookup` and `explain` read.
#[derive(Args)]
struct AddressArgs {
    /// The artifact.
    #[arg(long)]
    db: PathBuf,
    /// One JSON object per line (the same object from `lookup` and `explain`).
    #[arg(long)]
    json: bool,
    /// Addresses (IPv4 or IPv6), or `-` for standard input.
    #[arg(required = true)]
    ips: Vec<String>,
}

/// `build --keep`: 0 to [`ipsieve_builder::MAX_KEEP`] (each publish looks at every kept name).
fn keep_count() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(0..=ipsieve_builder::MAX_KEEP as u64)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build {
            sources,
            out,
            quiet,
            report_json,
            keep,
            cache,
        } => build(
            sources,
            &out,
            quiet,
            report_json.as_deref(),
            cache.as_deref(),
            keep,
        )
        .map(|()| true),
        Command::Fetch(args) => fetch::run(&args),
        Command::Lookup(a) => {
            let output = if a.json { Output::Json } else { Output::Tsv };
            lookup(&a.db, output, &a.ips)
        }
        Command::Explain(a) => {
            let output = if a.json {
                Output::Json
            } else {
                Output::Explain
            };
            lookup(&a.db, output, &a.ips)
        }
        Command::Verify { db } => verify(&db).map(|()| true),
        Command::Stats { db, json } => stats(&db, json).map(|()| true),
        Command::Export(args) => export::run(&args).map(|()| true),
        Command::Eval(args) => eval::run(&args),
        Command::Diff(args) => diff::run(&args),
    };
    match result {
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

/// The vendored snapshot's manifest: beside the working directory when run from the repo,
/// else where the repo was when this binary was compiled.
fn default_manifest() -> Result<PathBuf> {
    let local = PathBuf::from("data/snapshot/sources.toml");
    if local.is_file() {
        return Ok(local);
    }
    let compiled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/snapshot/sources.toml");
    if compiled.is_file() {
        return Ok(compiled);
    }
    bail!("no --sources given and the vendored data/snapshot/sources.toml was not found: pass --sources FILE")
}

fn build_time() -> Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => v
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={v:?} is not a Unix timestamp")),
        Err(_) => Ok(std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())),
    }
}

fn build(
    sources: Option<PathBuf>,
    out: &Path,
    quiet: bool,
    report_json: Option<&Path>,
    cache_dir: Option<&Path>,
    keep: usize,
) -> Result<()> {
    let started = Instant::now();
    let progress = progress::Progress::new(quiet, started);
    let manifest_path = match sources {
        Some(p) => p,
        None => default_manifest()?,
    };
    let mut manifest = Manifest::load(&manifest_path)?;
    let mut builder = Builder::new().build_time(build_time()?);
    if let Some(dir) = cache_dir {
        let used = cache::use_cache(&mut manifest, dir)
            .with_context(|| format!("{}", manifest_path.display()))?;
        for meta in used {
            // Provenance of fetched inputs: exactly which bytes, fetched when.
            builder.metadata(format!("source.{}.sha256", meta.source), meta.sha256);
            builder.metadata(
                format!("source.{}.fetched", meta.source),
                meta.fetched_at_utc,
            );
        }
    }
    // Nothing the build reads may be replaced by what it writes.
    let mut inputs: Vec<&Path> = vec![&manifest_path];
    inputs.extend(manifest.enabled().filter_map(|s| s.path.as_deref()));
    let writable = |path: &Path, inputs: &[&Path]| {
        ipsieve_builder::check_destination(path, inputs)
            .with_context(|| format!("cannot write {}", path.display()))
    };
    writable(out, &inputs)?;
    if let Some(report) = report_json {
        if ipsieve_builder::same_file(report, out) {
            bail!(
                "--report-json and --out name the same file {}: give the report another path",
                report.display()
            );
        }
        writable(report, &inputs)?;
    }
    let total = manifest.enabled().count();
    let mut read = 0;
    let reports = load::load_manifest(&manifest, &mut builder, |name| {
        read += 1;
        progress.phase(format_args!("reading {name} ({read} of {total})"));
    })
    .with_context(|| format!("{}", manifest_path.display()))?;
    progress.phase(format_args!("compiling"));
    let compiled = builder
        .compile()
        .with_context(|| format!("building {}", out.display()))?;
    progress.phase(format_args!(
        "writing {}",
        output::escape(&out.display().to_string())
    ));
    ipsieve_builder::publish_keeping(&compiled.bytes, out, keep)
        .with_context(|| format!("building {}", out.display()))?;
    let mut report = BuildReport::new(
        reports,
        &compiled.stats,
        compiled.bytes.len(),
        started.elapsed(),
    );
    if report_json.is_some() {
        progress.phase(format_args!("measuring coverage"));
        report.add_coverage(&Database::from_bytes(&compiled.bytes)?);
    }
    // Every file first: printing may stop at a closed standard output.
    if let Some(path) = report_json {
        ipsieve_builder::export::write_atomically(path, |w| {
            serde_json::to_writer_pretty(&mut *w, &report)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(w))
                .map_err(ipsieve_builder::export::ExportError::io(path))
        })
        .with_context(|| format!("writing {}", path.display()))?;
    }
    if !quiet {
        let mut stdout = output::stdout();
        writeln!(stdout, "{}", output::escape_lines(&report.to_string()))?;
        writeln!(
            stdout,
            "wrote {}",
            output::escape(&out.display().to_string())
        )?;
        stdout.flush()?;
    } else {
        // An optional source that failed: the build went on, but say so.
        for s in &report.sources {
            if let Some(failure) = &s.optional_failure {
                eprintln!("ipsieve: {}: optional, {}", s.name, output::escape(failure));
            }
        }
    }
    Ok(())
}

/// The `--json` line, with exactly the documented keys.
#[derive(Serialize)]
struct JsonAnswer<'a> {
    ip: String,
    network: String,
    categories: Vec<&'static str>,
    verdict: &'static str,
    score: f32,
    asn: Option<u32>,
    as_org: Option<&'a str>,
    provider: Option<&'a str>,
    country: Option<&'a str>,
    sources: Vec<&'a str>,
    /// ip2geoapi-style, 0..=100, higher is more trustworthy.
    trust_score: u8,
    /// ip2geoapi-style: low, medium, high, critical.
    risk_level: &'static str,
    /// The strongest evidence tier that counts, or null.
    tier: Option<&'static str>,
    /// MaxMind Anonymous-IP-style flags.
    is_anonymous: bool,
    is_anonymous_vpn: bool,
    is_hosting_provider: bool,
    is_public_proxy: bool,
    is_tor_exit_node: bool,
    is_residential_proxy: bool,
    /// One per matching source, in source order.
    signals: Vec<explain::JsonSignal<'a>>,
}

/// How `lookup` prints each answer.
#[derive(Clone, Copy)]
enum Output {
    /// One tab-separated line.
    Tsv,
    /// One JSON object per line.
    Json,
    /// `ipsieve explain`: a few lines for a person.
    Explain,
}

fn print_answer(out: &mut impl Write, input: &str, a: &Answer<'_>, output: Output) -> Result<()> {
    if let Output::Explain = output {
        explain::print_text(out, input, a)?;
    } else if let Output::Json = output {
        let j = JsonAnswer {
            ip: input.to_owned(),
            network: a.network().to_string(),
            categories: a.categories().names().collect(),
            verdict: a.verdict().as_str(),
            score: a.score(),
            asn: a.asn(),
            as_org: a.as_org(),
            provider: a.provider(),
            country: a.country(),
            sources: a.sources().collect(),
            trust_score: a.trust_score(),
            risk_level: a.risk_level().as_str(),
            tier: a.tier().map(|t| t.as_str()),
            is_anonymous: a.is_anonymous(),
            is_anonymous_vpn: a.is_anonymous_vpn(),
            is_hosting_provider: a.is_hosting_provider(),
            is_public_proxy: a.is_public_proxy(),
            is_tor_exit_node: a.is_tor_exit_node(),
            is_residential_proxy: a.is_residential_proxy(),
            signals: explain::json_signals(a),
        };
        serde_json::to_writer(&mut *out, &j)?;
        writeln!(out)?;
    } else {
        let cats = a.categories().to_string();
        let sources = a.sources().collect::<Vec<_>>().join(",");
        // Every field escaped: a tab or line feed in an AS name cannot shift the columns.
        let field = |text: &str| {
            if text.is_empty() {
                "-".into()
            } else {
                output::escape(text).into_owned()
            }
        };
        writeln!(
            out,
            "{}\t{}\t{}\t{:.2}\t{}\t{}\t{}\t{}\t{}\t{}",
            field(input),
            a.network(),
            field(&cats),
            a.score(),
            a.verdict(),
            a.asn().map_or_else(|| "-".to_owned(), |n| format!("AS{n}")),
            field(a.as_org().unwrap_or_default()),
            field(a.provider().unwrap_or_default()),
            field(a.country().unwrap_or_default()),
            field(&sources),
        )?;
    }
    Ok(())
}

/// Longest line `lookup -` and `explain -` read from standard input, in bytes: an address,
/// even IPv6 with a zone id, is under 100. The rest of a longer line is skipped unread.
const MAX_INPUT_LINE: usize = 4096;

/// How errors name standard input.
const STDIN: &str = "standard input";

/// Answers every parseable address; returns false if any was not an address. Standard input
/// (`-`) is read as bytes, a line at a time: a line that is not an address (invalid UTF-8
/// included) is reported with its number and skipped, and the run goes on.
fn lookup(db_path: &Path, output: Output, ips: &[String]) -> Result<bool> {
    let db = open_db(db_path)?;
    let mut out = output::stdout();
    let mut ok = true;
    // One address: answered, or false after saying why not (`line` for standard input).
    let one = |text: &str, line: Option<u64>, out: &mut std::io::BufWriter<output::Stdout>| {
        let t = text.trim();
        if t.is_empty() {
            return Ok(true);
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            print_answer(out, t, &db.lookup(ip), output)?;
            return Ok(true);
        }
        out.flush()?;
        match line {
            Some(n) => {
                let reason = "not an IPv4 or IPv6 address";
                let e = ipsieve_sources::ParseError::at_line(STDIN, n, reason, t);
                eprintln!("ipsieve: {}", output::escape(&e.to_string()));
            }
            None => eprintln!(
                "ipsieve: '{}' is not an IPv4 or IPv6 address",
                output::escape(t)
            ),
        }
        Ok::<_, anyhow::Error>(false)
    };
    for arg in ips {
        if arg != "-" {
            ok &= one(arg, None, &mut out)?;
            continue;
        }
        let stdin = std::io::stdin().lock();
        let mut lines =
            ipsieve_sources::input::LineReader::with_max_line(stdin, STDIN, MAX_INPUT_LINE);
        while let Some(line) = lines.next_line() {
            match line {
                Ok((n, text)) => ok &= one(text, Some(n), &mut out)?,
                Err(e) => {
                    out.flush()?;
                    eprintln!("ipsieve: {}", output::escape(&e.to_string()));
                    ok = false;
                }
            }
        }
    }
    out.flush()?;
    Ok(ok)
}

fn verify(path: &Path) -> Result<()> {
    let started = Instant::now();
    let db = open_db(path)?;
    db.verify()
        .with_context(|| format!("verifying {}", path.display()))?;
    let mut stdout = output::stdout();
    writeln!(
        stdout,
        "{}: ok ({} bytes, format {}.{}, verified in {:.1} ms)",
        output::escape(&path.display().to_string()),
        db.len(),
        db.format_version().0,
        db.format_version().1,
        started.elapsed().as_secs_f64() * 1e3
    )?;
    stdout.flush()?;
    Ok(())
}

fn stats(path: &Path, json: bool) -> Result<()> {
    let db = open_db(path)?;
    let mut out = output::stdout();
    if json {
        let sources: Vec<_> = db
            .sources()
            .map(|s| {
                serde_json::json!({
                    "name": s.name(),
                    "format": s.format(),
                    "tier": s.tier().to_string(),
                    "snapshot": s.snapshot_day().map(day_string),
                    "categories": s.categories().names().collect::<Vec<_>>(),
                    "provider": s.provider(),
                    "licence": s.licence(),
                    "url": s.url(),
                })
            })
            .collect();
        let v = serde_json::json!({
            "file": path.display().to_string(),
            "size": db.len(),
            "format": format!("{}.{}", db.format_version().0, db.format_version().1),
            "built": day_string((db.build_time() / 86_400) as u32),
            "build_time": db.build_time(),
            "records": db.record_count(),
            "metadata": db.metadata().collect::<std::collections::BTreeMap<_, _>>(),
            "sources": sources,
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
        out.flush()?;
        return Ok(());
    }
    writeln!(
        out,
        "file:        {}",
        output::escape(&path.display().to_string())
    )?;
    writeln!(out, "size:        {} bytes", db.len())?;
    writeln!(
        out,
        "format:      {}.{}",
        db.format_version().0,
        db.format_version().1
    )?;
    writeln!(
        out,
        "built:       {} (Unix {})",
        day_string((db.build_time() / 86_400) as u32),
        db.build_time()
    )?;
    writeln!(out, "records:     {}", db.record_count())?;
    for (k, v) in db.metadata() {
        let (k, v) = (output::escape(k), output::escape(v));
        writeln!(out, "meta:        {k} = {v}")?;
    }
    writeln!(out, "sources:")?;
    for s in db.sources() {
        writeln!(
            out,
            "  {:<28} {:<14} {:<14} {:<10} {:<24} {}",
            output::escape(s.name()),
            output::escape(s.format()),
            s.tier(),
            s.snapshot_day().map_or_else(|| "-".to_owned(), day_string),
            s.categories().to_string(),
            output::escape(s.licence().unwrap_or("-"))
        )?;
    }
    out.flush()?;
    Ok(())
}
