//! Issue 13, "the hostile-artifact table rewritten for the new sections": artifacts of format
//! 2 truncated at every section boundary, zero-filled, with a flipped byte in every section,
//! with hostile directory entries, with broken forward references in the tries (a child base
//! pointing backwards or at its own node, roots out of order or out of range, children past the
//! end, cycles), with out-of-range record and class indices in every kind of leaf, with bad
//! guards and slot bitmaps, wrong spans, future format versions, the format 1 golden, and an
//! artifact renamed over a live mapping or private copy.
//!
//! Each case is refused with a precise error (its variant, and the section and the index,
//! offset or value in its message), or the file opens, every lookup, batch lookup, network,
//! range and range walk answers without a panic or an endless loop, and `verify` names the
//! section (with the file checksum recomputed, as a writer with a bug would have left it).
//!
//! The artifacts are built by the builder: the vendored real snapshot
//! ([`crate::snapshot::artifact`], every section present) and the small artifact of the
//! corrupt-artifact tests ([`crate::corrupt::small_artifact`], no overflow-leaf sections).
//! `crate::corrupt` covers the basic refusals; these tests go section by section, node by node.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ipsieve::format::trie::{self, Bitmap, Node, NodeLayout, NODE, SKIP_SHIFT};
use ipsieve::format::{self, hdr, leaf, Section, HEADER_LEN};
use ipsieve::{Database, IpNet, OpenError, Verdict};

use crate::corrupt::{put_u64, reseal, seal_file, section, small_artifact};
use crate::snapshot::artifact;

/// How long one set of lookups and one walk of every range may take before the test calls it
/// an endless loop. Real runs take a few seconds in a debug build; the bound only has to be
/// finite.
const DEADLINE: Duration = Duration::from_secs(120);

// ---------------------------------------------------------------------------------------------
// Bytes and errors.

/// The sections the directory of `b` declares with a non-zero length, with their
/// (offset, length), in file order (which is directory order).
fn present(b: &[u8]) -> Vec<(Section, usize, usize)> {
    Section::ALL
        .into_iter()
        .map(|s| {
            let (off, len) = section(b, s);
            (s, off, len)
        })
        .filter(|&(_, _, len)| len > 0)
        .collect()
}

/// Byte position of section `s`'s directory entry (its `u64` offset; the length follows).
fn dir_entry(s: Section) -> usize {
    hdr::DIRECTORY + 16 * s as usize
}

/// The little-endian unsigned integer of `size` bytes at `at`.
fn read_le(b: &[u8], at: usize, size: usize) -> u64 {
    let mut w = [0u8; 8];
    w[..size].copy_from_slice(&b[at..at + size]);
    u64::from_le_bytes(w)
}

/// Writes the low `size` bytes of `v`, little-endian, at `at`.
fn write_le(b: &mut [u8], at: usize, size: usize, v: u64) {
    b[at..at + size].copy_from_slice(&v.to_le_bytes()[..size]);
}

/// The `u32` at byte `at`.
fn read_u32(b: &[u8], at: usize) -> u32 {
    read_le(b, at, 4) as u32
}

/// Writes the `u32` `v` at byte `at`.
fn write_u32(b: &mut [u8], at: usize, v: u32) {
    write_le(b, at, 4, u64::from(v));
}

/// Section and reason of a `Section` or `Corrupt` error (the two that name a section).
fn named(err: &OpenError) -> Option<(&'static str, &str)> {
    match err {
        OpenError::Section { section, reason } | OpenError::Corrupt { section, reason } => {
            Some((section, reason))
        }
        _ => None,
    }
}

/// Asserts that `err` is `OpenError::Corrupt` naming `section` with exactly `reason`, and
/// that its message says so.
#[track_caller]
fn assert_corrupt(err: &OpenError, section: Section, reason: &str) {
    let name = section.name();
    assert!(
        matches!(err, OpenError::Corrupt { section: s, reason: r } if *s == name && r == reason),
        "expected Corrupt {{ section: {name:?}, reason: {reason:?} }}, got {err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("corrupt section '{name}': {reason}; rebuild or re-download the artifact")
    );
}

/// Asserts that `err` is `OpenError::Section` naming `section` with exactly `reason`.
#[track_caller]
fn assert_section(err: &OpenError, section: Section, reason: &str) {
    let name = section.name();
    assert!(
        matches!(err, OpenError::Section { section: s, reason: r } if *s == name && r == reason),
        "expected Section {{ section: {name:?}, reason: {reason:?} }}, got {err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!("invalid section '{name}': {reason}; rebuild or re-download the artifact")
    );
}

/// Asserts that `verify` of `db`, opened from `b`, refuses with the file checksum, with the
/// exact stored and computed values.
#[track_caller]
fn assert_checksum(db: &Database, b: &[u8]) {
    match db.verify() {
        Err(OpenError::Checksum { stored, computed }) => {
            assert_eq!(stored, read_u32(b, hdr::FILE_CRC));
            assert_eq!(computed, format::file_crc(b));
            assert_ne!(stored, computed);
        }
        other => panic!("expected a file checksum mismatch, got {other:?}"),
    }
}

/// `b` with both checksums recomputed, opened: the file must open.
#[track_caller]
fn sealed(b: &[u8]) -> Database {
    let mut b = b.to_vec();
    seal_file(&mut b);
    Database::from_bytes(&b).unwrap_or_else(|e| panic!("sealed file refused at open: {e}"))
}

// ---------------------------------------------------------------------------------------------
// Probing: every lookup path, on a worker thread with a deadline.

/// What a lookup answered: everything an answer exposes that a corrupt file could change.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Fingerprint {
    leaf: u32,
    record: [u32; 8],
    categories: u32,
    verdict: Verdict,
    network: IpNet,
    strings: [Option<String>; 3],
    sources: Vec<String>,
    /// Worked out for some probes only ([`RANGE_PROBES`]).
    range: Option<(IpAddr, IpAddr)>,
}

/// The answers to a set of probes, the number of ranges `Database::ranges` walked, and the
/// time both took.
#[derive(Debug, Clone)]
struct Probed {
    answers: Vec<Fingerprint>,
    ranges: usize,
    took: Duration,
}

/// `::ffff:0:0/96`, the IPv4-mapped block that `ranges` skips, as integers.
const MAPPED: (u128, u128) = (0xFFFF_0000_0000, 0xFFFF_FFFF_FFFF);

/// The address after `ip` in the order `Database::ranges` walks (all of IPv4, then IPv6 but
/// the IPv4-mapped block), or `None` after the last IPv6 address.
fn successor(ip: IpAddr) -> Option<IpAddr> {
    match ip {
        IpAddr::V4(a) => Some(match u32::from(a).checked_add(1) {
            Some(x) => IpAddr::V4(x.into()),
            None => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        }),
        IpAddr::V6(a) => {
            let x = u128::from(a).checked_add(1)?;
            let x = if x == MAPPED.0 { MAPPED.1 + 1 } else { x };
            Some(IpAddr::V6(x.into()))
        }
    }
}

/// Walks every range of `db`, checking that they tile the address space in order (IPv4 from
/// 0.0.0.0 to 255.255.255.255, then IPv6 from `::` to the last address, skipping the
/// IPv4-mapped block), each answered as its first address; returns their number.
fn walk_ranges(db: &Database) -> usize {
    let mut next = Some(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
    let mut n = 0;
    for r in db.ranges() {
        let Some(first) = next else {
            panic!("range {n} ({r:?}) after the last address")
        };
        assert_eq!(
            r.first, first,
            "range {n} does not start after the previous one"
        );
        assert!(
            r.first.is_ipv4() == r.last.is_ipv4() && r.first <= r.last,
            "range {n}: {r:?}"
        );
        assert_eq!(r.answer.ip(), r.first);
        next = successor(r.last);
        n += 1;
    }
    assert_eq!(next, None, "the ranges stop before the last address");
    n
}

/// At most this many probes of a set have their `range` worked out. A range scan is bounded,
/// but on a corrupt file it can cross the whole top table (2^18 entries) instead of a few
/// nodes, which a debug build takes milliseconds for.
const RANGE_PROBES: usize = 512;

/// Looks up every probe by `lookup` and by `lookup_many` (which must agree on the leaf value,
/// which decides everything else, and on the network), reads every field of each answer, works
/// out the range of up to [`RANGE_PROBES`] of them spread over the set, and returns the
/// fingerprints.
fn answer_all(db: &Database, probes: &[IpAddr]) -> Vec<Fingerprint> {
    let every = probes.len().div_ceil(RANGE_PROBES).max(1);
    let mut out = Vec::with_capacity(probes.len());
    for (i, (batch, &ip)) in db
        .lookup_many(probes.iter().copied())
        .zip(probes)
        .enumerate()
    {
        let a = db.lookup(ip);
        assert_eq!(batch.leaf_value(), a.leaf_value(), "lookup_many on {ip}");
        let network = a.network();
        assert_eq!(batch.network(), network, "lookup_many network on {ip}");
        assert!(network.contains(&a.ip()), "{ip}: network {network}");
        let range = (i % every == 0).then(|| a.range());
        if let Some(r) = range {
            assert!(r.0 <= a.ip() && a.ip() <= r.1, "{ip}: range {r:?}");
        }
        let _ = (a.score(), a.asn(), a.as_org(), a.provider(), a.country());
        let _ = (
            a.weak_categories(),
            a.tier(),
            a.risk_level(),
            a.trust_score(),
        );
        let _ = (a.is_empty(), a.sources().count(), a.source_infos().count());
        let _ = a.signals().map(|s| s.weight_hundredths()).max();
        out.push(Fingerprint {
            leaf: a.leaf_value(),
            record: *a.record_words(),
            categories: a.categories().bits(),
            verdict: a.verdict(),
            network,
            strings: [a.as_org(), a.provider(), a.country()].map(|s| s.map(str::to_owned)),
            sources: a.sources().map(str::to_owned).collect(),
            range,
        });
    }
    if let Some(&ip) = probes.first() {
        let _ = format!("{:?}", db.lookup(ip));
    }
    out
}

/// [`answer_all`] and [`walk_ranges`] on another thread, failing the test when they do not
/// finish within [`DEADLINE`] (an endless loop) and re-raising any panic.
fn probe(db: Database, probes: Arc<[IpAddr]>) -> Probed {
    probe_and_walk(db, probes, true)
}

/// [`probe`], walking the ranges only when `walk` (0 ranges reported otherwise).
fn probe_and_walk(db: Database, probes: Arc<[IpAddr]>, walk: bool) -> Probed {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let start = Instant::now();
        let answers = answer_all(&db, &probes);
        let ranges = if walk { walk_ranges(&db) } else { 0 };
        let _ = (db.sources().count(), db.metadata().count());
        let took = start.elapsed();
        let _ = tx.send(());
        Probed {
            answers,
            ranges,
            took,
        }
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(RecvTimeoutError::Timeout) => {
            panic!("lookups or the range walk did not finish within {DEADLINE:?}: an endless loop")
        }
    }
}

