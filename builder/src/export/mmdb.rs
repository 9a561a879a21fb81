//! A MaxMind DB (`.mmdb`) writer, and the export of an artifact as an Anonymous-IP-shaped
//! MaxMind DB that firewalls, web servers and the MaxMind readers of every language can load.
//!
//! # Why our own writer
//! crates.io has a few MMDB writers, all young 0.1 releases by one author each: `mmdb-writer`
//! (brings the `bon` builder macros for a handful of setters), `maxminddb-writer`
//! (undocumented) and `libmaxminddb-rs` (a new reader and writer). What
//! ipsieve needs is narrow and the format is small and public (the MaxMind DB spec, version
//! 2.0): one IPv6 search tree built from disjoint ranges, IPv4 aliased into it, a data section
//! of a few map records shared between ranges. So this module writes the format itself, with
//! no new dependency; the integration tests read every range of the vendored snapshot back
//! with the `maxminddb` crate (the reader the Rust ecosystem uses) and run its `verify`.
//!
//! # What is written
//! * **Search tree**: always IPv6 (`ip_version` 6). IPv4 lives at `::/96` as the spec says, and
//!   `::ffff:0:0/96` (IPv4-mapped) and `2002::/16` (6to4) point at the IPv4 subtree, like
//!   MaxMind's own files, so a reader answers `::ffff:1.2.3.4` and `2002:102:304::` like
//!   `1.2.3.4`. IPv6 data inside those three blocks cannot be stored and is dropped
//!   ([`MmdbStats::shadowed_v6`] counts the ranges cut).
//! * Ranges are sorted, adjacent ranges with equal values joined, and each range is cut into
//!   the fewest CIDR blocks (ipnet's `Ipv4Subnets` / `Ipv6Subnets`); a block ends in a record that
//!   points at its value. Addresses without a value end in an empty record (not found).
//! * **Record size** 24, 28 or 32 bits: the smallest that holds the largest record value (node
//!   count + 16 + data section length), unless [`MmdbWriter::record_size`] fixes one.
//! * **Data section**: every distinct value is written once and every range with it points
//!   there; inside values, map keys, strings and maps already written are pointers to the first
//!   copy when the pointer is shorter (so `"is_anonymous"` is stored once per file).
//! * **Metadata**: `binary_format_major_version` 2, minor 0, `build_epoch`, `database_type`,
//!   `description`, `ip_version`, `languages`, `node_count`, `record_size`.
//!
//! Output is deterministic: the same ranges and values give the same bytes.
//!
//! # The ipsieve record ([`record`])
//! Keys of MaxMind's Anonymous IP database, present only when true: `is_anonymous`,
//! `is_anonymous_vpn`, `is_hosting_provider`, `is_public_proxy`, `is_residential_proxy`,
//! `is_tor_exit_node` (from [`Answer::is_anonymous`] and its siblings: `is_anonymous` is a Tor
//! exit, a VPN or a public proxy; hosting alone is not anonymous). Then, when known:
//! `autonomous_system_number`, `autonomous_system_organization` (the GeoLite2 ASN names),
//! `provider_name` (Anonymous Plus's name; the value is ipsieve's provider as the source spells
//! it, e.g. `Mullvad`), `country` as `{"iso_code": "SE"}` (GeoIP2's shape), and ipsieve's own
//! `categories` (array of `tor_exit`, `tor_relay`, `vpn`, `proxy`, `hosting`, `relay`),
//! `verdict` (string), `score` (double, 0..=1 in hundredths) and `sources` (array of names).
//! The `database_type` is [`DATABASE_TYPE`]: names starting with `GeoIP` are MaxMind's.
//!
//! ```
//! use ipsieve_builder::export::mmdb::{MmdbWriter, Value};
//!
//! let mut w = MmdbWriter::new("Example-Flags").description("en", "two flagged ranges");
//! let flag = Value::Map(vec![("is_tor_exit_node".into(), Value::Bool(true))]);
//! w.insert("198.51.100.0".parse()?, "198.51.100.9".parse()?, flag.clone())?;
//! w.insert("2001:db8::".parse()?, "2001:db8::ff".parse()?, flag)?;
//! let (bytes, stats) = w.to_bytes()?;
//! assert_eq!(stats.data_records, 1); // both ranges share one record
//! assert_eq!(stats.record_size, 24);
//! assert!(bytes.len() > stats.node_count as usize * 6);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipsieve::{Answer, Database};

