//! Lookup cost of ipsieve and its peers, on two real data sets, in one criterion group, with a
//! median table and the issue-13 target check computed in the same process.
//!
//! * `full/…`: the full-size ipsieve artifact (`sources/shared-data.toml`), the data set the
//!   targets are stated on. The peers hold its disjoint ranges (read back from the artifact)
//!   valued by record index; `maxminddb` reads ipsieve's own MMDB export of it.
//! * `mmdb/…`: the networks of the real `iptoasn-country.mmdb`, fed to ipsieve and every other
//!   peer; `maxminddb` answers from the file. Every structure answers the packed country code.
//!
//! Workloads: `ipv4-random`, `ipv4-inside` (inside a random input range), `ipv6-inside`,
//! `ipv6-random-miss` (random `2000::/3` addresses no range covers). Modes: `throughput`
//! (independent lookups over 65,536 pre-generated addresses) and `latency` (each address
//! depends on the previous answer: the dependent chain). Structure labels:
//!
//! | label | what one lookup does |
//! |---|---|
//! | `ipsieve-asn` (full) / `ipsieve-country` (mmdb) | `db.lookup_v*(ip)` and read one field of the record: the standard row. Full set: `Database::open` of the artifact written to a temporary file (a private copy on huge pages); mmdb set: `Database::from_bytes` (the same kind of copy) |
//! | `ipsieve-verdict` | `db.lookup_v*(ip)`, then `categories()` and `verdict()`: the summary in the leaf, no record read |
//! | `ipsieve-many` / `ipsieve-many-verdict` | `db.lookup_many(addresses)` reading the ASN (country) / categories and verdict (throughput only: a batch cannot wait for the previous answer) |
//! | `ipsieve-mmap` | as `ipsieve-asn`, on `unsafe Database::open_mmap` of the same file |
//! | `binary-search` | `partition_point` over sorted range starts, then the value |
//! | `prefix-trie` | `PrefixMap::get_lpm` |
//! | `ip_network_table` | `IpNetworkTable::longest_match_ipv*` |
//! | `poptrie` | `Poptrie::lookup` (the `poptrie` crate) |
//! | `maxminddb` | `Reader::lookup` + decode the ASN (full: ipsieve's MMDB export, `decode_path`) or `country_code` (mmdb: the real file, borrowed `&str`) |
//! | `maxminddb-offset` | (mmdb) `Reader::lookup(..).offset()` only: no decoding; not a "peer" for the ratios |
//!
//! Before timing, every peer must answer exactly as ipsieve on 4,096 addresses of each
//! workload, and the batch as the single lookup. After the group, every row is timed again in
//! interleaved rounds (wall and on-CPU time), and the medians, the ratios to the best peer and
//! to binary search, and the targets of issue 13 are printed on stderr, with the index bytes
//! per input prefix and the allocations per lookup.

use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ipsieve::Database;
use ipsieve_benches::baseline::BinarySearch;
use ipsieve_benches::mmdb::{full_mmdb, mmdb_set, tree_bytes, MmdbAsn, MmdbCountry, MmdbOffset};
use ipsieve_benches::poptrie::PopTrie;
use ipsieve_benches::ranges::{from_database, record_index};
use ipsieve_benches::sieve::{
    AsnField, CountryField, Field, SieveAsn, SieveCountry, SieveMany, SieveRecord, SieveVerdict,
    VerdictField,
};
use ipsieve_benches::table::NetworkTable;
use ipsieve_benches::trie::PrefixTrie;
use ipsieve_benches::{
    assert_agrees, data_set, inside_v4, inside_v6, ipsieve_index_bytes, ipsieve_v4_index_bytes,
    median, random_v4, random_v6_miss, thread_cpu_ns, Lookup, Mode, Probes,
};

