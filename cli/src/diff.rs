//! `ipsieve diff OLD NEW`: what changed between two artifacts (see
//! [`ipsieve_builder::diff`] for how it counts), as text for a person or JSON for a pipeline,
//! and the `--max-shrink` guard that fails the run when a category or source shrank too much.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Result;
use ipsieve::Database;
use ipsieve_builder::diff::{coverage_pct, diff, Diff, FamilyDiff, KeyKind, PrefixChange, Shrink};
use ipsieve_builder::manifest::day_string;
use ipsieve_builder::walk::Family;
use serde_json::{json, Value};

use crate::output::escape;

/// The arguments of `ipsieve diff`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The artifact published now.
    old: PathBuf,
    /// The candidate.
    new: PathBuf,
    /// One JSON document instead of text (IPv6 counts as decimal strings).
    #[arg(long)]
    json: bool,
    /// How many of the largest changed prefixes to list per family (0 to 1000000).
    #[arg(long, default_value_t = 20, value_parser = top_count())]
    top: usize,
    /// Exit non-zero, naming each offender, when a category or source covers more than
    /// PCT percent fewer IPv4 or IPv6 addresses than in OLD (net of additions; 0 to 100).
    #[arg(long, value_name = "PCT", value_parser = percentage)]
    max_shrink: Option<f64>,
}

/// `diff --top`: 0 to a million prefixes per family.
fn top_count() -> clap::builder::RangedU64ValueParser<usize> {
    clap::builder::RangedU64ValueParser::new().range(0..=1_000_000)
}

/// `diff --max-shrink`: a percentage, 0 to 100.
fn percentage(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        _ => Err(format!("{text} is not a percentage (0 to 100)")),
    }
}

/// Prints the diff; false when `--max-shrink` was exceeded (each offender is named on
/// standard error).
pub(crate) fn run(args: &Args) -> Result<bool> {
    let (old, new) = (crate::open_db(&args.old)?, crate::open_db(&args.new)?);
    let d = diff(&old, &new, args.top);
    let shrinks = args.max_shrink.map(|p| d.shrinks(p)).unwrap_or_default();
    let mut out = crate::output::stdout();
    if args.json {
        let v = json!({
            "old": artifact_json(&args.old, &old),
            "new": artifact_json(&args.new, &new),
            "any": d.key(KeyKind::Any, "any").map(|k| key_json(&k.name, &k.v4, &k.v6)),
            "categories": kind_json(&d, KeyKind::Category),
            "providers": kind_json(&d, KeyKind::Provider),
            "sources": kind_json(&d, KeyKind::Source),
            "largest": {
                "ipv4": d.largest_v4.iter().map(|c| change_json(c, Family::V4)).collect::<Vec<_>>(),
                "ipv6": d.largest_v6.iter().map(|c| change_json(c, Family::V6)).collect::<Vec<_>>(),
            },
            "max_shrink_pct": args.max_shrink,
            "shrinks": shrinks.iter().map(shrink_json).collect::<Vec<_>>(),
        });
        serde_json::to_writer_pretty(&mut out, &v)?;
        writeln!(out)?;
    } else {
        print_text(&mut out, args, (&old, &new), &d)?;
        if let Some(p) = args.max_shrink {
            if shrinks.is_empty() {
                writeln!(
                    out,
                    "shrink guard: no category or source lost more than {p}% of its addresses"
                )?;
            }
        }
    }
    out.flush()?;
    for s in &shrinks {
        eprintln!(
            "ipsieve: {} {} lost {:.1}% of its {} addresses ({} → {}), more than --max-shrink {}%",
            s.kind.as_str(),
            escape(&s.name),
            s.pct,
            s.family.name(),
            s.old,
            s.new,
            args.max_shrink.unwrap_or(0.0)
        );
    }
    if !shrinks.is_empty() {
        eprintln!("ipsieve: the new artifact shrank too much: keep the old one");
    }
    Ok(shrinks.is_empty())
}

/// An address count: a JSON number for IPv4, a decimal string for IPv6 (past 2^53).
fn count_json(n: u128, family: Family) -> Value {
    match family {
        Family::V4 => json!(n as u64),
        Family::V6 => json!(n.to_string()),
    }
}

