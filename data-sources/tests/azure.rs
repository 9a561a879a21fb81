//! `azure`: Service Tags JSON.

use std::collections::HashSet;
use std::io::Read;

use ipnet::IpNet;
use ipsieve_sources::input::{self, MAX_DOCUMENT};
use ipsieve_sources::{azure, AzurePrefix, ParseError, Position};
use proptest::prelude::*;

use crate::json_shapes::{any_json, check_items, field, network, object};
use serde_json::{json, Value};

use crate::common::{assert_names_source, fixture, fixture_bytes, only_error, shared_data, split};

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn read_str(text: &str) -> Result<azure::AzureDocument, ParseError> {
    azure::read(text.as_bytes(), "azure")
}

#[test]
fn fixture_exact_values() {
    let doc = azure::read(
        input::open(&fixture("azure-service-tags.json")).unwrap(),
        "azure",
    )
    .unwrap();
    assert_eq!(doc.change_number, Some(398));
    assert_eq!(doc.cloud.as_deref(), Some("Public"));
    let prefixes: Vec<AzurePrefix> = doc.prefixes.into_iter().map(Result::unwrap).collect();
    assert_eq!(prefixes.len(), 56);
    assert_eq!(
        prefixes[0],
        AzurePrefix {
            net: net("13.73.248.32/28"),
            tag: "AzureOpenDatasets".into(),
            region: String::new(),
            system_service: "AzureOpenDatasets".into(),
        }
    );
    assert_eq!(
        prefixes[50],
        AzurePrefix {
            net: net("20.37.224.192/28"),
            tag: "AzureOpenDatasets.AustraliaCentral".into(),
            region: "australiacentral".into(),
            system_service: "AzureOpenDatasets".into(),
        }
    );
    // IPv4 and IPv6 mixed in one tag; `AzureCloud.*` tags have no system service.
    let brazil: Vec<&AzurePrefix> = prefixes[52..].iter().collect();
    assert!(brazil.iter().all(|p| p.tag == "AzureCloud.brazilne"
        && p.region == "brazilne"
        && p.system_service.is_empty()));
    assert_eq!(brazil[0].net, net("23.97.112.224/27"));
    assert_eq!(brazil[3].net, net("2603:1061:1315::/54"));
    assert_eq!(
        prefixes
            .iter()
            .filter(|p| matches!(p.net, IpNet::V6(_)))
            .count(),
        3
    );
    // The regional tags repeat prefixes of the global one: duplicates are yielded.
    let distinct: HashSet<IpNet> = prefixes.iter().map(|p| p.net).collect();
    assert_eq!(distinct.len(), 54);
    let owners: Vec<&str> = prefixes
        .iter()
        .filter(|p| p.net == net("20.37.224.192/28"))
        .map(|p| p.tag.as_str())
        .collect();
    assert_eq!(
        owners,
        ["AzureOpenDatasets", "AzureOpenDatasets.AustraliaCentral"]
    );
}

#[test]
fn located_lines_are_the_prefix_lines() {
    let bytes = fixture_bytes("azure-service-tags.json");
    let located: Vec<_> = azure::parse_located(&bytes[..], "azure")
        .map(Result::unwrap)
        .collect();
    let text = String::from_utf8(bytes).unwrap();
    for l in [&located[0], &located[50], &located[53]] {
        let Position::Line(n) = l.position else {
            panic!("{:?}", l.position)
        };
        let line = text.lines().nth(n as usize - 1).unwrap();
        assert!(line.contains(&format!("\"{}\"", l.record.net)), "{line}");
    }
    assert_eq!(located[53].position, Position::Line(115));
    assert_eq!(
        azure::parse(&fixture_bytes("azure-service-tags.json")[..], "azure").count(),
        56
    );
}

#[test]
fn bad_prefixes_and_tags_are_recoverable() {
    let text = String::from_utf8(fixture_bytes("azure-service-tags.json"))
        .unwrap()
        .replace("\"20.37.224.192/28\"\n", "\"20.37.224.193/28\"\n")
        .replace("\"2603:1050:100::/40\"", "\"2603:1050:100::/129\"")
        .replace(
            "\"name\": \"AzureOpenDatasets.AustraliaCentral2\"",
            "\"nom\": \"AzureOpenDatasets.AustraliaCentral2\"",
        );
    let doc = read_str(&text).unwrap();
    let errors: Vec<&ParseError> = doc
        .prefixes
        .iter()
        .filter_map(|r| r.as_ref().err())
        .collect();
    assert_eq!(doc.prefixes.len(), 56);
    assert_eq!(errors.len(), 3);
    assert_eq!(errors[0].position, Position::Line(84));
    assert_eq!(
        errors[0].reason,
        "tag AzureOpenDatasets.AustraliaCentral: host bits set after the prefix length (the \
         network is 20.37.224.192/28)"
    );
    assert_eq!(errors[0].text, "\"20.37.224.193/28\"");
    // The whole message names the source, the line, the reason and quotes the entry.
    assert_eq!(
        errors[0].to_string(),
        "azure: line 84: tag AzureOpenDatasets.AustraliaCentral: host bits set after the prefix \
         length (the network is 20.37.224.192/28) (in \"\\\"20.37.224.193/28\\\"\")"
    );
    assert_eq!(errors[1].position, Position::Line(89));
    assert_eq!(errors[1].reason, "bad service tag: missing field `name`");
    assert!(errors[1]
        .text
        .starts_with("{ \"nom\": \"AzureOpenDatasets.AustraliaCentral2\""));
    assert!(
        errors[1].to_string().starts_with(
            "azure: line 89: bad service tag: missing field `name` (in \"{ \\\"nom\\\": "
        ),
        "{}",
        errors[1]
    );
    assert_eq!(errors[2].position, Position::Line(115));
    assert_eq!(
        errors[2].reason,
        "tag AzureCloud.brazilne: prefix length 129 is longer than 128"
    );
    assert!(errors.iter().all(|e| !e.fatal));
}