/// Counts heap allocations, so the bench can show that a lookup makes none.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counter
// is a relaxed atomic with no effect on the allocation itself.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded from our caller, who upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` was allocated by `System` through `alloc` above with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: as `dealloc` for `ptr`; `new_size` is forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Addresses per pass.
const N: usize = 1 << 16;
/// Addresses per workload on which every peer must agree with ipsieve.
const CHECK: usize = 4096;
/// Timed passes per row of the median table (after two warm-up rounds); each timed pass
/// follows an untimed one over the same row.
const ROUNDS: usize = 15;

const WORKLOADS: [&str; 4] = [
    "ipv4-random",
    "ipv4-inside",
    "ipv6-inside",
    "ipv6-random-miss",
];
const MODES: [Mode; 2] = [Mode::Throughput, Mode::Latency];

/// Structures that are peers (compared with ipsieve for "best peer"), in table order.
const PEERS: [&str; 6] = [
    "binary-search",
    "prefix-trie",
    "ip_network_table",
    "poptrie",
    "maxminddb",
    "maxminddb-offset",
];

/// One bench function: a structure on a workload in a mode.
struct Row<'a> {
    set: &'static str,
    workload: &'static str,
    mode: Mode,
    structure: &'static str,
    run: Box<dyn Fn() -> u32 + 'a>,
}

impl Row<'_> {
    fn id(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.set,
            self.workload,
            self.mode.name(),
            self.structure
        )
    }
}

/// Adds one row per workload and mode for structure `l`.
fn add<'a, L: Lookup>(
    rows: &mut Vec<Row<'a>>,
    set: &'static str,
    structure: &'static str,
    l: &'a L,
    workloads: &'a [(&'static str, Probes)],
) {
    for (workload, probes) in workloads {
        for mode in MODES {
            rows.push(Row {
                set,
                workload,
                mode,
                structure,
                run: Box::new(move || probes.pass(l, mode)),
            });
        }
    }
}

/// Adds one throughput row per workload for ipsieve's batch lookup, after checking that it
/// answers as the single lookups do.
fn add_many<'a, F: Field>(
    rows: &mut Vec<Row<'a>>,
    set: &'static str,
    structure: &'static str,
    many: &'a SieveMany<'a, F>,
    workloads: &'a [(&'static str, Probes)],
) {
    for (workload, probes) in workloads {
        let single: Vec<u32> = match probes {
            Probes::V4(v) => v
                .iter()
                .take(CHECK)
                .map(|&ip| F::read(&many.db.lookup_v4(ip)))
                .collect(),
            Probes::V6(v) => v
                .iter()
                .take(CHECK)
                .map(|&ip| F::read(&many.db.lookup_v6(ip)))
                .collect(),
        };
        assert_eq!(
            many.answers(probes, CHECK),
            single,
            "{set}/{workload}: {structure} disagrees with single lookups"
        );
        rows.push(Row {
            set,
            workload,
            mode: Mode::Throughput,
            structure,
            run: Box::new(move || many.pass(probes)),
        });
    }
}

/// Orders rows so that all structures of one (set, workload, mode) are neighbours.
fn sort_rows(rows: &mut [Row<'_>]) {
    let w = |r: &Row<'_>| WORKLOADS.iter().position(|&x| x == r.workload);
    rows.sort_by_key(|r| (w(r), r.mode == Mode::Latency));
}

fn sections(db: &Database) {
    let parts: Vec<String> = ipsieve::format::Section::ALL
        .iter()
        .filter(|s| s.is_index() && db.section_size(**s) > 0)
        .map(|&s| format!("{} {}", s.name(), db.section_size(s)))
        .collect();
    eprintln!("  (ipsieve index sections, bytes: {})", parts.join(", "));
}

fn bytes_per_prefix(name: &str, bytes: Option<usize>, prefixes: usize) {
    match bytes {
        Some(b) => eprintln!(
            "  {name:<22} {b:>11} bytes = {:>6.2} MiB  {:>6.2} bytes per input prefix",
            b as f64 / f64::from(1 << 20),
            b as f64 / prefixes as f64
        ),
        None => eprintln!(
            "  {name:<22} {:>11}        n/a (the crate does not report its size)",
            "-"
        ),
    }
}

/// The criterion filter (first free argument), so the median table measures what criterion
/// measured.
fn filter() -> Option<String> {
    const WITH_VALUE: [&str; 16] = [
        "--warm-up-time",
        "--measurement-time",
        "--sample-size",
        "--save-baseline",
        "-s",
        "--baseline",
        "-b",
        "--baseline-lenient",
        "--color",
        "-c",
        "--output-format",
        "--nresamples",
        "--noise-threshold",
        "--confidence-level",
        "--significance-level",
        "--plotting-backend",
    ];
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if WITH_VALUE.contains(&a.as_str()) || a == "--profile-time" || a == "--load-baseline" {
            i += 2;
            continue;
        }
        if !a.starts_with('-') {
            return Some(a.clone());
        }
        i += 1;
    }
    None
}

