//! `oracle`: OCI `public_ip_ranges.json`.

use std::collections::HashSet;

use ipnet::IpNet;
use ipsieve_sources::{input, oracle, OraclePrefix, ParseError, Position, Timestamp};
use proptest::prelude::*;

use crate::json_shapes::{any_json, check_items, field, network, object};
use serde_json::{json, Value};

use crate::common::{
    assert_names_source, fixture_bytes, long_line, only_error, shared_data, split,
};

fn read_str(text: &str) -> Result<oracle::OracleDocument, ParseError> {
    oracle::read(text.as_bytes(), "oracle")
}

fn prefix(net: &str, region: &str, tags: &[&str]) -> OraclePrefix {
    OraclePrefix {
        net: net.parse().unwrap(),
        region: region.into(),
        tags: tags.iter().map(|t| t.to_string()).collect(),
    }
}

#[test]
fn fixture_exact_values() {
    let doc = oracle::read(&fixture_bytes("oracle-public_ip_ranges.json")[..], "oracle").unwrap();
    assert_eq!(doc.last_updated, Some(Timestamp(1_785_135_333)));
    assert_eq!(
        doc.last_updated.unwrap().to_string(),
        "2026-07-27T06:55:33Z"
    );
    let prefixes: Vec<OraclePrefix> = doc.prefixes.into_iter().map(Result::unwrap).collect();
    assert_eq!(prefixes.len(), 17);
    assert_eq!(
        prefixes[0],
        prefix("40.233.0.0/19", "mx-monterrey-1", &["OCI"])
    );
    assert_eq!(
        prefixes[4],
        prefix(
            "134.70.200.0/23",
            "mx-monterrey-1",
            &["OSN", "OBJECT_STORAGE"]
        )
    );
    assert_eq!(
        prefixes[10],
        prefix("130.110.31.0/24", "eu-jovanovac-1", &["OSN"])
    );
    assert_eq!(
        prefixes[16],
        prefix("207.127.86.0/25", "eu-jovanovac-1", &["OSN"])
    );
    assert_eq!(
        prefixes
            .iter()
            .filter(|p| p.tags.iter().any(|t| t == "OCI"))
            .count(),
        3
    );
    let located: Vec<_> =
        oracle::parse_located(&fixture_bytes("oracle-public_ip_ranges.json")[..], "o")
            .map(Result::unwrap)
            .collect();
    assert_eq!(located[0].position, Position::Line(7));
    assert_eq!(located[16].position, Position::Line(110));
}

#[test]
fn bad_entries_are_recoverable() {
    let text = String::from_utf8(fixture_bytes("oracle-public_ip_ranges.json"))
        .unwrap()
        .replace(
            "\"cidr\": \"139.177.96.0/21\"",
            "\"cidr\": \"139.177.96.0\"",
        )
        .replace(
            "\"cidr\": \"207.127.68.0/22\"",
            "\"cidr\": \"207.127.68.1/22\"",
        )
        .replace("\"region\": \"eu-jovanovac-1\"", "\"region\": 5");
    let doc = read_str(&text).unwrap();
    let errors: Vec<&ParseError> = doc
        .prefixes
        .iter()
        .filter_map(|r| r.as_ref().err())
        .collect();
    assert_eq!(doc.prefixes.len(), 11);
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].position, Position::Line(13));
    assert_eq!(
        errors[0].reason,
        "region mx-monterrey-1: cidr: missing prefix length (\"/N\")"
    );
    assert!(errors[0]
        .text
        .starts_with("{ \"cidr\": \"139.177.96.0\", \"tags\": [ \"OCI\" ] }"));
    // The whole message names the source, the line, the reason and quotes the entry.
    assert_eq!(
        errors[0].to_string(),
        "oracle: line 13: region mx-monterrey-1: cidr: missing prefix length (\"/N\") \
         (in \"{ \\\"cidr\\\": \\\"139.177.96.0\\\", \\\"tags\\\": [ \\\"OCI\\\" ] }\")"
    );
    // The whole second region is one error: its name is not a string.
    assert_eq!(errors[1].position, Position::Line(70));
    assert_eq!(
        errors[1].reason,
        "bad region: invalid type: integer `5`, expected a string"
    );
    assert!(
        errors[1].to_string().starts_with(
            "oracle: line 70: bad region: invalid type: integer `5`, expected a string (in \"{ "
        ),
        "{}",
        errors[1]
    );
}

