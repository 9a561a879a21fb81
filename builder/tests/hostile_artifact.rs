//! Issue 7, "hostile input: artifacts": truncations at every section boundary, a flipped
//! byte in every section, hostile directory entries, cyclic tries and wild record indices,
//! future format versions, and an artifact replaced under a live memory map. Each case is
//! refused with a precise error (its variant, and the section and offset or index in its
//! message) or answers without a panic or an endless loop; nothing panics.
//!
//! The artifacts are built by the builder: the vendored real snapshot
//! ([`crate::snapshot::artifact`]) and the small artifact of the corrupt-artifact tests
//! ([`crate::corrupt::small_artifact`]). `crate::corrupt` already covers the basic refusals
//! (raw truncations, foreign files, one bad directory entry of each kind, a spread of flipped
//! bytes); these tests go section by section and assert the exact error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use ipsieve::format::tree::{self, Key};
use ipsieve::format::{self, hdr, Section, HEADER_LEN, NONE};
use ipsieve::{Database, OpenError};

use crate::corrupt::{put_u64, reseal, seal_file, section, small_artifact};
use crate::snapshot::artifact;

/// The words of the empty record (record 0, `docs/FORMAT.md`): what a lookup answers when it
/// knows nothing, and what the reader substitutes for an out-of-range record index.
const NO_DATA: [u32; 8] = [0, 0, NONE, NONE, 0, NONE, 0, 0];

/// How long a batch of lookups may take before the test calls it an endless loop. Real runs
/// take well under a second; the bound only has to be finite.
const DEADLINE: Duration = Duration::from_secs(60);

/// What a lookup answered: the record's words and the range it reported.
type Fingerprint = ([u32; 8], (IpAddr, IpAddr));

/// The answers to a set of probes and the time the lookups took.
type Timed = (Vec<Fingerprint>, Duration);

/// The sections the directory of `b` declares with a non-zero length, with their
/// (offset, length).
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

/// The whole-file checksum stored in the header of `b`.
fn stored_file_crc(b: &[u8]) -> u32 {
    read_u32(b, hdr::FILE_CRC)
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

/// Asserts that `err` is `OpenError::Corrupt` naming `section` with a reason containing
/// `reason`, and that its message says so.
#[track_caller]
fn assert_corrupt(err: &OpenError, section: &str, reason: &str) {
    assert!(
        matches!(err, OpenError::Corrupt { section: s, reason: r } if *s == section && r.contains(reason)),
        "expected Corrupt {{ section: {section:?}, reason: ..{reason:?}.. }}, got {err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.starts_with(&format!("corrupt section '{section}': ")),
        "{msg}"
    );
}

/// Asserts that `err` is `OpenError::Section` naming `section` with exactly `reason`.
#[track_caller]
fn assert_section(err: &OpenError, section: &str, reason: &str) {
    assert!(
        matches!(err, OpenError::Section { section: s, reason: r } if *s == section && r == reason),
        "expected Section {{ section: {section:?}, reason: {reason:?} }}, got {err:?}"
    );
    assert!(
        err.to_string()
            .starts_with(&format!("invalid section '{section}': {reason}; ")),
        "{err}"
    );
}

/// Asserts that `verify` of a database opened from `b` refuses with the file checksum, with
/// the exact stored and computed values.
#[track_caller]
fn assert_checksum(db: &Database, b: &[u8]) {
    match db.verify() {
        Err(OpenError::Checksum { stored, computed }) => {
            assert_eq!(stored, stored_file_crc(b));
            assert_eq!(computed, format::file_crc(b));
            assert_ne!(stored, computed);
        }
        other => panic!("expected a file checksum mismatch, got {other:?}"),
    }
}

/// Every range start of `db`, IPv4 then IPv6, found by walking the ranges the index reports
/// (the IPv4-mapped block `::ffff:0:0/96`, which answers from the IPv4 index, is skipped).
/// Looking them all up reaches every slot of every chunk tree and sub-tree.
fn range_starts(db: &Database) -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut x = 0u64;
    while x <= u64::from(u32::MAX) {
        let ip = Ipv4Addr::from(x as u32);
        out.push(IpAddr::V4(ip));
        let IpAddr::V4(hi) = db.lookup_v4(ip).range().1 else {
            unreachable!("an IPv4 lookup reports an IPv4 range")
        };
        let hi = u64::from(u32::from(hi));
        assert!(hi >= x, "range of {ip} ends before it");
        x = hi + 1;
    }
    let mapped_end = (0xFFFF_u128 << 32) | 0xFFFF_FFFF;
    let mut x = 0u128;
    loop {
        let ip = Ipv6Addr::from(x);
        if ip.to_ipv4_mapped().is_some() {
            x = mapped_end + 1;
            continue;
        }
        out.push(IpAddr::V6(ip));
        let IpAddr::V6(hi) = db.lookup_v6(ip).range().1 else {
            unreachable!("an IPv6 lookup reports an IPv6 range")
        };
        let hi = u128::from(hi);
        assert!(hi >= x, "range of {ip} ends before it");
        if hi == u128::MAX {
            break;
        }
        x = hi + 1;
    }
    out
}

