//! The CI bench regression gate's driver (run by `.ci/bench-gate`): instruction counts, not
//! wall time, so it is deterministic on a shared, noisy machine.
//!
//! * `gate measure`: builds the vendored snapshot (`data/snapshot/sources.toml`) in-process,
//!   reads its disjoint ranges back into the binary-search baseline, checks that both answer
//!   alike, then runs a fixed seeded set of lookups per workload through ipsieve and through
//!   the baseline, each in its own `#[inline(never)]` function named `gate_measure_*`, which
//!   callgrind isolates (`--toggle-collect='*gate_measure_*'`).
//! * `gate compare ANNOTATE THRESHOLDS [--bless]`: reads the inclusive cost of each of those
//!   functions from `callgrind_annotate --inclusive=yes` output, divides by the lookups, and
//!   compares ipsieve's instructions per lookup and its ratio to the baseline with the
//!   committed thresholds; prints a table and exits 1 on a regression beyond the tolerance.
//!   `--bless` writes the measured values as the new thresholds instead.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::ExitCode;

use ipsieve::Database;
use ipsieve_benches::baseline::BinarySearch;
use ipsieve_benches::ranges::{from_database, record_index};
use ipsieve_benches::sieve::{SieveAsn, SieveRecord};
use ipsieve_benches::{
    assert_agrees, inside_v4, inside_v6, random_v4, random_v6_miss, snapshot_set, Mode, Probes,
};
use serde::{Deserialize, Serialize};

/// Lookups per workload and structure.
const LOOKUPS: usize = 20_000;

/// The workloads, in table order.
const WORKLOADS: [&str; 4] = [
    "ipv4-random",
    "ipv4-inside",
    "ipv6-inside",
    "ipv6-random-miss",
];

/// Defines one out-of-line measured function per (structure, workload), so that callgrind
/// reports each separately.
macro_rules! measured {
    ($($name:ident: $l:ident, $w:literal, $id:literal;)*) => {
        $(
            // The distinct constant keeps the optimiser from merging these identical bodies
            // into one symbol, which would pool their counts.
            #[inline(never)]
            fn $name<L: ipsieve_benches::Lookup>(l: &L, probes: &Probes) -> u32 {
                probes.pass(l, Mode::Throughput) ^ std::hint::black_box($id)
            }
        )*
        /// Runs every measured function once.
        fn run_all(db: &Database, base: &BinarySearch, work: &[Probes; 4]) -> u32 {
            let sieve = SieveAsn(db);
            let mut acc = 0u32;
            $( acc = acc.wrapping_add($name(measured!(@pick $l, sieve, base), &work[$w])); )*
            acc
        }
    };
    (@pick ipsieve, $s:ident, $b:ident) => { &$s };
    (@pick baseline, $s:ident, $b:ident) => { $b };
}

measured! {
    gate_measure_ipsieve_ipv4_random: ipsieve, 0, 1;
    gate_measure_baseline_ipv4_random: baseline, 0, 2;
    gate_measure_ipsieve_ipv4_inside: ipsieve, 1, 3;
    gate_measure_baseline_ipv4_inside: baseline, 1, 4;
    gate_measure_ipsieve_ipv6_inside: ipsieve, 2, 5;
    gate_measure_baseline_ipv6_inside: baseline, 2, 6;
    gate_measure_ipsieve_ipv6_random_miss: ipsieve, 3, 7;
    gate_measure_baseline_ipv6_random_miss: baseline, 3, 8;
}

fn measure() -> ExitCode {
    let set = snapshot_set();
    let db = Database::from_bytes(&set.bytes).expect("snapshot artifact opens");
    let ranges = from_database(&db, |a| record_index(&db, a));
    let base = BinarySearch::new(&ranges);
    let (v4, v6) = (ranges.v4_bounds(), ranges.v6_bounds());
    let work = [
        Probes::V4(random_v4(LOOKUPS)),
        Probes::V4(inside_v4(&v4, LOOKUPS)),
        Probes::V6(inside_v6(&v6, LOOKUPS)),
        Probes::V6(random_v6_miss(&v6, LOOKUPS)),
    ];
    for (w, probes) in WORKLOADS.iter().zip(&work) {
        let want = probes.answers(&SieveRecord(&db), LOOKUPS);
        assert_agrees(&format!("{w}: binary-search"), &base, probes, &want);
    }
    println!(
        "snapshot: {} IPv4 + {} IPv6 non-empty ranges; {LOOKUPS} lookups per workload; \
         baseline agrees with ipsieve on all of them",
        ranges.v4.len(),
        ranges.v6.len()
    );
    std::hint::black_box(run_all(&db, &base, &work));
    ExitCode::SUCCESS
}

/// The committed thresholds (`benches/gate-thresholds.toml`).
#[derive(Debug, Serialize, Deserialize)]
struct Thresholds {
    /// Allowed relative increase over each committed value (0.10 = 10 %).
    tolerance: f64,
    /// Per workload.
    workload: BTreeMap<String, Limit>,
}

/// The committed values for one workload.
#[derive(Debug, Serialize, Deserialize)]
struct Limit {
    /// ipsieve's instructions per lookup when committed.
    ipsieve: f64,
    /// ipsieve's instructions per lookup divided by the baseline's, when committed.
    ratio: f64,
    /// The baseline's instructions per lookup when committed (for information only).
    baseline: f64,
}

