//! The CI bench regression gate's driver (run by `.ci/bench-gate`): counts from valgrind, not
//! wall time, so the verdict is deterministic on a shared, noisy machine. Two parts:
//!
//! * **Snapshot: instructions.** `gate measure` builds the vendored snapshot
//!   (`data/snapshot/sources.toml`) in-process, reads its disjoint ranges back into the
//!   binary-search baseline, checks that both answer alike, then runs a fixed seeded set of
//!   lookups per workload through ipsieve and through the baseline, each in its own
//!   `#[inline(never)]` function named `gate_measure_*`, which callgrind isolates
//!   (`--toggle-collect='*gate_measure_*'`). The snapshot fits in any cache: this part sees
//!   code that does more work, never a cache miss.
//! * **Full size: cache misses.** `gate prepare DIR` builds the full-size artifact from
//!   `../shared/data` once (natively, a few seconds) and writes it and the seeded probe
//!   addresses into `DIR`; `gate cache DIR`, run under callgrind with its cache simulator
//!   (`--cache-sim=yes`) and the fixed cache model [`CACHE_MODEL`] given on the command line
//!   (`gate cache-model` prints it, so the counts never depend on the host's caches), opens
//!   the artifact with `Database::open` and runs, for each path (single lookup reading the
//!   ASN, verdict-only, `lookup_many` reading the ASN) and workload (random IPv4, inside IPv4
//!   ranges, inside IPv6 ranges): a read of a buffer twice the simulated last-level cache (so
//!   every path starts from the same empty caches, whatever ran before it), a warm-up pass
//!   over [`WARMUP`] addresses of the same distribution (collection off: callgrind's simulated
//!   caches still fill while nothing is counted), then [`CACHE_LOOKUPS`] fresh addresses in a
//!   function named `gate_cache_*`, the only code collected: steady-state instructions,
//!   last-level misses and (with `--branch-sim=yes`, callgrind's fixed predictor model)
//!   mispredicted branches per lookup.
//! * `gate compare THRESHOLDS SNAPSHOT_ANNOTATE [CACHE_ANNOTATE] [--bless]`: reads the inclusive
//!   costs of those functions from `callgrind_annotate --inclusive=yes` output, divides them by
//!   the lookups and compares them with the committed thresholds: ipsieve's instructions per
//!   lookup and its ratio to the baseline on the snapshot; instructions, last-level misses and
//!   mispredictions per lookup on the full-size artifact (checking that the annotate file was
//!   made with [`CACHE_MODEL`]). Prints tables and exits 1 on a regression beyond the headroom.
//!   `--bless` writes the measured values as the new thresholds instead, keeping the committed
//!   full-size part when it was not measured.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::process::ExitCode;

use ipsieve::Database;
use ipsieve_benches::baseline::BinarySearch;
use ipsieve_benches::ranges::{from_database, record_index};
use ipsieve_benches::sieve::{AsnField, SieveAsn, SieveMany, SieveRecord, SieveVerdict};
use ipsieve_benches::{
    assert_agrees, data_set, inside_v4, inside_v6, random_v4, random_v6_miss, shared_data,
    shared_data_present, snapshot_set, Mode, Probes,
};
use serde::{Deserialize, Serialize};

/// Lookups per workload and structure (snapshot part).
const LOOKUPS: usize = 20_000;

/// Measured lookups per path and workload (full-size part).
const CACHE_LOOKUPS: usize = 20_000;

/// Warm-up lookups before each measured pass (full-size part), from emptied caches: enough
/// that the simulated last-level cache holds what this path and distribution keep hot, so the
/// measured pass counts steady-state misses and not first touches. Measured on the full-size
/// artifact: after 60 k warm-up lookups random IPv4 single lookups still missed 0.33 times per
/// lookup, after 300 k 0.16, after 1 M 0.118, after 2 M 0.113 (converged within 5 %). Each
/// 100 k costs about 3 s under the simulator.
const WARMUP: usize = 1_000_000;

