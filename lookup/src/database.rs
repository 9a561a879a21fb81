//! The [`Database`]: open (a private copy, a mapping, or bytes), validate once, then answer
//! lookups. The descent itself lives in [`crate::index`], the batch engine in
//! [`crate::batch`], the storage in [`crate::storage`] and the header in [`crate::header`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipnet::IpNet;

use crate::answer::{Answer, EMPTY_RECORD};
use crate::batch::LookupMany;
use crate::error::OpenError;
use crate::format::{self, class, hdr, hot, leaf, rec, src, trie::NODE, Section, NONE};
use crate::header::{self, Layout};
use crate::index::v4::V4;
use crate::index::v6::V6;
use crate::index::{Family, Trie};
use crate::storage::Storage;
use crate::types::{Categories, Tier};

/// An opened, validated ipsieve artifact.
///
/// Opening checks the header, the format version, the bounds, alignment and sizes of every
/// section, the source table and every top-table entry, once, in time independent of the
/// data's size. Lookups are then infallible, never allocate and never panic;
/// [`Database::verify`] adds the whole-file checksum, every record and string, and every trie
/// node.
///
/// `Database` is `Send + Sync`: share one behind an `Arc` across threads.
///
/// # Which constructor
/// * [`Database::open`] (the default): reads the file into private memory, on 2 MiB pages where
///   the OS offers them (Linux transparent huge pages). Lookups as fast as on a mapping; costs the file's
///   size in memory per process and a few milliseconds per open; nothing done to the file
///   afterwards can affect it.
/// * [`Database::open_mmap`] (`unsafe`): maps the file, sharing its pages with the page cache
///   and every other process that maps it. Opens in well under a millisecond whatever the
///   size, but the file must never be modified or truncated in place while mapped (replace it
///   by renaming a new file over it, as `ipsieve build` does), which the compiler cannot check.
/// * [`Database::from_bytes`] / [`Database::from_static`]: bytes already in memory
///   (`include_bytes!`, tests).
pub struct Database {
    cell: Cell,
    layout: Layout,
    /// Whether the artifact's sources hold the delegation files of all five RIRs (format
    /// [`crate::special::RIR_DELEGATED_FORMAT`], [`crate::special::RIRS`]): then space no
    /// RIR delegated is a bogon.
    delegations: bool,
    /// The day evidence ages are counted to ([`crate::classify::data_day`]).
    data_day: u32,
}

/// The sections a lookup reads, sliced once at open (so a lookup does no slicing of its own).
pub(crate) struct Hot<'a> {
    pub(crate) bytes: &'a [u8],
    pub(crate) v4: Trie<'a, V4>,
    pub(crate) v6: Trie<'a, V6>,
    classes: &'a [u32],
    records: &'a [[u32; rec::WORDS]],
    hot: &'a [[u32; hot::WORDS]],
}

self_cell::self_cell!(
    /// The storage and the slices of it that lookups use.
    struct Cell {
        owner: Storage,
        #[covariant]
        dependent: Hot,
    }
);

impl<'a> Hot<'a> {
    fn new(layout: &Layout, bytes: &'a [u8]) -> Hot<'a> {
        fn trie<'a, F: Family>(layout: &Layout, b: &'a [u8]) -> Trie<'a, F> {
            Trie {
                top: layout.slice(b, F::TOP),
                nodes: layout.slice(b, F::NODES),
                leaves: layout.slice(b, F::LEAVES),
                spans: layout.slice(b, F::SPANS),
                family: std::marker::PhantomData,
            }
        }
        Hot {
            bytes,
            v4: trie(layout, bytes),
            v6: trie(layout, bytes),
            classes: layout.slice(bytes, Section::Classes),
            records: layout.slice(bytes, Section::Records),
            hot: layout.slice(bytes, Section::Hot),
        }
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("len", &self.len())
            .field("version", &self.layout.version)
            .field("build_time", &self.layout.build_time)
            .field("records", &self.layout.record_count)
            .field("sources", &self.layout.source_count)
            .finish_non_exhaustive()
    }
}

