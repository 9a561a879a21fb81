//! `ipsieve lookup` and `ipsieve explain`: answer addresses from the command line or standard
//! input, as tab-separated lines, JSON objects, or explanations for a person.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::Result;
use ipsieve::Answer;
use ipsieve_builder::manifest::day_string;
use serde::Serialize;

use crate::{explain, output};

/// What `lookup` and `explain` read.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The artifact.
    #[arg(long)]
    pub(crate) db: PathBuf,
    /// One JSON object per line (the same object from `lookup` and `explain`).
    #[arg(long)]
    pub(crate) json: bool,
    /// Piped output (tab-separated): print a header line first. (On a terminal the table
    /// always has one.)
    #[arg(long)]
    pub(crate) header: bool,
    /// Addresses (IPv4 or IPv6), or `-` for standard input (one a line; blank lines and `#`
    /// comments are skipped).
    #[arg(required = true)]
    pub(crate) ips: Vec<String>,
}

/// The `--json` line, with exactly the documented keys.
#[derive(Serialize)]
struct JsonAnswer<'a> {
    ip: String,
    network: String,
    /// The IANA special-purpose block the address is in, or null.
    special: Option<JsonSpecial>,
    /// Special-purpose space that should never be a source address on the public internet
    /// (private, loopback, documentation, reserved, …), as ipdata and ipapi.is report it.
    is_bogon: bool,
    categories: Vec<&'static str>,
    verdict: &'static str,
    score: f32,
    asn: Option<u32>,
    as_org: Option<&'a str>,
    provider: Option<&'a str>,
    country: Option<&'a str>,
    sources: Vec<&'a str>,
    /// The newest snapshot date (`YYYY-MM-DD`) of a source asserting one of the categories,
    /// or null.
    last_seen: Option<String>,
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

/// An IANA special-purpose block as JSON (also `special` in `ipsieve serve`'s answers).
#[derive(Serialize)]
pub(crate) struct JsonSpecial {
    /// The registry's name (`Private-Use`, `Loopback`, …).
    name: &'static str,
    /// The registered block.
    network: String,
    /// The RFC that registered it.
    rfc: &'static str,
    /// The registry's "Globally Reachable" column.
    globally_reachable: bool,
}

impl JsonSpecial {
    /// The block holding the answer's address, if any.
    pub(crate) fn of(a: &Answer<'_>) -> Option<JsonSpecial> {
        a.special().map(|b| JsonSpecial {
            name: b.name(),
            network: b.network().to_string(),
            rfc: b.rfc(),
            globally_reachable: b.is_globally_reachable(),
        })
    }
}

/// How `lookup` prints each answer.
#[derive(Clone, Copy)]
pub(crate) enum Output {
    /// One tab-separated line (standard output is not a terminal), after a header line when
    /// `header` is set.
    Tsv {
        /// Print [`COLUMNS`] first.
        header: bool,
    },
    /// For a person at a terminal: a header, then the rows with aligned columns.
    Table,
    /// One JSON object per line.
    Json,
    /// `ipsieve explain`: a few lines for a person.
    Explain,
}

