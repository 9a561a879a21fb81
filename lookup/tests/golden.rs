//! Every golden artifact this version claims to read still opens and answers as it did.

use ipsieve::{Categories, Database, Verdict};

/// Older formats are no longer read: format 1 (B+ trees under /16 tables) and format 3
/// (tiers numbered without `asn-sibling`) are refused with the clear version error, never
/// misread.
#[test]
fn older_goldens_are_refused() {
    let old: [(&[u8], u16); 2] = [
        (include_bytes!("golden/v1.ipsieve"), 1),
        (include_bytes!("golden/v3.ipsieve"), 3),
    ];
    for (bytes, major) in old {
        let err = Database::from_bytes(bytes).unwrap_err();
        assert!(
            matches!(err, ipsieve::OpenError::UnsupportedVersion { major: m, minor: 0 } if m == major),
            "{err:?}"
        );
        assert!(err.to_string().contains("rebuild the artifact"), "{err}");
    }
}

#[test]
fn format_4_golden() {
    let db = Database::from_bytes(include_bytes!("golden/v4.ipsieve")).unwrap();
    db.verify().unwrap();
    assert_eq!(db.format_version().0, 4);
    assert_eq!(db.build_time(), 1_750_000_000);

    let tor = db.lookup("185.220.101.1".parse().unwrap());
    assert!(tor.is_tor() && tor.is_anonymous() && !tor.is_vpn());
    assert_eq!(tor.verdict(), Verdict::VpnDetected);
    assert_eq!(tor.asn(), Some(60729));
    assert_eq!(tor.as_org(), Some("ZWIEBELFREUNDE"));
    assert_eq!(tor.provider(), Some("Tor Project"));
    assert_eq!(tor.network().to_string(), "185.220.101.1/32");
    assert_eq!(
        tor.sources().collect::<Vec<_>>(),
        ["caida-pfx2as", "tor-exit-addresses"]
    );

    let neighbour = db.lookup("185.220.101.2".parse().unwrap());
    assert!(!neighbour.is_tor());
    assert_eq!(neighbour.asn(), Some(60729));
    assert_eq!(neighbour.network().to_string(), "185.220.101.2/31");

    let aws = db.lookup("3.5.141.200".parse().unwrap());
    assert_eq!(aws.categories(), Categories::HOSTING);
    assert_eq!(aws.verdict(), Verdict::Suspicious);
    assert_eq!(aws.provider(), Some("Amazon AWS"));
    assert_eq!(aws.network().to_string(), "3.5.140.0/22");
    assert_eq!(aws.asn(), None);

    let relay = db.lookup("2606:54c0:1000::1".parse().unwrap());
    assert!(relay.is_relay() && !relay.is_vpn() && !relay.is_anonymous());
    assert_eq!(relay.verdict(), Verdict::Clean);
    assert_eq!(relay.network().to_string(), "2606:54c0::/35");

    let mapped = db.lookup("::ffff:1.1.1.1".parse().unwrap());
    assert_eq!(mapped.asn(), Some(13335));
    assert_eq!(mapped.ip().to_string(), "1.1.1.1");

    // AS15169 is on the hosting-ASN list; AS19527, of the same organisation, inherits it at
    // the weaker `asn-sibling` tier through the derived source.
    let listed = db.lookup("8.8.8.8".parse().unwrap());
    assert_eq!(listed.categories(), Categories::HOSTING);
    assert_eq!(
        listed.sources().collect::<Vec<_>>(),
        ["caida-pfx2as", "x4bnet-datacenter-asns"]
    );
    let sibling = db.lookup("34.1.82.1".parse().unwrap());
    assert_eq!(sibling.categories(), Categories::HOSTING);
    assert_eq!(sibling.weak_categories(), Categories::HOSTING);
    assert_eq!(sibling.as_org(), Some("Google LLC"));
    assert_eq!(
        sibling.sources().collect::<Vec<_>>(),
        ["caida-pfx2as", "x4bnet-datacenter-asns.sibling"]
    );
    let tier = db
        .sources()
        .find(|s| s.name() == "x4bnet-datacenter-asns.sibling")
        .map(|s| (s.tier(), s.format()));
    assert_eq!(tier, Some((ipsieve::Tier::AsnSibling, "asn-sibling")));
    assert!(sibling.score() < listed.score());

    let none = db.lookup("192.0.2.1".parse().unwrap());
    assert!(none.is_empty() && none.categories().is_empty());
    assert_eq!(db.sources().count(), 6);
}

/// The fuzz entry point survives the golden artifact, every truncation of it at 64-byte steps,
/// and every file under `fuzz/regressions/open_artifact/` (minimised crashers, once found).
#[test]
fn fuzz_entry_point_replays() {
    let golden = include_bytes!("golden/v4.ipsieve");
    ipsieve::fuzz::open_and_lookup(golden);
    for len in (0..golden.len()).step_by(64) {
        ipsieve::fuzz::open_and_lookup(&golden[..len]);
    }
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/regressions/open_artifact");
    for entry in std::fs::read_dir(dir).expect("fuzz/regressions/open_artifact") {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n != ".gitkeep") {
            ipsieve::fuzz::open_and_lookup(&std::fs::read(&path).unwrap());
        }
    }
}

/// Top entries a range scan may cross on a corrupt file (the scan's budget, shared with the
/// nodes it visits).
const SCAN_BUDGET: u32 = 4096;

#[test]
fn a_range_scan_stays_short_when_the_spans_lie() {
    // Zeroed top spans (corrupt, and `verify` says so) make every top entry a block of its
    // own: a range scan then crosses the top table entry by entry. Like a walk through corrupt
    // nodes it is bounded, ending the range after at most the budget, instead of crossing all
    // 2^18 entries on every call (a fuzz input that did so took over 10 s per execution).
    use ipsieve::format::{hdr, Section};
    let golden = include_bytes!("golden/v4.ipsieve");
    let entry = |a: std::net::IpAddr| match a {
        std::net::IpAddr::V4(a) => u32::from(a) >> 14,
        std::net::IpAddr::V6(_) => unreachable!(),
    };
    // The valid file's longest IPv4 range runs far past the budget.
    let clean = Database::from_bytes(golden).unwrap();
    let longest = clean
        .ranges()
        .take_while(|r| r.first.is_ipv4())
        .max_by_key(|r| entry(r.last) - entry(r.first))
        .unwrap();
    assert!(entry(longest.last) - entry(longest.first) > 2 * SCAN_BUDGET);
    let ip = longest.first;
    assert_eq!(clean.lookup(ip).range(), (longest.first, longest.last));

    let mut b = golden.to_vec();
    let at = hdr::DIRECTORY + 16 * Section::V4Spans as usize;
    let off = u64::from_le_bytes(b[at..at + 8].try_into().unwrap()) as usize;
    let len = u64::from_le_bytes(b[at + 8..at + 16].try_into().unwrap()) as usize;
    b[off..off + len].fill(0);
    let db = Database::from_bytes(&b).unwrap();
    let (lo, hi) = db.lookup(ip).range();
    assert_eq!(lo, ip);
    assert!(
        entry(hi) - entry(lo) < SCAN_BUDGET,
        "{lo} - {hi}: the scan crossed more than the budget"
    );
    assert!(db.verify().is_err());
}
