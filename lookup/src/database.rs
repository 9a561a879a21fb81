//! The [`Database`]: open (mmap or bytes), validate once, then answer lookups.

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use crate::answer::{Answer, EMPTY_RECORD};
use crate::error::OpenError;
use crate::format::tree::{self, Key};
use crate::format::{self, hdr, rec, src, Section, HEADER_LEN, NONE, SECTION_COUNT, TOP_ENTRIES};
use crate::search::{self, Cursor};
use crate::types::{Categories, Tier};

/// Where the artifact's bytes live.
enum Storage {
    /// A read-only private mapping of the file.
    Mmap(memmap2::Mmap),
    /// A private copy in an anonymous mapping, starting at `at` (a 2 MiB boundary) so that
    /// the kernel can back it with huge pages; read-only once filled.
    Anon {
        map: memmap2::Mmap,
        at: usize,
        len: usize,
    },
    /// An owned, 8-byte aligned copy (`len` bytes are meaningful).
    Owned { words: Box<[u64]>, len: usize },
    /// Caller-provided bytes that live forever (`include_bytes!`), already aligned.
    Static(&'static [u8]),
}

/// Size of an x86-64 / AArch64 huge page: the unit in which [`Storage::anon`] aligns a copy.
const HUGE_PAGE: usize = 2 << 20;

impl Storage {
    /// A private copy of `len` bytes written by `fill`: in an anonymous mapping aligned to
    /// [`HUGE_PAGE`] and advised for transparent huge pages (Linux), so that the lookups' random
    /// reads miss the TLB far less often than on 4 KiB pages; an owned heap buffer when `len`
    /// is below one huge page (nothing to gain) or the mapping fails.
    fn copy(
        len: usize,
        fill: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
    ) -> std::io::Result<Storage> {
        Self::copy_from(len, HUGE_PAGE, fill)
    }

    /// [`Storage::copy`], mapping copies of at least `min_mapped` bytes.
    fn copy_from(
        len: usize,
        min_mapped: usize,
        fill: impl FnOnce(&mut [u8]) -> std::io::Result<()>,
    ) -> std::io::Result<Storage> {
        if len >= min_mapped {
            if let Ok(mut map) = memmap2::MmapMut::map_anon(len + HUGE_PAGE) {
                // Advice only: without transparent huge pages the copy still works on small ones.
                #[cfg(target_os = "linux")]
                let _ = map.advise(memmap2::Advice::HugePage);
                let at = (HUGE_PAGE - map.as_ptr() as usize % HUGE_PAGE) % HUGE_PAGE;
                fill(&mut map[at..at + len])?;
                let map = map.make_read_only()?;
                return Ok(Storage::Anon { map, at, len });
            }
        }
        let mut words = vec![0u64; len.div_ceil(8)].into_boxed_slice();
        fill(&mut bytemuck::cast_slice_mut::<u64, u8>(&mut words)[..len])?;
        Ok(Storage::Owned { words, len })
    }

    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        match self {
            Storage::Mmap(m) => m,
            Storage::Anon { map, at, len } => map.get(*at..at + len).unwrap_or(&[]),
            Storage::Owned { words, len } => {
                let all: &[u8] = bytemuck::cast_slice(words);
                all.get(..*len).unwrap_or(&[])
            }
            Storage::Static(b) => b,
        }
    }
}

/// An opened, validated ipsieve artifact.
///
/// Opening checks the header, the format version, the bounds, alignment and sizes of every
/// section, the source table and every top-table entry, once, in time independent of the
/// data's size. Lookups are then infallible, never allocate and never panic;
/// [`Database::verify`] adds the whole-file checksum, every record and string, and every tree.
///
/// `Database` is `Send + Sync`: share one behind an `Arc` across threads.
///
/// # Memory-mapped files
/// [`Database::open`] maps the file read-only. Replacing the file by renaming a new one over it
/// is safe: the mapping keeps the old inode alive. Modifying or truncating a mapped file *in
/// place* (`cp new.ipsieve live.ipsieve`, writing into it) is undefined behaviour for every
/// memory-mapped reader and can crash the process with `SIGBUS`; `ipsieve build` therefore
/// always writes a temporary file and renames it. [`Database::load`] reads the file into a
/// private copy instead (on huge pages: faster lookups, and immune to in-place changes).
pub struct Database {
    storage: Storage,
    /// Byte range of each section within the storage.
    sections: [(usize, usize); SECTION_COUNT],
    build_time: u64,
    version: (u16, u16),
    record_count: usize,
    string_count: usize,
    source_count: usize,
    set_count: usize,
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("len", &self.len())
            .field("version", &self.version)
            .field("build_time", &self.build_time)
            .field("records", &self.record_count)
            .field("sources", &self.source_count)
            .finish_non_exhaustive()
    }
}

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

impl Database {
    /// Maps the artifact at `path` read-only and validates it.
    ///
    /// # Errors
    /// [`OpenError::Io`] when the file cannot be opened or mapped, and every other
    /// [`OpenError`] variant when the contents are not a valid artifact of a supported version.
    ///
    /// # Panics
    /// Never.
    ///
    /// # Example
    /// ```no_run
    /// let db = ipsieve::Database::open("ipsieve.db")?;
    /// let answer = db.lookup("185.220.101.1".parse().unwrap());
    /// println!("{} {}", answer.verdict(), answer.categories());
    /// # Ok::<(), ipsieve::OpenError>(())
    /// ```
    pub fn open(path: impl AsRef<Path>) -> Result<Database, OpenError> {
        let (file, _) = Self::open_file(path.as_ref())?;
        // The mapping is read-only and private; every byte read through it is bounds-checked
        // against the length validated below, and replacing the file by rename (what the
        // builder always does) never affects an existing mapping.
        // SAFETY: sound as long as no one modifies or truncates the file in place while it is
        // mapped, which is the documented contract of `Database` (see the type docs).
        let map = unsafe { memmap2::MmapOptions::new().map(&file)? };
        // A hint: where the kernel can hold read-only file pages in 2 MiB folios, lookups then
        // miss the TLB less (`Database::load` gets huge pages deterministically).
        #[cfg(target_os = "linux")]
        let _ = map.advise(memmap2::Advice::HugePage);
        Self::from_storage(Storage::Mmap(map))
    }