/// Every range of the clean snapshot as (first, last).
fn snapshot_ranges() -> &'static [(IpAddr, IpAddr)] {
    static RANGES: OnceLock<Vec<(IpAddr, IpAddr)>> = OnceLock::new();
    RANGES.get_or_init(|| {
        let db = Database::from_bytes(artifact()).unwrap();
        db.ranges().map(|r| (r.first, r.last)).collect()
    })
}

/// `n` addresses spread over the block of `2^shift` addresses at `start` by a multiplicative
/// hash (every address of a block of at most `n`).
fn hashed(f: Fam, start: u128, shift: u32, n: u32) -> Vec<IpAddr> {
    if shift < 32 && 1u64 << shift <= u64::from(n) {
        return (0..1u128 << shift).map(|i| f.addr(start + i)).collect();
    }
    (0..u128::from(n))
        .map(|i| {
            let h = i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835);
            f.addr(start + (h >> (128 - shift)))
        })
        .collect()
}

/// The lowest `bits` bits set.
fn low_mask(bits: u32) -> u128 {
    u128::MAX.checked_shr(128 - bits).unwrap_or(0)
}

/// The probes of the snapshot, computed once: the first and last address of every range (so
/// every slot of every node and every top entry is reached), 4,096 hashed IPv4 addresses over
/// the whole space and 512 in every IPv6 /16 that has a trie.
fn snapshot_probes() -> Arc<[IpAddr]> {
    static PROBES: OnceLock<Arc<[IpAddr]>> = OnceLock::new();
    PROBES
        .get_or_init(|| {
            let mut p: Vec<IpAddr> = Vec::new();
            for &(first, last) in snapshot_ranges() {
                p.push(first);
                if last != first {
                    p.push(last);
                }
            }
            p.extend(hashed(V4, 0, 32, 4096));
            for (t, e) in V6.top(artifact()).into_iter().enumerate() {
                if e & NODE != 0 {
                    p.extend(hashed(V6, (t as u128) << 112, 112, 512));
                }
            }
            p.into()
        })
        .clone()
}

/// The clean snapshot's answers to [`snapshot_probes`], computed once.
fn snapshot_answers() -> &'static Probed {
    static ANSWERS: OnceLock<Probed> = OnceLock::new();
    ANSWERS.get_or_init(|| probe(Database::from_bytes(artifact()).unwrap(), snapshot_probes()))
}

/// The probes inside the block of `2^shift` addresses at `start` of family `f`: its first and
/// last address, the first and last address of every snapshot range that meets it, and 4,096
/// hashed addresses (every address of a smaller block).
fn block_probes(f: Fam, start: u128, shift: u32) -> Arc<[IpAddr]> {
    let end = start + low_mask(shift);
    let inside = |ip: &IpAddr| {
        let x = f.int(*ip);
        x.is_some_and(|x| start <= x && x <= end)
    };
    let mut p = vec![f.addr(start), f.addr(end)];
    for &(first, last) in snapshot_ranges() {
        p.extend([first, last].into_iter().filter(inside));
    }
    p.extend(hashed(f, start, shift, 4096));
    p.into()
}

// ---------------------------------------------------------------------------------------------
// The tries as the test sees them (layout: `ipsieve::format::trie`).

/// One family's sections, widths and node layout.
#[derive(Debug, Clone, Copy)]
struct Fam {
    top: Section,
    nodes: Section,
    leaves: Section,
    spans: Section,
    bits: u32,
    top_bits: u32,
    layout: NodeLayout,
}

const V4: Fam = Fam {
    top: Section::V4Top,
    nodes: Section::V4Nodes,
    leaves: Section::V4Leaves,
    spans: Section::V4Spans,
    bits: 32,
    top_bits: trie::V4_TOP_BITS,
    layout: trie::V4_NODE,
};

const V6: Fam = Fam {
    top: Section::V6Top,
    nodes: Section::V6Nodes,
    leaves: Section::V6Leaves,
    spans: Section::V6Spans,
    bits: 128,
    top_bits: trie::V6_TOP_BITS,
    layout: trie::V6_NODE,
};

impl Fam {
    /// The family's address with integer value `x`.
    fn addr(self, x: u128) -> IpAddr {
        if self.bits == 32 {
            IpAddr::V4(Ipv4Addr::from(x as u32))
        } else {
            IpAddr::V6(Ipv6Addr::from(x))
        }
    }

    /// `ip` as an integer, if it is of this family.
    fn int(self, ip: IpAddr) -> Option<u128> {
        match ip {
            IpAddr::V4(a) if self.bits == 32 => Some(u128::from(u32::from(a))),
            IpAddr::V6(a) if self.bits == 128 => Some(u128::from(a)),
            _ => None,
        }
    }

    /// Address bits below a top entry.
    fn top_shift(self) -> u32 {
        self.bits - self.top_bits
    }

    /// The top table of `b`.
    fn top(self, b: &[u8]) -> Vec<u32> {
        let (off, len) = section(b, self.top);
        (0..len / 4).map(|i| read_u32(b, off + 4 * i)).collect()
    }

    /// Byte position of top entry `t`.
    fn top_at(self, b: &[u8], t: usize) -> usize {
        section(b, self.top).0 + 4 * t
    }

    /// Bytes per node.
    fn node_bytes(self) -> usize {
        self.layout.bytes()
    }

    /// Slots of a node that resolves the full stride.
    fn max_slots(self) -> u32 {
        1 << self.layout.stride
    }

    /// `u32` index within a node of its first inline leaf.
    fn inline_at(self) -> usize {
        self.layout.inline_at()
    }

    /// Leaves a node holds inline.
    fn inline(self) -> u32 {
        self.layout.inline() as u32
    }

    /// Word index within a node of `child_base | leaf_base << 32`.
    fn bases_word(self) -> usize {
        self.layout.bases_word()
    }

    /// Word index within a node of its guard word (guarded layouts only).
    fn guard_word(self) -> usize {
        assert!(self.layout.guarded, "{} have no guard", self.nodes.name());
        self.layout.bases_word() + 1
    }

    /// Number of nodes.
    fn node_count(self, b: &[u8]) -> usize {
        section(b, self.nodes).1 / self.node_bytes()
    }

    /// Byte position of node `i`.
    fn node_at(self, b: &[u8], i: usize) -> usize {
        section(b, self.nodes).0 + self.node_bytes() * i
    }

    /// The words of node `i` (the layout's `words` of them).
    fn words(self, b: &[u8], i: usize) -> Vec<u64> {
        let at = self.node_at(b, i);
        (0..self.layout.words)
            .map(|k| read_le(b, at + 8 * k, 8))
            .collect()
    }

    /// Node `i`, decoded.
    fn node(self, b: &[u8], i: usize) -> Node {
        Node::decode(&self.words(b, i), self.layout)
    }

    /// Writes word `k` of node `i`.
    fn put_word(self, b: &mut [u8], i: usize, k: usize, v: u64) {
        let at = self.node_at(b, i) + 8 * k;
        write_le(b, at, 8, v);
    }

    /// Writes the `vector` (`leafvec` when `runs`) bitmap of node `i`: the layout's bitmap
    /// words of `bits` (the words past them must be zero).
    fn put_bitmap(self, b: &mut [u8], i: usize, runs: bool, bits: Bitmap) {
        let bw = self.layout.bitmap_words;
        assert!(bits[bw..].iter().all(|&w| w == 0), "bits past the layout");
        for (w, &word) in bits[..bw].iter().enumerate() {
            self.put_word(b, i, usize::from(runs) * bw + w, word);
        }
    }

    /// Byte position of inline leaf `k` of node `i`.
    fn inline_leaf_at(self, b: &[u8], i: usize, k: u32) -> usize {
        self.node_at(b, i) + 4 * (self.inline_at() + k as usize)
    }

    /// Byte position of leaf `i` of the leaf array.
    fn leaf_at(self, b: &[u8], i: usize) -> usize {
        section(b, self.leaves).0 + 4 * i
    }

    /// Number of leaves of node `n` (its runs, and the outside leaf of a guarded node).
    fn leaf_count(n: &Node) -> u32 {
        ones(&n.leafvec) + u32::from(n.skip != 0)
    }
}

// Slot bitmaps (`[u64; 4]`: slot `s` is bit `s % 64` of word `s / 64`), written here rather
// than taken from the crate under test.

/// Whether slot `s`'s bit is set.
fn bit(bits: &Bitmap, s: u32) -> bool {
    bits[(s / 64) as usize] >> (s % 64) & 1 != 0
}

/// `bits` with slot `s`'s bit set.
fn with_bit(mut bits: Bitmap, s: u32) -> Bitmap {
    bits[(s / 64) as usize] |= 1 << (s % 64);
    bits
}

/// `bits` with slot `s`'s bit clear.
fn without_bit(mut bits: Bitmap, s: u32) -> Bitmap {
    bits[(s / 64) as usize] &= !(1 << (s % 64));
    bits
}

/// Number of set bits.
fn ones(bits: &Bitmap) -> u32 {
    bits.iter().map(|w| w.count_ones()).sum()
}

/// Number of set bits at and below slot `s`.
fn ones_upto(bits: &Bitmap, s: u32) -> u32 {
    (0..=s).filter(|&t| bit(bits, t)).count() as u32
}

/// Whether no bit is set.
fn empty(bits: &Bitmap) -> bool {
    bits.iter().all(|&w| w == 0)
}

/// The set slots, ascending.
fn slots_of(bits: &Bitmap) -> Vec<u32> {
    (0..64 * bits.len() as u32)
        .filter(|&s| bit(bits, s))
        .collect()
}

/// The lowest set slot.
fn lowest(bits: &Bitmap) -> Option<u32> {
    slots_of(bits).first().copied()
}

/// The highest set slot.
fn highest(bits: &Bitmap) -> Option<u32> {
    slots_of(bits).last().copied()
}

/// The bits of slots `0..n`.
fn first_slots(n: u32) -> Bitmap {
    std::array::from_fn(|w| {
        let live = n.saturating_sub(64 * w as u32).min(64);
        u64::MAX.checked_shr(64 - live).unwrap_or(0)
    })
}

/// `a & !b`, word by word.
fn and_not(a: &Bitmap, b: &Bitmap) -> Bitmap {
    std::array::from_fn(|w| a[w] & !b[w])
}

/// Where a node of a valid artifact sits.
#[derive(Debug, Clone, Copy, Default)]
struct Place {
    /// First address of the block it covers.
    start: u128,
    /// Address bits of that block (before the node's guard).
    shift: u32,
    /// Levels below the top table (0 for a root).
    depth: u32,
    /// The node whose child it is (`None` for a root).
    parent: Option<usize>,
    /// The top entry it descends from.
    entry: usize,
}

