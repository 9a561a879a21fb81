//! The artifact's binary layout: the one definition shared by the reader (this crate) and the
//! writer (`ipsieve-builder`), so the two can never drift. `docs/FORMAT.md` is the prose spec.
//!
//! Everything is little-endian. The file is a 320-byte header ([`hdr`]) followed by sections, each
//! starting on a 64-byte boundary, each a flat array of one integer type.

/// First eight bytes of every artifact. The high byte and the CR LF / SUB bytes catch files
/// mangled by text-mode transfers, as in PNG.
pub const MAGIC: [u8; 8] = *b"\x89IPSV\r\n\x1a";
/// Written as a native `u32`; reads back as this value only on a little-endian host.
pub const ENDIAN_PROBE: u32 = 0x0A0B_0C0D;
/// Incompatible layout changes bump the major version; readers refuse other majors.
pub const FORMAT_MAJOR: u16 = 1;
/// Compatible additions bump the minor version; readers accept any minor of their major.
pub const FORMAT_MINOR: u16 = 0;
/// Size of the fixed header in bytes (a multiple of 64, so sections stay aligned).
pub const HEADER_LEN: usize = 320;
/// Alignment of every section's offset.
pub const SECTION_ALIGN: usize = 64;
/// Number of entries in the section directory.
pub const SECTION_COUNT: usize = 16;

const _: () = assert!(HEADER_LEN == 64 + SECTION_COUNT * 16);
const _: () = assert!(HEADER_LEN % 64 == 0);

/// The sections, in directory order. The directory gives each an (offset, length in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Section {
    /// `[u32; 65536]`: one entry per IPv4 /16: a direct entry ([`TOP_DIRECT`]) or a [`tree`]
    /// reference into [`Section::V4Keys`].
    V4Top = 0,
    /// `[u16]`: chunk trees over the low 16 bits of IPv4 range starts, stored as `start - 1`,
    /// padded with `0xFFFF` (see [`tree`]).
    V4Keys = 1,
    /// `[u32]`: record index per key slot, parallel to [`Section::V4Keys`].
    V4Values = 2,
    /// `[u32; 65536]`: one entry per IPv6 /16, as [`Section::V4Top`].
    V6Top = 3,
    /// `[u64]`: chunk trees over the upper 64 bits of IPv6 range starts (`start - 1`, padded
    /// with `u64::MAX`).
    V6Keys = 4,
    /// `[u32]`: record index, or [`V6_SUB`] | a tree reference into [`Section::V6SubKeys`],
    /// per key slot, parallel to [`Section::V6Keys`].
    V6Values = 5,
    /// `[u64]`: trees over the lower 64 bits of range starts inside one /64 (`start - 1`).
    V6SubKeys = 6,
    /// `[u32]`: record index per key slot, parallel to [`Section::V6SubKeys`].
    V6SubValues = 7,
    /// `[u32; 8 * n]`: the distinct records (see [`rec`]). Record 0 is the empty answer.
    Records = 8,
    /// `[u32; n + 1]`: byte offsets of each string in [`Section::StrBlob`].
    StrOffsets = 9,
    /// UTF-8 bytes of all strings, back to back.
    StrBlob = 10,
    /// `[u32; 8 * n]`: the source table (see [`src`]).
    Sources = 11,
    /// `[u32; m + 1]`: offsets of each source set in [`Section::SetItems`].
    SetOffsets = 12,
    /// `[u32]`: source indices of all source sets, back to back, ascending within a set.
    SetItems = 13,
    /// `[u32; 2 * k]`: build metadata as (key string, value string) pairs.
    Meta = 14,
    /// Reserved for a compatible addition; offset and length are zero in this version.
    Reserved = 15,
}

impl Section {
    /// All sections in directory order.
    pub const ALL: [Section; SECTION_COUNT] = [
        Section::V4Top,
        Section::V4Keys,
        Section::V4Values,
        Section::V6Top,
        Section::V6Keys,
        Section::V6Values,
        Section::V6SubKeys,
        Section::V6SubValues,
        Section::Records,
        Section::StrOffsets,
        Section::StrBlob,
        Section::Sources,
        Section::SetOffsets,
        Section::SetItems,
        Section::Meta,
        Section::Reserved,
    ];