/// Inclusive instruction count of every `gate_measure_*` function in `callgrind_annotate
/// --inclusive=yes` output.
fn parse_annotate(text: &str) -> BTreeMap<String, u64> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(at) = line.find("gate_measure_") else {
            continue;
        };
        let name: String = line[at + "gate_measure_".len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let digits: String = line
            .trim_start()
            .chars()
            .take_while(|c| c.is_ascii_digit() || *c == ',')
            .filter(char::is_ascii_digit)
            .collect();
        if let Ok(n) = digits.parse::<u64>() {
            // Keep the largest figure per function (its own inclusive line).
            let e = out.entry(name).or_insert(0);
            *e = (*e).max(n);
        }
    }
    out
}

fn compare(annotate: &str, thresholds: &str, bless: bool) -> ExitCode {
    let text = std::fs::read_to_string(annotate).unwrap_or_else(|e| panic!("{annotate}: {e}"));
    let counts = parse_annotate(&text);
    let per_lookup = |structure: &str, w: &str| -> Option<f64> {
        let key = format!("{structure}_{}", w.replace('-', "_"));
        counts.get(&key).map(|&n| n as f64 / LOOKUPS as f64)
    };
    let committed: Option<Thresholds> = std::fs::read_to_string(thresholds)
        .ok()
        .map(|t| toml::from_str(&t).unwrap_or_else(|e| panic!("{thresholds}: {e}")));
    let tolerance = committed.as_ref().map_or(0.10, |t| t.tolerance);

    let mut table = String::new();
    let _ = writeln!(
        table,
        "{:<17} {:>12} {:>12} {:>9} {:>9} {:>9}  verdict",
        "workload", "ipsieve Ir", "limit", "baseline", "ratio", "limit"
    );
    let mut failed = false;
    let mut measured = BTreeMap::new();
    for w in WORKLOADS {
        let (Some(s), Some(b)) = (per_lookup("ipsieve", w), per_lookup("baseline", w)) else {
            eprintln!("bench-gate: no callgrind count for {w} in {annotate}");
            return ExitCode::FAILURE;
        };
        let ratio = s / b;
        measured.insert(
            w.to_owned(),
            Limit {
                ipsieve: round2(s),
                ratio: round3(ratio),
                baseline: round2(b),
            },
        );
        let limit = committed.as_ref().and_then(|t| t.workload.get(w));
        let (s_max, r_max) = limit.map_or((f64::NAN, f64::NAN), |l| {
            (l.ipsieve * (1.0 + tolerance), l.ratio * (1.0 + tolerance))
        });
        let verdict = match limit {
            None => "no threshold".to_owned(),
            Some(_) if s > s_max || ratio > r_max => {
                failed = true;
                "REGRESSION".to_owned()
            }
            Some(l) if s < l.ipsieve * (1.0 - tolerance) => {
                "ok (improved: consider --bless)".to_owned()
            }
            Some(_) => "ok".to_owned(),
        };
        let _ = writeln!(
            table,
            "{w:<17} {s:>12.2} {s_max:>12.2} {b:>9.2} {ratio:>9.3} {r_max:>9.3}  {verdict}"
        );
    }
    println!(
        "bench gate: instructions per lookup (callgrind, {LOOKUPS} lookups per workload, \
         vendored snapshot); limits = committed value + {:.0} %; ratio = ipsieve / binary search",
        tolerance * 100.0
    );
    print!("{table}");
    if bless {
        let t = Thresholds {
            tolerance,
            workload: measured,
        };
        let body = toml::to_string(&t).expect("serialise thresholds");
        let text = format!(
            "# Bench gate thresholds (.ci/bench-gate): instructions per lookup measured by callgrind on\n\
             # the vendored snapshot, written by `.ci/bench-gate --bless`. The gate fails when ipsieve's\n\
             # count or its ratio to the binary-search baseline exceeds a value here by more than\n\
             # `tolerance`.\n{body}"
        );
        std::fs::write(thresholds, text).unwrap_or_else(|e| panic!("{thresholds}: {e}"));
        println!("bench gate: wrote {thresholds}");
        return ExitCode::SUCCESS;
    }
    if committed.is_none() {
        eprintln!("bench gate: {thresholds} is missing; run .ci/bench-gate --bless");
        return ExitCode::FAILURE;
    }
    if failed {
        eprintln!(
            "bench gate: ipsieve regressed beyond the tolerance; fix it, or if the cost is \
             deliberate, run .ci/bench-gate --bless and commit {thresholds}"
        );
        return ExitCode::FAILURE;
    }
    println!("bench gate: passed");
    ExitCode::SUCCESS
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["measure"] => measure(),
        ["compare", annotate, thresholds] => compare(annotate, thresholds, false),
        ["compare", annotate, thresholds, "--bless"] => compare(annotate, thresholds, true),
        _ => {
            eprintln!(
                "usage: gate measure | gate compare CALLGRIND_ANNOTATE_OUTPUT THRESHOLDS [--bless]"
            );
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inclusive_counts() {
        let text = "\
1,200,000 (100.0%)  PROGRAM TOTALS
  480,000 (40.00%)  ???:gate::gate_measure_ipsieve_ipv4_random [/x/gate]
   60,000 ( 5.00%)  ???:gate::gate_measure_baseline_ipv6_random_miss [/x/gate]
    1,000 ( 0.08%)  ???:ipsieve_benches::throughput_v4 [/x/gate]
";
        let c = parse_annotate(text);
        assert_eq!(c.get("ipsieve_ipv4_random"), Some(&480_000));
        assert_eq!(c.get("baseline_ipv6_random_miss"), Some(&60_000));
        assert_eq!(c.len(), 2);
    }
}