impl Place {
    /// The probes inside the node's block.
    fn probes(self, f: Fam) -> Arc<[IpAddr]> {
        block_probes(f, self.start, self.shift)
    }
}

/// Where every node of family `f` in the valid artifact `b` sits, by node index.
fn places(b: &[u8], f: Fam) -> Vec<Place> {
    let mut out = vec![Place::default(); f.node_count(b)];
    for (t, e) in f.top(b).into_iter().enumerate() {
        if e & NODE != 0 {
            out[(e & !NODE) as usize] = Place {
                start: (t as u128) << f.top_shift(),
                shift: f.top_shift(),
                depth: 0,
                parent: None,
                entry: t,
            };
        }
    }
    for i in 0..out.len() {
        let p = out[i];
        let n = f.node(b, i);
        let q_shift = p.shift - n.skip;
        let q_start = p.start + (u128::from(n.guard) << q_shift);
        let st = q_shift.min(f.layout.stride);
        for (rank, slot) in slots_of(&n.vector).into_iter().enumerate() {
            out[n.child_base as usize + rank] = Place {
                start: q_start + (u128::from(slot) << (q_shift - st)),
                shift: q_shift - st,
                depth: p.depth + 1,
                parent: Some(i),
                entry: p.entry,
            };
        }
    }
    out
}

/// The answers the clean snapshot gives to `probes` (its range count: [`snapshot_answers`]).
fn clean_answers(probes: &Arc<[IpAddr]>) -> Probed {
    if Arc::ptr_eq(probes, &snapshot_probes()) {
        return snapshot_answers().clone();
    }
    let mut p = probe_and_walk(
        Database::from_bytes(artifact()).unwrap(),
        probes.clone(),
        false,
    );
    p.ranges = snapshot_answers().ranges;
    p
}

/// What a corruption that opens must do to the answers of its probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    /// Some answer changes (the corruption is reached).
    Changes,
    /// Every answer stays as it was (the corrupt bits are never read by a lookup).
    Unchanged,
    /// Either (what the probes see of it depends on the data).
    Any,
}

/// A corrupt artifact that opens.
struct Opens {
    /// What was broken.
    what: String,
    /// The artifact, file checksum not recomputed.
    bytes: Vec<u8>,
    /// Addresses whose lookups reach the corruption.
    probes: Arc<[IpAddr]>,
    effect: Effect,
    /// `verify`'s error once the file checksum is recomputed: `Corrupt` naming the section
    /// with exactly this reason (`None`: the file verifies).
    verify: Option<(Section, String)>,
}

/// Checks a corrupt artifact that must open: `verify` refuses on the checksum; every probe is
/// answered (lookup and batch alike, every field, network and range) and every range walked
/// within the deadline, changing the answers as `effect` says; with the file checksum
/// recomputed `verify` names the section with the exact reason. Returns the probing.
#[track_caller]
fn check_opens(case: Opens) -> Probed {
    let Opens {
        what,
        bytes,
        probes,
        effect,
        verify,
    } = case;
    let db = Database::from_bytes(&bytes).unwrap_or_else(|e| panic!("{what}: refused: {e}"));
    assert_checksum(&db, &bytes);
    let clean = clean_answers(&probes);
    let probed = probe(db, probes.clone());
    let changed = clean
        .answers
        .iter()
        .zip(&probed.answers)
        .filter(|(a, b)| a != b)
        .count();
    match effect {
        Effect::Changes => assert!(changed > 0, "{what}: no answer changed"),
        Effect::Unchanged => assert_eq!(changed, 0, "{what}: answers changed"),
        Effect::Any => {}
    }
    let result = sealed(&bytes).verify();
    match &verify {
        Some((s, reason)) => assert_corrupt(
            &result.expect_err(&format!("{what}: verify passed")),
            *s,
            reason,
        ),
        None => result.unwrap_or_else(|e| panic!("{what}: {e}")),
    }
    eprintln!(
        "{what}: opens; {} probes ({changed} changed) and {} ranges ({} clean) in {:?}; verify: {}",
        probes.len(),
        probed.ranges,
        clean.ranges,
        probed.took,
        verify.map_or("passes".to_string(), |(s, r)| format!(
            "'{}': {r}",
            s.name()
        )),
    );
    probed
}

