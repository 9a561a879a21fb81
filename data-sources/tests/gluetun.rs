//! `gluetun`: qdm12/gluetun's `servers.json`, one section per VPN provider.

use std::net::IpAddr;

use ipsieve_sources::gluetun::{self, GluetunServer};
use ipsieve_sources::{ParseError, Position};

use crate::common::{all_ok, fixture_bytes, only_error, split};

/// The fixture: the first three servers of five providers' sections, copied from gluetun's
/// `servers.json` (provenance in `fixtures/README.md`).
#[test]
fn fixture_servers_by_provider() {
    let bytes = fixture_bytes("gluetun-servers.json");
    let servers = all_ok(gluetun::parse(&bytes[..], "gluetun"));
    let providers: Vec<&str> = servers.iter().map(|s| s.provider.as_str()).collect();
    assert_eq!(
        providers,
        [
            "CyberGhost",
            "CyberGhost",
            "CyberGhost",
            "ExpressVPN",
            "ExpressVPN",
            "ExpressVPN",
            "NordVPN",
            "NordVPN",
            "NordVPN",
            "PureVPN",
            "PureVPN",
            "PureVPN",
            "Surfshark",
            "Surfshark",
            "Surfshark",
        ]
    );
    assert_eq!(servers.iter().map(|s| s.addresses.len()).sum::<usize>(), 66);
    let nord = &servers[6];
    assert_eq!(nord.hostname.as_deref(), Some("al18.nordvpn.com"));
    assert_eq!(nord.addresses, [ip("31.171.152.19")]);
    // A WireGuard server is read like an OpenVPN one (its public key is not an address).
    let wg = &servers[13];
    assert_eq!(wg.hostname.as_deref(), Some("al-tia.prod.surfshark.com"));
    assert_eq!(wg.addresses.len(), 10);
    assert_eq!(servers[2].addresses[0], ip("176.125.228.146"));
    // Each server at the line of its opening brace.
    let located: Vec<Position> = gluetun::parse_located(&bytes[..], "gluetun")
        .map(|l| l.unwrap().position)
        .collect();
    assert_eq!(located[6], Position::Line(101));
}

fn parse_str(text: &str) -> (Vec<GluetunServer>, Vec<ParseError>) {
    split(gluetun::parse(text.as_bytes(), "gluetun"), "gluetun")
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn bad_sections_and_servers_are_recoverable_and_the_rest_counts() {
    let (servers, errors) = parse_str(
        r#"{
  "version": 1,
  "aaa": "not a section",
  "nordvpn": {"version": 1, "timestamp": 0, "servers": [
    {"hostname": "au744.nordvpn.com", "ips": ["45.248.77.147"]},
    {"hostname": "x1.nordvpn.com", "ips": []},
    {"hostname": "x2.nordvpn.com"},
    {"hostname": "x3.nordvpn.com", "ips": ["45.248.77.300"]},
    {"hostname": "x4.nordvpn.com", "ips": ["45.248.77.1:1194"]},
    ["45.248.77.148"],
    {"ips": [7]},
    {"ips": ["2a0d:5600:24:a0::10", "45.248.77.149"]}
  ]},
  "surfshark": {"servers": {"hostname": "not an array"}},
  "zzz": {"version": 1}
}"#,
    );
    let got: Vec<(String, Option<String>, Vec<IpAddr>)> = servers
        .into_iter()
        .map(|s| (s.provider, s.hostname, s.addresses))
        .collect();
    assert_eq!(
        got,
        [
            (
                "NordVPN".to_owned(),
                Some("au744.nordvpn.com".to_owned()),
                vec![ip("45.248.77.147")]
            ),
            (
                "NordVPN".to_owned(),
                None,
                vec![ip("2a0d:5600:24:a0::10"), ip("45.248.77.149")]
            ),
        ]
    );
    let reasons: Vec<(&str, Position)> = errors
        .iter()
        .map(|e| (e.reason.as_str(), e.position))
        .collect();
    assert!(errors.iter().all(|e| !e.fatal));
    assert_eq!(reasons[0].1, Position::Line(3));
    assert!(
        reasons[0]
            .0
            .starts_with("provider \"aaa\": not a provider section (invalid type: string"),
        "{}",
        reasons[0].0
    );
    assert_eq!(
        reasons[1..7],
        [
            (
                "NordVPN x1.nordvpn.com: \"ips\" lists no address",
                Position::Line(6)
            ),
            ("NordVPN x2.nordvpn.com: no \"ips\"", Position::Line(7)),
            (
                "NordVPN x3.nordvpn.com: \"45.248.77.300\": not an ip address or network",
                Position::Line(8)
            ),
            (
                "NordVPN x4.nordvpn.com: \"45.248.77.1:1194\": not an ip address or network",
                Position::Line(9)
            ),
            (
                "NordVPN: bad server: invalid type: sequence, expected an object",
                Position::Line(10)
            ),
            (
                "NordVPN: bad server: invalid type: integer `7`, expected a string",
                Position::Line(11)
            ),
        ]
    );
    assert_eq!(reasons[7].1, Position::Line(14));
    assert_eq!(
        reasons[7].0,
        "provider \"surfshark\": not a provider section (invalid type: map, expected a sequence)"
    );
    assert_eq!(
        reasons[8].0,
        "provider \"zzz\": not a provider section (missing field `servers`)"
    );
    assert_eq!(errors.len(), 9);
}

