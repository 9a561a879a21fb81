//! `asn_list`: X4BNet `ASN.txt`.

use std::collections::HashSet;

use ipsieve_sources::asn_list::{self, AsnEntry};
use ipsieve_sources::{input, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, shared_data, split};

fn parse_bytes(bytes: &[u8]) -> (Vec<AsnEntry>, Vec<ParseError>) {
    split(asn_list::parse(bytes, "x4b"), "x4b")
}

fn entry(asn: u32, name: Option<&str>) -> AsnEntry {
    AsnEntry {
        asn,
        name: name.map(str::to_owned),
    }
}

#[test]
fn datacenter_fixture_exact_values() {
    let asns = all_ok(asn_list::parse(
        &fixture_bytes("x4bnet-datacenter-ASN.txt")[..],
        "x4b-dc",
    ));
    assert_eq!(asns.len(), 22);
    assert_eq!(
        asns[0],
        entry(
            45090,
            Some("Tencent cloud computing, they dont really monitor their network")
        )
    );
    assert_eq!(asns[1], entry(3223, Some("VOXILITY, RO")));
    // A comment holding `#` is kept whole.
    assert_eq!(
        asns[12],
        entry(42473, Some("ANEXIA-AS A-9020 # Klagenfurt, AT"))
    );
    assert_eq!(
        asns[15],
        entry(
            21342,
            Some("Akami Internation #2 - https://asn.ipinfo.app/AS21342")
        )
    );
    // Two spaces, then a tab, before `#`.
    assert_eq!(asns[14], entry(8560, Some("IONOS SE")));
    assert_eq!(asns[16], entry(55286, Some("SERVER-MANIA, CA")));
    // Repeats are yielded: AS8560 and AS20773 appear twice with different comments.
    assert_eq!(asns[10], entry(8560, Some("ONEANDONE-AS / IONOS, DE")));
    assert_eq!(asns[19], entry(20773, Some("GODADDY, DE")));
    let distinct: HashSet<u32> = asns.iter().map(|a| a.asn).collect();
    assert_eq!(distinct.len(), 20);
    assert_eq!(asns[21].asn, 137_373);
}

#[test]
fn vpn_fixture_is_the_whole_list() {
    let asns = all_ok(asn_list::parse(
        &fixture_bytes("x4bnet-vpn-ASN.txt")[..],
        "x4b-vpn",
    ));
    assert_eq!(asns.len(), 15);
    assert_eq!(asns[0], entry(9009, Some("M247, GB (NordVPN)")));
    assert!(asns.contains(&entry(60729, Some("Tor Servers (Tor exit nodes)"))));
    assert_eq!(
        asns[14],
        entry(
            208_172,
            Some("ProtonVPN (https://github.com/X4BNet/lists_vpn/issues/248)")
        )
    );
}

#[test]
fn comments_blanks_and_spellings() {
    let text =
        "# header comment\n\n   \nAS1\nas2 #\n3 # bare number\nAS4294967295\t#\tlast\r\n  AS5  ";
    let (asns, errors) = parse_bytes(text.as_bytes());
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        asns,
        [
            entry(1, None),
            entry(2, None),
            entry(3, Some("bare number")),
            entry(u32::MAX, Some("last")),
            entry(5, None),
        ]
    );
    let located: Vec<_> = asn_list::parse_located(text.as_bytes(), "x4b")
        .map(Result::unwrap)
        .collect();
    assert_eq!(located[0].position, Position::Line(4));
    assert_eq!(located[4].position, Position::Line(8));
}

#[test]
fn rejected_lines() {
    let cases = [
        (
            "AS0 # reserved",
            "as 0 is reserved (rfc 7607) and never originates a route",
        ),
        (
            "AS4294967296 # too big",
            "as number 4294967296 does not fit in 32 bits",
        ),
        (
            "AS99999999999999999999 # too big",
            "as number 99999999999999999999 does not fit in 32 bits",
        ),
        ("AS # nothing", "\"AS\" is not an as number"),
        ("ASX1", "\"ASX1\" is not an as number"),
        ("AS-1", "\"AS-1\" is not an as number"),
        ("AS1.5", "\"AS1.5\" is not an as number"),
        (
            "AS1 AS2",
            "expected one \"AS<number>\", then optionally \"#\" and a comment",
        ),
        (
            "AS1 comment without hash",
            "expected one \"AS<number>\", then optionally \"#\" and a comment",
        ),
        ("\0", "\"\\0\" is not an as number"),
    ];
    for (line, reason) in cases {
        let (asns, errors) = parse_bytes(format!("AS1 # ok\n{line}\n").as_bytes());
        assert_eq!(asns.len(), 1, "{line}");
        assert_eq!(errors.len(), 1, "{line}");
        assert_eq!(errors[0].reason, reason, "{line}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, line);
    }
}

#[test]
fn hostile_inputs() {
    assert!(parse_bytes(b"").0.is_empty());
    let (asns, errors) = parse_bytes(b"\xEF\xBB\xBFAS1 # caf\xE9\r\n");
    assert!(errors.is_empty());
    assert_eq!(asns, [entry(1, Some("caf\u{FFFD}"))]);
    let mut bytes = b"AS1 # ".to_vec();
    bytes.extend(long_line(2 << 20));
    bytes.extend(b"\nAS2\n");
    let (asns, errors) = parse_bytes(&bytes);
    assert_eq!((asns.len(), errors.len()), (1, 1));
    assert_eq!(asns[0].asn, 2);
}

#[test]
fn whole_upstream_lists() {
    for (rel, want, distinct) in [
        ("asn/x4bnet-lists_vpn/input/datacenter/ASN.txt", 906, 892),
        ("asn/x4bnet-lists_vpn/input/vpn/ASN.txt", 15, 15),
    ] {
        let Some(path) = shared_data(rel) else {
            return;
        };
        let (asns, errors) = split(asn_list::parse(input::open(&path).unwrap(), rel), rel);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(asns.len(), want, "{rel}");
        let set: HashSet<u32> = asns.iter().map(|a| a.asn).collect();
        assert_eq!(set.len(), distinct, "{rel}");
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn list_like_text_never_panics(text in "((AS|as)?[0-9]{0,12}[ \t]{0,3}(#[ -~]{0,20})?\r?\n){0,20}") {
        let (asns, _) = parse_bytes(text.as_bytes());
        for a in asns {
            prop_assert!(a.asn != 0);
            prop_assert!(a.name.as_deref() != Some(""));
        }
    }
}
