//! The fixed header and the section directory: what open checks before anything else, in time
//! independent of the data's size.

use crate::error::OpenError;
use crate::format::{
    self, hdr, hot, rec, src, Section, DIRECTORY_SLOTS, HEADER_LEN, NONE, SECTION_COUNT,
};
use crate::types::Tier;

fn read_u16(b: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([b[at], b[at + 1]])
}
pub(crate) fn read_u32(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}
fn read_u64(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// Checks the header alone: magic, byte order, header checksum, version, header shape, and
/// that the length it declares is `file_len`. Enough to refuse a file that is not an artifact
/// of this major version before reading the rest of it.
pub(crate) fn check_prefix(b: &[u8], file_len: u64) -> Result<(), OpenError> {
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
    let (major, minor) = (read_u16(b, hdr::MAJOR), read_u16(b, hdr::MINOR));
    if major != format::FORMAT_MAJOR {
        return Err(OpenError::UnsupportedVersion { major, minor });
    }
    if read_u32(b, hdr::HEADER_LEN) as usize != HEADER_LEN {
        return Err(OpenError::Header("header length is not 384"));
    }
    if !(SECTION_COUNT..=DIRECTORY_SLOTS).contains(&(read_u32(b, hdr::SECTION_COUNT) as usize)) {
        return Err(OpenError::Header("section count is not in 17..=20"));
    }
    let expected = read_u64(b, hdr::FILE_LEN);
    if expected != file_len {
        return Err(OpenError::LengthMismatch {
            expected,
            found: file_len,
        });
    }
    Ok(())
}

/// What the header says, with every section's byte range checked against the file.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// Byte range of each section within the file.
    pub sections: [(usize, usize); SECTION_COUNT],
    pub build_time: u64,
    pub version: (u16, u16),
    pub record_count: usize,
    pub string_count: usize,
    pub source_count: usize,
    pub set_count: usize,
}

impl Layout {
    /// Parses and checks the header and directory of the whole file `b`, then the sizes and
    /// cross-references of every table but the two tries (whose top tables the index checks).
    pub(crate) fn read(b: &[u8]) -> Result<Layout, OpenError> {
        check_prefix(b, b.len() as u64)?;
        let layout = Layout {
            sections: read_directory(b)?,
            build_time: read_u64(b, hdr::BUILD_TIME),
            version: (read_u16(b, hdr::MAJOR), read_u16(b, hdr::MINOR)),
            record_count: read_u32(b, hdr::RECORD_COUNT) as usize,
            string_count: read_u32(b, hdr::STRING_COUNT) as usize,
            source_count: read_u32(b, hdr::SOURCE_COUNT) as usize,
            set_count: read_u32(b, hdr::SET_COUNT) as usize,
        };
        layout.validate_tables(b)?;
        Ok(layout)
    }

    /// Length in bytes of section `s`.
    pub(crate) fn len(&self, s: Section) -> usize {
        let (a, e) = self.sections[s as usize];
        e - a
    }

    /// Section `s` of `b` as a slice of `T`; empty if the view is impossible (never the case
    /// after validation).
    #[inline(always)]
    pub(crate) fn slice<'b, T: bytemuck::Pod>(&self, b: &'b [u8], s: Section) -> &'b [T] {
        let (a, e) = self.sections[s as usize];
        match b.get(a..e) {
            Some(bytes) => bytemuck::try_cast_slice(bytes).unwrap_or(&[]),
            None => &[],
        }
    }

    /// Structural checks at open of everything but the tries: section sizes against the
    /// header's counts, the string offsets' ends, sources, source sets, metadata and the class
    /// table. O(sources + sets + classes), independent of the number of ranges, records and
    /// strings (those are checked by `verify`).
    fn validate_tables(&self, b: &[u8]) -> Result<(), OpenError> {
        let sec = Section::name;
        for (s, bytes) in [
            (Section::V4Top, 4usize << format::trie::V4_TOP_BITS),
            (Section::V6Top, 4usize << format::trie::V6_TOP_BITS),
            (Section::V4Spans, 1usize << format::trie::V4_TOP_BITS),
            (Section::V6Spans, 1usize << format::trie::V6_TOP_BITS),
        ] {
            if self.len(s) != bytes {
                return Err(OpenError::section(
                    sec(s),
                    format!("length {} is not {bytes}", self.len(s)),
                ));
            }
        }
        for s in [Section::V4Nodes, Section::V6Nodes] {
            if self.len(s) / s.elem_size() >= format::trie::NODE as usize {
                return Err(OpenError::section(sec(s), "more than 2^31 nodes"));
            }
        }
        for s in [Section::V4Leaves, Section::V6Leaves] {
            if self.len(s) / 4 > u32::MAX as usize {
                return Err(OpenError::section(sec(s), "more than 2^32 leaves"));
            }
        }
        if self.len(Section::Classes) / 4 > format::leaf::MAX_CLASSES {
            return Err(OpenError::section(
                sec(Section::Classes),
                format!("more than {} classes", format::leaf::MAX_CLASSES),
            ));
        }
        let expect = |s: Section, words: usize| -> Result<(), OpenError> {
            let len = self.len(s);
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
        expect(Section::Hot, self.record_count * hot::WORDS)?;
        expect(Section::StrOffsets, self.string_count + 1)?;
        expect(Section::Sources, self.source_count * src::WORDS)?;
        expect(Section::SetOffsets, self.set_count + 1)?;

        // Record 0 is the empty answer and class 0 the empty summary: what a lookup that falls
        // off a corrupt structure answers.
        let records: &[u32] = self.slice(b, Section::Records);
        if records.get(..rec::WORDS) != Some(&crate::answer::EMPTY_RECORD[..]) {
            return Err(OpenError::corrupt(
                sec(Section::Records),
                "record 0 is not the empty record",
            ));
        }
        let classes: &[u32] = self.slice(b, Section::Classes);
        if classes.first().is_some_and(|&c| c != 0) {
            return Err(OpenError::corrupt(
                sec(Section::Classes),
                "class 0 is not the empty summary",
            ));
        }

        // Strings: the offsets span the blob (their order and UTF-8 are checked by `verify`;
        // `string()` re-checks each string it returns).
        let offs: &[u32] = self.slice(b, Section::StrOffsets);
        if offs.first() != Some(&0)
            || offs.last().map(|&e| e as usize) != Some(self.len(Section::StrBlob))
        {
            return Err(OpenError::corrupt(
                sec(Section::StrOffsets),
                "offsets do not span the blob",
            ));
        }
        let string_ok = |i: u32| i == NONE || (i as usize) < self.string_count;

        // Source sets.
        let set_offs: &[u32] = self.slice(b, Section::SetOffsets);
        let items: &[u32] = self.slice(b, Section::SetItems);
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
        let sources: &[u32] = self.slice(b, Section::Sources);
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
        let meta: &[u32] = self.slice(b, Section::Meta);
        if meta.len() % 2 != 0 || !meta.iter().all(|&i| i != NONE && string_ok(i)) {
            return Err(OpenError::corrupt(
                sec(Section::Meta),
                "bad key/value string index",
            ));
        }
        Ok(())
    }
}

