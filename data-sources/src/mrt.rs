//! MRT routing-table dumps (RFC 6396): RouteViews `rib.*.bz2`, RIPE RIS `bview.*.gz`, and the
//! dumps of BIRD, OpenBGPD and Quagga, reduced to one record per prefix with its origin AS(es).
//!
//! # What is read
//!
//! Every MRT record starts with a 12-byte header (timestamp, type, subtype, body length, all
//! big-endian). These record kinds are read:
//!
//! | type / subtype | name | what it gives |
//! |---|---|---|
//! | 13 / 1 | `PEER_INDEX_TABLE` | checked for structure and counted (peers are not needed for the origin) |
//! | 13 / 2, 13 / 4 | `RIB_IPV4_UNICAST`, `RIB_IPV6_UNICAST` | one prefix and its RIB entries (one per peer) |
//! | 13 / 8, 13 / 10 | the same with ADD-PATH (RFC 8050) | as above; each entry carries a 4-byte path id, so a peer can have several paths |
//! | 12 / 1–4 | legacy `TABLE_DUMP` (IPv4, IPv6, and the 4-byte-AS variants) | one entry per record; consecutive records of the same prefix are merged |
//!
//! Skipped and counted in [`MrtStats`], not errors: every other MRT type (`BGP4MP` and
//! `BGP4MP_ET` update streams, state changes, OSPF, IS-IS) in `skipped_non_rib`, and the other
//! `TABLE_DUMP_V2` subtypes (multicast RIBs, `RIB_GENERIC` with its VPN and other AFI/SAFI
//! pairs, unknown subtypes) in `skipped_rib_subtypes`. A RIB dump needs no `PEER_INDEX_TABLE`
//! to be read (RIS excerpts without one exist), and several tables (BIRD) are fine.
//!
//! # The origin of a prefix
//!
//! For each RIB entry, the origin is taken from its `AS_PATH` attribute: the last segment that
//! is not a confederation segment; if it is an `AS_SEQUENCE`, its last AS; if it is an
//! `AS_SET` (an aggregated route), all its members, like the `A,B` sets of CAIDA's pfx2as. In
//! `TABLE_DUMP_V2` the `AS_PATH` holds 4-byte ASNs (RFC 6396 §4.3.4); when its origin is
//! `AS_TRANS` (23456) and an `AS4_PATH` is present, the `AS4_PATH` origin is used. The legacy
//! `TABLE_DUMP` holds 2-byte ASNs and the `AS4_PATH` is merged as RFC 6793 §4.2.3 says (used
//! unless it is longer than the `AS_PATH`). Entries without an `AS_PATH`, or with an empty one
//! (a route the collector originates itself), name no origin and are counted in
//! [`MrtStats::entries_without_origin`]; a prefix none of whose entries names an origin yields
//! no record and is counted in [`MrtStats::prefixes_without_origin`].
//!
//! Across the entries of one prefix (all peers, all ADD-PATH paths), each distinct origin (one
//! AS, or one set) is counted. **The most common origin wins; ties go to a single AS over an
//! AS_SET, then to the numerically lowest ASN.** It leads [`MrtPrefix::origins`], followed by
//! the ASNs of the other origins in the same order, without repeats, so that nothing a peer
//! reported is lost; [`MrtPrefix::kind`] says whether the entries disagreed
//! ([`OriginKind::MultiOrigin`], CAIDA's `A_B`) and whether a set was involved, and
//! [`MrtPrefix::paths`] / [`MrtPrefix::primary_paths`] say how strong the winner is. At most
//! 1 024 distinct origins are kept per prefix.
//!
//! Consecutive records of the same prefix (the legacy format's one record per peer) are merged
//! into one [`MrtPrefix`]; a file holding several dumps one after the other (BIRD appends one
//! per interval) yields each prefix once per dump, each with its own
//! [`MrtPrefix::dumped_at`].
//!
//! # Errors and limits
//!
//! Positions are [`Position::Byte`] offsets into the decompressed stream, at the start of the
//! MRT record concerned. A RIB record whose body is malformed (a prefix longer than its family,
//! an entry or attribute running past its record, an `AS_PATH` segment running past its
//! attribute, bytes left over) is one recoverable error, and the next record is read: the
//! header's length keeps the stream in step. A record longer than [`MAX_MRT_RECORD`] bytes is
//! skipped without being buffered and reported the same way, so a corrupt 4 GiB length field
//! never allocates 4 GiB. A stream that ends inside a record (the truncated RouteViews dumps,
//! a cut download, a bzip2 or gzip stream that cannot be decoded further) yields every record
//! completed before it and then one fatal error at the start of the partial record. A record
//! of a type MRT does not define means the input is not MRT (an HTML error page) or out of
//! step: one fatal error there. At most [`MAX_RECORDS`] prefixes are yielded.
//!
//! # Why a reader of our own
//!
//! `bgpkit-parser` is the well-kept Rust MRT library, but with default features off its
//! `parser` feature still pulls `chrono`, `regex`, `zerocopy`, `bytes` and more (its default
//! adds `oneio` with an HTTP stack); it parses every BGP attribute into owned structures we
//! would throw away, and its own iterator logs and skips errors rather than
//! returning them, which does not fit this crate's fallible stream. What is needed here is
//! the record framing, three body layouts and the `AS_PATH`: a few hundred lines over byte
//! slices, fuzzed by the property tests, with the bounded-memory and error-position rules
//! above.

