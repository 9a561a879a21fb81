//! `aws`: `ip-ranges.json`.

use std::io::Read;

use ipnet::IpNet;
use ipsieve_sources::input::{self, MAX_DOCUMENT};
use ipsieve_sources::{aws, AwsPrefix, Position, Timestamp};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::common::{all_ok, assert_names_source, fixture, fixture_bytes, only_error};
use crate::json_shapes::{self, accepted_prefix, field, is_text, is_text_or_null, text};

fn read_str(text: &str) -> Result<aws::AwsDocument, ipsieve_sources::ParseError> {
    aws::read(text.as_bytes(), "aws")
}

fn entry(prefix_key: &str, prefix: &str) -> String {
    format!(
        r#"{{"{prefix_key}": "{prefix}", "region": "r", "service": "S", "network_border_group": "g"}}"#
    )
}

#[test]
fn fixture_exact_values() {
    let reader = input::open(&fixture("aws-ip-ranges.json")).unwrap();
    let doc = aws::read(reader, "aws").unwrap();
    assert_eq!(doc.create_date, Some(Timestamp(1_787_411_825)));
    assert_eq!(doc.create_date.unwrap().to_string(), "2026-08-22T15:17:05Z");
    assert_eq!(doc.sync_token.as_deref(), Some("1787411825"));
    let prefixes: Vec<AwsPrefix> = doc.prefixes.into_iter().map(Result::unwrap).collect();
    assert_eq!(prefixes.len(), 10);
    assert_eq!(
        prefixes[0],
        AwsPrefix {
            net: "3.4.12.4/32".parse().unwrap(),
            region: "eu-west-1".into(),
            service: "AMAZON".into(),
            network_border_group: "eu-west-1".into(),
        }
    );
    // Duplicates across services are kept, in file order.
    let dups: Vec<&str> = prefixes
        .iter()
        .filter(|p| p.net.to_string() == "3.5.140.0/22")
        .map(|p| p.service.as_str())
        .collect();
    assert_eq!(dups, ["AMAZON", "S3", "EC2"]);
    assert_eq!(
        prefixes[7].net,
        "2406:daba:f000::/40".parse::<IpNet>().unwrap()
    );
    assert_eq!(prefixes[7].region, "ap-southeast-4");
    assert!(prefixes[..7].iter().all(|p| matches!(p.net, IpNet::V4(_))));
    assert!(prefixes[7..].iter().all(|p| matches!(p.net, IpNet::V6(_))));
}

#[test]
fn parse_is_read_flattened() {
    let bytes = fixture_bytes("aws-ip-ranges.json");
    let doc = aws::read(&bytes[..], "aws").unwrap();
    assert_eq!(
        aws::parse(&bytes[..], "aws").collect::<Vec<_>>(),
        doc.prefixes
    );
    assert_eq!(all_ok(aws::parse(&bytes[..], "aws")).len(), 10);
}

#[test]
fn a_bad_entry_is_recoverable_at_its_line() {
    let text = String::from_utf8(fixture_bytes("aws-ip-ranges.json"))
        .unwrap()
        .replace("15.190.244.0/22", "15.190.244.0/99")
        .replace("2406:daf9:a800::/40", "2406:daf9:a800::1/40");
    let doc = read_str(&text).unwrap();
    let errors: Vec<_> = doc
        .prefixes
        .iter()
        .filter_map(|r| r.as_ref().err())
        .collect();
    assert_eq!(doc.prefixes.len(), 10);
    assert_eq!(errors.len(), 2);
    // The entries' `{` are on lines 17 and 55.
    assert_eq!(errors[0].position, Position::Line(17));
    assert_eq!(
        errors[0].reason,
        "ip_prefix: prefix length 99 is longer than 32"
    );
    assert!(
        errors[0]
            .text
            .starts_with(r#"{ "ip_prefix": "15.190.244.0/99", "region""#),
        "{}",
        errors[0].text
    );
    assert!(!errors[0].fatal);
    assert_eq!(errors[1].position, Position::Line(55));
    assert_eq!(
        errors[1].reason,
        "ipv6_prefix: host bits set after the prefix length (the network is 2406:daf9:a800::/40)"
    );
    assert_eq!(text.lines().nth(54).unwrap().trim(), "{");
    assert!(text
        .lines()
        .nth(55)
        .unwrap()
        .contains("2406:daf9:a800::1/40"));
}

#[test]
fn entry_shape_errors() {
    let doc = format!(
        r#"{{"prefixes": [{}, {}, 7, {{"ip_prefix": "192.0.2.0/24"}}, {}, {}],
            "ipv6_prefixes": [{}]}}"#,
        entry("ip_prefix", "192.0.2.0/24"),
        entry("ip_prefix", "2001:db8::/32"),
        entry("ipv6_prefix", "192.0.2.0/24"),
        entry("ip_prefix", "192.0.2.1"),
        entry("ipv6_prefix", "2001:db8::/32"),
    );
    let doc = read_str(&doc).unwrap();
    assert_eq!(doc.create_date, None);
    let reasons: Vec<String> = doc
        .prefixes
        .iter()
        .map(|r| match r {
            Ok(p) => p.net.to_string(),
            Err(e) => {
                assert_names_source(e, "aws");
                assert_eq!(e.position, Position::Line(1));
                e.reason.clone()
            }
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "192.0.2.0/24",
            "ip_prefix holds \"2001:db8::/32\", of the other address family",
            "bad prefix entry: invalid type: integer `7`, expected struct RawEntry",
            "bad prefix entry: missing field `region`",
            "bad prefix entry: missing field `ip_prefix`",
            "ip_prefix: missing prefix length (\"/N\")",
            "2001:db8::/32",
        ]
    );
}