    /// Reads the artifact at `path` into private memory and validates it: the fastest way to
    /// serve lookups, for a few milliseconds of loading and the file's size in resident memory
    /// per process.
    ///
    /// Unlike [`Database::open`], whose pages are shared with the page cache and every other
    /// process mapping the file, the copy sits on 2 MiB pages where the OS offers them (Linux
    /// transparent huge pages, `madvise` mode or `always`), so the random reads of lookups miss
    /// the TLB far less often: measured 1.2–1.9× faster than a mapping on the full-size
    /// artifact (`docs/BENCHMARKS.md`). The copy is also immune to the file being modified in
    /// place after loading.
    ///
    /// # Errors
    /// [`OpenError::Io`] when the file cannot be read (or shrinks while it is read), and every
    /// other [`OpenError`] variant when the contents are not a valid artifact.
    ///
    /// # Panics
    /// Never.
    ///
    /// # Example
    /// ```no_run
    /// let db = ipsieve::Database::load("ipsieve.db")?;
    /// println!("{}", db.lookup("185.220.101.1".parse().unwrap()).verdict());
    /// # Ok::<(), ipsieve::OpenError>(())
    /// ```
    pub fn load(path: impl AsRef<Path>) -> Result<Database, OpenError> {
        use std::io::Read;
        let (mut file, len) = Self::open_file(path.as_ref())?;
        Self::from_storage(Storage::copy(len, |to| file.read_exact(to))?)
    }