use std::collections::VecDeque;
use std::io::{self, BufRead, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;

use crate::error::{Located, ParseError, Position};
use crate::input::MAX_RECORDS;
use crate::pfx2as::OriginKind;
use crate::time::Timestamp;

/// Longest MRT record body accepted, in bytes; longer records are skipped (not buffered) with
/// a recoverable error. The largest record of a full RouteViews RIB is a few hundred KiB.
pub const MAX_MRT_RECORD: u32 = 16 << 20;

/// Most distinct origins kept for one prefix (real RIBs have a handful); the entries of further
/// origins still count in [`MrtPrefix::paths`]. Bounds memory and the time of counting when
/// a hostile dump repeats one prefix with ever new origins.
const MAX_ORIGINS: usize = 1024;

/// `AS_TRANS` (RFC 6793): the 2-byte stand-in for a 4-byte ASN.
const AS_TRANS: u32 = 23456;

const HEADER: usize = 12;

// MRT types (RFC 6396 §4 and the IANA registry).
const TABLE_DUMP: u16 = 12;
const TABLE_DUMP_V2: u16 = 13;

// TABLE_DUMP_V2 subtypes.
const PEER_INDEX_TABLE: u16 = 1;
const RIB_IPV4_UNICAST: u16 = 2;
const RIB_IPV6_UNICAST: u16 = 4;
const RIB_IPV4_UNICAST_ADDPATH: u16 = 8;
const RIB_IPV6_UNICAST_ADDPATH: u16 = 10;

// BGP path attributes.
const ATTR_AS_PATH: u8 = 2;
const ATTR_AS4_PATH: u8 = 17;
const FLAG_EXTENDED_LENGTH: u8 = 0x10;

// AS_PATH segment types.
const AS_SET: u8 = 1;
const AS_SEQUENCE: u8 = 2;
const AS_CONFED_SEQUENCE: u8 = 3;
const AS_CONFED_SET: u8 = 4;

/// One routed prefix of a RIB dump and the AS(es) originating it (see the
/// [module docs](self) for how the origin is chosen).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MrtPrefix {
    /// The routed prefix (host bits cleared).
    pub net: IpNet,
    /// Every distinct origin ASN seen for the prefix, the chosen (most common) origin first;
    /// several leading ASNs when that origin is an AS_SET. Never empty.
    pub origins: Vec<u32>,
    /// [`OriginKind::Single`] when every entry named the same AS, [`OriginKind::AsSet`] when
    /// they all named the same AS_SET, [`OriginKind::MultiOrigin`] when they disagreed, and
    /// [`OriginKind::Mixed`] when they disagreed and a set was among them.
    pub kind: OriginKind,
    /// RIB entries (peers, and ADD-PATH paths) of the prefix that named an origin.
    pub paths: u32,
    /// How many of those named the chosen origin.
    pub primary_paths: u32,
    /// The MRT header time of the (first) record of the prefix: when the table was dumped.
    pub dumped_at: Timestamp,
}

/// Counts of what an [`MrtParser`] read, skipped and could not attribute; complete once the
/// iteration has ended.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MrtStats {
    /// Complete MRT records read, of every type.
    pub records: u64,
    /// `PEER_INDEX_TABLE` records.
    pub peer_index_tables: u64,
    /// RIB records read (`TABLE_DUMP_V2` unicast and ADD-PATH, legacy `TABLE_DUMP`).
    pub rib_records: u64,
    /// RIB entries in those records.
    pub rib_entries: u64,
    /// Entries without an origin (no `AS_PATH`, or an empty one).
    pub entries_without_origin: u64,
    /// Prefixes none of whose entries named an origin (no record yielded).
    pub prefixes_without_origin: u64,
    /// Records of other MRT types (`BGP4MP` updates and the like), skipped.
    pub skipped_non_rib: u64,
    /// `TABLE_DUMP_V2` / `TABLE_DUMP` records of other subtypes (multicast, `RIB_GENERIC`,
    /// VPN), skipped.
    pub skipped_rib_subtypes: u64,
}

