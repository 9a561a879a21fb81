//! `mullvad`: relay lists, API and cached shapes.

use std::collections::HashSet;
use std::net::IpAddr;

use ipsieve_sources::mullvad::{self, MullvadRelay, MullvadRelayKind, MullvadShape};
use ipsieve_sources::{input, ParseError, Position};
use proptest::prelude::*;

use crate::common::{assert_names_source, fixture_bytes, only_error, shared_data, split};

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn read_str(text: &str) -> Result<mullvad::MullvadDocument, ParseError> {
    mullvad::read(text.as_bytes(), "mullvad")
}

fn relays(doc: mullvad::MullvadDocument) -> Vec<MullvadRelay> {
    doc.relays
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")))
        .collect()
}

#[test]
fn api_fixture_exact_values() {
    let doc = mullvad::read(&fixture_bytes("mullvad-app-v1-relays.json")[..], "app").unwrap();
    assert_eq!(doc.shape, MullvadShape::AppApi);
    let relays = relays(doc);
    assert_eq!(relays.len(), 17);
    let r = &relays[0];
    assert_eq!(
        *r,
        MullvadRelay {
            hostname: "al-tia-wg-003".into(),
            kind: MullvadRelayKind::WireGuard,
            country_code: "al".into(),
            city_code: "tia".into(),
            country: "Albania".into(),
            city: "Tirana".into(),
            active: true,
            owned: Some(false),
            provider: "iRegister".into(),
            ipv4_addr_in: Some("103.124.165.130".parse().unwrap()),
            ipv6_addr_in: Some("2a04:27c0:0:c::f001".parse().unwrap()),
            shadowsocks_extra_addr_in: vec![ip("103.204.123.136")],
            quic_addr_in: vec![ip("103.124.165.135"), ip("2a04:27c0:0:c::f00a")],
        }
    );
    assert_eq!(
        r.addresses(),
        [
            ip("103.124.165.130"),
            ip("2a04:27c0:0:c::f001"),
            ip("103.204.123.136"),
            ip("103.124.165.135"),
            ip("2a04:27c0:0:c::f00a"),
        ]
    );
    // Inactive relays are yielded, marked.
    let inactive: Vec<&str> = relays
        .iter()
        .filter(|r| !r.active)
        .map(|r| r.hostname.as_str())
        .collect();
    assert_eq!(inactive, ["au-adl-wg-301", "de-fra-br-001"]);
    let zrh = &relays[11];
    assert_eq!(
        (zrh.hostname.as_str(), zrh.owned),
        ("ch-zrh-wg-004", Some(true))
    );
    assert_eq!(
        (zrh.country.as_str(), zrh.provider.as_str()),
        ("Switzerland", "31173")
    );
    // Bridges: IPv4 only, after the WireGuard relays.
    let bridges: Vec<&MullvadRelay> = relays[12..].iter().collect();
    assert!(bridges
        .iter()
        .all(|b| b.kind == MullvadRelayKind::Bridge && b.ipv6_addr_in.is_none()));
    assert_eq!(bridges[0].hostname, "au-syd-br-001");
    assert_eq!(bridges[0].city, "Sydney");
    assert_eq!(bridges[0].addresses(), [ip("146.70.141.154")]);
    let extra: usize = relays
        .iter()
        .map(|r| r.shadowsocks_extra_addr_in.len() + r.quic_addr_in.len())
        .sum();
    assert_eq!(extra, 12);
    let all: usize = relays.iter().map(|r| r.addresses().len()).sum();
    assert_eq!(all, 12 * 2 + 5 + 12);
}