/// The simulated caches (valgrind's `--I1`, `--D1`, `--LL`: size in bytes, associativity,
/// line size). First level: 32 KiB, 8-way, 64-byte lines, as nearly every x86-64 core has.
/// Last level: 8 MiB, 16-way, the share of a last-level cache one lookup thread can count on
/// beside other work (PERFORMANCE.md: on the EPYC guest dependent loads cost 25 ns up to
/// 8 MiB, 130-160 ns from 16 MiB). Changing it changes every count: re-bless.
const CACHE_MODEL: [(&str, u64, u64, u64); 3] = [
    ("I1", 32 << 10, 8, 64),
    ("D1", 32 << 10, 8, 64),
    ("LL", 8 << 20, 16, 64),
];

/// The workloads of the snapshot part, in table order.
const WORKLOADS: [&str; 4] = [
    "ipv4-random",
    "ipv4-inside",
    "ipv6-inside",
    "ipv6-random-miss",
];

/// The workloads of the full-size part, in table order (also the probe file names).
const CACHE_WORKLOADS: [&str; 3] = ["ipv4-random", "ipv4-inside", "ipv6-inside"];

/// The paths of the full-size part, in table order.
const PATHS: [&str; 3] = ["single", "verdict", "batch"];

/// Exit status of `gate prepare` when `../shared/data` is absent.
const ABSENT: u8 = 3;

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