/// Streams the prefixes of an MRT RIB dump (decompressed: wrap files in
/// [`crate::input::open`], which detects gzip and bzip2).
///
/// ```
/// use ipsieve_sources::mrt;
/// use ipsieve_sources::pfx2as::OriginKind;
///
/// // One RIB_IPV4_UNICAST record: 192.0.2.0/24 from one peer, AS_PATH 64500 64511.
/// let mut dump = vec![
///     0x5F, 0x5E, 0x10, 0x00, 0, 13, 0, 2, 0, 0, 0, 31, // header: time, type 13/2, length
///     0, 0, 0, 0, 24, 192, 0, 2, 0, 1,                 // sequence, /24, prefix, 1 entry
///     0, 0, 0x5F, 0x5E, 0x10, 0x00, 0, 13,             // peer 0, originated, attributes
///     0x40, 2, 10, 2, 2, 0, 0, 0xFB, 0xF4, 0, 0, 0xFB, 0xFF, // AS_PATH: SEQUENCE 64500 64511
/// ];
/// let mut parser = mrt::parse(&dump[..], "rib");
/// let prefix = parser.next().unwrap().unwrap();
/// assert_eq!(prefix.net.to_string(), "192.0.2.0/24");
/// assert_eq!((prefix.origins.as_slice(), prefix.kind), (&[64511][..], OriginKind::Single));
/// assert!(parser.next().is_none());
/// assert_eq!(parser.stats().rib_entries, 1);
///
/// // The same dump cut short: what was complete, then one fatal error naming the offset.
/// dump.extend_from_slice(&dump.clone()[..20]);
/// let items: Vec<_> = mrt::parse(&dump[..], "rib").collect();
/// assert_eq!(items.len(), 2);
/// let e = items[1].as_ref().unwrap_err();
/// assert!(e.fatal);
/// assert_eq!(e.position, ipsieve_sources::Position::Byte(43));
/// ```
///
/// # Errors
/// Items are `Err` for malformed and oversized records (recoverable), and a final fatal error
/// when the stream ends inside a record or is not MRT (see the [module docs](self)). Never
/// panics.
pub fn parse<R: BufRead>(reader: R, source_name: &str) -> MrtParser<R> {
    MrtParser {
        reader,
        source_name: source_name.to_owned(),
        offset: 0,
        body: Vec::new(),
        queue: VecDeque::new(),
        pending: None,
        stats: MrtStats::default(),
        yielded: 0,
        max_records: MAX_RECORDS,
        done: false,
    }
}

/// As [`parse`], each prefix with the byte offset of its (first) MRT record.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<MrtPrefix>, ParseError>> {
    let mut parser = parse(reader, source_name);
    std::iter::from_fn(move || parser.next_located())
}

/// The iterator [`parse`] returns; [`MrtParser::stats`] tells what was skipped.
#[derive(Debug)]
pub struct MrtParser<R> {
    reader: R,
    source_name: String,
    /// Offset of the next record's header in the decompressed stream.
    offset: u64,
    /// The current record's body, reused.
    body: Vec<u8>,
    queue: VecDeque<Result<Located<MrtPrefix>, ParseError>>,
    /// The prefix being gathered (legacy TABLE_DUMP spreads one over several records).
    pending: Option<Pending>,
    stats: MrtStats,
    yielded: u64,
    max_records: u64,
    done: bool,
}

impl<R: BufRead> MrtParser<R> {
    /// Counts so far (complete once the iteration has ended).
    pub fn stats(&self) -> &MrtStats {
        &self.stats
    }

    /// The next prefix with the byte offset of its (first) record, or an error.
    pub fn next_located(&mut self) -> Option<Result<Located<MrtPrefix>, ParseError>> {
        loop {
            if let Some(item) = self.queue.pop_front() {
                if item.is_ok() {
                    self.yielded += 1;
                    if self.yielded > self.max_records {
                        self.queue.clear();
                        self.done = true;
                        let reason = format!(
                            "more than {} prefixes; this is not a plausible input for one \
                             source, check the file",
                            self.max_records
                        );
                        return Some(Err(self.fatal(self.offset, reason)));
                    }
                }
                return Some(item);
            }
            if self.done {
                return None;
            }
            self.step();
        }
    }

