//! `tor_consensus`: network-status consensus documents, ns and microdesc flavours.

use std::collections::HashSet;
use std::io::Write;
use std::net::{IpAddr, SocketAddrV6};

use ipsieve_sources::tor_consensus::{
    self, ConsensusHeader, ConsensusItem, Flavour, PortPolicy, Relay,
};
use ipsieve_sources::{input, tor, ParseError, Position, Timestamp};
use proptest::prelude::*;

use crate::common::{all_ok, fixture_bytes, long_line, shared_data, split};

const NS: &str = "tor-consensus-ns-2022-11-19.txt";
const MICRODESC: &str = "tor-consensus-microdesc-2024-05-17.txt";
const COLLECTOR: &str = "tor-collector-2018-06-01-00-00-00-consensus";

fn ts(text: &str) -> Timestamp {
    Timestamp::parse_date_time(text).unwrap()
}

/// The header (which must come first) and the relays of a stream without errors.
fn read(bytes: &[u8], source: &str) -> (ConsensusHeader, Vec<Relay>) {
    let mut items = all_ok(tor_consensus::parse(bytes, source)).into_iter();
    let Some(ConsensusItem::Header(header)) = items.next() else {
        panic!("the header comes first");
    };
    let relays = items
        .map(|item| item.into_relay().expect("one header only"))
        .collect();
    (header, relays)
}

fn parse_str(text: &str) -> (Vec<ConsensusItem>, Vec<ParseError>) {
    split(tor_consensus::parse(text.as_bytes(), "c"), "c")
}

