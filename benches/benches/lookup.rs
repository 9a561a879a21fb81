//! Lookup cost of ipsieve and its peers, on two real data sets, in one criterion group.
//!
//! * `mmdb/…`: the networks of the real `iptoasn-country.mmdb`, fed to ipsieve, the
//!   binary-search baseline, `prefix-trie` and `ip_network_table`; `maxminddb` answers from the
//!   file. Every structure answers the packed country code.
//! * `full/…`: the full-size ipsieve artifact (`sources/shared-data.toml`); the peers hold its
//!   disjoint ranges (read back from the artifact) valued by record index.
//!
//! Workloads: `ipv4-random`, `ipv4-inside` (inside a random input range), `ipv6-inside`,
//! `ipv6-random-miss` (random `2000::/3` addresses no range covers). Modes: `throughput`
//! (independent lookups over 65,536 pre-generated addresses) and `latency` (each address
//! depends on the previous answer). Structure labels:
//!
//! | label | what one lookup does |
//! |---|---|
//! | `ipsieve-country` / `ipsieve-asn` | `db.lookup_v*(ip)` and read one field of the record, the artifact loaded into memory (`Database::from_bytes`, as `Database::load`: huge pages where the OS offers them) |
//! | `ipsieve-mmap` | the same on `Database::open` of the artifact written to a temporary file (a memory map of the page cache) |
//! | `ipsieve-many` | `db.lookup_many(addresses)` reading the same field (throughput only) |
//! | `ipsieve-answer` | `db.lookup_v*(ip)` and keep only the reference to its record: no record fetch |
//! | `binary-search` | `partition_point` over sorted range starts, then the value |
//! | `prefix-trie` | `PrefixMap::get_lpm` |
//! | `ip_network_table` | `IpNetworkTable::longest_match_ipv*` |
//! | `maxminddb` | `Reader::lookup` + decode `country_code` (borrowed `&str`) |
//! | `maxminddb-offset` | `Reader::lookup(..).offset()` only: no decoding |
//!
//! Before timing, every peer must answer exactly as ipsieve on 4,096 addresses of each
//! workload. After the group, a table of medians and ratios to ipsieve, measured in this same
//! process (interleaved passes), the index bytes per input prefix and the allocations per
//! lookup are printed on stderr.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ipsieve::Database;
use ipsieve_benches::baseline::BinarySearch;
use ipsieve_benches::mmdb::{mmdb_set, tree_bytes, MmdbCountry, MmdbOffset};
use ipsieve_benches::ranges::{from_database, record_index};
use ipsieve_benches::sieve::{SieveAnswer, SieveAsn, SieveCountry, SieveMany, SieveRecord};
use ipsieve_benches::table::NetworkTable;
use ipsieve_benches::trie::PrefixTrie;
use ipsieve_benches::{
    assert_agrees, data_set, inside_v4, inside_v6, ipsieve_index_bytes, median, random_v4,
    random_v6_miss, Lookup, Mode, Probes,
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
fn add_many<'a>(
    rows: &mut Vec<Row<'a>>,
    set: &'static str,
    many: &'a SieveMany<'a>,
    workloads: &'a [(&'static str, Probes)],
) {
    for (workload, probes) in workloads {
        let single: Vec<u32> = match probes {
            Probes::V4(v) => v
                .iter()
                .take(CHECK)
                .map(|&ip| (many.field)(&many.db.lookup_v4(ip)))
                .collect(),
            Probes::V6(v) => v
                .iter()
                .take(CHECK)
                .map(|&ip| (many.field)(&many.db.lookup_v6(ip)))
                .collect(),
        };
        assert_eq!(
            many.answers(probes, CHECK),
            single,
            "{set}/{workload}: lookup_many disagrees"
        );
        rows.push(Row {
            set,
            workload,
            mode: Mode::Throughput,
            structure: "ipsieve-many",
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
            "  {name:<18} {b:>11} bytes  {:>6.2} bytes per input prefix",
            b as f64 / prefixes as f64
        ),
        None => eprintln!(
            "  {name:<18} {:>11}        n/a (the crate does not report its size)",
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

/// Times every row in interleaved rounds and prints medians, ratios to ipsieve and allocations.
fn print_table(rows: &[Row<'_>]) {
    if !measuring() {
        return;
    }
    let filter = filter();
    let picked: Vec<&Row<'_>> = rows
        .iter()
        .filter(|r| {
            filter
                .as_ref()
                .map_or(true, |f| r.id().contains(f.as_str()))
        })
        .collect();
    if picked.is_empty() {
        return;
    }
    let mut times = vec![Vec::with_capacity(ROUNDS); picked.len()];
    let mut allocs = vec![0u64; picked.len()];
    for round in 0..ROUNDS + 2 {
        for (i, r) in picked.iter().enumerate() {
            // An untimed pass first, so that the structure is as warm as in criterion's loop
            // and not cold from the previous row's pass.
            std::hint::black_box((r.run)());
            let a0 = ALLOCATIONS.load(Ordering::Relaxed);
            let t = std::time::Instant::now();
            std::hint::black_box((r.run)());
            let ns = t.elapsed().as_nanos() as f64 / N as f64;
            allocs[i] += ALLOCATIONS.load(Ordering::Relaxed) - a0;
            if round >= 2 {
                times[i].push(ns);
            }
        }
    }
    eprintln!(
        "\nlookup medians (ns per lookup: median of {ROUNDS} rounds over every row, each a warm \
         pass then a timed pass of {N} lookups, in this process; ratio = structure / ipsieve \
         field read, > 1 means ipsieve is faster)"
    );
    let mut last = ("", "", Mode::Throughput);
    let mut reference = f64::NAN;
    for (i, r) in picked.iter().enumerate() {
        let ns = median(&mut times[i]);
        if (r.set, r.workload, r.mode) != last {
            last = (r.set, r.workload, r.mode);
            reference = picked
                .iter()
                .zip(&times)
                .find(|(x, _)| {
                    (x.set, x.workload, x.mode) == last
                        && (x.structure == "ipsieve-country" || x.structure == "ipsieve-asn")
                })
                .map_or(f64::NAN, |(_, t)| {
                    let mut t = t.clone();
                    median(&mut t)
                });
            eprintln!("{}/{}/{}:", r.set, r.workload, r.mode.name());
        }
        let per_lookup = allocs[i] as f64 / ((ROUNDS + 2) * N) as f64;
        eprintln!(
            "  {:<18} {:>8.2} ns  {:>6.2}x  {} allocations per lookup",
            r.structure,
            ns,
            ns / reference,
            per_lookup
        );
    }
}

fn lookup(c: &mut Criterion) {
    // The MMDB data set: every structure built from the same networks.
    let m = mmdb_set();
    let mdb = Database::from_bytes(&m.artifact).expect("artifact opens");
    let reader = maxminddb::Reader::from_source(m.mmdb.as_slice()).expect("mmdb opens");
    let m_base = BinarySearch::new(&m.ranges);
    let m_trie = PrefixTrie::new(&m.v4_nets, &m.v6_nets);
    let m_table = NetworkTable::new(&m.v4_nets, &m.v6_nets);
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
    let (m_sieve, m_answer) = (SieveCountry(&mdb), SieveAnswer(&mdb));
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
        assert_agrees(&format!("mmdb/{w}: maxminddb"), &m_mmdb, probes, &want);
    }
    let prefixes = m.networks();
    eprintln!(
        "mmdb data set: {prefixes} input networks ({} IPv4, {} IPv6); all peers agree with \
         ipsieve on {CHECK} addresses of each workload. Index size:",
        m.v4_nets.len(),
        m.v6_nets.len()
    );
    bytes_per_prefix("ipsieve", Some(ipsieve_index_bytes(&mdb)), prefixes);
    sections(&mdb);
    bytes_per_prefix("binary-search", Some(m_base.index_bytes()), prefixes);
    bytes_per_prefix("prefix-trie", Some(m_trie.mem_size()), prefixes);
    bytes_per_prefix("ip_network_table", None, prefixes);
    bytes_per_prefix("maxminddb (tree)", Some(tree_bytes(&reader)), prefixes);

    // The full-size ipsieve data set; the peers hold its disjoint ranges by record index.
    let set = data_set();
    let db = Database::from_bytes(&set.bytes).expect("artifact opens");
    let ranges = from_database(&db, |a| record_index(&db, a));
    let (v4_nets, v6_nets) = (ranges.v4_nets(), ranges.v6_nets());
    let f_base = BinarySearch::new(&ranges);
    let f_trie = PrefixTrie::new(&v4_nets, &v6_nets);
    let f_table = NetworkTable::new(&v4_nets, &v6_nets);
    let f_work = [
        ("ipv4-random", Probes::V4(random_v4(N))),
        ("ipv4-inside", Probes::V4(inside_v4(&set.v4, N))),
        ("ipv6-inside", Probes::V6(inside_v6(&set.v6, N))),
        ("ipv6-random-miss", Probes::V6(random_v6_miss(&set.v6, N))),
    ];
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
    }
    let prefixes = set.inputs.0 + set.inputs.1;
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
    bytes_per_prefix("ipsieve", Some(ipsieve_index_bytes(&db)), prefixes);
    sections(&db);
    bytes_per_prefix("binary-search", Some(f_base.index_bytes()), prefixes);
    bytes_per_prefix("prefix-trie", Some(f_trie.mem_size()), prefixes);
    bytes_per_prefix("ip_network_table", None, prefixes);
    drop((v4_nets, v6_nets));

    // The same artifact through a memory map (the file is unlinked at once: the mapping keeps it).
    let path = std::env::temp_dir().join(format!("ipsieve-bench-{}.ipsieve", std::process::id()));
    std::fs::write(&path, &set.bytes).expect("temporary artifact written");
    // SAFETY: the bench's own temporary file, never modified while mapped.
    let mapped = unsafe { Database::open_mmap(&path) }.expect("artifact maps");
    std::fs::remove_file(&path).expect("temporary artifact removed");
    let (f_sieve, f_answer, f_mapped) = (SieveAsn(&db), SieveAnswer(&db), SieveAsn(&mapped));
    let m_many = SieveMany {
        db: &mdb,
        field: SieveMany::country,
    };
    let f_many = SieveMany {
        db: &db,
        field: SieveMany::asn,
    };
    let mut rows = Vec::new();
    add(&mut rows, "mmdb", "ipsieve-country", &m_sieve, &m_work);
    add_many(&mut rows, "mmdb", &m_many, &m_work);
    add(&mut rows, "mmdb", "ipsieve-answer", &m_answer, &m_work);
    add(&mut rows, "mmdb", "binary-search", &m_base, &m_work);
    add(&mut rows, "mmdb", "prefix-trie", &m_trie, &m_work);
    add(&mut rows, "mmdb", "ip_network_table", &m_table, &m_work);
    add(&mut rows, "mmdb", "maxminddb", &m_mmdb, &m_work);
    add(&mut rows, "mmdb", "maxminddb-offset", &m_offset, &m_work);
    let mut full = Vec::new();
    add(&mut full, "full", "ipsieve-asn", &f_sieve, &f_work);
    add_many(&mut full, "full", &f_many, &f_work);
    add(&mut full, "full", "ipsieve-mmap", &f_mapped, &f_work);
    add(&mut full, "full", "ipsieve-answer", &f_answer, &f_work);
    add(&mut full, "full", "binary-search", &f_base, &f_work);
    add(&mut full, "full", "prefix-trie", &f_trie, &f_work);
    add(&mut full, "full", "ip_network_table", &f_table, &f_work);
    sort_rows(&mut rows);
    sort_rows(&mut full);
    rows.append(&mut full);

    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(N as u64));
    for r in &rows {
        g.bench_function(r.id(), |b| b.iter(|| (r.run)()));
    }
    g.finish();
    print_table(&rows);
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