    /// Reads one record (or the end of the input) and queues what it gives.
    fn step(&mut self) {
        let start = self.offset;
        let mut header = [0u8; HEADER];
        let (got, err) = read_up_to(&mut self.reader, &mut header);
        if got == 0 && err.is_none() {
            self.finish();
            return;
        }
        if got < HEADER {
            let reason = match err {
                Some(e) => crate::input::read_failure(&e, || {
                    format!(
                        "input cannot be read past this point ({e}), {got} bytes into an mrt \
                         record header; the file is probably truncated or corrupt, fetch it \
                         again"
                    )
                }),
                None => format!(
                    "input ends {got} bytes into an mrt record header; the file is \
                     truncated, fetch it again"
                ),
            };
            self.stop(start, reason);
            return;
        }
        let time = u32::from_be_bytes([header[0], header[1], header[2], header[3]]);
        let kind = u16::from_be_bytes([header[4], header[5]]);
        let subtype = u16::from_be_bytes([header[6], header[7]]);
        let len = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        if !known_type(kind) {
            let reason = format!(
                "mrt type {kind} (subtype {subtype}) is not defined by rfc 6396; the input is \
                 not an mrt dump, or is corrupt"
            );
            self.stop(start, reason);
            return;
        }
        let (got, err) = if len > MAX_MRT_RECORD {
            skip_up_to(&mut self.reader, u64::from(len))
        } else {
            self.body.clear();
            let r = (&mut self.reader)
                .take(u64::from(len))
                .read_to_end(&mut self.body);
            (self.body.len() as u64, r.err())
        };
        if got < u64::from(len) {
            let reason = match err {
                Some(e) => crate::input::read_failure(&e, || {
                    format!(
                        "input cannot be read past this point ({e}), {got} of the {len} bytes \
                         of an mrt record (type {kind}/{subtype}); the file is probably \
                         truncated or corrupt, fetch it again"
                    )
                }),
                None => format!(
                    "input ends {got} bytes into an mrt record of {len} bytes (type \
                     {kind}/{subtype}); the file is truncated, fetch it again"
                ),
            };
            self.stop(start, reason);
            return;
        }
        self.offset = start + HEADER as u64 + u64::from(len);
        self.stats.records += 1;
        if len > MAX_MRT_RECORD {
            let reason = format!(
                "mrt record (type {kind}/{subtype}) of {len} bytes is longer than the \
                 {MAX_MRT_RECORD}-byte limit; skipped"
            );
            self.error(start, reason);
            return;
        }
        let time = Timestamp(i64::from(time));
        let result = match (kind, subtype) {
            (TABLE_DUMP_V2, PEER_INDEX_TABLE) => {
                self.stats.peer_index_tables += 1;
                check_peer_index_table(&self.body)
            }
            (TABLE_DUMP_V2, RIB_IPV4_UNICAST | RIB_IPV6_UNICAST)
            | (TABLE_DUMP_V2, RIB_IPV4_UNICAST_ADDPATH | RIB_IPV6_UNICAST_ADDPATH) => {
                self.rib_v2(start, time, subtype)
            }
            (TABLE_DUMP_V2, _) => {
                self.stats.skipped_rib_subtypes += 1;
                Ok(())
            }
            (TABLE_DUMP, 1..=4) => self.table_dump(start, time, subtype),
            (TABLE_DUMP, _) => {
                self.stats.skipped_rib_subtypes += 1;
                Ok(())
            }
            _ => {
                self.stats.skipped_non_rib += 1;
                Ok(())
            }
        };
        if let Err(reason) = result {
            let reason = format!("mrt record type {kind}/{subtype}: {reason}; skipped");
            self.error(start, reason);
        }
    }

    /// A `TABLE_DUMP_V2` RIB record: one prefix, all its entries.
    fn rib_v2(&mut self, start: u64, time: Timestamp, subtype: u16) -> Result<(), String> {
        let v6 = matches!(subtype, RIB_IPV6_UNICAST | RIB_IPV6_UNICAST_ADDPATH);
        let add_path = matches!(subtype, RIB_IPV4_UNICAST_ADDPATH | RIB_IPV6_UNICAST_ADDPATH);
        let mut b = Bytes::new(&self.body);
        b.take(4, "sequence number")?;
        let len = b.u8("prefix length")?;
        let max = if v6 { 128 } else { 32 };
        if len > max {
            return Err(format!("prefix length {len} is longer than {max}"));
        }
        let packed = b.take(usize::from(len).div_ceil(8), "prefix")?;
        let net = make_net(packed, len, v6);
        let count = b.u16("entry count")?;
        let mut votes = Votes::default();
        let mut without = 0u64;
        for i in 0..count {
            let entry = (|| {
                b.take(2, "peer index")?;
                b.take(4, "originated time")?;
                if add_path {
                    b.take(4, "path identifier")?;
                }
                let attr_len = b.u16("attribute length")?;
                let attrs = b.take(usize::from(attr_len), "attributes")?;
                origin_of(attrs, 4)
            })()
            .map_err(|e| format!("rib entry {} of {count}: {e}", u32::from(i) + 1))?;
            match entry {
                Some(origin) => votes.add(origin),
                None => without += 1,
            }
        }
        if !b.rest().is_empty() {
            return Err(format!(
                "{} bytes after the last of {count} rib entries",
                b.rest().len()
            ));
        }
        self.stats.rib_records += 1;
        self.stats.rib_entries += u64::from(count);
        self.stats.entries_without_origin += without;
        self.gather(start, time, net, votes);
        Ok(())
    }