fn relays_of(items: Vec<ConsensusItem>) -> Vec<Relay> {
    items
        .into_iter()
        .filter_map(ConsensusItem::into_relay)
        .collect()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

/// A minimal ns document around `entries`, for the hostile cases.
fn ns_doc(entries: &str) -> String {
    format!(
        "network-status-version 3\nvote-status consensus\nconsensus-method 32\n\
         valid-after 2022-11-19 10:00:00\nfresh-until 2022-11-19 11:00:00\n\
         valid-until 2022-11-19 13:00:00\n{entries}directory-footer\n"
    )
}

const TITAMON: &str = "r titamon3 ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks \
                       2022-11-18 21:31:58 178.218.144.18 443 0\n\
                       s Exit Fast Guard HSDir Running Stable V2Dir Valid\n\
                       p accept 20-23,43,53\n";

#[test]
fn ns_fixture_header_and_relays() {
    let (header, relays) = read(&fixture_bytes(NS), "ns");
    assert_eq!(
        header,
        ConsensusHeader {
            flavour: Flavour::Ns,
            consensus_method: Some(32),
            valid_after: ts("2022-11-19 10:00:00"),
            fresh_until: ts("2022-11-19 11:00:00"),
            valid_until: ts("2022-11-19 13:00:00"),
        }
    );
    assert_eq!(relays.len(), 9);
    let seele = &relays[0];
    assert_eq!(seele.nickname, "seele");
    assert_eq!(
        seele.fingerprint,
        "000A10D43011EA4928A35F610405F92B4433B4DC"
    );
    assert_eq!(seele.published, Some(ts("2022-11-19 03:58:26")));
    assert_eq!(seele.address.to_string(), "104.53.221.159");
    assert_eq!((seele.or_port, seele.dir_port), (9001, 0));
    assert!(seele.ipv6.is_empty());
    assert!(seele.flags.running && seele.flags.valid && seele.flags.hsdir);
    assert!(!seele.flags.exit && !seele.flags.guard && !seele.is_exit());
    assert_eq!(
        seele.exit_policy,
        Some(PortPolicy {
            accept: false,
            ports: vec![1..=65535]
        })
    );
    assert!(!seele.exit_policy.as_ref().unwrap().allows_any());

    let titamon = &relays[1];
    assert!(titamon.is_exit() && titamon.flags.guard);
    let policy = titamon.exit_policy.as_ref().unwrap();
    assert!(policy.accept);
    assert_eq!(policy.ports.len(), 68);
    assert_eq!(policy.ports[0], 20..=23);
    assert_eq!(*policy.ports.last().unwrap(), 64738..=64738);
    assert!(policy.allows(443) && policy.allows(22) && !policy.allows(25));

    let for_privacy = &relays[4];
    assert_eq!(for_privacy.nickname, "ForPrivacyNET");
    let v6: SocketAddrV6 = "[2a0b:f4c2:2::33]:10133".parse().unwrap();
    assert_eq!(for_privacy.ipv6, [v6]);
    let addrs: Vec<IpAddr> = for_privacy.addresses().collect();
    assert_eq!(addrs, [ip("185.220.101.33"), ip("2a0b:f4c2:2::33")]);
    let policy = for_privacy.exit_policy.as_ref().unwrap();
    assert!(!policy.accept && policy.allows(443) && !policy.allows(25));

    // KylesRelay1 accepts exits to IRC ports without having the Exit flag: relay-only here.
    let kyle = &relays[5];
    assert!(!kyle.is_exit());
    assert!(kyle.exit_policy.as_ref().unwrap().allows(6667));

    // BadExit: soltor0 also has Exit, ongoboo does not, CGretski has Exit and an IPv6 address.
    let bad: Vec<&str> = relays
        .iter()
        .filter(|r| r.flags.bad_exit)
        .map(|r| r.nickname.as_str())
        .collect();
    assert_eq!(bad, ["soltor0", "ongoboo", "CGretski"]);
    assert!(relays
        .iter()
        .filter(|r| r.flags.bad_exit)
        .all(|r| !r.is_exit()));
    assert!(relays[6].flags.exit && !relays[7].flags.exit && relays[8].flags.exit);
    assert_eq!(relays[8].ipv6.len(), 1);

    let exits: Vec<&str> = relays
        .iter()
        .filter(|r| r.is_exit())
        .map(|r| r.nickname.as_str())
        .collect();
    assert_eq!(exits, ["titamon3", "CalyxInstitute14", "ForPrivacyNET"]);
}

fn ip(text: &str) -> IpAddr {
    text.parse().unwrap()
}

#[test]
fn positions_are_the_r_lines() {
    let items: Vec<_> = tor_consensus::parse_located(&fixture_bytes(NS)[..], "ns")
        .map(Result::unwrap)
        .collect();
    // The header completes at valid-until (line 6).
    assert_eq!(items[0].position, Position::Line(6));
    let lines: Vec<Position> = items[1..].iter().map(|l| l.position).collect();
    let want: Vec<Position> = [45, 51, 57, 63, 69, 76, 82, 88, 94]
        .into_iter()
        .map(Position::Line)
        .collect();
    assert_eq!(lines, want);
}

#[test]
fn microdesc_fixture() {
    let (header, relays) = read(&fixture_bytes(MICRODESC), "md");
    assert_eq!(header.flavour, Flavour::Microdesc);
    assert_eq!(header.consensus_method, Some(33));
    assert_eq!(header.valid_after, ts("2024-05-17 17:00:00"));
    assert_eq!(header.fresh_until, ts("2024-05-17 18:00:00"));
    assert_eq!(header.valid_until, ts("2024-05-17 20:00:00"));
    assert_eq!(relays.len(), 7);
    // The 2038 placeholder is not a publication time.
    assert!(relays.iter().all(|r| r.published.is_none()));
    // No p lines in this flavour.
    assert!(relays.iter().all(|r| r.exit_policy.is_none()));
    let tor4 = &relays[1];
    assert_eq!(tor4.nickname, "tor4novgnet");
    assert_eq!(tor4.fingerprint, "000C351F86033654A82D9FD6AC3B178F44E236BE");
    assert_eq!(tor4.address.to_string(), "5.196.8.113");
    assert_eq!(tor4.ipv6[0].to_string(), "[2001:41d0:404:300::dd2]:9001");
    let exits: Vec<&str> = relays
        .iter()
        .filter(|r| r.is_exit())
        .map(|r| r.nickname.as_str())
        .collect();
    assert_eq!(exits, ["tor4novgnet", "SENDNOOSEplz", "titamon3"]);
    let hands = &relays[4];
    assert!(hands.flags.bad_exit && hands.flags.middle_only && !hands.flags.exit);
    // The same relay in both flavours has the same fingerprint.
    let (_, ns) = read(&fixture_bytes(NS), "ns");
    assert_eq!(relays[3].fingerprint, ns[1].fingerprint);
    assert_eq!(relays[5].fingerprint, ns[8].fingerprint);
}

#[test]
fn collector_fixture_with_type_annotation() {
    let bytes = fixture_bytes(COLLECTOR);
    assert!(bytes.starts_with(b"@type network-status-consensus-3 1.0\n"));
    let (header, relays) = read(&bytes, "collector");
    assert_eq!(header.flavour, Flavour::Ns);
    assert_eq!(header.consensus_method, Some(28));
    assert_eq!(header.valid_after, ts("2018-06-01 00:00:00"));
    assert_eq!(header.valid_until, ts("2018-06-01 03:00:00"));
    assert_eq!(relays.len(), 6);
    let exits: Vec<&str> = relays
        .iter()
        .filter(|r| r.is_exit())
        .map(|r| r.nickname.as_str())
        .collect();
    assert_eq!(exits, ["CalyxInstitute14", "freehat", "tor28bitlab"]);
    let calyx = &relays[2];
    assert_eq!(calyx.dir_port, 80);
    assert_eq!(calyx.published, Some(ts("2018-05-31 11:57:30")));
    let freehat = &relays[4];
    assert_eq!(
        freehat.exit_policy.as_ref().unwrap().ports,
        [21..=23, 80..=80, 443..=443]
    );
    // PancakeWhore: IPv6 ORPort differs from the IPv4 one.
    assert_eq!(relays[3].ipv6[0].port(), 9050);
    assert_eq!(relays[3].or_port, 9001);
}

#[test]
fn collector_microdesc_annotation_is_accepted_and_checked() {
    let md = fixture_bytes(MICRODESC);
    let mut annotated = b"@type network-status-microdesc-consensus-3 1.0\n".to_vec();
    annotated.extend(&md);
    let (_, relays) = read(&annotated, "md");
    assert_eq!(relays.len(), 7);
    // The ns annotation on a microdesc document: reported once, read as the document says.
    let mut wrong = b"@type network-status-consensus-3 1.0\n".to_vec();
    wrong.extend(&md);
    let (items, errors) = split(tor_consensus::parse(&wrong[..], "md"), "md");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].position, Position::Line(2));
    assert!(errors[0]
        .reason
        .starts_with("the CollecTor @type says an ns consensus"));
    assert_eq!(relays_of(items).len(), 7);
}