/// A scratch directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    /// A fresh directory named after `name` and this process.
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("ipsieve-hostile-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// `file` inside the directory.
    fn path(&self, file: &str) -> PathBuf {
        self.0.join(file)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Writes `bytes` to `path` and opens it both ways: into a private copy (`Database::open`)
/// and through a memory map (`Database::open_mmap`); the two must agree on success.
fn open_file(path: &Path, bytes: &[u8]) -> [Result<Database, OpenError>; 2] {
    std::fs::write(path, bytes).unwrap();
    let copy = Database::open(path);
    // SAFETY: the file is written once above and never modified while the mapping lives.
    let mapped = unsafe { Database::open_mmap(path) };
    [copy, mapped]
}

// ---------------------------------------------------------------------------------------------
// 1. Truncation.

#[test]
fn truncated_at_every_section_boundary() {
    let base = artifact();
    let scratch = Scratch::new("truncated");
    let path = scratch.path("cut.ipsieve");
    // Inside the header, through both file opens and from bytes.
    for cut in [0, 1, HEADER_LEN - 1] {
        let [copy, mapped] = open_file(&path, &base[..cut]);
        let from_bytes = Database::from_bytes(&base[..cut]);
        for err in [copy, mapped, from_bytes].map(Result::unwrap_err) {
            assert!(
                matches!(err, OpenError::TooShort { len } if len == cut),
                "{err:?}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "not an ipsieve artifact: {cut} bytes is shorter than the 384-byte header \
                     (truncated download?)"
                )
            );
        }
    }
    let mut cuts = 0;
    for (s, off, len) in present(base) {
        for cut in [off, off + 1, off + len - 1] {
            // As downloaded: the header's file length no longer matches.
            let [copy, mapped] = open_file(&path, &base[..cut]);
            let from_bytes = Database::from_bytes(&base[..cut]);
            for err in [copy, mapped, from_bytes].map(Result::unwrap_err) {
                assert!(
                    matches!(err, OpenError::LengthMismatch { expected, found }
                        if expected == base.len() as u64 && found == cut as u64),
                    "cut at {cut} in '{}': {err:?}",
                    s.name()
                );
                assert_eq!(
                    err.to_string(),
                    format!(
                        "artifact is {cut} bytes but its header says {}: truncated or appended \
                         to; rebuild or re-download the artifact",
                        base.len()
                    )
                );
            }
            // The header rewritten to the cut length (and resealed): the cut section is named,
            // with its offset and length.
            let mut b = base[..cut].to_vec();
            put_u64(&mut b, hdr::FILE_LEN, cut as u64);
            reseal(&mut b);
            let [copy, mapped] = open_file(&path, &b);
            let from_bytes = Database::from_bytes(&b);
            for err in [copy, mapped, from_bytes].map(Result::unwrap_err) {
                assert_section(
                    &err,
                    s,
                    &format!("offset {off} + length {len} lies outside the {cut}-byte file"),
                );
            }
            cuts += 1;
        }
    }
    assert_eq!(
        cuts,
        3 * Section::ALL.len(),
        "every section of the snapshot is present"
    );
}

#[test]
fn truncated_then_zero_filled_is_refused_or_caught_by_the_checksum() {
    // A download preallocated to its full size and cut short: the length matches, the tail is
    // zeros. Open refuses naming a section that holds zeroed bytes, or the file opens, answers
    // without a panic, and `verify` refuses on the file checksum.
    let base = artifact();
    let (mut opened, mut refused) = (Vec::new(), Vec::new());
    for (s, off, len) in present(base) {
        for cut in [off, off + 1, off + len - 1] {
            let mut b = base.to_vec();
            b[cut..].fill(0);
            if b == base {
                // The tail was zeros already (the hot column's last byte is always zero).
                continue;
            }
            match Database::from_bytes(&b) {
                Err(err) => {
                    let (blamed, reason) = named(&err).unwrap_or_else(|| panic!("{err:?}"));
                    let (_, b_off, b_len) = present(base)
                        .into_iter()
                        .find(|(p, _, _)| p.name() == blamed)
                        .unwrap();
                    assert!(
                        b_off + b_len > cut,
                        "zeros from {cut} in '{}' blamed on '{blamed}', wholly before the cut",
                        s.name()
                    );
                    refused.push(format!("{} +{}: '{blamed}': {reason}", s.name(), cut - off));
                }
                Ok(db) => {
                    assert_checksum(&db, &b);
                    probe(db, snapshot_probes());
                    opened.push(format!("{} +{}", s.name(), cut - off));
                }
            }
        }
    }
    eprintln!("refused at open: {refused:#?}\nopened, checksum: {opened:?}");
    assert!(
        !opened.is_empty() && !refused.is_empty(),
        "both outcomes occur"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. Flipped bytes.

/// Where the flip of a section's middle element is caught.
enum Caught {
    /// At open (with or without the checksums recomputed): `Corrupt` naming the section, with
    /// this reason.
    Open(String),
    /// By `verify` once the file checksum is recomputed: `Corrupt` naming the section, with
    /// this reason; the answers change as the effect says.
    Verify(String, Effect),
    /// Only by the file checksum: the flipped value is as well-formed as the original.
    ChecksumOnly(&'static str),
}

#[test]
fn flipped_byte_in_the_middle_of_each_section() {
    // The most significant byte of each section's middle element (a `u32`, or a byte)
    // inverted.
    let base = artifact();
    let sources = read_u32(base, hdr::SOURCE_COUNT);
    let mut seen = Vec::new();
    for (s, off, len) in present(base) {
        let size = if s.elem_size() == 1 { 1 } else { 4 };
        let index = len / size / 2;
        let at = off + index * size;
        let mut b = base.to_vec();
        b[at + size - 1] ^= 0xFF;
        let value = read_le(&b, at, size);
        let entry = |t| format!("entry {t} refers to a node, record or class that does not exist");
        let caught = match s {
            Section::V4Top | Section::V6Top => Caught::Open(entry(index)),
            Section::V4Nodes => {
                // An inline leaf slot of a node with fewer leaves than that.
                let per = V4.node_bytes() / 4;
                let (node, word) = (index / per, index % per);
                let k = (word - V4.inline_at()) as u32;
                assert!(word >= V4.inline_at() && Fam::leaf_count(&V4.node(base, node)) <= k);
                Caught::Verify(
                    format!("node {node}: an unused inline leaf slot is not zero"),
                    Effect::Unchanged,
                )
            }
            Section::V6Nodes => {
                // Bits 24..32 of a 256-slot node's child vector, all leaf slots that start no
                // run: the node gains 8 children, which the next parent's children no longer
                // follow.
                let per = V6.node_bytes() / 4;
                let (node, word) = (index / per, index % per);
                let n = V6.node(base, node);
                assert_eq!(word, 0);
                assert!(places(base, V6)[node].shift - n.skip >= V6.layout.stride);
                assert_eq!((n.vector[0] | n.leafvec[0]) & 0xFF00_0000, 0);
                let next = (node + 1..V6.node_count(base))
                    .find(|&i| !empty(&V6.node(base, i).vector))
                    .unwrap();
                let cb = V6.node(base, next).child_base;
                Caught::Verify(
                    format!(
                        "node {next}: children at {cb}, expected {} (breadth-first, after the node)",
                        cb + 8
                    ),
                    Effect::Changes,
                )
            }
            Section::V4Leaves | Section::V6Leaves => Caught::Verify(
                format!("leaf {index}: {value:#x} has the node flag (bit 31) set"),
                Effect::Changes,
            ),
            Section::Classes => Caught::Verify(
                format!("class {index} ({value:#x}) has undefined bits"),
                Effect::Unchanged,
            ),
            Section::Records => Caught::Verify(
                format!("record {} has a field out of range", index / 8),
                Effect::Changes,
            ),
            Section::StrOffsets => Caught::Verify(
                format!(
                    "string {} ends at {value} (not ascending or not a char boundary)",
                    index - 1
                ),
                Effect::Any,
            ),
            Section::StrBlob => {
                Caught::Verify(format!("invalid UTF-8 at byte {index}"), Effect::Any)
            }
            Section::Sources => {
                assert_eq!(index % 8, format::src::SNAPSHOT_DAY);
                Caught::ChecksumOnly("a source's snapshot day: any value is a date")
            }
            Section::SetOffsets => Caught::Open("offsets are not ascending".into()),
            Section::SetItems => Caught::Open(format!(
                "source index {value} out of range ({sources} sources)"
            )),
            Section::Meta => Caught::Open("bad key/value string index".into()),
            Section::V4Spans | Section::V6Spans => {
                Caught::Verify("does not match the top table".into(), Effect::Any)
            }
            Section::Hot => Caught::Verify(
                format!(
                    "entry {0} does not match record {0}'s ASN and country",
                    index / format::hot::WORDS
                ),
                Effect::Any,
            ),
        };
        let name = s.name();
        // The snapshot's probes, or for a node the probes of its block.
        let probes = match s {
            Section::V4Nodes => places(base, V4)[index / (V4.node_bytes() / 4)].probes(V4),
            Section::V6Nodes => places(base, V6)[index / (V6.node_bytes() / 4)].probes(V6),
            _ => snapshot_probes(),
        };
        match caught {
            Caught::Open(reason) => {
                let mut sealed = b.clone();
                seal_file(&mut sealed);
                for bytes in [&b, &sealed] {
                    let err = Database::from_bytes(bytes).expect_err(name);
                    assert_corrupt(&err, s, &reason);
                }
                seen.push(format!(
                    "'{name}' word {index} -> {value:#x}: open refuses: {reason}"
                ));
            }
            Caught::Verify(reason, effect) => {
                check_opens(Opens {
                    what: format!("'{name}' middle element {index} -> {value:#x}"),
                    bytes: b,
                    probes: probes.clone(),
                    effect,
                    verify: Some((s, reason)),
                });
            }
            Caught::ChecksumOnly(why) => {
                check_opens(Opens {
                    what: format!("'{name}' middle element {index} -> {value:#x} ({why})"),
                    bytes: b,
                    probes: probes.clone(),
                    effect: Effect::Unchanged,
                    verify: None,
                });
            }
        }
    }
    eprintln!("{seen:#?}");
}

#[test]
fn low_bit_flips_are_caught_by_the_file_checksum() {
    // Bit 0 of each section's middle byte: often another well-formed value (another record,
    // letter, date or string), which only the file checksum can notice. Open refuses naming
    // the section, or `verify` refuses on the checksum; with the checksum recomputed, `verify`
    // passes or names the section. Two sections are named through what depends on them: a top
    // entry changed to another valid leaf breaks only the spans derived from it, and a class
    // word changed to another valid summary no longer summarises the records of the leaves
    // that name it.
    let base = artifact();
    let mut outcomes = Vec::new();
    for (s, off, len) in present(base) {
        let mut b = base.to_vec();
        b[off + len / 2] ^= 1;
        let outcome = match Database::from_bytes(&b) {
            Err(err) => {
                assert_eq!(named(&err).map(|(n, _)| n), Some(s.name()), "{err:?}");
                format!("open refuses: {err}")
            }
            Ok(db) => {
                assert_checksum(&db, &b);
                probe(db, snapshot_probes());
                match sealed(&b).verify() {
                    Ok(()) => "checksum only".to_string(),
                    Err(err) => {
                        let (blamed, reason) = named(&err).unwrap_or_else(|| panic!("{err:?}"));
                        let through = match s {
                            Section::V4Top => blamed == V4.spans.name(),
                            Section::V6Top => blamed == V6.spans.name(),
                            Section::Classes => reason.contains(" does not summarise record "),
                            _ => false,
                        };
                        assert!(blamed == s.name() || through, "{}: {err:?}", s.name());
                        format!("verify: '{blamed}': {reason}")
                    }
                }
            }
        };
        outcomes.push(format!("'{}': {outcome}", s.name()));
    }
    eprintln!("{outcomes:#?}");
}

#[test]
fn every_byte_of_a_few_nodes_flipped() {
    // Each byte of a few nodes inverted in turn: an IPv4 root with children, an IPv4 node with
    // overflow leaves, the guarded IPv6 root 0 and the deepest IPv6 parent. Every file opens
    // (open does not read nodes), lookups, batches, networks, ranges and the range walk end,
    // and with the checksum recomputed `verify` names the node or leaf section, or passes
    // (another well-formed node: another record of the same class, other runs).
    let base = artifact();
    let mut passed = Vec::new();
    let mut named_by = std::collections::BTreeMap::new();
    for (f, pick) in [(V4, 0), (V4, 1), (V6, 0), (V6, 1)] {
        let pl = places(base, f);
        let count = f.node_count(base);
        let i = match pick {
            0 => (0..count)
                .find(|&i| !empty(&f.node(base, i).vector))
                .unwrap(),
            _ if f.bits == 32 => (0..count)
                .find(|&i| Fam::leaf_count(&f.node(base, i)) > f.inline())
                .unwrap(),
            _ => parents(base, f)
                .into_iter()
                .max_by_key(|&i| pl[i].depth)
                .unwrap(),
        };
        let probes: Arc<[IpAddr]> = {
            let all = pl[i].probes(f);
            all.iter().copied().take(1024).collect()
        };
        let clean = clean_answers(&probes);
        // The bytes of the run bitmap.
        let runs = 8 * f.layout.bitmap_words..16 * f.layout.bitmap_words;
        for byte in 0..f.node_bytes() {
            let mut b = base.to_vec();
            b[f.node_at(base, i) + byte] ^= 0xFF;
            let db = Database::from_bytes(&b).unwrap();
            assert_checksum(&db, &b);
            // The range walk where a flip can change the structure (an inline leaf cannot).
            let probed = probe_and_walk(db, probes.clone(), byte < 4 * f.inline_at());
            let changed = clean
                .answers
                .iter()
                .zip(&probed.answers)
                .filter(|(x, y)| x != y)
                .count();
            match sealed(&b).verify() {
                Ok(()) => {
                    // Only where another well-formed node can result: an inline leaf's record
                    // index (another record in the same class) or the run bitmap (runs moved,
                    // or runs added whose leaves read unused inline slots: zero, the empty
                    // answer, a valid leaf).
                    let inline = byte >= 4 * f.inline_at();
                    assert!(
                        inline || runs.contains(&byte),
                        "{} node {i} byte {byte}: verify passed",
                        f.nodes.name()
                    );
                    passed.push(format!(
                        "{} node {i} byte {byte} ({changed} of {} answers changed)",
                        f.nodes.name(),
                        probes.len()
                    ));
                }
                Err(err) => {
                    let (blamed, reason) = named(&err).unwrap_or_else(|| panic!("{err:?}"));
                    assert!(
                        blamed == f.nodes.name() || blamed == f.leaves.name(),
                        "{} node {i} byte {byte}: {err:?}",
                        f.nodes.name()
                    );
                    // The reason with its numbers (node, leaf, record, value) left out.
                    let kind = reason.split_once(": ").map_or(reason, |(_, k)| k);
                    let kind = kind
                        .split(' ')
                        .map(|w| match w.chars().next() {
                            Some(c) if c.is_ascii_digit() => "N",
                            _ => w,
                        })
                        .collect::<Vec<_>>()
                        .join(" ");
                    *named_by.entry(format!("'{blamed}': {kind}")).or_insert(0) += 1;
                }
            }
        }
    }
    eprintln!("verify passes: {passed:#?}\nverify names: {named_by:#?}");
}

// ---------------------------------------------------------------------------------------------
// 3. Hostile directory entries.

/// One section's directory entry and its neighbours in the file, for the directory cases.
struct Entry {
    /// The section.
    s: Section,
    /// Its offset and length as built.
    off: u64,
    len: u64,
    /// The section before it in the file, with its offset and length.
    prev: Option<(Section, u64, u64)>,
    /// The section after it in the file, with its offset.
    next: Option<(Section, u64)>,
    /// Length of the whole artifact.
    file_len: u64,
}

/// A rewritten directory entry: the new (offset, length) of the entry's section, and the
/// section and exact reason of the expected `OpenError::Section`.
type Rewrite = Option<((u64, u64), (Section, String))>;

/// A directory case: what it does, and the rewrite of an entry (`None`: not applicable).
type DirCase = (&'static str, fn(&Entry) -> Rewrite);

#[test]
fn hostile_directory_entries_name_the_section() {
    fn outside(o: u64, l: u64, n: u64) -> String {
        format!("offset {o} + length {l} lies outside the {n}-byte file")
    }
    /// A length the misaligned cases can keep in the file.
    fn shorter(e: &Entry) -> u64 {
        if e.len > 8 {
            e.len - 8
        } else {
            e.len
        }
    }
    let cases: [DirCase; 14] = [
        ("offset past the end of the file", |e| {
            let o = e.file_len.next_multiple_of(64) + 64;
            Some(((o, e.len), (e.s, outside(o, e.len, e.file_len))))
        }),
        ("ends one line past the end of the file", |e| {
            let l = e.file_len - e.off + 64;
            Some(((e.off, l), (e.s, outside(e.off, l, e.file_len))))
        }),
        ("length u64::MAX (offset + length overflows)", |e| {
            Some((
                (e.off, u64::MAX),
                (e.s, outside(e.off, u64::MAX, e.file_len)),
            ))
        }),
        (
            "offset u64::MAX - 63 (aligned; offset + length overflows)",
            |e| {
                let o = u64::MAX - 63;
                Some(((o, e.len), (e.s, outside(o, e.len, e.file_len))))
            },
        ),
        ("length 2^62", |e| {
            Some(((e.off, 1 << 62), (e.s, outside(e.off, 1 << 62, e.file_len))))
        }),
        ("offset 0: the header", |e| {
            Some(((0, e.len), (e.s, "overlaps the header".into())))
        }),
        ("offset 256: 64-byte aligned, inside the header", |e| {
            Some(((256, e.len), (e.s, "overlaps the header".into())))
        }),
        ("offset misaligned by 8", |e| {
            let o = e.off + 8;
            let why = format!("offset {o} is not 64-byte aligned");
            Some(((o, shorter(e)), (e.s, why)))
        }),
        ("offset misaligned by 1", |e| {
            let o = e.off + 1;
            let why = format!("offset {o} is not 64-byte aligned");
            Some(((o, shorter(e)), (e.s, why)))
        }),
        ("absent (length 0) at a non-zero offset", |e| {
            let why = format!("absent (length 0) but its offset is {}, not 0", e.off);
            Some(((e.off, 0), (e.s, why)))
        }),
        ("length not a multiple of the element size", |e| {
            let size = e.s.elem_size() as u64;
            let l = e.len - size + size.div_ceil(2);
            let why = format!("length {l} is not a multiple of {size}");
            (size > 1).then_some(((e.off, l), (e.s, why)))
        }),
        ("starts inside the previous section", |e| {
            let (p, po, _) = e.prev.filter(|&(_, _, pl)| pl > 64)?;
            let why = format!("overlaps section '{}'", p.name());
            Some(((po + 64, e.len), (e.s, why)))
        }),
        ("starts at the previous section's offset", |e| {
            let (p, po, _) = e.prev?;
            let why = format!("overlaps section '{}'", p.name());
            Some(((po, e.len), (e.s, why)))
        }),
        ("runs into the next section", |e| {
            let why = format!("overlaps section '{}'", e.s.name());
            // One element past the next section's start (which may be a short last section).
            let (next, next_off) = e.next?;
            let l = (next_off - e.off + 1).next_multiple_of(e.s.elem_size() as u64);
            Some(((e.off, l), (next, why)))
        }),
    ];
    for base in [artifact(), &small_artifact()[..]] {
        let sections = present(base);
        let mut tried = 0;
        for (i, &(s, off, len)) in sections.iter().enumerate() {
            let entry = Entry {
                s,
                off: off as u64,
                len: len as u64,
                prev: i.checked_sub(1).map(|p| {
                    let (ps, po, pl) = sections[p];
                    (ps, po as u64, pl as u64)
                }),
                next: sections.get(i + 1).map(|n| (n.0, n.1 as u64)),
                file_len: base.len() as u64,
            };
            for (what, rewrite) in &cases {
                let Some(((o, l), (blamed, reason))) = rewrite(&entry) else {
                    continue;
                };
                let mut b = base.to_vec();
                put_u64(&mut b, dir_entry(s), o);
                put_u64(&mut b, dir_entry(s) + 8, l);
                reseal(&mut b);
                let err = Database::from_bytes(&b)
                    .expect_err(&format!("{what} for '{}': opened", s.name()));
                assert_section(&err, blamed, &reason);
                tried += 1;
            }
        }
        // Every case for every section, but those without a neighbour (or a previous section
        // longer than a line), and the element-size case for byte sections.
        assert!(tried >= sections.len() * (cases.len() - 4), "{tried}");
    }
}

#[test]
fn wrong_section_sizes_and_header_counts() {
    let base = artifact();
    let with_entry = |s: Section, off: usize, len: usize| {
        let mut b = base.to_vec();
        put_u64(&mut b, dir_entry(s), off as u64);
        put_u64(&mut b, dir_entry(s) + 8, len as u64);
        reseal(&mut b);
        Database::from_bytes(&b).unwrap_err()
    };
    // The fixed-size sections one element short.
    for (s, full) in [
        (Section::V4Top, 4 << 18),
        (Section::V6Top, 4 << 16),
        (Section::V4Spans, 1 << 18),
        (Section::V6Spans, 1 << 16),
    ] {
        let (off, len) = section(base, s);
        assert_eq!(len, full);
        let short = len - s.elem_size();
        assert_section(
            &with_entry(s, off, short),
            s,
            &format!("length {short} is not {full}"),
        );
    }
    // The sections sized by the header's counts, one element short.
    for (s, elem) in [
        (Section::Records, 32),
        (Section::StrOffsets, 4),
        (Section::Sources, 32),
        (Section::SetOffsets, 4),
    ] {
        let (off, len) = section(base, s);
        assert_section(
            &with_entry(s, off, len - elem),
            s,
            &format!(
                "length {} does not match the header's count ({len} expected)",
                len - elem
            ),
        );
    }
    // The header's counts.
    let with_count = |at: usize, v: u32| {
        let mut b = base.to_vec();
        write_u32(&mut b, at, v);
        reseal(&mut b);
        Database::from_bytes(&b).unwrap_err()
    };
    let records = read_u32(base, hdr::RECORD_COUNT);
    for v in [0, format::MAX_RECORDS as u32 + 1, u32::MAX] {
        let err = with_count(hdr::RECORD_COUNT, v);
        assert!(
            matches!(err, OpenError::Header("record count out of range")),
            "{v}: {err:?}"
        );
    }
    let (_, rec_len) = section(base, Section::Records);
    assert_section(
        &with_count(hdr::RECORD_COUNT, records + 1),
        Section::Records,
        &format!(
            "length {rec_len} does not match the header's count ({} expected)",
            rec_len + 32
        ),
    );
    for (at, s, per) in [
        (hdr::STRING_COUNT, Section::StrOffsets, 4),
        (hdr::SOURCE_COUNT, Section::Sources, 32),
        (hdr::SET_COUNT, Section::SetOffsets, 4),
    ] {
        let (_, len) = section(base, s);
        assert_section(
            &with_count(at, read_u32(base, at) - 1),
            s,
            &format!(
                "length {len} does not match the header's count ({} expected)",
                len - per
            ),
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Forward-reference violations.

/// Nodes of family `f` in `b` that have children, in node order.
fn parents(b: &[u8], f: Fam) -> Vec<usize> {
    (0..f.node_count(b))
        .filter(|&i| !empty(&f.node(b, i).vector))
        .collect()
}

/// `base` with the child base of node `i` of family `f` set to `child_base`.
fn with_child_base(base: &[u8], f: Fam, i: usize, child_base: u32) -> Vec<u8> {
    let mut b = base.to_vec();
    let n = f.node(base, i);
    f.put_word(
        &mut b,
        i,
        f.bases_word(),
        u64::from(child_base) | u64::from(n.leaf_base) << 32,
    );
    b
}

/// Rewrites the top spans of family `f` in `b` to match its top table.
fn respan(b: &mut [u8], f: Fam) {
    let spans = trie::spans(&f.top(b));
    let (off, len) = section(b, f.spans);
    b[off..off + len].copy_from_slice(&spans);
}

/// The union of two probe sets.
fn both(a: &Arc<[IpAddr]>, b: &Arc<[IpAddr]>) -> Arc<[IpAddr]> {
    a.iter().chain(b.iter()).copied().collect()
}

#[test]
fn forward_reference_violations_terminate_and_verify_names_them() {
    let base = artifact();
    let mut tried = 0;
    for f in [V4, V6] {
        let pl = places(base, f);
        let count = f.node_count(base);
        let parents = parents(base, f);
        let root = parents.iter().copied().find(|&i| pl[i].depth == 0).unwrap();
        let deep = parents
            .iter()
            .copied()
            .max_by_key(|&i| (pl[i].depth, std::cmp::Reverse(i)))
            .unwrap();
        let deep_root = (f.top(base)[pl[deep].entry] & !NODE) as usize;
        let deep_parent = pl[deep].parent.expect("the deepest parent is not a root");
        let children_at = |i: usize, cb: u32| {
            let expected = f.node(base, i).child_base;
            format!(
                "node {i}: children at {cb}, expected {expected} (breadth-first, after the node)"
            )
        };
        let mut cases = vec![
            ("a root is its own child", root, root as u32),
            ("the deepest parent is its own child", deep, deep as u32),
            (
                "the deepest parent's child is its root (a cycle through its ancestors)",
                deep,
                deep_root as u32,
            ),
            ("a child base points back at node 0", deep, 0),
            (
                "a child base skips a node",
                root,
                f.node(base, root).child_base + 1,
            ),
            ("a child base past the last node", root, count as u32),
            ("a child base of u32::MAX", root, u32::MAX),
        ];
        if deep_parent != deep_root {
            cases.push((
                "the deepest parent's child is its parent",
                deep,
                deep_parent as u32,
            ));
        }
        for (what, i, cb) in cases {
            check_opens(Opens {
                what: format!("{}: {what} (node {i}, child base {cb})", f.nodes.name()),
                bytes: with_child_base(base, f, i, cb),
                probes: pl[i].probes(f),
                effect: Effect::Changes,
                verify: Some((f.nodes, children_at(i, cb))),
            });
            tried += 1;
        }

        // The last parent's children are the last nodes (breadth-first): one more child slot
        // (a leaf slot that starts no run, so the leaves stay as they were) runs past the end.
        let last = *parents.last().unwrap();
        let n = f.node(base, last);
        let st = (pl[last].shift - n.skip).min(f.layout.stride);
        let slots = first_slots(1 << st);
        // The first leaf slot always starts a run, so a free slot is never the first.
        let free = and_not(&and_not(&slots, &n.vector), &n.leafvec);
        let extra = lowest(&free)
            .unwrap_or_else(|| panic!("node {last} has no leaf slot that starts no run"));
        let mut b = base.to_vec();
        f.put_bitmap(&mut b, last, false, with_bit(n.vector, extra));
        check_opens(Opens {
            what: format!(
                "{}: the last parent (node {last}) has a child past the end",
                f.nodes.name()
            ),
            bytes: b,
            probes: pl[last].probes(f),
            effect: Effect::Changes,
            verify: Some((f.nodes, format!("node {last}: children past the end"))),
        });

        // The last parent without its last child: that node (the last) is an orphan. The slot
        // becomes a leaf slot that continues the run before it (or starts one); a parent left
        // without children gets child base 0, as written.
        let top_slot = highest(&n.vector).unwrap();
        let mut b = base.to_vec();
        f.put_bitmap(&mut b, last, false, without_bit(n.vector, top_slot));
        if (0..top_slot).all(|s| bit(&n.vector, s)) {
            f.put_bitmap(&mut b, last, true, with_bit(n.leafvec, top_slot));
        }
        if ones(&n.vector) == 1 {
            f.put_word(&mut b, last, f.bases_word(), u64::from(n.leaf_base) << 32);
        }
        check_opens(Opens {
            what: format!(
                "{}: the last parent (node {last}) loses its last child",
                f.nodes.name()
            ),
            bytes: b,
            probes: pl[last].probes(f),
            effect: Effect::Changes,
            verify: Some((
                f.nodes,
                format!("node {}: no parent refers to it", count - 1),
            )),
        });
        tried += 2;

        // Top entries: two roots swapped (in range, out of address order), a root naming the
        // last node (the wrong depth), a leaf entry naming the first root (two parents).
        let top = f.top(base);
        let roots: Vec<usize> = (0..top.len()).filter(|&t| top[t] & NODE != 0).collect();
        let (t1, t2) = (roots[0], roots[1]);
        let block = |t: usize| block_probes(f, (t as u128) << f.top_shift(), f.top_shift());
        let mut b = base.to_vec();
        write_u32(&mut b, f.top_at(base, t1), top[t2]);
        write_u32(&mut b, f.top_at(base, t2), top[t1]);
        let entry = |t: usize, to: u32, expected: usize| {
            format!("entry {t} refers to node {to}, not {expected} (roots are in address order)")
        };
        check_opens(Opens {
            what: format!("{}: roots of entries {t1} and {t2} swapped", f.top.name()),
            bytes: b,
            probes: both(&block(t1), &block(t2)),
            effect: Effect::Changes,
            verify: Some((f.top, entry(t1, top[t2] & !NODE, 0))),
        });
        let mut b = base.to_vec();
        write_u32(&mut b, f.top_at(base, t1), NODE | (count as u32 - 1));
        check_opens(Opens {
            what: format!("{}: entry {t1} names the last node", f.top.name()),
            bytes: b,
            probes: block(t1),
            effect: Effect::Changes,
            verify: Some((f.top, entry(t1, count as u32 - 1, 0))),
        });
        let after = (roots[roots.len() - 1] + 1..top.len())
            .find(|&t| top[t] & NODE == 0)
            .unwrap();
        let mut b = base.to_vec();
        write_u32(&mut b, f.top_at(base, after), NODE);
        // The spans rewritten to match, as the writer that made the entry would have.
        respan(&mut b, f);
        check_opens(Opens {
            what: format!("{}: leaf entry {after} names the first root", f.top.name()),
            bytes: b,
            probes: block(after),
            effect: Effect::Changes,
            verify: Some((f.top, entry(after, 0, roots.len()))),
        });
        tried += 3;

        // Node references past the nodes are refused at open, from a root or a leaf entry.
        for t in [t1, after] {
            for e in [NODE | count as u32, NODE | (NODE - 1)] {
                let mut b = base.to_vec();
                write_u32(&mut b, f.top_at(base, t), e);
                for b in [b.clone(), {
                    seal_file(&mut b);
                    b
                }] {
                    assert_corrupt(
                        &Database::from_bytes(&b).unwrap_err(),
                        f.top,
                        &format!("entry {t} refers to a node, record or class that does not exist"),
                    );
                }
                tried += 1;
            }
        }
    }
    assert_eq!(tried, 16 + 17);
}

// ---------------------------------------------------------------------------------------------
// 5. Out-of-range record indices and bad classes in leaves.

/// A leaf value with its record and class replaced.
fn with_record(v: u32, record: u32) -> u32 {
    leaf::encode(record, leaf::class(v))
}

/// A leaf value with its class replaced.
fn with_class(v: u32, class: u32) -> u32 {
    leaf::encode(leaf::record(v), class)
}

/// A leaf value worth corrupting: a record other than the empty one, in a class of its own
/// (not the empty summary, not the escape).
fn interesting(v: u32) -> bool {
    leaf::record(v) != 0 && leaf::class(v) != 0 && leaf::class(v) != leaf::CLASS_IN_RECORD
}

/// Where a leaf value lives.
#[derive(Debug, Clone, Copy)]
enum Slot {
    /// Inline leaf `k` of node `i`.
    Inline(usize, u32),
    /// Leaf `j` of the leaf array, an overflow leaf of node `i`.
    Overflow(usize, usize),
}

/// The first interesting inline leaf (of a guarded node's outside leaf, when `outside`) and the
/// first interesting overflow leaf of family `f` in `b`.
fn leaf_slots(b: &[u8], f: Fam, outside: bool) -> (Slot, Slot) {
    let mut inline = None;
    let mut overflow = None;
    for i in 0..f.node_count(b) {
        let n = f.node(b, i);
        let count = Fam::leaf_count(&n);
        if outside && n.skip == 0 {
            continue;
        }
        for k in 0..count {
            let at = if k < f.inline() {
                f.inline_leaf_at(b, i, k)
            } else {
                f.leaf_at(b, (n.leaf_base + k - f.inline()) as usize)
            };
            if !interesting(read_u32(b, at)) {
                continue;
            }
            if k < f.inline() && inline.is_none() && (!outside || k == 0) {
                inline = Some(Slot::Inline(i, k));
            }
            if k >= f.inline() && overflow.is_none() {
                overflow = Some(Slot::Overflow(i, (n.leaf_base + k - f.inline()) as usize));
            }
        }
        if let (Some(a), Some(b)) = (inline, overflow) {
            return (a, b);
        }
    }
    panic!("no interesting leaves in {}", f.nodes.name())
}

/// The class count and the summary class word of every class of `b`.
fn classes(b: &[u8]) -> Vec<u32> {
    let (off, len) = section(b, Section::Classes);
    (0..len / 4).map(|i| read_u32(b, off + 4 * i)).collect()
}

#[test]
fn bad_records_and_classes_in_node_leaves() {
    let base = artifact();
    let records = read_u32(base, hdr::RECORD_COUNT);
    let class_count = classes(base).len() as u32;
    let mut tried = 0;
    for (f, outside) in [(V4, false), (V6, false), (V6, true)] {
        let pl = places(base, f);
        let (inline, overflow) = leaf_slots(base, f, outside);
        for slot in [inline, overflow] {
            if outside && matches!(slot, Slot::Overflow(..)) {
                continue;
            }
            let (at, node, section, what) = match slot {
                Slot::Inline(i, k) => (
                    f.inline_leaf_at(base, i, k),
                    i,
                    f.nodes,
                    format!("node {i} leaf {k}"),
                ),
                Slot::Overflow(i, j) => (f.leaf_at(base, j), i, f.leaves, format!("leaf {j}")),
            };
            let v = read_u32(base, at);
            let r = leaf::record(v);
            let cases = [
                (
                    "record index = record count",
                    with_record(v, records),
                    Some(format!("{what}: record {records} out of range")),
                ),
                (
                    "record index 2^23 - 1",
                    with_record(v, leaf::RECORD_MASK),
                    Some(format!("{what}: record {} out of range", leaf::RECORD_MASK)),
                ),
                (
                    "class index = class count",
                    with_class(v, class_count),
                    Some(format!(
                        "{what}: class {class_count} does not summarise record {r}"
                    )),
                ),
                (
                    "class index 254",
                    with_class(v, 254),
                    Some(format!("{what}: class 254 does not summarise record {r}")),
                ),
                (
                    "class 0 (the empty summary) for a record with categories",
                    with_class(v, 0),
                    Some(format!("{what}: class 0 does not summarise record {r}")),
                ),
                (
                    "the node flag (bit 31) set",
                    v | NODE,
                    Some(format!(
                        "{what}: {:#x} has the node flag (bit 31) set",
                        v | NODE
                    )),
                ),
                (
                    "the escape class (read the summary from the record): valid",
                    with_class(v, leaf::CLASS_IN_RECORD),
                    None,
                ),
            ];
            for (case, value, reason) in cases {
                let mut b = base.to_vec();
                write_u32(&mut b, at, value);
                let escape = reason.is_none();
                let probed = check_opens(Opens {
                    what: format!("{}: {what} ({v:#x}): {case} ({value:#x})", section.name()),
                    bytes: b,
                    probes: pl[node].probes(f),
                    effect: Effect::Changes,
                    verify: reason.map(|r| (section, r)),
                });
                if escape {
                    // Another leaf value, the same answer: only the leaf value (and so the
                    // network and range, which split where leaf values differ) changed.
                    let clean = clean_answers(&pl[node].probes(f));
                    for (a, b) in clean.answers.iter().zip(&probed.answers) {
                        assert_eq!(
                            (a.record, a.categories, a.verdict),
                            (b.record, b.categories, b.verdict)
                        );
                    }
                }
                tried += 1;
            }
        }
    }
    assert_eq!(tried, 5 * 7);
}

#[test]
fn bad_records_and_classes_in_top_entries() {
    let base = artifact();
    let records = read_u32(base, hdr::RECORD_COUNT);
    let class_count = classes(base).len() as u32;
    for f in [V4, V6] {
        let top = f.top(base);
        // An entry with a record in a class of its own; where there is none (the snapshot's
        // IPv6 /16s are all empty or trie roots), the first leaf entry given the value of an
        // interesting leaf of a node.
        let (t, v) = match (0..top.len()).find(|&t| top[t] & NODE == 0 && interesting(top[t])) {
            Some(t) => (t, top[t]),
            None => {
                let t = (0..top.len()).find(|&t| top[t] & NODE == 0).unwrap();
                let Slot::Inline(i, k) = leaf_slots(base, f, false).0 else {
                    unreachable!()
                };
                (t, read_u32(base, f.inline_leaf_at(base, i, k)))
            }
        };
        let r = leaf::record(v);
        let probes = block_probes(f, (t as u128) << f.top_shift(), f.top_shift());
        // The spans rewritten to match, as the writer that made the entry would have.
        let with = |e: u32| {
            let mut b = base.to_vec();
            write_u32(&mut b, f.top_at(base, t), e);
            respan(&mut b, f);
            b
        };
        // Refused at open: a record or class that does not exist.
        for e in [
            with_record(v, records),
            with_record(v, leaf::RECORD_MASK),
            with_class(v, class_count),
            with_class(v, 254),
        ] {
            let mut b = with(e);
            for sealed in [false, true] {
                if sealed {
                    seal_file(&mut b);
                }
                assert_corrupt(
                    &Database::from_bytes(&b).unwrap_err(),
                    f.top,
                    &format!("entry {t} refers to a node, record or class that does not exist"),
                );
            }
        }
        // Opens: a class that exists but does not summarise the record, named by `verify`
        // whether or not the spans were rewritten to match (entries are checked first); the
        // escape class, valid.
        let mut b = base.to_vec();
        write_u32(&mut b, f.top_at(base, t), with_class(v, 0));
        if v == top[t] {
            check_opens(Opens {
                what: format!(
                    "{}: entry {t} ({v:#x}) in class 0, spans as built",
                    f.top.name()
                ),
                bytes: b,
                probes: probes.clone(),
                effect: Effect::Changes,
                verify: Some((
                    f.top,
                    format!("entry {t}: class 0 does not summarise record {r}"),
                )),
            });
        }
        check_opens(Opens {
            what: format!("{}: entry {t} ({v:#x}) in class 0", f.top.name()),
            bytes: with(with_class(v, 0)),
            probes: probes.clone(),
            effect: Effect::Changes,
            verify: Some((
                f.top,
                format!("entry {t}: class 0 does not summarise record {r}"),
            )),
        });
        check_opens(Opens {
            what: format!("{}: entry {t} ({v:#x}) in the escape class", f.top.name()),
            bytes: with(with_class(v, leaf::CLASS_IN_RECORD)),
            probes,
            effect: Effect::Changes,
            verify: None,
        });
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Bad guards, slot bitmaps, inline slots, leaf bases, spans and classes.

/// `base` with word `k` of node `i` of family `f` replaced by `w(old)`.
fn with_word(base: &[u8], f: Fam, i: usize, k: usize, w: impl Fn(u64) -> u64) -> Vec<u8> {
    let mut b = base.to_vec();
    let old = f.words(base, i)[k];
    f.put_word(&mut b, i, k, w(old));
    b
}

/// `base` with the `vector` (`leafvec` when `runs`) bitmap of node `i` of family `f` replaced
/// by `w(old)`.
fn with_bitmap(base: &[u8], f: Fam, i: usize, runs: bool, w: impl Fn(Bitmap) -> Bitmap) -> Vec<u8> {
    let mut b = base.to_vec();
    let n = f.node(base, i);
    f.put_bitmap(&mut b, i, runs, w(if runs { n.leafvec } else { n.vector }));
    b
}

/// The value a lookup reads for leaf `k` of node `i` of family `f` in `b`: inline, or in the
/// leaf array (0 past its end), whether or not the node has that many leaves.
fn read_leaf(b: &[u8], f: Fam, i: usize, k: u32) -> u32 {
    if k < f.inline() {
        return read_u32(b, f.inline_leaf_at(b, i, k));
    }
    let j = (f.node(b, i).leaf_base + k - f.inline()) as usize;
    if j < section(b, f.leaves).1 / 4 {
        read_u32(b, f.leaf_at(b, j))
    } else {
        0
    }
}

#[test]
fn bad_guards_terminate_and_verify_names_them() {
    let base = artifact();
    let f = V6;
    let pl = places(base, f);
    let count = f.node_count(base);
    // A guarded root, a guarded node whose block is at most 2^63 addresses, an unguarded node.
    let root = (0..count)
        .find(|&i| pl[i].depth == 0 && f.node(base, i).skip != 0)
        .unwrap();
    let low = (0..count)
        .find(|&i| pl[i].shift <= 63 && f.node(base, i).skip != 0)
        .unwrap();
    let plain = (0..count).find(|&i| f.node(base, i).skip == 0).unwrap();
    let guard_word = |skip: u64, guard: u64| skip << SKIP_SHIFT | guard;
    let n = f.node(base, root);
    let (s, g) = (u64::from(n.skip), n.guard);
    let n_low = f.node(base, low);
    let shift_low = u64::from(pl[low].shift);
    let bad = |i: usize| Some((f.nodes, format!("node {i}: bad guard")));
    let cases = [
        (
            format!("root {root}: the guard has the bit above its {s}-bit skip set"),
            root,
            guard_word(s, g | 1 << s),
            Effect::Changes,
            bad(root),
        ),
        (
            format!("root {root}: a 1-bit skip under a guard of 58 one bits"),
            root,
            guard_word(1, (1 << SKIP_SHIFT) - 1),
            Effect::Changes,
            bad(root),
        ),
        (
            format!("root {root}: a 59-bit skip (past the longest, 58)"),
            root,
            guard_word(59, g),
            Effect::Changes,
            bad(root),
        ),
        (
            format!("root {root}: a 63-bit skip"),
            root,
            guard_word(63, (1 << SKIP_SHIFT) - 1),
            Effect::Changes,
            bad(root),
        ),
        (
            format!("node {low}: a skip equal to the node's {shift_low} bits"),
            low,
            guard_word(shift_low, n_low.guard),
            Effect::Changes,
            bad(low),
        ),
        (
            format!("node {plain}: guard bits without a skip"),
            plain,
            guard_word(0, 1),
            Effect::Unchanged,
            Some((f.nodes, format!("node {plain}: guard bits without a skip"))),
        ),
    ];
    for (what, i, word, effect, verify) in cases {
        check_opens(Opens {
            what: format!("{}: {what} ({word:#x})", f.nodes.name()),
            bytes: with_word(base, f, i, f.guard_word(), |_| word),
            probes: pl[i].probes(f),
            effect,
            verify,
        });
    }
}

/// A broken node: what was done, the node (whose block the probes cover), the artifact, the
/// effect on the answers and `verify`'s error.
type NodeCase = (String, usize, Vec<u8>, Effect, Option<(Section, String)>);

#[test]
fn bad_slot_bitmaps_inline_slots_and_leaf_bases() {
    let base = artifact();
    for f in [V4, V6] {
        let pl = places(base, f);
        let count = f.node_count(base);
        let node = |i: usize| f.node(base, i);
        let stride = |i: usize| (pl[i].shift - node(i).skip).min(f.layout.stride);
        let slots = |i: usize| first_slots(1 << stride(i));
        // Leaf slots that start no run.
        let free = |i: usize, n: &Node| and_not(&and_not(&slots(i), &n.vector), &n.leafvec);
        // The layout's last slot: past the slots of any node with a shorter stride.
        let past = f.max_slots() - 1;
        let find = |what: &str, p: &dyn Fn(usize, &Node) -> bool| {
            (0..count)
                .find(|&i| p(i, &node(i)))
                .unwrap_or_else(|| panic!("{}: no node {what}", f.nodes.name()))
        };
        let narrow = find(
            &format!("of fewer than {} slots", f.max_slots()),
            &|i, _| stride(i) < f.layout.stride,
        );
        // A run bit at the first child slot moves every later leaf slot to the next leaf: a
        // node where that changes a value.
        let mixed = find(
            "whose leaves move with a run bit at its first child",
            &|i, n| {
                let g = u32::from(n.skip != 0);
                lowest(&n.vector).is_some_and(|c| {
                    (c + 1..1 << stride(i)).any(|s| {
                        let k = g + ones_upto(&n.leafvec, s) - 1;
                        !bit(&n.vector, s)
                            && read_leaf(base, f, i, k) != read_leaf(base, f, i, k + 1)
                    })
                })
            },
        );
        let runs = find("with two runs", &|_, n| ones(&n.leafvec) >= 2);
        let sparse = find("with an unused inline slot", &|_, n| {
            Fam::leaf_count(n) < f.inline()
        });
        // The last level, with a non-empty first leaf and a slot that starts no run after it.
        let last = find("at the last level", &|i, n| {
            stride(i) == pl[i].shift - n.skip
                && !empty(&free(i, n))
                && read_u32(base, f.inline_leaf_at(base, i, 0)) != 0
        });
        let overflowing = find("with overflow leaves", &|_, n| {
            Fam::leaf_count(n) > f.inline()
        });
        let nodes = f.nodes;
        let reason = |i: usize, why: &str| Some((nodes, format!("node {i}: {why}")));
        let mut cases: Vec<NodeCase> = vec![
            (
                format!(
                    "node {narrow} ({} slots): a run bit past its slots",
                    1 << stride(narrow)
                ),
                narrow,
                with_bitmap(base, f, narrow, true, |bits| with_bit(bits, past)),
                Effect::Unchanged,
                reason(narrow, "slot bits past its stride"),
            ),
            (
                format!(
                    "node {narrow} ({} slots): a child bit past its slots",
                    1 << stride(narrow)
                ),
                narrow,
                with_bitmap(base, f, narrow, false, |bits| with_bit(bits, past)),
                Effect::Unchanged,
                reason(narrow, "slot bits past its stride"),
            ),
            (
                format!("node {mixed}: its first child slot also starts a run"),
                mixed,
                with_bitmap(base, f, mixed, true, |bits| {
                    with_bit(bits, lowest(&node(mixed).vector).unwrap())
                }),
                Effect::Changes,
                reason(mixed, "a slot is both a child and a leaf"),
            ),
            (
                format!("node {runs}: its first leaf slot starts no run"),
                runs,
                with_bitmap(base, f, runs, true, |bits| {
                    without_bit(bits, lowest(&bits).unwrap())
                }),
                Effect::Changes,
                reason(runs, "its first leaf slot starts no run"),
            ),
            (
                format!("node {sparse}: its first unused inline slot holds its leaf 0"),
                sparse,
                {
                    let mut b = base.to_vec();
                    let used = Fam::leaf_count(&node(sparse));
                    let v = read_u32(base, f.inline_leaf_at(base, sparse, 0));
                    write_u32(&mut b, f.inline_leaf_at(base, sparse, used), v.max(1));
                    b
                },
                Effect::Unchanged,
                reason(sparse, "an unused inline leaf slot is not zero"),
            ),
            (
                format!("node {last} (last level): a child slot"),
                last,
                with_bitmap(base, f, last, false, |bits| {
                    with_bit(bits, lowest(&free(last, &node(last))).unwrap())
                }),
                Effect::Changes,
                reason(last, "children below the last address bit"),
            ),
            (
                format!("node {last} (no children): child base 7"),
                last,
                with_word(base, f, last, f.bases_word(), |w| w | 7),
                Effect::Unchanged,
                reason(last, "child base 7 without children"),
            ),
            (
                format!("node {overflowing}: its leaf base one past its first overflow leaf"),
                overflowing,
                with_word(base, f, overflowing, f.bases_word(), |w| w + (1 << 32)),
                Effect::Changes,
                reason(
                    overflowing,
                    &format!(
                        "leaves at {}, expected {}",
                        node(overflowing).leaf_base + 1,
                        node(overflowing).leaf_base
                    ),
                ),
            ),
        ];
        // The leaf array one leaf short (its directory length): the last overflow leaf reads
        // as leaf 0.
        let (l_off, l_len) = section(base, f.leaves);
        let owner = (0..count)
            .rev()
            .find(|&i| Fam::leaf_count(&node(i)) > f.inline())
            .unwrap();
        let mut b = base.to_vec();
        put_u64(&mut b, dir_entry(f.leaves) + 8, l_len as u64 - 4);
        reseal(&mut b);
        // Read past the end, the last leaf reads as 0: a change unless it was 0.
        let last_leaf = read_u32(base, l_off + l_len - 4);
        cases.push((
            format!("the leaf array one short (node {owner} owns the last leaf, {last_leaf:#x})"),
            owner,
            b,
            if last_leaf != 0 {
                Effect::Changes
            } else {
                Effect::Unchanged
            },
            Some((
                f.leaves,
                format!(
                    "{} leaves but the nodes account for {}",
                    l_len / 4 - 1,
                    l_len / 4
                ),
            )),
        ));
        for (what, i, bytes, effect, verify) in cases {
            check_opens(Opens {
                what: format!("{}: {what}", f.nodes.name()),
                bytes,
                probes: pl[i].probes(f),
                effect,
                verify,
            });
        }
    }
}

#[test]
fn wrong_spans_and_class_words() {
    let base = artifact();
    for f in [V4, V6] {
        let top = f.top(base);
        let (s_off, _) = section(base, f.spans);
        let span = |t: usize| u32::from(base[s_off + t]);
        // A leaf entry in a block of two entries or fewer, and a node entry.
        let t = (0..top.len())
            .find(|&t| top[t] & NODE == 0 && span(t) <= 1)
            .unwrap();
        let node = (0..top.len()).find(|&t| top[t] & NODE != 0).unwrap();
        let k = span(t);
        let reach = |t: usize, k: u32| {
            let start = ((t >> k << k) as u128) << f.top_shift();
            block_probes(f, start, f.top_shift() + k)
        };
        let with_span = |t: usize, v: u8| {
            let mut b = base.to_vec();
            b[s_off + t] = v;
            b
        };
        let verify = Some((f.spans, "does not match the top table".to_string()));
        for (what, bytes, probes, effect) in [
            (
                format!("leaf entry {t}: span {} (was {k})", k + 1),
                with_span(t, k as u8 + 1),
                reach(t, k + 1),
                Effect::Changes,
            ),
            (
                format!("leaf entry {t}: span 255 (was {k})"),
                with_span(t, 255),
                reach(t, k + 2),
                Effect::Changes,
            ),
            (
                format!("node entry {node}: span 5 (was 0)"),
                with_span(node, 5),
                reach(node, 5),
                Effect::Unchanged,
            ),
        ] {
            check_opens(Opens {
                what: format!("{}: {what}", f.spans.name()),
                bytes,
                probes,
                effect,
                verify: verify.clone(),
            });
        }
    }

    // The class table: class 0 must be the empty summary (open); a class word with bits the
    // format does not define (`verify`; lookups never read them).
    let (c_off, _) = section(base, Section::Classes);
    let mut b = base.to_vec();
    write_u32(&mut b, c_off, format::class::encode(1, 0, 0));
    for sealed in [false, true] {
        if sealed {
            seal_file(&mut b);
        }
        assert_corrupt(
            &Database::from_bytes(&b).unwrap_err(),
            Section::Classes,
            "class 0 is not the empty summary",
        );
    }
    let word = read_u32(base, c_off + 4);
    for (what, bit) in [("bit 20", 1 << 20), ("category bit 7", 1 << 7)] {
        let mut b = base.to_vec();
        write_u32(&mut b, c_off + 4, word | bit);
        check_opens(Opens {
            what: format!("summary classes: class 1 ({word:#x}) with undefined {what}"),
            bytes: b,
            probes: snapshot_probes(),
            effect: Effect::Unchanged,
            verify: Some((
                Section::Classes,
                format!("class 1 ({:#x}) has undefined bits", word | bit),
            )),
        });
    }
}

// ---------------------------------------------------------------------------------------------
// 7. Format versions.

#[test]
fn future_format_versions() {
    let base = artifact();
    let scratch = Scratch::new("version");
    let with_version = |major: u16, minor: u16| {
        let mut b = base.to_vec();
        b[hdr::MAJOR..hdr::MAJOR + 2].copy_from_slice(&major.to_le_bytes());
        b[hdr::MINOR..hdr::MINOR + 2].copy_from_slice(&minor.to_le_bytes());
        reseal(&mut b);
        b
    };
    let current = format::FORMAT_MAJOR;
    assert_eq!(current, 4);
    for (major, minor) in [
        (current + 1, 0),
        (current + 1, format::FORMAT_MINOR + 1),
        (current - 1, 0),
        (0, 0),
        (u16::MAX, u16::MAX),
    ] {
        let b = with_version(major, minor);
        let path = scratch.path(&format!("v{major}.{minor}.ipsieve"));
        let [copy, mapped] = open_file(&path, &b);
        for err in [Database::from_bytes(&b), copy, mapped].map(Result::unwrap_err) {
            assert!(
                matches!(err, OpenError::UnsupportedVersion { major: a, minor: i } if a == major && i == minor),
                "{err:?}"
            );
            assert_eq!(
                err.to_string(),
                format!(
                    "artifact format {major}.{minor} is not supported by this ipsieve (reads \
                     {current}.x): rebuild the artifact with this version of ipsieve"
                )
            );
        }
    }
    // Newer minors of the same major open and answer as before; the file checksum covers the
    // version, so `verify` passes once it is recomputed as a newer writer would have.
    let expected = snapshot_answers();
    for minor in [format::FORMAT_MINOR + 1, u16::MAX] {
        let mut b = with_version(current, minor);
        let db = Database::from_bytes(&b).unwrap();
        assert_eq!(db.format_version(), (current, minor));
        assert_checksum(&db, &b);
        let probed = probe(db, snapshot_probes());
        assert_eq!(probed.answers, expected.answers);
        assert_eq!(probed.ranges, expected.ranges);
        seal_file(&mut b);
        let path = scratch.path(&format!("v{current}.{minor}.ipsieve"));
        for db in open_file(&path, &b).map(Result::unwrap) {
            assert_eq!(db.format_version(), (current, minor));
            db.verify().unwrap();
        }
    }
}

/// A later minor version adds sections in the directory's spare entries: a reader of this
/// version checks their bounds and overlap, ignores their contents and answers as before;
/// a spare entry past the declared count, or one that overlaps a known section, is refused.
#[test]
fn a_later_minors_extra_section_is_checked_and_ignored() {
    let base = artifact();
    let expected = snapshot_answers();
    let with_extra = |count: u32, slot: usize, at: Option<u64>| {
        let mut b = base.to_vec();
        let end = (b.len() as u64).next_multiple_of(format::SECTION_ALIGN as u64);
        b.resize(end as usize + 128, 0xA5);
        b[hdr::MINOR..hdr::MINOR + 2].copy_from_slice(&(format::FORMAT_MINOR + 1).to_le_bytes());
        write_u32(&mut b, hdr::SECTION_COUNT, count);
        let entry = hdr::DIRECTORY + 16 * slot;
        write_le(&mut b, entry, 8, at.unwrap_or(end));
        write_le(&mut b, entry + 8, 8, 100);
        let len = b.len() as u64;
        write_le(&mut b, hdr::FILE_LEN, 8, len);
        seal_file(&mut b);
        b
    };
    let spare = format::SECTION_COUNT;
    // Within the count: opens, answers and verifies as before.
    let b = with_extra(spare as u32 + 1, spare, None);
    let db = Database::from_bytes(&b).unwrap();
    db.verify().unwrap();
    let probed = probe(db, snapshot_probes());
    assert_eq!(probed.answers, expected.answers);
    // Past the count, over a known section, past the end of the file: refused.
    let records = read_le(base, hdr::DIRECTORY + 16 * Section::Records as usize, 8);
    for (b, want) in [
        (
            with_extra(spare as u32, spare, None),
            "a directory entry past the section count is not zero".to_owned(),
        ),
        (
            with_extra(spare as u32 + 1, spare, Some(records)),
            "overlaps section 'records'".to_owned(),
        ),
        (
            with_extra(
                format::DIRECTORY_SLOTS as u32,
                format::DIRECTORY_SLOTS - 1,
                Some(1 << 40),
            ),
            format!("offset {} + length 100 lies outside", 1u64 << 40),
        ),
        (
            with_extra(format::DIRECTORY_SLOTS as u32 + 1, spare, None),
            "section count is not in 17..=20".to_owned(),
        ),
    ] {
        let err = Database::from_bytes(&b).unwrap_err();
        assert!(err.to_string().contains(&want), "{err} (wanted {want})");
    }
}

#[test]
fn format_1_golden_is_refused_from_bytes_and_from_files() {
    let v1: &[u8] = include_bytes!("../../lookup/tests/golden/v1.ipsieve");
    let scratch = Scratch::new("v1");
    let [copy, mapped] = open_file(&scratch.path("v1.ipsieve"), v1);
    for err in [Database::from_bytes(v1), copy, mapped].map(Result::unwrap_err) {
        assert!(
            matches!(err, OpenError::UnsupportedVersion { major: 1, minor: 0 }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "artifact format 1.0 is not supported by this ipsieve (reads 4.x): rebuild the \
             artifact with this version of ipsieve"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 8. Replacing a live artifact by rename.

#[test]
fn rename_over_a_live_artifact_keeps_the_old_answers() {
    let scratch = Scratch::new("rename");
    let probes = snapshot_probes();
    let expected = snapshot_answers();
    let new_bytes = small_artifact();
    let fresh = probe(Database::from_bytes(&new_bytes).unwrap(), probes.clone());
    assert_ne!(fresh.answers, expected.answers);
    let cloudflare: IpAddr = "1.1.1.1".parse().unwrap();
    for mapped in [true, false] {
        let live = scratch.path(if mapped {
            "mapped.ipsieve"
        } else {
            "copy.ipsieve"
        });
        std::fs::write(&live, artifact()).unwrap();
        let old = if mapped {
            // SAFETY: the file at `live` is only ever replaced by rename below, never written
            // in place, while this mapping lives.
            unsafe { Database::open_mmap(&live) }.unwrap()
        } else {
            Database::open(&live).unwrap()
        };
        assert_eq!(old.lookup(cloudflare).asn(), Some(13335));

        // A different artifact, written beside the live one and renamed over it.
        let tmp = scratch.path(".live.ipsieve.tmp");
        std::fs::write(&tmp, &new_bytes).unwrap();
        std::fs::rename(&tmp, &live).unwrap();

        // The live database still reads the old bytes: same answers, same length, verifies.
        assert_eq!(old.len(), artifact().len());
        old.verify().unwrap();
        assert_eq!(old.lookup(cloudflare).asn(), Some(13335));
        let after = probe(old, probes.clone());
        assert_eq!(after.answers, expected.answers, "mapped: {mapped}");
        assert_eq!(after.ranges, expected.ranges);

        // A new open reads the new file.
        for new in open_file(&scratch.path("check.ipsieve"), &new_bytes).map(Result::unwrap) {
            new.verify().unwrap();
        }
        let new = Database::open(&live).unwrap();
        assert_eq!(new.len(), new_bytes.len());
        new.verify().unwrap();
        assert_eq!(new.lookup(cloudflare).asn(), None);
        assert_eq!(probe(new, probes.clone()).answers, fresh.answers);
    }
}
