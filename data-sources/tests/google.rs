//! `google`: `cloud.json` (and the same-shaped `goog.json`).

use ipnet::IpNet;
use ipsieve_sources::{google, GooglePrefix, Position, Timestamp};
use proptest::prelude::*;
use serde_json::{json, Value};

use crate::common::{all_ok, assert_names_source, fixture_bytes, only_error};
use crate::json_shapes::{self, accepted_prefix, field, is_text_or_null, text};

#[test]
fn fixture_exact_values() {
    let doc = google::read(&fixture_bytes("google-cloud.json")[..], "gcp").unwrap();
    assert_eq!(doc.creation_time, Some(Timestamp(1_787_274_342)));
    assert_eq!(doc.sync_token.as_deref(), Some("1787299542583"));
    let prefixes: Vec<GooglePrefix> = doc.prefixes.into_iter().map(Result::unwrap).collect();
    assert_eq!(prefixes.len(), 8);
    assert_eq!(
        prefixes[0],
        GooglePrefix {
            net: "34.1.208.0/20".parse().unwrap(),
            service: "Google Cloud".into(),
            scope: "africa-south1".into(),
        }
    );
    let v6: Vec<String> = prefixes
        .iter()
        .filter(|p| matches!(p.net, IpNet::V6(_)))
        .map(|p| p.net.to_string())
        .collect();
    assert_eq!(v6, ["2600:1900:8000::/44", "2600:1902:10::/44"]);
    assert!(prefixes.iter().all(|p| p.scope == "africa-south1"));
}

#[test]
fn parse_is_read_flattened() {
    let bytes = fixture_bytes("google-cloud.json");
    assert_eq!(all_ok(google::parse(&bytes[..], "gcp")).len(), 8);
}

#[test]
fn goog_json_shape_without_service_or_scope() {
    let doc = r#"{"syncToken": "1", "creationTime": "2026-08-21T01:05:42.583377",
                  "prefixes": [{"ipv4Prefix": "8.8.4.0/24"}, {"ipv6Prefix": "2001:4860::/32"}]}"#;
    let doc = google::read(doc.as_bytes(), "goog").unwrap();
    let p = doc.prefixes[1].as_ref().unwrap();
    assert_eq!((p.service.as_str(), p.scope.as_str()), ("", ""));
}

#[test]
fn bad_entries_are_recoverable_at_their_line() {
    let text = String::from_utf8(fixture_bytes("google-cloud.json"))
        .unwrap()
        .replace(
            "\"ipv4Prefix\": \"34.152.86.0/23\"",
            "\"ipv6Prefix\": \"34.152.86.0/23\"",
        );
    let doc = google::read(text.as_bytes(), "gcp").unwrap();
    let errors: Vec<_> = doc
        .prefixes
        .iter()
        .filter_map(|r| r.as_ref().err())
        .collect();
    assert_eq!(errors.len(), 1);
    // The object opens with `}, {` at the end of line 12.
    assert_eq!(errors[0].position, Position::Line(12));
    assert_eq!(
        errors[0].reason,
        "ipv6Prefix holds \"34.152.86.0/23\", of the other address family"
    );
    let cases = [
        (
            r#"{"ipv4Prefix": "192.0.2.0/24", "ipv6Prefix": "2001:db8::/32"}"#,
            "entry has both ipv4Prefix and ipv6Prefix",
        ),
        (
            r#"{"scope": "x"}"#,
            "entry has neither ipv4Prefix nor ipv6Prefix",
        ),
        (
            r#"{"ipv4Prefix": "192.0.2.1/24"}"#,
            "ipv4Prefix: host bits set after the prefix length (the network is 192.0.2.0/24)",
        ),
        (
            r#"{"ipv4Prefix": 3232235520}"#,
            "bad prefix entry: invalid type: integer `3232235520`, expected a string",
        ),
        (
            r#"{"ipv6Prefix": "fe80::%1/64"}"#,
            "ipv6Prefix: ipv6 zone ids (\"%...\") are not allowed",
        ),
        (
            "null",
            "bad prefix entry: invalid type: null, expected struct RawEntry",
        ),
    ];
    for (item, reason) in cases {
        let doc = format!("{{\"prefixes\": [\n{item}]}}");
        let e = only_error(google::parse(doc.as_bytes(), "gcp"));
        assert_eq!(e.reason, reason);
        assert_eq!(e.position, Position::Line(2));
        assert!(!e.fatal);
    }
}

#[test]
fn the_whole_space_is_yielded() {
    let doc = r#"{"prefixes": [{"ipv4Prefix": "0.0.0.0/0"}, {"ipv6Prefix": "::/0"}]}"#;
    assert_eq!(all_ok(google::parse(doc.as_bytes(), "gcp")).len(), 2);
}

