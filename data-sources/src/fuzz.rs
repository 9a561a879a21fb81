//! Entry points for the fuzz targets in `fuzz/` and the tests that replay their findings, so
//! that each target is a one-liner. Not part of the public API.
//!
//! [`parse`] runs one parser over arbitrary bytes, drains every item and panics when an
//! invariant that must hold for *any* input breaks: the parser panics or yields more items than
//! the input could hold; an error names another source, points outside the input, quotes more
//! than [`MAX_QUOTED`] characters or is followed by more items after a fatal one; a record holds
//! a network with host bits set, a range that ends before it starts or spans both families, or
//! a country that is not two uppercase ASCII letters.

use std::io::Cursor;
use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::{Located, ParseError, Position, MAX_QUOTED};
use crate::rir::{Resource, RirRecord};
use crate::tor_consensus::ConsensusItem;
use crate::{
    asn_list, asnames, aws, azure, bad_asn, geofeed, geofeed_json, google, icloud, input,
    ip_location_db, ipcat, ipfetcher, iptoasn, mrt, mullvad, oracle, pfx2as, plain, proxy, rir,
    tor, tor_consensus,
};

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

/// Every format [`parse`] knows, by module name; [`parse_all`] indexes it with the first byte.
pub const FORMATS: &[&str] = &[
    "tor",
    "tor_consensus",
    "plain",
    "aws",
    "google",
    "pfx2as",
    "asnames",
    "iptoasn",
    "ip_location_db",
    "asn_list",
    "bad_asn",
    "ipcat",
    "azure",
    "oracle",
    "geofeed_json",
    "ipfetcher",
    "mullvad",
    "rir",
    "proxy",
    "geofeed",
    "icloud",
    "mrt",
    #[cfg(feature = "mmdb")]
    "mmdb",
];

/// Picks the format from the first byte (modulo [`FORMATS`]) and parses the rest with it.
pub fn parse_all(data: &[u8]) {
    if let Some((&first, rest)) = data.split_first() {
        parse(FORMATS[usize::from(first) % FORMATS.len()], rest);
    }
}

/// Parses `data` as `format` (a module name from [`FORMATS`]) and drains every item, checking
/// the invariants of the [module docs](self). When `data` starts with a gzip or bzip2 magic it
/// is parsed a second time through [`input::decode_with_limit`], as a source file would be.
///
/// # Panics
/// On an unknown format name, and whenever an invariant breaks (that is the point).
pub fn parse(format: &str, data: &[u8]) {
    #[cfg(feature = "mmdb")]
    if format == "mmdb" {
        return parse_mmdb(data);
    }
    run(format, Cursor::new(data), data);
    if data.starts_with(&[0x1f, 0x8b]) || data.starts_with(b"BZh") {
        let decode = || input::decode_with_limit(Cursor::new(data.to_vec()), MAX_DECOMPRESSED);
        // What the parser will see, to bound its positions (up to where decoding fails).
        let mut seen = Vec::new();
        let Ok(mut whole) = decode() else { return };
        let _ = std::io::Read::read_to_end(&mut whole, &mut seen);
        if let Ok(reader) = decode() {
            run(format, reader, &seen);
        }
    }
}

#[cfg(feature = "mmdb")]
fn parse_mmdb(data: &[u8]) {
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
            Ok(record) => check_net(&record.net),
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

/// Runs `format` over `reader`, whose content is `seen` (for position bounds).
fn run<R: std::io::BufRead>(format: &str, reader: R, seen: &[u8]) {
    // A record or an error per input byte at most, plus one for an empty document.
    let max = seen.len() + 1;
    let r = reader;
    let s = SOURCE;
    match format {
        "tor" => drain(tor::parse_located(r, s), seen, max, |e| {
            let f = &e.fingerprint;
            let hex = |b: &u8| b.is_ascii_digit() || (b'A'..=b'F').contains(b);
            assert!(
                f.len() == 40 && f.bytes().all(|b| hex(&b)),
                "fingerprint {f:?}"
            );
        }),
        "tor_consensus" => drain(tor_consensus::parse_located(r, s), seen, max, |i| {
            if let ConsensusItem::Relay(relay) = i {
                relay.addresses().for_each(drop);
            }
        }),
        "plain" => drain(plain::parse_located(r, s), seen, max, check_net),
        "aws" => drain(aws::parse_located(r, s), seen, max, |p| check_net(&p.net)),
        "google" => drain(google::parse_located(r, s), seen, max, |p| {
            check_net(&p.net)
        }),
        "pfx2as" => drain(pfx2as::parse_located(r, s), seen, max, |p| {
            check_net(&p.net);
            assert!(!p.origins.is_empty(), "pfx2as record without an origin");
        }),
        "asnames" => drain(asnames::parse_located(r, s), seen, max, |n| {
            check_country(n.country);
        }),
        "iptoasn" => drain(iptoasn::parse_located(r, s), seen, max, |x| {
            check_range(x.start, x.end);
            check_country(x.country);
        }),
        "ip_location_db" => drain(ip_location_db::parse_located(r, s), seen, max, |x| {
            check_range(x.start, x.end)
        }),
        "asn_list" => drain(asn_list::parse_located(r, s), seen, max, |_| {}),
        "bad_asn" => drain(bad_asn::parse_located(r, s), seen, max, |_| {}),
        "ipcat" => drain(ipcat::parse_located(r, s), seen, max, |x| {
            check_range(x.start, x.end)
        }),
        "azure" => drain(azure::parse_located(r, s), seen, max, |p| check_net(&p.net)),
        "oracle" => drain(oracle::parse_located(r, s), seen, max, |p| {
            check_net(&p.net)
        }),
        "geofeed_json" => drain(geofeed_json::parse_located(r, s), seen, max, |g| {
            check_net(&g.network);
            check_country(g.country);
        }),
        "ipfetcher" => drain(ipfetcher::parse_located(r, s), seen, max, check_net),
        "mullvad" => drain(mullvad::parse_located(r, s), seen, max, |m| {
            m.addresses().into_iter().for_each(drop);
        }),
        "rir" => drain(rir::parse_located(r, s), seen, max, |x| {
            if let RirRecord::Delegation(d) = x {
                check_country(d.country);
                match d.resource {
                    Resource::Ipv4 { start, end } => check_range(start.into(), end.into()),
                    Resource::Ipv6(net) => check_net(&IpNet::V6(net)),
                    Resource::Asn { first, last } => assert!(first <= last, "{first}-{last}"),
                }
                d.resource.networks().for_each(|n| check_net(&n));
            }
        }),
        "proxy" => drain(proxy::parse_located(r, s), seen, max, |_| {}),
        "geofeed" | "icloud" => {
            let check = |g: &crate::GeofeedEntry| {
                check_net(&g.network);
                check_country(g.country);
            };
            if format == "geofeed" {
                drain(geofeed::parse_located(r, s), seen, max, check)
            } else {
                drain(icloud::parse_located(r, s), seen, max, check)
            }
        }
        "mrt" => drain(mrt::parse_located(r, s), seen, max, |p| {
            check_net(&p.net);
        }),
        _ => panic!("unknown format {format:?}; see ipsieve_sources::fuzz::FORMATS"),
    }
}

/// Drains `items`, checking each error against `seen` (the bytes the parser read) and each
/// record with `check`.
fn drain<T>(
    items: impl Iterator<Item = Result<Located<T>, ParseError>>,
    seen: &[u8],
    max_items: usize,
    mut check: impl FnMut(&T),
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
                check(&located.record);
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

fn check_net(net: &IpNet) {
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
