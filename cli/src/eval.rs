//! `ipsieve eval --db FILE LABELS`: how an artifact's answers compare with labelled addresses
//! (see [`ipsieve_builder::eval`] for the labels file and how answers count), as text for a
//! person or JSON for a script (`tools/eval_accuracy.py` reads it).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ipsieve::Categories;
use ipsieve_builder::eval::{parse_labels, Evaluation, Expected, ExpectedRow, VERDICTS};
use serde_json::{json, Map, Value};

/// `ipsieve eval`'s arguments.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The artifact.
    #[arg(long)]
    db: PathBuf,
    /// One JSON document instead of tables.
    #[arg(long)]
    json: bool,
    /// CSV of `ip,expected_category` rows (header optional; categories tor_exit, tor_relay,
    /// vpn, proxy, hosting, relay, or none / clean for an address that should hold none), or
    /// `-` for standard input.
    labels: PathBuf,
}

/// Prints the evaluation; false when a row of the labels file was bad (each is named on
/// standard error with its line number; the other rows still count).
pub(crate) fn run(args: &Args) -> Result<bool> {
    let db = crate::open_db(&args.db)?;
    let name = crate::output::escape(&args.labels.display().to_string()).into_owned();
    let reader: Box<dyn BufRead> = if args.labels == Path::new("-") {
        Box::new(std::io::stdin().lock())
    } else {
        let f = std::fs::File::open(&args.labels).with_context(|| format!("opening {name}"))?;
        Box::new(BufReader::new(f))
    };
    let mut e = Evaluation::new();
    let mut bad = 0u64;
    for row in parse_labels(reader) {
        match row {
            Ok(l) => e.add(l.expected, &db.lookup(l.ip)),
            Err(err) if err.is_fatal() => return Err(err).context(name),
            Err(err) => {
                bad += 1;
                eprintln!(
                    "ipsieve: {name}: {}",
                    crate::output::escape(&err.to_string())
                );
            }
        }
    }
    if e.labels() == 0 {
        bail!("{name} has no label rows (`ip,expected_category`, e.g. `192.0.2.1,none`)");
    }
    let mut out = crate::output::stdout();
    if args.json {
        serde_json::to_writer_pretty(&mut out, &to_json(&args.db, &name, &e, bad))?;
        writeln!(out)?;
    } else {
        print_text(&mut out, &name, &e, bad)?;
    }
    out.flush()?;
    Ok(bad == 0)
}

/// `12.3 %`, or `-` when undefined.
fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| "-".to_owned(), |r| format!("{:.1} %", r * 100.0))
}

/// A set of categories by name; `none` for the empty set.
fn set_name(c: Categories) -> String {
    if c.is_empty() {
        "none".to_owned()
    } else {
        c.to_string()
    }
}

/// The expected classes that have rows.
fn present(e: &Evaluation) -> impl Iterator<Item = (Expected, &ExpectedRow)> {
    e.rows().filter(|(_, r)| r.labels > 0)
}

fn print_text(out: &mut impl Write, name: &str, e: &Evaluation, bad: u64) -> Result<()> {
    writeln!(
        out,
        "{} labels from {name}{}",
        e.labels(),
        if bad > 0 {
            format!("; {bad} bad lines skipped")
        } else {
            String::new()
        }
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "per category, one against the rest (a row expecting the category is a positive; every \
         other row, `none` or another category, a negative):"
    )?;
    writeln!(
        out,
        "  {:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
        "category", "TP", "FN", "FP", "TN", "TPR", "FPR"
    )?;
    for (c, n) in Categories::NAMED {
        let m = e.metrics(c);
        writeln!(
            out,
            "  {n:<10} {:>8} {:>8} {:>8} {:>8} {:>8} {:>8}",
            m.tp,
            m.fn_,
            m.fp,
            m.tn,
            pct(m.tpr()),
            pct(m.fpr())
        )?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "confusion: rows by expected category; columns count the answers holding each category \
         (an answer with several counts in each), `no_category` those holding none:"
    )?;
    write!(out, "  {:<10} {:>8}", "expected", "labels")?;
    for (_, n) in Categories::NAMED {
        write!(out, " {n:>9}")?;
    }
    writeln!(out, " {:>11}", "no_category")?;
    for (x, r) in present(e) {
        write!(out, "  {:<10} {:>8}", x.as_str(), r.labels)?;
        for n in r.holds_category {
            write!(out, " {n:>9}")?;
        }
        writeln!(out, " {:>11}", r.no_category)?;
    }
    writeln!(out)?;
    writeln!(out, "verdicts by expected category:")?;
    write!(out, "  {:<10} {:>8}", "expected", "labels")?;
    for v in VERDICTS {
        write!(out, " {:>12}", v.as_str())?;
    }
    writeln!(out)?;
    for (x, r) in present(e) {
        write!(out, "  {:<10} {:>8}", x.as_str(), r.labels)?;
        for v in VERDICTS {
            write!(out, " {:>12}", r.verdict(v))?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "answered category sets by expected category (most frequent first):"
    )?;
    for (x, r) in present(e) {
        let mut sets: Vec<(&Categories, &u64)> = r.sets.iter().collect();
        sets.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
        let list: Vec<String> = sets
            .iter()
            .map(|(s, n)| format!("{} {n}", set_name(**s)))
            .collect();
        writeln!(out, "  {:<10} {}", x.as_str(), list.join("; "))?;
    }
    Ok(())
}

fn to_json(db: &Path, name: &str, e: &Evaluation, bad: u64) -> Value {
    let categories: Vec<Value> = Categories::NAMED
        .iter()
        .map(|(c, n)| {
            let m = e.metrics(*c);
            json!({
                "category": n,
                "tp": m.tp,
                "fn": m.fn_,
                "fp": m.fp,
                "tn": m.tn,
                "tpr": m.tpr(),
                "fpr": m.fpr(),
            })
        })
        .collect();
    let expected: Vec<Value> = e
        .rows()
        .map(|(x, r)| {
            let mut holds = Map::new();
            for ((_, n), k) in Categories::NAMED.iter().zip(r.holds_category) {
                holds.insert((*n).to_owned(), k.into());
            }
            holds.insert("no_category".to_owned(), r.no_category.into());
            let verdicts: Map<String, Value> = VERDICTS
                .iter()
                .map(|v| (v.as_str().to_owned(), r.verdict(*v).into()))
                .collect();
            let sets: Map<String, Value> = r
                .sets
                .iter()
                .map(|(s, k)| (set_name(*s), (*k).into()))
                .collect();
            json!({
                "expected": x.as_str(),
                "labels": r.labels,
                "holds": holds,
                "verdicts": verdicts,
                "sets": sets,
            })
        })
        .collect();
    json!({
        "db": db.display().to_string(),
        "labels_file": name,
        "labels": e.labels(),
        "bad_lines": bad,
        "categories": categories,
        "expected": expected,
    })
}