    /// Opens the file at `path` and its length, refusing one shorter than the header or
    /// larger than the address space.
    fn open_file(path: &Path) -> Result<(File, usize), OpenError> {
        let file = File::open(path)?;
        let len = file.metadata()?.len();
        if len < HEADER_LEN as u64 {
            return Err(OpenError::TooShort { len: len as usize });
        }
        let len = usize::try_from(len).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::OutOfMemory,
                "the artifact is larger than the address space",
            )
        })?;
        Ok((file, len))
    }

    /// Validates `bytes` as an artifact, copying them into an aligned buffer owned by the
    /// returned database (use [`Database::from_static`] to avoid the copy). Copies of 2 MiB
    /// and more go on huge pages, as [`Database::load`] does.
    ///
    /// # Errors
    /// Every [`OpenError`] variant but `Misaligned`; `Io` only when the memory for the copy
    /// cannot be made read-only.
    ///
    /// # Panics
    /// Never.
    pub fn from_bytes(bytes: &[u8]) -> Result<Database, OpenError> {
        let storage = Storage::copy(bytes.len(), |to| {
            to.copy_from_slice(bytes);
            Ok(())
        })?;
        Self::from_storage(storage)
    }

    /// Uses `bytes` in place when they are 8-byte aligned (copies them otherwise). Meant for
    /// artifacts embedded with `include_bytes!` inside an aligned wrapper.
    ///
    /// # Errors
    /// As [`Database::from_bytes`].
    ///
    /// # Example
    /// ```
    /// #[repr(C, align(64))]
    /// struct Aligned<T: ?Sized>(T);
    /// static DB: &Aligned<[u8]> = &Aligned(*include_bytes!("../tests/golden/v1.ipsieve"));
    ///
    /// let db = ipsieve::Database::from_static(&DB.0)?;
    /// assert!(db.lookup("185.220.101.1".parse().unwrap()).is_tor());
    /// # Ok::<(), ipsieve::OpenError>(())
    /// ```
    pub fn from_static(bytes: &'static [u8]) -> Result<Database, OpenError> {
        if (bytes.as_ptr() as usize) % 8 != 0 {
            return Self::from_bytes(bytes);
        }
        Self::from_storage(Storage::Static(bytes))
    }

    fn from_storage(storage: Storage) -> Result<Database, OpenError> {
        let b = storage.bytes();
        if b.len() < HEADER_LEN {
            return Err(OpenError::TooShort { len: b.len() });
        }
        let mut magic = [0u8; 8];
        magic.copy_from_slice(&b[..8]);
        if magic != format::MAGIC {
            return Err(OpenError::BadMagic { found: magic });
        }
        let probe = u32::from_ne_bytes([b[8], b[9], b[10], b[11]]);
        if probe != format::ENDIAN_PROBE {
            return Err(OpenError::Endianness { found: probe });
        }
        let stored = read_u32(b, hdr::HEADER_CRC);
        let computed = format::header_crc(b);
        if stored != computed {
            return Err(OpenError::HeaderChecksum { stored, computed });
        }
        let version = (read_u16(b, hdr::MAJOR), read_u16(b, hdr::MINOR));
        if version.0 != format::FORMAT_MAJOR {
            return Err(OpenError::UnsupportedVersion {
                major: version.0,
                minor: version.1,
            });
        }
        if read_u32(b, hdr::HEADER_LEN) as usize != HEADER_LEN {
            return Err(OpenError::Header("header length is not 320"));
        }
        if read_u32(b, hdr::SECTION_COUNT) as usize != SECTION_COUNT {
            return Err(OpenError::Header("section count is not 16"));
        }
        let expected = read_u64(b, hdr::FILE_LEN);
        if expected != b.len() as u64 {
            return Err(OpenError::LengthMismatch {
                expected,
                found: b.len() as u64,
            });
        }
        let sections = Self::read_directory(b)?;
        let db = Database {
            build_time: read_u64(b, hdr::BUILD_TIME),
            version,
            record_count: read_u32(b, hdr::RECORD_COUNT) as usize,
            string_count: read_u32(b, hdr::STRING_COUNT) as usize,
            source_count: read_u32(b, hdr::SOURCE_COUNT) as usize,
            set_count: read_u32(b, hdr::SET_COUNT) as usize,
            sections,
            storage,
        };
        db.validate()?;
        Ok(db)
    }

    /// Reads the section directory and checks bounds, alignment, element size and overlap.
    fn read_directory(b: &[u8]) -> Result<[(usize, usize); SECTION_COUNT], OpenError> {
        let mut out = [(0usize, 0usize); SECTION_COUNT];
        for s in Section::ALL {
            let at = hdr::DIRECTORY + 16 * s as usize;
            let (off, len) = (read_u64(b, at), read_u64(b, at + 8));
            let end = off
                .checked_add(len)
                .filter(|&e| e <= b.len() as u64)
                .ok_or_else(|| {
                    OpenError::section(
                        s.name(),
                        format!(
                            "offset {off} + length {len} lies outside the {}-byte file",
                            b.len()
                        ),
                    )
                })?;
            if len == 0 {
                continue;
            }
            if off < HEADER_LEN as u64 {
                return Err(OpenError::section(s.name(), "overlaps the header"));
            }
            if off % format::SECTION_ALIGN as u64 != 0 {
                return Err(OpenError::section(
                    s.name(),
                    format!("offset {off} is not 64-byte aligned"),
                ));
            }
            if len % s.elem_size() as u64 != 0 {
                return Err(OpenError::section(
                    s.name(),
                    format!("length {len} is not a multiple of {}", s.elem_size()),
                ));
            }
            out[s as usize] = (off as usize, end as usize);
        }
        let mut spans: Vec<(usize, usize, Section)> = Section::ALL
            .into_iter()
            .map(|s| (out[s as usize].0, out[s as usize].1, s))
            .filter(|(a, e, _)| e > a)
            .collect();
        // Ties in directory order, so that of two sections at one offset the later is named.
        spans.sort_unstable_by_key(|&(a, _, s)| (a, s as usize));
        for w in spans.windows(2) {
            if w[1].0 < w[0].1 {
                return Err(OpenError::section(
                    w[1].2.name(),
                    format!("overlaps section '{}'", w[0].2.name()),
                ));
            }
        }
        Ok(out)
    }

    /// The section's bytes viewed as a slice of `T`; empty if the view is impossible (never the
    /// case after validation).
    #[inline(always)]
    pub(crate) fn slice<T: bytemuck::Pod>(&self, s: Section) -> &[T] {
        self.view().slice(s)
    }

    /// The storage's bytes with the section table, for a lookup that reads several sections.
    #[inline(always)]
    fn view(&self) -> View<'_> {
        View {
            bytes: self.storage.bytes(),
            sections: &self.sections,
        }
    }

    fn section_len(&self, s: Section) -> usize {
        let (a, e) = self.sections[s as usize];
        e - a
    }

    /// Structural checks at open: header counts, section sizes, sources, source sets and the
    /// two top tables. O(sources + sets + 2 × 65,536), independent of the number of ranges,
    /// records and strings (those are checked by `verify`).
    fn validate(&self) -> Result<(), OpenError> {
        let sec = |s: Section| s.name();
        // Sizes of fixed and parallel sections.
        for top in [Section::V4Top, Section::V6Top] {
            if self.section_len(top) != TOP_ENTRIES * 4 {
                return Err(OpenError::section(
                    sec(top),
                    format!(
                        "length {} is not {}",
                        self.section_len(top),
                        TOP_ENTRIES * 4
                    ),
                ));
            }
        }
        for (k, v) in [
            (Section::V4Keys, Section::V4Values),
            (Section::V6Keys, Section::V6Values),
            (Section::V6SubKeys, Section::V6SubValues),
        ] {
            if self.section_len(k) % tree::LINE_BYTES != 0 {
                return Err(OpenError::section(
                    sec(k),
                    "length is not a whole number of 64-byte lines",
                ));
            }
            let nk = self.section_len(k) / k.elem_size();
            let nv = self.section_len(v) / v.elem_size();
            if nk > u32::MAX as usize {
                return Err(OpenError::section(sec(k), "more than 2^32 key slots"));
            }
            if nk != nv {
                return Err(OpenError::section(
                    sec(v),
                    format!("{nv} entries but '{}' has {nk}", sec(k)),
                ));
            }
        }
        let expect = |s: Section, words: usize| -> Result<(), OpenError> {
            let len = self.section_len(s);
            if len != words * 4 {
                return Err(OpenError::section(
                    sec(s),
                    format!(
                        "length {len} does not match the header's count ({} expected)",
                        words * 4
                    ),
                ));
            }
            Ok(())
        };
        if self.record_count == 0 || self.record_count > format::MAX_RECORDS {
            return Err(OpenError::Header("record count out of range"));
        }
        expect(Section::Records, self.record_count * rec::WORDS)?;
        expect(Section::StrOffsets, self.string_count + 1)?;
        expect(Section::Sources, self.source_count * src::WORDS)?;
        expect(Section::SetOffsets, self.set_count + 1)?;

        // Strings: the offsets span the blob (their order and UTF-8 are checked by `verify`;
        // `string()` re-checks each string it returns).
        let offs: &[u32] = self.slice(Section::StrOffsets);
        if offs.first() != Some(&0)
            || offs.last().map(|&e| e as usize) != Some(self.section_len(Section::StrBlob))
        {
            return Err(OpenError::corrupt(
                sec(Section::StrOffsets),
                "offsets do not span the blob",
            ));
        }
        let string_ok = |i: u32| i == NONE || (i as usize) < self.string_count;

        // Source sets.
        let set_offs: &[u32] = self.slice(Section::SetOffsets);
        let items: &[u32] = self.slice(Section::SetItems);
        if set_offs.first() != Some(&0) || set_offs.last().map(|&e| e as usize) != Some(items.len())
        {
            return Err(OpenError::corrupt(
                sec(Section::SetOffsets),
                "offsets do not span the items",
            ));
        }
        if set_offs.windows(2).any(|w| w[1] < w[0]) {
            return Err(OpenError::corrupt(
                sec(Section::SetOffsets),
                "offsets are not ascending",
            ));
        }
        if let Some(bad) = items.iter().find(|&&s| s as usize >= self.source_count) {
            return Err(OpenError::corrupt(
                sec(Section::SetItems),
                format!(
                    "source index {bad} out of range ({} sources)",
                    self.source_count
                ),
            ));
        }

        // Sources.
        let sources: &[u32] = self.slice(Section::Sources);
        for (i, s) in sources.chunks_exact(src::WORDS).enumerate() {
            let strings = [
                s[src::NAME],
                s[src::FORMAT],
                s[src::LICENCE],
                s[src::URL],
                s[src::PROVIDER],
            ];
            if s[src::NAME] == NONE || !strings.into_iter().all(string_ok) {
                return Err(OpenError::corrupt(
                    sec(Section::Sources),
                    format!("source {i} has a bad string index"),
                ));
            }
            if Tier::from_u8(s[src::TIER_WEIGHT] as u8).is_none() {
                return Err(OpenError::corrupt(
                    sec(Section::Sources),
                    format!("source {i} has an unknown tier"),
                ));
            }
        }

        // Metadata: pairs of valid string indices.
        let meta: &[u32] = self.slice(Section::Meta);
        if meta.len() % 2 != 0 || !meta.iter().all(|&i| i != NONE && string_ok(i)) {
            return Err(OpenError::corrupt(
                sec(Section::Meta),
                "bad key/value string index",
            ));
        }

        // Top tables: direct entries name a record; others a tree whose first line is inside
        // its key array (`verify` checks the whole tree).
        self.validate_top::<u16>(Section::V4Top, Section::V4Keys)?;
        self.validate_top::<u64>(Section::V6Top, Section::V6Keys)
    }

    /// The O(records + strings) checks `verify` adds to `validate`: string offsets ascending
    /// on char boundaries of valid UTF-8, and every record field in range. Lookups stay safe
    /// without them (every access is bounds-checked and strings are re-checked when read);
    /// they keep a corrupt file from answering nonsense.
    fn validate_contents(&self) -> Result<(), OpenError> {
        let sec = |s: Section| s.name();
        // Strings: offsets ascending, on char boundaries of valid UTF-8 (open checked the ends).
        let blob = self.blob_str()?;
        let offs: &[u32] = self.slice(Section::StrOffsets);
        for (i, w) in offs.windows(2).enumerate() {
            if w[1] < w[0] || !blob.is_char_boundary(w[1] as usize) {
                return Err(OpenError::corrupt(
                    sec(Section::StrOffsets),
                    format!(
                        "string {i} ends at {} (not ascending or not a char boundary)",
                        w[1]
                    ),
                ));
            }
        }
        let string_ok = |i: u32| i == NONE || (i as usize) < self.string_count;

        // Records.
        let records: &[u32] = self.slice(Section::Records);
        for (i, r) in records.chunks_exact(rec::WORDS).enumerate() {
            let cvs = r[rec::COUNTRY_VERDICT_SCORE];
            let cc = [cvs as u8, (cvs >> 8) as u8];
            let country_ok = cc == [0, 0] || cc.iter().all(u8::is_ascii_uppercase);
            let ok = string_ok(r[rec::AS_ORG])
                && string_ok(r[rec::PROVIDER])
                && (r[rec::SOURCE_SET] == NONE || (r[rec::SOURCE_SET] as usize) < self.set_count)
                && country_ok
                && (cvs >> 16) as u8 <= 3
                && (cvs >> 24) <= 100;
            if !ok {
                return Err(OpenError::corrupt(
                    sec(Section::Records),
                    format!("record {i} has a field out of range"),
                ));
            }
        }
        Ok(())
    }

    fn validate_top<K: Key>(&self, top: Section, keys: Section) -> Result<(), OpenError> {
        let entries: &[u32] = self.slice(top);
        for (i, &e) in entries.iter().enumerate() {
            if e & format::TOP_DIRECT != 0 {
                let span = (e >> format::TOP_SPAN_SHIFT) & 0x1f;
                if (e & format::TOP_RECORD_MASK) as usize >= self.record_count || span > 16 {
                    return Err(OpenError::corrupt(
                        top.name(),
                        format!("entry {i} is out of range"),
                    ));
                }
            } else if self.tree_root::<K>(keys, e).is_none() {
                return Err(OpenError::corrupt(
                    top.name(),
                    format!("entry {i} refers to a tree outside '{}'", keys.name()),
                ));
            }
        }
        Ok(())
    }

    /// For the tree referenced by `r` in `keys`: its first slot and its height (1 for a
    /// leaf), or `None` when the reference is malformed or its first line (or whole leaf) is
    /// not inside the array.
    pub(crate) fn tree_root<K: Key>(&self, keys: Section, r: u32) -> Option<(usize, u32)> {
        let len = self.section_len(keys) / std::mem::size_of::<K>();
        if r & format::TOP_DIRECT != 0 {
            return None;
        }
        if r & tree::LEAF != 0 {
            let class = (r >> tree::LEAF_CLASS_SHIFT) & 3;
            let at = ((r & tree::LEAF_OFFSET_MASK) as usize).checked_mul(tree::unit_slots::<K>())?;
            let fits = class <= 2 && at.checked_add(tree::leaf_width::<K>(class))? <= len;
            return fits.then_some((at, 1));
        }
        let height = (r >> tree::HEIGHT_SHIFT) & 0xF;
        let at = ((r & tree::ROOT_MASK) as usize).checked_mul(K::PER_LINE)?;
        let fits = (2..=tree::MAX_HEIGHT).contains(&height) && at.checked_add(K::PER_LINE)? <= len;
        fits.then_some((at, height))
    }

    fn blob_str(&self) -> Result<&str, OpenError> {
        std::str::from_utf8(self.slice::<u8>(Section::StrBlob)).map_err(|e| {
            OpenError::corrupt(
                Section::StrBlob.name(),
                format!("invalid UTF-8 at byte {}", e.valid_up_to()),
            )
        })
    }

    /// Checks the whole-file checksum and every chunk's internal order and indices: an O(file)
    /// pass (several GB/s) for a nightly pipeline or an operator, not for every open.
    ///
    /// # Errors
    /// [`OpenError::Checksum`] on a checksum mismatch, [`OpenError::Corrupt`] on an
    /// inconsistent chunk.
    pub fn verify(&self) -> Result<(), OpenError> {
        let b = self.storage.bytes();
        let stored = read_u32(b, hdr::FILE_CRC);
        let computed = format::file_crc(b);
        if stored != computed {
            return Err(OpenError::Checksum { stored, computed });
        }
        self.validate_contents()?;
        crate::verify::trees(self)
    }

    /// Looks up any address; IPv4-mapped IPv6 (`::ffff:a.b.c.d`) answers as the IPv4 address.
    ///
    /// Never allocates, never panics.
    #[inline]
    pub fn lookup(&self, ip: IpAddr) -> Answer<'_> {
        match ip {
            IpAddr::V4(v4) => self.lookup_v4(v4),
            IpAddr::V6(v6) => self.lookup_v6(v6),
        }
    }

    /// Looks up an IPv4 address. Never allocates, never panics.
    #[inline]
    pub fn lookup_v4(&self, ip: Ipv4Addr) -> Answer<'_> {
        let v = self.view();
        let x = u32::from(ip);
        let (record, place) = v.resolve_v4(v.top_v4(x), x);
        Answer::new(self, v.record(record), IpAddr::V4(ip), place)
    }

    /// Looks up an IPv6 address. Never allocates, never panics.
    #[inline]
    pub fn lookup_v6(&self, ip: Ipv6Addr) -> Answer<'_> {
        if let Some(v4) = ip.to_ipv4_mapped() {
            return self.lookup_v4(v4);
        }
        let v = self.view();
        let x = u128::from(ip);
        let (record, place) = v.resolve_v6(v.top_v6(x), x);
        Answer::new(self, v.record(record), IpAddr::V6(ip), place)
    }

    /// Looks up many addresses, answering in input order: the same answers as
    /// [`Database::lookup`], computed in groups of [`BATCH`] whose memory accesses are
    /// staged (every top entry and first tree line of the group, then every search, then
    /// every record), so that the group's cache misses overlap instead of following one
    /// another. Faster than a loop of single lookups when the artifact does not fit in the
    /// CPU caches (`cargo bench -p ipsieve-benches --bench lookup` measures both).
    ///
    /// Never allocates (the group lives inside the iterator), never panics.
    ///
    /// ```
    /// # let db = ipsieve::Database::from_bytes(include_bytes!("../tests/golden/v1.ipsieve"))?;
    /// let ips: Vec<std::net::IpAddr> = vec!["185.220.101.1".parse()?, "192.0.2.1".parse()?];
    /// let tor = db.lookup_many(ips.iter().copied()).filter(|a| a.is_tor()).count();
    /// assert_eq!(tor, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup_many<I: IntoIterator<Item = IpAddr>>(
        &self,
        ips: I,
    ) -> LookupMany<'_, I::IntoIter> {
        LookupMany {
            db: self,
            ips: ips.into_iter(),
            group: [Staged::EMPTY; BATCH],
            len: 0,
            next: 0,
        }
    }

    /// First and last address (in the family's integer space) of the range holding `x`
    /// whose lookup ended at `place`.
    pub(crate) fn place_bounds(&self, x: u128, place: Place) -> (u128, u128) {
        match place {
            Place::Block { bits } => {
                let mask = u128::MAX.checked_shl(u32::from(bits)).unwrap_or(0);
                (x & mask, x | !mask)
            }
            Place::Slot { space, slot, first } => {
                let v = self.view();
                let slot = slot as usize;
                match space {
                    KeySpace::V4 => {
                        let keys = v.bytes_of(Section::V4Keys);
                        let (lo, hi) = bounds(keys, slot, first, 0u16, 0xFFFF);
                        let base = x & !0xFFFF;
                        (base | u128::from(lo), base | u128::from(hi))
                    }
                    KeySpace::V6 => {
                        let keys = v.bytes_of(Section::V6Keys);
                        let chunk = ((x >> 112) << 48) as u64;
                        let (lo, hi) = bounds(keys, slot, first, chunk, chunk | ((1 << 48) - 1));
                        (
                            u128::from(lo) << 64,
                            (u128::from(hi) << 64) | u128::from(u64::MAX),
                        )
                    }
                    KeySpace::V6Sub => {
                        let keys = v.bytes_of(Section::V6SubKeys);
                        let (lo, hi) = bounds(keys, slot, first, 0u64, u64::MAX);
                        let base = (x >> 64) << 64;
                        (base | u128::from(lo), base | u128::from(hi))
                    }
                }
            }
        }
    }
}