impl Database {
    /// Reads the artifact at `path` into private memory and validates it: the safe default.
    ///
    /// The file must be a regular file (a FIFO, a device or a directory is refused without
    /// reading from it); its header and the length it declares are checked before the rest is
    /// read, so a large file that is not an artifact is refused at once. The copy sits on
    /// 2 MiB pages where the OS offers them (Linux transparent huge pages, `madvise` mode or
    /// `always`), which spares the TLB on random reads; the lookup bench shows the private
    /// copy and [`Database::open_mmap`] within a few percent of each other
    /// (`docs/BENCHMARKS.md`, rows `ipsieve-asn` and `ipsieve-mmap`). Nothing done to the file
    /// afterwards reaches the copy.
    ///
    /// # Errors
    /// [`OpenError::Io`] when the file cannot be read (or shrinks while it is read),
    /// [`OpenError::NotAFile`] for anything but a regular file, and every other
    /// [`OpenError`] variant when the contents are not a valid artifact of this major version.
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
        let path = path.as_ref();
        Self::from_storage(Storage::read(path).map_err(|e| e.naming(path))?)
    }

    /// Maps the artifact at `path` read-only and validates it: opens in well under a
    /// millisecond whatever the file's size, and shares its pages with the page cache and
    /// every other process mapping it.
    ///
    /// # Safety
    /// The file must not be modified or truncated in place for as long as the returned
    /// `Database` lives: a change made through the file system reaches the mapping and can
    /// change bytes that open validated (undefined behaviour) or kill the process with
    /// `SIGBUS`. Replacing the file by renaming a new one over its path is fine (the mapping
    /// keeps the old inode); `ipsieve build` and `ipsieve_builder::write::publish` only ever
    /// do that. When you cannot promise it, use [`Database::open`].
    ///
    /// # Errors
    /// As [`Database::open`]; [`OpenError::Io`] also when the file cannot be mapped.
    ///
    /// # Example
    /// ```no_run
    /// // SAFETY: ipsieve.db is only ever replaced by rename, never written in place.
    /// let db = unsafe { ipsieve::Database::open_mmap("ipsieve.db")? };
    /// println!("{}", db.lookup("185.220.101.1".parse().unwrap()).verdict());
    /// # Ok::<(), ipsieve::OpenError>(())
    /// ```
    pub unsafe fn open_mmap(path: impl AsRef<Path>) -> Result<Database, OpenError> {
        let path = path.as_ref();
        // SAFETY: the caller upholds `Storage::map`'s contract, which is this function's.
        let storage = unsafe { Storage::map(path) }.map_err(|e| e.naming(path))?;
        Self::from_storage(storage)
    }

    /// Validates `bytes` as an artifact, copying them into an aligned buffer owned by the
    /// returned database (use [`Database::from_static`] to avoid the copy). Copies of 2 MiB
    /// and more go on huge pages, as [`Database::open`] does.
    ///
    /// # Errors
    /// Every [`OpenError`] variant but `NotAFile`; `Io` only when the memory for the copy
    /// cannot be made read-only.
    ///
    /// # Panics
    /// Never.
    pub fn from_bytes(bytes: &[u8]) -> Result<Database, OpenError> {
        header::check_prefix(bytes, bytes.len() as u64)?;
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
    /// static DB: &Aligned<[u8]> = &Aligned(*include_bytes!("../tests/golden/v4.ipsieve"));
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

    pub(crate) fn from_storage(storage: Storage) -> Result<Database, OpenError> {
        let layout = Layout::read(storage.bytes())?;
        let cell = Cell::new(storage, |s| Hot::new(&layout, s.bytes()));
        let mut db = Database {
            cell,
            layout,
            delegations: false,
            data_day: 0,
        };
        db.validate_top::<V4>()?;
        db.validate_top::<V6>()?;
        // Space no file lists is undelegated only when every registry's file was read: with
        // one missing, its whole space would look undelegated.
        let read = db
            .metadata()
            .find(|&(k, _)| k == crate::special::RIR_REGISTRIES_KEY)
            .map(|(_, v)| v);
        db.delegations = db
            .sources()
            .any(|s| s.format() == crate::special::RIR_DELEGATED_FORMAT)
            && read.is_some_and(|v| {
                crate::special::RIRS
                    .iter()
                    .all(|r| v.split(',').any(|x| x == *r))
            });
        db.data_day =
            crate::classify::data_day(db.build_time(), db.sources().map(|s| s.snapshot_day()));
        Ok(db)
    }

    /// Every entry of a top table names an existing node, or an existing record in an
    /// existing class: O(2^18) reads, so that a corrupt entry is refused before any lookup.
    fn validate_top<F: Family>(&self) -> Result<(), OpenError> {
        let t = self.trie::<F>();
        let nodes = t.nodes.len() as u32;
        let classes = self.layout.len(Section::Classes) as u32 / 4;
        let records = self.layout.record_count as u32;
        // Without a branch (`&` and `|` on booleans, not `&&` and `||`), so that the scan of a
        // chunk vectorises: `from_static` of the full-size artifact took 0.63 ms with a
        // short-circuiting scan and 0.28 ms this way (medians of 200 runs, same machine).
        let bad = |e: u32| {
            let node = e & NODE != 0;
            let class = leaf::class(e);
            let bad_node = (e & !NODE) >= nodes;
            let bad_leaf = (leaf::record(e) >= records)
                | ((class >= classes) & (class != leaf::CLASS_IN_RECORD));
            (node & bad_node) | (!node & bad_leaf)
        };
        let corrupt = t
            .top
            .chunks(1024)
            .any(|c| c.iter().fold(false, |acc, &e| acc | bad(e)));
        if corrupt {
            let i = t.top.iter().position(|&e| bad(e)).unwrap_or(0);
            return Err(OpenError::corrupt(
                F::TOP.name(),
                format!("entry {i} refers to a node, record or class that does not exist"),
            ));
        }
        Ok(())
    }

    /// Section `s` as a slice of `T`; empty if the view is impossible (never after open).
    #[inline(always)]
    pub(crate) fn slice<T: bytemuck::Pod>(&self, s: Section) -> &[T] {
        self.layout.slice(self.bytes(), s)
    }

    /// The artifact's bytes.
    #[inline(always)]
    fn bytes(&self) -> &[u8] {
        self.cell.borrow_dependent().bytes
    }

    /// One family's index.
    #[inline(always)]
    pub(crate) fn trie<F: Family>(&self) -> Trie<'_, F> {
        F::trie(self.cell.borrow_dependent())
    }

    /// Whether the artifact was built with the delegation files of all five RIRs (sources of
    /// format `rir-delegated` whose rows name `afrinic`, `apnic`, `arin`, `lacnic` and
    /// `ripencc`, recorded in the metadata key [`crate::special::RIR_REGISTRIES_KEY`]): then
    /// [`Answer::is_bogon`](crate::Answer::is_bogon) also names space that no RIR has
    /// delegated. With one registry's file missing its whole space would look undelegated, so
    /// only special-purpose space is a bogon then.
    pub fn has_rir_delegations(&self) -> bool {
        self.delegations
    }

    /// Checks the whole-file checksum, every string and record, the class table and every
    /// trie node: an O(file) pass (GB/s) for a nightly pipeline or an operator, not for every
    /// open.
    ///
    /// # Errors
    /// [`OpenError::Checksum`] on a checksum mismatch, [`OpenError::Corrupt`] naming the
    /// section on anything inconsistent.
    pub fn verify(&self) -> Result<(), OpenError> {
        let b = self.bytes();
        let stored = header::read_u32(b, hdr::FILE_CRC);
        let computed = format::file_crc(b);
        if stored != computed {
            return Err(OpenError::Checksum { stored, computed });
        }
        crate::verify::contents(self)
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
        let leaf = self.trie::<V4>().lookup(u32::from(ip));
        Answer::new(self, IpAddr::V4(ip), leaf)
    }

    /// Looks up an IPv6 address. Never allocates, never panics.
    #[inline]
    pub fn lookup_v6(&self, ip: Ipv6Addr) -> Answer<'_> {
        if let Some(v4) = ip.to_ipv4_mapped() {
            return self.lookup_v4(v4);
        }
        let leaf = self.trie::<V6>().lookup(u128::from(ip));
        Answer::new(self, IpAddr::V6(ip), leaf)
    }

    /// Looks up many addresses, answering in input order: the same answers as
    /// [`Database::lookup`], computed in groups of [`BATCH`](crate::BATCH) whose memory accesses are
    /// staged (every top entry of the group, then every group member one trie level per pass,
    /// then the leaves), so that the group's cache misses overlap instead of following one
    /// another. Faster than a loop of single lookups when the index does not fit in the CPU
    /// caches (`cargo bench -p ipsieve-benches --bench lookup` measures both).
    ///
    /// Never allocates (the group lives inside the iterator), never panics.
    ///
    /// ```
    /// # let db = ipsieve::Database::from_bytes(include_bytes!("../tests/golden/v4.ipsieve"))?;
    /// let ips: Vec<std::net::IpAddr> = vec!["185.220.101.1".parse()?, "192.0.2.1".parse()?];
    /// let tor = db.lookup_many(ips.iter().copied()).filter(|a| a.is_tor()).count();
    /// assert_eq!(tor, 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lookup_many<I: IntoIterator<Item = IpAddr>>(
        &self,
        ips: I,
    ) -> LookupMany<'_, I::IntoIter> {
        LookupMany::new(self, ips.into_iter())
    }

    /// The prefix length of the widest network around `ip` that shares its answer.
    pub(crate) fn network_len(&self, ip: IpAddr) -> u8 {
        match ip {
            IpAddr::V4(a) => self.trie::<V4>().network(u128::from(u32::from(a))),
            IpAddr::V6(a) => self.trie::<V6>().network(u128::from(a)),
        }
    }

    /// First and last address (as integers of the family) of the maximal range around `x`
    /// whose leaf value is `leaf`.
    pub(crate) fn bounds(&self, ip: IpAddr, leaf: u32) -> (u128, u128) {
        match ip {
            IpAddr::V4(a) => bounds_in(self.trie::<V4>(), u128::from(u32::from(a)), leaf),
            IpAddr::V6(a) => bounds_in(self.trie::<V6>(), u128::from(a), leaf),
        }
    }

    /// Every maximal range of addresses that share one answer, in address order: all of IPv4,
    /// then all of IPv6 but `::ffff:0:0/96` (which answers as IPv4). Unknown space is included,
    /// with the empty answer. Like maxminddb's `within`; see [`Database::within`] for part of
    /// the space.
    ///
    /// ```
    /// # let db = ipsieve::Database::from_bytes(include_bytes!("../tests/golden/v4.ipsieve"))?;
    /// let tor: Vec<_> = db.ranges().filter(|r| r.answer.is_tor()).map(|r| r.first).collect();
    /// assert!(tor.contains(&"185.220.101.1".parse()?));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn ranges(&self) -> Ranges<'_> {
        Ranges {
            db: self,
            v4: Some((0, u128::from(u32::MAX))),
            v6: Some((0, u128::MAX)),
        }
    }

    /// The maximal ranges sharing one answer within `net` (clipped to it), in address order.
    /// An IPv6 network inside `::ffff:0:0/96` yields the IPv4 ranges it maps to.
    pub fn within(&self, net: IpNet) -> Ranges<'_> {
        let (v4, v6) = match net {
            IpNet::V4(n) => (
                Some((
                    u128::from(u32::from(n.network())),
                    u128::from(u32::from(n.broadcast())),
                )),
                None,
            ),
            IpNet::V6(n) => {
                let (lo, hi) = (u128::from(n.network()), u128::from(n.broadcast()));
                if lo >= MAPPED.0 && hi <= MAPPED.1 {
                    (Some((lo - MAPPED.0, hi - MAPPED.0)), None)
                } else {
                    (None, Some((lo, hi)))
                }
            }
        };
        Ranges { db: self, v4, v6 }
    }
}