#[test]
fn documents_that_are_not_cloud_json_are_fatal() {
    for (text, reason) in [
        ("", "invalid json (EOF while parsing a value); the file is probably truncated or not a google cloud.json document"),
        ("\0", "invalid json (expected value); the file is probably truncated or not a google cloud.json document"),
        ("[{\"ipv4Prefix\": \"0.0.0.0/0\"}]", "not a google cloud.json document: the top level is an array, expected an object"),
        ("{}", "not a google cloud.json document: missing field `prefixes`"),
        ("{\"prefixes\": {}}", "not a google cloud.json document: invalid type: map, expected a sequence"),
        ("\"prefixes\"", "not a google cloud.json document: invalid type: string \"prefixes\", expected struct RawDocument"),
        ("{\"prefixes\": [", "invalid json (EOF while parsing a list); the file is probably truncated or not a google cloud.json document"),
    ] {
        let e = google::read(text.as_bytes(), "gcp").unwrap_err();
        assert!(e.fatal);
        assert_eq!(e.reason, reason);
    }
    let bytes = fixture_bytes("google-cloud.json");
    let e = google::read(&bytes[..bytes.len() - 3], "gcp").unwrap_err();
    assert!(e.fatal);
    assert_eq!(e.position, Position::Line(36));
}

#[test]
fn a_bad_creation_time_is_none() {
    let doc = r#"{"creationTime": "yesterday", "prefixes": []}"#;
    assert_eq!(
        google::read(doc.as_bytes(), "gcp").unwrap().creation_time,
        None
    );
}

#[test]
fn an_array_entry_is_not_read_by_position() {
    // Two strings would fill `ipv4Prefix` and `ipv6Prefix` in order: refused.
    let doc =
        "{\"prefixes\": [\n  {\"ipv4Prefix\": \"34.1.208.0/20\"},\n  [\"192.0.2.0/24\", null]\n]}";
    let items: Vec<_> = google::parse(doc.as_bytes(), "gcp").collect();
    assert_eq!(items.len(), 2);
    assert!(items[0].is_ok());
    let e = items[1].as_ref().unwrap_err();
    assert_eq!(
        e.reason,
        "bad prefix entry: invalid type: sequence, expected an object"
    );
    assert_eq!(e.position, Position::Line(3));
    assert_eq!(e.text, r#"["192.0.2.0/24", null]"#);
    assert!(!e.fatal);
}

/// An entry of `prefixes[]`: mostly well-formed (one prefix key, sometimes both or neither),
/// fields sometimes of another kind or missing, sometimes not an object at all.
fn google_entry() -> BoxedStrategy<Value> {
    let prefix = prop_oneof![
        2 => json_shapes::network().prop_map(Some),
        1 => Just(None),
    ];
    let fields = (
        prop_oneof![
            4 => (prefix.clone(), Just(None)).boxed(),
            4 => (Just(None), prefix.clone()).boxed(),
            1 => (prefix.clone(), prefix).boxed(),
        ],
        field(text("Google Cloud|[A-Za-z ]{0,8}")),
        field(text("[a-z0-9-]{0,12}")),
    )
        .prop_map(|((v4, v6), service, scope)| {
            vec![
                ("ipv4Prefix", v4),
                ("ipv6Prefix", v6),
                ("service", service),
                ("scope", scope),
            ]
        })
        .boxed();
    json_shapes::entry(fields)
}

/// The record the parser must make of `entry`, or `None` for an error.
fn expected(entry: &Value) -> Option<GooglePrefix> {
    let e = entry.as_object()?;
    let present = |k: &str| e.get(k).filter(|v| !v.is_null());
    let optional_text = |k: &str| matches!(e.get(k), None | Some(Value::String(_)));
    let shaped = is_text_or_null(e.get("ipv4Prefix"))
        && is_text_or_null(e.get("ipv6Prefix"))
        && optional_text("service")
        && optional_text("scope");
    let (prefix, v6) = match (present("ipv4Prefix"), present("ipv6Prefix")) {
        (Some(p), None) => (p, false),
        (None, Some(p)) => (p, true),
        _ => return None,
    };
    let net = accepted_prefix(prefix.as_str()?, v6).filter(|_| shaped)?;
    let text = |k: &str| {
        e.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    Some(GooglePrefix {
        net,
        service: text("service"),
        scope: text("scope"),
    })
}

proptest! {
    /// Entries of any shape inside a valid document: each is exactly one item, in order, the
    /// record the entry holds or a recoverable error naming the source and the line where the
    /// entry starts.
    #[test]
    fn entries_of_any_shape_are_one_item_at_their_line(
        entries in proptest::collection::vec(google_entry(), 0..10),
    ) {
        let text = serde_json::to_string_pretty(
            &json!({ "syncToken": "1", "creationTime": "x", "prefixes": entries }),
        ).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        let items: Vec<_> = google::parse_located(text.as_bytes(), "fuzz").collect();
        prop_assert_eq!(items.len(), entries.len());
        let mut last_line = 0;
        for (item, entry) in items.into_iter().zip(&entries) {
            let (line, got) = match item {
                Ok(l) => (l.position, Some(l.record)),
                Err(e) => {
                    assert_names_source(&e, "fuzz");
                    prop_assert!(!e.fatal, "{}", e);
                    (e.position, None)
                }
            };
            prop_assert_eq!(got, expected(entry), "{}", entry);
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
        match google::read(&bytes[..], "fuzz") {
            Ok(doc) => for r in doc.prefixes { if let Err(e) = r { assert_names_source(&e, "fuzz") } },
            Err(e) => { assert_names_source(&e, "fuzz"); prop_assert!(e.fatal) }
        }
    }
}