use super::{write_atomically, ExportError};
use ipnet::{Ipv4Subnets, Ipv6Subnets};

use crate::walk::{MAPPED_FIRST, MAPPED_LAST};

/// The `database_type` of ipsieve's export.
pub const DATABASE_TYPE: &str = "ipsieve-Anonymous-IP";

/// The bytes that end the data section and start the metadata.
pub const METADATA_MARKER: &[u8] = b"\xab\xcd\xefMaxMind.com";

/// The IPv6 blocks that point at the IPv4 subtree, with `::/96` where IPv4 itself lives:
/// `(first, last)` in address order.
const RESERVED_V6: [(u128, u128); 3] = [
    (0, u32::MAX as u128),
    (MAPPED_FIRST, MAPPED_LAST),
    (0x2002 << 112, (0x2002 << 112) | ((1 << 112) - 1)),
];

/// A value of the MMDB data section (the spec's types that ipsieve uses).
#[derive(Debug, Clone)]
pub enum Value {
    /// `boolean`.
    Bool(bool),
    /// `uint16`.
    U16(u16),
    /// `uint32`.
    U32(u32),
    /// `uint64`.
    U64(u64),
    /// `double` (IEEE-754 binary64). Values compare and hash by their bits.
    Double(f64),
    /// `utf8_string`.
    String(String),
    /// `array`.
    Array(Vec<Value>),
    /// `map`, with its keys in the order given.
    Map(Vec<(String, Value)>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        use Value::*;
        match (self, other) {
            (Bool(a), Bool(b)) => a == b,
            (U16(a), U16(b)) => a == b,
            (U32(a), U32(b)) => a == b,
            (U64(a), U64(b)) => a == b,
            (Double(a), Double(b)) => a.to_bits() == b.to_bits(),
            (String(a), String(b)) => a == b,
            (Array(a), Array(b)) => a == b,
            (Map(a), Map(b)) => a == b,
            _ => false,
        }
    }
}

impl Eq for Value {}

impl Hash for Value {
    fn hash<H: Hasher>(&self, h: &mut H) {
        std::mem::discriminant(self).hash(h);
        match self {
            Value::Bool(v) => v.hash(h),
            Value::U16(v) => v.hash(h),
            Value::U32(v) => v.hash(h),
            Value::U64(v) => v.hash(h),
            Value::Double(v) => v.to_bits().hash(h),
            Value::String(v) => v.hash(h),
            Value::Array(v) => v.hash(h),
            Value::Map(v) => v.hash(h),
        }
    }
}

/// The search tree's record size in bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordSize {
    /// The smallest size that holds the largest record value.
    #[default]
    Auto,
    /// 24-bit records (6-byte nodes).
    Bits24,
    /// 28-bit records (7-byte nodes).
    Bits28,
    /// 32-bit records (8-byte nodes).
    Bits32,
}

impl RecordSize {
    /// The size in bits, or `None` for [`RecordSize::Auto`].
    pub const fn bits(self) -> Option<u16> {
        match self {
            RecordSize::Auto => None,
            RecordSize::Bits24 => Some(24),
            RecordSize::Bits28 => Some(28),
            RecordSize::Bits32 => Some(32),
        }
    }

    /// The smallest record size whose records hold `max_value`, or `None` past 32 bits.
    ///
    /// ```
    /// use ipsieve_builder::export::mmdb::RecordSize;
    /// assert_eq!(RecordSize::smallest_for((1 << 24) - 1), Some(RecordSize::Bits24));
    /// assert_eq!(RecordSize::smallest_for(1 << 24), Some(RecordSize::Bits28));
    /// assert_eq!(RecordSize::smallest_for(1 << 28), Some(RecordSize::Bits32));
    /// assert_eq!(RecordSize::smallest_for(1 << 32), None);
    /// ```
    pub const fn smallest_for(max_value: u64) -> Option<RecordSize> {
        if max_value < 1 << 24 {
            Some(RecordSize::Bits24)
        } else if max_value < 1 << 28 {
            Some(RecordSize::Bits28)
        } else if max_value < 1 << 32 {
            Some(RecordSize::Bits32)
        } else {
            None
        }
    }
}