/// Reads the section directory and checks bounds, alignment, element size and overlap; a
/// section of length 0 must have offset 0. Entries a later minor version added (past this
/// version's sections, within the header's count) get the same checks but for the element
/// size, and are otherwise ignored; entries past the count must be zero.
fn read_directory(b: &[u8]) -> Result<[(usize, usize); SECTION_COUNT], OpenError> {
    let entry = |i: usize| {
        let at = hdr::DIRECTORY + 16 * i;
        (read_u64(b, at), read_u64(b, at + 8))
    };
    let used = read_u32(b, hdr::SECTION_COUNT) as usize;
    if (used..DIRECTORY_SLOTS).any(|i| entry(i) != (0, 0)) {
        return Err(OpenError::Header(
            "a directory entry past the section count is not zero",
        ));
    }
    let mut spans: Vec<(usize, usize, usize)> = Vec::with_capacity(used);
    for i in SECTION_COUNT..used {
        let (off, len) = entry(i);
        let checked =
            check_entry(b, off, len, 1).map_err(|why| OpenError::section(LATER_SECTION, why))?;
        if let Some((a, e)) = checked {
            spans.push((a, e, i));
        }
    }
    let mut out = [(0usize, 0usize); SECTION_COUNT];
    for s in Section::ALL {
        let (off, len) = entry(s as usize);
        let checked = check_entry(b, off, len, s.elem_size())
            .map_err(|why| OpenError::section(s.name(), why))?;
        if let Some(range) = checked {
            out[s as usize] = range;
            spans.push((range.0, range.1, s as usize));
        }
    }
    // Ties in directory order, so that of two sections at one offset the later is named.
    spans.sort_unstable_by_key(|&(a, _, i)| (a, i));
    let name = |i: usize| Section::ALL.get(i).map_or(LATER_SECTION, |s| s.name());
    for w in spans.windows(2) {
        if w[1].0 < w[0].1 {
            return Err(OpenError::section(
                name(w[1].2),
                format!("overlaps section '{}'", name(w[0].2)),
            ));
        }
    }
    Ok(out)
}

/// How errors name a section that a later minor version added.
const LATER_SECTION: &str = "section of a later minor version";

/// Checks one directory entry against the file: `None` for an absent section (length 0,
/// offset 0), else its byte range.
fn check_entry(
    b: &[u8],
    off: u64,
    len: u64,
    elem_size: usize,
) -> Result<Option<(usize, usize)>, String> {
    let end = off
        .checked_add(len)
        .filter(|&e| e <= b.len() as u64)
        .ok_or_else(|| {
            format!(
                "offset {off} + length {len} lies outside the {}-byte file",
                b.len()
            )
        })?;
    if len == 0 {
        if off != 0 {
            return Err(format!("absent (length 0) but its offset is {off}, not 0"));
        }
        return Ok(None);
    }
    if off < HEADER_LEN as u64 {
        return Err("overlaps the header".to_owned());
    }
    if off % format::SECTION_ALIGN as u64 != 0 {
        return Err(format!("offset {off} is not 64-byte aligned"));
    }
    if len % elem_size as u64 != 0 {
        return Err(format!("length {len} is not a multiple of {elem_size}"));
    }
    Ok(Some((off as usize, end as usize)))
}
