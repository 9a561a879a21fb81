//! Entry points for the fuzz targets in `fuzz/` and the tests that replay their findings, so
//! that each target is a one-liner. Not part of the public API.
//!
//! [`parse`] runs one format of the [registry](crate::formats) over arbitrary bytes, drains
//! every item and panics when an invariant that must hold for *any* input breaks: the parser
//! panics or yields more items than the input could hold; an error names another source,
//! points outside the input, quotes more than [`MAX_QUOTED`] characters or is followed by more
//! items after a fatal one; a record breaks an invariant its module declares (a Tor fingerprint
//! that is not 40 hex digits, a pfx2as record without an origin, an ASN range that ends before
//! it starts); an entry it yields holds a network with host bits set, a range that ends before
//! it starts or spans both families, or a country that is not two uppercase ASCII letters.

use std::io::Cursor;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Located, ParseError, Position, MAX_QUOTED};
use crate::formats::{self, Attrs, Entry, Parse, FORMATS};
use crate::input;

/// The minimised inputs kept under the repository's `fuzz/regressions/<target>/` (empty when
/// the directory does not exist, as outside the repository), for the tests that replay them
/// on stable.
///
/// # Panics
/// When a file in the directory cannot be read.
pub fn regressions(target: &str) -> Vec<Vec<u8>> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.expect("a readable regressions directory").path())
        .filter(|p| p.file_name().is_some_and(|n| n != ".gitkeep"))
        .map(|p| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .collect()
}

/// The source name every fuzzed parser is given (and every error must repeat).
const SOURCE: &str = "fuzz-source";

/// Decompressed bytes allowed through the gzip / bzip2 layer per input: a fuzzer's tiny gzip
/// bomb must cost milliseconds, not the 4 GiB the real cap allows.
const MAX_DECOMPRESSED: u64 = 1 << 20;

/// Items read at most from an MMDB, whose search tree may alias nodes and so describe far more
/// networks than it has bytes.
#[cfg(feature = "mmdb")]
const MAX_MMDB_ITEMS: usize = 1 << 16;

/// Picks the format from the first byte (modulo the number of [registered](FORMATS) formats)
/// and parses the rest with it.
pub fn parse_all(data: &[u8]) {
    if let Some((&first, rest)) = data.split_first() {
        FORMATS[usize::from(first) % FORMATS.len()].fuzz(rest);
    }
}

/// Parses `data` as the format whose parser module is `module` (`tor`, `mrt`, …) and drains
/// every item, checking the invariants of the [module docs](self). When `data` starts with a
/// gzip or bzip2 magic it is parsed a second time through [`input::decode_with_limit`], as a
/// source file would be.
///
/// # Panics
/// On an unknown module name, and whenever an invariant breaks (that is the point).
pub fn parse(module: &str, data: &[u8]) {
    formats::by_module(module)
        .unwrap_or_else(|| panic!("unknown format {module:?}; see ipsieve_sources::formats"))
        .fuzz(data);
}

/// [`parse`] for one registered format: its records as read and as decompressed.
pub(crate) fn parse_with<P: Parse>(data: &[u8]) {
    run::<P>(Box::new(Cursor::new(data.to_vec())), data);
    if data.starts_with(&[0x1f, 0x8b]) || data.starts_with(b"BZh") {
        let decode = || input::decode_with_limit(Cursor::new(data.to_vec()), MAX_DECOMPRESSED);
        // What the parser will see, to bound its positions (up to where decoding fails).
        let mut seen = Vec::new();
        let Ok(mut whole) = decode() else { return };
        let _ = std::io::Read::read_to_end(&mut whole, &mut seen);
        if let Ok(reader) = decode() {
            run::<P>(reader, &seen);
        }
    }
}

/// [`parse`] for MaxMind DBs, read whole (never decompressed): open, metadata, `verify`, then
/// at most [`MAX_MMDB_ITEMS`] networks and the entries each yields.
#[cfg(feature = "mmdb")]
pub(crate) fn parse_mmdb(data: &[u8]) {
    let db = match crate::mmdb::MmdbDatabase::from_bytes(data.to_vec(), SOURCE) {
        Ok(db) => db,
        Err(e) => return check_mmdb_error(&e, data),
    };
    let _ = (db.database_type(), db.build_time(), db.ip_version());
    if let Err(e) = db.verify() {
        check_mmdb_error(&e, data);
    }
    // The tree may describe more networks than bytes: no count bound here.
    let mut after_fatal = false;
    for item in db.networks().take(MAX_MMDB_ITEMS) {
        assert!(!after_fatal, "an item after a fatal error");
        match item {
            Ok(record) => crate::mmdb::entries(record).for_each(|e| check_entry(&e)),
            Err(e) => {
                check_mmdb_error(&e, data);
                after_fatal = e.fatal;
            }
        }
    }
}