/// `::ffff:0:0/96`, the IPv4-mapped block, as integers.
const MAPPED: (u128, u128) = (0xffff_0000_0000, 0xffff_ffff_ffff);

/// The range around `x` whose leaf is `leaf`, within `trie`'s family.
fn bounds_in<F: Family>(trie: Trie<'_, F>, x: u128, leaf: u32) -> (u128, u128) {
    let lo = trie.next_change(x, leaf, false).map_or(0, |c| c + 1);
    let hi = trie.next_change(x, leaf, true).map_or(F::LAST, |c| c - 1);
    (lo.min(x), hi.max(x))
}

/// One maximal range of addresses with the same answer: see [`Database::ranges`].
#[derive(Debug, Clone, Copy)]
pub struct Range<'a> {
    /// First address.
    pub first: IpAddr,
    /// Last address (inclusive).
    pub last: IpAddr,
    /// The answer of every address in the range (its [`Answer::ip`] is `first`).
    pub answer: Answer<'a>,
}

/// Iterator of [`Database::ranges`] and [`Database::within`].
#[derive(Debug, Clone)]
pub struct Ranges<'a> {
    db: &'a Database,
    /// What is left to walk of each family, as integers (first, last).
    v4: Option<(u128, u128)>,
    v6: Option<(u128, u128)>,
}