#[test]
fn documents_that_are_not_ip_ranges_are_fatal() {
    let cases = [
        ("", 1, "invalid json (EOF while parsing a value); the file is probably truncated or not an aws ip-ranges.json document"),
        ("{\"prefixes\": [\n{", 2, "invalid json (EOF while parsing an object); the file is probably truncated or not an aws ip-ranges.json document"),
        ("garbage", 1, "invalid json (expected value); the file is probably truncated or not an aws ip-ranges.json document"),
        ("[]", 1, "not an aws ip-ranges.json document: the top level is an array, expected an object"),
        (" [\"1\", \"2\", [], []]", 1, "not an aws ip-ranges.json document: the top level is an array, expected an object"),
        ("\"x\"", 1, "not an aws ip-ranges.json document: invalid type: string \"x\", expected struct RawDocument"),
        ("{}", 1, "not an aws ip-ranges.json document: it has no \"prefixes\" or \"ipv6_prefixes\" array"),
        ("{\"prefixes\": 5}", 1, "not an aws ip-ranges.json document: invalid type: integer `5`, expected a sequence"),
        ("{\"syncToken\": 1e999999, \"prefixes\": []}", 1, "invalid json (number out of range); the file is probably truncated or not an aws ip-ranges.json document"),
        ("{\"prefixes\": []} trailing", 1, "invalid json (trailing characters); the file is probably truncated or not an aws ip-ranges.json document"),
    ];
    for (text, line, reason) in cases {
        let e = read_str(text).unwrap_err();
        assert!(e.fatal, "{text}");
        assert_eq!(e.position, Position::Line(line), "{text}");
        assert_eq!(e.reason, reason, "{text}");
        let e2 = only_error(aws::parse(text.as_bytes(), "aws"));
        assert_eq!(e2, e);
    }
}

#[test]
fn truncated_and_binary_input() {
    let bytes = fixture_bytes("aws-ip-ranges.json");
    let e = aws::read(&bytes[..bytes.len() / 2], "aws").unwrap_err();
    assert!(e.fatal);
    assert!(matches!(e.position, Position::Line(n) if n > 20));
    let e = aws::read(&b"{\"prefixes\": [\"\xFF\"]}"[..], "aws").unwrap_err();
    assert_eq!(e.reason, "json is not valid utf-8");
    let e = aws::read(&b"{\"prefixes\": [\0]}"[..], "aws").unwrap_err();
    assert!(e.fatal);
    // A BOM is tolerated.
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(&bytes);
    assert_eq!(aws::read(&with_bom[..], "aws").unwrap().prefixes.len(), 10);
}

#[test]
fn zone_ids_and_huge_numbers_in_entries() {
    let doc = format!(
        r#"{{"ipv6_prefixes": [{}, {}]}}"#,
        entry("ipv6_prefix", "fe80::%eth0/64"),
        entry("ipv6_prefix", "2001:db8::/184467440737095516160"),
    );
    let doc = read_str(&doc).unwrap();
    let reasons: Vec<_> = doc
        .prefixes
        .iter()
        .map(|r| r.as_ref().unwrap_err().reason.as_str())
        .collect();
    assert_eq!(
        reasons,
        [
            "ipv6_prefix: ipv6 zone ids (\"%...\") are not allowed",
            "ipv6_prefix: prefix length is not a number from 0 to 128",
        ]
    );
}

#[test]
fn oversized_documents_are_refused() {
    let reader = std::io::repeat(b' ').take(MAX_DOCUMENT + 1);
    let e = aws::read(reader, "aws").unwrap_err();
    assert!(e.fatal);
    assert_eq!(e.position, Position::Whole);
    assert!(
        e.reason.starts_with("document larger than 268435456 bytes"),
        "{e}"
    );
}