/// Whether criterion is really measuring (`cargo bench`), not listing or smoke-testing.
fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list" || a == "--test")
}

/// Median wall and on-CPU nanoseconds per lookup of one row, and its allocations per lookup.
#[derive(Debug, Clone, Copy)]
struct Timing {
    wall: f64,
    cpu: f64,
    allocs: f64,
}

/// Times every row in interleaved rounds: in each round every row makes one untimed pass (so
/// that it is as warm as in criterion's loop, not cold from the previous row), then one timed
/// pass. Medians over [`ROUNDS`] rounds, after two warm-up rounds.
fn time_rows(rows: &[&Row<'_>]) -> Vec<Timing> {
    let mut wall = vec![Vec::with_capacity(ROUNDS); rows.len()];
    let mut cpu = vec![Vec::with_capacity(ROUNDS); rows.len()];
    let mut allocs = vec![0u64; rows.len()];
    for round in 0..ROUNDS + 2 {
        for (i, r) in rows.iter().enumerate() {
            std::hint::black_box((r.run)());
            let a0 = ALLOCATIONS.load(Ordering::Relaxed);
            let c0 = thread_cpu_ns();
            let t = std::time::Instant::now();
            std::hint::black_box((r.run)());
            let ns = t.elapsed().as_nanos() as f64 / N as f64;
            let cpu_ns = thread_cpu_ns().saturating_sub(c0) as f64 / N as f64;
            allocs[i] += ALLOCATIONS.load(Ordering::Relaxed) - a0;
            if round >= 2 {
                wall[i].push(ns);
                cpu[i].push(cpu_ns);
            }
        }
    }
    (0..rows.len())
        .map(|i| Timing {
            wall: median(&mut wall[i]),
            cpu: median(&mut cpu[i]),
            allocs: allocs[i] as f64 / ((ROUNDS + 2) * N) as f64,
        })
        .collect()
}

/// Medians keyed by (set, workload, mode, structure).
type Medians = BTreeMap<(&'static str, &'static str, &'static str, &'static str), Timing>;

/// Times every row criterion measured and prints the medians, ratios and targets.
fn print_table(rows: &[Row<'_>], context: &str) {
    if !measuring() {
        return;
    }
    let filter = filter();
    let picked: Vec<&Row<'_>> = rows
        .iter()
        .filter(|r| filter.as_ref().is_none_or(|f| r.id().contains(f.as_str())))
        .collect();
    if picked.is_empty() {
        return;
    }
    let times = time_rows(&picked);
    let mut m = Medians::new();
    for (r, t) in picked.iter().zip(&times) {
        m.insert((r.set, r.workload, r.mode.name(), r.structure), *t);
    }
    eprintln!(
        "\nlookup medians: ns per lookup, median of {ROUNDS} rounds over every row (each a \
         warm pass then a timed pass of {N} lookups, in this process); `cpu` is the thread's \
         on-CPU time (CLOCK_THREAD_CPUTIME_ID: time other processes held the core left out), \
         `wall` the elapsed time; ratio = structure / the ipsieve standard row (on-CPU), > 1 \
         means ipsieve is faster"
    );
    let mut last = ("", "", Mode::Throughput);
    let mut reference = f64::NAN;
    for (r, t) in picked.iter().zip(&times) {
        if (r.set, r.workload, r.mode) != last {
            last = (r.set, r.workload, r.mode);
            reference = [
                (r.set, r.workload, r.mode.name(), "ipsieve-asn"),
                (r.set, r.workload, r.mode.name(), "ipsieve-country"),
            ]
            .iter()
            .find_map(|k| m.get(k))
            .map_or(f64::NAN, |t| t.cpu);
            eprintln!("{}/{}/{}:", r.set, r.workload, r.mode.name());
        }
        eprintln!(
            "  {:<22} cpu {:>8.2} ns  wall {:>8.2} ns  {:>6.2}x  {} allocations per lookup",
            r.structure,
            t.cpu,
            t.wall,
            t.cpu / reference,
            t.allocs
        );
    }
    for set in ["full", "mmdb"] {
        if m.keys().any(|k| k.0 == set) {
            eprintln!("{}", summary(&m, set));
        }
    }
    if m.keys().any(|k| k.0 == "full") {
        eprintln!("{}", targets(&m, context));
    }
}

/// The best (fastest on-CPU) peer of a (set, workload, mode), with its time.
/// `maxminddb-offset` decodes nothing, so it answers no question a user asks: not a candidate.
fn best_peer(m: &Medians, set: &str, w: &str, mode: &str) -> Option<(&'static str, f64)> {
    PEERS
        .iter()
        .filter(|&&p| p != "maxminddb-offset")
        .filter_map(|&p| {
            m.get(&(set_key(set), workload_key(w), mode_key(mode), p))
                .map(|t| (p, t.cpu))
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
}

fn set_key(s: &str) -> &'static str {
    ["full", "mmdb"].into_iter().find(|&x| x == s).unwrap_or("")
}

fn workload_key(w: &str) -> &'static str {
    WORKLOADS.into_iter().find(|&x| x == w).unwrap_or("")
}

fn mode_key(mode: &str) -> &'static str {
    ["throughput", "latency"]
        .into_iter()
        .find(|&x| x == mode)
        .unwrap_or("")
}

/// Markdown tables of one set: on-CPU medians for throughput and latency (structures ×
/// workloads), wall medians, and the ratios of the best peer and of binary search to ipsieve.
fn summary(m: &Medians, set: &'static str) -> String {
    let standard = if set == "full" {
        "ipsieve-asn"
    } else {
        "ipsieve-country"
    };
    let ipsieve: &[&str] = if set == "full" {
        &[
            "ipsieve-asn",
            "ipsieve-verdict",
            "ipsieve-many",
            "ipsieve-many-verdict",
            "ipsieve-mmap",
        ]
    } else {
        &["ipsieve-country", "ipsieve-many"]
    };
    let structures: Vec<&str> = ipsieve.iter().chain(PEERS.iter()).copied().collect();
    let mut out = String::new();
    for (what, pick) in [
        ("on-CPU", (|t: &Timing| t.cpu) as fn(&Timing) -> f64),
        ("wall", |t: &Timing| t.wall),
    ] {
        for mode in ["throughput", "latency"] {
            let _ = writeln!(
                out,
                "\n{set} set, {mode}, median ns per lookup ({what}):\n\n| structure | {} |\n|---|{}",
                WORKLOADS.join(" | "),
                "---:|".repeat(WORKLOADS.len())
            );
            for s in &structures {
                let cells: Vec<String> = WORKLOADS
                    .iter()
                    .map(|w| m.get(&(set, *w, mode_key(mode), *s)).map(pick))
                    .map(|v| v.map_or("–".to_owned(), fmt_ns))
                    .collect();
                if cells.iter().all(|c| c == "–") {
                    continue;
                }
                let _ = writeln!(out, "| {s} | {} |", cells.join(" | "));
            }
        }
    }
    let _ = writeln!(
        out,
        "\n{set} set, ratios (peer on-CPU time / ipsieve on-CPU time, > 1 = ipsieve faster):\n\n\
         | workload | best peer (thr.) | best / single | best / verdict | best / batch | \
         binary search / single | binary search / batch | best peer (lat.) | best / single (lat.) |\n\
         |---|---|---:|---:|---:|---:|---:|---|---:|"
    );
    for w in WORKLOADS {
        let get = |s: &str, mode: &str| m.get(&(set, w, mode_key(mode), s)).map(|t| t.cpu);
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => format!("{:.2}×", a / b),
            _ => "–".to_owned(),
        };
        let Some((best, best_ns)) = best_peer(m, set, w, "throughput") else {
            continue;
        };
        let lat = best_peer(m, set, w, "latency");
        let batch = "ipsieve-many";
        let _ = writeln!(
            out,
            "| {w} | {best} {} | {} | {} | {} | {} | {} | {} | {} |",
            fmt_ns(best_ns),
            ratio(Some(best_ns), get(standard, "throughput")),
            ratio(Some(best_ns), get("ipsieve-verdict", "throughput")),
            ratio(Some(best_ns), get(batch, "throughput")),
            ratio(
                get("binary-search", "throughput"),
                get(standard, "throughput")
            ),
            ratio(get("binary-search", "throughput"), get(batch, "throughput")),
            lat.map_or("–".to_owned(), |(p, t)| format!("{p} {}", fmt_ns(t))),
            ratio(lat.map(|l| l.1), get(standard, "latency")),
        );
    }
    out
}