/// `data_day` is the artifact's, for `explain`'s ages.
fn print_answer(
    out: &mut impl Write,
    input: &str,
    a: &Answer<'_>,
    output: Output,
    data_day: u32,
) -> Result<()> {
    if let Output::Explain = output {
        explain::print_text(out, input, a, data_day)?;
    } else if let Output::Json = output {
        let j = JsonAnswer {
            ip: input.to_owned(),
            network: a.network().to_string(),
            special: JsonSpecial::of(a),
            is_bogon: a.is_bogon(),
            categories: a.categories().names().collect(),
            verdict: a.verdict().as_str(),
            score: a.score(),
            asn: a.asn(),
            as_org: a.as_org(),
            provider: a.provider(),
            country: a.country(),
            sources: a.sources().collect(),
            last_seen: a.last_seen_day().map(day_string),
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
        let row = row(input, a);
        match output {
            Output::Table => output::write_row(out, "", &row, &WIDTHS)?,
            _ => writeln!(out, "{}", row.join("\t"))?,
        }
    }
    Ok(())
}

/// The columns of `lookup`'s tab-separated and table output.
pub(crate) const COLUMNS: [&str; 11] = [
    "address",
    "network",
    "categories",
    "score",
    "verdict",
    "asn",
    "as_org",
    "provider",
    "country",
    "sources",
    "special",
];

/// The widths the table pads its columns to (a longer value widens its row only): an IPv4
/// address, a network, a few categories, and so on.
const WIDTHS: [usize; 11] = [15, 18, 10, 5, 12, 8, 20, 20, 7, 24, 11];

/// One answer's columns, every field escaped (a tab or line feed in an AS name cannot shift
/// the columns) and `-` when empty.
fn row(input: &str, a: &Answer<'_>) -> [String; 11] {
    let field = |text: &str| {
        if text.is_empty() {
            "-".into()
        } else {
            output::escape(text).into_owned()
        }
    };
    [
        field(input),
        a.network().to_string(),
        field(&a.categories().to_string()),
        format!("{:.2}", a.score()),
        a.verdict().to_string(),
        a.asn().map_or_else(|| "-".to_owned(), |n| format!("AS{n}")),
        field(a.as_org().unwrap_or_default()),
        field(a.provider().unwrap_or_default()),
        field(a.country().unwrap_or_default()),
        field(&a.sources().collect::<Vec<_>>().join(",")),
        field(a.special().map_or("", |b| b.name())),
    ]
}

/// The address in a line or argument: `#` starts a comment, as in the overlay file (a
/// whole-line comment, or one after the address), and blanks around it do not count.
fn address_text(line: &str) -> &str {
    line.split('#').next().unwrap_or_default().trim()
}

/// `lookup` on a terminal with every address on the command line: the rows first, then the
/// table with each column as wide as its widest cell. (Standard input streams instead, each
/// row as it is answered, padded to [`WIDTHS`].)
fn table(db: &ipsieve::Database, ips: &[String], out: &mut impl Write) -> Result<bool> {
    let mut ok = true;
    let mut rows = Vec::new();
    for arg in ips {
        let t = address_text(arg);
        if t.is_empty() {
            continue;
        }
        match t.parse::<IpAddr>() {
            Ok(ip) => rows.push(row(t, &db.lookup(ip))),
            Err(_) => {
                eprintln!(
                    "ipsieve: '{}' is not an IPv4 or IPv6 address",
                    output::escape(t)
                );
                ok = false;
            }
        }
    }
    let widths = output::fitted_widths(&COLUMNS, &rows);
    output::write_row(out, "", &COLUMNS, &widths)?;
    for r in &rows {
        output::write_row(out, "", r, &widths)?;
    }
    out.flush()?;
    Ok(ok)
}

/// Longest line `lookup -` and `explain -` read from standard input, in bytes: an address,
/// even IPv6 with a zone id, is under 100. The rest of a longer line is skipped unread.
const MAX_INPUT_LINE: usize = 4096;

/// How errors name standard input.
const STDIN: &str = "standard input";

/// Runs `ipsieve lookup` (or, with [`Output::Explain`], `ipsieve explain`): answers every
/// parseable address; returns false if any was not an address. Standard input
/// (`-`) is read as bytes, a line at a time: blank lines and `#` comments are skipped, a line
/// that is not an address (invalid UTF-8 included) is reported with its number and skipped,
/// and the run goes on.
pub(crate) fn run(db_path: &Path, output: Output, ips: &[String]) -> Result<bool> {
    let db = crate::open_db(db_path)?;
    let mut out = output::stdout();
    if matches!(output, Output::Table) && !ips.iter().any(|a| a == "-") {
        return table(&db, ips, &mut out);
    }
    match output {
        Output::Table => output::write_row(&mut out, "", &COLUMNS, &WIDTHS)?,
        Output::Tsv { header: true } => writeln!(out, "{}", COLUMNS.join("\t"))?,
        _ => {}
    }
    let mut ok = true;
    // One address: answered, or false after saying why not (`line` for standard input).
    let one = |text: &str, line: Option<u64>, out: &mut std::io::BufWriter<output::Stdout>| {
        let t = address_text(text);
        if t.is_empty() {
            return Ok(true);
        }
        if let Ok(ip) = t.parse::<IpAddr>() {
            print_answer(out, t, &db.lookup(ip), output, db.data_day())?;
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