#[test]
fn entry_shape_errors() {
    let doc = read_str(
        r#"{"values": [
            {"name": "A", "properties": {"region": null, "systemService": null, "addressPrefixes": ["192.0.2.0/24", 7, "192.0.2.1", "fe80::%1/64", "0.0.0.0/0"]}},
            {"name": "B", "properties": {}},
            "not an object",
            {"name": "C", "properties": {"addressPrefixes": []}},
            ["D", {"addressPrefixes": ["192.0.2.0/24"]}],
            {"name": "E", "properties": ["", "", ["192.0.2.0/24"]]}
        ]}"#,
    )
    .unwrap();
    let reasons: Vec<String> = doc
        .prefixes
        .iter()
        .map(|r| match r {
            Ok(p) => format!("{} {} {:?}", p.net, p.tag, p.region),
            Err(e) => {
                assert_names_source(e, "azure");
                e.reason.clone()
            }
        })
        .collect();
    assert_eq!(
        reasons,
        [
            "192.0.2.0/24 A \"\"",
            "tag A: bad address prefix: invalid type: integer `7`, expected a string",
            "tag A: missing prefix length (\"/N\")",
            "tag A: ipv6 zone ids (\"%...\") are not allowed",
            "0.0.0.0/0 A \"\"",
            "bad service tag: missing field `addressPrefixes`",
            "bad service tag: invalid type: string \"not an object\", expected struct RawTag",
            // serde would read an array into the struct's fields by position: refused.
            "bad service tag: invalid type: sequence, expected an object",
            "bad service tag: invalid type: sequence, expected an object",
        ]
    );
}

#[test]
fn documents_that_are_not_service_tags_are_fatal() {
    let cases = [
        ("", "invalid json (EOF while parsing a value); the file is probably truncated or not an azure service tags document"),
        ("{}", "not an azure service tags document: missing field `values`"),
        ("[]", "not an azure service tags document: the top level is an array, expected an object"),
        ("{\"values\": {}}", "not an azure service tags document: invalid type: map, expected a sequence"),
        ("{\"changeNumber\": -1, \"values\": []}", "not an azure service tags document: invalid value: integer `-1`, expected u64"),
    ];
    for (text, reason) in cases {
        let e = read_str(text).unwrap_err();
        assert!(e.fatal, "{text}");
        assert_eq!(e.reason, reason, "{text}");
        assert_eq!(only_error(azure::parse(text.as_bytes(), "azure")), e);
    }
}

#[test]
fn truncated_binary_and_oversized_input() {
    let bytes = fixture_bytes("azure-service-tags.json");
    let e = azure::read(&bytes[..bytes.len() / 2], "azure").unwrap_err();
    assert!(e.fatal);
    assert!(matches!(e.position, Position::Line(n) if n > 50), "{e}");
    let e = azure::read(&b"{\"values\": [\"\xFF\"]}"[..], "azure").unwrap_err();
    assert_eq!(e.reason, "json is not valid utf-8");
    let e = azure::read(&b"{\"values\": [\0]}"[..], "azure").unwrap_err();
    assert!(e.fatal);
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(bytes.iter().map(|&b| if b == b'\n' { b' ' } else { b }));
    let crlf: Vec<u8> = String::from_utf8(bytes)
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    assert_eq!(
        azure::read(&with_bom[..], "azure").unwrap().prefixes.len(),
        56
    );
    let located: Vec<_> = azure::parse_located(&crlf[..], "azure")
        .map(Result::unwrap)
        .collect();
    assert_eq!(located[53].position, Position::Line(115));
    let e = azure::read(std::io::repeat(b' ').take(MAX_DOCUMENT + 1), "azure").unwrap_err();
    assert_eq!(e.position, Position::Whole);
}

