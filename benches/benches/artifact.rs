//! Whole-artifact costs on the full-size data set: `open` (validation at open: mapped, into a
//! private copy, from bytes), `verify` (the O(file) check) and `build` (loading every source
//! and compiling), with `maxminddb` opening and verifying the real MMDB file in the same groups
//! for scale.
//!
//! After the groups, a summary is printed on stderr with the issue-13 targets: median open and
//! verify times (wall and on-CPU, interleaved rounds in this process) and the build's time and
//! peak memory, measured in child processes (this bench binary re-run with
//! `IPSIEVE_BENCH_BUILD_CHILD` set: load every source, compile, write the artifact, report
//! `VmHWM`), so that the peak is the build's own and not this process's.

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use criterion::{criterion_group, Criterion, SamplingMode, Throughput};
use ipsieve::Database;
use ipsieve_benches::{data_set, median, mmdb, repo_root, thread_cpu_ns};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder};

/// Set in the environment of the child processes that measure one build.
const CHILD: &str = "IPSIEVE_BENCH_BUILD_CHILD";
/// Interleaved rounds of the open/verify summary.
const ROUNDS: usize = 21;
/// Child builds of the build summary.
const BUILDS: usize = 3;

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
    drop(loaded);

    if measuring() {
        eprintln!("{}", summary(&path, set.bytes.len()));
    }
    let _ = std::fs::remove_file(&path);
}

/// Whether criterion is really measuring (`cargo bench`), not listing or smoke-testing.
fn measuring() -> bool {
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--bench") && !args.iter().any(|a| a == "--list" || a == "--test")
}

/// Median (wall, on-CPU) seconds of `f` over [`ROUNDS`] runs, after one untimed run.
fn time(mut f: impl FnMut()) -> (f64, f64) {
    f();
    let (mut wall, mut cpu) = (Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        let c0 = thread_cpu_ns();
        let t = Instant::now();
        f();
        wall.push(t.elapsed().as_secs_f64());
        cpu.push(thread_cpu_ns().saturating_sub(c0) as f64 / 1e9);
    }
    (median(&mut wall), median(&mut cpu))
}

/// The issue-13 artifact targets, measured in this process and in child builds.
fn summary(path: &Path, len: usize) -> String {
    let (mmap_wall, mmap_cpu) = time(|| {
        // SAFETY: the bench's own temporary file, never modified while mapped.
        drop(black_box(
            unsafe { Database::open_mmap(path) }.expect("open"),
        ))
    });
    let (open_wall, open_cpu) = time(|| drop(black_box(Database::open(path).expect("open"))));
    let db = Database::open(path).expect("open");
    let (verify_wall, verify_cpu) = time(|| db.verify().expect("valid"));
    drop(db);
    let builds: Vec<(f64, f64, u64)> = (0..BUILDS).filter_map(|_| child_build()).collect();
    let mut out = String::new();
    let gbps = |s: f64| len as f64 / s / 1e9;
    let _ = writeln!(
        out,
        "\nartifact summary ({len} bytes; medians of {ROUNDS} runs, wall / on-CPU; build: \
         {} child processes; \"met\" judges the on-CPU figure, which time other processes hold \
         the core does not inflate):\n\n| target | measured (wall) | measured (on-CPU) | met? |\n|---|---|---|---|",
        builds.len()
    );
    let verdict = |ok: bool| if ok { "**yes**" } else { "**no**" };
    let _ = writeln!(
        out,
        "| `open_mmap` ≤ 1 ms | {:.3} ms | {:.3} ms | {} |",
        mmap_wall * 1e3,
        mmap_cpu * 1e3,
        verdict(mmap_cpu <= 1e-3)
    );
    let _ = writeln!(
        out,
        "| `open` (private copy) ≥ 2 GB/s | {:.2} ms = {:.2} GB/s | {:.2} ms = {:.2} GB/s | {} |",
        open_wall * 1e3,
        gbps(open_wall),
        open_cpu * 1e3,
        gbps(open_cpu),
        verdict(gbps(open_cpu) >= 2.0)
    );
    let _ = writeln!(
        out,
        "| `verify()` ≥ 1 GB/s | {:.2} ms = {:.2} GB/s | {:.2} ms = {:.2} GB/s | {} |",
        verify_wall * 1e3,
        gbps(verify_wall),
        verify_cpu * 1e3,
        gbps(verify_cpu),
        verdict(gbps(verify_cpu) >= 1.0)
    );
    if builds.is_empty() {
        let _ = writeln!(out, "| build | child build failed | – | – |");
    } else {
        let mut walls: Vec<f64> = builds.iter().map(|b| b.0).collect();
        let mut cpus: Vec<f64> = builds.iter().map(|b| b.1).collect();
        let peak = builds.iter().map(|b| b.2).max().unwrap_or(0);
        let (w, c) = (median(&mut walls), median(&mut cpus));
        let _ = writeln!(
            out,
            "| build ≤ 1.5 × 3.4 s = 5.1 s (load every source + compile + write) | {w:.2} s | \
             {c:.2} s (user + sys) | {} |",
            verdict(c <= 5.1)
        );
        let _ = writeln!(
            out,
            "| build peak memory ≤ 1 GiB | {} MiB (`VmHWM`, largest of {}) | – | {} |",
            peak >> 10,
            builds.len(),
            verdict(peak <= 1 << 20)
        );
    }
    out
}

/// Runs one build in a child process: (wall s, user + sys s, peak resident KiB).
fn child_build() -> Option<(f64, f64, u64)> {
    let exe = std::env::current_exe().ok()?;
    let out = std::process::Command::new(exe)
        .env(CHILD, "1")
        .stderr(std::process::Stdio::inherit())
        .output()
        .ok()?;
    let text = String::from_utf8(out.stdout).ok()?;
    let line = text.lines().find_map(|l| l.strip_prefix("child-build "))?;
    let mut it = line.split_whitespace();
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    ))
}

/// The child: what `ipsieve build --sources sources/shared-data.toml --out FILE` does, in
/// process; prints `child-build WALL CPU PEAK_KIB` on stdout.
fn build_child() {
    let started = Instant::now();
    let manifest_path = repo_root().join("sources/shared-data.toml");
    let manifest = Manifest::load(&manifest_path).expect("manifest");
    let mut builder = Builder::new().build_time(0);
    load::load_manifest(&manifest, &mut builder, |_| {}).expect("load");
    let compiled = builder.compile().expect("compile");
    let out = std::env::temp_dir().join(format!("ipsieve-child-{}.ipsieve", std::process::id()));
    ipsieve_builder::publish(&compiled.bytes, &out).expect("write the artifact");
    let wall = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_file(&out);
    // SAFETY: `getrusage` fills the `rusage` it is given and reads nothing else.
    let cpu = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        if libc::getrusage(libc::RUSAGE_SELF, &mut ru) == 0 {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            secs(ru.ru_utime) + secs(ru.ru_stime)
        } else {
            f64::NAN
        }
    };
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
        })
        .unwrap_or(0);
    println!("child-build {wall} {cpu} {peak}");
}

criterion_group!(benches, artifact);

fn main() {
    if std::env::var_os(CHILD).is_some() {
        ipsieve_benches::require_shared_data();
        build_child();
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
