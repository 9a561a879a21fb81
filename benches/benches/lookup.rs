//! Lookup cost on the full-size artifact (see the crate docs for the data set).
//!
//! Throughput: independent lookups over a pre-generated address array. Latency: each address
//! depends on the previous answer, so lookups cannot overlap.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ipsieve::Database;
use ipsieve_benches::{data_set, inside_v4, inside_v6, random_v4};

const N: usize = 1 << 16;

/// One pass of independent lookups; out of line so that every bench measures the same code.
#[inline(never)]
fn sum_asn_v4(db: &Database, ips: &[Ipv4Addr]) -> u32 {
    let mut acc = 0u32;
    for &ip in ips {
        acc = acc.wrapping_add(db.lookup_v4(ip).asn().unwrap_or(0));
    }
    acc
}

fn lookup(c: &mut Criterion) {
    let set = data_set();
    let db = Database::from_bytes(&set.bytes).expect("artifact opens");
    let v4_random = random_v4(N);
    let v4_inside = inside_v4(&set.v4, N);
    let v6_inside = inside_v6(&set.v6, N);

    let mut g = c.benchmark_group("lookup");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("ipv4-random/throughput", |b| {
        b.iter(|| black_box(sum_asn_v4(&db, black_box(&v4_random))));
    });
    g.bench_function("ipv4-random/latency", |b| {
        b.iter(|| {
            let mut carry = 0u32;
            for &ip in &v4_random {
                let probe = Ipv4Addr::from(u32::from(ip) ^ (carry & 1));
                carry = db.lookup_v4(probe).asn().unwrap_or(0);
            }
            black_box(carry)
        });
    });
    g.bench_function("ipv4-inside/throughput", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for &ip in &v4_inside {
                acc = acc.wrapping_add(db.lookup_v4(ip).categories().bits());
            }
            black_box(acc)
        });
    });
    g.bench_function("ipv6-inside/throughput", |b| {
        b.iter(|| {
            let mut acc = 0u32;
            for &ip in &v6_inside {
                acc = acc.wrapping_add(db.lookup_v6(ip).categories().bits());
            }
            black_box(acc)
        });
    });
    g.finish();
}

criterion_group!(benches, lookup);
criterion_main!(benches);
