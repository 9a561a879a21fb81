//! `ipsieve build`: read a manifest's sources, compile them and publish the artifact
//! atomically, then print the build report.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use ipsieve::Database;
use ipsieve_builder::cache;
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::report::BuildReport;
use ipsieve_builder::{load, Builder};

use crate::{output, progress};

/// The arguments of `ipsieve build`.
#[derive(clap::Args)]
pub(crate) struct Args {
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
}

/// `build --keep`: 0 to [`ipsieve_builder::MAX_KEEP`] (each publish looks at every kept name).
fn keep_count() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(0..=ipsieve_builder::MAX_KEEP as u64)
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

/// Runs `ipsieve build`.
pub(crate) fn run(args: Args) -> Result<()> {
    let Args {
        sources,
        out,
        quiet,
        report_json,
        keep,
        cache,
    } = args;
    let (out, report_json, cache_dir) = (out.as_path(), report_json.as_deref(), cache.as_deref());
    let started = Instant::now();
    let mut progress = progress::Progress::new(quiet, started);
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
    progress.steps("reading sources", total as u64);
    let mut read = 0;
    let reports = load::load_manifest(&manifest, &mut builder, |name| {
        progress.step(read, name);
        read += 1;
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
    progress.finish(format_args!(
        "built {}",
        output::escape(&out.display().to_string())
    ));
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