#[test]
fn gzip_and_truncated_gzip() {
    let plain = read(&fixture_bytes(NS), "ns");
    let gz = gzip(&fixture_bytes(NS));
    let reader = input::decode(std::io::Cursor::new(gz.clone())).unwrap();
    let items = all_ok(tor_consensus::parse(reader, "ns"));
    assert_eq!(relays_of(items), plain.1);

    // Cut the compressed stream at every 64th byte: complete relays before the cut are kept,
    // each equal to the uncut one, then one fatal error; the relay being read at the cut is
    // dropped rather than yielded without its flags.
    let mut partial = 0;
    for cut in (0..gz.len()).step_by(64) {
        let reader = input::decode(std::io::Cursor::new(gz[..cut].to_vec())).unwrap();
        let (items, errors) = split(tor_consensus::parse(reader, "cut"), "cut");
        if cut == 0 {
            // An empty input is not gzip at all.
            assert!(items.is_empty() && errors.len() == 1);
            continue;
        }
        let last = errors.last().expect("a cut gzip ends in an error");
        assert!(last.fatal && last.reason.contains("truncated"), "{last}");
        assert_eq!(errors.len(), 1, "{errors:?}");
        let relays = relays_of(items);
        assert_eq!(relays[..], plain.1[..relays.len()]);
        if !relays.is_empty() && relays.len() < plain.1.len() {
            partial += 1;
        }
    }
    assert!(partial > 0, "some cut falls inside the relays");
}

