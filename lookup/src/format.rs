//! The artifact's binary layout: the one definition shared by the reader (this crate) and the
//! writer (`ipsieve-builder`), so the two can never drift. `docs/FORMAT.md` is the prose spec.
//!
//! Everything is little-endian. The file is a 384-byte header ([`hdr`]) followed by sections, each
//! starting on a 64-byte boundary, each a flat array of one integer type.

/// First eight bytes of every artifact. The high byte and the CR LF / SUB bytes catch files
/// mangled by text-mode transfers, as in PNG.
pub const MAGIC: [u8; 8] = *b"\x89IPSV\r\n\x1a";
/// Written as a native `u32`; reads back as this value only on a little-endian host.
pub const ENDIAN_PROBE: u32 = 0x0A0B_0C0D;
/// Incompatible layout changes bump the major version; readers refuse other majors.
pub const FORMAT_MAJOR: u16 = 4;
/// Compatible additions bump the minor version; readers accept any minor of their major.
pub const FORMAT_MINOR: u16 = 0;
/// Size of the fixed header in bytes (a multiple of 64, so sections stay aligned).
pub const HEADER_LEN: usize = 384;
/// Alignment of every section's offset.
pub const SECTION_ALIGN: usize = 64;
/// Number of sections this version defines (the directory entries in use).
pub const SECTION_COUNT: usize = 17;
/// Entries the directory has room for: a later minor version adds sections in the spare
/// ones, which readers of an earlier minor check for bounds and overlap and otherwise ignore.
pub const DIRECTORY_SLOTS: usize = 20;

const _: () = assert!(HEADER_LEN == 64 + DIRECTORY_SLOTS * 16);
const _: () = assert!(SECTION_COUNT <= DIRECTORY_SLOTS);
const _: () = assert!(HEADER_LEN % 64 == 0);

/// The sections, in directory order. The directory gives each an (offset, length in bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(usize)]
pub enum Section {
    /// `[u32; 2^18]`: one entry per IPv4 /18: a [`leaf`] value, or [`trie::NODE`] | the index
    /// of the /18's root node in [`Section::V4Nodes`].
    V4Top = 0,
    /// `[u64; 8 * n]`: IPv4 trie nodes ([`trie`]: one 64-byte line each, no guard).
    V4Nodes = 1,
    /// `[u32]`: IPv4 leaf values ([`leaf`]) that do not fit inline in their node, each node's
    /// back to back.
    V4Leaves = 2,
    /// `[u32; 2^16]`: one entry per IPv6 /16, as [`Section::V4Top`].
    V6Top = 3,
    /// `[u64; 16 * n]`: IPv6 trie nodes (two 64-byte lines each, 256 slots, with a guard).
    V6Nodes = 4,
    /// `[u32]`: IPv6 leaf values.
    V6Leaves = 5,
    /// `[u32; c]`, `c <= 255`: the answer summaries that leaf values name ([`class`]).
    Classes = 6,
    /// `[u32; 8 * n]`: the distinct records (see [`rec`]). Record 0 is the empty answer.
    Records = 7,
    /// `[u32; n + 1]`: byte offsets of each string in [`Section::StrBlob`].
    StrOffsets = 8,
    /// UTF-8 bytes of all strings, back to back.
    StrBlob = 9,
    /// `[u32; 8 * n]`: the source table (see [`src`]).
    Sources = 10,
    /// `[u32; m + 1]`: offsets of each source set in [`Section::SetItems`].
    SetOffsets = 11,
    /// `[u32]`: source indices of all source sets, back to back, ascending within a set.
    SetItems = 12,
    /// `[u32; 2 * k]`: build metadata as (key string, value string) pairs.
    Meta = 13,
    /// `[u8; 2^18]`: per IPv4 top entry that is a leaf, `k` (0..=18) such that the aligned block
    /// of `2^k` top entries around it is the largest whose entries are all that same leaf; 0
    /// for node entries. Read only to work out an answer's network and range.
    V4Spans = 14,
    /// `[u8; 2^16]`: the same for the IPv6 top table.
    V6Spans = 15,
    /// `[[u32; 2]; n]`: per record, the fields read on every lookup that reads one ([`hot`]:
    /// ASN and country), a dense copy of the record's own so that those reads touch 8 bytes of
    /// a small table instead of the record's line.
    Hot = 16,
}