/// What [`MmdbWriter::to_bytes`] wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MmdbStats {
    /// IPv4 ranges after joining adjacent ranges with equal values.
    pub ranges_v4: usize,
    /// IPv6 ranges after joining, and after cutting out the IPv4 blocks.
    pub ranges_v6: usize,
    /// CIDR blocks inserted into the tree.
    pub networks: usize,
    /// IPv6 ranges that overlapped `::/96`, `::ffff:0:0/96` or `2002::/16`, whose addresses
    /// there answer as IPv4 instead.
    pub shadowed_v6: usize,
    /// Nodes of the search tree.
    pub node_count: u32,
    /// Bits per record: 24, 28 or 32.
    pub record_size: u16,
    /// Distinct data records.
    pub data_records: usize,
    /// Bytes of the data section.
    pub data_bytes: usize,
    /// Bytes of the whole file.
    pub bytes: usize,
}

/// Builds a MaxMind DB file from disjoint address ranges, each with a [`Value`]: set the
/// metadata, [`insert`](MmdbWriter::insert) ranges, then [`to_bytes`](MmdbWriter::to_bytes)
/// or [`write_to`](MmdbWriter::write_to).
#[derive(Debug, Clone)]
pub struct MmdbWriter {
    database_type: String,
    description: Vec<(String, String)>,
    build_epoch: u64,
    record_size: RecordSize,
    /// Distinct values, indexed by the ids the ranges carry.
    values: Vec<Value>,
    ids: HashMap<Value, u32>,
    v4: Vec<(u32, u32, u32)>,
    v6: Vec<(u128, u128, u32)>,
}

impl MmdbWriter {
    /// A writer for a database of type `database_type` (do not start it with `GeoIP`: those
    /// names are MaxMind's), with build time 0 and, unless [`description`](Self::description)
    /// adds one, the type as its English description.
    pub fn new(database_type: impl Into<String>) -> Self {
        MmdbWriter {
            database_type: database_type.into(),
            description: Vec::new(),
            build_epoch: 0,
            record_size: RecordSize::Auto,
            values: Vec::new(),
            ids: HashMap::new(),
            v4: Vec::new(),
            v6: Vec::new(),
        }
    }

    /// Sets the description in language `lang` (`en`); the language is listed in `languages`.
    #[must_use]
    pub fn description(mut self, lang: impl Into<String>, text: impl Into<String>) -> Self {
        let (lang, text) = (lang.into(), text.into());
        match self.description.iter_mut().find(|(l, _)| *l == lang) {
            Some(entry) => entry.1 = text,
            None => self.description.push((lang, text)),
        }
        self
    }

    /// The build time written as `build_epoch` (Unix seconds).
    #[must_use]
    pub fn build_epoch(mut self, unix_seconds: u64) -> Self {
        self.build_epoch = unix_seconds;
        self
    }

    /// Fixes the record size instead of choosing the smallest that fits.
    #[must_use]
    pub fn record_size(mut self, size: RecordSize) -> Self {
        self.record_size = size;
        self
    }

    fn id(&mut self, value: Value) -> u32 {
        if let Some(&id) = self.ids.get(&value) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(value.clone());
        self.ids.insert(value, id);
        id
    }

    /// Gives every address of `first..=last` the value `value`. Ranges must not overlap
    /// ([`to_bytes`](MmdbWriter::to_bytes) checks); they may come in any order.
    ///
    /// # Errors
    /// [`ExportError::InvalidRange`] when `first` is after `last` or the two are of different
    /// families.
    pub fn insert(&mut self, first: IpAddr, last: IpAddr, value: Value) -> Result<(), ExportError> {
        match (first, last) {
            (IpAddr::V4(a), IpAddr::V4(b)) if a <= b => {
                self.insert_v4(u32::from(a), u32::from(b), value);
                Ok(())
            }
            (IpAddr::V6(a), IpAddr::V6(b)) if a <= b => {
                self.insert_v6(u128::from(a), u128::from(b), value);
                Ok(())
            }
            _ => Err(ExportError::InvalidRange(format!("{first}-{last}"))),
        }
    }

    fn insert_v4(&mut self, first: u32, last: u32, value: Value) {
        let id = self.id(value);
        self.v4.push((first, last, id));
    }

    fn insert_v6(&mut self, first: u128, last: u128, value: Value) {
        let id = self.id(value);
        self.v6.push((first, last, id));
    }