#[test]
fn gzip_is_transparent_and_a_cut_download_fatal() {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&fixture_bytes("azure-service-tags.json"))
        .unwrap();
    let gz = gz.finish().unwrap();
    let whole = input::decode(std::io::Cursor::new(gz.clone())).unwrap();
    assert_eq!(azure::read(whole, "gz").unwrap().prefixes.len(), 56);
    let cut = input::decode(std::io::Cursor::new(gz[..gz.len() - 8].to_vec())).unwrap();
    let e = only_error(azure::parse(cut, "cut"));
    assert!(e.fatal);
    assert_eq!(e.position, Position::Whole);
    assert!(e.reason.starts_with("input cannot be read"), "{e}");
}

#[test]
fn whole_upstream_file() {
    let Some(path) = shared_data("cloud/azure/ServiceTags_Public.json.gz") else {
        return;
    };
    let doc = azure::read(input::open(&path).unwrap(), "azure").unwrap();
    assert_eq!(doc.change_number, Some(398));
    let (prefixes, errors) = split(doc.prefixes.into_iter(), "azure");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(prefixes.len(), 101_516);
    let tags: HashSet<&str> = prefixes.iter().map(|p| p.tag.as_str()).collect();
    assert_eq!(tags.len(), 3136);
    let distinct: HashSet<IpNet> = prefixes.iter().map(|p| p.net).collect();
    assert_eq!(distinct.len(), 56_725);
    assert_eq!(
        prefixes
            .iter()
            .filter(|p| matches!(p.net, IpNet::V6(_)))
            .count(),
        26_252
    );
}

/// An address prefix: a valid network (host bits or not), prefix-like text, or anything.
fn address_prefix() -> BoxedStrategy<Value> {
    prop_oneof![
        5 => network(),
        2 => "[0-9a-f:./%]{0,24}".prop_map(Value::String),
        1 => any_json(),
    ]
    .boxed()
}

/// A service tag, mostly well-formed.
fn service_tag() -> BoxedStrategy<Value> {
    let text = |re: &'static str| re.prop_map(Value::String).boxed();
    let prefixes = proptest::collection::vec(address_prefix(), 0..6)
        .prop_map(Value::Array)
        .boxed();
    let properties = (
        field(text("[a-z]{0,8}")),
        field(text("[A-Za-z]{0,8}")),
        field(prefixes),
    )
        .prop_map(|(region, service, prefixes)| {
            object(&[
                ("region", region),
                ("systemService", service),
                ("addressPrefixes", prefixes),
            ])
        })
        .boxed();
    (field(text("[A-Za-z.]{1,12}")), field(properties))
        .prop_map(|(name, properties)| object(&[("name", name), ("properties", properties)]))
        .boxed()
}

/// How many entries the parser must yield for `tag`: one per prefix when the tag itself
/// reads (a string `name`, a `properties` object with an `addressPrefixes` array and string or
/// null `region` / `systemService`), else one error for the whole tag.
fn expected_entries(tag: &Value) -> usize {
    let text_or_null = |v: Option<&Value>| matches!(v, None | Some(Value::Null | Value::String(_)));
    let props = tag.get("properties").and_then(Value::as_object);
    match (tag.get("name"), props) {
        (Some(Value::String(_)), Some(p))
            if text_or_null(p.get("region")) && text_or_null(p.get("systemService")) =>
        {
            p.get("addressPrefixes")
                .and_then(Value::as_array)
                .map_or(1, Vec::len)
        }
        _ => 1,
    }
}

proptest! {
    /// Service tags of any shape inside a valid document: every tag and prefix is one entry
    /// (accepted, or a recoverable error naming the source and a line of the document), an
    /// accepted prefix has no host bits and sits on the line the parser names.
    #[test]
    fn tags_of_any_shape_are_entries_at_their_lines(tags in proptest::collection::vec(service_tag(), 0..6)) {
        let text = serde_json::to_string_pretty(&json!({ "values": tags })).unwrap();
        let items: Vec<_> = azure::parse_located(text.as_bytes(), "fuzz").collect();
        prop_assert_eq!(items.len(), tags.iter().map(expected_entries).sum::<usize>());
        check_items(items, &text, |p| p.net, '"')?;
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        match azure::read(&bytes[..], "fuzz") {
            Ok(doc) => for r in doc.prefixes { if let Err(e) = r { assert_names_source(&e, "fuzz") } },
            Err(e) => { assert_names_source(&e, "fuzz"); prop_assert!(e.fatal) }
        }
    }

    #[test]
    fn prefix_strings_never_panic(prefixes in proptest::collection::vec("[0-9a-f:./%]{0,24}", 0..16)) {
        let doc = format!(
            r#"{{"values": [{{"name": "T", "properties": {{"addressPrefixes": {}}}}}]}}"#,
            serde_json::to_string(&prefixes).unwrap()
        );
        let doc = read_str(&doc).unwrap();
        prop_assert_eq!(doc.prefixes.len(), prefixes.len());
        for p in doc.prefixes.into_iter().flatten() {
            prop_assert_eq!(p.net, p.net.trunc());
        }
    }
}