#[test]
fn entry_shape_errors() {
    let doc = read_str(
        r#"{"regions": [{"region": "r", "cidrs": [{"cidr": "2001:db8::/32"}, {"tags": ["OCI"]},
            {"cidr": "192.0.2.0/24", "tags": null}, {"cidr": "192.0.2.0/24", "tags": "OCI"},
            ["192.0.2.0/24", ["OCI"]]]},
            ["r2", [{"cidr": "192.0.2.0/24"}]]]}"#,
    )
    .unwrap();
    let got: Vec<String> = doc
        .prefixes
        .iter()
        .map(|r| match r {
            Ok(p) => format!("{} {:?}", p.net, p.tags),
            Err(e) => e.reason.clone(),
        })
        .collect();
    assert_eq!(doc.last_updated, None);
    assert_eq!(
        got,
        [
            "2001:db8::/32 []",
            "region r: bad cidr entry: missing field `cidr`",
            "192.0.2.0/24 []",
            "region r: bad cidr entry: invalid type: string \"OCI\", expected a sequence",
            // serde would read an array into the struct's fields by position: refused.
            "region r: bad cidr entry: invalid type: sequence, expected an object",
            "bad region: invalid type: sequence, expected an object",
        ]
    );
}

#[test]
fn documents_that_are_not_oracle_ranges_are_fatal() {
    let cases = [
        ("", "invalid json (EOF while parsing a value); the file is probably truncated or not an oracle public_ip_ranges.json document"),
        ("{}", "not an oracle public_ip_ranges.json document: missing field `regions`"),
        ("[{}]", "not an oracle public_ip_ranges.json document: the top level is an array, expected an object"),
        ("{\"regions\": null}", "not an oracle public_ip_ranges.json document: invalid type: null, expected a sequence"),
    ];
    for (text, reason) in cases {
        let e = read_str(text).unwrap_err();
        assert!(e.fatal, "{text}");
        assert_eq!(e.reason, reason, "{text}");
        assert_eq!(only_error(oracle::parse(text.as_bytes(), "oracle")), e);
    }
    let bytes = fixture_bytes("oracle-public_ip_ranges.json");
    let e = oracle::read(&bytes[..bytes.len() - 10], "oracle").unwrap_err();
    assert!(e.fatal);
    assert_eq!(e.position, Position::Line(117));
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(&bytes);
    assert_eq!(
        oracle::read(&with_bom[..], "oracle")
            .unwrap()
            .prefixes
            .len(),
        17
    );
}

#[test]
fn whole_upstream_file() {
    let Some(path) = shared_data("cloud/oracle/public_ip_ranges.json") else {
        return;
    };
    let doc = oracle::read(input::open(&path).unwrap(), "oracle").unwrap();
    let (prefixes, errors) = split(doc.prefixes.into_iter(), "oracle");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(prefixes.len(), 1102);
    let regions: HashSet<&str> = prefixes.iter().map(|p| p.region.as_str()).collect();
    assert_eq!(regions.len(), 56);
    assert!(prefixes.iter().all(|p| matches!(p.net, IpNet::V4(_))));
    assert_eq!(
        prefixes
            .iter()
            .filter(|p| p.tags.iter().any(|t| t == "OBJECT_STORAGE"))
            .count(),
        68
    );
}