    /// The file, and what it holds.
    ///
    /// # Errors
    /// [`ExportError::Overlap`] when two ranges overlap; [`ExportError::TooLarge`] when the
    /// tree or data section exceed what 32-bit records, pointers or a fixed
    /// [`record_size`](MmdbWriter::record_size) can address.
    pub fn to_bytes(&self) -> Result<(Vec<u8>, MmdbStats), ExportError> {
        let mut stats = MmdbStats::default();
        let v4 = disjoint(&self.v4, |x| IpAddr::V4(Ipv4Addr::from(x as u32)))?;
        let v6 = disjoint(&self.v6, |x| IpAddr::V6(Ipv6Addr::from(x)))?;
        let mut v6_kept = Vec::with_capacity(v6.len());
        for &(first, last, id) in &v6 {
            let pieces = outside_reserved(first, last);
            if pieces.len() != 1 || pieces[0] != (first, last) {
                stats.shadowed_v6 += 1;
            }
            v6_kept.extend(pieces.into_iter().map(|(f, l)| (f, l, id)));
        }
        stats.ranges_v4 = v4.len();
        stats.ranges_v6 = v6_kept.len();

        // The data section, in address order of first use.
        let mut data = Encoder::default();
        let mut offsets: Vec<Option<u32>> = vec![None; self.values.len()];
        let ids = v4.iter().map(|r| r.2).chain(v6_kept.iter().map(|r| r.2));
        for id in ids {
            let slot = &mut offsets[id as usize];
            if slot.is_none() {
                *slot = Some(data.record(&self.values[id as usize])?);
                stats.data_records += 1;
            }
        }
        let offset = |id: u32| offsets[id as usize].expect("every used value was written");

        // The tree: IPv4 at ::/96, the aliases, then every block.
        let mut tree = Tree::default();
        let v4_root = tree.descend(0, 128, 96)?;
        tree.set(0, MAPPED_FIRST, 128, 96, Rec::Node(v4_root))?;
        tree.set(0, RESERVED_V6[2].0, 128, 16, Rec::Node(v4_root))?;
        for &(first, last, id) in &v4 {
            for net in Ipv4Subnets::new(first.into(), last.into(), 0) {
                let start = u128::from(u32::from(net.network()));
                tree.set(v4_root, start, 32, net.prefix_len(), Rec::Data(offset(id)))?;
                stats.networks += 1;
            }
        }
        for &(first, last, id) in &v6_kept {
            for net in Ipv6Subnets::new(first.into(), last.into(), 0) {
                let start = u128::from(net.network());
                tree.set(0, start, 128, net.prefix_len(), Rec::Data(offset(id)))?;
                stats.networks += 1;
            }
        }

        let node_count = u32::try_from(tree.nodes.len())
            .map_err(|_| ExportError::TooLarge(format!("{} tree nodes", tree.nodes.len())))?;
        let max_value = u64::from(node_count) + 16 + data.bytes.len() as u64;
        let size = match self.record_size {
            RecordSize::Auto => RecordSize::smallest_for(max_value).ok_or_else(|| {
                ExportError::TooLarge(format!(
                    "record values up to {max_value} do not fit 32-bit records"
                ))
            })?,
            fixed => fixed,
        };
        let bits = size.bits().expect("a fixed size");
        if max_value >= 1u64 << bits {
            return Err(ExportError::TooLarge(format!(
                "record values up to {max_value} do not fit {bits}-bit records"
            )));
        }

        let node_bytes = usize::from(bits) / 4;
        let mut out = Vec::with_capacity(
            tree.nodes.len() * node_bytes + 16 + data.bytes.len() + METADATA_MARKER.len() + 256,
        );
        let value = |r: Rec| -> u32 {
            match r {
                Rec::Empty => node_count,
                Rec::Node(n) => n,
                Rec::Data(off) => node_count + 16 + off,
            }
        };
        for node in &tree.nodes {
            let (l, r) = (value(node[0]), value(node[1]));
            match bits {
                24 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                28 => {
                    out.extend_from_slice(&l.to_be_bytes()[1..]);
                    out.push((((l >> 24) & 0x0f) << 4) as u8 | ((r >> 24) & 0x0f) as u8);
                    out.extend_from_slice(&r.to_be_bytes()[1..]);
                }
                _ => {
                    out.extend_from_slice(&l.to_be_bytes());
                    out.extend_from_slice(&r.to_be_bytes());
                }
            }
        }
        out.extend_from_slice(&[0; 16]);
        out.extend_from_slice(&data.bytes);
        out.extend_from_slice(METADATA_MARKER);
        // Readers' `verify` wants a description: without one, the type name says it.
        let fallback = [("en".to_owned(), self.database_type.clone())];
        let description = if self.description.is_empty() {
            &fallback[..]
        } else {
            &self.description[..]
        };
        let mut languages = Vec::new();
        for (lang, _) in description {
            let lang = Value::String(lang.clone());
            if !languages.contains(&lang) {
                languages.push(lang);
            }
        }
        let metadata = Value::Map(vec![
            ("binary_format_major_version".into(), Value::U16(2)),
            ("binary_format_minor_version".into(), Value::U16(0)),
            ("build_epoch".into(), Value::U64(self.build_epoch)),
            (
                "database_type".into(),
                Value::String(self.database_type.clone()),
            ),
            (
                "description".into(),
                Value::Map(
                    description
                        .iter()
                        .map(|(l, t)| (l.clone(), Value::String(t.clone())))
                        .collect(),
                ),
            ),
            ("ip_version".into(), Value::U16(6)),
            ("languages".into(), Value::Array(languages)),
            ("node_count".into(), Value::U32(node_count)),
            ("record_size".into(), Value::U16(bits)),
        ]);
        let mut meta = Encoder::default();
        meta.record(&metadata)?;
        out.extend_from_slice(&meta.bytes);

        stats.node_count = node_count;
        stats.record_size = bits;
        stats.data_bytes = data.bytes.len();
        stats.bytes = out.len();
        Ok((out, stats))
    }