/// A time in ns with two significant decimals below 10, one below 100, none above.
fn fmt_ns(ns: f64) -> String {
    if ns < 10.0 {
        format!("{ns:.2}")
    } else if ns < 100.0 {
        format!("{ns:.1}")
    } else {
        format!("{ns:.0}")
    }
}

/// The issue-13 targets on the full set, met or not, from the on-CPU medians of this run.
fn targets(m: &Medians, context: &str) -> String {
    let get = |w: &str, mode: &str, s: &str| {
        m.get(&("full", workload_key(w), mode_key(mode), s))
            .map(|t| t.cpu)
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\nissue-13 targets, full set, on-CPU medians of this run:\n\n| target | measured | met? |\n|---|---|---|"
    );
    let mut at_most = |name: &str, v: Option<f64>, limit: f64, what: &str| {
        let (measured, met) = match v {
            Some(v) if v <= limit => (format!("{} ns ({what})", fmt_ns(v)), "**yes**".to_owned()),
            Some(v) => (
                format!("{} ns ({what})", fmt_ns(v)),
                format!("**no** (gap {:.1}×)", v / limit),
            ),
            None => ("not measured".to_owned(), "–".to_owned()),
        };
        let _ = writeln!(out, "| {name} | {measured} | {met} |");
    };
    at_most(
        "IPv4 random ≤ 8 ns throughput, single",
        get("ipv4-random", "throughput", "ipsieve-asn"),
        8.0,
        "ASN read",
    );
    at_most(
        "IPv4 random ≤ 8 ns throughput, verdict-only",
        get("ipv4-random", "throughput", "ipsieve-verdict"),
        8.0,
        "no record",
    );
    at_most(
        "IPv4 random ≤ 25 ns dependent latency",
        get("ipv4-random", "latency", "ipsieve-asn"),
        25.0,
        "ASN read",
    );
    at_most(
        "IPv4 inside ranges ≤ 12 ns",
        get("ipv4-inside", "throughput", "ipsieve-asn"),
        12.0,
        "single, ASN read",
    );
    at_most(
        "IPv6 inside ranges ≤ 25 ns",
        get("ipv6-inside", "throughput", "ipsieve-asn"),
        25.0,
        "single, ASN read",
    );
    at_most(
        "`lookup_many` ≤ 6 ns on random IPv4",
        get("ipv4-random", "throughput", "ipsieve-many"),
        6.0,
        "batch, ASN read",
    );
    let mut at_least = |name: &str, peer: Option<(&str, f64)>, ours: Option<f64>, goal: f64| {
        let (measured, met) = match (peer, ours) {
            (Some((p, pt)), Some(o)) => {
                let r = pt / o;
                (
                    format!("{r:.2}× ({p} {} / ipsieve {} ns)", fmt_ns(pt), fmt_ns(o)),
                    if r >= goal {
                        "**yes**".to_owned()
                    } else {
                        format!("**no** (gap {:.1}×)", goal / r)
                    },
                )
            }
            _ => ("not measured".to_owned(), "–".to_owned()),
        };
        let _ = writeln!(out, "| {name} | {measured} | {met} |");
    };
    let bs = |w: &str| get(w, "throughput", "binary-search").map(|t| ("binary-search", t));
    at_least(
        "≥ 4× the best peer, random IPv4, single",
        best_peer(m, "full", "ipv4-random", "throughput"),
        get("ipv4-random", "throughput", "ipsieve-asn"),
        4.0,
    );
    at_least(
        "≥ 8× binary search, random IPv4, single",
        bs("ipv4-random"),
        get("ipv4-random", "throughput", "ipsieve-asn"),
        8.0,
    );
    at_least(
        "≥ 5× the best peer, IPv6 inside, single",
        best_peer(m, "full", "ipv6-inside", "throughput"),
        get("ipv6-inside", "throughput", "ipsieve-asn"),
        5.0,
    );
    at_least(
        "≥ 4× the best peer, random IPv4, batch",
        best_peer(m, "full", "ipv4-random", "throughput"),
        get("ipv4-random", "throughput", "ipsieve-many"),
        4.0,
    );
    at_least(
        "≥ 5× the best peer, IPv6 inside, batch",
        best_peer(m, "full", "ipv6-inside", "throughput"),
        get("ipv6-inside", "throughput", "ipsieve-many"),
        5.0,
    );
    out.push_str(context);
    out
}