    /// A legacy `TABLE_DUMP` record: one entry of one prefix.
    fn table_dump(&mut self, start: u64, time: Timestamp, subtype: u16) -> Result<(), String> {
        let v6 = subtype == 2 || subtype == 4;
        let as4 = subtype >= 3;
        let addr_len = if v6 { 16 } else { 4 };
        let mut b = Bytes::new(&self.body);
        b.take(2, "view number")?;
        b.take(2, "sequence number")?;
        let addr = b.take(addr_len, "prefix")?;
        let len = b.u8("prefix length")?;
        let max = if v6 { 128 } else { 32 };
        if len > max {
            return Err(format!("prefix length {len} is longer than {max}"));
        }
        let net = make_net(addr, len, v6);
        b.take(1, "status")?;
        b.take(4, "originated time")?;
        b.take(addr_len, "peer address")?;
        b.take(if as4 { 4 } else { 2 }, "peer as")?;
        let attr_len = b.u16("attribute length")?;
        let attrs = b.take(usize::from(attr_len), "attributes")?;
        let origin = origin_of(attrs, if as4 { 4 } else { 2 })?;
        if !b.rest().is_empty() {
            return Err(format!("{} bytes after the attributes", b.rest().len()));
        }
        self.stats.rib_records += 1;
        self.stats.rib_entries += 1;
        let mut votes = Votes::default();
        match origin {
            Some(origin) => votes.add(origin),
            None => self.stats.entries_without_origin += 1,
        }
        self.gather(start, time, net, votes);
        Ok(())
    }

    /// Adds a record's votes to the pending prefix, or flushes it and starts a new one.
    fn gather(&mut self, start: u64, time: Timestamp, net: IpNet, votes: Votes) {
        match &mut self.pending {
            Some(p) if p.net == net => p.votes.merge(votes),
            _ => {
                self.flush();
                self.pending = Some(Pending {
                    offset: start,
                    time,
                    net,
                    votes,
                });
            }
        }
    }

    /// Queues the pending prefix, if any.
    fn flush(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        match p.votes.decide() {
            Some((origins, kind, paths, primary_paths)) => {
                self.queue.push_back(Ok(Located {
                    position: Position::Byte(p.offset),
                    record: MrtPrefix {
                        net: p.net,
                        origins,
                        kind,
                        paths,
                        primary_paths,
                        dumped_at: p.time,
                    },
                }));
            }
            None => self.stats.prefixes_without_origin += 1,
        }
    }

    /// The clean end of the input.
    fn finish(&mut self) {
        self.flush();
        self.done = true;
        let s = &self.stats;
        if s.records > 0 && s.skipped_non_rib + s.skipped_rib_subtypes == s.records {
            let reason = format!(
                "no routing-table records among {} mrt records ({} of other types such as \
                 BGP4MP updates, {} of other table subtypes); this is not a rib dump",
                s.records, s.skipped_non_rib, s.skipped_rib_subtypes
            );
            let e = recoverable(&self.source_name, Position::Whole, reason);
            self.queue.push_back(Err(e));
        }
    }

    /// Ends the stream: what was gathered, then one fatal error at `at`.
    fn stop(&mut self, at: u64, reason: String) {
        self.flush();
        self.done = true;
        let e = self.fatal(at, reason);
        self.queue.push_back(Err(e));
    }

    fn fatal(&self, at: u64, reason: String) -> ParseError {
        ParseError::fatal(&self.source_name, Position::Byte(at), reason)
    }

    /// A recoverable error about the record at `at`.
    fn error(&mut self, at: u64, reason: String) {
        let e = recoverable(&self.source_name, Position::Byte(at), reason);
        self.queue.push_back(Err(e));
    }
}

impl<R: BufRead> Iterator for MrtParser<R> {
    type Item = Result<MrtPrefix, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_located()
            .map(|item| item.map(Located::into_record))
    }
}

/// Types defined by RFC 6396 (including the deprecated ones of §4) and RFC 8050.
fn known_type(kind: u16) -> bool {
    matches!(kind, 0..=13 | 16 | 17 | 32 | 33 | 48 | 49)
}

/// An error after which the stream goes on (nothing to quote from a binary record).
fn recoverable(source_name: &str, position: Position, reason: String) -> ParseError {
    ParseError {
        source_name: source_name.to_owned(),
        position,
        reason,
        text: String::new(),
        fatal: false,
    }
}

/// Discards up to `n` bytes without buffering them; returns the bytes discarded and the error
/// that stopped it, if any.
fn skip_up_to<R: BufRead>(reader: &mut R, n: u64) -> (u64, Option<io::Error>) {
    let mut done = 0u64;
    while done < n {
        let available = match reader.fill_buf() {
            Ok([]) => break,
            Ok(chunk) => chunk.len(),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return (done, Some(e)),
        };
        let take = usize::try_from(n - done).map_or(available, |left| left.min(available));
        reader.consume(take);
        done += take as u64;
    }
    (done, None)
}

/// Reads until `buf` is full or the input ends; returns the bytes read and the error that
/// stopped it, if any.
fn read_up_to<R: Read>(reader: &mut R, buf: &mut [u8]) -> (usize, Option<io::Error>) {
    let mut got = 0;
    while got < buf.len() {
        match reader.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (got, Some(e)),
        }
    }
    (got, None)
}