    /// Writes the file to `path` through a temporary file and a rename, so a reader that maps
    /// `path` never sees a part of it.
    ///
    /// # Errors
    /// As [`to_bytes`](MmdbWriter::to_bytes), and [`ExportError::Io`].
    pub fn write_to(&self, path: &Path) -> Result<MmdbStats, ExportError> {
        let (bytes, stats) = self.to_bytes()?;
        write_atomically(path, |out| {
            out.write_all(&bytes).map_err(ExportError::io(path))?;
            Ok(stats)
        })
    }
}

/// The ranges sorted, checked disjoint, with adjacent ranges of equal value joined.
fn disjoint<T>(
    ranges: &[(T, T, u32)],
    show: impl Fn(u128) -> IpAddr,
) -> Result<Vec<(T, T, u32)>, ExportError>
where
    T: Copy + Ord + Into<u128>,
{
    let mut sorted = ranges.to_vec();
    sorted.sort_unstable();
    let mut out: Vec<(T, T, u32)> = Vec::with_capacity(sorted.len());
    for (first, last, id) in sorted {
        if let Some(prev) = out.last_mut() {
            let (prev_last, next_first) = (prev.1.into(), first.into());
            if next_first <= prev_last {
                return Err(ExportError::Overlap {
                    first: format!("{}-{}", show(prev.0.into()), show(prev_last)),
                    second: format!("{}-{}", show(next_first), show(last.into())),
                });
            }
            if prev.2 == id && prev_last + 1 == next_first {
                prev.1 = last;
                continue;
            }
        }
        out.push((first, last, id));
    }
    Ok(out)
}

/// The parts of `first..=last` outside [`RESERVED_V6`], in order.
fn outside_reserved(first: u128, last: u128) -> Vec<(u128, u128)> {
    let mut out = Vec::new();
    let mut from = first;
    for (rf, rl) in RESERVED_V6 {
        if rl < from || rf > last {
            continue;
        }
        if rf > from {
            out.push((from, rf - 1));
        }
        if rl >= last {
            return out;
        }
        from = rl + 1;
    }
    out.push((from, last));
    out
}

/// One record of a tree node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rec {
    /// No data: the record holds the node count.
    Empty,
    /// Another node.
    Node(u32),
    /// A value, by its offset in the data section.
    Data(u32),
}

/// The search tree: node 0 is the root; a node's records are for bit 0 and bit 1.
#[derive(Debug)]
struct Tree {
    nodes: Vec<[Rec; 2]>,
}

impl Default for Tree {
    fn default() -> Self {
        Tree {
            nodes: vec![[Rec::Empty; 2]],
        }
    }
}

/// Bit `i` (0 = most significant) of `addr` in a `width`-bit space.
fn bit(addr: u128, width: u8, i: u8) -> usize {
    ((addr >> (width - 1 - i)) & 1) as usize
}

impl Tree {
    /// The node under `node` for bit `b`, made if the record is empty.
    fn child(&mut self, node: u32, b: usize) -> Result<u32, ExportError> {
        match self.nodes[node as usize][b] {
            Rec::Node(n) => Ok(n),
            Rec::Empty => {
                let n = u32::try_from(self.nodes.len())
                    .map_err(|_| ExportError::TooLarge("more than 2^32 tree nodes".into()))?;
                self.nodes.push([Rec::Empty; 2]);
                self.nodes[node as usize][b] = Rec::Node(n);
                Ok(n)
            }
            Rec::Data(_) => Err(conflict(node)),
        }
    }