/// Which key array a lookup ended in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum KeySpace {
    V4,
    V6,
    V6Sub,
}

/// Where a lookup ended, enough to work out the range it found only when asked
/// ([`crate::Answer::network`]), so the lookup itself does not read the neighbouring keys.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// The aligned block of `2^bits` addresses around the address (a direct top entry).
    Block { bits: u8 },
    /// Between the keys around `slot` of a chunk tree.
    Slot {
        space: KeySpace,
        slot: u32,
        first: bool,
    },
}

impl Place {
    #[inline(always)]
    fn slot(space: KeySpace, slot: usize, first: bool) -> Place {
        // Slots are below 2^31 (checked at open: key arrays are smaller than 4 GiB).
        Place::Slot {
            space,
            slot: slot as u32,
            first,
        }
    }
}

impl<'a> View<'a> {
    /// The record's words; the empty record when out of range (never after validation).
    #[inline(always)]
    fn record(self, i: u32) -> &'a [u32; rec::WORDS] {
        let bytes = self.bytes_of(Section::Records);
        bytes
            .get(i as usize * rec::BYTES..)
            .and_then(|b| b.first_chunk::<{ rec::BYTES }>())
            .and_then(|b| bytemuck::try_from_bytes(b).ok())
            .unwrap_or(&EMPTY_RECORD)
    }
}