#[test]
fn not_a_consensus() {
    // A TorDNSEL exit list fed to the consensus parser: one error, nothing else.
    let exit_list = fixture_bytes("tor-collector-2018-11-02-01-02-01");
    let (items, errors) = split(tor_consensus::parse(&exit_list[..], "x"), "x");
    assert!(items.is_empty());
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].position, Position::Line(1));
    assert_eq!(
        errors[0].reason,
        "not a tor consensus: the CollecTor @type names another kind of document"
    );
    assert_eq!(errors[0].text, "@type tordnsel 1.0");
    // The consensus fed to the TorDNSEL parser yields no exit addresses.
    let (exits, _) = split(tor::parse(&fixture_bytes(NS)[..], "ns"), "ns");
    assert!(exits.is_empty());

    for (text, reason) in [
        ("", "empty input: not a tor consensus (no \"network-status-version 3\" line)"),
        ("\n\n@downloaded-at 2024\n", "empty input: not a tor consensus (no \"network-status-version 3\" line)"),
        ("<html>404</html>\nr a b\n", "not a tor consensus: the first line must be \"network-status-version 3\""),
        ("network-status-version 2\n", "unsupported consensus: expected \"network-status-version 3\" or \"network-status-version 3 microdesc\""),
        ("network-status-version 3 bridge\n", "unsupported consensus: expected \"network-status-version 3\" or \"network-status-version 3 microdesc\""),
        ("network-status-version 3\nvote-status vote\nr x\n", "not a consensus: vote-status must be \"consensus\" (this looks like a vote)"),
    ] {
        let (items, errors) = parse_str(text);
        assert!(items.is_empty(), "{text:?}");
        assert_eq!(errors.len(), 1, "{text:?}: {errors:?}");
        assert_eq!(errors[0].reason, reason, "{text:?}");
    }
}

#[test]
fn header_problems() {
    // A missing time: one error at the first r line, the relays are still read.
    let doc = ns_doc(TITAMON).replace("fresh-until 2022-11-19 11:00:00\n", "");
    let (items, errors) = parse_str(&doc);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].reason,
        "consensus header without a valid fresh-until; its validity is unknown, no header"
    );
    assert_eq!(errors[0].position, Position::Line(6));
    assert!(matches!(items[..], [ConsensusItem::Relay(_)]));

    let doc = ns_doc(TITAMON).replace("valid-until 2022-11-19 13:00:00", "valid-until tomorrow");
    let (items, errors) = parse_str(&doc);
    assert_eq!(
        errors[0].reason,
        "valid-until needs a \"YYYY-MM-DD HH:MM:SS\" time"
    );
    assert_eq!(
        errors[1].reason,
        "consensus header without a valid valid-until; its validity is unknown, no header"
    );
    assert_eq!(relays_of(items).len(), 1);

    let doc = ns_doc(TITAMON).replace(
        "valid-until 2022-11-19 13:00:00",
        "valid-until 2022-11-19 10:30:00",
    );
    let (items, errors) = parse_str(&doc);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].reason.starts_with("validity times out of order"));
    assert_eq!(relays_of(items).len(), 1);

    let doc = ns_doc(TITAMON).replace(
        "consensus-method 32\n",
        "consensus-method 32\nvalid-after 2022-11-19 10:00:00\nconsensus-method x\n",
    );
    let (items, errors) = parse_str(&doc);
    let reasons: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "consensus-method needs one number",
            "second valid-after line"
        ]
    );
    assert!(matches!(items[0], ConsensusItem::Header(_)));

    // Header only, no relays, no footer: the header is still yielded.
    let (items, errors) = parse_str(
        "network-status-version 3\nvalid-after 2022-11-19 10:00:00\n\
         fresh-until 2022-11-19 11:00:00\nvalid-until 2022-11-19 13:00:00\n",
    );
    assert!(errors.is_empty());
    assert_eq!(items.len(), 1);
}