fn family_json(f: &FamilyDiff, family: Family) -> Value {
    json!({
        "old_ranges": f.old.ranges,
        "old_addresses": count_json(f.old.addresses, family),
        "new_ranges": f.new.ranges,
        "new_addresses": count_json(f.new.addresses, family),
        "added_ranges": f.added.ranges,
        "added_addresses": count_json(f.added.addresses, family),
        "removed_ranges": f.removed.ranges,
        "removed_addresses": count_json(f.removed.addresses, family),
        "old_coverage_pct": coverage_pct(f.old.addresses, family),
        "new_coverage_pct": coverage_pct(f.new.addresses, family),
        "shrink_pct": f.shrink_pct(),
    })
}

fn key_json(name: &str, v4: &FamilyDiff, v6: &FamilyDiff) -> Value {
    json!({
        "name": name,
        "ipv4": family_json(v4, Family::V4),
        "ipv6": family_json(v6, Family::V6),
    })
}

fn kind_json(d: &Diff, kind: KeyKind) -> Vec<Value> {
    d.of_kind(kind)
        .map(|k| key_json(&k.name, &k.v4, &k.v6))
        .collect()
}

fn change_json(c: &PrefixChange, family: Family) -> Value {
    let (provider_old, provider_new) = c.provider.clone().unwrap_or_default();
    json!({
        "net": c.net.to_string(),
        "addresses": count_json(c.addresses, family),
        "categories_added": c.categories_added.names().collect::<Vec<_>>(),
        "categories_removed": c.categories_removed.names().collect::<Vec<_>>(),
        "sources_added": c.sources_added,
        "sources_removed": c.sources_removed,
        "provider_changed": c.provider.is_some(),
        "provider_old": provider_old,
        "provider_new": provider_new,
    })
}

fn shrink_json(s: &Shrink) -> Value {
    json!({
        "kind": s.kind.as_str(),
        "name": s.name,
        "family": if s.family == Family::V4 { "ipv4" } else { "ipv6" },
        "old_addresses": count_json(s.old, s.family),
        "new_addresses": count_json(s.new, s.family),
        "pct": s.pct,
    })
}

fn artifact_json(path: &Path, db: &Database) -> Value {
    json!({
        "path": path.display().to_string(),
        "build_time": db.build_time(),
        "bytes": db.len(),
        "records": db.record_count(),
        "sources": db.sources().map(|s| s.name()).collect::<Vec<_>>(),
    })
}

/// `0%`, `12.34%`, or `1.23e-8%` for the tiny shares of the IPv6 space.
fn pct(p: f64) -> String {
    if p == 0.0 {
        "0%".to_owned()
    } else if p >= 0.01 {
        format!("{p:.2}%")
    } else {
        format!("{p:.2e}%")
    }
}

/// `12 → 10 (+1, -3)`, or `12 (unchanged)`.
fn delta(
    old: impl std::fmt::Display,
    new: impl std::fmt::Display,
    added: u128,
    removed: u128,
) -> String {
    if added == 0 && removed == 0 {
        format!("{new} (unchanged)")
    } else {
        format!("{old} → {new} (+{added}, -{removed})")
    }
}