#[test]
fn endless_keys_and_names_are_cut() {
    let key = "k".repeat(100_000);
    let host = "h".repeat(100_000);
    let doc = format!(
        "{{\"{key}\": {{\"servers\": [{{\"ips\": [\"1.2.3.4\"]}}]}},\n\
         \"nordvpn\": {{\"servers\": [{{\"hostname\": \"{host}\", \"ips\": [\"{host}\"]}}]}}}}"
    );
    let (servers, errors) = parse_str(&doc);
    assert!(servers.is_empty());
    assert_eq!(errors.len(), 2);
    // An empty key names no provider either (every record must name one).
    let (servers, empty) =
        parse_str(r#"{"": {"servers": [{"ips": ["1.2.3.4"]}]}, "nordvpn": {"servers": []}}"#);
    assert!(servers.is_empty());
    assert_eq!(empty.len(), 1);
    assert_eq!(
        empty[0].reason,
        "provider \"\": not a provider section (a key of 0 bytes names no provider)"
    );
    assert!(errors[0]
        .reason
        .ends_with("not a provider section (a key of 100000 bytes names no provider)"));
    assert_eq!(errors[1].position, Position::Line(2));
    for e in &errors {
        assert!(e.reason.len() < 400, "{} bytes", e.reason.len());
    }
}

#[test]
fn documents_that_are_not_server_lists_are_fatal() {
    let what = "a gluetun server list (an object of provider sections)";
    let cases = [
        ("{}", format!("not {what}: it has no provider section")),
        ("{\"version\": 1}", format!("not {what}: it has no provider section")),
        ("[]", format!("not {what}: the top level is an array, expected an object")),
        (
            "{\"version\": 1, \"nordvpn\": {\"servers\": [",
            format!("invalid json (EOF while parsing a list); the file is probably truncated or not {what}"),
        ),
        ("\"servers\"", format!("not {what}: invalid type: string \"servers\", expected a map")),
    ];
    for (text, reason) in cases {
        let e = only_error(gluetun::parse(text.as_bytes(), "gluetun"));
        assert!(e.fatal, "{text}");
        assert_eq!(e.reason, reason, "{text}");
    }
    let e = only_error(gluetun::parse(&b"{\"nordvpn\": \"\xff\"}"[..], "gluetun"));
    assert!(e.fatal);
    assert_eq!(e.reason, "json is not valid utf-8");
}

#[test]
fn provider_names() {
    for (key, name) in [
        ("nordvpn", "NordVPN"),
        ("surfshark", "Surfshark"),
        ("expressvpn", "ExpressVPN"),
        ("cyberghost", "CyberGhost"),
        ("purevpn", "PureVPN"),
        ("protonvpn", "Proton VPN"),
        ("private internet access", "Private Internet Access"),
        ("a new one", "a new one"),
    ] {
        assert_eq!(gluetun::provider_name(key), name);
    }
}
