//! `plain`: address-per-line lists and the one-line comma-separated variant.

use ipnet::IpNet;
use ipsieve_sources::{input, plain, ParseError, Position};
use proptest::prelude::*;

use crate::common::{all_ok, fixture, fixture_bytes, long_line, split};

fn net(text: &str) -> IpNet {
    text.parse().unwrap()
}

fn parse_str(text: &str) -> (Vec<IpNet>, Vec<ParseError>) {
    split(plain::parse(text.as_bytes(), "list"), "list")
}

fn one_error(text: &str) -> ParseError {
    let (nets, errors) = parse_str(text);
    assert!(nets.is_empty(), "{text:?} gave {nets:?}");
    assert_eq!(errors.len(), 1, "{text:?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn secops_fixture_with_zero_padded_ipv6() {
    let nets = all_ok(plain::parse(
        &fixture_bytes("secops-tor-exit-nodes.lst")[..],
        "secops",
    ));
    assert_eq!(nets.len(), 20);
    assert_eq!(nets[0], net("101.99.92.179/32"));
    assert_eq!(nets[10], net("2001:470:1:908::9001/128"));
    assert_eq!(nets[10].to_string(), "2001:470:1:908::9001/128");
    assert_eq!(nets[19], net("2001:678:e3c::d/128"));
}

#[test]
fn doodad_one_line_csv_without_newline() {
    let bytes = fixture_bytes("doodad-exit-nodes.csv");
    assert!(!bytes.contains(&b'\n'));
    let nets = all_ok(plain::parse(&bytes[..], "doodad"));
    assert_eq!(nets.len(), 30);
    assert_eq!(nets[0], net("198.98.61.60/32"));
    assert_eq!(nets[13], net("2001:1620:51a1::101/128"));
    assert_eq!(nets[29], net("2001:4b20:12:f001::105/128"));
}

#[test]
fn tor_bulk_exit_list() {
    let nets = all_ok(plain::parse(
        &fixture_bytes("tor-torbulkexitlist.txt")[..],
        "bulk",
    ));
    assert_eq!(nets.len(), 15);
    assert_eq!(nets[0], net("185.241.208.232/32"));
    assert_eq!(nets[2], net("171.25.193.25/32"));
    assert!(nets
        .iter()
        .all(|n| n.addr().is_ipv4() && n.prefix_len() == 32));
}

#[test]
fn doodad_txt_compressed_ipv6_sorted_as_strings_without_final_newline() {
    let bytes = fixture_bytes("doodad-exit-nodes.txt");
    assert!(!bytes.ends_with(b"\n"));
    let nets = all_ok(plain::parse(&bytes[..], "doodad"));
    assert_eq!(nets.len(), 26);
    // Lexical order: "2.56.10.36" sorts after "199.195.253.180".
    assert_eq!(nets[7], net("199.195.253.180/32"));
    assert_eq!(nets[8], net("2.56.10.36/32"));
    assert_eq!(nets[14], net("2001:1620:51a1::101/128"));
    assert_eq!(nets[15], net("2001:1b60:3:221:3132:102:0:1/128"));
    assert_eq!(nets[25], net("98.128.173.33/32"));
    assert_eq!(nets.iter().filter(|n| n.addr().is_ipv6()).count(), 7);
}

#[test]
fn icloud_ranges_mix_cidrs_and_bare_hosts() {
    let reader = input::open(&fixture("icloud-ipv4-ranges.txt")).unwrap();
    let nets = all_ok(plain::parse(reader, "icloud"));
    assert_eq!(nets.len(), 20);
    assert_eq!(nets[0], net("104.28.28.0/26"));
    assert_eq!(nets[3], net("104.28.28.76/32"));
}

#[test]
fn cloudflare_lists_whole_files() {
    // Cloudflare's `ips-v4` / `ips-v6` need no parser of their own: one CIDR per line, and
    // the IPv4 file's last line has no newline.
    let v4_bytes = fixture_bytes("cloudflare-ips-v4");
    assert!(!v4_bytes.ends_with(b"\n"));
    let v4 = all_ok(plain::parse(&v4_bytes[..], "cloudflare-v4"));
    assert_eq!(v4.len(), 15);
    assert_eq!(v4[0], net("173.245.48.0/20"));
    assert_eq!(v4[14], net("131.0.72.0/22"));
    assert!(v4.iter().all(|n| matches!(n, IpNet::V4(_))));
    let v6 = all_ok(plain::parse(
        &fixture_bytes("cloudflare-ips-v6")[..],
        "cloudflare-v6",
    ));
    assert_eq!(v6.len(), 7);
    assert_eq!(v6[1], net("2606:4700::/32"));
    assert_eq!(v6[6], net("2c0f:f248::/32"));
    assert!(v6.iter().all(|n| matches!(n, IpNet::V6(_))));
}

#[test]
fn comments_blank_lines_and_whitespace() {
    let text = "# header\n\n  192.0.2.1  \n; other comment style\n198.51.100.0/24 # trailing\n\
                2001:db8::/32;trailing\n\t203.0.113.9\t\r\n   \n#192.0.2.99\n";
    let (nets, errors) = parse_str(text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(
        nets,
        [
            net("192.0.2.1/32"),
            net("198.51.100.0/24"),
            net("2001:db8::/32"),
            net("203.0.113.9/32")
        ]
    );
}

#[test]
fn host_bits_are_truncated_to_the_network() {
    let (nets, errors) = parse_str("192.0.2.77/24\n2001:db8::1/32\n");
    assert!(errors.is_empty());
    assert_eq!(nets, [net("192.0.2.0/24"), net("2001:db8::/32")]);
}

#[test]
fn mapped_ipv6_stays_ipv6_and_wide_nets_are_yielded() {
    let (nets, errors) = parse_str("::ffff:192.0.2.1\n0.0.0.0/0\n::/0\n255.255.255.255\n");
    assert!(errors.is_empty());
    assert_eq!(nets[0], net("::ffff:c000:201/128"));
    assert!(matches!(nets[0], IpNet::V6(_)));
    assert_eq!(nets[1], net("0.0.0.0/0"));
    assert_eq!(nets[2], net("::/0"));
    assert_eq!(nets[3], net("255.255.255.255/32"));
}

#[test]
fn rejected_entries_name_the_line_and_reason() {
    let cases = [
        ("fe80::1%eth0", "ipv6 zone ids (\"%...\") are not allowed"),
        (
            "fe80::1%eth0/64",
            "ipv6 zone ids (\"%...\") are not allowed",
        ),
        (
            "2001:db8::1%1/64",
            "ipv6 zone ids (\"%...\") are not allowed",
        ),
        (
            "2001:db8::/64%eth0",
            "ipv6 zone ids (\"%...\") are not allowed",
        ),
        (
            "010.1.1.1",
            "ipv4 octet with a leading zero (octal or decimal?)",
        ),
        ("192.0.2.0/33", "prefix length 33 is longer than 32"),
        ("2001:db8::/129", "prefix length 129 is longer than 128"),
        ("192.0.2.0/", "prefix length is not a number from 0 to 128"),
        (
            "192.0.2.0/+8",
            "prefix length is not a number from 0 to 128",
        ),
        (
            "192.0.2.0/08",
            "prefix length is not a number from 0 to 128",
        ),
        (
            "192.0.2.0/99999999999999999999",
            "prefix length is not a number from 0 to 128",
        ),
        (
            "1.2.3.4 5.6.7.8",
            "one address or network per line or comma-separated item",
        ),
        ("[2001:db8::1]", "not an ip address or network"),
        ("192.0.2.1:8080", "not an ip address or network"),
        ("1.2.3", "not an ip address or network"),
        ("example.com", "not an ip address or network"),
        ("99999999999999999999", "not an ip address or network"),
    ];
    for (text, reason) in cases {
        let (nets, errors) = parse_str(&format!("192.0.2.1\n{text}\n"));
        assert_eq!(nets.len(), 1);
        assert_eq!(errors.len(), 1, "{text}");
        assert_eq!(errors[0].reason, reason, "{text}");
        assert_eq!(errors[0].position, Position::Line(2));
        assert_eq!(errors[0].text, text);
        assert!(!errors[0].fatal);
    }
}

#[test]
fn comma_items_are_numbered_in_errors() {
    let (nets, errors) = parse_str("192.0.2.1,,bogus, 192.0.2.2 ,\n");
    assert_eq!(nets, [net("192.0.2.1/32"), net("192.0.2.2/32")]);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].reason,
        "not an ip address or network (item 3 of the line)"
    );
    assert_eq!(errors[0].text, "bogus");
}