#[test]
fn cached_fixture_exact_values() {
    let bytes = fixture_bytes("mullvad-relay-selector-relays.json");
    let doc = mullvad::read(&bytes[..], "cached").unwrap();
    assert_eq!(doc.shape, MullvadShape::Cached);
    let relays = relays(doc);
    assert_eq!(relays.len(), 9);
    let r = &relays[0];
    assert_eq!(r.hostname, "al-tia-wg-003");
    // This snapshot has al-tia-wg-003 out of service.
    assert!(!r.active);
    assert_eq!(
        (r.country_code.as_str(), r.city_code.as_str()),
        ("al", "tia")
    );
    assert_eq!((r.country.as_str(), r.city.as_str()), ("Albania", "Tirana"));
    assert_eq!((r.owned, r.provider.as_str()), (Some(false), "iRegister"));
    assert_eq!(r.shadowsocks_extra_addr_in.len(), 1);
    assert_eq!(r.quic_addr_in.len(), 2);
    let zrh = &relays[4];
    assert_eq!(
        (zrh.hostname.as_str(), zrh.owned, zrh.active),
        ("ch-zrh-wg-004", Some(true), false)
    );
    assert_eq!(zrh.shadowsocks_extra_addr_in.len(), 30);
    assert!(zrh.quic_addr_in.is_empty());
    assert_eq!(zrh.addresses().len(), 32);
    let bridges = &relays[6..];
    assert!(bridges.iter().all(|b| b.kind == MullvadRelayKind::Bridge
        && b.owned.is_none()
        && b.provider.is_empty()
        && b.ipv6_addr_in.is_none()));
    assert_eq!(
        (bridges[2].hostname.as_str(), bridges[2].active),
        ("hk-hkg-br-201", false)
    );
    assert_eq!(
        (bridges[2].country_code.as_str(), bridges[2].city.as_str()),
        ("hk", "Hong Kong")
    );
    let located: Vec<_> = mullvad::parse_located(&bytes[..], "cached")
        .map(Result::unwrap)
        .collect();
    let lines: Vec<Position> = located.iter().map(|l| l.position).collect();
    assert_eq!(
        lines,
        [14, 53, 106, 144, 196, 257, 332, 347, 362].map(Position::Line)
    );
}

#[test]
fn the_two_shapes_agree_on_shared_relays() {
    let api = relays(mullvad::read(&fixture_bytes("mullvad-app-v1-relays.json")[..], "a").unwrap());
    let cached = relays(
        mullvad::read(
            &fixture_bytes("mullvad-relay-selector-relays.json")[..],
            "c",
        )
        .unwrap(),
    );
    for c in &cached {
        let Some(a) = api.iter().find(|a| a.hostname == c.hostname) else {
            continue;
        };
        assert_eq!(
            (a.ipv4_addr_in, a.ipv6_addr_in),
            (c.ipv4_addr_in, c.ipv6_addr_in),
            "{}",
            c.hostname
        );
        assert_eq!(
            (&a.country_code, &a.city_code, &a.city),
            (&c.country_code, &c.city_code, &c.city)
        );
    }
}

#[test]
fn bad_relays_are_recoverable_and_named() {
    let text = String::from_utf8(fixture_bytes("mullvad-app-v1-relays.json"))
        .unwrap()
        .replace(
            "\"ipv4_addr_in\":\"149.22.83.2\"",
            "\"ipv4_addr_in\":\"149.22.83.256\"",
        )
        .replace(
            "\"ipv6_addr_in\":\"2001:ac8:29:84::a01f\"",
            "\"ipv6_addr_in\":\"146.70.116.98\"",
        )
        .replace(
            "\"shadowsocks_extra_addr_in\":[\"185.24.11.132\"]",
            "\"shadowsocks_extra_addr_in\":[\"185.24.11.132/32\"]",
        )
        .replace(
            "{\"hostname\":\"au-adl-wg-302\",",
            "{\"hostnam\":\"au-adl-wg-302\",",
        );
    let doc = read_str(&text).unwrap();
    assert_eq!(doc.relays.len(), 17);
    let errors: Vec<&ParseError> = doc.relays.iter().filter_map(|r| r.as_ref().err()).collect();
    let reasons: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "relay ar-bue-wg-001: ipv4_addr_in: not an ip address or network (\"149.22.83.256\")",
            "relay at-vie-wg-001: ipv6_addr_in holds \"146.70.116.98\", an ipv4 address",
            "relay at-vie-wg-101: shadowsocks_extra_addr_in: not an ip address or network (\"185.24.11.132/32\")",
            "bad relay: missing field `hostname`",
        ]
    );
    assert!(errors
        .iter()
        .all(|e| !e.fatal && e.position == Position::Line(1)));
    assert!(
        errors[0]
            .text
            .starts_with("{\"hostname\":\"ar-bue-wg-001\""),
        "{}",
        errors[0].text
    );
}