impl Section {
    /// All sections in directory order.
    pub const ALL: [Section; SECTION_COUNT] = [
        Section::V4Top,
        Section::V4Nodes,
        Section::V4Leaves,
        Section::V6Top,
        Section::V6Nodes,
        Section::V6Leaves,
        Section::Classes,
        Section::Records,
        Section::StrOffsets,
        Section::StrBlob,
        Section::Sources,
        Section::SetOffsets,
        Section::SetItems,
        Section::Meta,
        Section::V4Spans,
        Section::V6Spans,
        Section::Hot,
    ];

    /// Size in bytes of one element of this section's array (a node for the node sections).
    pub const fn elem_size(self) -> usize {
        match self {
            Section::V4Nodes => trie::V4_NODE.bytes(),
            Section::V6Nodes => trie::V6_NODE.bytes(),
            Section::StrBlob | Section::V4Spans | Section::V6Spans => 1,
            Section::Hot => hot::BYTES,
            _ => 4,
        }
    }

    /// True for the sections of the two address indexes and the summaries their leaves name:
    /// everything a lookup that reads no record field touches.
    pub const fn is_index(self) -> bool {
        (self as usize) <= Section::Classes as usize
    }

    /// Lowercase name used in error messages.
    pub const fn name(self) -> &'static str {
        match self {
            Section::V4Top => "ipv4 top table",
            Section::V4Nodes => "ipv4 nodes",
            Section::V4Leaves => "ipv4 leaves",
            Section::V6Top => "ipv6 top table",
            Section::V6Nodes => "ipv6 nodes",
            Section::V6Leaves => "ipv6 leaves",
            Section::Classes => "summary classes",
            Section::Records => "records",
            Section::StrOffsets => "string offsets",
            Section::StrBlob => "string blob",
            Section::Sources => "sources",
            Section::SetOffsets => "source-set offsets",
            Section::SetItems => "source-set items",
            Section::Meta => "metadata",
            Section::V4Spans => "ipv4 top spans",
            Section::V6Spans => "ipv6 top spans",
            Section::Hot => "hot record fields",
        }
    }
}

/// Largest record count the format can address (record indices are 23-bit in leaf values).
pub const MAX_RECORDS: usize = leaf::RECORD_MASK as usize + 1;

/// No string / no source set: the "absent" index.
pub const NONE: u32 = u32::MAX;

pub mod leaf {
    //! Leaf values: what a lookup ends on, in the top tables and the leaf arrays.
    //!
    //! A leaf value is a `u32`: bits 0..23 the record index, bits 23..31 the summary class (an
    //! index into [`Section::Classes`](super::Section::Classes), or [`CLASS_IN_RECORD`]), bit 31
    //! clear (set, in a top table, it marks a node reference: [`super::trie::NODE`]). Equal
    //! records always have equal classes, so two addresses answer alike exactly when their leaf
    //! values are equal. Leaf value 0 is record 0 (the empty answer) in class 0 (the empty
    //! summary): what a lookup answers when it falls off a corrupt structure.

    /// Bits of the record index.
    pub const RECORD_BITS: u32 = 23;
    /// Mask of the record index.
    pub const RECORD_MASK: u32 = (1 << RECORD_BITS) - 1;
    /// Bit position of the summary class.
    pub const CLASS_SHIFT: u32 = RECORD_BITS;
    /// Mask of the summary class after shifting.
    pub const CLASS_MASK: u32 = 0xFF;
    /// The class that says "no summary here: read the record" (for artifacts with more
    /// distinct summaries than the class table holds).
    pub const CLASS_IN_RECORD: u32 = 0xFF;
    /// Most entries of the class table.
    pub const MAX_CLASSES: usize = CLASS_IN_RECORD as usize;