/// The valgrind options of [`CACHE_MODEL`].
fn cache_model_flags() -> String {
    CACHE_MODEL
        .iter()
        .map(|(name, size, ways, line)| format!("--{name}={size},{ways},{line}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The probe file of a full-size workload.
fn probe_file(dir: &Path, workload: &str) -> std::path::PathBuf {
    dir.join(format!("{workload}.probes"))
}

/// The artifact file of the full-size part.
fn artifact_file(dir: &Path) -> std::path::PathBuf {
    dir.join("full.ipsieve")
}

/// Builds the full-size artifact and writes it and the probes of every workload into `dir`:
/// [`WARMUP`] + [`CACHE_LOOKUPS`] seeded addresses each, 16 bytes (big-endian `u128`, IPv4 as
/// its `u32` value) per address.
fn prepare(dir: &Path) -> ExitCode {
    if !shared_data_present() {
        eprintln!(
            "bench gate: {} is absent: the full-size artifact cannot be built",
            shared_data().display()
        );
        return ExitCode::from(ABSENT);
    }
    let set = data_set();
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    std::fs::write(artifact_file(dir), &set.bytes).expect("write the artifact");
    let n = WARMUP + CACHE_LOOKUPS;
    for w in CACHE_WORKLOADS {
        let addrs: Vec<u128> = match w {
            "ipv4-random" => random_v4(n)
                .into_iter()
                .map(|a| u32::from(a).into())
                .collect(),
            "ipv4-inside" => inside_v4(&set.v4, n)
                .into_iter()
                .map(|a| u32::from(a).into())
                .collect(),
            _ => inside_v6(&set.v6, n).into_iter().map(u128::from).collect(),
        };
        let bytes: Vec<u8> = addrs.iter().flat_map(|a| a.to_be_bytes()).collect();
        std::fs::write(probe_file(dir, w), bytes).expect("write the probes");
    }
    println!(
        "bench gate: full-size artifact ({} bytes) and {n} probes per workload written to {}",
        set.bytes.len(),
        dir.display()
    );
    ExitCode::SUCCESS
}

/// Reads the probes of `workload` from `dir`: (warm-up, measured).
fn read_probes(dir: &Path, workload: &str) -> (Probes, Probes) {
    let path = probe_file(dir, workload);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let addrs: Vec<u128> = bytes
        .chunks_exact(16)
        .map(|c| u128::from_be_bytes(c.try_into().expect("16 bytes")))
        .collect();
    assert_eq!(
        addrs.len(),
        WARMUP + CACHE_LOOKUPS,
        "{}: wrong probe count (run gate prepare again)",
        path.display()
    );
    let probes = |a: &[u128]| {
        if workload.starts_with("ipv4") {
            Probes::V4(a.iter().map(|&x| Ipv4Addr::from(x as u32)).collect())
        } else {
            Probes::V6(a.iter().map(|&x| Ipv6Addr::from(x)).collect())
        }
    };
    (probes(&addrs[..WARMUP]), probes(&addrs[WARMUP..]))
}

/// One pass of `path` over `probes`; every answer goes through `black_box`.
#[inline(always)]
fn run_path(db: &Database, path: &str, probes: &Probes) -> u32 {
    match path {
        "single" => probes.pass(&SieveAsn(db), Mode::Throughput),
        "verdict" => probes.pass(&SieveVerdict(db), Mode::Throughput),
        _ => SieveMany::<AsnField>::new(db).pass(probes),
    }
}

/// The warm-up pass: outside every `gate_cache_*` function, so not collected, but the
/// simulated caches fill.
#[inline(never)]
fn gate_warmup(db: &Database, path: &str, probes: &Probes) -> u32 {
    run_path(db, path, probes)
}

/// Defines the measured function of every (path, workload) of the full-size part.
macro_rules! cached {
    ($($name:ident: $path:literal, $w:literal, $id:literal;)*) => {
        $(
            #[inline(never)]
            fn $name(db: &Database, probes: &Probes) -> u32 {
                run_path(db, $path, probes) ^ std::hint::black_box($id)
            }
        )*
        /// The measured function of (`path`, `workload`).
        fn cached(path: &str, workload: &str) -> fn(&Database, &Probes) -> u32 {
            match (path, workload) {
                $( ($path, $w) => $name, )*
                _ => unreachable!("no measured function for {path} {workload}"),
            }
        }
    };
}

cached! {
    gate_cache_single_ipv4_random: "single", "ipv4-random", 11;
    gate_cache_verdict_ipv4_random: "verdict", "ipv4-random", 12;
    gate_cache_batch_ipv4_random: "batch", "ipv4-random", 13;
    gate_cache_single_ipv4_inside: "single", "ipv4-inside", 14;
    gate_cache_verdict_ipv4_inside: "verdict", "ipv4-inside", 15;
    gate_cache_batch_ipv4_inside: "batch", "ipv4-inside", 16;
    gate_cache_single_ipv6_inside: "single", "ipv6-inside", 17;
    gate_cache_verdict_ipv6_inside: "verdict", "ipv6-inside", 18;
    gate_cache_batch_ipv6_inside: "batch", "ipv6-inside", 19;
}

/// Reads one word of every line of `junk` (twice the simulated last-level cache): every line
/// cached before is evicted, so each path starts from the same empty caches whatever ran
/// before it. Not collected.
#[inline(never)]
fn gate_flush(junk: &[u64]) -> u64 {
    junk.iter()
        .step_by(8)
        .fold(0, |acc, &x| acc.wrapping_add(std::hint::black_box(x)))
}

/// The full-size part's measured run (under callgrind with [`CACHE_MODEL`]).
fn cache(dir: &Path) -> ExitCode {
    let path = artifact_file(dir);
    let db = Database::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let ll = CACHE_MODEL[2].1 as usize;
    let junk = vec![1u64; 2 * ll / 8];
    let mut acc = 0u32;
    for w in CACHE_WORKLOADS {
        let (warm, probes) = read_probes(dir, w);
        for p in PATHS {
            std::hint::black_box(gate_flush(&junk));
            acc = acc.wrapping_add(gate_warmup(&db, p, &warm));
            acc = acc.wrapping_add(cached(p, w)(&db, &probes));
        }
    }
    std::hint::black_box(acc);
    println!(
        "bench gate: {} paths x {} workloads, {WARMUP} warm-up + {CACHE_LOOKUPS} measured \
         lookups each",
        PATHS.len(),
        CACHE_WORKLOADS.len()
    );
    ExitCode::SUCCESS
}

/// The committed thresholds (`benches/gate-thresholds.toml`).
#[derive(Debug, Serialize, Deserialize)]
struct Thresholds {
    /// Allowed relative increase over each committed snapshot value (0.10 = 10 %).
    tolerance: f64,
    /// Snapshot part, per workload.
    workload: BTreeMap<String, Limit>,
    /// Full-size part; absent until first blessed with `../shared/data` present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cache: Option<CacheThresholds>,
}

/// The committed snapshot values for one workload.
#[derive(Debug, Serialize, Deserialize)]
struct Limit {
    /// ipsieve's instructions per lookup when committed.
    ipsieve: f64,
    /// ipsieve's instructions per lookup divided by the baseline's, when committed.
    ratio: f64,
    /// The baseline's instructions per lookup when committed (for information only).
    baseline: f64,
}

/// The committed full-size values.
#[derive(Debug, Serialize, Deserialize)]
struct CacheThresholds {
    /// The cache model they were measured with (valgrind options).
    model: String,
    /// Measured lookups per path and workload.
    lookups: usize,
    /// Allowed relative increase of instructions and last-level misses (0.10 = 10 %).
    tolerance: f64,
    /// Allowed absolute increase of last-level misses per lookup, on top of `tolerance`
    /// (a small count moves by a few hundredths when code or data move between cache sets).
    ll_slack: f64,
    /// Allowed absolute increase of branch mispredictions per lookup, on top of `tolerance`.
    branch_slack: f64,
    /// Per workload, per path.
    workload: BTreeMap<String, BTreeMap<String, CacheLimit>>,
}

/// The committed values of one path on one workload.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
struct CacheLimit {
    /// Instructions per lookup.
    instructions: f64,
    /// Last-level misses per lookup (instruction and data, reads and writes).
    ll_misses: f64,
    /// First-level data misses per lookup (for information only).
    d1_misses: f64,
    /// Mispredicted conditional and indirect branches per lookup, from callgrind's branch
    /// simulator (`--branch-sim=yes`: a fixed predictor model, so the count does not depend on
    /// the host). A misprediction flushes the pipeline and with it the loads of the next
    /// lookups already in flight, a cost neither instructions nor cache misses show.
    mispredicts: f64,
}

/// Inclusive event counts of every function whose name contains `marker`, keyed by the rest of
/// its name, in `callgrind_annotate --inclusive=yes` output, and the event names in column
/// order (from the `Events shown:` line).
fn parse_annotate(text: &str, marker: &str) -> (Vec<String>, BTreeMap<String, Vec<u64>>) {
    let events: Vec<String> = text
        .lines()
        .find_map(|l| l.strip_prefix("Events shown:"))
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_else(|| vec!["Ir".to_owned()]);
    let mut out: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for line in text.lines() {
        let Some(at) = line.find(marker) else {
            continue;
        };
        let name: String = line[at + marker.len()..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let mut counts = Vec::new();
        for token in line[..at].split_whitespace() {
            if token.starts_with('(') || token.ends_with(')') {
                continue; // a percentage: "(40.00%)", or "(" "5.00%)"
            }
            if token == "." {
                counts.push(0);
                continue;
            }
            let digits: String = token.chars().filter(|c| *c != ',').collect();
            match digits.parse::<u64>() {
                Ok(n) => counts.push(n),
                Err(_) => break,
            }
        }
        if counts.is_empty() {
            continue;
        }
        // Keep the largest figures per function (its own inclusive line).
        let e = out.entry(name).or_default();
        if counts.first() > e.first() {
            *e = counts;
        }
    }
    (events, out)
}

/// The cache model an annotate file was made with, from its `I1 cache:` / `D1 cache:` /
/// `LL cache:` lines, in [`CACHE_MODEL`]'s option syntax.
fn annotate_model(text: &str) -> Option<String> {
    let mut parts = Vec::new();
    for (name, ..) in CACHE_MODEL {
        let line = text
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} cache:")))?;
        // "32768 B, 64 B, 8-way associative"
        let nums: Vec<u64> = line
            .split(',')
            .filter_map(|p| {
                p.split(|c: char| !c.is_ascii_digit())
                    .find(|s| !s.is_empty())?
                    .parse()
                    .ok()
            })
            .collect();
        let [size, line_size, ways] = nums[..] else {
            return None;
        };
        parts.push(format!("--{name}={size},{ways},{line_size}"));
    }
    Some(parts.join(" "))
}

/// The snapshot part: table, failure flag and the measured values.
fn compare_snapshot(
    annotate: &str,
    committed: Option<&Thresholds>,
) -> Result<(String, bool, BTreeMap<String, Limit>), String> {
    let text = std::fs::read_to_string(annotate).map_err(|e| format!("{annotate}: {e}"))?;
    let (_, counts) = parse_annotate(&text, "gate_measure_");
    let per_lookup = |structure: &str, w: &str| -> Option<f64> {
        let key = format!("{structure}_{}", w.replace('-', "_"));
        counts
            .get(&key)
            .and_then(|c| c.first())
            .map(|&n| n as f64 / LOOKUPS as f64)
    };
    let tolerance = committed.map_or(0.10, |t| t.tolerance);
    let mut table = String::new();
    let _ = writeln!(
        table,
        "bench gate, snapshot part: instructions per lookup (callgrind, {LOOKUPS} lookups per \
         workload, vendored snapshot); limits = committed value + {:.0} %; ratio = ipsieve / \
         binary search",
        tolerance * 100.0
    );
    let _ = writeln!(
        table,
        "{:<17} {:>12} {:>12} {:>9} {:>9} {:>9}  verdict",
        "workload", "ipsieve Ir", "limit", "baseline", "ratio", "limit"
    );
    let mut failed = false;
    let mut measured = BTreeMap::new();
    for w in WORKLOADS {
        let (Some(s), Some(b)) = (per_lookup("ipsieve", w), per_lookup("baseline", w)) else {
            return Err(format!("no callgrind count for {w} in {annotate}"));
        };
        let ratio = s / b;
        measured.insert(
            w.to_owned(),
            Limit {
                ipsieve: round(s, 2),
                ratio: round(ratio, 3),
                baseline: round(b, 2),
            },
        );
        let limit = committed.and_then(|t| t.workload.get(w));
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
    Ok((table, failed, measured))
}

/// The full-size part: table, failure flag and the measured values.
fn compare_cache(
    annotate: &str,
    committed: Option<&CacheThresholds>,
) -> Result<(String, bool, CacheThresholds), String> {
    let text = std::fs::read_to_string(annotate).map_err(|e| format!("{annotate}: {e}"))?;
    let model = cache_model_flags();
    match annotate_model(&text) {
        Some(m) if m == model => {}
        found => {
            return Err(format!(
                "{annotate} was not made with the gate's cache model {model} (found {})",
                found.as_deref().unwrap_or("no cache simulation")
            ))
        }
    }
    if let Some(c) = committed {
        if c.model != model || c.lookups != CACHE_LOOKUPS {
            return Err(format!(
                "the committed full-size thresholds were blessed with {} and {} lookups, the gate \
                 now runs {model} and {CACHE_LOOKUPS}: run .ci/bench-gate --bless",
                c.model, c.lookups
            ));
        }
    }
    let (events, counts) = parse_annotate(&text, "gate_cache_");
    let col = |name: &str| events.iter().position(|e| e == name);
    let ll_cols: Vec<usize> = ["ILmr", "DLmr", "DLmw"]
        .iter()
        .filter_map(|e| col(e))
        .collect();
    let (Some(ir), Some(d1r), Some(d1w)) = (col("Ir"), col("D1mr"), col("D1mw")) else {
        return Err(format!(
            "{annotate}: no cache events (was --cache-sim=yes given?)"
        ));
    };
    if ll_cols.len() != 3 {
        return Err(format!("{annotate}: no last-level miss events"));
    }
    let (Some(bcm), Some(bim)) = (col("Bcm"), col("Bim")) else {
        return Err(format!(
            "{annotate}: no branch events (was --branch-sim=yes given?)"
        ));
    };
    let tolerance = committed.map_or(0.10, |c| c.tolerance);
    let ll_slack = committed.map_or(0.01, |c| c.ll_slack);
    let branch_slack = committed.map_or(0.05, |c| c.branch_slack);
    let n = CACHE_LOOKUPS as f64;
    let mut table = String::new();
    let _ = writeln!(
        table,
        "bench gate, full-size part: per lookup, callgrind cache simulation {model}, \
         {CACHE_LOOKUPS} measured lookups after {WARMUP} warm-up lookups per path and workload, \
         callgrind branch simulation, full-size artifact; limits = committed value + {:.0} % \
         (+ {ll_slack} LL misses, + {branch_slack} mispredictions)",
        tolerance * 100.0
    );
    let _ = writeln!(
        table,
        "{:<12} {:<8} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10} {:>10}  verdict",
        "workload", "path", "instr", "limit", "LL miss", "limit", "mispred", "limit", "D1 miss"
    );
    let mut failed = false;
    let mut measured: BTreeMap<String, BTreeMap<String, CacheLimit>> = BTreeMap::new();
    for w in CACHE_WORKLOADS {
        for p in PATHS {
            let key = format!("{p}_{}", w.replace('-', "_"));
            let Some(c) = counts.get(&key) else {
                return Err(format!("no callgrind count for {p} {w} in {annotate}"));
            };
            let at = |i: usize| c.get(i).copied().unwrap_or(0) as f64 / n;
            let got = CacheLimit {
                instructions: round(at(ir), 2),
                ll_misses: round(ll_cols.iter().map(|&i| at(i)).sum(), 4),
                d1_misses: round(at(d1r) + at(d1w), 4),
                mispredicts: round(at(bcm) + at(bim), 4),
            };
            measured
                .entry(w.to_owned())
                .or_default()
                .insert(p.to_owned(), got);
            let limit = committed.and_then(|t| t.workload.get(w)?.get(p).copied());
            let (i_max, l_max, b_max) = limit.map_or((f64::NAN, f64::NAN, f64::NAN), |l| {
                (
                    l.instructions * (1.0 + tolerance),
                    l.ll_misses * (1.0 + tolerance) + ll_slack,
                    l.mispredicts * (1.0 + tolerance) + branch_slack,
                )
            });
            let verdict = match limit {
                None => "no threshold".to_owned(),
                Some(l) => {
                    let over: Vec<&str> = [
                        (got.instructions > i_max, "instructions"),
                        (got.ll_misses > l_max, "LL misses"),
                        (got.mispredicts > b_max, "mispredictions"),
                    ]
                    .into_iter()
                    .filter_map(|(over, what)| over.then_some(what))
                    .collect();
                    if !over.is_empty() {
                        failed = true;
                        format!("REGRESSION ({})", over.join(", "))
                    } else if got.instructions < l.instructions * (1.0 - tolerance)
                        || got.ll_misses < l.ll_misses * (1.0 - tolerance) - ll_slack
                        || got.mispredicts < l.mispredicts * (1.0 - tolerance) - branch_slack
                    {
                        "ok (improved: consider --bless)".to_owned()
                    } else {
                        "ok".to_owned()
                    }
                }
            };
            let _ = writeln!(
                table,
                "{w:<12} {p:<8} {:>10.2} {i_max:>10.2} {:>10.4} {l_max:>10.4} {:>10.4} \
                 {b_max:>10.4} {:>10.4}  {verdict}",
                got.instructions, got.ll_misses, got.mispredicts, got.d1_misses
            );
        }
    }
    Ok((
        table,
        failed,
        CacheThresholds {
            model,
            lookups: CACHE_LOOKUPS,
            tolerance,
            ll_slack,
            branch_slack,
            workload: measured,
        },
    ))
}

fn compare(thresholds: &str, snapshot: &str, cache: Option<&str>, bless: bool) -> ExitCode {
    let committed: Option<Thresholds> =
        std::fs::read_to_string(thresholds)
            .ok()
            .and_then(|t| match toml::from_str(&t) {
                Ok(t) => Some(t),
                // Thresholds of an older gate (a figure it did not measure yet): re-blessing
                // replaces them.
                Err(e) if bless => {
                    eprintln!("bench gate: {thresholds}: {e}; writing them anew");
                    None
                }
                Err(e) => panic!("{thresholds}: {e} (run .ci/bench-gate --bless)"),
            });
    let (table, mut failed, measured) = match compare_snapshot(snapshot, committed.as_ref()) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("bench gate: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{table}");
    let mut cache_measured = None;
    if let Some(annotate) = cache {
        match compare_cache(annotate, committed.as_ref().and_then(|t| t.cache.as_ref())) {
            Ok((table, f, m)) => {
                print!("{table}");
                failed |= f;
                cache_measured = Some(m);
            }
            Err(e) => {
                eprintln!("bench gate: {e}");
                if !bless {
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    if bless {
        let t = Thresholds {
            tolerance: committed.as_ref().map_or(0.10, |t| t.tolerance),
            workload: measured,
            cache: cache_measured.or(committed.and_then(|t| t.cache)),
        };
        let body = toml::to_string(&t).expect("serialise thresholds");
        let text = format!(
            "# Bench gate thresholds (.ci/bench-gate), written by `.ci/bench-gate --bless`.\n\
             # [workload.*]: instructions per lookup measured by callgrind on the vendored\n\
             # snapshot; the gate fails when ipsieve's count or its ratio to the binary-search\n\
             # baseline exceeds a value here by more than `tolerance`.\n\
             # [cache]: per lookup on the full-size artifact (../shared/data), callgrind's cache\n\
             # simulation with the fixed model `cache.model`; the gate fails when instructions\n\
             # exceed a value by more than `cache.tolerance`, last-level misses by more than\n\
             # `cache.tolerance` plus `cache.ll_slack`, or branch mispredictions (callgrind's\n\
             # branch simulation) by more than `cache.tolerance` plus `cache.branch_slack`.\n\
             # d1_misses is for information.\n{body}"
        );
        std::fs::write(thresholds, text).unwrap_or_else(|e| panic!("{thresholds}: {e}"));
        println!("bench gate: wrote {thresholds}");
        return ExitCode::SUCCESS;
    }
    let Some(committed) = committed else {
        eprintln!("bench gate: {thresholds} is missing; run .ci/bench-gate --bless");
        return ExitCode::FAILURE;
    };
    if cache.is_some() && committed.cache.is_none() {
        eprintln!(
            "bench gate: {thresholds} has no full-size [cache] thresholds; run .ci/bench-gate \
             --bless with ../shared/data present"
        );
        return ExitCode::FAILURE;
    }
    if failed {
        eprintln!(
            "bench gate: ipsieve regressed beyond the headroom; fix it, or if the cost is \
             deliberate, run .ci/bench-gate --bless and commit {thresholds} saying why"
        );
        return ExitCode::FAILURE;
    }
    println!("bench gate: passed");
    ExitCode::SUCCESS
}

fn round(x: f64, decimals: i32) -> f64 {
    let k = 10f64.powi(decimals);
    (x * k).round() / k
}

fn usage() -> ExitCode {
    eprintln!(
        "usage: gate measure | gate prepare DIR | gate cache DIR | gate cache-model\n       \
         gate compare THRESHOLDS SNAPSHOT_ANNOTATE [CACHE_ANNOTATE] [--bless]"
    );
    ExitCode::FAILURE
}

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let bless = args.iter().any(|a| a == "--bless");
    args.retain(|a| a != "--bless");
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["measure"] if !bless => measure(),
        ["prepare", dir] if !bless => prepare(Path::new(dir)),
        ["cache", dir] if !bless => cache(Path::new(dir)),
        ["cache-model"] if !bless => {
            println!("{}", cache_model_flags());
            ExitCode::SUCCESS
        }
        ["compare", thresholds, snapshot] => compare(thresholds, snapshot, None, bless),
        ["compare", thresholds, snapshot, cache] => {
            compare(thresholds, snapshot, Some(cache), bless)
        }
        _ => usage(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inclusive_counts() {
        let text = "\
Events shown:     Ir
1,200,000 (100.0%)  PROGRAM TOTALS
  480,000 (40.00%)  ???:gate::gate_measure_ipsieve_ipv4_random [/x/gate]
   60,000 ( 5.00%)  ???:gate::gate_measure_baseline_ipv6_random_miss [/x/gate]
    1,000 ( 0.08%)  ???:ipsieve_benches::throughput_v4 [/x/gate]
";
        let (events, c) = parse_annotate(text, "gate_measure_");
        assert_eq!(events, ["Ir"]);
        assert_eq!(c.get("ipsieve_ipv4_random"), Some(&vec![480_000]));
        assert_eq!(c.get("baseline_ipv6_random_miss"), Some(&vec![60_000]));
        assert_eq!(c.len(), 2);
    }

    #[test]
    fn reads_cache_events_and_model() {
        let text = "\
I1 cache: 32768 B, 64 B, 8-way associative
D1 cache: 32768 B, 64 B, 8-way associative
LL cache: 8388608 B, 64 B, 16-way associative
Events shown:     Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim
262,150 (100.0%) 98,305 (100.0%) 65,537 (100.0%) 0 32,768 ( 9.1%) . 2 12,001 (100.0%) . 40,000 ( 5.25%) 5,006 (52.25%) . .  ???:gate::gate_cache_single_ipv4_random [/x/gate]
";
        let (events, c) = parse_annotate(text, "gate_cache_");
        assert_eq!(events.len(), 13);
        assert_eq!(
            c.get("single_ipv4_random"),
            Some(&vec![
                262_150, 98_305, 65_537, 0, 32_768, 0, 2, 12_001, 0, 40_000, 5_006, 0, 0
            ])
        );
        assert_eq!(annotate_model(text), Some(cache_model_flags()));
    }

    /// The full-size part fails on each figure it guards, mispredictions included, and only
    /// beyond the headroom.
    #[test]
    fn cache_part_fails_on_each_guarded_figure() {
        let n = CACHE_LOOKUPS as u64;
        // Per lookup: 40 instructions, 0.1 LL misses, 0.3 mispredictions.
        let annotate = |instr: u64, ll: u64, mispred: u64| {
            let mut text = String::from(
                "I1 cache: 32768 B, 64 B, 8-way associative\n\
                 D1 cache: 32768 B, 64 B, 8-way associative\n\
                 LL cache: 8388608 B, 64 B, 16-way associative\n\
                 Events shown:     Ir Dr Dw I1mr D1mr D1mw ILmr DLmr DLmw Bc Bcm Bi Bim\n",
            );
            for w in CACHE_WORKLOADS {
                for p in PATHS {
                    let f = format!("{p}_{}", w.replace('-', "_"));
                    text.push_str(&format!(
                        "{} 0 0 0 {n} 0 0 {} 0 {n} {} 0 0  ???:gate::gate_cache_{f} [/x/gate]\n",
                        instr * n / 10,
                        ll * n / 100,
                        mispred * n / 100,
                    ));
                }
            }
            text
        };
        let dir = std::env::temp_dir().join(format!("ipsieve-gate-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let run = |text: String, committed: Option<&CacheThresholds>| {
            let path = dir.join("annotate.txt");
            std::fs::write(&path, text).unwrap();
            compare_cache(path.to_str().unwrap(), committed).unwrap()
        };
        let (_, failed, blessed) = run(annotate(400, 10, 30), None);
        assert!(!failed);
        let limit = blessed.workload["ipv6-inside"]["single"];
        assert_eq!(
            (limit.instructions, limit.ll_misses, limit.mispredicts),
            (40.0, 0.1, 0.3)
        );
        for (text, verdict) in [
            (annotate(400, 10, 30), None),
            // Within the headroom: +10 % and the slack.
            (annotate(440, 12, 38), None),
            (annotate(450, 10, 30), Some("REGRESSION (instructions)")),
            (annotate(400, 13, 30), Some("REGRESSION (LL misses)")),
            (annotate(400, 10, 39), Some("REGRESSION (mispredictions)")),
            (
                annotate(450, 10, 60),
                Some("REGRESSION (instructions, mispredictions)"),
            ),
        ] {
            let (table, failed, _) = run(text, Some(&blessed));
            assert_eq!(failed, verdict.is_some(), "{table}");
            if let Some(v) = verdict {
                assert_eq!(table.matches(v).count(), 9, "{table}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
