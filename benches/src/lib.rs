//! Shared setup for the criterion benchmarks and the CI gate: the data sets they run on, seeded
//! address generators, and the peer structures ipsieve is compared against.
//!
//! # Data sets
//!
//! * **full** ([`data_set`]): the full-size ipsieve artifact built from
//!   `sources/shared-data.toml`, which reads the shared data mirror (`../shared/data` beside the
//!   repository): the whole CAIDA prefix-to-AS table plus every list. The peers get the same
//!   answers to store: [`ranges::from_database`] walks the artifact's disjoint ranges (each
//!   answer's range end + 1 is the next start) and gives every peer the record index of each
//!   non-empty range, as CIDR blocks for the tries.
//! * **mmdb** ([`mmdb::MmdbSet`]): the real `iptoasn-country.mmdb` from the same mirror. Its
//!   networks and country codes, read with `maxminddb`'s iterator, are fed to ipsieve and to
//!   every peer, and `maxminddb` itself answers from the file: the common ground for peer
//!   comparisons.
//! * **snapshot** ([`snapshot_set`]): the vendored `data/snapshot`, for the CI gate only (too
//!   small to say anything about a full table, but enough to count instructions).
//!
//! When `../shared/data` is absent the benches say so on stderr and exit without measuring.
//!
//! # Structures
//!
//! Every structure implements [`Lookup`]: one IPv4 or IPv6 address in, one `u32` out (the
//! stored value, or [`NONE`]). The timed loops ([`Probes::pass`]) are the same generic code for
//! every structure, so the per-lookup work outside the structure is identical.
//!
//! | module | structure |
//! |---|---|
//! | [`sieve`] | ipsieve, reading one record field ([`sieve::SieveAsn`], [`sieve::SieveCountry`]), only the summary in the leaf ([`sieve::SieveVerdict`]), or only taking the answer ([`sieve::SieveAnswer`]) |
//! | [`baseline`] | sorted range starts + values, `partition_point` |
//! | [`trie`] | `prefix-trie`'s `PrefixMap`, `get_lpm` |
//! | [`table`] | `ip_network_table`'s `IpNetworkTable` (a tree bitmap), `longest_match` |
//! | [`poptrie`] | the `poptrie` crate's `Poptrie`, `lookup` |
//! | [`mmdb`] | `maxminddb`'s `Reader` over an MMDB file (the real one, or ipsieve's export) |

#![deny(missing_docs)]

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::time::Instant;

use ipsieve::Database;
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder};

pub mod baseline;
pub mod mmdb;
pub mod poptrie;
pub mod ranges;
pub mod sieve;
pub mod table;
pub mod trie;

/// Fixed seed of every generator, so that each run probes the same addresses.
pub const SEED: u64 = 0x1b5e_5eed;

/// The value a structure returns when it holds nothing for the address.
pub const NONE: u32 = u32::MAX;

/// The repository root (the benches crate's parent folder).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The shared data mirror, `../shared/data` beside the repository.
pub fn shared_data() -> PathBuf {
    repo_root().join("../shared/data")
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
    shared_data().is_dir()
}

/// Exits the process with a message when `../shared/data` is absent: the benches measure full
/// size or nothing.
pub fn require_shared_data() {
    if !shared_data_present() {
        eprintln!(
            "ipsieve-benches: {} is absent, so the full-size data sets cannot be built; \
             not measuring (the vendored snapshot is too small to be meaningful).",
            shared_data().display()
        );
        std::process::exit(0);
    }
}

/// Builds the full-size data set; exits the process with a message when `../shared/data` is
/// absent.
///
/// # Panics
/// When the manifest exists but cannot be built: a bench must not silently measure less.
pub fn data_set() -> DataSet {
    require_shared_data();
    let set = build_manifest(&repo_root().join("sources/shared-data.toml"));
    eprintln!(
        "ipsieve-benches: full-size data set: {} IPv4 + {} IPv6 input entries, artifact {} bytes",
        set.inputs.0,
        set.inputs.1,
        set.bytes.len(),
    );
    set
}

/// Builds the vendored snapshot (`data/snapshot/sources.toml`), which is always present: the
/// CI gate's data set.
///
/// # Panics
/// When the snapshot cannot be built.
pub fn snapshot_set() -> DataSet {
    build_manifest(&repo_root().join("data/snapshot/sources.toml"))
}

