//! `ipsieve export`: the artifact as a MaxMind DB, a CSV of ranges, or nftables / ipset sets
//! (docs/EXPORT.md).

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::ValueEnum;
use ipsieve::Categories;
use ipsieve_builder::export::firewall::{self, SetName};
use ipsieve_builder::export::{csv, mmdb, write_atomically, ExportError};
use ipsieve_builder::manifest::day_string;

/// What to export to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A MaxMind DB file with the Anonymous-IP field names (database type
    /// `ipsieve-Anonymous-IP`); needs a file for `--out`.
    Mmdb,
    /// One row per range: start, end, categories, verdict, score, asn, as_org, provider,
    /// country, sources.
    Csv,
    /// An nftables script: one interval set per category and family in table `inet NAME`.
    Nft,
    /// An `ipset restore` script: one hash:net set per category and family.
    Ipset,
}

/// The arguments of `ipsieve export`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The artifact.
    #[arg(long)]
    db: PathBuf,
    /// Output format.
    #[arg(long, value_enum)]
    format: Format,
    /// Output file, written to a temporary file and renamed over it; `-` writes a text format
    /// to standard output.
    #[arg(long)]
    out: PathBuf,
    /// nft and ipset: only these categories (comma-separated or repeated; default: all of
    /// tor_exit, tor_relay, vpn, proxy, hosting, relay).
    #[arg(long, value_delimiter = ',')]
    category: Vec<String>,
    /// nft: the table (`inet NAME`); ipset: the prefix of the set names.
    #[arg(long, default_value = "ipsieve")]
    name: String,
}

/// Runs `ipsieve export`.
pub(crate) fn run(args: &Args) -> Result<()> {
    let db = crate::open_db(&args.db)?;
    let stdout = args.out.as_os_str() == "-";
    if stdout && args.format == Format::Mmdb {
        bail!("--format mmdb writes a binary file: give --out a path, not `-`");
    }
    if !stdout {
        ipsieve_builder::check_destination(&args.out, &[&args.db])
            .with_context(|| format!("cannot write {}", args.out.display()))?;
    }
    if !args.category.is_empty() && !matches!(args.format, Format::Nft | Format::Ipset) {
        bail!("--category applies to --format nft and ipset only");
    }
    // A line of the nft / ipset script: a line feed in the file name must not start another.
    let comment = format!(
        "ipsieve export --format {} of {} (built {}, Unix {})",
        args.format
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned()),
        crate::output::escape(&args.db.file_name().map_or_else(
            || args.db.display().to_string(),
            |n| n.to_string_lossy().into_owned()
        )),
        day_string((db.build_time() / 86_400) as u32),
        db.build_time(),
    );
    // A spinner on a terminal while the ranges are walked and written (the full build's MMDB
    // takes seconds).
    let mut progress = crate::progress::Progress::new(stdout, std::time::Instant::now());
    progress.phase(format_args!(
        "exporting {} to {}",
        args.format
            .to_possible_value()
            .map_or_else(String::new, |v| v.get_name().to_owned()),
        crate::output::escape(&args.out.display().to_string())
    ));
    let summary = match args.format {
        Format::Mmdb => {
            let stats = mmdb::from_database(&db)
                .write_to(&args.out)
                .with_context(|| format!("exporting to {}", args.out.display()))?;
            let shadowed = if stats.shadowed_v6 > 0 {
                format!(
                    "; {} IPv6 ranges cut where ::/96, ::ffff:0:0/96 and 2002::/16 answer as IPv4",
                    stats.shadowed_v6
                )
            } else {
                String::new()
            };
            format!(
                "{} bytes: {} IPv4 and {} IPv6 ranges in {} networks, {} data records, \
                 {} nodes of {} bits{shadowed}",
                stats.bytes,
                stats.ranges_v4,
                stats.ranges_v6,
                stats.networks,
                stats.data_records,
                stats.node_count,
                stats.record_size
            )
        }
        Format::Csv => {
            let rows = text(&args.out, stdout, |w| csv::write(&db, w))?;
            format!("{rows} ranges")
        }
        Format::Nft | Format::Ipset => {
            let name = SetName::new(&args.name)?;
            let mut wanted = Vec::new();
            for c in &args.category {
                match Categories::from_name(c.trim()) {
                    Some(cat) => wanted.push(cat),
                    None => bail!(
                        "unknown category {c:?}: use one of {}",
                        Categories::NAMED.map(|(_, n)| n).join(", ")
                    ),
                }
            }
            let sets = firewall::category_sets(&db, &wanted);
            let blocks: usize = sets.iter().map(|s| s.v4.len() + s.v6.len()).sum();
            let format = args.format;
            text(&args.out, stdout, |w| {
                if format == Format::Nft {
                    firewall::write_nft(w, &sets, &name, &comment)
                } else {
                    firewall::write_ipset(w, &sets, &name, &comment)
                }
            })?;
            format!("{} sets, {blocks} CIDR blocks", sets.len() * 2)
        }
    };
    drop(progress);
    if !stdout {
        let out = args.out.display().to_string();
        eprintln!("wrote {}: {summary}", crate::output::escape(&out));
    }
    Ok(())
}

/// Writes a text export to standard output or, through a temporary file, to `path`.
fn text<T>(
    path: &Path,
    stdout: bool,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<T>,
) -> Result<T> {
    if stdout {
        let mut out = crate::output::stdout();
        let value = fill(&mut out).context("writing standard output")?;
        out.flush().context("writing standard output")?;
        return Ok(value);
    }
    write_atomically(path, |w| fill(w).map_err(ExportError::io(path)))
        .with_context(|| format!("exporting to {}", path.display()))
}