/// The probes for the snapshot artifact, computed once: every range start (so every tree slot
/// is reached) plus 4,096 IPv4 addresses spread over the whole space by a multiplicative hash.
fn snapshot_probes() -> Arc<[IpAddr]> {
    static PROBES: OnceLock<Arc<[IpAddr]>> = OnceLock::new();
    PROBES
        .get_or_init(|| {
            let db = Database::from_bytes(artifact()).unwrap();
            let mut p = range_starts(&db);
            p.extend((0..4096u32).map(|i| IpAddr::V4(Ipv4Addr::from(i.wrapping_mul(0x9E37_79B9)))));
            p.into()
        })
        .clone()
}

/// The snapshot's answers to [`snapshot_probes`], computed once.
fn snapshot_answers() -> &'static [Fingerprint] {
    static ANSWERS: OnceLock<Vec<Fingerprint>> = OnceLock::new();
    ANSWERS.get_or_init(|| {
        answer_all(
            &Database::from_bytes(artifact()).unwrap(),
            &snapshot_probes(),
        )
    })
}

/// Looks up every probe by `lookup` and by `lookup_many` (which must agree), reads every field
/// of each answer, and returns the fingerprints.
fn answer_all(db: &Database, probes: &[IpAddr]) -> Vec<Fingerprint> {
    let mut out = Vec::with_capacity(probes.len());
    for (batch, &ip) in db.lookup_many(probes.iter().copied()).zip(probes) {
        let a = db.lookup(ip);
        assert_eq!(
            batch.record_words(),
            a.record_words(),
            "lookup_many on {ip}"
        );
        assert_eq!(batch.range(), a.range(), "lookup_many range on {ip}");
        let _ = (a.network(), a.categories(), a.verdict(), a.score(), a.asn());
        let _ = (
            a.as_org(),
            a.provider(),
            a.country(),
            a.tier(),
            a.risk_level(),
        );
        let _ = (
            a.sources().count(),
            a.source_infos().count(),
            a.signals().count(),
        );
        out.push((*a.record_words(), a.range()));
    }
    out
}

/// [`answer_all`] on another thread, failing the test when it does not finish within
/// [`DEADLINE`] (a lookup that loops) and re-raising any panic; returns the fingerprints and
/// the time the lookups took.
fn answer_all_within_deadline(db: Database, probes: Arc<[IpAddr]>) -> Timed {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        let start = Instant::now();
        let out = answer_all(&db, &probes);
        let took = start.elapsed();
        let _ = tx.send(());
        (out, took)
    });
    match rx.recv_timeout(DEADLINE) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => worker
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
        Err(RecvTimeoutError::Timeout) => {
            panic!("lookups did not finish within {DEADLINE:?}: an endless loop")
        }
    }
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

/// Writes `bytes` to `path` and opens it through the memory map.
fn open_file(path: &Path, bytes: &[u8]) -> Result<Database, OpenError> {
    std::fs::write(path, bytes).unwrap();
    Database::open(path)
}

// ---------------------------------------------------------------------------------------------
// 1. Truncation at every section boundary.

#[test]
fn truncated_at_every_section_boundary() {
    let base = artifact();
    let scratch = Scratch::new("truncated");
    let path = scratch.path("cut.ipsieve");
    // Inside the header, through the memory-mapped path (`crate::corrupt` covers from_bytes).
    for cut in [0, 1, HEADER_LEN - 1] {
        let err = open_file(&path, &base[..cut]).unwrap_err();
        assert!(
            matches!(err, OpenError::TooShort { len } if len == cut),
            "{err:?}"
        );
        assert!(
            err.to_string().contains("shorter than the 320-byte header"),
            "{err}"
        );
    }
    for (s, off, len) in present(base) {
        for cut in [off, off + 1, off + len - 1] {
            // As downloaded: the header's file length no longer matches.
            for err in [
                open_file(&path, &base[..cut]).unwrap_err(),
                Database::from_bytes(&base[..cut]).unwrap_err(),
            ] {
                assert!(
                    matches!(err, OpenError::LengthMismatch { expected, found }
                        if expected == base.len() as u64 && found == cut as u64),
                    "cut at {cut} in '{}': {err:?}",
                    s.name()
                );
            }
            // A header rewritten to the cut length (and resealed): the first section that no
            // longer fits is named, with its offset and length.
            let mut b = base[..cut].to_vec();
            put_u64(&mut b, hdr::FILE_LEN, cut as u64);
            reseal(&mut b);
            let err = Database::from_bytes(&b).unwrap_err();
            assert_section(
                &err,
                s.name(),
                &format!("offset {off} + length {len} lies outside the {cut}-byte file"),
            );
        }
    }
}