impl<'a> View<'a> {
    /// The IPv4 top entry of `x`'s /16 (a direct empty entry when out of range).
    #[inline(always)]
    fn top_v4(self, x: u32) -> u32 {
        self.word(Section::V4Top, (x >> 16) as usize)
            .unwrap_or(format::top_direct(0, 0))
    }

    /// The IPv6 top entry of `x`'s /16.
    #[inline(always)]
    fn top_v6(self, x: u128) -> u32 {
        self.word(Section::V6Top, (x >> 112) as usize)
            .unwrap_or(format::top_direct(0, 0))
    }

    /// The record and place of IPv4 `x` whose top entry is `e`.
    #[inline(always)]
    fn resolve_v4(self, e: u32, x: u32) -> (u32, Place) {
        if e & format::TOP_DIRECT != 0 {
            return direct(e, 16);
        }
        let keys = self.bytes_of(Section::V4Keys);
        let Some(c) = descend::<u16, 32>(keys, e, x as u16) else {
            return FELL_OFF_V4;
        };
        c.preload_values::<false>(self.bytes_of(Section::V4Values));
        self.leaf_v4(c, x)
    }

    /// The record and place of IPv4 `x` from its search at the leaf.
    #[inline(always)]
    fn leaf_v4(self, c: Cursor, x: u32) -> (u32, Place) {
        let keys = self.bytes_of(Section::V4Keys);
        match c.finish::<u16>(keys, x as u16) {
            Some((slot, first)) => {
                let r = self.word(Section::V4Values, slot).unwrap_or(0);
                (r, Place::slot(KeySpace::V4, slot, first))
            }
            None => FELL_OFF_V4,
        }
    }