#[test]
fn bad_r_lines_reject_their_entry_once() {
    let r = "r titamon3 ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 178.218.144.18 443 0";
    let cases = [
        (r.replace(" 443 0", " 443"), "r line has 7 fields; an ns consensus has 8 (nickname identity digest date time address orport dirport)"),
        (format!("{r} extra more"), "r line has 10 fields; an ns consensus has 8 (nickname identity digest date time address orport dirport)"),
        (r.replace("titamon3", "a-nickname-that-is-far-too-long"), "r line: nickname must be 1 to 19 ascii letters and digits"),
        (r.replace("ABElTMhEQ2myDvERVriZBDgiGlQ", "ABElTMhEQ2myDvERVriZBDgiGl"), "r line: identity is not base64 of 20 bytes"),
        (r.replace("y/fqWhmFHAgpsHc59tXyQKtcRks", "y/fqWhmFHAgpsHc59tXyQKtcRk!"), "r line: descriptor digest is not base64 of 20 bytes"),
        (r.replace("21:31:58", "25:31:58"), "r line: publication time is not \"YYYY-MM-DD HH:MM:SS\""),
        (r.replace("178.218.144.18", "2001:db8::1"), "r line: \"2001:db8::1\" is not an ipv4 address"),
        (r.replace("178.218.144.18", "178.218.144.018"), "r line: \"178.218.144.018\" is not an ipv4 address"),
        (r.replace(" 443 0", " 0 0"), "r line: orport must be a number from 1 to 65535"),
        (r.replace(" 443 0", " 443 65536"), "r line: dirport must be a number from 0 to 65535"),
    ];
    for (bad, reason) in cases {
        let entry =
            format!("{bad}\na [2001:db8::1]:443\ns Exit Running Valid\np accept 80\n{TITAMON}");
        let (items, errors) = parse_str(&ns_doc(&entry));
        assert_eq!(errors.len(), 1, "{bad}: {errors:?}");
        assert_eq!(errors[0].reason, reason, "{bad}");
        assert_eq!(errors[0].position, Position::Line(7));
        assert_eq!(errors[0].text, ipsieve_sources::error::truncate(&bad));
        let relays = relays_of(items);
        assert_eq!(relays.len(), 1, "the next entry is read");
        assert_eq!(relays[0].nickname, "titamon3");
    }
    // Microdesc r lines have no digest field.
    let md = ns_doc(r).replace(
        "network-status-version 3\n",
        "network-status-version 3 microdesc\n",
    );
    let (_, errors) = parse_str(&md);
    assert_eq!(errors[0].reason, "r line has 8 fields; a microdesc consensus has 7 (nickname identity date time address orport dirport)");
}

#[test]
fn entry_level_problems() {
    // No s line: the entry is rejected at its r line, quoting it.
    let no_flags = "r seele AAoQ1DAR6kkoo19hBAX5K0QztNw FF26jNpQfRpYdz65WYv+O9pFPtY 2022-11-19 03:58:26 104.53.221.159 9001 0\nv Tor 0.4.7.10\n";
    let (items, errors) = parse_str(&ns_doc(&format!("{no_flags}{TITAMON}")));
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].position, Position::Line(7));
    assert_eq!(
        errors[0].reason,
        "relay entry without an s (flags) line; its exit status is unknown, skipped"
    );
    assert!(errors[0].text.starts_with("r seele"));
    assert_eq!(relays_of(items).len(), 1);
    // ...also when it is the last entry and the footer is missing.
    let doc = ns_doc(no_flags).replace("directory-footer\n", "");
    let (items, errors) = parse_str(&doc);
    assert_eq!((relays_of(items).len(), errors.len()), (0, 1));

    // Bad a and p lines are reported; the relay is kept without them.
    let entry = TITAMON
        .replace("p accept 20-23,43,53", "p accept 53,43")
        .replace("s Exit", "a 178.218.144.18:443\na [2001:db8::1]:0\na [fe80::1%eth0]:443\na [2001:db8::2]:443\ns Exit");
    let (items, errors) = parse_str(&ns_doc(&entry));
    let reasons: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "a line: expected \"[IPv6]:port\"",
            "a line: port must be a number from 1 to 65535",
            "a line: \"fe80::1%eth0\" is not an ipv6 address",
            "p line: \"43\" is out of ascending order",
        ]
    );
    assert_eq!(errors[0].position, Position::Line(8));
    let relay = &relays_of(items)[0];
    assert_eq!(relay.ipv6.len(), 1);
    assert_eq!(relay.exit_policy, None);
    assert!(relay.is_exit());

    // Second s and p lines are reported and ignored; too many a lines are capped.
    let mut entry = TITAMON.replace("s Exit", "s BadExit Exit");
    entry.push_str("s Guard\np reject 1-65535\n");
    for i in 1..=10 {
        entry = entry.replacen("s BadExit", &format!("a [2001:db8::{i}]:443\ns BadExit"), 1);
    }
    let (items, errors) = parse_str(&ns_doc(&entry));
    let reasons: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "more than 8 a lines for one relay; extra ones ignored",
            "more than 8 a lines for one relay; extra ones ignored",
            "second s line in one relay entry; ignored",
            "second p line in one relay entry; ignored",
        ]
    );
    let relay = &relays_of(items)[0];
    assert!(relay.flags.bad_exit && !relay.is_exit());
    assert_eq!(relay.ipv6.len(), 8);
    assert!(relay.exit_policy.as_ref().unwrap().accept);

    // Entry lines before any r line, and garbage.
    let doc = ns_doc(TITAMON).replace(
        "valid-until 2022-11-19 13:00:00\n",
        "valid-until 2022-11-19 13:00:00\ns Exit\n\0\0\0\n",
    );
    let (items, errors) = parse_str(&doc);
    let reasons: Vec<&str> = errors.iter().map(|e| e.reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["s line before any r line", "not a consensus line"]
    );
    assert_eq!(relays_of(items).len(), 1);
}