impl<'a> Ranges<'a> {
    /// The next range of `F` from `span`, advancing it.
    fn next_in<F: Family>(
        db: &'a Database,
        span: &mut Option<(u128, u128)>,
        addr: fn(u128) -> IpAddr,
    ) -> Option<Range<'a>> {
        let (mut x, end) = (*span)?;
        if F::BITS == 128 && (MAPPED.0..=MAPPED.1).contains(&x) {
            if end <= MAPPED.1 {
                *span = None;
                return None;
            }
            x = MAPPED.1 + 1;
        }
        let trie = db.trie::<F>();
        let leaf = trie.lookup(F::narrow(x));
        let mut last = trie
            .next_change(x, leaf, true)
            .map_or(F::LAST, |c| c - 1)
            .max(x)
            .min(end);
        if F::BITS == 128 && x < MAPPED.0 && last >= MAPPED.0 {
            last = MAPPED.0 - 1;
        }
        *span = (last < end).then(|| (last + 1, end));
        Some(Range {
            first: addr(x),
            last: addr(last),
            answer: Answer::new(db, addr(x), leaf),
        })
    }
}

impl<'a> Iterator for Ranges<'a> {
    type Item = Range<'a>;

    fn next(&mut self) -> Option<Range<'a>> {
        if let Some(r) = Self::next_in::<V4>(self.db, &mut self.v4, |x| {
            IpAddr::V4(Ipv4Addr::from(x as u32))
        }) {
            return Some(r);
        }
        Self::next_in::<V6>(self.db, &mut self.v6, |x| IpAddr::V6(Ipv6Addr::from(x)))
    }
}

