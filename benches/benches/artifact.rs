//! Whole-artifact costs on the full-size data set: `open` (validation at open), `verify` (the
//! O(file) check) and `build` (loading every source and compiling), with `maxminddb` opening
//! and verifying the real MMDB file in the same groups for scale.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use ipsieve::Database;
use ipsieve_benches::{data_set, mmdb, repo_root};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder};

fn artifact(c: &mut Criterion) {
    let set = data_set();
    let mmdb_bytes = std::fs::read(mmdb::mmdb_path()).ok();
    let path = std::env::temp_dir().join(format!("ipsieve-bench-{}.ipsieve", std::process::id()));
    ipsieve_builder::publish(&set.bytes, &path).expect("write the artifact");
    // An 8-byte aligned copy that lives for the whole process, for `from_static`.
    let words: &'static mut [u64] =
        Box::leak(vec![0u64; set.bytes.len().div_ceil(8)].into_boxed_slice());
    let aligned: &'static mut [u8] = &mut bytemuck::cast_slice_mut(words)[..set.bytes.len()];
    aligned.copy_from_slice(&set.bytes);
    let aligned: &'static [u8] = aligned;

    let mut g = c.benchmark_group("open");
    g.bench_function("ipsieve-open_mmap", |b| {
        // SAFETY: the bench's own temporary file, never modified while mapped.
        b.iter(|| black_box(unsafe { Database::open_mmap(&path) }.expect("open")))
    });
    g.throughput(Throughput::Bytes(set.bytes.len() as u64));
    g.bench_function("ipsieve-open", |b| {
        b.iter(|| black_box(Database::open(&path).expect("open")))
    });
    g.bench_function("ipsieve-from_static", |b| {
        b.iter(|| black_box(Database::from_static(aligned).expect("open")))
    });
    g.throughput(Throughput::Bytes(set.bytes.len() as u64));
    g.bench_function("ipsieve-from_bytes", |b| {
        b.iter(|| black_box(Database::from_bytes(&set.bytes).expect("open")))
    });
    if let Some(m) = &mmdb_bytes {
        g.throughput(Throughput::Bytes(m.len() as u64));
        g.bench_function("maxminddb-from_source", |b| {
            b.iter(|| black_box(maxminddb::Reader::from_source(m.as_slice()).expect("open")))
        });
    }
    g.finish();

    let mut g = c.benchmark_group("verify");
    let db = Database::open(&path).expect("open");
    g.throughput(Throughput::Bytes(set.bytes.len() as u64));
    g.bench_function("ipsieve", |b| b.iter(|| db.verify().expect("valid")));
    if let Some(m) = &mmdb_bytes {
        let reader = maxminddb::Reader::from_source(m.as_slice()).expect("open");
        match reader.verify() {
            Ok(()) => {
                g.throughput(Throughput::Bytes(m.len() as u64));
                g.sample_size(10).sampling_mode(SamplingMode::Flat);
                g.bench_function("maxminddb", |b| b.iter(|| reader.verify().expect("valid")));
            }
            // maxminddb 0.32 rejects iptoasn-country.mmdb's empty `description` map: a timing
            // of an early error would mean nothing.
            Err(e) => eprintln!("verify/maxminddb: not timed, verify() rejects the file: {e}"),
        }
    }
    g.finish();
    drop(db);
    let _ = std::fs::remove_file(&path);

    let manifest_path = repo_root().join("sources/shared-data.toml");
    let manifest = Manifest::load(&manifest_path).expect("manifest");
    let mut loaded = Builder::new().build_time(0);
    load::load_manifest(&manifest, &mut loaded, |_| {}).expect("load");
    let mut g = c.benchmark_group("build");
    g.sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("full/load-and-compile", |b| {
        b.iter(|| {
            let manifest = Manifest::load(&manifest_path).expect("manifest");
            let mut builder = Builder::new().build_time(0);
            load::load_manifest(&manifest, &mut builder, |_| {}).expect("load");
            black_box(builder.compile().expect("compile"))
        })
    });
    g.bench_function("full/compile", |b| {
        b.iter(|| black_box(loaded.compile().expect("compile")))
    });
    g.finish();
}

criterion_group!(benches, artifact);
criterion_main!(benches);
