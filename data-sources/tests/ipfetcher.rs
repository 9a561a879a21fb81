//! `ipfetcher`: jonhadfield/cloud-ips `{"IPv4Prefixes": [...], "IPv6Prefixes": [...]}` lists.

use std::collections::HashSet;

use ipnet::IpNet;
use ipsieve_sources::{input, ipfetcher, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, assert_names_source, fixture_bytes, only_error, shared_data, split};

fn parse_str(text: &str) -> (Vec<IpNet>, Vec<ParseError>) {
    split(ipfetcher::parse(text.as_bytes(), "ipf"), "ipf")
}

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

#[test]
fn scaleway_fixture_is_the_whole_file() {
    let nets = all_ok(ipfetcher::parse(
        &fixture_bytes("ipfetcher-scaleway.json")[..],
        "scaleway",
    ));
    assert_eq!(nets.len(), 28);
    assert_eq!(nets[0], net("195.154.0.0/16"));
    assert_eq!(nets[19], net("51.158.128.0/17"));
    assert_eq!(nets[20], net("2001:bc8:5000::/38"));
    assert_eq!(nets[27], net("2001:bc8:e401::/48"));
    assert_eq!(
        nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count(),
        20
    );
    // One line: every item is at line 1.
    assert!(
        ipfetcher::parse_located(&fixture_bytes("ipfetcher-scaleway.json")[..], "s")
            .all(|l| l.unwrap().position == Position::Line(1))
    );
}

#[test]
fn bad_items_are_recoverable_and_quoted() {
    let (nets, errors) = parse_str(
        r#"{"IPv4Prefixes":["195.154.0.0/16","2001:bc8::/32","195.154.0.1/16",7,"195.154.0.0/33"],
"IPv6Prefixes":["2001:bc8::/32","195.154.0.0/16","2001:bc8::"]}"#,
    );
    assert_eq!(nets, [net("195.154.0.0/16"), net("2001:bc8::/32")]);
    let reasons: Vec<(&str, &str, Position)> = errors
        .iter()
        .map(|e| (e.reason.as_str(), e.text.as_str(), e.position))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "IPv4Prefixes holds \"2001:bc8::/32\", of the other address family",
                "\"2001:bc8::/32\"",
                Position::Line(1)
            ),
            (
                "IPv4Prefixes: host bits set after the prefix length (the network is 195.154.0.0/16)",
                "\"195.154.0.1/16\"",
                Position::Line(1)
            ),
            (
                "IPv4Prefixes: bad item: invalid type: integer `7`, expected a string",
                "7",
                Position::Line(1)
            ),
            (
                "IPv4Prefixes: prefix length 33 is longer than 32",
                "\"195.154.0.0/33\"",
                Position::Line(1)
            ),
            (
                "IPv6Prefixes holds \"195.154.0.0/16\", of the other address family",
                "\"195.154.0.0/16\"",
                Position::Line(2)
            ),
            (
                "IPv6Prefixes: missing prefix length (\"/N\")",
                "\"2001:bc8::\"",
                Position::Line(2)
            ),
        ]
    );
}

#[test]
fn one_array_is_enough_but_not_none() {
    assert_eq!(parse_str(r#"{"IPv6Prefixes":["::/0"]}"#).0, [net("::/0")]);
    assert_eq!(
        parse_str(r#"{"IPv4Prefixes":[],"IPv6Prefixes":null}"#).0,
        []
    );
    let what = "an ip-fetcher prefix list (\"IPv4Prefixes\"/\"IPv6Prefixes\")";
    let cases = [
        ("{}".to_owned(), format!("not {what}: it has neither array")),
        ("{\"records\": []}".to_owned(), format!("not {what}: it has neither array")),
        ("[\"1.2.3.0/24\"]".to_owned(), format!("not {what}: the top level is an array, expected an object")),
        ("{\"IPv4Prefixes\":[\"1.2.3.0/24\"".to_owned(), format!("invalid json (EOF while parsing a list); the file is probably truncated or not {what}")),
    ];
    for (text, reason) in cases {
        let e = only_error(ipfetcher::parse(text.as_bytes(), "ipf"));
        assert!(e.fatal, "{text}");
        assert_eq!(e.reason, reason, "{text}");
    }
}

#[test]
fn whole_upstream_files() {
    let files = [
        ("vultr", 1657, 1276),
        ("hetzner", 766, 8),
        ("ovh", 723, 42),
        ("m247", 227, 9),
        ("contabo", 568, 5),
        ("leaseweb", 822, 271),
        ("scaleway", 20, 8),
        ("ibmcloud", 341, 73),
    ];
    for (name, v4, v6) in files {
        let rel = format!("cloud/jonhadfield-cloud-ips/{name}.json");
        let Some(path) = shared_data(&rel) else {
            return;
        };
        let (nets, errors) = split(ipfetcher::parse(input::open(&path).unwrap(), name), name);
        assert!(errors.is_empty(), "{errors:?}");
        let got_v4 = nets.iter().filter(|n| matches!(n, IpNet::V4(_))).count();
        assert_eq!((got_v4, nets.len() - got_v4), (v4, v6), "{name}");
        if name == "leaseweb" {
            // Four IPv4 and four IPv6 prefixes are listed twice; the repeats are yielded.
            let distinct: HashSet<&IpNet> = nets.iter().collect();
            assert_eq!(distinct.len(), nets.len() - 8);
        }
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        for item in ipfetcher::parse(&bytes[..], "fuzz") {
            if let Err(e) = item { assert_names_source(&e, "fuzz") }
        }
    }

    #[test]
    fn string_items_never_panic(items in proptest::collection::vec("[0-9a-f:./]{0,24}", 0..16)) {
        let doc = format!(r#"{{"IPv4Prefixes":{}}}"#, serde_json::to_string(&items).unwrap());
        let (nets, errors) = parse_str(&doc);
        prop_assert_eq!(nets.len() + errors.len(), items.len());
        for n in nets {
            prop_assert!(matches!(n, IpNet::V4(_)));
        }
    }
}