    /// Size in bytes of one element of this section's array.
    pub const fn elem_size(self) -> usize {
        match self {
            Section::V4Keys => 2,
            Section::V6Keys | Section::V6SubKeys => 8,
            Section::StrBlob | Section::Reserved => 1,
            _ => 4,
        }
    }

    /// True for the sections of the two address indexes (top tables, keys, values).
    pub const fn is_index(self) -> bool {
        (self as usize) <= Section::V6SubValues as usize
    }

    /// Lowercase name used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Section::V4Top => "ipv4 top table",
            Section::V4Keys => "ipv4 keys",
            Section::V4Values => "ipv4 values",
            Section::V6Top => "ipv6 top table",
            Section::V6Keys => "ipv6 keys",
            Section::V6Values => "ipv6 values",
            Section::V6SubKeys => "ipv6 sub-keys",
            Section::V6SubValues => "ipv6 sub-values",
            Section::Records => "records",
            Section::StrOffsets => "string offsets",
            Section::StrBlob => "string blob",
            Section::Sources => "sources",
            Section::SetOffsets => "source-set offsets",
            Section::SetItems => "source-set items",
            Section::Meta => "metadata",
            Section::Reserved => "reserved",
        }
    }
}

/// Entries in each top table (one per /16).
pub const TOP_ENTRIES: usize = 1 << 16;
/// Top-table flag: the whole /16 (and an aligned block of `2^span` neighbours) is one record.
pub const TOP_DIRECT: u32 = 1 << 31;
/// Bit position of the span exponent (0..=16) in a direct top entry.
pub const TOP_SPAN_SHIFT: u32 = 26;
/// Mask of the record index in a direct top entry.
pub const TOP_RECORD_MASK: u32 = (1 << TOP_SPAN_SHIFT) - 1;
/// Largest record count the format can address (record indices are 26-bit in top entries).
pub const MAX_RECORDS: usize = TOP_RECORD_MASK as usize + 1;
/// IPv6 value flag: the /64 has internal boundaries; the rest is a [`tree`] reference into
/// [`Section::V6SubKeys`].
pub const V6_SUB: u32 = 1 << 31;

/// Encodes a direct top entry.
pub const fn top_direct(record: u32, span: u32) -> u32 {
    TOP_DIRECT | (span << TOP_SPAN_SHIFT) | (record & TOP_RECORD_MASK)
}

/// No string / no source set: the "absent" index.
pub const NONE: u32 = u32::MAX;

/// Record layout: eight `u32` words per record.
pub mod rec {
    /// Words per record.
    pub const WORDS: usize = 8;
    /// Bytes per record.
    pub const BYTES: usize = WORDS * 4;
    /// Category bits ([`crate::Categories`]).
    pub const CATEGORIES: usize = 0;
    /// Origin ASN; meaningful only when [`FLAG_HAS_ASN`] is set.
    pub const ASN: usize = 1;
    /// String index of the AS organisation, or [`crate::format::NONE`].
    pub const AS_ORG: usize = 2;
    /// String index of the provider, or [`crate::format::NONE`].
    pub const PROVIDER: usize = 3;
    /// Bits 0..16: ISO country code as two ASCII bytes (0 = none); 16..24: verdict; 24..32:
    /// score in hundredths (0..=100).
    pub const COUNTRY_VERDICT_SCORE: usize = 4;
    /// Index of the set of matching sources, or [`crate::format::NONE`] for none.
    pub const SOURCE_SET: usize = 5;
    /// Flag bits ([`FLAG_HAS_ASN`]).
    pub const FLAGS: usize = 6;
    /// Reserved, zero.
    pub const RESERVED: usize = 7;
    /// Set when the record carries an ASN.
    pub const FLAG_HAS_ASN: u32 = 1;
}

/// Source-table layout: eight `u32` words per source.
pub mod src {
    /// Words per source.
    pub const WORDS: usize = 8;
    /// String index of the source's unique name.
    pub const NAME: usize = 0;
    /// String index of the input format (parser) name.
    pub const FORMAT: usize = 1;
    /// Category bits the source asserts.
    pub const CATEGORIES: usize = 2;
    /// Bits 0..8: evidence tier ([`crate::Tier`]); 8..16: weight in hundredths.
    pub const TIER_WEIGHT: usize = 3;
    /// Snapshot date of the data, days since 1970-01-01, or [`crate::format::NONE`].
    pub const SNAPSHOT_DAY: usize = 4;
    /// String index of the licence statement, or `NONE`.
    pub const LICENCE: usize = 5;
    /// String index of the upstream URL, or `NONE`.
    pub const URL: usize = 6;
    /// String index of the provider display name, or `NONE`.
    pub const PROVIDER: usize = 7;
}