/// Loads every source of the manifest at `path` and compiles it in-process (build time 0).
///
/// # Panics
/// When the manifest cannot be read or built.
pub fn build_manifest(path: &Path) -> DataSet {
    let started = Instant::now();
    let manifest = Manifest::load(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
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
        "ipsieve-benches: built {} in {:.2} s",
        path.display(),
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

/// `n` uniformly random addresses of the global unicast space `2000::/3` that no range of
/// `ranges` covers: lookups that miss, as for unknown clients.
///
/// The 6to4 block `2002::/16` is left out: MMDB files alias it to their IPv4 tree, so a
/// `maxminddb` reader answers there from IPv4 data while the structures built from the
/// iterated networks hold nothing.
///
/// # Panics
/// When `ranges` cover so much of `2000::/3` that misses cannot be found.
pub fn random_v6_miss(ranges: &[(u128, u128)], n: usize) -> Vec<Ipv6Addr> {
    let covered = ranges::merge(ranges.iter().copied());
    let starts: Vec<u128> = covered.iter().map(|r| r.0).collect();
    let is_covered = |x: u128| {
        let i = starts.partition_point(|&s| s <= x);
        i > 0 && covered[i - 1].1 >= x
    };
    let mut rng = fastrand::Rng::with_seed(SEED ^ 0x66);
    let mut out = Vec::with_capacity(n);
    let mut tries = 0usize;
    while out.len() < n {
        tries += 1;
        assert!(tries < 100 * n + 1000, "cannot find IPv6 misses");
        let x = (0x2000u128 << 112) | (rng.u128(..) >> 3);
        if x >> 112 == 0x2002 || is_covered(x) {
            continue;
        }
        out.push(Ipv6Addr::from(x));
    }
    out
}

/// A structure under test: one address in, one `u32` out (the stored value, or [`NONE`]).
///
/// Implementations are `#[inline]` so that each monomorphised timed loop holds the whole
/// lookup, as a user's code would.
pub trait Lookup {
    /// The value stored for the IPv4 address, or [`NONE`].
    fn v4(&self, ip: Ipv4Addr) -> u32;
    /// The value stored for the IPv6 address, or [`NONE`].
    fn v6(&self, ip: Ipv6Addr) -> u32;
}

/// How a pass over the probe array is timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Independent lookups: the CPU may overlap them (what a server handling many clients
    /// sees).
    Throughput,
    /// Each address depends on the previous answer (its lowest bit is flipped by the answer's
    /// lowest bit), so lookups cannot overlap: the full latency of one lookup.
    Latency,
}

impl Mode {
    /// Lowercase name, as used in bench ids.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Throughput => "throughput",
            Mode::Latency => "latency",
        }
    }
}

/// A pre-generated array of probe addresses of one family.
#[derive(Debug, Clone)]
pub enum Probes {
    /// IPv4 probes.
    V4(Vec<Ipv4Addr>),
    /// IPv6 probes.
    V6(Vec<Ipv6Addr>),
}

impl Probes {
    /// Number of addresses.
    pub fn len(&self) -> usize {
        match self {
            Probes::V4(v) => v.len(),
            Probes::V6(v) => v.len(),
        }
    }

    /// True when there are no addresses.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// One pass of lookups over every address through `l`, timed as `mode` says. Returns a
    /// value derived from the answers so that nothing can be optimised away.
    pub fn pass<L: Lookup>(&self, l: &L, mode: Mode) -> u32 {
        match (self, mode) {
            (Probes::V4(ips), Mode::Throughput) => throughput_v4(l, ips),
            (Probes::V4(ips), Mode::Latency) => latency_v4(l, ips),
            (Probes::V6(ips), Mode::Throughput) => throughput_v6(l, ips),
            (Probes::V6(ips), Mode::Latency) => latency_v6(l, ips),
        }
    }

    /// The answers of `l` for the first `n` addresses.
    pub fn answers<L: Lookup>(&self, l: &L, n: usize) -> Vec<u32> {
        match self {
            Probes::V4(ips) => ips.iter().take(n).map(|&ip| l.v4(ip)).collect(),
            Probes::V6(ips) => ips.iter().take(n).map(|&ip| l.v6(ip)).collect(),
        }
    }

    /// The `i`-th address, for messages.
    pub fn addr(&self, i: usize) -> String {
        match self {
            Probes::V4(ips) => ips[i].to_string(),
            Probes::V6(ips) => ips[i].to_string(),
        }
    }
}

