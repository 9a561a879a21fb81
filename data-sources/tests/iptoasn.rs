//! `iptoasn`: iptoasn.com `ip2asn-*.tsv`.

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;

use ipsieve_sources::iptoasn::{self, IptoasnRange};
use ipsieve_sources::{input, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, shared_data, split};

fn parse_bytes(bytes: &[u8]) -> (Vec<IptoasnRange>, Vec<ParseError>) {
    split(iptoasn::parse(bytes, "ip2asn"), "ip2asn")
}

fn addr(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn range(start: &str, end: &str, asn: u32, cc: Option<&[u8; 2]>, desc: &str) -> IptoasnRange {
    IptoasnRange {
        start: addr(start),
        end: addr(end),
        asn,
        country: cc.copied(),
        description: desc.into(),
    }
}

#[test]
fn fixture_exact_values() {
    let rows = all_ok(iptoasn::parse(
        &fixture_bytes("ip2asn-v4.tsv")[..],
        "ip2asn",
    ));
    assert_eq!(rows.len(), 24);
    // Single-address rows, the first two of the file.
    assert_eq!(
        rows[0],
        range(
            "1.1.1.0",
            "1.1.1.0",
            13335,
            Some(b"US"),
            "CLOUDFLARENET - Cloudflare, Inc."
        )
    );
    assert_eq!(
        rows[1],
        range(
            "1.1.1.1",
            "1.1.1.1",
            7497,
            Some(b"CN"),
            "CSTNET-AS-AP Computer Network Information Center"
        )
    );
    assert_eq!(rows[1].country_str(), Some("CN"));
    // Not CIDR-aligned: 1.1.1.2–1.1.1.255.
    assert_eq!(
        (rows[2].start, rows[2].end),
        (addr("1.1.1.2"), addr("1.1.1.255"))
    );
    assert_eq!(
        rows[17],
        range(
            "104.132.3.0",
            "104.132.3.255",
            41264,
            Some(b"CH"),
            "GOOGLE-IT-RO-ISP"
        )
    );
    assert_eq!(rows[21].country_str(), Some("LU"));
    assert_eq!(rows[23].end, addr("216.252.223.255"));
    assert!(rows.iter().all(IptoasnRange::is_routed));
    let mut per_asn: HashMap<u32, usize> = HashMap::new();
    for r in &rows {
        *per_asn.entry(r.asn).or_default() += 1;
    }
    assert_eq!(
        (per_asn[&15169], per_asn[&13335], per_asn.len()),
        (8, 3, 14)
    );
}

#[test]
fn located_lines() {
    let located: Vec<_> = iptoasn::parse_located(&b"\n1.0.0.0\t1.0.0.255\t13335\tUS\tX\n"[..], "t")
        .map(Result::unwrap)
        .collect();
    assert_eq!(located.len(), 1);
    assert_eq!(located[0].position, Position::Line(2));
}

#[test]
fn unrouted_rows_are_yielded_and_marked() {
    // The full upstream file writes unrouted space this way.
    let (rows, errors) = parse_bytes(b"0.0.0.0\t0.255.255.255\t0\tNone\tNot routed\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        rows,
        [range("0.0.0.0", "0.255.255.255", 0, None, "Not routed")]
    );
    assert!(!rows[0].is_routed());
}

#[test]
fn ipv6_unknown_countries_and_edges() {
    let text =
        "2001:200::\t2001:200:ffff:ffff:ffff:ffff:ffff:ffff\t2500\tJP\tWIDE-BB WIDE Project\n\
                ::\t::\t4294967295\tUnknown\t\n\
                1.0.0.0\t1.0.0.255\t1\tus\t  spaced  \r\n\
                1.0.0.0\t1.0.0.255\t1\t\tempty country\n";
    let (rows, errors) = parse_bytes(text.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows[0].end, addr("2001:200:ffff:ffff:ffff:ffff:ffff:ffff"));
    assert_eq!((rows[1].asn, rows[1].country), (u32::MAX, None));
    assert_eq!(rows[1].description, "");
    assert_eq!(rows[2].country_str(), Some("US"));
    assert_eq!(rows[2].description, "spaced");
    assert_eq!(rows[3].country, None);
}

#[test]
fn rejected_rows() {
    let cases = [
        (
            "1.0.0.255\t1.0.0.0\t13335\tUS\tX",
            "range 1.0.0.255-1.0.0.0 ends before it starts (reversed)",
        ),
        (
            "1.0.0.0\t::1\t13335\tUS\tX",
            "range 1.0.0.0-::1 mixes ipv4 and ipv6",
        ),
        (
            "1.0.0.0\t1.0.0.255\t4294967296\tUS\tX",
            "as number 4294967296 does not fit in 32 bits",
        ),
        (
            "1.0.0.0\t1.0.0.255\t99999999999999999999999\tUS\tX",
            "as number 99999999999999999999999 does not fit in 32 bits",
        ),
        (
            "1.0.0.0\t1.0.0.255\tAS13335\tUS\tX",
            "\"AS13335\" is not an as number",
        ),
        (
            "1.0.0.0\t1.0.0.255\t-1\tUS\tX",
            "\"-1\" is not an as number",
        ),
        (
            "1.0.0.0\t1.0.0.255\t13335\tUSA\tX",
            "country \"USA\" is not a two-letter code",
        ),
        (
            "1.0.0.0/24\t1.0.0.255\t13335\tUS\tX",
            "range start: not an ip address or network",
        ),
        (
            "1.0.0.0\t010.0.0.255\t13335\tUS\tX",
            "range end: ipv4 octet with a leading zero (octal or decimal?)",
        ),
        (
            "1.0.0.0 1.0.0.255 13335 US X",
            "expected five tab-separated fields: range start, range end, as number, country, \
             description",
        ),
        (
            "1.0.0.0\t1.0.0.255\t13335\tUS",
            "expected five tab-separated fields: range start, range end, as number, country, \
             description",
        ),
        (
            "1.0.0.0\t1.0.0.255\t13335\tUS\tX\ttoo many",
            "expected five tab-separated fields: range start, range end, as number, country, \
             description",
        ),
    ];
    for (row, reason) in cases {
        let (rows, errors) =
            parse_bytes(format!("1.1.1.0\t1.1.1.0\t13335\tUS\tC\n{row}\n").as_bytes());
        assert_eq!(rows.len(), 1, "{row}");
        assert_eq!(errors.len(), 1, "{row}");
        assert_eq!(errors[0].reason, reason, "{row}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, row);
        assert!(!errors[0].fatal);
        assert!(errors[0].to_string().starts_with("ip2asn: line 2: "));
    }
}

#[test]
fn hostile_inputs() {
    assert!(parse_bytes(b"").0.is_empty());
    let (rows, errors) = parse_bytes(b"\xEF\xBB\xBF1.1.1.0\t1.1.1.0\t13335\tUS\tC\r\n\r\n\t\t\n");
    assert_eq!((rows.len(), errors.len()), (1, 0));
    let (rows, errors) = parse_bytes(b"\0\t\0\t\0\t\0\t\0\n1.1.1.0\t1.1.1.0\t13335\tUS\tCaf\xE9\n");
    assert_eq!((rows.len(), errors.len()), (1, 1));
    assert_eq!(rows[0].description, "Caf\u{FFFD}");
    let mut bytes = long_line(2 << 20);
    bytes.extend(b"\n1.1.1.0\t1.1.1.0\t13335\tUS\tC\n");
    let (rows, errors) = parse_bytes(&bytes);
    assert_eq!((rows.len(), errors.len()), (1, 1));
    assert_eq!(errors[0].position, Position::Line(1));
}

#[test]
fn truncated_gzip_keeps_rows_then_fails() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&fixture_bytes("ip2asn-v4.tsv")).unwrap();
    let gz = gz.finish().unwrap();
    let whole = input::decode(std::io::Cursor::new(gz.clone())).unwrap();
    assert_eq!(all_ok(iptoasn::parse(whole, "gz")).len(), 24);
    let cut = input::decode(std::io::Cursor::new(gz[..gz.len() - 12].to_vec())).unwrap();
    let (rows, errors) = split(iptoasn::parse(cut, "cut"), "cut");
    assert!(rows.len() >= 20, "{}", rows.len());
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fatal);
}

#[test]
fn whole_upstream_excerpt() {
    let Some(path) = shared_data("bgp/ip2asn/ip2asn-v4.tsv") else {
        return;
    };
    let (rows, errors) = split(
        iptoasn::parse(input::open(&path).unwrap(), "ip2asn"),
        "ip2asn",
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(rows.len(), 1427);
    assert_eq!(rows.iter().filter(|r| r.asn == 13335).count(), 641);
    assert_eq!(rows.iter().filter(|r| r.asn == 15169).count(), 544);
    assert_eq!(
        rows.iter()
            .filter(|r| r.country_str() == Some("CH"))
            .count(),
        88
    );
    assert!(rows.iter().all(|r| r.start <= r.end && r.is_routed()));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn row_like_text_never_panics(text in "([0-9a-f:.]{0,16}\t[0-9a-f:.]{0,16}\t[0-9]{0,12}\t[A-Za-z]{0,4}\t[ -~]{0,20}\r?\n){0,20}") {
        let (rows, _) = parse_bytes(text.as_bytes());
        for r in rows {
            prop_assert!(r.start <= r.end);
            prop_assert_eq!(r.start.is_ipv4(), r.end.is_ipv4());
        }
    }
}
