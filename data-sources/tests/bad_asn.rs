//! `bad_asn`: brianhama `bad-asn-list.csv`, with its space-before-quote quirk.

use std::collections::HashSet;

use ipsieve_sources::asn_list::AsnEntry;
use ipsieve_sources::{bad_asn, input, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, shared_data, split};

fn parse_bytes(bytes: &[u8]) -> (Vec<AsnEntry>, Vec<ParseError>) {
    split(bad_asn::parse(bytes, "bad-asn"), "bad-asn")
}

fn entry(asn: u32, name: Option<&str>) -> AsnEntry {
    AsnEntry {
        asn,
        name: name.map(str::to_owned),
    }
}

#[test]
fn fixture_exact_values() {
    let asns = all_ok(bad_asn::parse(
        &fixture_bytes("bad-asn-list.csv")[..],
        "bad-asn",
    ));
    // 19 lines: the header and 18 entries.
    assert_eq!(asns.len(), 18);
    assert_eq!(asns[0], entry(198_375, Some("INULOGIC SARL, FR")));
    // The quirk row: `51447, "RootLayer Web Services Ltd, NL"`.
    assert_eq!(
        asns[1],
        entry(51447, Some("RootLayer Web Services Ltd, NL"))
    );
    assert_eq!(
        asns[7],
        entry(
            15497,
            Some("COLOCALL Internet Data Center \"ColoCALL\", UA")
        )
    );
    assert_eq!(
        asns[8],
        entry(
            20264,
            Some("WEBAIR-INTERNET-2 - Webair Internet Development Company Inc.")
        )
    );
    // The same AS twice, under two spellings.
    assert_eq!(
        asns[9],
        entry(49505, Some("OOO Network of data-centers Selectel"))
    );
    assert_eq!(asns[11], entry(49505, Some("SELECTEL, RU")));
    assert_eq!(asns[12], entry(395_978, Some("UNKNOWN")));
    // Quoted AS numbers.
    assert_eq!(asns[13], entry(20248, Some("Take 2 Hosting, Inc.")));
    assert_eq!(asns[17], entry(398_779, Some("ACEHOST")));
    let located: Vec<_> = bad_asn::parse_located(&fixture_bytes("bad-asn-list.csv")[..], "b")
        .map(Result::unwrap)
        .collect();
    assert_eq!(located[0].position, Position::Line(2));
    assert_eq!(located[17].position, Position::Line(19));
}

#[test]
fn a_strict_csv_reader_would_split_the_quirk_row() {
    // What the lenient handling fixes: without it the row has three fields.
    let (asns, errors) = parse_bytes(b"51447, \"RootLayer Web Services Ltd, NL\"\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        asns[0].name.as_deref(),
        Some("RootLayer Web Services Ltd, NL")
    );
    let (asns, errors) = parse_bytes(b"1,\t \"a, b\"  \n\"2\" , \"c\"\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(asns, [entry(1, Some("a, b")), entry(2, Some("c"))]);
}

#[test]
fn header_only_first_and_optional_names() {
    let (asns, errors) = parse_bytes(b"\n\nasn,entity\n1\n2,\n3,\"\"\nAS4,x\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        asns,
        [
            entry(1, None),
            entry(2, None),
            entry(3, None),
            entry(4, Some("x"))
        ]
    );
    // A header-like row after the first data line is an error like any other.
    let (asns, errors) = parse_bytes(b"1,x\nASN,Entity\n");
    assert_eq!(asns.len(), 1);
    assert_eq!(errors[0].reason, "\"ASN\" is not an as number");
    assert_eq!(errors[0].position, Position::Line(2));
}

#[test]
fn rejected_rows() {
    let cases = [
        (
            "0,\"Reserved\"",
            "as 0 is reserved (rfc 7607) and never originates a route",
        ),
        (
            "4294967296,\"Too big\"",
            "as number 4294967296 does not fit in 32 bits",
        ),
        ("x,\"Not a number\"", "\"x\" is not an as number"),
        (
            "1,\"unclosed, XX",
            "unbalanced double quote (a quoted field must end on its line)",
        ),
        ("1,a,b", "expected two fields: as number, entity (found 3)"),
        (",\"no asn\"", "\"\" is not an as number"),
    ];
    for (row, reason) in cases {
        let (asns, errors) =
            parse_bytes(format!("ASN,Entity\n3223,\"VOXILITY, RO\"\n{row}\n").as_bytes());
        assert_eq!(asns.len(), 1, "{row}");
        assert_eq!(errors.len(), 1, "{row}");
        assert_eq!(errors[0].reason, reason, "{row}");
        assert_eq!(errors[0].position, Position::Line(3));
        assert_eq!(errors[0].text, row);
    }
}

#[test]
fn hostile_inputs() {
    assert!(parse_bytes(b"").0.is_empty());
    let (asns, errors) = parse_bytes(b"\xEF\xBB\xBFASN,Entity\r\n1,\"\xFF\"\r\n");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(asns, [entry(1, Some("\u{FFFD}"))]);
    let (asns, errors) = parse_bytes(b"\0,\0\n\"\0\",\"\"\"\"\n");
    assert_eq!((asns.len(), errors.len()), (0, 2));
    let mut bytes = b"ASN,Entity\n1,\"".to_vec();
    bytes.extend(long_line(2 << 20));
    bytes.extend(b"\"\n2,x\n");
    let (asns, errors) = parse_bytes(&bytes);
    assert_eq!(asns, [entry(2, Some("x"))]);
    assert_eq!(errors.len(), 1);
}

#[test]
fn whole_upstream_list() {
    let Some(path) = shared_data("asn/brianhama-bad-asn-list/bad-asn-list.csv") else {
        return;
    };
    let (asns, errors) = split(bad_asn::parse(input::open(&path).unwrap(), "bad"), "bad");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(asns.len(), 742);
    let distinct: HashSet<u32> = asns.iter().map(|a| a.asn).collect();
    assert_eq!(distinct.len(), 723);
    assert!(asns.iter().all(|a| a.name.is_some()));
    assert!(asns.contains(&entry(51447, Some("RootLayer Web Services Ltd, NL"))));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse_bytes(&bytes);
    }

    #[test]
    fn csv_like_text_never_panics(text in "([\"0-9 ]{0,12},[ \t]{0,2}[\" ,A-Za-z]{0,20}\r?\n){0,20}") {
        let (asns, _) = parse_bytes(text.as_bytes());
        for a in asns {
            prop_assert!(a.asn != 0);
        }
    }
}