/// An MMDB error names the source and a byte inside the file or none (an offset `maxminddb`
/// reports past the end, as in fuzz/regressions/parse_mmdb/error-offset-past-end, reads as the
/// whole file), never a line.
#[cfg(feature = "mmdb")]
fn check_mmdb_error(e: &ParseError, seen: &[u8]) {
    if let Position::Line(n) = e.position {
        panic!("line {n} in a binary format: {e}");
    }
    check_error(e, seen);
}

/// Runs `P` over `reader`, whose content is `seen` (for position bounds).
fn run<P: Parse>(reader: Box<dyn std::io::BufRead + Send>, seen: &[u8]) {
    // A record or an error per input byte at most, plus one for an empty document.
    let max = seen.len() + 1;
    drain(P::parse(reader, SOURCE), seen, max, |record| {
        P::check(&record);
        P::entries(record).for_each(|e| check_entry(&e));
    });
}

/// What every entry must be, from any input: networks without host bits, ranges in order and
/// in one family, countries of two uppercase letters.
fn check_entry(e: &Entry) {
    let attrs = |a: &Attrs| check_country(a.country);
    match e {
        Entry::Net(net, a) => {
            check_net(net);
            attrs(a);
        }
        Entry::Range(first, last, a) => {
            check_range(*first, *last);
            attrs(a);
        }
        Entry::AsName(..)
        | Entry::AsCountry(..)
        | Entry::Asn(_)
        | Entry::Skipped(_)
        | Entry::Registry(_) => {}
    }
}

/// Drains `items`, checking each error against `seen` (the bytes the parser read) and each
/// record with `check`.
fn drain<T>(
    items: impl Iterator<Item = Result<Located<T>, ParseError>>,
    seen: &[u8],
    max_items: usize,
    mut check: impl FnMut(T),
) {
    let mut after_fatal = false;
    for (n, item) in items.enumerate() {
        assert!(!after_fatal, "an item after a fatal error");
        assert!(
            n < max_items,
            "more than {max_items} items from {} bytes",
            seen.len()
        );
        match item {
            Ok(located) => {
                check_position(located.position, seen);
                check(located.record);
            }
            Err(e) => {
                check_error(&e, seen);
                after_fatal = e.fatal;
            }
        }
    }
}

fn check_error(e: &ParseError, seen: &[u8]) {
    check_error_text(e);
    check_position(e.position, seen);
}

/// Source, reason and quote: what every error must carry wherever it points.
fn check_error_text(e: &ParseError) {
    assert_eq!(e.source_name, SOURCE, "error names another source: {e}");
    assert!(!e.reason.is_empty(), "error without a reason: {e:?}");
    assert!(
        e.text.chars().count() <= MAX_QUOTED + 1,
        "quoted text of {} characters",
        e.text.chars().count()
    );
    assert!(e.to_string().starts_with(SOURCE), "{e}");
}

/// A line within the input's lines (one more than its newlines), a byte offset within it.
fn check_position(position: Position, seen: &[u8]) {
    match position {
        Position::Line(n) => {
            let lines = seen.iter().filter(|&&b| b == b'\n').count() as u64 + 1;
            assert!((1..=lines).contains(&n), "line {n} of a {lines}-line input");
        }
        Position::Byte(n) => assert!(n <= seen.len() as u64, "byte {n} of {}", seen.len()),
        Position::Whole => {}
    }
}

pub(crate) fn check_net(net: &IpNet) {
    assert_eq!(*net, net.trunc(), "host bits set in {net}");
}

fn check_range(start: IpAddr, end: IpAddr) {
    assert_eq!(
        start.is_ipv4(),
        end.is_ipv4(),
        "range {start}-{end} spans families"
    );
    assert!(start <= end, "range {start}-{end} ends before it starts");
}

fn check_country(country: Option<[u8; 2]>) {
    if let Some(c) = country {
        assert!(c.iter().all(u8::is_ascii_uppercase), "country {c:?}");
    }
}