/// The network of `len` bits from `packed` (the leading bytes of the address; missing bytes
/// are zero), with the bits past `len` cleared as RFC 4271 says they are irrelevant.
fn make_net(packed: &[u8], len: u8, v6: bool) -> IpNet {
    let mut bytes = [0u8; 16];
    let n = packed.len().min(if v6 { 16 } else { 4 });
    bytes[..n].copy_from_slice(&packed[..n]);
    let addr = if v6 {
        IpAddr::V6(Ipv6Addr::from(bytes))
    } else {
        IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3]))
    };
    // `len` was checked against the family's maximum, so `new` cannot fail; fall back to the
    // host route anyway rather than panic.
    IpNet::new(addr, len)
        .map(|net| net.trunc())
        .unwrap_or_else(|_| IpNet::from(addr))
}

/// Checks a `PEER_INDEX_TABLE` body (RFC 6396 §4.3.1) for structure.
fn check_peer_index_table(body: &[u8]) -> Result<(), String> {
    let mut b = Bytes::new(body);
    b.take(4, "collector bgp id")?;
    let name_len = b.u16("view name length")?;
    b.take(usize::from(name_len), "view name")?;
    let count = b.u16("peer count")?;
    for i in 0..count {
        (|| {
            let kind = b.u8("peer type")?;
            b.take(4, "peer bgp id")?;
            b.take(if kind & 1 == 1 { 16 } else { 4 }, "peer address")?;
            b.take(if kind & 2 == 2 { 4 } else { 2 }, "peer as")?;
            Ok::<_, String>(())
        })()
        .map_err(|e| format!("peer {} of {count}: {e}", u32::from(i) + 1))?;
    }
    if !b.rest().is_empty() {
        return Err(format!(
            "{} bytes after the last of {count} peers",
            b.rest().len()
        ));
    }
    Ok(())
}

/// The origin a RIB entry's path attributes name, or `None` without an (non-empty) AS_PATH.
/// `asn_size` is the width of the ASNs in `AS_PATH` (4 in `TABLE_DUMP_V2`, 2 in legacy dumps).
fn origin_of(attrs: &[u8], asn_size: usize) -> Result<Option<Origin>, String> {
    let mut b = Bytes::new(attrs);
    let mut as_path = None;
    let mut as4_path = None;
    while !b.rest().is_empty() {
        let flags = b.u8("attribute flags")?;
        let kind = b.u8("attribute type")?;
        let len = if flags & FLAG_EXTENDED_LENGTH != 0 {
            usize::from(b.u16("attribute length")?)
        } else {
            usize::from(b.u8("attribute length")?)
        };
        let value = b.take(len, "attribute value").map_err(|e| match kind {
            ATTR_AS_PATH => format!("AS_PATH: {e}"),
            _ => format!("attribute {kind}: {e}"),
        })?;
        match kind {
            ATTR_AS_PATH if as_path.is_none() => as_path = Some(value),
            ATTR_AS4_PATH if as4_path.is_none() => as4_path = Some(value),
            _ => {}
        }
    }
    let Some(path) = as_path else {
        return Ok(None);
    };
    let (origin, count) = path_origin(path, asn_size).map_err(|e| format!("AS_PATH: {e}"))?;
    let Some(as4) = as4_path else {
        return Ok(origin);
    };
    // A malformed AS4_PATH is ignored (RFC 7606 §7.7: treat as withdrawn attribute).
    let Ok((origin4 @ Some(_), count4)) = path_origin(as4, 4) else {
        return Ok(origin);
    };
    let use_as4 = if asn_size == 2 {
        count >= count4
    } else {
        origin == Some(Origin::As(AS_TRANS))
    };
    Ok(if use_as4 { origin4 } else { origin })
}

/// The origin of an `AS_PATH` value and its path length as RFC 4271 counts it (a set counts
/// one; confederation segments none).
fn path_origin(path: &[u8], asn_size: usize) -> Result<(Option<Origin>, usize), String> {
    let mut b = Bytes::new(path);
    let mut last: Option<(u8, &[u8])> = None;
    let mut count = 0usize;
    while !b.rest().is_empty() {
        let kind = b.u8("segment type")?;
        let n = b.u8("segment length")?;
        let asns = b.take(usize::from(n) * asn_size, "segment")?;
        match kind {
            AS_SEQUENCE => count += usize::from(n),
            AS_SET => count += usize::from(n > 0),
            AS_CONFED_SEQUENCE | AS_CONFED_SET => continue,
            _ => return Err(format!("unknown segment type {kind}")),
        }
        if n > 0 {
            last = Some((kind, asns));
        }
    }
    let asn = |chunk: &[u8]| match *chunk {
        [a, b] => u32::from(u16::from_be_bytes([a, b])),
        [a, b, c, d] => u32::from_be_bytes([a, b, c, d]),
        _ => 0,
    };
    let origin = last.map(|(kind, asns)| {
        let mut members = asns.chunks_exact(asn_size).map(asn);
        if kind == AS_SET {
            let mut set: Vec<u32> = members.collect();
            set.sort_unstable();
            set.dedup();
            Origin::Set(set)
        } else {
            Origin::As(members.next_back().unwrap_or_default())
        }
    });
    Ok((origin, count))
}