#[test]
fn objects_and_footer_are_skipped() {
    // An r-looking line inside a signature object, and lines after the footer, are ignored.
    let doc = ns_doc(TITAMON).replace(
        "directory-footer\n",
        "-----BEGIN SIGNATURE-----\nr inside an object\n-----END SIGNATURE-----\ndirectory-footer\nr x y\n!!\n",
    );
    let (items, errors) = parse_str(&doc);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(relays_of(items).len(), 1);
    // An object that never ends is reported at the end of the input.
    let doc = ns_doc(TITAMON).replace("directory-footer\n", "-----BEGIN SIGNATURE-----\nabc\n");
    let (items, errors) = parse_str(&doc);
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].reason,
        "the input ends inside a -----BEGIN object"
    );
    assert_eq!(
        relays_of(items).len(),
        1,
        "the entry before the object is kept"
    );
}

#[test]
fn hostile_inputs() {
    // CRLF, a BOM, and NUL bytes in an unknown-keyword line.
    let text = format!("\u{FEFF}{}", ns_doc(TITAMON).replace('\n', "\r\n"));
    let (items, errors) = parse_str(&text);
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(relays_of(items).len(), 1);
    let doc = ns_doc(&TITAMON.replace("p accept", "w Bandwidth=\0\0\np accept"));
    let (items, errors) = parse_str(&doc);
    assert!(errors.is_empty());
    assert_eq!(relays_of(items).len(), 1);
    // Invalid UTF-8 in the nickname.
    let mut bytes = ns_doc("").into_bytes();
    let at = bytes.len() - "directory-footer\n".len();
    let bad = TITAMON.replace("titamon3", "tita#mon3");
    let bad = bad.bytes().map(|b| if b == b'#' { 0xFF } else { b });
    bytes.splice(at..at, bad);
    let (items, errors) = split(tor_consensus::parse(&bytes[..], "c"), "c");
    assert_eq!(relays_of(items).len(), 0);
    assert_eq!(
        errors[0].reason,
        "r line: nickname must be 1 to 19 ascii letters and digits"
    );
    // A 2 MiB line between two entries.
    let mut entries = TITAMON.as_bytes().to_vec();
    entries.extend(long_line(2 << 20));
    entries.push(b'\n');
    entries.extend(TITAMON.replace("titamon3", "second").as_bytes());
    let mut bytes = ns_doc("").into_bytes();
    let at = bytes.len() - "directory-footer\n".len();
    bytes.splice(at..at, entries);
    let (items, errors) = split(tor_consensus::parse(&bytes[..], "c"), "c");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].reason, "line longer than 1048576 bytes");
    assert_eq!(errors[0].position, Position::Line(10));
    assert_eq!(relays_of(items).len(), 2);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = split(tor_consensus::parse(&bytes[..], "fuzz"), "fuzz");
    }

    #[test]
    fn arbitrary_lines_in_a_consensus_never_panic(
        lines in proptest::collection::vec(
            prop_oneof![
                Just("r titamon3 ABElTMhEQ2myDvERVriZBDgiGlQ y/fqWhmFHAgpsHc59tXyQKtcRks 2022-11-18 21:31:58 178.218.144.18 443 0".to_owned()),
                Just("r tor4novgnet AAw1H4YDNlSoLZ/WrDsXj0TiNr4 2038-01-01 00:00:00 5.196.8.113 9001 0".to_owned()),
                Just("s Exit Fast Guard Running Valid".to_owned()),
                Just("s BadExit Exit".to_owned()),
                Just("a [2001:41d0:404:300::dd2]:9001".to_owned()),
                Just("-----BEGIN SIGNATURE-----".to_owned()),
                Just("-----END SIGNATURE-----".to_owned()),
                Just("directory-footer".to_owned()),
                "(r|s|a|p|valid-after|fresh-until|valid-until|consensus-method) [ -~]{0,80}",
                "p (accept|reject) [0-9,-]{0,40}",
                "[ -~\\t\\r]{0,80}",
            ],
            0..60,
        ),
        microdesc in any::<bool>(),
    ) {
        let first = if microdesc { "network-status-version 3 microdesc" } else { "network-status-version 3" };
        let text = format!("{first}\n{}", lines.join("\n"));
        let (items, _) = split(tor_consensus::parse(text.as_bytes(), "fuzz"), "fuzz");
        let mut headers = 0;
        for item in items {
            match item {
                ConsensusItem::Header(h) => {
                    headers += 1;
                    prop_assert!(h.valid_after <= h.fresh_until && h.fresh_until <= h.valid_until);
                }
                ConsensusItem::Relay(r) => {
                    prop_assert_eq!(r.fingerprint.len(), 40);
                    prop_assert!(r.ipv6.len() <= tor_consensus::MAX_OR_ADDRESSES);
                    if let Some(p) = &r.exit_policy {
                        prop_assert!(p.ports.windows(2).all(|w| w[0].end() < w[1].start()));
                    }
                }
            }
        }
        prop_assert!(headers <= 1);
    }
}

