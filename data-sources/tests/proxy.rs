//! `proxy`: public proxy lists.

use std::collections::HashSet;
use std::net::IpAddr;

use ipsieve_sources::proxy::{self, Proxy, ProxyScheme};
use ipsieve_sources::{input, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, shared_data, split};

fn p(addr: &str, port: u16, scheme: Option<ProxyScheme>) -> Proxy {
    Proxy {
        address: addr.parse().unwrap(),
        port,
        scheme,
    }
}

fn parse_str(text: &str) -> (Vec<Proxy>, Vec<ParseError>) {
    split(proxy::parse(text.as_bytes(), "proxies"), "proxies")
}

#[test]
fn monosans_all_with_schemes() {
    let proxies = all_ok(proxy::parse(
        &fixture_bytes("proxy-monosans-all.txt")[..],
        "monosans",
    ));
    assert_eq!(proxies.len(), 12);
    assert_eq!(
        proxies[0],
        p("144.31.222.106", 7890, Some(ProxyScheme::Socks4))
    );
    assert_eq!(proxies[1], p("85.8.47.198", 7080, Some(ProxyScheme::Http)));
    assert_eq!(
        proxies[8],
        p("185.128.104.152", 8443, Some(ProxyScheme::Socks5))
    );
    let schemes: HashSet<_> = proxies.iter().map(|p| p.scheme).collect();
    assert_eq!(schemes.len(), 3);
}

#[test]
fn clarketm_spys_list_with_free_text_header_and_footer() {
    let located = all_ok(proxy::parse_located(
        &fixture_bytes("proxy-clarketm-list.txt")[..],
        "clarketm",
    ));
    // Five header sentences, a blank line, ten entries, a CR-only line and a footer sentence
    // without a final newline: only the entries are records, and nothing is an error.
    assert_eq!(located.len(), 10);
    assert_eq!(located[0].position, Position::Line(7));
    assert_eq!(located[0].record, p("170.239.207.241", 999, None));
    assert_eq!(located[9].record, p("138.2.68.129", 3128, None));
}

#[test]
fn clarketm_status_annotations_are_not_interpreted() {
    let proxies = all_ok(proxy::parse(
        &fixture_bytes("proxy-clarketm-status.txt")[..],
        "status",
    ));
    // "=> failure" and "=> success" alike; the "SUCCESS rate:" footer is free text.
    assert_eq!(proxies.len(), 8);
    assert_eq!(proxies[0], p("209.126.6.159", 80, None));
    assert_eq!(proxies[7], p("159.69.189.199", 8080, None));
}

#[test]
fn other_accepted_shapes() {
    let (proxies, errors) = parse_str(
        "# comment\n\
         [2001:db8::1]:8080\n\
         socks5h://user:secret@192.0.2.1:1080/\n\
         HTTPS://192.0.2.2:443 # trailing comment\n\
         \t192.0.2.3:3128\t\n\
         socks4a://[2001:db8::2]:1080\n",
    );
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        proxies,
        [
            p("2001:db8::1", 8080, None),
            p("192.0.2.1", 1080, Some(ProxyScheme::Socks5h)),
            p("192.0.2.2", 443, Some(ProxyScheme::Https)),
            p("192.0.2.3", 3128, None),
            p("2001:db8::2", 1080, Some(ProxyScheme::Socks4a)),
        ]
    );
}