    /// The leaf value of `record` (below [`super::MAX_RECORDS`]) in class `class`.
    pub const fn encode(record: u32, class: u32) -> u32 {
        (record & RECORD_MASK) | (class & CLASS_MASK) << CLASS_SHIFT
    }
    /// The record index of a leaf value.
    #[inline(always)]
    pub const fn record(leaf: u32) -> u32 {
        leaf & RECORD_MASK
    }
    /// The summary class of a leaf value.
    #[inline(always)]
    pub const fn class(leaf: u32) -> u32 {
        (leaf >> CLASS_SHIFT) & CLASS_MASK
    }
}

pub mod class {
    //! Summary classes: the bits most callers decide on, one `u32` per class, so that
    //! categories, verdict and the policy's evidence check never read the record.
    //!
    //! Bits 0..8: categories; 8..16: the *weak* categories (those that only sources of the
    //! `asn-heuristic`, `asn-sibling` or `keyword` tier assert here, see [`crate::Policy`]); 16..18: verdict;
    //! the rest zero. Class 0 is the empty summary (no category, `clean`).

    /// Bit position of the weak categories.
    pub const WEAK_SHIFT: u32 = 8;
    /// Bit position of the verdict.
    pub const VERDICT_SHIFT: u32 = 16;

    /// The class word of a summary.
    pub const fn encode(categories: u32, weak: u32, verdict: u32) -> u32 {
        (categories & 0xFF) | (weak & 0xFF) << WEAK_SHIFT | (verdict & 3) << VERDICT_SHIFT
    }
    /// Category bits of a class word.
    #[inline(always)]
    pub const fn categories(word: u32) -> u32 {
        word & 0xFF
    }
    /// Weak category bits of a class word.
    #[inline(always)]
    pub const fn weak(word: u32) -> u32 {
        (word >> WEAK_SHIFT) & 0xFF
    }
    /// Verdict (0..=3) of a class word.
    #[inline(always)]
    pub const fn verdict(word: u32) -> u8 {
        ((word >> VERDICT_SHIFT) & 3) as u8
    }
}

pub mod trie {
    //! The index of each family: a direct table over the top bits, then a Poptrie-style
    //! compressed multibit trie (Asai and Ohara, SIGCOMM 2015) whose nodes also hold their
    //! first leaves: an IPv4 node is one 64-byte line of 64 slots (6 bits), an IPv6 node two
    //! lines of 256 slots (8 bits).
    //!
    //! A node covers an aligned block of `2^shift` addresses. A *guarded* node (IPv6 only)
    //! first skips `s` bits: when the address's next `s` bits differ from the guard, the answer
    //! is the node's leaf 0 (the value of the whole block outside the guarded sub-block);
    //! otherwise `shift -= s`. Then the next `st = min(stride, shift)` bits pick one of `2^st`
    //! slots. Slot bit set in `vector`: the slot is a child node, at `child_base +
    //! rank(vector, slot) - 1`, where `rank` counts the set bits at and below the slot. Clear:
    //! the slot is the node's leaf `g + rank(leafvec, slot) - 1`, where `g` is 1 for a guarded
    //! node and 0 otherwise; `leafvec` has a bit at every leaf slot that starts a new run of
    //! equal leaves, so each run is stored once. Leaf `k` is inline, in the node's own line(s),
    //! for `k <` [`NodeLayout::inline`], and otherwise `leaves[leaf_base + k - inline]`: most
    //! lookups that reach a node end in that node, with no further miss.
    //!
    //! Node words ([`NodeLayout`]): the `vector` bitmap (1 or 4 words), the `leafvec` bitmap,
    //! `child_base | leaf_base << 32`, the guard word (IPv6: `skip << SKIP_SHIFT | guard
    //! bits`), then the inline leaves as `u32`s to the end of the node. Unused inline slots are
    //! zero.
    //!
    //! Layout (checked by `verify`): nodes in breadth-first order, the top table's roots first
    //! in address order, each node's children consecutive; so every child index is greater than
    //! its parent's and a corrupt file cannot loop. Each node's overflow leaves are
    //! consecutive, in node order.