/// What one RIB entry names as origin.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    /// The last AS of an AS_SEQUENCE.
    As(u32),
    /// The members of a trailing AS_SET, sorted, without repeats.
    Set(Vec<u32>),
}

impl Origin {
    fn asns(&self) -> &[u32] {
        match self {
            Origin::As(asn) => std::slice::from_ref(asn),
            Origin::Set(set) => set,
        }
    }

    /// The tie-break order: a single AS before a set, then the lower ASNs.
    fn rank_key(&self) -> (bool, &[u32]) {
        (matches!(self, Origin::Set(_)), self.asns())
    }
}

/// Origins counted over the entries of one prefix.
#[derive(Debug, Default)]
struct Votes {
    counts: Vec<(Origin, u32)>,
    /// Entries whose origin did not fit under [`MAX_ORIGINS`]: counted in the paths only.
    dropped: u32,
}

impl Votes {
    fn add(&mut self, origin: Origin) {
        self.add_n(origin, 1);
    }

    fn add_n(&mut self, origin: Origin, n: u32) {
        let full = self.counts.len() >= MAX_ORIGINS;
        match self.counts.iter_mut().find(|(o, _)| *o == origin) {
            Some((_, count)) => *count = count.saturating_add(n),
            None if full => self.dropped = self.dropped.saturating_add(n),
            None => self.counts.push((origin, n)),
        }
    }

    fn merge(&mut self, other: Votes) {
        for (origin, n) in other.counts {
            self.add_n(origin, n);
        }
        self.dropped = self.dropped.saturating_add(other.dropped);
    }

    /// (origins, kind, paths, primary paths), or `None` when no entry named an origin.
    fn decide(mut self) -> Option<(Vec<u32>, OriginKind, u32, u32)> {
        self.counts
            .sort_by(|(a, na), (b, nb)| nb.cmp(na).then_with(|| a.rank_key().cmp(&b.rank_key())));
        let (first, primary) = self.counts.first()?;
        let primary = *primary;
        let paths = self
            .counts
            .iter()
            .fold(self.dropped, |sum, (_, n)| sum.saturating_add(*n));
        let any_set = self.counts.iter().any(|(o, _)| matches!(o, Origin::Set(_)));
        let kind = match (self.counts.len() > 1, any_set) {
            (false, false) => OriginKind::Single,
            (false, true) => OriginKind::AsSet,
            (true, false) => OriginKind::MultiOrigin,
            (true, true) => OriginKind::Mixed,
        };
        let mut origins: Vec<u32> = first.asns().to_vec();
        for (origin, _) in &self.counts[1..] {
            for &asn in origin.asns() {
                if !origins.contains(&asn) {
                    origins.push(asn);
                }
            }
        }
        Some((origins, kind, paths, primary))
    }
}

/// A prefix whose entries are still being gathered.
#[derive(Debug)]
struct Pending {
    offset: u64,
    time: Timestamp,
    net: IpNet,
    votes: Votes,
}

/// A cursor over a record body; every read says which field ran out.
struct Bytes<'a> {
    rest: &'a [u8],
}

