//! How long a hot swap takes: `SharedDatabase::reload()` of an artifact (`IPSIEVE_DB`, or the
//! full-size data set built in-process), with and without the full `verify()`, and the cost of
//! `load()` / `DatabaseCache::load()` on the lookup path. Ad hoc; prints medians.
use std::time::{Duration, Instant};

use ipsieve::{ReloadConfig, SharedDatabase};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let path = match std::env::var_os("IPSIEVE_DB") {
        Some(p) => std::path::PathBuf::from(p),
        None => {
            let set = ipsieve_benches::data_set();
            let p = std::env::temp_dir().join("ipsieve-reload-time.ipsieve");
            std::fs::write(&p, &set.bytes).expect("write the artifact");
            p
        }
    };
    let bytes = std::fs::metadata(&path).expect("artifact").len();
    for verify in [false, true] {
        let cfg = ReloadConfig::new().verify(verify).poll_interval(None);
        let shared = SharedDatabase::open_with(&path, cfg).expect("opens");
        let times: Vec<Duration> = (0..21)
            .map(|_| {
                let t = Instant::now();
                shared.reload().expect("reloads");
                t.elapsed()
            })
            .collect();
        println!(
            "reload of {bytes} bytes, verify {verify}: median {:?} over 21 swaps",
            median(times)
        );
    }
    let shared =
        SharedDatabase::open_with(&path, ReloadConfig::new().poll_interval(None)).expect("opens");
    let n = 1_000_000u32;
    let t = Instant::now();
    for i in 0..n {
        let db = shared.load();
        std::hint::black_box(db.lookup_v4(std::net::Ipv4Addr::from(i.wrapping_mul(2_654_435_761))));
    }
    println!(
        "load() + lookup: {:.1} ns",
        t.elapsed().as_nanos() as f64 / f64::from(n)
    );
    let mut cache = shared.cache();
    let t = Instant::now();
    for i in 0..n {
        let db = cache.load();
        std::hint::black_box(db.lookup_v4(std::net::Ipv4Addr::from(i.wrapping_mul(2_654_435_761))));
    }
    println!(
        "cache.load() + lookup: {:.1} ns",
        t.elapsed().as_nanos() as f64 / f64::from(n)
    );
    let db = shared.load();
    let t = Instant::now();
    for i in 0..n {
        std::hint::black_box(db.lookup_v4(std::net::Ipv4Addr::from(i.wrapping_mul(2_654_435_761))));
    }
    println!(
        "plain lookup: {:.1} ns",
        t.elapsed().as_nanos() as f64 / f64::from(n)
    );
}