    /// The record and place of IPv6 `x` (not IPv4-mapped) whose top entry is `e`.
    #[inline(always)]
    fn resolve_v6(self, e: u32, x: u128) -> (u32, Place) {
        if e & format::TOP_DIRECT != 0 {
            return direct(e, 112);
        }
        let keys = self.bytes_of(Section::V6Keys);
        let Some(c) = descend::<u64, 8>(keys, e, (x >> 64) as u64) else {
            return FELL_OFF_V6;
        };
        c.preload_values::<false>(self.bytes_of(Section::V6Values));
        self.leaf_v6(c, x)
    }

    /// The record and place of IPv6 `x` from its search at the leaf, through the /64's
    /// sub-tree when the value refers to one.
    #[inline(always)]
    fn leaf_v6(self, c: Cursor, x: u128) -> (u32, Place) {
        let keys = self.bytes_of(Section::V6Keys);
        let Some((slot, first)) = c.finish::<u64>(keys, (x >> 64) as u64) else {
            return FELL_OFF_V6;
        };
        let r = self.word(Section::V6Values, slot).unwrap_or(0);
        if r & format::V6_SUB == 0 {
            return (r, Place::slot(KeySpace::V6, slot, first));
        }
        let sub = self.bytes_of(Section::V6SubKeys);
        let sub_values = self.bytes_of(Section::V6SubValues);
        match search::find::<u64, 8>(sub, sub_values, r & !format::V6_SUB, x as u64) {
            Some((slot, first)) => {
                let r = self.word(Section::V6SubValues, slot).unwrap_or(0);
                (r, Place::slot(KeySpace::V6Sub, slot, first))
            }
            None => (0, Place::Block { bits: 64 }),
        }
    }

    /// Starts loading record `i`'s line.
    #[inline(always)]
    fn preload_record(self, i: u32) {
        let at = (i as usize).wrapping_mul(rec::BYTES);
        search::prefetch(self.bytes_of(Section::Records), at);
    }
}

/// The answer when a search falls off a corrupt tree: nothing known for the /16.
const FELL_OFF_V4: (u32, Place) = (0, Place::Block { bits: 16 });
/// The same for an IPv6 /16.
const FELL_OFF_V6: (u32, Place) = (0, Place::Block { bits: 112 });

/// The record and block of a direct top entry `e` of a table indexed above bit `base`.
#[inline(always)]
fn direct(e: u32, base: u8) -> (u32, Place) {
    let bits = base + ((e >> format::TOP_SPAN_SHIFT) & 0x1f).min(16) as u8;
    (e & format::TOP_RECORD_MASK, Place::Block { bits })
}

/// Runs the search of tree `e` down to its leaf; `None` if it falls off the array.
#[inline(always)]
fn descend<K: Key, const B: usize>(keys: &[u8], e: u32, x: K) -> Option<Cursor> {
    let mut c = Cursor::new::<K, B>(e);
    while c.descending() {
        c.step::<K, B>(keys, x)?;
    }
    Some(c)
}

/// Addresses per group of [`Database::lookup_many`].
pub const BATCH: usize = 16;

/// One address of a [`LookupMany`] group on its way through the stages.
#[derive(Clone, Copy)]
struct Staged {
    ip: IpAddr,
    /// The record index once known (a direct top entry, or after the search).
    record: u32,
    place: Place,
    /// The search still to finish (`None` once `record` and `place` are known).
    search: Option<Cursor>,
}

impl Staged {
    const EMPTY: Staged = Staged {
        ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        record: 0,
        place: Place::Block { bits: 0 },
        search: None,
    };
}

/// Iterator of [`Database::lookup_many`]: one [`Answer`] per input address, in order.
pub struct LookupMany<'a, I> {
    db: &'a Database,
    ips: I,
    group: [Staged; BATCH],
    len: usize,
    next: usize,
}

impl<I> std::fmt::Debug for LookupMany<'_, I> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LookupMany")
            .field("buffered", &(self.len - self.next))
            .finish_non_exhaustive()
    }
}

