//! `tor`: TorDNSEL exit lists, live and CollecTor variants.

use std::collections::HashSet;
use std::net::IpAddr;

use ipsieve_sources::{input, tor, ExitAddress, Position, Timestamp};
use proptest::prelude::*;

use crate::common::{all_ok, fixture, fixture_bytes, long_line, split};

fn ts(text: &str) -> Timestamp {
    Timestamp::parse_date_time(text).unwrap()
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

fn parse_str(text: &str) -> (Vec<ExitAddress>, Vec<ipsieve_sources::ParseError>) {
    split(tor::parse(text.as_bytes(), "tor"), "tor")
}

const BLOCK: &str = "ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75\n\
                     Published 2024-03-11 13:07:19\n\
                     LastStatus 2024-03-12 08:00:00\n\
                     ExitAddress 185.241.208.232 2024-03-12 08:10:51\n";

#[test]
fn live_fixture_exact_values() {
    let exits = all_ok(tor::parse(
        &fixture_bytes("tor-exit-addresses.txt")[..],
        "live",
    ));
    assert_eq!(exits.len(), 9);
    assert_eq!(
        exits[0],
        ExitAddress {
            fingerprint: "FE39F07EBE7870DCE124AB30DF3ABD0700A43F75".into(),
            published: Some(Timestamp(1_710_162_439)),
            last_status: Some(Timestamp(1_710_230_400)),
            address: ip("185.241.208.232"),
            seen: Timestamp(1_710_231_051),
        }
    );
    // The node with three exit addresses: one record each, sharing the block's fields.
    let multi: Vec<_> = exits
        .iter()
        .filter(|e| e.fingerprint == "ACFAE8589717B3F11766F0DE826427E8FA4058BF")
        .collect();
    let addrs: Vec<String> = multi.iter().map(|e| e.address.to_string()).collect();
    assert_eq!(
        addrs,
        ["189.147.145.37", "201.137.252.163", "189.147.193.202"]
    );
    assert!(multi
        .iter()
        .all(|e| e.published == Some(ts("2024-03-12 10:10:44"))));
    assert!(multi
        .iter()
        .all(|e| e.last_status == Some(ts("2024-03-12 14:00:00"))));
    assert_eq!(multi[2].seen, ts("2024-03-10 19:17:37"));
}

#[test]
fn gzip_fixture_gives_the_same_records() {
    let plain = all_ok(tor::parse(
        &fixture_bytes("tor-exit-addresses.txt")[..],
        "live",
    ));
    let reader = input::open(&fixture("tor-exit-addresses.txt.gz")).unwrap();
    assert_eq!(all_ok(tor::parse(reader, "live")), plain);
}

#[test]
fn collector_header_is_skipped() {
    let reader = input::open(&fixture("tor-collector-2018-11-02-01-02-01")).unwrap();
    let (exits, errors) = split(tor::parse(reader, "collector"), "collector");
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(exits.len(), 7);
    assert_eq!(
        exits[0].fingerprint,
        "0011BD2485AD45D984EC4159C88FC066E5E3300E"
    );
    assert_eq!(exits[0].address, ip("162.247.74.201"));
    assert_eq!(exits[0].published, Some(ts("2018-11-01 17:08:26")));
    assert_eq!(exits[0].last_status, Some(ts("2018-11-02 00:03:25")));
    assert_eq!(exits[0].seen, ts("2018-11-01 18:08:13"));
    let last = &exits[5..];
    assert!(last
        .iter()
        .all(|e| e.fingerprint == "03F68AB569154C4B995E7F36528322079E4829B9"));
    assert_eq!(last[1].address, ip("187.20.192.96"));
}

#[test]
fn lowercase_fingerprints_are_uppercased_and_crlf_bom_are_fine() {
    let text = format!("\u{FEFF}{}", BLOCK.to_lowercase().replace('\n', "\r\n"));
    // Lowercasing the keywords makes them unknown: restore them.
    let text = text
        .replace("exitnode", "ExitNode")
        .replace("published", "Published")
        .replace("laststatus", "LastStatus")
        .replace("exitaddress", "ExitAddress");
    let (exits, errors) = parse_str(&text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        exits[0].fingerprint,
        "FE39F07EBE7870DCE124AB30DF3ABD0700A43F75"
    );
}

#[test]
fn exit_address_before_exit_node() {
    let (exits, errors) = parse_str("ExitAddress 185.241.208.232 2024-03-12 08:10:51\n");
    assert!(exits.is_empty());
    assert_eq!(errors[0].reason, "ExitAddress before any ExitNode line");
    assert_eq!(errors[0].position, Position::Line(1));
    assert_eq!(
        errors[0].text,
        "ExitAddress 185.241.208.232 2024-03-12 08:10:51"
    );
    assert!(!errors[0].fatal);
}

#[test]
fn a_bad_fingerprint_rejects_its_block_with_a_pointer() {
    let text = BLOCK.replace(
        "FE39F07EBE7870DCE124AB30DF3ABD0700A43F75",
        "FE39F07EBE7870DCE124AB30DF3ABD0700A43F7G",
    );
    let text = format!("{text}{BLOCK}");
    let (exits, errors) = parse_str(&text);
    assert_eq!(exits.len(), 1, "the next block is read");
    assert_eq!(errors.len(), 4);
    assert_eq!(errors[0].position, Position::Line(1));
    assert_eq!(
        errors[0].reason,
        "ExitNode needs a fingerprint of 40 hex digits"
    );
    assert_eq!(
        errors[1].reason,
        "Published belongs to the ExitNode block rejected at line 1"
    );
    assert_eq!(errors[3].position, Position::Line(4));
    for short in [
        "ExitNode",
        "ExitNode ABC",
        "ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75 x",
    ] {
        let (_, errors) = parse_str(short);
        assert_eq!(errors.len(), 1, "{short}");
    }
}

#[test]
fn bad_addresses_and_times() {
    let cases = [
        ("999.1.1.1", "ExitAddress: not an ip address or network"),
        (
            "010.1.1.1",
            "ExitAddress: ipv4 octet with a leading zero (octal or decimal?)",
        ),
        (
            "fe80::1%eth0",
            "ExitAddress: ipv6 zone ids (\"%...\") are not allowed",
        ),
    ];
    for (addr, reason) in cases {
        let text = BLOCK.replace("185.241.208.232", addr);
        let (exits, errors) = parse_str(&text);
        assert!(exits.is_empty());
        assert_eq!(errors[0].reason, reason);
        assert_eq!(errors[0].position, Position::Line(4));
    }
    let (_, errors) = parse_str(&BLOCK.replace("08:10:51", "8:10:51"));
    assert_eq!(
        errors[0].reason,
        "ExitAddress needs a \"YYYY-MM-DD HH:MM:SS\" time"
    );
    let (_, errors) = parse_str(&BLOCK.replace("08:10:51", "08:10:51 extra"));
    assert_eq!(errors.len(), 1);
    let (_, errors) = parse_str("ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75\nExitAddress\n");
    assert_eq!(errors[0].reason, "ExitAddress needs an address and a time");
}

#[test]
fn a_bad_published_time_is_reported_and_left_empty() {
    let (exits, errors) = parse_str(&BLOCK.replace("2024-03-11 13:07:19", "yesterday"));
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].reason,
        "Published needs a \"YYYY-MM-DD HH:MM:SS\" time"
    );
    assert_eq!(exits[0].published, None);
    assert_eq!(exits[0].last_status, Some(ts("2024-03-12 08:00:00")));
    let (_, errors) = parse_str("LastStatus 2024-03-12 08:00:00\n");
    assert_eq!(errors[0].reason, "LastStatus before any ExitNode line");
}