#[test]
fn shape_quirks() {
    // No location, no names table, only extra addresses, `null` for lists.
    let doc = read_str(
        r#"{"wireguard": {"relays": [
            {"hostname": "x-1", "active": true, "ipv4_addr_in": null,
             "shadowsocks_extra_addr_in": null, "features": {"quic": {"addr_in": ["::1"]}}},
            {"hostname": "x-2", "active": true, "location": "se", "ipv4_addr_in": "192.0.2.1"},
            {"hostname": "x-3", "active": true},
            {"hostname": "x-4", "active": "yes", "ipv4_addr_in": "192.0.2.1"}
        ]}}"#,
    )
    .unwrap();
    let got: Vec<String> = doc
        .relays
        .iter()
        .map(|r| match r {
            Ok(r) => format!(
                "{} {:?} {:?} {:?}",
                r.hostname,
                r.country_code,
                r.city_code,
                r.addresses()
            ),
            Err(e) => e.reason.clone(),
        })
        .collect();
    assert_eq!(
        got,
        [
            "x-1 \"\" \"\" [::1]",
            "x-2 \"se\" \"\" [192.0.2.1]",
            "relay x-3: no address (ipv4_addr_in, ipv6_addr_in or extra addresses)",
            "bad relay: invalid type: string \"yes\", expected a boolean",
        ]
    );
    // Cached: an `endpoint_data` string, a relay without its own location, a bad country.
    let doc = read_str(
        r#"[{"countries": [
              {"name": "Sweden", "code": "se", "cities": [{"name": "Gothenburg", "code": "got", "relays": [
                {"endpoint_data": "openvpn", "inner": {"hostname": "se-got-001", "ipv4_addr_in": "192.0.2.1", "active": true}},
                {"endpoint_data": {"quic": {"addr_in": []}}, "inner": {"hostname": "se-got-wg-001", "ipv4_addr_in": "192.0.2.2", "active": true}},
                {"endpoint_data": {"quic": 5}, "inner": {"hostname": "se-got-wg-002", "ipv4_addr_in": "192.0.2.3", "active": true}}]}]},
              {"name": "Broken", "cities": "none"}]},
            7,
            {"bridges": [{"hostname": "se-br", "ipv4_addr_in": "192.0.2.9", "ipv6_addr_in": null, "active": false}]}]"#,
    )
    .unwrap();
    let got: Vec<String> = doc
        .relays
        .iter()
        .map(|r| match r {
            Ok(r) => format!("{} {:?} {} {}", r.hostname, r.kind, r.city, r.active),
            Err(e) => e.reason.clone(),
        })
        .collect();
    assert_eq!(
        got,
        [
            "se-got-001 OpenVpn Gothenburg true",
            "se-got-wg-001 WireGuard Gothenburg true",
            "relay se-got-wg-002: bad endpoint_data: invalid type: integer `5`, expected struct RawQuic",
            "bad country: invalid type: string \"none\", expected a sequence",
            "se-br Bridge  false",
        ]
    );
}