impl<'a> Bytes<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Bytes { rest: bytes }
    }

    fn rest(&self) -> &'a [u8] {
        self.rest
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], String> {
        if n > self.rest.len() {
            let plural = if n == 1 { "" } else { "s" };
            return Err(format!(
                "{what} needs {n} byte{plural}, only {} left in the record",
                self.rest.len()
            ));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    fn u8(&mut self, what: &str) -> Result<u8, String> {
        Ok(self.take(1, what)?[0])
    }

    fn u16(&mut self, what: &str) -> Result<u16, String> {
        let b = self.take(2, what)?;
        Ok(u16::from_be_bytes([b[0], b[1]]))
    }
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "mrt";
    type Record = MrtPrefix;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<MrtPrefix>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: MrtPrefix) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::{Attrs, Entry};
        let attrs = Attrs {
            asn: r.origins.first().copied(),
            ..Attrs::default()
        };
        std::iter::once(Entry::Net(r.net, attrs))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seq(asns: &[u32]) -> Vec<u8> {
        let mut v = vec![AS_SEQUENCE, asns.len() as u8];
        for a in asns {
            v.extend_from_slice(&a.to_be_bytes());
        }
        v
    }

    #[test]
    fn origin_rules() {
        assert_eq!(
            path_origin(&seq(&[1, 2, 3]), 4).unwrap(),
            (Some(Origin::As(3)), 3)
        );
        let mut p = seq(&[1, 2]);
        p.extend([AS_SET, 2, 0, 0, 0, 9, 0, 0, 0, 7]);
        assert_eq!(
            path_origin(&p, 4).unwrap(),
            (Some(Origin::Set(vec![7, 9])), 3)
        );
        // Confederation segments are not the origin.
        let mut p = seq(&[5]);
        p.extend([AS_CONFED_SEQUENCE, 1, 0, 0, 0, 8]);
        assert_eq!(path_origin(&p, 4).unwrap(), (Some(Origin::As(5)), 1));
        assert_eq!(path_origin(&[], 4).unwrap(), (None, 0));
        assert!(path_origin(&[AS_SEQUENCE, 2, 0, 0, 0, 1], 4).is_err());
        assert!(path_origin(&[9, 0], 4).is_err());
    }

    #[test]
    fn as4_path_replaces_as_trans() {
        let mut attrs = vec![0x40, ATTR_AS_PATH, 6];
        attrs.extend(seq(&[AS_TRANS]));
        attrs.extend([0xC0, ATTR_AS4_PATH, 6]);
        attrs.extend(seq(&[4_200_000_000]));
        assert_eq!(
            origin_of(&attrs, 4).unwrap(),
            Some(Origin::As(4_200_000_000))
        );
        // 2-byte AS_PATH shorter than the AS4_PATH: the AS4_PATH is ignored.
        let attrs = [
            0x40,
            ATTR_AS_PATH,
            4,
            AS_SEQUENCE,
            1,
            0x5B,
            0xA0,
            0xC0,
            ATTR_AS4_PATH,
            10,
            AS_SEQUENCE,
            2,
            0,
            0,
            0,
            1,
            0,
            0,
            0,
            2,
        ];
        assert_eq!(origin_of(&attrs, 2).unwrap(), Some(Origin::As(23456)));
    }

    /// A RIB_IPV4_UNICAST record for `a.0.0.0/8` with one entry, origin `asn`.
    fn rib(a: u8, asn: u32) -> Vec<u8> {
        let mut attrs = vec![0x40, ATTR_AS_PATH, 6];
        attrs.extend(seq(&[asn]));
        let mut body = vec![
            0,
            0,
            0,
            0,
            8,
            a,
            0,
            1,
            0,
            0,
            0,
            0,
            0,
            0,
            0,
            attrs.len() as u8,
        ];
        body.extend(attrs);
        let mut v = vec![0, 0, 0, 1, 0, 13, 0, 2, 0, 0, 0, body.len() as u8];
        v.extend(body);
        v
    }

    #[test]
    fn record_cap_is_one_fatal_error() {
        let mut input = rib(1, 10);
        input.extend(rib(2, 20));
        input.extend(rib(3, 30));
        let mut parser = parse(&input[..], "t");
        parser.max_records = 2;
        let items: Vec<_> = parser.collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].as_ref().unwrap().origins, [20]);
        let e = items[2].as_ref().unwrap_err();
        assert!(
            e.fatal && e.reason.starts_with("more than 2 prefixes"),
            "{e}"
        );
    }

    #[test]
    fn consecutive_records_of_one_prefix_merge() {
        // The same prefix in two records (legacy dumps, or a plain and an ADD-PATH record).
        let mut input = rib(1, 10);
        input.extend(rib(1, 20));
        input.extend(rib(1, 20));
        input.extend(rib(2, 20));
        let items: Vec<_> = parse(&input[..], "t").map(Result::unwrap).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].origins, [20, 10]);
        assert_eq!((items[0].paths, items[0].primary_paths), (3, 2));
        assert_eq!(items[0].kind, OriginKind::MultiOrigin);
    }

    #[test]
    fn distinct_origins_are_capped() {
        let mut v = Votes::default();
        for asn in 0..3000 {
            v.add(Origin::As(asn));
        }
        v.add(Origin::As(2999));
        v.add(Origin::As(7));
        let (origins, _, paths, primary) = v.decide().unwrap();
        assert_eq!(origins.len(), MAX_ORIGINS);
        assert_eq!(origins[0], 7);
        assert_eq!((paths, primary), (3002, 2));
    }

    #[test]
    fn votes_rank_and_ties() {
        let mut v = Votes::default();
        v.add(Origin::Set(vec![1, 2]));
        v.add(Origin::As(30));
        v.add(Origin::As(20));
        v.add(Origin::As(30));
        let (origins, kind, paths, primary) = v.decide().unwrap();
        assert_eq!(origins, [30, 20, 1, 2]);
        assert_eq!((kind, paths, primary), (OriginKind::Mixed, 4, 2));
        let mut v = Votes::default();
        v.add(Origin::Set(vec![1, 2]));
        v.add(Origin::As(30));
        v.add(Origin::As(20));
        let (origins, kind, _, primary) = v.decide().unwrap();
        assert_eq!(
            (origins, kind, primary),
            (vec![20, 30, 1, 2], OriginKind::Mixed, 1)
        );
        assert!(Votes::default().decide().is_none());
    }
}