    /// The node reached from the root by the first `len` bits of `addr`, made as needed.
    fn descend(&mut self, addr: u128, width: u8, len: u8) -> Result<u32, ExportError> {
        let mut node = 0;
        for i in 0..len {
            node = self.child(node, bit(addr, width, i))?;
        }
        Ok(node)
    }

    /// Points the prefix `addr/len` (a `width`-bit space below `base`) at `rec`. The slot
    /// must be empty: ranges are disjoint, so a conflict is an overlap.
    fn set(
        &mut self,
        base: u32,
        addr: u128,
        width: u8,
        len: u8,
        rec: Rec,
    ) -> Result<(), ExportError> {
        if len == 0 {
            // The whole space below `base`: both of its records.
            if self.nodes[base as usize] != [Rec::Empty; 2] {
                return Err(conflict(base));
            }
            self.nodes[base as usize] = [rec; 2];
            return Ok(());
        }
        let mut node = base;
        for i in 0..len - 1 {
            node = self.child(node, bit(addr, width, i))?;
        }
        let slot = &mut self.nodes[node as usize][bit(addr, width, len - 1)];
        if *slot != Rec::Empty {
            return Err(conflict(node));
        }
        *slot = rec;
        Ok(())
    }
}

/// Two blocks meet in one tree slot: only overlapping ranges can do that.
fn conflict(node: u32) -> ExportError {
    ExportError::Overlap {
        first: format!("a block below tree node {node}"),
        second: "a block inserted after it".into(),
    }
}

/// Data types of the spec (numbers above 7 are "extended").
mod ty {
    pub const POINTER: u8 = 1;
    pub const STRING: u8 = 2;
    pub const DOUBLE: u8 = 3;
    pub const U16: u8 = 5;
    pub const U32: u8 = 6;
    pub const MAP: u8 = 7;
    pub const U64: u8 = 9;
    pub const ARRAY: u8 = 11;
    pub const BOOL: u8 = 14;
}

/// Largest payload size (or map/array length) a control byte can announce.
const MAX_SIZE: usize = 65_821 + (1 << 24) - 1;

/// Writes values into one data section, sharing repeated ones through pointers.
#[derive(Debug, Default)]
struct Encoder {
    bytes: Vec<u8>,
    /// Offsets of values written in full: maps, arrays and strings.
    seen: HashMap<Value, u32>,
}

impl Encoder {
    fn offset(&self) -> Result<u32, ExportError> {
        u32::try_from(self.bytes.len())
            .map_err(|_| ExportError::TooLarge("a data section over 4 GiB".into()))
    }

    /// A top-level value (a tree record's target): written once, its offset reused after.
    fn record(&mut self, v: &Value) -> Result<u32, ExportError> {
        if let Some(&at) = self.seen.get(v) {
            return Ok(at);
        }
        let at = self.full(v)?;
        self.seen.insert(v.clone(), at);
        Ok(at)
    }

    /// A value inside a map or array: a pointer to an earlier copy when that is shorter.
    fn inner(&mut self, v: &Value) -> Result<(), ExportError> {
        let shareable = match v {
            Value::String(s) => s.len() >= 2,
            Value::Array(a) => !a.is_empty(),
            Value::Map(m) => !m.is_empty(),
            _ => false,
        };
        if !shareable {
            self.full(v)?;
            return Ok(());
        }
        if let Some(&at) = self.seen.get(v) {
            let full_len = match v {
                Value::String(s) => header_len(s.len()) + s.len(),
                _ => usize::MAX,
            };
            if pointer_len(at) < full_len {
                self.pointer(at);
                return Ok(());
            }
            self.full(v)?;
            return Ok(());
        }
        let at = self.full(v)?;
        self.seen.insert(v.clone(), at);
        Ok(())
    }