#[test]
fn documents_that_are_not_relay_lists_are_fatal() {
    let cases = [
        ("", "invalid json (EOF while parsing a value); the file is probably truncated or not a mullvad relay list"),
        ("{}", "not a mullvad relay list: it has no \"wireguard\", \"openvpn\" or \"bridge\" relays"),
        ("[]", "not a mullvad relay list: the array holds no \"countries\" or \"bridges\""),
        ("[1, \"x\"]", "not a mullvad relay list: the array holds no \"countries\" or \"bridges\""),
        ("[{\"countries\": {}}]", "not a mullvad relay list: invalid type: map, expected a sequence"),
        ("[{\"countries\": []", "invalid json (EOF while parsing an object); the file is probably truncated or not a mullvad relay list"),
        ("{\"wireguard\": 5}", "not a mullvad relay list: invalid type: integer `5`, expected struct RawRelayList"),
        ("{\"locations\": [], \"wireguard\": {\"relays\": []}}", "not a mullvad relay list: invalid type: sequence, expected a map"),
        ("\"relays\"", "not a mullvad relay list: invalid type: string \"relays\", expected struct RawApi"),
    ];
    for (text, reason) in cases {
        let e = read_str(text).unwrap_err();
        assert!(e.fatal, "{text}");
        assert_eq!(e.reason, reason, "{text}");
        assert_eq!(only_error(mullvad::parse(text.as_bytes(), "mullvad")), e);
    }
    let bytes = fixture_bytes("mullvad-relay-selector-relays.json");
    let e = mullvad::read(&bytes[..bytes.len() / 2], "cut").unwrap_err();
    assert!(e.fatal);
    assert!(matches!(e.position, Position::Line(n) if n > 150), "{e}");
    let e = mullvad::read(&b"[\xEF\xBB\xBF\0]"[..], "nul").unwrap_err();
    assert!(e.fatal);
    let mut with_bom = b"\xEF\xBB\xBF".to_vec();
    with_bom.extend(&bytes);
    assert_eq!(mullvad::read(&with_bom[..], "bom").unwrap().relays.len(), 9);
}

#[test]
fn whole_upstream_files() {
    let cases = [
        // (file, relays incl. bridges, bridges, inactive, shadowsocks extra, quic)
        ("vpn/mullvad/app-v1-relays.json", 597, 20, 33, 2064, 2001),
        (
            "vpn/mullvad/relay-selector-relays.json.gz",
            567,
            13,
            28,
            4885,
            3835,
        ),
    ];
    for (rel, want, bridges, inactive, ss, quic) in cases {
        let Some(path) = shared_data(rel) else {
            return;
        };
        let doc = mullvad::read(input::open(&path).unwrap(), rel).unwrap();
        let (relays, errors) = split(doc.relays.into_iter(), rel);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(relays.len(), want, "{rel}");
        let count = |f: &dyn Fn(&MullvadRelay) -> usize| relays.iter().map(f).sum::<usize>();
        assert_eq!(
            count(&|r| usize::from(r.kind == MullvadRelayKind::Bridge)),
            bridges,
            "{rel}"
        );
        assert_eq!(count(&|r| usize::from(!r.active)), inactive, "{rel}");
        assert_eq!(count(&|r| r.shadowsocks_extra_addr_in.len()), ss, "{rel}");
        assert_eq!(count(&|r| r.quic_addr_in.len()), quic, "{rel}");
        let hosts: HashSet<&str> = relays.iter().map(|r| r.hostname.as_str()).collect();
        assert_eq!(hosts.len(), want, "{rel}");
        assert!(relays
            .iter()
            .all(|r| r.ipv4_addr_in.is_some() && r.country_code.len() == 2));
    }
}