// Whole upstream files from shared/data: the counts documented in its SOURCES.md.

fn whole(rel: &str) -> Option<(ConsensusHeader, Vec<Relay>)> {
    let path = shared_data(rel)?;
    let (items, errors) = split(tor_consensus::parse(input::open(&path).unwrap(), rel), rel);
    assert!(errors.is_empty(), "{errors:?}");
    let mut items = items.into_iter();
    let Some(ConsensusItem::Header(header)) = items.next() else {
        panic!("no header")
    };
    Some((
        header,
        items.filter_map(ConsensusItem::into_relay).collect(),
    ))
}

#[test]
fn whole_ns_consensus() {
    let Some((header, relays)) = whole("tor/consensus/cached-consensus.gz") else {
        return;
    };
    assert_eq!(header.valid_after, ts("2022-11-19 10:00:00"));
    assert_eq!(relays.len(), 6088);
    assert_eq!(relays.iter().filter(|r| r.flags.exit).count(), 1438);
    assert_eq!(relays.iter().filter(|r| r.flags.bad_exit).count(), 11);
    assert_eq!(relays.iter().filter(|r| r.is_exit()).count(), 1428);
    assert_eq!(relays.iter().filter(|r| !r.ipv6.is_empty()).count(), 2686);
    assert!(relays
        .iter()
        .all(|r| r.exit_policy.is_some() && r.published.is_some()));
    let fps: HashSet<&str> = relays.iter().map(|r| r.fingerprint.as_str()).collect();
    assert_eq!(fps.len(), 6088);
}

#[test]
fn whole_microdesc_consensus() {
    let Some((header, relays)) = whole("tor/consensus/cached-microdesc-consensus.gz") else {
        return;
    };
    assert_eq!(header.flavour, Flavour::Microdesc);
    assert_eq!(header.valid_after, ts("2024-05-17 17:00:00"));
    assert_eq!(relays.len(), 7195);
    assert_eq!(relays.iter().filter(|r| r.flags.exit).count(), 2223);
    assert_eq!(relays.iter().filter(|r| r.flags.bad_exit).count(), 12);
    assert_eq!(relays.iter().filter(|r| !r.ipv6.is_empty()).count(), 3466);
    assert!(relays
        .iter()
        .all(|r| r.published.is_none() && r.exit_policy.is_none()));
}

#[test]
fn whole_collector_consensus() {
    let Some((header, relays)) = whole("tor/collector/2018-06-01-00-00-00-consensus") else {
        return;
    };
    assert_eq!(header.valid_after, ts("2018-06-01 00:00:00"));
    assert_eq!(relays.len(), 208);
    assert_eq!(relays.iter().filter(|r| r.flags.exit).count(), 22);
    assert_eq!(relays.iter().filter(|r| !r.ipv6.is_empty()).count(), 37);
}
