//! Ad-hoc profiling driver: builds the full-size data set (or reads `IPSIEVE_DB`), then times
//! lookups in `run`, which callgrind can isolate with `--toggle-collect=*run*`.
//!
//! `cargo run --release -p ipsieve-benches --example probe -- MODE SET [ROUNDS]`
//! * MODE: `verdict` (categories and verdict: no record read), `asn` (reads the record's ASN),
//!   `many` (`lookup_many` + ASN), `manyv` (`lookup_many` + verdict), `chain` (dependent
//!   latency: each address depends on the previous answer), `index` (the leaf value only).
//! * SET: `v4` (random IPv4), `v4in` (inside input ranges), `v6in` (inside IPv6 input ranges).
//! * `IPSIEVE_DB=FILE`: read that artifact with `Database::open` (`MAP=1`: `open_mmap`).
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant;

use ipsieve::Database;

#[inline(never)]
fn run(db: &Database, ips: &[IpAddr], rounds: usize, mode: &str) -> u64 {
    let mut acc = 0u64;
    for _ in 0..rounds {
        match mode {
            "verdict" => {
                for &ip in ips {
                    let a = db.lookup(ip);
                    acc = acc.wrapping_add(u64::from(a.categories().bits()) + a.verdict() as u64);
                }
            }
            "asn" => {
                for &ip in ips {
                    acc = acc.wrapping_add(u64::from(db.lookup(ip).asn().unwrap_or(0)));
                }
            }
            "index" => {
                for &ip in ips {
                    acc = acc.wrapping_add(u64::from(db.lookup(ip).leaf_value()));
                }
            }
            "many" => {
                for a in db.lookup_many(ips.iter().copied()) {
                    acc = acc.wrapping_add(u64::from(a.asn().unwrap_or(0)));
                }
            }
            "manyv" => {
                for a in db.lookup_many(ips.iter().copied()) {
                    acc = acc.wrapping_add(u64::from(a.categories().bits()) + a.verdict() as u64);
                }
            }
            "chain" => {
                let mut prev = 0u32;
                for &ip in ips {
                    // The next address depends on the previous answer (always 0 here, but the
                    // CPU cannot know): lookups cannot overlap.
                    let ip = match ip {
                        IpAddr::V4(a) => IpAddr::V4((u32::from(a) ^ (prev & 1)).into()),
                        IpAddr::V6(a) => IpAddr::V6((u128::from(a) ^ u128::from(prev & 1)).into()),
                    };
                    let a = db.lookup(ip);
                    prev = u32::from(a.asn().is_none() && a.asn().is_some());
                    acc = acc.wrapping_add(u64::from(a.asn().unwrap_or(0)));
                }
            }
            other => panic!("unknown mode {other}"),
        }
    }
    acc
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_else(|| "asn".into());
    let which = std::env::args().nth(2).unwrap_or_else(|| "v4".into());
    let rounds: usize = std::env::args()
        .nth(3)
        .and_then(|r| r.parse().ok())
        .unwrap_or(100);
    // IPSIEVE_DB=FILE: read that artifact (`MAP=1`: map it), and take "inside" addresses from
    // its own non-empty ranges (under valgrind, building the data set would take too long);
    // otherwise build the data set (`DUMP=FILE` writes the artifact there).
    let (db, set) = match std::env::var_os("IPSIEVE_DB") {
        Some(p) => {
            let db = if std::env::var_os("MAP").is_some() {
                // SAFETY: a benchmark's own artifact, never modified while mapped.
                unsafe { Database::open_mmap(p) }.unwrap()
            } else {
                Database::open(p).unwrap()
            };
            let (mut v4, mut v6) = (Vec::new(), Vec::new());
            for r in db.ranges().filter(|r| !r.answer.is_empty()) {
                match (r.first, r.last) {
                    (IpAddr::V4(a), IpAddr::V4(b)) => v4.push((u32::from(a), u32::from(b))),
                    (IpAddr::V6(a), IpAddr::V6(b)) => v6.push((u128::from(a), u128::from(b))),
                    _ => {}
                }
            }
            (db, (v4, v6))
        }
        None => {
            let set = ipsieve_benches::data_set();
            if let Some(path) = std::env::var_os("DUMP") {
                std::fs::write(path, &set.bytes).unwrap();
            }
            (Database::from_bytes(&set.bytes).unwrap(), (set.v4, set.v6))
        }
    };
    let n = 1 << 16;
    let ips: Vec<IpAddr> = match which.as_str() {
        "v4" => ipsieve_benches::random_v4(n)
            .into_iter()
            .map(IpAddr::V4)
            .collect(),
        "v4in" => ipsieve_benches::inside_v4(&set.0, n)
            .into_iter()
            .map(IpAddr::V4)
            .collect(),
        "v6in" => ipsieve_benches::inside_v6(&set.1, n)
            .into_iter()
            .map(IpAddr::V6)
            .collect(),
        other => panic!("unknown set {other}"),
    };
    for _ in 0..5 {
        let t = Instant::now();
        let cpu = on_cpu_ns();
        black_box(run(&db, &ips, rounds, &mode));
        let total = rounds * ips.len();
        eprintln!(
            "{mode} {which}: {:.2} ns/lookup ({:.2} ns on the CPU)",
            t.elapsed().as_nanos() as f64 / total as f64,
            (on_cpu_ns() - cpu) as f64 / total as f64
        );
    }
}

/// Nanoseconds this thread has run on a CPU (`/proc/thread-self/schedstat`), or 0.
fn on_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