    /// Writes `v` in full at the current offset, returning the offset.
    fn full(&mut self, v: &Value) -> Result<u32, ExportError> {
        let at = self.offset()?;
        match v {
            Value::Bool(b) => self.control(ty::BOOL, usize::from(*b))?,
            Value::U16(x) => self.uint(ty::U16, u64::from(*x))?,
            Value::U32(x) => self.uint(ty::U32, u64::from(*x))?,
            Value::U64(x) => self.uint(ty::U64, *x)?,
            Value::Double(d) => {
                self.control(ty::DOUBLE, 8)?;
                self.bytes.extend_from_slice(&d.to_be_bytes());
            }
            Value::String(s) => {
                self.control(ty::STRING, s.len())?;
                self.bytes.extend_from_slice(s.as_bytes());
            }
            Value::Array(items) => {
                self.control(ty::ARRAY, items.len())?;
                for item in items {
                    self.inner(item)?;
                }
            }
            Value::Map(pairs) => {
                self.control(ty::MAP, pairs.len())?;
                for (k, item) in pairs {
                    self.inner(&Value::String(k.clone()))?;
                    self.inner(item)?;
                }
            }
        }
        Ok(at)
    }

    /// The control byte (and extended type and size bytes) of a field.
    fn control(&mut self, t: u8, size: usize) -> Result<(), ExportError> {
        if size > MAX_SIZE {
            return Err(ExportError::TooLarge(format!(
                "a field of size {size} (the format's limit is {MAX_SIZE})"
            )));
        }
        // Sizes past 28 take 1, 2 or 3 more bytes, after the extended type byte if any.
        let (five, extra, n) = if size < 29 {
            (size as u8, 0, 0)
        } else if size < 285 {
            (29, size - 29, 1)
        } else if size < 65_821 {
            (30, size - 285, 2)
        } else {
            (31, size - 65_821, 3)
        };
        if t <= 7 {
            self.bytes.push(t << 5 | five);
        } else {
            self.bytes.push(five);
            self.bytes.push(t - 7);
        }
        self.bytes
            .extend_from_slice(&(extra as u32).to_be_bytes()[4 - n..]);
        Ok(())
    }

    /// An unsigned integer in as few bytes as its value needs.
    fn uint(&mut self, t: u8, x: u64) -> Result<(), ExportError> {
        let be = x.to_be_bytes();
        let skip = (x.leading_zeros() / 8) as usize;
        self.control(t, 8 - skip)?;
        self.bytes.extend_from_slice(&be[skip..]);
        Ok(())
    }

    /// A pointer to offset `p` of this section.
    fn pointer(&mut self, p: u32) {
        let ctrl = ty::POINTER << 5;
        if p < 1 << 11 {
            self.bytes.push(ctrl | (p >> 8) as u8);
            self.bytes.push(p as u8);
        } else if p < 2048 + (1 << 19) {
            let q = p - 2048;
            self.bytes.push(ctrl | 1 << 3 | (q >> 16) as u8);
            self.bytes.extend_from_slice(&q.to_be_bytes()[2..]);
        } else if p < 526_336 + (1 << 27) {
            let q = p - 526_336;
            self.bytes.push(ctrl | 2 << 3 | (q >> 24) as u8);
            self.bytes.extend_from_slice(&q.to_be_bytes()[1..]);
        } else {
            self.bytes.push(ctrl | 3 << 3);
            self.bytes.extend_from_slice(&p.to_be_bytes());
        }
    }
}

/// Bytes of a pointer to offset `p`.
fn pointer_len(p: u32) -> usize {
    if p < 1 << 11 {
        2
    } else if p < 2048 + (1 << 19) {
        3
    } else if p < 526_336 + (1 << 27) {
        4
    } else {
        5
    }
}

/// Bytes of the control byte and size bytes for a payload of `size` (types 1..=7).
fn header_len(size: usize) -> usize {
    match size {
        0..=28 => 1,
        29..=284 => 2,
        285..=65_820 => 3,
        _ => 4,
    }
}