fn print_text(
    out: &mut impl Write,
    args: &Args,
    (old, new): (&Database, &Database),
    d: &Diff,
) -> Result<()> {
    for (label, path, db) in [("old", &args.old, old), ("new", &args.new, new)] {
        writeln!(
            out,
            "{label}: {} (built {}, {} bytes, {} sources)",
            escape(&path.display().to_string()),
            day_string((db.build_time() / 86_400) as u32),
            db.len(),
            db.sources().count()
        )?;
    }
    // The one-line verdict first: whether any answer changed, and by how much.
    let changed_keys = d.keys.iter().filter(|k| !k.is_unchanged()).count();
    let moved = d.largest_v4.len() + d.largest_v6.len();
    if changed_keys == 0 && moved == 0 {
        writeln!(
            out,
            "verdict: unchanged: no address changed its answer ({} categories, providers and \
             sources compared)",
            d.keys.len()
        )?;
        return Ok(());
    }
    let total = d.key(KeyKind::Any, "any");
    let family = |f: Family| {
        total.map_or_else(String::new, |k| {
            let f = k.family(f);
            format!("+{} -{}", f.added.addresses, f.removed.addresses)
        })
    };
    writeln!(
        out,
        "verdict: changed: categorised addresses IPv4 {}, IPv6 {}; {changed_keys} of {} \
         categories, providers and sources changed",
        family(Family::V4),
        family(Family::V6),
        d.keys.len()
    )?;
    let width = d
        .keys
        .iter()
        .filter(|k| !k.is_unchanged())
        .map(|k| escape(&k.name).len())
        .max()
        .unwrap_or(0);
    for (title, kind) in [
        ("total (any category)", KeyKind::Any),
        ("categories", KeyKind::Category),
        ("providers", KeyKind::Provider),
        ("sources", KeyKind::Source),
    ] {
        writeln!(out, "\n{title}:")?;
        // Unchanged names on one line, after the changes.
        let mut unchanged = Vec::new();
        for k in d.of_kind(kind) {
            let name = escape(&k.name);
            if k.is_unchanged() {
                unchanged.push(name.into_owned());
                continue;
            }
            let mut any = false;
            for family in Family::BOTH {
                let f = k.family(family);
                if f.old.addresses == 0 && f.new.addresses == 0 {
                    continue;
                }
                writeln!(
                    out,
                    "  {:<width$}  {}  addresses {}; ranges {}; coverage {} → {}",
                    if any { "" } else { &name },
                    family.name(),
                    delta(
                        f.old.addresses,
                        f.new.addresses,
                        f.added.addresses,
                        f.removed.addresses
                    ),
                    delta(
                        f.old.ranges,
                        f.new.ranges,
                        u128::from(f.added.ranges),
                        u128::from(f.removed.ranges)
                    ),
                    pct(coverage_pct(f.old.addresses, family)),
                    pct(coverage_pct(f.new.addresses, family)),
                )?;
                any = true;
            }
            if !any {
                writeln!(out, "  {name:<width$}  none in either artifact")?;
            }
        }
        if !unchanged.is_empty() {
            writeln!(out, "  unchanged: {}", unchanged.join(", "))?;
        }
    }
    for (family, list) in [(Family::V4, &d.largest_v4), (Family::V6, &d.largest_v6)] {
        writeln!(
            out,
            "\nlargest changes, {} (top {}):",
            family.name(),
            args.top
        )?;
        if list.is_empty() {
            writeln!(out, "  none")?;
        }
        let net_width = list
            .iter()
            .map(|c| c.net.to_string().len())
            .max()
            .unwrap_or(0);
        for c in list {
            writeln!(
                out,
                "  {:<net_width$}  {:>12} addresses  {}",
                c.net.to_string(),
                c.addresses,
                escape(&describe(c))
            )?;
        }
    }
    Ok(())
}

/// `categories +vpn -hosting; sources +a -b; provider X → none`.
fn describe(c: &PrefixChange) -> String {
    let mut parts = Vec::new();
    let signed = |plus: Vec<String>, minus: Vec<String>| {
        plus.into_iter()
            .map(|s| format!("+{s}"))
            .chain(minus.into_iter().map(|s| format!("-{s}")))
            .collect::<Vec<_>>()
            .join(" ")
    };
    if !(c.categories_added.is_empty() && c.categories_removed.is_empty()) {
        let names = |c: ipsieve::Categories| c.names().map(str::to_owned).collect();
        parts.push(format!(
            "categories {}",
            signed(names(c.categories_added), names(c.categories_removed))
        ));
    }
    if !(c.sources_added.is_empty() && c.sources_removed.is_empty()) {
        parts.push(format!(
            "sources {}",
            signed(c.sources_added.clone(), c.sources_removed.clone())
        ));
    }
    if let Some((a, b)) = &c.provider {
        parts.push(format!(
            "provider {} → {}",
            a.as_deref().unwrap_or("none"),
            b.as_deref().unwrap_or("none")
        ));
    }
    parts.join("; ")
}