#[test]
fn hostile_inputs() {
    assert_eq!(parse_str("").0.len(), 0);
    let e = one_error("\0\0\0");
    assert_eq!(e.text, "\0\0\0");
    let (nets, errors) = split(
        plain::parse(&b"192.0.2.\xFF\n\xEF\xBB\xBF192.0.2.1"[..], "list"),
        "list",
    );
    assert!(nets.is_empty(), "a BOM is only dropped on line 1");
    assert_eq!(errors[0].text, "192.0.2.\u{FFFD}");
    let (nets, errors) = split(
        plain::parse(&b"\xEF\xBB\xBF192.0.2.1\r\n"[..], "list"),
        "list",
    );
    assert_eq!((nets.len(), errors.len()), (1, 0));
    let mut bytes = long_line(2 << 20);
    bytes.extend(b"\n192.0.2.1\n");
    let (nets, errors) = split(plain::parse(&bytes[..], "list"), "list");
    assert_eq!((nets.len(), errors.len()), (1, 1));
    assert_eq!(errors[0].reason, "line longer than 1048576 bytes");
    // A 2 MiB line of valid comma-separated addresses is still one over-long line.
    let big = "192.0.2.1,".repeat(210_000);
    let (nets, errors) = parse_str(&big);
    assert_eq!((nets.len(), errors.len()), (0, 1));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = split(plain::parse(&bytes[..], "fuzz"), "fuzz");
    }

    #[test]
    fn address_like_text_never_panics(text in "[0-9a-fA-F:./%,;# \\t\\r\\n]{0,200}") {
        let _ = split(plain::parse(text.as_bytes(), "fuzz"), "fuzz");
    }

    #[test]
    fn any_network_round_trips(addr in any::<std::net::IpAddr>(), len in 0u8..=128) {
        let len = if addr.is_ipv4() { len % 33 } else { len };
        let want = IpNet::new(addr, len).unwrap().trunc();
        let text = format!("{addr}/{len}\n{addr}");
        let (nets, errors) = parse_str(&text);
        prop_assert!(errors.is_empty());
        prop_assert_eq!(nets, vec![want, IpNet::from(addr)]);
    }
}