impl<I: Iterator<Item = IpAddr>> LookupMany<'_, I> {
    /// Takes the next group from the input and runs it through every stage; each stage only
    /// starts loads that the next stage reads, so within a stage the group's misses overlap.
    fn fill(&mut self) {
        let v = self.db.view();
        let (k4, k6) = (v.bytes_of(Section::V4Keys), v.bytes_of(Section::V6Keys));
        let mut n = 0;
        // Stage 1: top entries (IPv4-mapped addresses as IPv4); the first line of each tree.
        for (slot, ip) in self.group.iter_mut().zip(self.ips.by_ref()) {
            let ip = match ip {
                IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
                IpAddr::V4(_) => ip,
            };
            let e = match ip {
                IpAddr::V4(a) => v.top_v4(u32::from(a)),
                IpAddr::V6(a) => v.top_v6(u128::from(a)),
            };
            *slot = if e & format::TOP_DIRECT != 0 {
                let (record, place) = direct(e, if ip.is_ipv4() { 16 } else { 112 });
                v.preload_record(record);
                Staged {
                    ip,
                    record,
                    place,
                    search: None,
                }
            } else {
                let cursor = match ip {
                    IpAddr::V4(_) => {
                        let c = Cursor::new::<u16, 32>(e);
                        search::preload_key::<u16>(k4, c.line());
                        c
                    }
                    IpAddr::V6(_) => {
                        let c = Cursor::new::<u64, 8>(e);
                        search::preload_key::<u64>(k6, c.line());
                        c
                    }
                };
                Staged {
                    ip,
                    search: Some(cursor),
                    ..Staged::EMPTY
                }
            };
            n += 1;
        }
        let group = &mut self.group[..n];
        // Stage 2: every search descends one level per pass (at most 14 passes), loading the
        // next level's lines of the whole group before reading any of them.
        let mut more = true;
        while more {
            more = false;
            for s in group.iter_mut() {
                let Some(c) = &mut s.search else {
                    continue;
                };
                if !c.descending() {
                    continue;
                }
                let stepped = match s.ip {
                    IpAddr::V4(a) => c
                        .step::<u16, 32>(k4, u32::from(a) as u16)
                        .map(|()| search::preload_key::<u16>(k4, c.line())),
                    IpAddr::V6(a) => c
                        .step::<u64, 8>(k6, (u128::from(a) >> 64) as u64)
                        .map(|()| search::preload_key::<u64>(k6, c.line())),
                };
                match stepped {
                    Some(()) => more |= c.descending(),
                    None => {
                        (s.record, s.place) = if s.ip.is_ipv4() {
                            FELL_OFF_V4
                        } else {
                            FELL_OFF_V6
                        };
                        s.search = None;
                    }
                }
            }
        }
        // Stage 3: the values the leaves select from.
        for s in group.iter() {
            if let Some(c) = &s.search {
                match s.ip {
                    IpAddr::V4(_) => c.preload_values::<true>(v.bytes_of(Section::V4Values)),
                    IpAddr::V6(_) => c.preload_values::<true>(v.bytes_of(Section::V6Values)),
                }
            }
        }
        // Stage 4: the leaves, the values and the records' lines.
        for s in group.iter_mut() {
            let Some(c) = s.search.take() else {
                continue;
            };
            (s.record, s.place) = match s.ip {
                IpAddr::V4(a) => v.leaf_v4(c, u32::from(a)),
                IpAddr::V6(a) => v.leaf_v6(c, u128::from(a)),
            };
            v.preload_record(s.record);
        }
        self.len = n;
        self.next = 0;
    }
}

impl<'a, I: Iterator<Item = IpAddr>> Iterator for LookupMany<'a, I> {
    type Item = Answer<'a>;

    #[inline]
    fn next(&mut self) -> Option<Answer<'a>> {
        if self.next == self.len {
            self.fill();
            if self.len == 0 {
                return None;
            }
        }
        let s = self.group[self.next];
        self.next += 1;
        Some(Answer::new(
            self.db,
            self.db.view().record(s.record),
            s.ip,
            s.place,
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let (lo, hi) = self.ips.size_hint();
        let buffered = self.len - self.next;
        (
            lo.saturating_add(buffered),
            hi.and_then(|h| h.checked_add(buffered)),
        )
    }
}

impl Database {
    /// String `i` of the string table, or `None` for [`format::NONE`].
    #[inline]
    pub(crate) fn string(&self, i: u32) -> Option<&str> {
        if i == NONE {
            return None;
        }
        let offs: &[u32] = self.slice(Section::StrOffsets);
        let (a, e) = (
            *offs.get(i as usize)? as usize,
            *offs.get(i as usize + 1)? as usize,
        );
        let blob = self.slice::<u8>(Section::StrBlob).get(a..e)?;
        // Validated as UTF-8 at open; this re-check is O(len) on short strings and keeps the
        // crate free of unsafe.
        std::str::from_utf8(blob).ok()
    }

    /// The source indices in set `i`.
    #[inline]
    pub(crate) fn source_set(&self, i: u32) -> &[u32] {
        if i == NONE {
            return &[];
        }
        let offs: &[u32] = self.slice(Section::SetOffsets);
        let (Some(&a), Some(&e)) = (offs.get(i as usize), offs.get(i as usize + 1)) else {
            return &[];
        };
        self.slice::<u32>(Section::SetItems)
            .get(a as usize..e as usize)
            .unwrap_or(&[])
    }

    /// The source at index `i`.
    pub fn source(&self, i: usize) -> Option<SourceInfo<'_>> {
        let words: &[u32] = self.slice(Section::Sources);
        let w = words.get(i * src::WORDS..(i + 1) * src::WORDS)?;
        Some(SourceInfo { db: self, w })
    }

    /// The sources the artifact was built from, in index order (sorted by name).
    pub fn sources(&self) -> impl Iterator<Item = SourceInfo<'_>> + '_ {
        (0..self.source_count).filter_map(move |i| self.source(i))
    }

    /// Build metadata as (key, value) pairs: builder version, input digests and the like.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let meta: &[u32] = self.slice(Section::Meta);
        meta.chunks_exact(2)
            .filter_map(move |kv| Some((self.string(kv[0])?, self.string(kv[1])?)))
    }

    /// Build time, Unix seconds (UTC).
    pub fn build_time(&self) -> u64 {
        self.build_time
    }

    /// The artifact's format version (major, minor).
    pub fn format_version(&self) -> (u16, u16) {
        self.version
    }

    /// Size of the artifact in bytes.
    pub fn len(&self) -> usize {
        self.storage.bytes().len()
    }

    /// Always false: a valid artifact has at least a header. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct records.
    pub fn record_count(&self) -> usize {
        self.record_count
    }

    /// Size in bytes of a section (for reports and benchmarks).
    pub fn section_size(&self, s: Section) -> usize {
        self.section_len(s)
    }

    #[doc(hidden)]
    pub fn raw_slice<T: bytemuck::Pod>(&self, s: Section) -> &[T] {
        self.slice(s)
    }
}

/// The first and last key-space value of the range whose value is in `slot`: after the key
/// in the slot before (or `first_key` for the chunk's first range) up to the key in `slot`
/// (or `last_key` when that slot is padding).
#[inline(always)]
fn bounds<K: Key>(keys: &[u8], slot: usize, first: bool, first_key: K, last_key: K) -> (K, K) {
    let prev = slot.checked_sub(1).filter(|_| !first);
    let lo = match prev.and_then(|i| K::read(keys, i)) {
        Some(k) => k.succ().unwrap_or(last_key),
        None => first_key,
    };
    let hi = match K::read(keys, slot) {
        Some(k) if k != K::PAD => k,
        _ => last_key,
    };
    (lo, hi)
}