/// Independent IPv4 lookups; each answer goes through `black_box`. Out of line so that every
/// structure is measured by the same loop.
#[inline(never)]
pub fn throughput_v4<L: Lookup>(l: &L, ips: &[Ipv4Addr]) -> u32 {
    for &ip in ips {
        black_box(l.v4(ip));
    }
    0
}

/// Dependent IPv4 lookups: each address's lowest bit is flipped by the previous answer's.
#[inline(never)]
pub fn latency_v4<L: Lookup>(l: &L, ips: &[Ipv4Addr]) -> u32 {
    let mut carry = 0u32;
    for &ip in ips {
        carry = black_box(l.v4(Ipv4Addr::from(u32::from(ip) ^ (carry & 1))));
    }
    carry
}

/// Independent IPv6 lookups; each answer goes through `black_box`.
#[inline(never)]
pub fn throughput_v6<L: Lookup>(l: &L, ips: &[Ipv6Addr]) -> u32 {
    for &ip in ips {
        black_box(l.v6(ip));
    }
    0
}

/// Dependent IPv6 lookups, as [`latency_v4`].
#[inline(never)]
pub fn latency_v6<L: Lookup>(l: &L, ips: &[Ipv6Addr]) -> u32 {
    let mut carry = 0u32;
    for &ip in ips {
        carry = black_box(l.v6(Ipv6Addr::from(u128::from(ip) ^ u128::from(carry & 1))));
    }
    carry
}

/// Asserts that `l` answers exactly `expected` (the reference's answers) for the first
/// `expected.len()` probes, so that a bench never times a wrong structure.
///
/// # Panics
/// On the first disagreement, naming the structure, the address and both answers.
pub fn assert_agrees<L: Lookup>(name: &str, l: &L, probes: &Probes, expected: &[u32]) {
    let got = probes.answers(l, expected.len());
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert_eq!(
            g,
            e,
            "{name} disagrees with ipsieve at {}: {g:#x} vs {e:#x}",
            probes.addr(i)
        );
    }
}

/// Median nanoseconds per lookup of `rounds` passes of `f` over `lookups` addresses, after
/// `warmup` untimed passes.
pub fn median_ns(mut f: impl FnMut() -> u32, lookups: usize, warmup: usize, rounds: usize) -> f64 {
    for _ in 0..warmup {
        black_box(f());
    }
    let mut times: Vec<f64> = (0..rounds)
        .map(|_| {
            let t = Instant::now();
            black_box(f());
            t.elapsed().as_nanos() as f64 / lookups as f64
        })
        .collect();
    median(&mut times)
}

/// The median of `v` (mean of the two middle values for an even length); NaN when empty.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Bytes of ipsieve's index sections (`Section::is_index`: both families' top tables, nodes
/// and leaves, and the summary classes), excluding records and strings.
pub fn ipsieve_index_bytes(db: &Database) -> usize {
    ipsieve::format::Section::ALL
        .iter()
        .filter(|s| s.is_index())
        .map(|&s| db.section_size(s))
        .sum()
}

/// Bytes of ipsieve's IPv4 index: the sections a random IPv4 lookup that reads no record can
/// touch (`V4Top`, `V4Nodes`, `V4Leaves`; the summary classes are a few hundred bytes more).
pub fn ipsieve_v4_index_bytes(db: &Database) -> usize {
    use ipsieve::format::Section;
    [Section::V4Top, Section::V4Nodes, Section::V4Leaves]
        .iter()
        .map(|&s| db.section_size(s))
        .sum()
}

/// Nanoseconds the calling thread has run on a CPU (`CLOCK_THREAD_CPUTIME_ID`, exact to the
/// call, unlike the scheduler's tick-granular statistics), or 0 where unavailable. Time other
/// processes hold the core is not counted, so on a shared machine it is a steadier measure of
/// a loop's own cost than wall time (the cache pollution they cause still counts).
pub fn thread_cpu_ns() -> u64 {
    #[cfg(unix)]
    {
        let mut ts = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `clock_gettime` writes one `timespec` through the valid pointer it is given
        // and reads nothing else; the clock id is a constant every Unix libc defines.
        let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        if rc == 0 {
            return (ts.tv_sec as u64) * 1_000_000_000 + ts.tv_nsec as u64;
        }
    }
    0
}
