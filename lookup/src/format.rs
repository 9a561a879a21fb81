//! The artifact's binary layout: the one definition shared by the reader (this crate) and the
//! writer (`ipsieve-builder`), so the two can never drift. `docs/FORMAT.md` is the prose spec.
//!
//! Everything is little-endian. The file is a 320-byte [`Header`] followed by sections, each
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
    /// `[u32; 65536]`: one entry per IPv4 /16 (see [`TOP_DIRECT`]).
    V4Top = 0,
    /// `[u16]`: per-chunk range starts (low 16 bits); each chunk begins with its key count.
    V4Keys = 1,
    /// `[u32]`: record index per range, parallel to [`Section::V4Keys`].
    V4Values = 2,
    /// `[u32; 65536]`: one entry per IPv6 /16.
    V6Top = 3,
    /// `[u64]`: per-chunk range starts (upper 64 address bits); each chunk begins with its count.
    V6Keys = 4,
    /// `[u32]`: record index, or [`V6_SUB`] | sub-chunk index, parallel to [`Section::V6Keys`].
    V6Values = 5,
    /// `[u64]`: per-/64 sub-chunk range starts (lower 64 bits); each begins with its count.
    V6SubKeys = 6,
    /// `[u32]`: record index per sub-range, parallel to [`Section::V6SubKeys`].
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
    /// Reserved; offset and length are zero in this version.
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
/// IPv6 chunk value flag: the /64 has internal boundaries; the rest is a sub-chunk index.
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