/// The bytes of an open artifact and its section table.
#[derive(Clone, Copy)]
struct View<'a> {
    bytes: &'a [u8],
    sections: &'a [(usize, usize); SECTION_COUNT],
}

impl<'a> View<'a> {
    /// Section `s`'s bytes; empty if out of bounds (never after validation).
    #[inline(always)]
    fn bytes_of(self, s: Section) -> &'a [u8] {
        let (a, e) = self.sections[s as usize];
        self.bytes.get(a..e).unwrap_or(&[])
    }

    /// Little-endian `u32` number `i` of section `s`.
    #[inline(always)]
    fn word(self, s: Section, i: usize) -> Option<u32> {
        let b = self
            .bytes_of(s)
            .get(i.checked_mul(4)?..)?
            .first_chunk::<4>()?;
        Some(u32::from_le_bytes(*b))
    }

    /// Section `s` as a slice of `T`; empty if it is out of bounds or misaligned (never after
    /// validation).
    #[inline(always)]
    fn slice<T: bytemuck::Pod>(self, s: Section) -> &'a [T] {
        let (a, e) = self.sections[s as usize];
        match self.bytes.get(a..e) {
            Some(bytes) => bytemuck::try_cast_slice(bytes).unwrap_or(&[]),
            None => &[],
        }
    }
}

/// One input source, as recorded in the artifact.
#[derive(Clone, Copy)]
pub struct SourceInfo<'a> {
    db: &'a Database,
    w: &'a [u32],
}

impl std::fmt::Debug for SourceInfo<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceInfo")
            .field("name", &self.name())
            .field("format", &self.format())
            .field("categories", &self.categories())
            .field("tier", &self.tier())
            .field("snapshot_day", &self.snapshot_day())
            .finish_non_exhaustive()
    }
}

impl<'a> SourceInfo<'a> {
    /// Unique name (`tor-exit-addresses`, `aws`, …).
    pub fn name(&self) -> &'a str {
        self.db.string(self.w[src::NAME]).unwrap_or("")
    }
    /// Input format (parser) name.
    pub fn format(&self) -> &'a str {
        self.db.string(self.w[src::FORMAT]).unwrap_or("")
    }
    /// Categories the source asserts.
    pub fn categories(&self) -> Categories {
        Categories::from_bits(self.w[src::CATEGORIES])
    }
    /// Evidence tier.
    pub fn tier(&self) -> Tier {
        Tier::from_u8(self.w[src::TIER_WEIGHT] as u8).unwrap_or(Tier::Keyword)
    }
    /// Weight of the source's signal, 0..=1.
    pub fn weight(&self) -> f32 {
        ((self.w[src::TIER_WEIGHT] >> 8) & 0xff) as f32 / 100.0
    }
    /// Snapshot date of the data, days since 1970-01-01 (UTC), when known.
    pub fn snapshot_day(&self) -> Option<u32> {
        Some(self.w[src::SNAPSHOT_DAY]).filter(|&d| d != NONE)
    }
    /// Licence statement.
    pub fn licence(&self) -> Option<&'a str> {
        self.db.string(self.w[src::LICENCE])
    }
    /// Upstream URL.
    pub fn url(&self) -> Option<&'a str> {
        self.db.string(self.w[src::URL])
    }
    /// Provider display name the source asserts.
    pub fn provider(&self) -> Option<&'a str> {
        self.db.string(self.w[src::PROVIDER])
    }
}

#[cfg(test)]
mod tests {
    use super::{Database, Storage, HUGE_PAGE};

    const GOLDEN: &[u8] = include_bytes!("../tests/golden/v1.ipsieve");

    /// Every storage answers the same; the huge-page copy starts on a 2 MiB boundary.
    #[test]
    fn every_storage_answers_alike() {
        let copy = |min_mapped| {
            Storage::copy_from(GOLDEN.len(), min_mapped, |to| {
                to.copy_from_slice(GOLDEN);
                Ok(())
            })
            .unwrap()
        };
        let mapped = copy(0);
        match &mapped {
            Storage::Anon { map, at, len } => {
                assert_eq!((map.as_ptr() as usize + at) % HUGE_PAGE, 0);
                assert_eq!(*len, GOLDEN.len());
            }
            _ => panic!("a copy from 0 bytes up is mapped"),
        }
        assert!(matches!(copy(usize::MAX), Storage::Owned { .. }));
        let dir = std::env::temp_dir().join(format!("ipsieve-storage-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("v1.ipsieve");
        std::fs::write(&file, GOLDEN).unwrap();
        let dbs = [
            Database::from_storage(mapped).unwrap(),
            Database::from_storage(copy(usize::MAX)).unwrap(),
            Database::from_bytes(GOLDEN).unwrap(),
            Database::open(&file).unwrap(),
            Database::load(&file).unwrap(),
        ];
        std::fs::remove_dir_all(&dir).unwrap();
        let mut rng = 0x9E37_79B9_7F4A_7C15u64;
        for i in 0..20_000u32 {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            let ip = if i % 2 == 0 {
                std::net::IpAddr::V4((rng as u32).into())
            } else {
                std::net::IpAddr::V6((u128::from(rng) << 64 | u128::from(rng >> 3)).into())
            };
            let want = dbs[0].lookup(ip);
            for db in &dbs[1..] {
                let got = db.lookup(ip);
                assert_eq!(got.record_words(), want.record_words(), "{ip}");
                assert_eq!(got.network(), want.network(), "{ip}");
            }
        }
    }

    #[test]
    fn loading_a_short_or_missing_file_is_an_error() {
        let dir = std::env::temp_dir().join(format!("ipsieve-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let short = dir.join("short");
        std::fs::write(&short, &GOLDEN[..100]).unwrap();
        let e = Database::load(&short).unwrap_err();
        assert!(matches!(e, crate::OpenError::TooShort { len: 100 }), "{e}");
        let cut = dir.join("cut");
        std::fs::write(&cut, &GOLDEN[..GOLDEN.len() - 64]).unwrap();
        let e = Database::load(&cut).unwrap_err();
        assert!(matches!(e, crate::OpenError::LengthMismatch { .. }), "{e}");
        let e = Database::load(dir.join("missing")).unwrap_err();
        assert!(matches!(e, crate::OpenError::Io(_)), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