#[test]
fn truncated_binary_and_cut_gzip_input() {
    let e = oracle::read(&b"{\"regions\": [\"\xFF\"]}"[..], "oracle").unwrap_err();
    assert!(e.fatal);
    assert_eq!(e.reason, "json is not valid utf-8");
    let e = oracle::read(&b"{\"regions\": [\0]}"[..], "oracle").unwrap_err();
    assert!(e.fatal);
    // A long line is no problem for a document that is read whole.
    let mut long = b"{\"regions\": [], \"x\": \"".to_vec();
    long.extend(long_line(2 << 20));
    long.extend(b"\"}");
    assert!(oracle::read(&long[..], "oracle")
        .unwrap()
        .prefixes
        .is_empty());
    // CRLF line ends give the same lines.
    let crlf = String::from_utf8(fixture_bytes("oracle-public_ip_ranges.json"))
        .unwrap()
        .replace('\n', "\r\n");
    let located: Vec<_> = oracle::parse_located(crlf.as_bytes(), "oracle")
        .map(Result::unwrap)
        .collect();
    assert_eq!(located[16].position, Position::Line(110));
    // A cut gzip download is one fatal error for the whole input, nothing published.
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&fixture_bytes("oracle-public_ip_ranges.json"))
        .unwrap();
    let gz = gz.finish().unwrap();
    let whole = input::decode(std::io::Cursor::new(gz.clone())).unwrap();
    assert_eq!(oracle::parse(whole, "gz").count(), 17);
    let cut = input::decode(std::io::Cursor::new(gz[..gz.len() - 8].to_vec())).unwrap();
    let e = only_error(oracle::parse(cut, "cut"));
    assert!(e.fatal);
    assert_eq!(e.position, Position::Whole);
    assert!(e.reason.starts_with("input cannot be read"), "{e}");
}

/// A CIDR entry, mostly well-formed: a network (host bits or not), prefix-like text, or
/// anything, with tags or without.
fn cidr_entry() -> BoxedStrategy<Value> {
    let cidr = prop_oneof![
        5 => network(),
        2 => "[0-9a-f:./%]{0,24}".prop_map(Value::String),
    ]
    .boxed();
    let tags = proptest::collection::vec("OCI|OSN|OBJECT_STORAGE", 0..3)
        .prop_map(|t| json!(t))
        .boxed();
    prop_oneof![
        8 => (field(cidr), field(tags)).prop_map(|(cidr, tags)| object(&[("cidr", cidr), ("tags", tags)])),
        1 => any_json(),
    ]
    .boxed()
}

/// A region, mostly well-formed.
fn region() -> BoxedStrategy<Value> {
    let name = "[a-z]{2}-[a-z]{1,10}-1".prop_map(Value::String).boxed();
    let cidrs = proptest::collection::vec(cidr_entry(), 0..6)
        .prop_map(Value::Array)
        .boxed();
    (field(name), field(cidrs))
        .prop_map(|(name, cidrs)| object(&[("region", name), ("cidrs", cidrs)]))
        .boxed()
}

/// How many entries the parser must yield for `region`: one per CIDR entry when the region
/// reads (a string `region` and a `cidrs` array), else one error for the whole region.
fn expected_entries(region: &Value) -> usize {
    match (region.get("region"), region.get("cidrs")) {
        (Some(Value::String(_)), Some(Value::Array(cidrs))) => cidrs.len(),
        _ => 1,
    }
}

proptest! {
    /// Regions and CIDR entries of any shape inside a valid document: every region and entry
    /// is one item (accepted, or a recoverable error naming the source and a line of the
    /// document), an accepted prefix has no host bits and starts on the line the parser names.
    #[test]
    fn regions_of_any_shape_are_entries_at_their_lines(regions in proptest::collection::vec(region(), 0..6)) {
        let text = serde_json::to_string_pretty(&json!({ "regions": regions })).unwrap();
        let items: Vec<_> = oracle::parse_located(text.as_bytes(), "fuzz").collect();
        prop_assert_eq!(items.len(), regions.iter().map(expected_entries).sum::<usize>());
        check_items(items, &text, |p| p.net, '{')?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        match oracle::read(&bytes[..], "fuzz") {
            Ok(doc) => for r in doc.prefixes { if let Err(e) = r { assert_names_source(&e, "fuzz") } },
            Err(e) => { assert_names_source(&e, "fuzz"); prop_assert!(e.fatal) }
        }
    }
}