    /// Address bits of the IPv4 direct table (2^18 entries, 1 MiB).
    pub const V4_TOP_BITS: u32 = 18;
    /// Address bits of the IPv6 direct table (2^16 entries, 256 KiB).
    pub const V6_TOP_BITS: u32 = 16;
    /// Top-table flag: the entry is a node reference (the rest is the node index).
    pub const NODE: u32 = 1 << 31;
    /// Bit position of the skip length in a guard word; bits below it hold the skipped bits.
    pub const SKIP_SHIFT: u32 = 58;
    /// Longest skip a guard word holds.
    pub const MAX_SKIP: u32 = 58;
    /// Most bitmap words of any node (256 slots).
    pub const MAX_BITMAP_WORDS: usize = 4;

    /// The shape of one family's nodes.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct NodeLayout {
        /// `u64` words per node.
        pub words: usize,
        /// `u64` words per bitmap (`vector`, `leafvec`): slots / 64.
        pub bitmap_words: usize,
        /// Address bits resolved per node: log2 of the slots.
        pub stride: u32,
        /// Whether the node has a guard word.
        pub guarded: bool,
    }

    impl NodeLayout {
        /// Word index of `child_base | leaf_base << 32`.
        pub const fn bases_word(&self) -> usize {
            2 * self.bitmap_words
        }
        /// `u32` index within the node of its first inline leaf.
        pub const fn inline_at(&self) -> usize {
            2 * (self.bases_word() + 1 + self.guarded as usize)
        }
        /// Leaves a node holds inline.
        pub const fn inline(&self) -> usize {
            2 * self.words - self.inline_at()
        }
        /// Bytes per node.
        pub const fn bytes(&self) -> usize {
            8 * self.words
        }
    }

    /// IPv4 nodes: one 64-byte line, 64 slots, ten inline leaves; nodes sit at /18 (slots of
    /// /24), /24 (slots of /30) and /30 (four slots).
    pub const V4_NODE: NodeLayout = NodeLayout {
        words: 8,
        bitmap_words: 1,
        stride: 6,
        guarded: false,
    };
    /// IPv6 nodes: two 64-byte lines, 256 slots, a guard, twelve inline leaves.
    pub const V6_NODE: NodeLayout = NodeLayout {
        words: 16,
        bitmap_words: 4,
        stride: 8,
        guarded: true,
    };
    const _: () = assert!(V4_NODE.inline() == 10 && V6_NODE.inline() == 12);

    /// Mask of bits 0..=`bit` of a word (`bit` taken modulo 64).
    #[inline(always)]
    pub const fn upto(bit: u32) -> u64 {
        u64::MAX >> (63 - (bit & 63))
    }

    /// A node's bitmap: `MAX_BITMAP_WORDS` words, those past the layout's zero.
    pub type Bitmap = [u64; MAX_BITMAP_WORDS];

    /// Whether `slot`'s bit is set.
    #[inline(always)]
    pub fn has(bits: &Bitmap, slot: u32) -> bool {
        bits.get((slot >> 6) as usize)
            .is_some_and(|w| w >> (slot & 63) & 1 != 0)
    }

    /// The number of set bits at and below `slot`, over the first `words` words.
    #[inline(always)]
    pub fn rank(bits: &Bitmap, words: usize, slot: u32) -> u32 {
        let at = (slot >> 6) as usize;
        let mut n = 0;
        for (w, &word) in bits.iter().enumerate().take(words) {
            let mask = if w < at {
                u64::MAX
            } else if w == at {
                upto(slot)
            } else {
                0
            };
            n += (word & mask).count_ones();
        }
        n
    }

    /// Whether any bit of slots `from..to` is set.
    pub fn any(bits: &Bitmap, from: u32, to: u32) -> bool {
        (from..to).any(|s| has(bits, s))
    }

    /// For each entry of a top table, the largest `k` such that the aligned block of `2^k`
    /// entries around it holds one leaf value in every entry (0 for a node entry): the
    /// contents of the top-span sections, written by the builder and checked by `verify`.
    pub fn spans(top: &[u32]) -> Vec<u8> {
        // Each run of one leaf value splits into its maximal aligned blocks (aligned blocks
        // nest, so these partition the run), and an entry's span is the size of its block:
        // every entry is written once (O(n); level by level it was O(n log n), most of
        // `verify`'s time on a 2^18-entry table).
        let mut spans = vec![0u8; top.len()];
        let mut a = 0;
        while a < top.len() {
            let e = top[a];
            let b = a + top[a..].iter().take_while(|&&x| x == e).count();
            if e & NODE == 0 {
                let mut at = a;
                while at < b {
                    // The largest aligned block that starts at `at` and ends by `b`.
                    let k = at
                        .trailing_zeros()
                        .min(usize::BITS - 1 - (b - at).leading_zeros());
                    spans[at..at + (1 << k)].fill(k as u8);
                    at += 1 << k;
                }
            }
            a = b;
        }
        spans
    }

    /// One node's header, decoded (its inline leaves are read with [`inline_leaf`]).
    #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
    pub struct Node {
        /// Bit per slot: the slot is a child node.
        pub vector: Bitmap,
        /// Bit per leaf slot that starts a new run of equal leaves.
        pub leafvec: Bitmap,
        /// Index of the first child node.
        pub child_base: u32,
        /// Index in the leaf array of the node's first overflow leaf.
        pub leaf_base: u32,
        /// Bits skipped before the slots (0..=[`MAX_SKIP`]; guarded layouts only).
        pub skip: u32,
        /// The skipped bits the address must match, right-aligned.
        pub guard: u64,
    }

    impl Node {
        /// The node's words in `layout`: its header and its first leaves inline; the leaves
        /// past the inline ones are the caller's to store at `leaf_base`.
        pub fn encode(&self, layout: NodeLayout, leaves: &[u32]) -> Vec<u64> {
            let mut w = vec![0u64; layout.words];
            let bw = layout.bitmap_words;
            w[..bw].copy_from_slice(&self.vector[..bw]);
            w[bw..2 * bw].copy_from_slice(&self.leafvec[..bw]);
            w[layout.bases_word()] = u64::from(self.child_base) | u64::from(self.leaf_base) << 32;
            if layout.guarded {
                w[layout.bases_word() + 1] = u64::from(self.skip) << SKIP_SHIFT | self.guard;
            }
            for (k, &leaf) in leaves.iter().take(layout.inline()).enumerate() {
                let i = layout.inline_at() + k;
                w[i / 2] |= u64::from(leaf) << (32 * (i % 2));
            }
            w
        }

        /// Decodes a node's header from its words in `layout` (missing words read as zero).
        #[inline(always)]
        pub fn decode(w: &[u64], layout: NodeLayout) -> Node {
            let word = |i: usize| w.get(i).copied().unwrap_or(0);
            let bw = layout.bitmap_words;
            let mut n = Node::default();
            for i in 0..bw.min(MAX_BITMAP_WORDS) {
                n.vector[i] = word(i);
                n.leafvec[i] = word(bw + i);
            }
            let bases = word(layout.bases_word());
            n.child_base = bases as u32;
            n.leaf_base = (bases >> 32) as u32;
            if layout.guarded {
                let guard = word(layout.bases_word() + 1);
                n.skip = (guard >> SKIP_SHIFT) as u32;
                n.guard = guard & ((1u64 << SKIP_SHIFT) - 1);
            }
            n
        }
    }

    /// Inline leaf `k` of node `w` in `layout`, or `None` when `k` is past the inline ones
    /// (the leaf is in the leaf array).
    #[inline(always)]
    pub fn inline_leaf(w: &[u64], layout: NodeLayout, k: u32) -> Option<u32> {
        if k as usize >= layout.inline() {
            return None;
        }
        let i = layout.inline_at() + k as usize;
        let word = w.get(i / 2)?;
        Some((word >> (32 * (i % 2))) as u32)
    }
}

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
    /// The newest snapshot day (days since 1970-01-01) of a source asserting one of the
    /// record's categories, or [`crate::format::NONE`] (no category, or no dated source).
    pub const LAST_SEEN: usize = 7;
    /// Set when the record carries an ASN.
    pub const FLAG_HAS_ASN: u32 = 1;
}