#[test]
fn an_array_entry_is_not_read_by_position() {
    // Five strings would fill `ip_prefix`, `ipv6_prefix`, `region`, … in order: refused.
    let doc = "{\"prefixes\": [\n\n  [\"192.0.2.0/24\", null, \"r\", \"S\", \"g\"]\n]}";
    let e = only_error(aws::parse(doc.as_bytes(), "aws"));
    assert_eq!(
        e.reason,
        "bad prefix entry: invalid type: sequence, expected an object"
    );
    assert_eq!(e.position, Position::Line(3));
    assert_eq!(e.text, r#"["192.0.2.0/24", null, "r", "S", "g"]"#);
    assert!(!e.fatal);
}

/// An entry of `prefixes[]` (or `ipv6_prefixes[]`): mostly well-formed, fields sometimes of
/// another kind or missing, sometimes not an object at all.
fn aws_entry() -> BoxedStrategy<Value> {
    let fields = (
        field(json_shapes::network()),
        field(json_shapes::network()),
        field(text("[a-z0-9-]{0,12}")),
        field(text("[A-Z0-9_]{0,10}")),
        field(text("[a-z0-9-]{0,12}")),
    )
        .prop_map(|(v4, v6, region, service, group)| {
            vec![
                ("ip_prefix", v4),
                ("ipv6_prefix", v6),
                ("region", region),
                ("service", service),
                ("network_border_group", group),
            ]
        })
        .boxed();
    json_shapes::entry(fields)
}

/// The record the parser must make of `entry` in the IPv6 array or not, or `None` for an error.
fn expected(entry: &Value, v6: bool) -> Option<AwsPrefix> {
    let e = entry.as_object()?;
    let key = if v6 { "ipv6_prefix" } else { "ip_prefix" };
    let strings = ["region", "service", "network_border_group"];
    let shaped = is_text_or_null(e.get("ip_prefix"))
        && is_text_or_null(e.get("ipv6_prefix"))
        && strings.iter().all(|k| is_text(e.get(*k)));
    let net = accepted_prefix(e.get(key)?.as_str()?, v6).filter(|_| shaped)?;
    let text = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
    Some(AwsPrefix {
        net,
        region: text("region"),
        service: text("service"),
        network_border_group: text("network_border_group"),
    })
}

proptest! {
    /// Entries of any shape inside a valid document: each is exactly one item, in order, the
    /// record the entry holds or a recoverable error naming the source and the line where the
    /// entry starts.
    #[test]
    fn entries_of_any_shape_are_one_item_at_their_line(
        v4 in proptest::collection::vec(aws_entry(), 0..6),
        v6 in proptest::collection::vec(aws_entry(), 0..6),
    ) {
        let text = serde_json::to_string_pretty(
            &json!({ "syncToken": "1", "prefixes": v4, "ipv6_prefixes": v6 }),
        ).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let items: Vec<_> = aws::parse_located(text.as_bytes(), "fuzz").collect();
        let entries: Vec<(&Value, bool)> =
            v4.iter().map(|e| (e, false)).chain(v6.iter().map(|e| (e, true))).collect();
        prop_assert_eq!(items.len(), entries.len());
        // Lines grow within each array (`ipv6_prefixes` is written first, its items read last).
        let mut last_line = 0;
        for (i, (item, (entry, v6))) in items.into_iter().zip(entries).enumerate() {
            if i == v4.len() {
                last_line = 0;
            }
            let (line, got) = match item {
                Ok(l) => (l.position, Some(l.record)),
                Err(e) => {
                    assert_names_source(&e, "fuzz");
                    prop_assert!(!e.fatal, "{}", e);
                    (e.position, None)
                }
            };
            prop_assert_eq!(got, expected(entry, v6), "{}", entry);
            // Pretty-printed, each entry starts a line of its own, with its first character.
            let Position::Line(n) = line else { panic!("{line:?}") };
            prop_assert!(n > last_line && (n as usize) <= lines.len(), "line {} of {}", n, text);
            let first = serde_json::to_string(entry).unwrap().chars().next().unwrap();
            prop_assert!(lines[n as usize - 1].trim_start().starts_with(first), "line {}: {}", n, text);
            last_line = n;
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        match aws::read(&bytes[..], "fuzz") {
            Ok(doc) => for r in doc.prefixes { if let Err(e) = r { assert_names_source(&e, "fuzz") } },
            Err(e) => { assert_names_source(&e, "fuzz"); prop_assert!(e.fatal) }
        }
    }
}