#[test]
fn truncated_then_zero_filled_is_caught_by_open_or_the_checksum() {
    // A download preallocated to its full size and cut short: the length matches, the tail
    // is zeros. Open refuses naming a section at or after the cut, or the file opens, answers
    // without a panic, and `verify` refuses on the file checksum.
    let base = artifact();
    let order = |name: &str| Section::ALL.iter().position(|s| s.name() == name).unwrap();
    let mut opened = 0;
    for (s, off, len) in present(base) {
        for cut in [off, off + 1, off + len - 1] {
            let mut b = base.to_vec();
            b[cut..].fill(0);
            if b == base {
                // The tail was zeros already (padding, a high byte): nothing was lost.
                Database::from_bytes(&b).unwrap().verify().unwrap();
                continue;
            }
            match Database::from_bytes(&b) {
                Err(err) => {
                    let (blamed, _) = named(&err).unwrap_or_else(|| panic!("{err:?}"));
                    assert!(
                        order(blamed) >= s as usize,
                        "zeros from {cut} in '{}' blamed on '{blamed}'",
                        s.name()
                    );
                }
                Ok(db) => {
                    opened += 1;
                    assert_checksum(&db, &b);
                    answer_all_within_deadline(db, snapshot_probes());
                }
            }
        }
    }
    assert!(
        opened > 0,
        "no zero-filled file opened: the checksum path went untested"
    );
}

// ---------------------------------------------------------------------------------------------
// 2. A flipped byte in each section.

/// The element whose most significant byte a case flips, and its value after the flip.
#[derive(Debug)]
struct Flip {
    /// Element index within the section.
    index: usize,
    /// Value after the flip.
    value: u64,
}