#[test]
fn arrays_are_not_read_by_position() {
    // Relays, and the objects inside them, as arrays: serde would fill the structs' fields
    // in order. Each is one recoverable error for its relay (or country), at its line.
    let api = r#"{"wireguard": {"relays": [
        ["se-got-wg-001", "se-got", true, false, "M247", "192.0.2.1", null, null, null],
        {"hostname": "se-got-wg-002", "active": true, "ipv4_addr_in": "192.0.2.2",
         "features": [[["192.0.2.3"]]]},
        {"hostname": "se-got-wg-003", "active": true, "ipv4_addr_in": "192.0.2.4"}
    ]}}"#;
    // Each item as "position hostname" or "position reason".
    let items = |text: &str| -> Vec<String> {
        mullvad::parse_located(text.as_bytes(), "mullvad")
            .map(|r| match r {
                Ok(l) => format!("{:?} {}", l.position, l.record.hostname),
                Err(e) => format!("{:?} {}", e.position, e.reason),
            })
            .collect()
    };
    assert_eq!(
        items(api),
        [
            "Line(2) bad relay: invalid type: sequence, expected an object",
            "Line(3) bad relay: invalid type: sequence, expected an object",
            "Line(5) se-got-wg-003",
        ]
    );
    let cached = r#"[{"countries": [
        {"name": "Sweden", "code": "se", "cities": [["Gothenburg", "got", []]]},
        {"name": "Norway", "code": "no", "cities": [{"name": "Oslo", "code": "osl", "relays": [
            {"inner": ["no-osl-wg-001", "192.0.2.1", null, true, null]},
            {"inner": {"hostname": "no-osl-wg-002", "ipv4_addr_in": "192.0.2.2", "active": true,
                       "location": ["Norway", "no", "Oslo", "osl"]}},
            {"inner": {"hostname": "no-osl-wg-003", "ipv4_addr_in": "192.0.2.3", "active": true}}]}]}]},
        {"bridges": [["no-br", "192.0.2.9", null, true, null]]}]"#;
    assert_eq!(
        items(cached),
        [
            "Line(2) bad country: invalid type: sequence, expected an object",
            "Line(4) bad relay: invalid type: sequence, expected an object",
            "Line(5) bad relay: invalid type: sequence, expected an object",
            "Line(7) no-osl-wg-003",
            "Line(8) bad bridge: invalid type: sequence, expected an object",
        ]
    );
    // The locations table and the relay lists are the document's shape: fatal.
    for (text, reason) in [
        (
            r#"{"locations": {"se-got": ["Sweden", "Gothenburg"]}, "wireguard": {"relays": []}}"#,
            "not a mullvad relay list: invalid type: sequence, expected an object",
        ),
        (
            r#"{"wireguard": [[]]}"#,
            "not a mullvad relay list: invalid type: sequence, expected an object",
        ),
        (
            r#"{"wireguard": {"relays": null}}"#,
            "not a mullvad relay list: invalid type: null, expected a sequence",
        ),
    ] {
        let e = only_error(mullvad::parse(text.as_bytes(), "mullvad"));
        assert!(e.fatal, "{text}");
        assert_eq!(e.reason, reason, "{text}");
    }
}

#[test]
fn the_locations_table_is_bounded() {
    let table = |n: usize| -> String {
        let entries: Vec<String> = (0..n).map(|i| format!("\"l{i}\": {{}}")).collect();
        format!(
            "{{\"locations\": {{{}}}, \"wireguard\": {{\"relays\": []}}}}",
            entries.join(",")
        )
    };
    assert_eq!(
        mullvad::parse(table(1 << 16).as_bytes(), "mullvad").count(),
        0
    );
    let e = only_error(mullvad::parse(table((1 << 16) + 1).as_bytes(), "mullvad"));
    assert!(e.fatal);
    assert_eq!(
        e.reason,
        "not a mullvad relay list: more than 65536 locations; this is not a plausible relay list"
    );
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1024)) {
        match mullvad::read(&bytes[..], "fuzz") {
            Ok(doc) => for r in doc.relays { if let Err(e) = r { assert_names_source(&e, "fuzz") } },
            Err(e) => { assert_names_source(&e, "fuzz"); prop_assert!(e.fatal) }
        }
    }

    #[test]
    fn address_strings_never_panic(v4 in "[0-9a-f:.]{0,20}", extra in proptest::collection::vec("[0-9a-f:.%/]{0,20}", 0..6)) {
        let doc = format!(
            r#"{{"wireguard": {{"relays": [{{"hostname": "h", "active": true, "ipv4_addr_in": {}, "shadowsocks_extra_addr_in": {}}}]}}}}"#,
            serde_json::to_string(&v4).unwrap(),
            serde_json::to_string(&extra).unwrap()
        );
        let doc = read_str(&doc).unwrap();
        prop_assert_eq!(doc.relays.len(), 1);
        if let Ok(r) = &doc.relays[0] {
            prop_assert!(r.ipv4_addr_in.is_some());
            prop_assert_eq!(r.shadowsocks_extra_addr_in.len(), extra.len());
        }
    }
}