/// The MMDB record of an ipsieve answer (see the module documentation for the keys).
pub fn record(a: &Answer<'_>) -> Value {
    let mut m: Vec<(String, Value)> = Vec::with_capacity(14);
    for (key, on) in [
        ("is_anonymous", a.is_anonymous()),
        ("is_anonymous_vpn", a.is_anonymous_vpn()),
        ("is_hosting_provider", a.is_hosting_provider()),
        ("is_public_proxy", a.is_public_proxy()),
        ("is_residential_proxy", a.is_residential_proxy()),
        ("is_tor_exit_node", a.is_tor_exit_node()),
    ] {
        if on {
            m.push((key.into(), Value::Bool(true)));
        }
    }
    if let Some(asn) = a.asn() {
        m.push(("autonomous_system_number".into(), Value::U32(asn)));
    }
    if let Some(org) = a.as_org() {
        m.push((
            "autonomous_system_organization".into(),
            Value::String(org.into()),
        ));
    }
    if let Some(p) = a.provider() {
        m.push(("provider_name".into(), Value::String(p.into())));
    }
    if let Some(cc) = a.country() {
        m.push((
            "country".into(),
            Value::Map(vec![("iso_code".into(), Value::String(cc.into()))]),
        ));
    }
    let cats: Vec<Value> = a
        .categories()
        .names()
        .map(|n| Value::String(n.into()))
        .collect();
    if !cats.is_empty() {
        m.push(("categories".into(), Value::Array(cats)));
    }
    m.push(("verdict".into(), Value::String(a.verdict().as_str().into())));
    // The score is stored in hundredths; write exactly that many hundredths.
    let hundredths = (a.score() * 100.0).round();
    m.push(("score".into(), Value::Double(f64::from(hundredths) / 100.0)));
    let sources: Vec<Value> = a.sources().map(|s| Value::String(s.into())).collect();
    if !sources.is_empty() {
        m.push(("sources".into(), Value::Array(sources)));
    }
    if let Some(day) = a.last_seen_day() {
        m.push((
            "network_last_seen".into(),
            Value::String(crate::manifest::day_string(day)),
        ));
    }
    Value::Map(m)
}

/// A writer holding every range of `db` that has an answer, each with its [`record`], and the
/// artifact's build time as `build_epoch`; call [`MmdbWriter::to_bytes`] or
/// [`MmdbWriter::write_to`].
pub fn from_database(db: &Database) -> MmdbWriter {
    let mut w = MmdbWriter::new(DATABASE_TYPE)
        .description(
            "en",
            "ipsieve export: Tor exits, VPNs, proxies, hosting and privacy relays, \
             with MaxMind Anonymous-IP field names",
        )
        .build_epoch(db.build_time());
    for range in db.ranges() {
        if range.answer.is_empty() {
            continue;
        }
        let value = record(&range.answer);
        match (range.first, range.last) {
            (IpAddr::V4(first), IpAddr::V4(last)) => {
                w.insert_v4(first.into(), last.into(), value);
            }
            (IpAddr::V6(first), IpAddr::V6(last)) => {
                w.insert_v6(first.into(), last.into(), value);
            }
            // A range never spans families.
            _ => {}
        }
    }
    w
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_blocks_are_cut_out() {
        let [(a0, a1), (m0, m1), (s0, s1)] = RESERVED_V6;
        assert_eq!(outside_reserved(a1 + 1, m0 - 1), vec![(a1 + 1, m0 - 1)]);
        assert_eq!(outside_reserved(0, a1), vec![]);
        assert_eq!(
            outside_reserved(a0, u128::MAX),
            vec![(a1 + 1, m0 - 1), (m1 + 1, s0 - 1), (s1 + 1, u128::MAX)]
        );
        assert_eq!(outside_reserved(s0 - 5, s0 + 5), vec![(s0 - 5, s0 - 1)]);
    }

    #[test]
    fn control_bytes_follow_the_spec_examples() {
        let mut e = Encoder::default();
        e.control(ty::STRING, 80).unwrap();
        e.control(ty::STRING, 13_392).unwrap();
        e.control(ty::STRING, 3_421_264).unwrap();
        e.control(ty::ARRAY, 3).unwrap();
        assert_eq!(
            e.bytes,
            [
                0b0101_1101,
                51,
                0b0101_1110,
                0x33,
                0x33,
                0b0101_1111,
                0x33,
                0x33,
                0x33,
                0b0000_0011,
                4
            ]
        );
        assert!(e.control(ty::STRING, MAX_SIZE + 1).is_err());
    }

    #[test]
    fn pointers_take_each_size_from_its_first_value() {
        for (p, bytes) in [
            (0u32, vec![0x20, 0]),
            (2047, vec![0x27, 0xff]),
            (2048, vec![0x28, 0, 0]),
            (526_335, vec![0x2f, 0xff, 0xff]),
            (526_336, vec![0x30, 0, 0, 0]),
            (526_336 + (1 << 27), vec![0x38, 0x08, 0x08, 0x08, 0x00]),
        ] {
            let mut e = Encoder::default();
            e.pointer(p);
            assert_eq!(e.bytes, bytes, "{p}");
            assert_eq!(pointer_len(p), bytes.len(), "{p}");
        }
    }
}