/// Where the flip of a section's middle element is caught.
enum Caught {
    /// At open: `Corrupt` naming the section, with this reason.
    Open(fn(&Flip) -> String),
    /// By `verify` once the file checksum is recomputed: `Corrupt` naming the section, with a
    /// reason containing this.
    Verify(fn(&Flip) -> String),
    /// Only by the file checksum: the flipped value is as well-formed as the original.
    ChecksumOnly(&'static str),
}

#[test]
fn flipped_byte_in_the_middle_of_each_section() {
    // The most significant byte of each section's middle element, inverted: the byte that
    // turns an index into one far out of range. (A low bit of most elements has no
    // redundancy to check: `low_bit_flips_are_caught_by_the_file_checksum`.)
    let cases: [(Section, Caught); 15] = [
        (
            Section::V4Top,
            Caught::Open(|f| format!("entry {} refers to a tree outside 'ipv4 keys'", f.index)),
        ),
        (
            Section::V4Keys,
            Caught::Verify(|_| " out of order or range".into()),
        ),
        (
            Section::V4Values,
            Caught::Verify(|f| format!("record {} out of range", f.value)),
        ),
        (
            Section::V6Top,
            Caught::Open(|f| format!("entry {} refers to a tree outside 'ipv6 keys'", f.index)),
        ),
        (
            Section::V6Keys,
            Caught::Verify(|_| ": nodes differ from the layout of its keys".into()),
        ),
        (
            Section::V6Values,
            Caught::Verify(|f| {
                format!(
                    "value {:#x} refers to a sub-tree outside 'ipv6 sub-keys'",
                    f.value
                )
            }),
        ),
        (
            Section::V6SubKeys,
            Caught::Verify(|_| " out of order or range".into()),
        ),
        (
            Section::V6SubValues,
            Caught::Verify(|f| format!("record {} out of range", f.value)),
        ),
        (
            Section::Records,
            Caught::Verify(|f| format!("record {} has a field out of range", f.index / 8)),
        ),
        (
            Section::StrOffsets,
            Caught::Verify(|f| {
                format!(
                    "string {} ends at {} (not ascending or not a char boundary)",
                    f.index - 1,
                    f.value
                )
            }),
        ),
        (
            Section::StrBlob,
            Caught::Verify(|f| format!("invalid UTF-8 at byte {}", f.index)),
        ),
        (
            Section::Sources,
            Caught::ChecksumOnly(
                "word 4 of a source: its snapshot day, any value of which is a date",
            ),
        ),
        (
            Section::SetOffsets,
            Caught::Open(|_| "offsets are not ascending".into()),
        ),
        (
            Section::SetItems,
            Caught::Open(|f| format!("source index {} out of range", f.value)),
        ),
        (
            Section::Meta,
            Caught::Open(|_| "bad key/value string index".into()),
        ),
    ];
    let base = artifact();
    let expected = snapshot_answers();
    for (s, caught) in cases {
        let (off, len) = section(base, s);
        let size = s.elem_size();
        let index = len / size / 2;
        let at = off + index * size;
        let value = read_le(base, at, size) ^ (0xFF << (8 * (size - 1)));
        let flip = Flip { index, value };
        let mut b = base.to_vec();
        write_le(&mut b, at, size, value);
        let mut sealed = b.clone();
        seal_file(&mut sealed);
        let name = s.name();
        match caught {
            Caught::Open(reason) => {
                for bytes in [&b, &sealed] {
                    let err = Database::from_bytes(bytes).expect_err(name);
                    assert_corrupt(&err, name, &reason(&flip));
                }
            }
            Caught::Verify(_) | Caught::ChecksumOnly(_) => {
                let db = Database::from_bytes(&b).unwrap_or_else(|e| panic!("{name}: {e}"));
                assert_checksum(&db, &b);
                let (answers, _) = answer_all_within_deadline(db, snapshot_probes());
                assert_eq!(answers.len(), expected.len());
                let db = Database::from_bytes(&sealed).unwrap();
                match caught {
                    Caught::Verify(reason) => {
                        assert_corrupt(&db.verify().expect_err(name), name, &reason(&flip));
                    }
                    Caught::ChecksumOnly(why) => {
                        assert_eq!(s, Section::Sources, "{why}");
                        assert_eq!(index % 8, format::src::SNAPSHOT_DAY, "{why}: {flip:?}");
                        db.verify().unwrap_or_else(|e| panic!("{why}: {e}"));
                    }
                    Caught::Open(_) => unreachable!("handled above"),
                }
            }
        }
    }
}

#[test]
fn low_bit_flips_are_caught_by_the_file_checksum() {
    // Bit 0 of each section's middle byte: often another well-formed value (another record,
    // another letter), which only the file checksum can notice. Open refuses naming the
    // section, or `verify` refuses on the checksum; with the checksum recomputed, `verify`
    // passes or names the section.
    let base = artifact();
    for (s, off, len) in present(base) {
        let mut b = base.to_vec();
        b[off + len / 2] ^= 1;
        match Database::from_bytes(&b) {
            Err(err) => {
                assert_eq!(named(&err).map(|(n, _)| n), Some(s.name()), "{err:?}");
            }
            Ok(db) => {
                assert_checksum(&db, &b);
                answer_all_within_deadline(db, snapshot_probes());
                seal_file(&mut b);
                if let Err(err) = Database::from_bytes(&b).unwrap().verify() {
                    assert_eq!(named(&err).map(|(n, _)| n), Some(s.name()), "{err:?}");
                }
            }
        }
    }
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
    /// The section after it in the file.
    next: Option<Section>,
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
    let cases: [DirCase; 11] = [
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
            Some((
                (o, e.len - 8),
                (e.s, format!("offset {o} is not 64-byte aligned")),
            ))
        }),
        ("offset misaligned by 1", |e| {
            let o = e.off + 1;
            Some((
                (o, e.len - 8),
                (e.s, format!("offset {o} is not 64-byte aligned")),
            ))
        }),
        ("starts inside the previous section", |e| {
            let (p, po, _) = e.prev.filter(|&(_, _, pl)| pl > 64)?;
            let why = format!("overlaps section '{}'", p.name());
            Some(((po + 64, e.len), (e.s, why)))
        }),
        ("runs into the next section", |e| {
            let why = format!("overlaps section '{}'", e.s.name());
            Some(((e.off, e.len + 64), (e.next?, why)))
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
                next: sections.get(i + 1).map(|n| n.0),
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
                let err = Database::from_bytes(&b).expect_err(what);
                assert_section(&err, blamed.name(), &reason);
                tried += 1;
            }
        }
        // Every case for every section, but those without a neighbour (or a previous
        // section longer than a line to start inside).
        assert!(tried > sections.len() * (cases.len() - 2), "{tried}");
    }
}

