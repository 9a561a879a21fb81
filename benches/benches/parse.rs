//! Parse throughput (bytes per second of decompressed input) of each `ipsieve-sources` parser
//! on the real files of the shared data mirror, read into memory first; plus the pfx2as table
//! parsed straight from its gzip file, to show what decompression adds.
//!
//! The MRT rows are the two RouteViews RIB dumps of the mirror, which are the first ~1 MiB of
//! the published `.bz2` (SOURCES.md B2): decompression stops with an error, and the bench
//! parses everything decompressed before it, the partial last record included, as a real
//! build would.

use std::hint::black_box;
use std::io::{Cursor, Read};
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ipsieve_benches::{require_shared_data, shared_data};
use ipsieve_sources::{asnames, aws, azure, google, input, mrt, pfx2as, plain, tor};

/// The file's bytes, decompressed when it is gzip or bzip2. A compressed stream that is cut
/// short is an error, unless `cut_ok`: then the bytes decompressed before the cut are kept.
fn read(path: &Path, cut_ok: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let read = input::open(path).and_then(|mut r| r.read_to_end(&mut out));
    match read {
        Ok(_) => {}
        // `read_to_end` keeps the bytes read before the error in `out`.
        Err(e) if cut_ok && !out.is_empty() => {
            eprintln!(
                "{}: decompression stopped ({e}), as expected",
                path.display()
            );
        }
        Err(e) => panic!("{}: {e}", path.display()),
    }
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
    let files: [(&str, &str); 9] = [
        ("tor-exit-list", "tor/exit-addresses/exit-addresses.gz"),
        ("aws-ip-ranges", "cloud/aws/ip-ranges.json.gz"),
        ("google-cloud", "cloud/google/cloud.json"),
        // The largest JSON list of the mirror: 3 136 tags, 101 516 prefix entries.
        (
            "azure-service-tags",
            "cloud/azure/ServiceTags_Public.json.gz",
        ),
        ("pfx2as", "bgp/pfx2as/routeviews-rv2-20240406.pfx2as.gz"),
        ("mrt-rib-v4", "bgp/mrt/rib.20140523.0600_firstMB.bz2"),
        ("mrt-rib-v6", "bgp/mrt/rib6.20151101.0600_firstMB.bz2"),
        ("asnames", "asn/asnames/asnames.txt.gz"),
        (
            "ip-list",
            "relay/icloud-private-relay/hroost/ipv6/ipv6-ranges.txt",
        ),
    ];
    let mut g = c.benchmark_group("parse");
    for (format, file) in files {
        let bytes = read(&d.join(file), format.starts_with("mrt-"));
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
                    "azure-service-tags" => count(azure::parse(r, name)),
                    "pfx2as" => count(pfx2as::parse(r, name)),
                    "mrt-rib-v4" | "mrt-rib-v6" => count(mrt::parse(r, name)),
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