/// Byte offsets of the header fields.
pub mod hdr {
    /// `[u8; 8]` [`super::MAGIC`].
    pub const MAGIC: usize = 0;
    /// `u32` [`super::ENDIAN_PROBE`].
    pub const ENDIAN: usize = 8;
    /// `u16` major version.
    pub const MAJOR: usize = 12;
    /// `u16` minor version.
    pub const MINOR: usize = 14;
    /// `u32` header length.
    pub const HEADER_LEN: usize = 16;
    /// `u32` number of directory entries.
    pub const SECTION_COUNT: usize = 20;
    /// `u64` total file length.
    pub const FILE_LEN: usize = 24;
    /// `u64` build time, Unix seconds.
    pub const BUILD_TIME: usize = 32;
    /// `u32` CRC-32 (IEEE) of the whole file with this field zeroed.
    pub const FILE_CRC: usize = 40;
    /// `u32` CRC-32 of the header with this field and [`FILE_CRC`] zeroed.
    pub const HEADER_CRC: usize = 44;
    /// `u32` number of records.
    pub const RECORD_COUNT: usize = 48;
    /// `u32` number of strings.
    pub const STRING_COUNT: usize = 52;
    /// `u32` number of sources.
    pub const SOURCE_COUNT: usize = 56;
    /// `u32` number of source sets.
    pub const SET_COUNT: usize = 60;
    /// Start of the section directory: `SECTION_COUNT` × (`u64` offset, `u64` length).
    pub const DIRECTORY: usize = 64;
}

/// CRC-32 of `header` (at least [`HEADER_LEN`] bytes) with both checksum fields read as zero.
pub fn header_crc(header: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&header[..hdr::FILE_CRC]);
    h.update(&[0u8; 8]);
    h.update(&header[hdr::HEADER_CRC + 4..HEADER_LEN]);
    h.finalize()
}

/// CRC-32 of a whole artifact with the file checksum field read as zero.
pub fn file_crc(file: &[u8]) -> u32 {
    let mut h = crc32fast::Hasher::new();
    h.update(&file[..hdr::FILE_CRC]);
    h.update(&[0u8; 4]);
    h.update(&file[hdr::FILE_CRC + 4..]);
    h.finalize()
}

pub mod tree {
    //! Chunk trees: how the ranges inside one /16 (or one IPv6 /64) are laid out.
    //!
    //! A chunk with `n` boundaries has keys `k[0] < … < k[n-1]`, each a range start minus one,
    //! and `n + 1` values (value `g` belongs to the range after the `g`-th boundary). A lookup of
    //! `x` counts the keys below `x` (`g`), reads value `g`, and takes the range's bounds from
    //! `k[g-1] + 1` and `k[g]`.
    //!
    //! Keys live in *slots*; a *line* is 64 bytes of slots (`B` = 32 `u16` or 8 `u64`), aligned to
    //! 64 bytes in the file; values are parallel to slots (value of slot `i` at index `i`). Unused
    //! slots hold [`Key::PAD`], which is never below any probe, so a node's keys and padding
    //! ascend and are searched by a fixed-length, branch-free binary search within the line:
    //! one cache line per level, nothing to mispredict.
    //!
    //! * **Leaf chunk** (`n + 1 <= B`): the keys, then padding, in a leaf of a quarter, half or
    //!   whole line (class 0, 1, 2: the smallest with more than `n` slots), aligned to its own
    //!   size. Reference: [`LEAF`] | class << [`LEAF_CLASS_SHIFT`] | offset in 16-byte units.
    //!   Value `g` is at the leaf's first slot + `g`.
    //! * **Multi-level chunk**: a static B+ tree of whole lines ([`layout`]). Leaves hold every
    //!   key in order, padded to at least `n + 1` slots. Each internal node has `B` children: its
    //!   first `B - 1` slots are the first keys of children 1..B (padding when absent) and its
    //!   last slot is the line distance from the node to its first child; children are
    //!   consecutive lines. Levels are stored root first, leaves last. Reference: height
    //!   (2..=[`MAX_HEIGHT`]) << [`HEIGHT_SHIFT`] | line index of the root. Value `g` is at the
    //!   first leaf's first slot + `g`.
    //!
    //! A corrupt tree can only make a lookup read a wrong slot or fall off the array (answered as
    //! "no data"): every descent is bounded by the height, and every read is bounds-checked.