#[test]
fn sections_sharing_an_offset_name_the_later_one() {
    // Two sections declared at the same offset: the error names the later one in directory
    // order (open breaks ties between equal offsets by directory order), never at random.
    let base = artifact();
    let sections = present(base);
    for w in sections.windows(2) {
        let ((p, p_off, _), (s, _, len)) = (w[0], w[1]);
        let mut b = base.to_vec();
        put_u64(&mut b, dir_entry(s), p_off as u64);
        put_u64(&mut b, dir_entry(s) + 8, len as u64);
        reseal(&mut b);
        let err = Database::from_bytes(&b).unwrap_err();
        assert_section(&err, s.name(), &format!("overlaps section '{}'", p.name()));
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Cyclic tries and out-of-range record indices.

/// The top entries of `top` in artifact `b`, by /16.
fn top_entries(b: &[u8], top: Section) -> Vec<u32> {
    let (off, len) = section(b, top);
    (0..len / 4).map(|i| read_u32(b, off + 4 * i)).collect()
}

/// The height of multi-level tree reference `r`.
fn height(r: u32) -> u32 {
    (r >> tree::HEIGHT_SHIFT) & 0xF
}

/// `r` with its height field set to `h`.
fn with_height(r: u32, h: u32) -> u32 {
    (r & !(0xF << tree::HEIGHT_SHIFT)) | (h << tree::HEIGHT_SHIFT)
}

/// Byte position of the last slot (the child distance) of line `line` of key section `keys`.
fn distance_at<K: Key>(b: &[u8], keys: Section, line: usize) -> usize {
    section(b, keys).0 + (line + 1) * tree::LINE_BYTES - std::mem::size_of::<K>()
}

/// The lines of the leftmost descent of multi-level tree `r` in `keys`, root first, down to
/// the last internal node.
fn leftmost_path<K: Key>(b: &[u8], keys: Section, r: u32) -> Vec<usize> {
    let mut line = (r & tree::ROOT_MASK) as usize;
    let mut path = vec![line];
    for _ in 2..height(r) {
        let at = distance_at::<K>(b, keys, line);
        line += read_le(b, at, std::mem::size_of::<K>()) as usize;
        path.push(line);
    }
    path
}

/// A tree broken into a cycle: the artifact, the probes that reach the tree, the expected
/// `verify` error (the keys section; the reason's start, naming the tree, and its end), and a
/// description.
struct Cycle {
    /// What was broken.
    what: &'static str,
    /// The broken artifact (file checksum not recomputed).
    bytes: Vec<u8>,
    /// Addresses whose lookups descend the broken tree.
    probes: Arc<[IpAddr]>,
    /// The section `verify` must name.
    keys: Section,
    /// Start and end of `verify`'s reason.
    reason: (String, &'static str),
}

/// Every address of IPv4 /16 `c`.
fn all_of_v4_chunk(c: usize) -> Arc<[IpAddr]> {
    (0..=0xFFFFu32)
        .map(|lo| IpAddr::V4(Ipv4Addr::from(((c as u32) << 16) | lo)))
        .collect()
}

/// The snapshot's range starts inside IPv6 /16 `c`, and 4,096 hashed addresses in it.
fn v6_chunk_probes(c: usize) -> Arc<[IpAddr]> {
    let top = (c as u128) << 112;
    let inside = |ip: &IpAddr| matches!(ip, IpAddr::V6(a) if u128::from(*a) >> 112 == c as u128);
    let mut p: Vec<IpAddr> = snapshot_probes().iter().copied().filter(inside).collect();
    p.extend((0..4096u128).map(|i| {
        let low = i.wrapping_mul(0x9E37_79B9_7F4A_7C15_F39C_C060_5CED_C835) >> 16;
        IpAddr::V6(Ipv6Addr::from(top | low))
    }));
    p.into()
}

/// How `verify` reports a tree whose leftmost descent ends on a line that is not its first leaf
/// (the count of keys found there precedes it).
const KEYS_NOT_A_TREE: &str = " keys do not make a multi-level tree";

#[test]
fn trie_cycles_terminate_and_verify_names_the_tree() {
    let base = artifact();
    let mut cycles = Vec::new();

    // IPv4: the first multi-level tree. Its u16 child distances only point forward, so the
    // cycle is a node that is its own child (distance 0), descended up to the height field's
    // maximum of 15 levels.
    let v4 = top_entries(base, Section::V4Top);
    let (c4, &e4) = v4
        .iter()
        .enumerate()
        .find(|&(_, &e)| e & (format::TOP_DIRECT | tree::LEAF) == 0)
        .expect("a multi-level IPv4 tree in the snapshot");
    let root4 = (e4 & tree::ROOT_MASK) as usize;
    let v4_probes = all_of_v4_chunk(c4);
    for (what, h) in [
        ("ipv4 root is its own child", height(e4)),
        ("ipv4 root is its own child, height 15", tree::MAX_HEIGHT),
    ] {
        let mut b = base.to_vec();
        write_le(
            &mut b,
            distance_at::<u16>(base, Section::V4Keys, root4),
            2,
            0,
        );
        let e = with_height(e4, h);
        write_u32(&mut b, section(base, Section::V4Top).0 + 4 * c4, e);
        cycles.push(Cycle {
            what,
            bytes: b,
            probes: v4_probes.clone(),
            keys: Section::V4Keys,
            reason: (format!("tree {e:#x}: "), KEYS_NOT_A_TREE),
        });
    }
    // A height field taller than the tree: the descent runs past the leaves.
    let mut b = base.to_vec();
    let e = with_height(e4, tree::MAX_HEIGHT);
    write_u32(&mut b, section(base, Section::V4Top).0 + 4 * c4, e);
    cycles.push(Cycle {
        what: "ipv4 height field 15 over a 2-level tree",
        bytes: b,
        probes: v4_probes.clone(),
        keys: Section::V4Keys,
        reason: (format!("tree {e:#x}: "), "child pointer out of range"),
    });

    // IPv6: the tallest tree; its last internal node on the leftmost path gets a u64 distance
    // that wraps around to the root, an ancestor.
    let v6 = top_entries(base, Section::V6Top);
    let (c6, &e6) = v6
        .iter()
        .enumerate()
        .filter(|&(_, &e)| e & (format::TOP_DIRECT | tree::LEAF) == 0)
        .max_by_key(|&(_, &e)| height(e))
        .expect("a multi-level IPv6 tree in the snapshot");
    assert!(
        height(e6) >= 3,
        "the tallest IPv6 tree has height {}",
        height(e6)
    );
    let path = leftmost_path::<u64>(base, Section::V6Keys, e6);
    let (root6, last) = (path[0], path[path.len() - 1]);
    let v6_probes = v6_chunk_probes(c6);
    for (what, h) in [
        (
            "ipv6 last internal node points back at the root",
            height(e6),
        ),
        (
            "ipv6 node points back at the root, height 15",
            tree::MAX_HEIGHT,
        ),
    ] {
        let mut b = base.to_vec();
        let back = (root6 as u64).wrapping_sub(last as u64);
        write_le(
            &mut b,
            distance_at::<u64>(base, Section::V6Keys, last),
            8,
            back,
        );
        let e = with_height(e6, h);
        write_u32(&mut b, section(base, Section::V6Top).0 + 4 * c6, e);
        cycles.push(Cycle {
            what,
            bytes: b,
            probes: v6_probes.clone(),
            keys: Section::V6Keys,
            reason: (format!("tree {e:#x}: "), "child pointer out of range"),
        });
    }

    // IPv6 sub-tree: the first multi-level one, its root its own child, height 15.
    let (v_off, v_len) = section(base, Section::V6Values);
    let (slot, sub) = (0..v_len / 4)
        .map(|i| (i, read_u32(base, v_off + 4 * i)))
        .find(|&(_, v)| v & format::V6_SUB != 0 && v & tree::LEAF == 0)
        .expect("a multi-level IPv6 sub-tree in the snapshot");
    let sub = sub & !format::V6_SUB;
    let mut b = base.to_vec();
    let sub_root = (sub & tree::ROOT_MASK) as usize;
    write_le(
        &mut b,
        distance_at::<u64>(base, Section::V6SubKeys, sub_root),
        8,
        0,
    );
    let r = with_height(sub, tree::MAX_HEIGHT);
    write_u32(&mut b, v_off + 4 * slot, format::V6_SUB | r);
    cycles.push(Cycle {
        what: "ipv6 sub-tree root is its own child, height 15",
        bytes: b,
        probes: snapshot_probes(),
        keys: Section::V6SubKeys,
        reason: (format!("tree {r:#x}: "), KEYS_NOT_A_TREE),
    });

    // The clean answers (and their time) per probe set, computed once per set.
    let mut baseline: Vec<(Arc<[IpAddr]>, Timed)> = Vec::new();
    for cycle in cycles {
        let Cycle {
            what,
            mut bytes,
            probes,
            keys,
            reason,
        } = cycle;
        // Open checks a top entry's height and root line only: the cycle gets through.
        let db = Database::from_bytes(&bytes).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_checksum(&db, &bytes);
        // The clean answers, once per probe set (several cycles share one).
        let (before, clean_took) = match baseline.iter().find(|(p, _)| Arc::ptr_eq(p, &probes)) {
            Some((_, answers)) => answers.clone(),
            None => {
                let clean = Database::from_bytes(base).unwrap();
                let answers = answer_all_within_deadline(clean, probes.clone());
                baseline.push((probes.clone(), answers.clone()));
                answers
            }
        };
        let (after, took) = answer_all_within_deadline(db, probes.clone());
        let changed = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        assert!(
            changed > 0,
            "{what}: no answer changed, the cycle was not reached"
        );
        eprintln!(
            "{what}: {} lookups terminated in {took:?} ({clean_took:?} before the cycle), {changed} answers changed",
            probes.len()
        );
        seal_file(&mut bytes);
        let err = Database::from_bytes(&bytes).unwrap().verify().unwrap_err();
        let (start, end) = &reason;
        assert_corrupt(&err, keys.name(), start);
        assert!(
            matches!(&err, OpenError::Corrupt { reason: r, .. } if r.starts_with(start) && r.ends_with(end)),
            "{what}: {err:?}"
        );
    }
}

/// In single-leaf tree `r` of `(keys, values)` in artifact `b`: the first slot whose value is a
/// record other than record 0 (not a sub-tree reference), and the key-space start of its
/// range (`None` for the chunk's first range).
fn nonempty_slot(
    b: &[u8],
    (keys, values): (Section, Section),
    r: u32,
) -> Option<(usize, Option<u64>)> {
    let size = keys.elem_size();
    let pad = u64::MAX >> (64 - 8 * size);
    let first = (r & tree::LEAF_OFFSET_MASK) as usize * (tree::UNIT_BYTES / size);
    let width = (tree::LINE_BYTES / size / 4) << ((r >> tree::LEAF_CLASS_SHIFT) & 3);
    let (k_off, v_off) = (section(b, keys).0, section(b, values).0);
    for g in 0..width {
        let start = match g {
            0 => None,
            _ => match read_le(b, k_off + (first + g - 1) * size, size) {
                k if k == pad => return None,
                k => Some(k + 1),
            },
        };
        let v = read_u32(b, v_off + 4 * (first + g));
        if v != 0 && v & format::V6_SUB == 0 {
            return Some((first + g, start));
        }
    }
    None
}

#[test]
fn out_of_range_records_in_values_answer_no_data() {
    // A value naming a record that does not exist, or a sub-tree outside its array: open does
    // not read values (it stays O(top tables)); a lookup that reaches it answers "no data"
    // (the empty record), every other answer stays as it was, and `verify` names the section.
    let base = artifact();
    let records = Database::from_bytes(base).unwrap().record_count() as u32;
    // Slots that hold a record other than record 0 (whose words are the empty answer), in
    // single-leaf chunks, and an address whose lookup reads each.
    let chunk = |top: Section, keys: Section, values: Section| {
        top_entries(base, top)
            .into_iter()
            .enumerate()
            .filter(|&(_, e)| e & format::TOP_DIRECT == 0 && e & tree::LEAF != 0)
            .find_map(|(c, e)| Some((c, nonempty_slot(base, (keys, values), e)?)))
            .expect("a single-leaf chunk with a record in the snapshot")
    };
    let (c4, (v4_slot, start4)) = chunk(Section::V4Top, Section::V4Keys, Section::V4Values);
    let (c6, (v6_slot, start6)) = chunk(Section::V6Top, Section::V6Keys, Section::V6Values);
    let v4_first = IpAddr::V4(Ipv4Addr::from(
        ((c4 as u32) << 16) | start4.unwrap_or(0) as u32,
    ));
    let v6_first = IpAddr::V6(Ipv6Addr::from(
        u128::from(start6.unwrap_or((c6 as u64) << 48)) << 64,
    ));
    let (v_off, v_len) = section(base, Section::V6Values);
    let (sub_slot, _) = (0..v_len / 4)
        .map(|i| read_u32(base, v_off + 4 * i))
        .filter(|&v| v & format::V6_SUB != 0 && v & tree::LEAF != 0)
        .find_map(|v| {
            let subs = (Section::V6SubKeys, Section::V6SubValues);
            nonempty_slot(base, subs, v & !format::V6_SUB)
        })
        .expect("a single-leaf IPv6 sub-tree with a record in the snapshot");
    let wild_sub = format::V6_SUB | tree::LEAF | tree::LEAF_OFFSET_MASK;
    // (values section, slot, new value, an address whose lookup reads the slot, reason)
    let cases: [(Section, usize, u32, Option<IpAddr>, String); 6] = [
        (
            Section::V4Values,
            v4_slot,
            records,
            Some(v4_first),
            format!("record {records} out of range"),
        ),
        (
            Section::V4Values,
            v4_slot,
            u32::MAX,
            Some(v4_first),
            format!("record {} out of range", u32::MAX),
        ),
        (
            Section::V6Values,
            v6_slot,
            records,
            Some(v6_first),
            format!("record {records} out of range"),
        ),
        (
            Section::V6Values,
            v6_slot,
            wild_sub,
            Some(v6_first),
            format!("value {wild_sub:#x} refers to a sub-tree outside 'ipv6 sub-keys'"),
        ),
        (
            Section::V6Values,
            v6_slot,
            u32::MAX,
            Some(v6_first),
            format!(
                "value {:#x} refers to a sub-tree outside 'ipv6 sub-keys'",
                u32::MAX
            ),
        ),
        (
            Section::V6SubValues,
            sub_slot,
            records,
            None,
            format!("record {records} out of range"),
        ),
    ];
    let expected = snapshot_answers();
    for (values, slot, value, first, reason) in cases {
        let mut b = base.to_vec();
        write_u32(&mut b, section(base, values).0 + 4 * slot, value);
        let db = Database::from_bytes(&b).unwrap_or_else(|e| panic!("{reason}: {e}"));
        if let Some(ip) = first {
            assert_eq!(db.lookup(ip).record_words(), &NO_DATA, "{ip}: {reason}");
        }
        assert_checksum(&db, &b);
        let (answers, _) = answer_all_within_deadline(db, snapshot_probes());
        let mut changed = 0;
        for ((now, was), ip) in answers.iter().zip(expected).zip(snapshot_probes().iter()) {
            if now != was {
                changed += 1;
                assert_eq!(
                    now.0, NO_DATA,
                    "{ip} changed to something other than no data"
                );
            }
        }
        assert!(changed > 0, "{reason}: the slot was not reached");
        seal_file(&mut b);
        let err = Database::from_bytes(&b).unwrap().verify().unwrap_err();
        assert_corrupt(&err, values.name(), &reason);
    }
}

#[test]
fn bad_top_entries_are_refused_at_open() {
    let base = artifact();
    let records = Database::from_bytes(base).unwrap().record_count() as u32;
    // The /16s of 185.220.101.1 (Tor) and 2606:54c0:: (iCloud Private Relay).
    for (top, keys, i) in [
        (Section::V4Top, Section::V4Keys, 185 * 256 + 220),
        (Section::V6Top, Section::V6Keys, 0x2606),
    ] {
        let range = format!("entry {i} is out of range");
        let tree = format!("entry {i} refers to a tree outside '{}'", keys.name());
        let cases: [(u32, &str); 8] = [
            (format::top_direct(records, 0), &range),
            (format::TOP_DIRECT | format::TOP_RECORD_MASK, &range),
            (format::top_direct(0, 17), &range),
            (tree::LEAF | (3 << tree::LEAF_CLASS_SHIFT), &tree),
            (tree::LEAF | tree::LEAF_OFFSET_MASK, &tree),
            (0, &tree),
            (1 << tree::HEIGHT_SHIFT, &tree),
            (with_height(tree::ROOT_MASK, tree::MAX_HEIGHT), &tree),
        ];
        for (entry, reason) in cases {
            let mut b = base.to_vec();
            write_u32(&mut b, section(base, top).0 + 4 * i, entry);
            let err = Database::from_bytes(&b).unwrap_err();
            assert_corrupt(&err, top.name(), reason);
            assert!(
                matches!(&err, OpenError::Corrupt { reason: r, .. } if r == reason),
                "{entry:#x}: {err:?}"
            );
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Future format versions.

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
    for (major, minor) in [
        (current + 1, 0),
        (current + 1, format::FORMAT_MINOR + 1),
        (0, 0),
        (u16::MAX, u16::MAX),
    ] {
        let b = with_version(major, minor);
        let path = scratch.path(&format!("v{major}.{minor}.ipsieve"));
        for err in [
            Database::from_bytes(&b).unwrap_err(),
            open_file(&path, &b).unwrap_err(),
        ] {
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
        assert_eq!(answer_all(&db, &snapshot_probes()), expected);
        seal_file(&mut b);
        let path = scratch.path(&format!("v{current}.{minor}.ipsieve"));
        let db = open_file(&path, &b).unwrap();
        assert_eq!(db.format_version(), (current, minor));
        db.verify().unwrap();
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Replacing a mapped file by rename.

#[test]
fn rename_over_a_mapped_artifact_keeps_the_old_answers() {
    let scratch = Scratch::new("rename");
    let live = scratch.path("live.ipsieve");
    std::fs::write(&live, artifact()).unwrap();
    let old = Database::open(&live).unwrap();
    let probes = snapshot_probes();
    let before = answer_all(&old, &probes);
    assert_eq!(before, snapshot_answers());

    // A different artifact, written beside the live one and renamed over it.
    let new_bytes = small_artifact();
    let tmp = scratch.path(".live.ipsieve.tmp");
    std::fs::write(&tmp, &new_bytes).unwrap();
    std::fs::rename(&tmp, &live).unwrap();

    // The live mapping still reads the old inode: same answers, same bytes.
    assert_eq!(answer_all(&old, &probes), before);
    assert_eq!(old.len(), artifact().len());
    old.verify().unwrap();
    let cloudflare: IpAddr = "1.1.1.1".parse().unwrap();
    assert_eq!(old.lookup(cloudflare).asn(), Some(13335));

    // A new open reads the new file.
    let new = Database::open(&live).unwrap();
    assert_eq!(new.len(), new_bytes.len());
    new.verify().unwrap();
    let fresh = answer_all(&new, &probes);
    assert_eq!(
        fresh,
        answer_all(&Database::from_bytes(&new_bytes).unwrap(), &probes)
    );
    assert_ne!(fresh, before);
    assert_eq!(new.lookup(cloudflare).asn(), None);
    assert_eq!(
        new.lookup("185.220.101.7".parse().unwrap()).asn(),
        Some(60729)
    );
}
