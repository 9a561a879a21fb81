//! Shared setup for the criterion benchmarks: the data sets they run on and seeded address
//! generators.
//!
//! The full-size data set is built from `sources/shared-data.toml`, which reads the shared data
//! mirror (`../shared/data` beside the repository). When that folder is absent the benches say
//! so on stderr and exit without measuring: the vendored snapshot is too small to say anything
//! about a full BGP table.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder};

/// Fixed seed of every generator, so that each run probes the same addresses.
pub const SEED: u64 = 0x1b5e_5eed;

/// The repository root (the benches crate's parent folder).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A compiled artifact and what it was built from.
#[derive(Debug)]
pub struct DataSet {
    /// The artifact's bytes.
    pub bytes: Vec<u8>,
    /// Every IPv4 range the sources contributed, for "inside ranges" probes.
    pub v4: Vec<(u32, u32)>,
    /// Every IPv6 range the sources contributed.
    pub v6: Vec<(u128, u128)>,
    /// Input entries (IPv4, IPv6) read from the sources.
    pub inputs: (usize, usize),
}

/// Whether the shared data mirror is present (a full-size build is possible).
pub fn shared_data_present() -> bool {
    repo_root().join("../shared/data").is_dir()
}

/// Builds the full-size data set; exits the process with a message when `../shared/data` is
/// absent.
///
/// # Panics
/// When the manifest exists but cannot be built: a bench must not silently measure less.
pub fn data_set() -> DataSet {
    if !shared_data_present() {
        eprintln!(
            "ipsieve-benches: {} is absent, so the full-size data set cannot be built; \
             not measuring (the vendored snapshot is too small to be meaningful).",
            repo_root().join("../shared/data").display()
        );
        std::process::exit(0);
    }
    let path = repo_root().join("sources/shared-data.toml");
    let started = Instant::now();
    let manifest = Manifest::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut builder = Builder::new().build_time(0);
    load::load_manifest(&manifest, &mut builder, |_| {})
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let compiled = builder.compile().expect("compile");
    let v4 = builder
        .ranges_v4()
        .map(|r| ((*r.start()).into(), (*r.end()).into()))
        .collect();
    let v6 = builder
        .ranges_v6()
        .map(|r| ((*r.start()).into(), (*r.end()).into()))
        .collect();
    let inputs = builder.entry_counts();
    eprintln!(
        "ipsieve-benches: full-size data set: {} IPv4 + {} IPv6 input entries, artifact {} bytes, \
         built in {:.2} s",
        inputs.0,
        inputs.1,
        compiled.bytes.len(),
        started.elapsed().as_secs_f64()
    );
    DataSet {
        bytes: compiled.bytes,
        v4,
        v6,
        inputs,
    }
}

/// `n` uniformly random IPv4 addresses.
pub fn random_v4(n: usize) -> Vec<Ipv4Addr> {
    let mut rng = fastrand::Rng::with_seed(SEED);
    (0..n).map(|_| Ipv4Addr::from(rng.u32(..))).collect()
}

/// `n` random IPv4 addresses, each inside a randomly chosen range of `ranges` (so wide and
/// narrow ranges are probed equally often, as a list-heavy workload does).
pub fn inside_v4(ranges: &[(u32, u32)], n: usize) -> Vec<Ipv4Addr> {
    assert!(!ranges.is_empty(), "no IPv4 ranges in the data set");
    let mut rng = fastrand::Rng::with_seed(SEED ^ 4);
    (0..n)
        .map(|_| {
            let (lo, hi) = ranges[rng.usize(..ranges.len())];
            Ipv4Addr::from(rng.u32(lo..=hi))
        })
        .collect()
}

/// `n` random IPv6 addresses, each inside a randomly chosen range of `ranges`.
pub fn inside_v6(ranges: &[(u128, u128)], n: usize) -> Vec<Ipv6Addr> {
    assert!(!ranges.is_empty(), "no IPv6 ranges in the data set");
    let mut rng = fastrand::Rng::with_seed(SEED ^ 6);
    (0..n)
        .map(|_| {
            let (lo, hi) = ranges[rng.usize(..ranges.len())];
            Ipv6Addr::from(rng.u128(lo..=hi))
        })
        .collect()
}
