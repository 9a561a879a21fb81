//! Ad-hoc profiling driver: builds the data set (or reads `IPSIEVE_DB`), then runs random
//! IPv4 lookups in `run`, which callgrind can isolate with `--toggle-collect=*run*`.
use std::hint::black_box;
use std::time::Instant;

#[inline(never)]
fn run(
    db: &ipsieve::Database,
    ips: &[std::net::Ipv4Addr],
    rounds: usize,
    asn: bool,
    batch: bool,
) -> u64 {
    let mut acc = 0u64;
    if batch {
        for _ in 0..rounds {
            for a in db.lookup_many(ips.iter().map(|&ip| std::net::IpAddr::V4(ip))) {
                acc = acc.wrapping_add(if asn {
                    u64::from(a.asn().unwrap_or(0))
                } else {
                    a.record_words().as_ptr() as u64
                });
            }
        }
        return acc;
    }
    for _ in 0..rounds {
        for &ip in ips {
            let a = db.lookup_v4(ip);
            acc = acc.wrapping_add(if asn {
                u64::from(a.asn().unwrap_or(0))
            } else {
                a.record_words().as_ptr() as u64
            });
        }
    }
    acc
}

/// Experiment: touch each address's top entry and chunk line for a group of 8 first, so the
/// misses overlap, then look them up.
#[inline(never)]
fn run_grouped(db: &ipsieve::Database, ips: &[std::net::Ipv4Addr], rounds: usize) -> u64 {
    use ipsieve::format::{tree, Section};
    let top: &[u32] = db.raw_slice(Section::V4Top);
    let keys: &[u16] = db.raw_slice(Section::V4Keys);
    let mut acc = 0u64;
    for _ in 0..rounds {
        for group in ips.chunks(8) {
            let mut touch = 0u32;
            for &ip in group {
                let e = top[(u32::from(ip) >> 16) as usize];
                if e & 0x8000_0000 == 0 {
                    let at = if e & tree::LEAF != 0 {
                        (e & tree::LEAF_OFFSET_MASK) as usize * 8
                    } else {
                        (e & tree::ROOT_MASK) as usize * 32
                    };
                    touch = touch.wrapping_add(u32::from(*keys.get(at).unwrap_or(&0)));
                }
            }
            black_box(touch);
            for &ip in group {
                acc = acc.wrapping_add(db.lookup_v4(ip).record_words().as_ptr() as u64);
            }
        }
    }
    acc
}

fn main() {
    let set = ipsieve_benches::data_set();
    // IPSIEVE_DB=FILE: `Database::load` of the file, or `Database::open` (a memory map) with
    // MAP=1; otherwise `Database::from_bytes` of the data set built above.
    let db = match std::env::var_os("IPSIEVE_DB") {
        Some(p) if std::env::var_os("MAP").is_some() => ipsieve::Database::open(p).unwrap(),
        Some(p) => ipsieve::Database::load(p).unwrap(),
        None => ipsieve::Database::from_bytes(&set.bytes).unwrap(),
    };
    let ips = if std::env::var_os("INSIDE").is_some() {
        ipsieve_benches::inside_v4(&set.v4, 1 << 16)
    } else {
        ipsieve_benches::random_v4(1 << 16)
    };
    // DIRECT=1 / CHUNK=1 keep only addresses whose /16 is a direct top entry / a chunk tree.
    let top: &[u32] = db.raw_slice(ipsieve::format::Section::V4Top);
    let is_direct =
        |ip: &std::net::Ipv4Addr| top[(u32::from(*ip) >> 16) as usize] & 0x8000_0000 != 0;
    let ips: Vec<_> = if std::env::var_os("DIRECT").is_some() {
        ips.into_iter().filter(is_direct).collect()
    } else if std::env::var_os("CHUNK").is_some() {
        ips.into_iter().filter(|ip| !is_direct(ip)).collect()
    } else {
        ips
    };
    // Mode: `asn` reads a record field, `many`/`manyx` use `lookup_many` (with/without it).
    let mode = std::env::args().nth(1).unwrap_or_default();
    let asn = mode == "asn" || mode == "many";
    let batch = mode.starts_with("many");
    let rounds: usize = std::env::args()
        .nth(2)
        .and_then(|r| r.parse().ok())
        .unwrap_or(300);
    let grouped = std::env::var_os("GROUPED").is_some();
    for _ in 0..5 {
        let t = Instant::now();
        let cpu = on_cpu_ns();
        if grouped {
            black_box(run_grouped(&db, &ips, rounds));
        } else {
            black_box(run(&db, &ips, rounds, asn, batch));
        }
        let n = rounds * ips.len();
        eprintln!(
            "{:.2} ns/lookup over {} addresses ({:.2} ns on the CPU)",
            t.elapsed().as_nanos() as f64 / n as f64,
            ips.len(),
            (on_cpu_ns() - cpu) as f64 / n as f64
        );
    }
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`; 0 elsewhere): unlike wall
/// time, it does not grow while other processes hold the cores.
fn on_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}