#[test]
fn ipv6_exit_addresses_are_accepted() {
    let (exits, errors) = parse_str(&BLOCK.replace("185.241.208.232", "2001:db8::1"));
    assert!(errors.is_empty());
    assert_eq!(exits[0].address, ip("2001:db8::1"));
}

#[test]
fn unknown_keywords_are_skipped_garbage_is_not() {
    let text = format!(
        "@type tordnsel 1.0\nDownloaded 2018-11-02 01:02:01\nFuture-Keyword x y\n\n{BLOCK}"
    );
    let (exits, errors) = parse_str(&text);
    assert!(errors.is_empty());
    assert_eq!(exits.len(), 1);
    let (_, errors) = parse_str("\0\0\0\n{\"json\": 1}\nExit\u{FFFD}Node x\n");
    assert_eq!(errors.len(), 3);
    assert!(errors
        .iter()
        .all(|e| e.reason == "not a tordnsel exit-list line"));
}

#[test]
fn hostile_inputs() {
    assert_eq!(parse_str("").0.len(), 0);
    assert!(parse_str("").1.is_empty());
    // Invalid UTF-8 inside a value is replaced and then rejected as a bad token.
    let mut bytes = BLOCK.as_bytes().to_vec();
    bytes.extend(b"ExitAddress 1.2.3.\xFF 2024-03-12 08:10:51\n");
    let (exits, errors) = split(tor::parse(&bytes[..], "tor"), "tor");
    assert_eq!((exits.len(), errors.len()), (1, 1));
    assert_eq!(
        errors[0].text,
        "ExitAddress 1.2.3.\u{FFFD} 2024-03-12 08:10:51"
    );
    // A 2 MiB line between two blocks.
    let mut bytes = BLOCK.as_bytes().to_vec();
    bytes.extend(long_line(2 << 20));
    bytes.push(b'\n');
    bytes.extend(BLOCK.as_bytes());
    let (exits, errors) = split(tor::parse(&bytes[..], "tor"), "tor");
    assert_eq!((exits.len(), errors.len()), (2, 1));
    assert_eq!(errors[0].position, Position::Line(5));
}

#[test]
fn truncated_gzip_keeps_the_records_before_the_cut() {
    let gz = fixture_bytes("tor-exit-addresses.txt.gz");
    let reader = input::decode(std::io::Cursor::new(gz[..gz.len() / 2].to_vec())).unwrap();
    let (exits, errors) = split(tor::parse(reader, "cut"), "cut");
    assert!(errors.last().unwrap().fatal);
    let full = all_ok(tor::parse(
        &fixture_bytes("tor-exit-addresses.txt")[..],
        "live",
    ));
    assert_eq!(exits[..], full[..exits.len()]);
    let unique: HashSet<_> = exits.iter().map(|e| e.address).collect();
    assert!(!unique.is_empty());
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let (_, _) = split(tor::parse(&bytes[..], "fuzz"), "fuzz");
    }

    #[test]
    fn mutated_blocks_never_panic(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("ExitNode FE39F07EBE7870DCE124AB30DF3ABD0700A43F75".to_owned()),
                Just("Published 2024-03-11 13:07:19".to_owned()),
                Just("LastStatus 2024-03-12 08:00:00".to_owned()),
                Just("ExitAddress 185.241.208.232 2024-03-12 08:10:51".to_owned()),
                "(ExitNode|ExitAddress|Published|LastStatus) [ -~]{0,60}",
                "[ -~\\t\\r]{0,80}",
            ],
            0..40,
        )
    ) {
        let text = lines.join("\n");
        let (exits, _) = split(tor::parse(text.as_bytes(), "fuzz"), "fuzz");
        for e in exits {
            prop_assert_eq!(e.fingerprint.len(), 40);
            prop_assert!(e.fingerprint.bytes().all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(&b)));
        }
    }
}
