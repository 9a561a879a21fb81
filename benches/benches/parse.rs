//! Parse throughput (bytes per second of decompressed input) of each `ipsieve-sources` parser
//! on the real files of the shared data mirror, read into memory first; plus the pfx2as table
//! parsed straight from its gzip file, to show what decompression adds.

use std::hint::black_box;
use std::io::{Cursor, Read};
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ipsieve_benches::{require_shared_data, shared_data};
use ipsieve_sources::{asnames, aws, google, input, pfx2as, plain, tor};

/// The file's bytes, gunzipped when it is gzip.
fn read(path: &Path) -> Vec<u8> {
    let mut out = Vec::new();
    input::open(path)
        .and_then(|mut r| r.read_to_end(&mut out))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    out
}

/// Number of accepted records, asserting the parser accepted some.
fn count<T, E>(records: impl Iterator<Item = Result<T, E>>) -> usize {
    let n = records.filter(|r| r.is_ok()).count();
    assert!(n > 0, "the parser accepted nothing");
    n
}

fn parse(c: &mut Criterion) {
    require_shared_data();
    let d = shared_data();
    let files: [(&str, &str); 6] = [
        ("tor-exit-list", "tor/exit-addresses/exit-addresses.gz"),
        ("aws-ip-ranges", "cloud/aws/ip-ranges.json.gz"),
        ("google-cloud", "cloud/google/cloud.json"),
        ("pfx2as", "bgp/pfx2as/routeviews-rv2-20240406.pfx2as.gz"),
        ("asnames", "asn/asnames/asnames.txt.gz"),
        (
            "ip-list",
            "relay/icloud-private-relay/hroost/ipv6/ipv6-ranges.txt",
        ),
    ];
    let mut g = c.benchmark_group("parse");
    for (format, file) in files {
        let bytes = read(&d.join(file));
        eprintln!("parse/{format}: {file}, {} bytes decompressed", bytes.len());
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        let name = format;
        g.bench_function(format, |b| {
            b.iter(|| {
                let r = Cursor::new(bytes.as_slice());
                black_box(match name {
                    "tor-exit-list" => count(tor::parse(r, name)),
                    "aws-ip-ranges" => count(aws::parse(r, name)),
                    "google-cloud" => count(google::parse(r, name)),
                    "pfx2as" => count(pfx2as::parse(r, name)),
                    "asnames" => count(asnames::parse(r, name)),
                    _ => count(plain::parse(r, name)),
                })
            })
        });
        if format == "pfx2as" {
            let gz: &'static [u8] = Box::leak(
                std::fs::read(d.join(file))
                    .expect("read")
                    .into_boxed_slice(),
            );
            g.bench_function("pfx2as-from-gzip", |b| {
                b.iter(|| {
                    let r = input::decode(gz).expect("gzip");
                    black_box(count(pfx2as::parse(r, name)))
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, parse);
criterion_main!(benches);