impl Database {
    /// The record's words; the empty record when out of range (never after validation).
    #[inline(always)]
    pub(crate) fn record(&self, leaf_value: u32) -> &[u32; rec::WORDS] {
        let i = leaf::record(leaf_value) as usize;
        self.cell
            .borrow_dependent()
            .records
            .get(i)
            .unwrap_or(&EMPTY_RECORD)
    }

    /// The hot entry (ASN, country) of a leaf value's record: 8 bytes of the dense column
    /// rather than the record's line.
    #[inline(always)]
    pub(crate) fn hot(&self, leaf_value: u32) -> &[u32; hot::WORDS] {
        const NOTHING: [u32; hot::WORDS] = [0; hot::WORDS];
        let i = leaf::record(leaf_value) as usize;
        self.cell.borrow_dependent().hot.get(i).unwrap_or(&NOTHING)
    }

    /// The summary class word of a leaf value, or `None` when the leaf says "read the
    /// record" (or names a class past the table: never after `verify`).
    #[inline(always)]
    pub(crate) fn class(&self, leaf_value: u32) -> Option<u32> {
        let classes = self.cell.borrow_dependent().classes;
        classes.get(leaf::class(leaf_value) as usize).copied()
    }

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
        // Checked as UTF-8 by `verify`; this re-check is O(len) on short strings and keeps the
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
        (0..self.layout.source_count).filter_map(move |i| self.source(i))
    }

    /// Build metadata as (key, value) pairs: builder version, input digests and the like.
    pub fn metadata(&self) -> impl Iterator<Item = (&str, &str)> + '_ {
        let meta: &[u32] = self.slice(Section::Meta);
        meta.chunks_exact(2)
            .filter_map(move |kv| Some((self.string(kv[0])?, self.string(kv[1])?)))
    }

    /// Build time, Unix seconds (UTC).
    pub fn build_time(&self) -> u64 {
        self.layout.build_time
    }

    /// The artifact's data day (days since 1970-01-01): the newest snapshot date among its
    /// sources, or the build day if earlier. Each signal's evidence ages from its source's
    /// snapshot to this day ([`crate::Signal::age_days`], [`crate::classify::data_day`]).
    pub fn data_day(&self) -> u32 {
        self.data_day
    }

    /// The artifact's format version (major, minor).
    pub fn format_version(&self) -> (u16, u16) {
        self.layout.version
    }

    /// Size of the artifact in bytes.
    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Always false: a valid artifact has at least a header. Present for API symmetry.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of distinct records.
    pub fn record_count(&self) -> usize {
        self.layout.record_count
    }

    /// Number of strings in the string table.
    pub(crate) fn string_count(&self) -> usize {
        self.layout.string_count
    }

    /// Number of source sets.
    pub(crate) fn set_count(&self) -> usize {
        self.layout.set_count
    }

    /// Size in bytes of a section (for reports and benchmarks).
    pub fn section_size(&self, s: Section) -> usize {
        self.layout.len(s)
    }

    #[doc(hidden)]
    pub fn raw_slice<T: bytemuck::Pod>(&self, s: Section) -> &[T] {
        self.slice(s)
    }
}

/// The summary of a record computed from the record itself (for leaves whose class says "read
/// the record"): categories, weak categories and verdict as a class word.
pub(crate) fn record_summary(db: &Database, r: &[u32; rec::WORDS]) -> u32 {
    let cats = Categories::from_bits(r[rec::CATEGORIES]);
    let weak = crate::classify::weak_categories(
        cats,
        db.source_set(r[rec::SOURCE_SET])
            .iter()
            .filter_map(|&i| db.source(i as usize))
            .map(|s| (s.categories(), s.tier())),
    );
    let verdict = (r[rec::COUNTRY_VERDICT_SCORE] >> 16) & 3;
    class::encode(cats.bits(), weak.bits(), verdict)
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