    /// Bytes in a line, the unit of nodes and of alignment.
    pub const LINE_BYTES: usize = 64;
    /// Bytes in the unit of a leaf reference's offset (a quarter line).
    pub const UNIT_BYTES: usize = 16;
    /// Reference flag: a single-leaf chunk (else a multi-level tree).
    pub const LEAF: u32 = 1 << 30;
    /// Bit position of a leaf reference's width class (0, 1, 2).
    pub const LEAF_CLASS_SHIFT: u32 = 28;
    /// Mask of a leaf reference's offset.
    pub const LEAF_OFFSET_MASK: u32 = (1 << LEAF_CLASS_SHIFT) - 1;
    /// Bit position of a multi-level reference's height.
    pub const HEIGHT_SHIFT: u32 = 26;
    /// Mask of a multi-level reference's root line.
    pub const ROOT_MASK: u32 = (1 << HEIGHT_SHIFT) - 1;
    /// Most levels (internal plus leaf) of a multi-level tree.
    pub const MAX_HEIGHT: u32 = 15;

    /// A key type of a chunk tree: `u16` (IPv4 low halves) or `u64` (IPv6 halves).
    pub trait Key: bytemuck::Pod + Ord + std::fmt::Debug {
        /// Filler of unused slots: the largest value, never below any probe.
        const PAD: Self;
        /// Slots per 64-byte line.
        const PER_LINE: usize;

        /// Number of slots `from..from + width` of `line` below `x`, where those slots ascend
        /// (padding last). Branch-free, one cache line, a fixed number of steps whatever the
        /// width, so nothing mispredicts on the data or on the leaf's size.
        #[doc(hidden)]
        fn count_below_in(line: &[u8; LINE_BYTES], from: usize, width: usize, x: Self) -> usize;

        /// Slot `i % PER_LINE` of a little-endian line.
        #[doc(hidden)]
        fn slot(line: &[u8; LINE_BYTES], i: usize) -> Self;

        /// `self + 1`, or `None` at the type's maximum.
        #[doc(hidden)]
        fn succ(self) -> Option<Self>;

        /// The key in slot `slot` of little-endian `bytes`, or `None` past the end.
        #[doc(hidden)]
        fn read(bytes: &[u8], slot: usize) -> Option<Self>;

        /// The line of `bytes` that starts at slot `slot`, or `None` when it is not inside.
        #[doc(hidden)]
        fn read_line(bytes: &[u8], slot: usize) -> Option<&[u8; LINE_BYTES]>;

        /// The key read as a line distance (an internal node's last slot).
        #[doc(hidden)]
        fn to_distance(self) -> usize;

        /// A line distance as a key, or `None` when it does not fit.
        #[doc(hidden)]
        fn from_distance(d: usize) -> Option<Self>;
    }

