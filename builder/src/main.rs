//! The `ipsieve` command line: build an artifact from sources, look addresses up in it.

use std::io::{BufRead, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use ipsieve::{Answer, Database};
use ipsieve_builder::manifest::{day_string, Manifest};
use ipsieve_builder::report::BuildReport;
use ipsieve_builder::{load, Builder};
use serde::Serialize;

/// Offline IP intelligence: Tor exits, VPNs, proxies, hosting and privacy relays.
#[derive(Parser)]
#[command(name = "ipsieve", version, about, long_about = None)]
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
        /// Also write the build report as JSON to this file.
        #[arg(long)]
        report_json: Option<PathBuf>,
    },
    /// Look addresses up; `-` reads addresses from standard input, one a line.
    ///
    /// Without `--json`, one tab-separated line per address: input, network, categories,
    /// score, verdict, ASN, AS organisation, provider, country, sources (`-` when empty).
    Lookup {
        /// The artifact.
        #[arg(long)]
        db: PathBuf,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Addresses (IPv4 or IPv6), or `-` for standard input.
        #[arg(required = true)]
        ips: Vec<String>,
    },
    /// Check an artifact completely: structure and whole-file checksum.
    Verify {
        /// The artifact.
        db: PathBuf,
    },
    /// Describe an artifact: build time, format, sources with snapshot dates and licences.
    Stats {
        /// The artifact.
        db: PathBuf,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Build {
            sources,
            out,
            quiet,
            report_json,
        } => build(sources, &out, quiet, report_json.as_deref()).map(|()| true),
        Command::Lookup { db, json, ips } => lookup(&db, json, &ips),
        Command::Verify { db } => verify(&db).map(|()| true),
        Command::Stats { db } => stats(&db).map(|()| true),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("ipsieve: {e:#}");
            ExitCode::FAILURE
        }
    }
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
) -> Result<()> {
    let started = Instant::now();
    let manifest_path = match sources {
        Some(p) => p,
        None => default_manifest()?,
    };
    let manifest = Manifest::load(&manifest_path)?;
    let mut builder = Builder::new().build_time(build_time()?);
    let reports = load::load_manifest(&manifest, &mut builder, |name| {
        if !quiet {
            eprintln!("reading {name}…");
        }
    })?;
    if !quiet {
        eprintln!("compiling…");
    }
    let compiled = builder
        .write_to(out)
        .with_context(|| format!("building {}", out.display()))?;
    let report = BuildReport::new(
        reports,
        &compiled.stats,
        compiled.bytes.len(),
        started.elapsed(),
    );
    if !quiet {
        println!("{report}");
        println!("wrote {}", out.display());
    } else {
        for s in report.sources.iter().filter(|s| s.fatal.is_some()) {
            eprintln!(
                "ipsieve: {}: stopped early: {}",
                s.name,
                s.fatal.as_deref().unwrap_or("")
            );
        }
    }
    if let Some(path) = report_json {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(path, json + "\n").with_context(|| format!("writing {}", path.display()))?;
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
}

fn print_answer(out: &mut impl Write, input: &str, a: &Answer<'_>, json: bool) -> Result<()> {
    if json {
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
        };
        serde_json::to_writer(&mut *out, &j)?;
        writeln!(out)?;
    } else {
        let cats = a.categories().to_string();
        writeln!(
            out,
            "{input}\t{}\t{}\t{:.2}\t{}\t{}\t{}\t{}\t{}\t{}",
            a.network(),
            if cats.is_empty() { "-" } else { &cats },
            a.score(),
            a.verdict(),
            a.asn().map_or_else(|| "-".to_owned(), |n| format!("AS{n}")),
            a.as_org().unwrap_or("-"),
            a.provider().unwrap_or("-"),
            a.country().unwrap_or("-"),
            if a.sources().next().is_none() {
                "-".to_owned()
            } else {
                a.sources().collect::<Vec<_>>().join(",")
            },
        )?;
    }
    Ok(())
}

/// Answers every parseable address; returns false if any was not an address.
fn lookup(db_path: &Path, json: bool, ips: &[String]) -> Result<bool> {
    let db = Database::open(db_path).with_context(|| format!("opening {}", db_path.display()))?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let mut ok = true;
    let mut one =
        |text: &str, out: &mut std::io::BufWriter<std::io::StdoutLock<'_>>| -> Result<()> {
            let t = text.trim();
            if t.is_empty() {
                return Ok(());
            }
            match t.parse::<IpAddr>() {
                Ok(ip) => print_answer(out, t, &db.lookup(ip), json),
                Err(_) => {
                    out.flush()?;
                    eprintln!("ipsieve: '{t}' is not an IPv4 or IPv6 address");
                    ok = false;
                    Ok(())
                }
            }
        };
    for arg in ips {
        if arg == "-" {
            for line in std::io::stdin().lock().lines() {
                one(&line.context("reading standard input")?, &mut out)?;
            }
        } else {
            one(arg, &mut out)?;
        }
    }
    out.flush()?;
    Ok(ok)
}

fn verify(path: &Path) -> Result<()> {
    let started = Instant::now();
    let db = Database::open(path).with_context(|| format!("opening {}", path.display()))?;
    db.verify()
        .with_context(|| format!("verifying {}", path.display()))?;
    println!(
        "{}: ok ({} bytes, format {}.{}, verified in {:.1} ms)",
        path.display(),
        db.len(),
        db.format_version().0,
        db.format_version().1,
        started.elapsed().as_secs_f64() * 1e3
    );
    Ok(())
}

fn stats(path: &Path) -> Result<()> {
    let db = Database::open(path).with_context(|| format!("opening {}", path.display()))?;
    println!("file:        {}", path.display());
    println!("size:        {} bytes", db.len());
    println!(
        "format:      {}.{}",
        db.format_version().0,
        db.format_version().1
    );
    println!(
        "built:       {} (Unix {})",
        day_string((db.build_time() / 86_400) as u32),
        db.build_time()
    );
    println!("records:     {}", db.record_count());
    for (k, v) in db.metadata() {
        println!("meta:        {k} = {v}");
    }
    println!("sources:");
    for s in db.sources() {
        println!(
            "  {:<28} {:<14} {:<14} {:<10} {:<24} {}",
            s.name(),
            s.format(),
            s.tier(),
            s.snapshot_day().map_or_else(|| "-".to_owned(), day_string),
            s.categories().to_string(),
            s.licence().unwrap_or("-")
        );
    }
    Ok(())
}
