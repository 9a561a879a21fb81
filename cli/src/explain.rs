//! `ipsieve explain` and the intelligence fields of `ipsieve lookup --json`: why an address
//! got its verdict, source by source (docs/INTELLIGENCE.md).

use std::io::Write;

use anyhow::Result;

use crate::output::escape;
use ipsieve::{Answer, Signal, Verdict};
use ipsieve_builder::manifest::day_string;
use serde::Serialize;

/// One signal as JSON.
#[derive(Serialize)]
pub(crate) struct JsonSignal<'a> {
    source: &'a str,
    format: &'a str,
    categories: Vec<&'static str>,
    tier: &'static str,
    weight: f32,
    /// `YYYY-MM-DD`, or null when the source has no date.
    snapshot: Option<String>,
    /// Days between the snapshot and the artifact's data day (its newest snapshot, or the
    /// build day if earlier), which the weight decays by; null when the source has no date.
    age_days: Option<u32>,
}

impl<'a> JsonSignal<'a> {
    fn new(s: &Signal<'a>) -> Self {
        JsonSignal {
            source: s.name(),
            format: s.format(),
            categories: s.categories().names().collect(),
            tier: s.tier().as_str(),
            weight: s.weight(),
            snapshot: s.snapshot_day().map(day_string),
            age_days: s.age_days(),
        }
    }
}

/// The signals of an answer as JSON, in source order.
pub(crate) fn json_signals<'a>(a: &Answer<'a>) -> Vec<JsonSignal<'a>> {
    a.signals().map(|s| JsonSignal::new(&s)).collect()
}

/// What a verdict means, in words: the verdicts speak IPLogs' vocabulary, where `vpn_detected`
/// stands for any anonymizer (a Tor exit too).
fn verdict_meaning(v: Verdict) -> &'static str {
    match v {
        Verdict::Clean => "nothing that counts",
        Verdict::Suspicious => "hosting space",
        Verdict::VpnLikely => "probably an anonymizer (VPN, proxy or Tor)",
        Verdict::VpnDetected => "an anonymizer (VPN, proxy or Tor) was detected",
    }
}

/// The explanation of one answer for a person: verdict and score with their equivalents, what
/// the address is, then one line per source, strongest signal first.
/// `data_day` is the artifact's ([`ipsieve::Database::data_day`]): the day each signal's age
/// counts to.
pub(crate) fn print_text(
    out: &mut impl Write,
    input: &str,
    a: &Answer<'_>,
    data_day: u32,
) -> Result<()> {
    writeln!(out, "{} in {}", escape(input), a.network())?;
    if let Some(b) = a.special() {
        writeln!(
            out,
            "  special-purpose: {} ({}, {}), {}{}",
            b.name(),
            b.rfc(),
            b.network(),
            if b.is_globally_reachable() {
                "globally reachable"
            } else {
                "not globally reachable"
            },
            if b.is_bogon() {
                "; a bogon: never a source address on the public internet"
            } else {
                ""
            },
        )?;
    }
    if a.special().is_none() && a.is_bogon() {
        writeln!(
            out,
            "  not delegated by any RIR (none of the five RIRs' delegation files lists it): \
             a bogon, never a source address on the public internet"
        )?;
    }
    let mut signals: Vec<Signal<'_>> = a.signals().collect();
    // Strongest first; equal weights keep source order.
    signals.sort_by_key(|s| std::cmp::Reverse(s.weight_hundredths()));
    // The category that decided the verdict: the strongest signal that counts.
    let decided = signals
        .iter()
        .map(|s| s.counted())
        .find(|c| !c.is_empty())
        .map(|c| c.to_string());
    writeln!(
        out,
        "  verdict {} ({}{}), score {:.2} (trust {}, risk {}), strongest evidence {}",
        a.verdict(),
        verdict_meaning(a.verdict()),
        decided.map_or_else(String::new, |c| format!("; decided by {c}")),
        a.score(),
        a.trust_score(),
        a.risk_level(),
        a.tier().map_or("none", |t| t.as_str()),
    )?;
    let cats = a.categories().to_string();
    let cats = match a.last_seen_day() {
        Some(day) => format!("{cats} (last seen {})", day_string(day)),
        None if cats.is_empty() => "-".to_owned(),
        None => cats,
    };
    writeln!(
        out,
        "  categories {}; {}; provider {}; country {}",
        cats,
        match (a.asn(), a.as_org()) {
            (Some(n), Some(org)) => format!("AS{n} {}", escape(org)),
            (Some(n), None) => format!("AS{n}"),
            (None, _) => "no ASN".to_owned(),
        },
        escape(a.provider().unwrap_or("-")),
        escape(a.country().unwrap_or("-")),
    )?;
    if signals.is_empty() {
        writeln!(out, "  no source covers this address")?;
        return Ok(());
    }
    let rows: Vec<[String; 4]> = signals
        .iter()
        .map(|s| {
            let c = s.categories().to_string();
            [
                escape(s.name()).into_owned(),
                escape(s.format()).into_owned(),
                if c.is_empty() { "-".to_owned() } else { c },
                s.tier().to_string(),
            ]
        })
        .collect();
    let width = |i: usize| rows.iter().map(|r| r[i].len()).max().unwrap_or(0);
    let widths = [width(0), width(1), width(2), width(3)];
    writeln!(out, "  signals:")?;
    for (s, r) in signals.iter().zip(&rows) {
        let discounted = if s.counted() != s.categories() {
            "  (hosting and ASN-wide signals do not count on a privacy relay)"
        } else {
            ""
        };
        writeln!(
            out,
            "    {:<w0$}  {:<w1$}  {:<w2$}  {:<w3$}  weight {:.2}  snapshot {}{discounted}",
            r[0],
            r[1],
            r[2],
            r[3],
            s.weight(),
            match (s.snapshot_day(), s.age_days()) {
                (Some(day), Some(age)) => format!(
                    "{} ({age} days old on {})",
                    day_string(day),
                    day_string(data_day)
                ),
                (Some(day), None) => day_string(day),
                (None, _) => "-".to_owned(),
            },
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2],
            w3 = widths[3],
        )?;
    }
    Ok(())
}