    macro_rules! key_impl {
        ($t:ty, $per_line:expr) => {
            impl Key for $t {
                const PAD: $t = <$t>::MAX;
                const PER_LINE: usize = $per_line;

                #[inline(always)]
                fn count_below_in(
                    line: &[u8; LINE_BYTES],
                    from: usize,
                    width: usize,
                    x: $t,
                ) -> usize {
                    // Branch-free binary search over the window `from..from + width` of one
                    // cache line (sorted, padding after the keys), with slots past the window
                    // read as "not below". The line holds a power of two of slots, so the trip
                    // count is fixed (log2 + 1 compares, all in one line).
                    const W: usize = LINE_BYTES / std::mem::size_of::<$t>();
                    let end = from + width;
                    let mut pos = from;
                    let mut step = W / 2;
                    while step > 0 {
                        let i = pos + step - 1;
                        let below = (i < end) & (Self::slot(line, i) < x);
                        pos += if below { step } else { 0 };
                        step /= 2;
                    }
                    let below = (pos < end) & (Self::slot(line, pos) < x);
                    pos + usize::from(below) - from
                }

                #[inline(always)]
                fn slot(line: &[u8; LINE_BYTES], i: usize) -> $t {
                    const S: usize = std::mem::size_of::<$t>();
                    const W: usize = LINE_BYTES / S;
                    let at = (i % W) * S;
                    let mut b = [0u8; S];
                    b.copy_from_slice(&line[at..at + S]);
                    <$t>::from_le_bytes(b)
                }

                #[inline(always)]
                fn succ(self) -> Option<$t> {
                    self.checked_add(1)
                }

                #[inline(always)]
                fn read(bytes: &[u8], slot: usize) -> Option<$t> {
                    const S: usize = std::mem::size_of::<$t>();
                    let b = bytes.get(slot.checked_mul(S)?..)?.first_chunk::<S>()?;
                    Some(<$t>::from_le_bytes(*b))
                }

                #[inline(always)]
                fn read_line(bytes: &[u8], slot: usize) -> Option<&[u8; LINE_BYTES]> {
                    const S: usize = std::mem::size_of::<$t>();
                    bytes.get(slot.checked_mul(S)?..)?.first_chunk()
                }

                #[inline(always)]
                fn to_distance(self) -> usize {
                    usize::try_from(self).unwrap_or(usize::MAX)
                }

                fn from_distance(d: usize) -> Option<$t> {
                    <$t>::try_from(d).ok().filter(|&k| k != <$t>::MAX)
                }
            }
        };
    }
    key_impl!(u16, 32);
    key_impl!(u64, 8);

    /// Slots of a leaf of width class `class` (0, 1, 2) for key type `K`.
    pub const fn leaf_width<K: Key>(class: u32) -> usize {
        (K::PER_LINE / 4) << class
    }

    /// Slots per leaf-reference unit for key type `K`.
    pub const fn unit_slots<K: Key>() -> usize {
        UNIT_BYTES / std::mem::size_of::<K>()
    }

    /// A multi-level tree laid out for a chunk whose `n + 1` values do not fit one line.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Layout<K> {
        /// Every slot, root line first, leaves last.
        pub slots: Vec<K>,
        /// Number of levels (at least 2).
        pub height: u32,
        /// Line index of the first leaf, from the root's line.
        pub first_leaf: usize,
    }

    /// Lays out the multi-level tree of `keys` (ascending, below [`Key::PAD`]); `None` when
    /// `keys.len() + 1` fits one line (use a leaf) or the tree would exceed [`MAX_HEIGHT`].
    pub fn layout<K: Key>(keys: &[K]) -> Option<Layout<K>> {
        let b = K::PER_LINE;
        let leaves = (keys.len() + 1).div_ceil(b);
        if leaves <= 1 {
            return None;
        }
        // Level sizes bottom-up, then their first lines top-down.
        let mut sizes = vec![leaves];
        while sizes[sizes.len() - 1] > 1 {
            sizes.push(sizes[sizes.len() - 1].div_ceil(b));
        }
        sizes.reverse();
        let height = u32::try_from(sizes.len())
            .ok()
            .filter(|&h| h <= MAX_HEIGHT)?;
        let mut starts = Vec::with_capacity(sizes.len());
        let mut at = 0usize;
        for &s in &sizes {
            starts.push(at);
            at += s;
        }
        let mut slots = vec![K::PAD; at * b];
        let first_leaf = starts[starts.len() - 1];
        slots[first_leaf * b..first_leaf * b + keys.len()].copy_from_slice(keys);
        // Fill internal levels bottom-up from the first key of each node below.
        let mut firsts: Vec<K> = slots[first_leaf * b..].chunks(b).map(|c| c[0]).collect();
        for level in (0..sizes.len() - 1).rev() {
            let mut up = Vec::with_capacity(sizes[level]);
            for i in 0..sizes[level] {
                let line = starts[level] + i;
                let node = &mut slots[line * b..(line + 1) * b];
                for j in 1..b {
                    if let Some(&f) = firsts.get(i * b + j) {
                        node[j - 1] = f;
                    }
                }
                node[b - 1] = K::from_distance(starts[level + 1] + i * b - line)?;
                up.push(firsts[i * b]);
            }
            firsts = up;
        }
        Some(Layout {
            slots,
            height,
            first_leaf,
        })
    }
}