#[test]
fn rejected_entries_name_the_line_and_reason() {
    let cases = [
        ("192.0.2.1", "missing port: expected \"ip:port\""),
        ("192.0.2.1:", "port \"\" is not a number from 1 to 65535"),
        ("192.0.2.1:0", "port \"0\" is not a number from 1 to 65535"),
        (
            "192.0.2.1:65536",
            "port \"65536\" is not a number from 1 to 65535",
        ),
        (
            "192.0.2.1:+80",
            "port \"+80\" is not a number from 1 to 65535",
        ),
        (
            "2001:db8::1:8080",
            "an ipv6 address with a port must be in brackets: \"[ipv6]:port\"",
        ),
        ("[2001:db8::1]8080", "expected \"[ipv6]:port\""),
        ("1.2.3.4:80:90", "not an \"ip:port\" entry"),
        (
            "proxy.example.com:8080",
            "a host name, not an ip address (names are not resolved)",
        ),
        ("gopher://192.0.2.1:70", "unknown proxy scheme \"gopher\""),
        (
            "[fe80::1%eth0]:80",
            "ipv6 zone ids (\"%...\") are not allowed",
        ),
        (
            "010.1.1.1:80",
            "ipv4 octet with a leading zero (octal or decimal?)",
        ),
        ("999.1.1.1:80", "not an ip address or network"),
        ("192.0.2.1 8080", "missing port: expected \"ip:port\""),
        ("garbage", "missing port: expected \"ip:port\""),
        ("\0\0\0", "missing port: expected \"ip:port\""),
    ];
    for (line, reason) in cases {
        let (proxies, errors) = parse_str(&format!("192.0.2.9:80\n{line}\n"));
        assert_eq!(proxies.len(), 1, "{line}");
        assert_eq!(errors.len(), 1, "{line}");
        assert_eq!(errors[0].reason, reason, "{line}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, line);
        assert!(!errors[0].fatal);
    }
}

#[test]
fn hostile_inputs() {
    let (proxies, errors) = parse_str("");
    assert!(proxies.is_empty() && errors.is_empty());
    let mut bytes = b"\xEF\xBB\xBF192.0.2.1:80\r\n192.0.2.\xFF:80\r\n".to_vec();
    bytes.extend(long_line(2 << 20));
    bytes.extend(b"\n192.0.2.2:81");
    let (proxies, errors) = split(proxy::parse(&bytes[..], "p"), "p");
    assert_eq!(
        proxies,
        [p("192.0.2.1", 80, None), p("192.0.2.2", 81, None)]
    );
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].text, "192.0.2.\u{FFFD}:80");
    assert_eq!(errors[1].reason, "line longer than 1048576 bytes");
    // A truncated gzip: the entries before the cut, then one fatal error.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &fixture_bytes("proxy-clarketm-list.txt")).unwrap();
    let gz = gz.finish().unwrap();
    let reader = input::decode(std::io::Cursor::new(gz[..gz.len() / 2].to_vec())).unwrap();
    let (proxies, errors) = split(proxy::parse(reader, "cut"), "cut");
    assert_eq!(errors.len(), 1);
    assert!(errors[0].fatal);
    assert!(proxies.len() < 10);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = split(proxy::parse(&bytes[..], "fuzz"), "fuzz");
    }

    #[test]
    fn proxy_like_text_never_panics(text in "[0-9a-zA-Z:/@\\[\\]%.#+ \\t\\r\\n-]{0,200}") {
        let _ = split(proxy::parse(text.as_bytes(), "fuzz"), "fuzz");
    }

    #[test]
    fn any_socket_address_round_trips(addr in any::<IpAddr>(), port in 1u16..) {
        let text = match addr {
            IpAddr::V4(a) => format!("{a}:{port}"),
            IpAddr::V6(a) => format!("[{a}]:{port}"),
        };
        let (proxies, errors) = parse_str(&text);
        prop_assert!(errors.is_empty(), "{:?}", errors);
        prop_assert_eq!(proxies, vec![p(&addr.to_string(), port, None)]);
    }
}

// Whole upstream files from shared/data: the counts documented in its SOURCES.md.

#[test]
fn whole_lists() {
    let files = [
        ("proxy/monosans-proxy-list/proxies/all.txt", 492),
        ("proxy/monosans-proxy-list/proxies/http.txt", 318),
        ("proxy/monosans-proxy-list/proxies/socks4.txt", 95),
        ("proxy/monosans-proxy-list/proxies/socks5.txt", 79),
        ("proxy/clarketm-proxy-list/proxy-list.txt", 400),
        ("proxy/clarketm-proxy-list/proxy-list-raw.txt", 400),
        ("proxy/clarketm-proxy-list/proxy-list-status.txt", 400),
    ];
    let mut clarketm: Vec<HashSet<Proxy>> = Vec::new();
    for (rel, count) in files {
        let Some(path) = shared_data(rel) else {
            continue;
        };
        let (proxies, errors) = split(proxy::parse(input::open(&path).unwrap(), rel), rel);
        assert!(errors.is_empty(), "{rel}: {errors:?}");
        assert_eq!(proxies.len(), count, "{rel}");
        if rel.starts_with("proxy/clarketm") {
            clarketm.push(proxies.into_iter().collect());
        }
    }
    // The annotated and the bare clarketm lists hold the same proxies.
    if clarketm.len() == 3 {
        assert_eq!(clarketm[0], clarketm[1]);
    }
}
