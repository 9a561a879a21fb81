//! CAIDA RouteViews prefix-to-AS files (`routeviews-rv2-*.pfx2as`, `routeviews-rv6-*`).
//!
//! One tab-separated row per routed prefix, no header: `1.0.0.0\t24\t13335`. The origin
//! field is one ASN, or several: `24151_24409` lists the origins of a multi-origin prefix
//! (MOAS), `45271,55644` an AS_SET from an aggregated route, and the two combine
//! (`209_3356,6223,6224,19901`: split on `_` first, then on `,`).
//!
//! Rejected, one error per row: a row without exactly three fields, an address that does not
//! parse, a prefix length that is not 0–32 (IPv4) or 0–128 (IPv6), an address with host bits
//! set after the prefix length (CAIDA writes canonical prefixes, so this is corruption), and an
//! origin that is empty or not a 32-bit ASN. Blank lines are skipped. AS 0 is yielded as
//! written; the builder refuses it as a primary origin (RFC 7607: no route originates from
//! AS 0).

use std::io::BufRead;

use ipnet::IpNet;

use crate::error::{Located, ParseError};
use crate::input::{LineFormat, Parsed, Sink};
use crate::net::{self, HostBits};

/// One routed prefix and the AS(es) originating it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Pfx2AsRecord {
    /// The routed prefix.
    pub net: IpNet,
    /// Origin ASNs in file order without repeats; the first is the primary origin. Never empty.
    pub origins: Vec<u32>,
    /// How the origin field was written.
    pub kind: OriginKind,
}

/// The shape of a pfx2as origin field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OriginKind {
    /// One ASN: `13335`.
    Single,
    /// Several origins seen for the prefix (MOAS): `24151_24409`.
    MultiOrigin,
    /// An AS_SET from an aggregated route: `45271,55644`.
    AsSet,
    /// Both: `209_3356,6223,6224,19901`.
    Mixed,
}

/// Streams the records of a prefix-to-AS file (IPv4 or IPv6).
///
/// ```
/// use ipsieve_sources::pfx2as::{self, OriginKind};
///
/// let rows = "1.0.0.0\t24\t13335\n67.14.0.0\t17\t209_3356,6223,6224,19901\n";
/// let recs: Vec<_> = pfx2as::parse(rows.as_bytes(), "pfx2as").map(Result::unwrap).collect();
/// assert_eq!(recs[0].net.to_string(), "1.0.0.0/24");
/// assert_eq!((recs[0].origins.as_slice(), recs[0].kind), (&[13335][..], OriginKind::Single));
/// assert_eq!(recs[1].origins, [209, 3356, 6223, 6224, 19901]);
/// assert_eq!(recs[1].kind, OriginKind::Mixed);
/// ```
///
/// # Errors
/// Items are `Err` for rejected rows (see the [module docs](self)), and a final fatal error
/// when the input cannot be read to its end. Never panics.
pub fn parse<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Pfx2AsRecord, ParseError>> {
    parse_located(reader, source_name).map(|r| r.map(Located::into_record))
}

/// As [`parse`], each record with the line it was read from.
///
/// # Errors
/// As [`parse`].
pub fn parse_located<R: BufRead>(
    reader: R,
    source_name: &str,
) -> impl Iterator<Item = Result<Located<Pfx2AsRecord>, ParseError>> {
    Parsed::new(reader, source_name, Pfx2As)
}

#[derive(Debug)]
struct Pfx2As;

impl LineFormat for Pfx2As {
    type Record = Pfx2AsRecord;

    fn line(&mut self, text: &str, out: &mut Sink<'_, Pfx2AsRecord>) {
        let mut fields = text.split_ascii_whitespace();
        let (Some(addr), Some(len), Some(origin), None) =
            (fields.next(), fields.next(), fields.next(), fields.next())
        else {
            if !text.trim().is_empty() {
                out.error(
                    "expected three fields: address, prefix length, origin",
                    text,
                );
            }
            return;
        };
        match record(addr, len, origin) {
            Ok(rec) => out.record(rec),
            Err(reason) => out.error(reason, text),
        }
    }
}

fn record(addr: &str, len: &str, origin: &str) -> Result<Pfx2AsRecord, String> {
    let addr = net::parse_addr(addr)?;
    let len = net::parse_len(len, addr)?;
    let net = net::make_net(addr, len, HostBits::Reject)?;
    let (origins, kind) = parse_origins(origin)?;
    Ok(Pfx2AsRecord { net, origins, kind })
}

fn parse_origins(field: &str) -> Result<(Vec<u32>, OriginKind), String> {
    let kind = match (field.contains('_'), field.contains(',')) {
        (false, false) => OriginKind::Single,
        (true, false) => OriginKind::MultiOrigin,
        (false, true) => OriginKind::AsSet,
        (true, true) => OriginKind::Mixed,
    };
    let mut origins = Vec::with_capacity(if kind == OriginKind::Single { 1 } else { 4 });
    for asn in field.split('_').flat_map(|part| part.split(',')) {
        let asn =
            net::parse_asn(asn).ok_or_else(|| format!("origin {asn:?} is not a 32-bit asn"))?;
        if !origins.contains(&asn) {
            origins.push(asn);
        }
    }
    Ok((origins, kind))
}

/// This format in the [registry](crate::formats): its records, and what each asserts.
pub(crate) struct Parser;

impl crate::formats::Parse for Parser {
    const MODULE: &'static str = "pfx2as";
    type Record = Pfx2AsRecord;

    fn parse(
        reader: Box<dyn BufRead + Send>,
        source: &str,
    ) -> impl Iterator<Item = Result<Located<Pfx2AsRecord>, ParseError>> {
        parse_located(reader, source)
    }

    fn entries(r: Pfx2AsRecord) -> impl Iterator<Item = crate::formats::Entry> {
        use crate::formats::{Attrs, Entry};
        let attrs = Attrs {
            asn: r.origins.first().copied(),
            ..Attrs::default()
        };
        std::iter::once(Entry::Net(r.net, attrs))
    }

    fn check(r: &Pfx2AsRecord) {
        assert!(!r.origins.is_empty(), "pfx2as record without an origin");
    }
}