fn lookup(c: &mut Criterion) {
    // The full-size ipsieve data set; the peers hold its disjoint ranges by record index.
    let set = data_set();
    let path = std::env::temp_dir().join(format!("ipsieve-bench-{}.ipsieve", std::process::id()));
    std::fs::write(&path, &set.bytes).expect("temporary artifact written");
    let db = Database::open(&path).expect("artifact opens");
    // SAFETY: the bench's own temporary file, never modified while mapped; it is unlinked at
    // once (the mapping keeps the inode).
    let mapped = unsafe { Database::open_mmap(&path) }.expect("artifact maps");
    std::fs::remove_file(&path).expect("temporary artifact removed");
    let ranges = from_database(&db, |a| record_index(&db, a));
    let (v4_nets, v6_nets) = (ranges.v4_nets(), ranges.v6_nets());
    let f_base = BinarySearch::new(&ranges);
    let f_trie = PrefixTrie::new(&v4_nets, &v6_nets);
    let f_table = NetworkTable::new(&v4_nets, &v6_nets);
    let f_pop = PopTrie::new(&v4_nets, &v6_nets);
    let f_mmdb_bytes = full_mmdb(&db);
    let f_reader =
        maxminddb::Reader::from_source(f_mmdb_bytes.as_slice()).expect("mmdb export opens");
    let f_mmdb = MmdbAsn(&f_reader);
    let f_work = [
        ("ipv4-random", Probes::V4(random_v4(N))),
        ("ipv4-inside", Probes::V4(inside_v4(&set.v4, N))),
        ("ipv6-inside", Probes::V6(inside_v6(&set.v6, N))),
        ("ipv6-random-miss", Probes::V6(random_v6_miss(&set.v6, N))),
    ];
    let (f_sieve, f_verdict, f_mapped) = (SieveAsn(&db), SieveVerdict(&db), SieveAsn(&mapped));
    let record = SieveRecord(&db);
    for (w, probes) in &f_work {
        let want = probes.answers(&record, CHECK);
        assert_agrees(&format!("full/{w}: binary-search"), &f_base, probes, &want);
        assert_agrees(&format!("full/{w}: prefix-trie"), &f_trie, probes, &want);
        assert_agrees(
            &format!("full/{w}: ip_network_table"),
            &f_table,
            probes,
            &want,
        );
        assert_agrees(&format!("full/{w}: poptrie"), &f_pop, probes, &want);
        let asn = probes.answers(&f_sieve, CHECK);
        assert_agrees(&format!("full/{w}: maxminddb"), &f_mmdb, probes, &asn);
        assert_agrees(&format!("full/{w}: ipsieve-mmap"), &f_mapped, probes, &asn);
    }
    let prefixes = set.inputs.0 + set.inputs.1;
    let v4_index = ipsieve_v4_index_bytes(&db);
    let mut context = String::new();
    let _ = writeln!(
        context,
        "\nindex size, full set: {} IPv4 + {} IPv6 input prefixes; IPv4 index (V4Top + V4Nodes + \
         V4Leaves) {} bytes = {:.2} MiB = {:.2} bytes per IPv4 input prefix (targets ≤ 4 MiB, \
         ≤ 3 bytes: {}); whole index (`Section::is_index`) {} bytes = {:.2} bytes per input \
         prefix; artifact {} bytes",
        set.inputs.0,
        set.inputs.1,
        v4_index,
        v4_index as f64 / f64::from(1 << 20),
        v4_index as f64 / set.inputs.0 as f64,
        if v4_index <= 4 << 20 && v4_index <= 3 * set.inputs.0 {
            "met"
        } else {
            "not met"
        },
        ipsieve_index_bytes(&db),
        ipsieve_index_bytes(&db) as f64 / prefixes as f64,
        set.bytes.len(),
    );
    eprintln!(
        "full data set: {prefixes} input prefixes ({} IPv4, {} IPv6) resolve into {} + {} \
         non-empty disjoint ranges = {} + {} CIDR blocks for the tries; all peers agree with \
         ipsieve on {CHECK} addresses of each workload. Index size:",
        set.inputs.0,
        set.inputs.1,
        ranges.v4.len(),
        ranges.v6.len(),
        v4_nets.len(),
        v6_nets.len()
    );
    bytes_per_prefix(
        "ipsieve (all index)",
        Some(ipsieve_index_bytes(&db)),
        prefixes,
    );
    bytes_per_prefix("ipsieve IPv4 index", Some(v4_index), set.inputs.0);
    sections(&db);
    bytes_per_prefix("binary-search", Some(f_base.index_bytes()), prefixes);
    bytes_per_prefix("prefix-trie", Some(f_trie.mem_size()), prefixes);
    bytes_per_prefix("ip_network_table", None, prefixes);
    bytes_per_prefix("poptrie", None, prefixes);
    bytes_per_prefix("maxminddb (tree)", Some(tree_bytes(&f_reader)), prefixes);
    drop((v4_nets, v6_nets));

    // The MMDB data set: every structure built from the same networks.
    let m = mmdb_set();
    let mdb = Database::from_bytes(&m.artifact).expect("artifact opens");
    let reader = maxminddb::Reader::from_source(m.mmdb.as_slice()).expect("mmdb opens");
    let m_base = BinarySearch::new(&m.ranges);
    let m_trie = PrefixTrie::new(&m.v4_nets, &m.v6_nets);
    let m_table = NetworkTable::new(&m.v4_nets, &m.v6_nets);
    let m_pop = PopTrie::new(&m.v4_nets, &m.v6_nets);
    let (v4_bounds, v6_bounds) = (m.ranges.v4_bounds(), m.ranges.v6_bounds());
    let m_work = [
        ("ipv4-random", Probes::V4(random_v4(N))),
        ("ipv4-inside", Probes::V4(inside_v4(&v4_bounds, N))),
        ("ipv6-inside", Probes::V6(inside_v6(&v6_bounds, N))),
        (
            "ipv6-random-miss",
            Probes::V6(random_v6_miss(&v6_bounds, N)),
        ),
    ];
    let m_sieve = SieveCountry(&mdb);
    let (m_mmdb, m_offset) = (MmdbCountry(&reader), MmdbOffset(&reader));
    for (w, probes) in &m_work {
        let want = probes.answers(&m_sieve, CHECK);
        assert_agrees(&format!("mmdb/{w}: binary-search"), &m_base, probes, &want);
        assert_agrees(&format!("mmdb/{w}: prefix-trie"), &m_trie, probes, &want);
        assert_agrees(
            &format!("mmdb/{w}: ip_network_table"),
            &m_table,
            probes,
            &want,
        );
        assert_agrees(&format!("mmdb/{w}: poptrie"), &m_pop, probes, &want);
        assert_agrees(&format!("mmdb/{w}: maxminddb"), &m_mmdb, probes, &want);
    }
    let prefixes = m.networks();
    eprintln!(
        "mmdb data set: {prefixes} input networks ({} IPv4, {} IPv6); all peers agree with \
         ipsieve on {CHECK} addresses of each workload. Index size:",
        m.v4_nets.len(),
        m.v6_nets.len()
    );
    bytes_per_prefix(
        "ipsieve (all index)",
        Some(ipsieve_index_bytes(&mdb)),
        prefixes,
    );
    sections(&mdb);
    bytes_per_prefix("binary-search", Some(m_base.index_bytes()), prefixes);
    bytes_per_prefix("prefix-trie", Some(m_trie.mem_size()), prefixes);
    bytes_per_prefix("ip_network_table", None, prefixes);
    bytes_per_prefix("poptrie", None, prefixes);
    bytes_per_prefix("maxminddb (tree)", Some(tree_bytes(&reader)), prefixes);

    let f_many = SieveMany::<AsnField>::new(&db);
    let f_many_verdict = SieveMany::<VerdictField>::new(&db);
    let m_many = SieveMany::<CountryField>::new(&mdb);
    let mut full = Vec::new();
    add(&mut full, "full", "ipsieve-asn", &f_sieve, &f_work);
    add(&mut full, "full", "ipsieve-verdict", &f_verdict, &f_work);
    add_many(&mut full, "full", "ipsieve-many", &f_many, &f_work);
    add_many(
        &mut full,
        "full",
        "ipsieve-many-verdict",
        &f_many_verdict,
        &f_work,
    );
    add(&mut full, "full", "ipsieve-mmap", &f_mapped, &f_work);
    add(&mut full, "full", "binary-search", &f_base, &f_work);
    add(&mut full, "full", "prefix-trie", &f_trie, &f_work);
    add(&mut full, "full", "ip_network_table", &f_table, &f_work);
    add(&mut full, "full", "poptrie", &f_pop, &f_work);
    add(&mut full, "full", "maxminddb", &f_mmdb, &f_work);
    let mut rows = Vec::new();
    add(&mut rows, "mmdb", "ipsieve-country", &m_sieve, &m_work);
    add_many(&mut rows, "mmdb", "ipsieve-many", &m_many, &m_work);
    add(&mut rows, "mmdb", "binary-search", &m_base, &m_work);
    add(&mut rows, "mmdb", "prefix-trie", &m_trie, &m_work);
    add(&mut rows, "mmdb", "ip_network_table", &m_table, &m_work);
    add(&mut rows, "mmdb", "poptrie", &m_pop, &m_work);
    add(&mut rows, "mmdb", "maxminddb", &m_mmdb, &m_work);
    add(&mut rows, "mmdb", "maxminddb-offset", &m_offset, &m_work);
    sort_rows(&mut full);
    sort_rows(&mut rows);
    full.append(&mut rows);

    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(N as u64));
    for r in &full {
        g.bench_function(r.id(), |b| b.iter(|| (r.run)()));
    }
    g.finish();
    print_table(&full, &context);
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(30);
    targets = lookup
}
criterion_main!(benches);