/// The hot column ([`Section::Hot`]): two `u32` words per record, derived from the record.
pub mod hot {
    use super::rec;

    /// Words per entry.
    pub const WORDS: usize = 2;
    /// Bytes per entry.
    pub const BYTES: usize = WORDS * 4;
    /// The record's ASN ([`rec::ASN`]); 0 when the record has none.
    pub const ASN: usize = 0;
    /// Bits 0..16: the record's country code bytes (0 = none); bit 16: [`HAS_ASN`]; the rest
    /// zero.
    pub const COUNTRY_FLAGS: usize = 1;
    /// Set when the record carries an ASN.
    pub const HAS_ASN: u32 = 1 << 16;

    /// The hot entry of a record: the one derivation, used by the builder to write the
    /// column and by `verify` to check it.
    pub const fn of_record(r: &[u32; rec::WORDS]) -> [u32; WORDS] {
        let has_asn = r[rec::FLAGS] & rec::FLAG_HAS_ASN != 0;
        [
            if has_asn { r[rec::ASN] } else { 0 },
            (r[rec::COUNTRY_VERDICT_SCORE] & 0xFFFF) | if has_asn { HAS_ASN } else { 0 },
        ]
    }

    /// The ASN of a hot entry.
    ///
    /// Without a branch: whether a record has an ASN is as random as the addresses looked up
    /// (callgrind's branch simulation counted a misprediction on a quarter of random IPv4
    /// lookups here, each one a pipeline flush that also stops the next lookups' loads).
    #[inline(always)]
    pub fn asn(e: &[u32; WORDS]) -> Option<u32> {
        std::hint::select_unpredictable(e[COUNTRY_FLAGS] & HAS_ASN != 0, Some(e[ASN]), None)
    }
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
    /// `u32` number of directory entries in use: [`super::SECTION_COUNT`] in this version, up
    /// to [`super::DIRECTORY_SLOTS`] in a later minor one.
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
    /// Start of the section directory: [`super::DIRECTORY_SLOTS`] × (`u64` offset, `u64`
    /// length); entries past the header's section count are zero.
    pub const DIRECTORY: usize = 64;
}

/// CRC-32 of the header at the start of `file` (at least [`HEADER_LEN`] bytes) with both
/// checksum fields read as zero. The header is as long as its length field says (every
/// version's header carries its own length there, so an artifact of another major version
/// is named by its version, not refused as a checksum failure), or [`HEADER_LEN`] when that
/// length is impossible.
pub fn header_crc(file: &[u8]) -> u32 {
    let declared = file
        .get(hdr::HEADER_LEN..hdr::HEADER_LEN + 4)
        .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize);
    let len = if (hdr::DIRECTORY..=file.len()).contains(&declared) {
        declared
    } else {
        HEADER_LEN.min(file.len())
    };
    let mut h = crc32fast::Hasher::new();
    h.update(file.get(..hdr::FILE_CRC).unwrap_or(&[]));
    h.update(&[0u8; 8]);
    h.update(file.get(hdr::HEADER_CRC + 4..len).unwrap_or(&[]));
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
