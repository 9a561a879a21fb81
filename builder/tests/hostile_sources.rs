//! Hostile source entries (issue 7) through the path `ipsieve build` takes: a manifest in a
//! scratch directory, read by [`load::load_manifest`] into a [`Builder`] (once by the binary
//! itself), real excerpts (`data/snapshot`, `data-sources/tests/fixtures`) with hostile lines
//! mixed in. Each hostile entry is rejected, or clamped, with a reason naming the source and
//! the line; the rest of the source still counts.
//!
//! A test binary of its own: the 100 MiB line test measures the peak memory of a process that
//! runs nothing else.

use ipsieve_testkit::{ivpn, real_lines, table, text};
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use ipsieve::{Categories, Database};
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::report::SourceReport;
use ipsieve_builder::{load, Attrs, BuildError, Builder, Limits, MinPrefix, SourceSpec};
use ipsieve_sources::input;

fn root() -> PathBuf {
    ipsieve_testkit::repo()
}

fn fixture(name: &str) -> PathBuf {
    root().join("data-sources/tests/fixtures").join(name)
}

/// An empty scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    ipsieve_testkit::fresh_dir(&format!("hostile-{name}"))
}

/// What building a manifest gave: one report per source, and the artifact.
struct Built {
    reports: Vec<SourceReport>,
    bytes: Vec<u8>,
}

impl Built {
    fn report(&self, name: &str) -> &SourceReport {
        self.reports
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("no report for {name}"))
    }

    fn db(&self) -> Database {
        Database::from_bytes(&self.bytes).unwrap()
    }
}

/// Writes `manifest` to `dir/sources.toml` and builds it as `ipsieve build` does.
fn build(dir: &Path, manifest: &str) -> Result<Built, BuildError> {
    let path = dir.join("sources.toml");
    std::fs::write(&path, manifest).unwrap();
    let manifest = Manifest::load(&path)?;
    let mut b = Builder::new().build_time(1_750_000_000);
    let reports = load::load_manifest(&manifest, &mut b, |_| {})?;
    Ok(Built {
        reports,
        bytes: b.compile()?.bytes,
    })
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

// --- 1. Per-category minimum prefix lengths ---------------------------------------------------

#[test]
fn category_minimums_refuse_wide_entries_by_default() {
    let mut b = Builder::new();
    let mut source = |name: &str, cats: Categories| {
        b.add_source(SourceSpec::new(name, "ip-list").categories(cats))
            .unwrap()
    };
    let tor = source("tor", Categories::TOR_EXIT);
    let vpn = source("vpn", Categories::VPN);
    let proxy = source("proxy", Categories::PROXY);
    let relay = source("relay", Categories::RELAY);
    let hosting = source("hosting", Categories::HOSTING);
    let bgp = source("bgp", Categories::empty());
    let net = |s: &str| s.parse().unwrap();
    // Real entries of each kind pass: a Tor exit (tor/exit-addresses), an IVPN server, a
    // monosans proxy, an iCloud Private Relay range, an AWS range and the /9 the X4BNet
    // datacenter list holds for AWS.
    for (src, n) in [
        (tor, "185.220.101.1/32"),
        (vpn, "37.19.206.105/32"),
        (proxy, "144.31.222.106/32"),
        (relay, "104.28.28.0/26"),
        (hosting, "3.5.140.0/22"),
        (hosting, "3.128.0.0/9"),
    ] {
        b.add_net(src, net(n), Attrs::default()).expect(n);
    }
    let cases = [
        (vpn, "0.0.0.0/0", "0.0.0.0/0 is wider than a /16, the limit for vpn entries (a source's min_prefix can change it): too broad for a vpn list"),
        (vpn, "::/0", "::/0 is wider than a /32, the limit for vpn entries (a source's min_prefix can change it): too broad for a vpn list"),
        (proxy, "64.0.0.0/4", "64.0.0.0/4 is wider than a /24, the limit for proxy entries (a source's min_prefix can change it): too broad for a proxy list"),
        (tor, "185.220.0.0/16", "185.220.0.0/16 is wider than a /24, the limit for tor_exit entries (a source's min_prefix can change it): too broad for a tor_exit list"),
        (tor, "2a0b:f4c0::/32", "2a0b:f4c0::/32 is wider than a /48, the limit for tor_exit entries (a source's min_prefix can change it): too broad for a tor_exit list"),
        (relay, "104.0.0.0/8", "104.0.0.0/8 is wider than a /16, the limit for relay entries (a source's min_prefix can change it): too broad for a relay list"),
        (hosting, "2.0.0.0/7", "2.0.0.0/7 is wider than a /8, the limit for any categorised entry: too broad for a hosting list"),
        (hosting, "2a00::/12", "2a00::/12 is wider than a /16, the limit for any categorised entry: too broad for a hosting list"),
    ];
    for (src, n, reason) in cases {
        let e = b.add_net(src, net(n), Attrs::default()).unwrap_err();
        assert_eq!(e.to_string(), reason);
    }
    // A range that is not one CIDR block counts by its size and is quoted as written.
    let e = b
        .add_range(
            proxy,
            ip("198.51.100.0"),
            ip("198.51.101.9"),
            Attrs::default(),
        )
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("198.51.100.0-198.51.101.9 is wider than a /24"),
        "{e}"
    );
    // An entry asserting more categories than its source meets the strictest.
    let also_proxy = Attrs {
        categories: Categories::PROXY,
        ..Attrs::default()
    };
    let e = b
        .add_net(vpn, net("198.51.96.0/20"), also_proxy)
        .unwrap_err();
    assert!(
        e.to_string()
            .starts_with("198.51.96.0/20 is wider than a /24, the limit for proxy entries"),
        "{e}"
    );
    assert!(b
        .add_net(vpn, net("198.51.96.0/20"), Attrs::default())
        .is_ok());
    // Routing data carries no category: not held to the categories' minimums, only to the
    // floor (see `routing_entries_leave_special_purpose_space_without_an_asn`).
    let routed = Attrs {
        asn: Some(13335),
        ..Attrs::default()
    };
    assert!(b.add_net(bgp, net("104.16.0.0/12"), routed.clone()).is_ok());
    assert!(b.add_net(bgp, net("0.0.0.0/1"), routed).is_err());

    let limits = Limits::default();
    assert_eq!(
        limits.min_prefix(Categories::VPN | Categories::PROXY),
        MinPrefix::new(24, 48)
    );
    assert_eq!(
        limits.min_prefix(Categories::HOSTING),
        MinPrefix::new(8, 16)
    );
    assert_eq!(
        limits.min_prefix(Categories::empty()),
        MinPrefix::new(8, 16)
    );
}

/// What adding `net` to a VPN source with `min` (or the categories' minimums) under `limits`
/// gives: `Ok` or the reason.
fn add_vpn(limits: Limits, min: Option<MinPrefix>, net: &str) -> Result<(), String> {
    let mut b = Builder::new().limits(limits);
    let mut spec = SourceSpec::new("vpn", "ip-list").categories(Categories::VPN);
    spec.min_prefix = min;
    let vpn = b.add_source(spec).unwrap();
    b.add_net(vpn, net.parse().unwrap(), Attrs::default())
        .map_err(|e| e.to_string())
}

#[test]
fn limits_are_configurable_per_category_and_per_source() {
    // Tighter VPN entries: hosts only.
    let hosts = Limits::default().category(Categories::VPN, MinPrefix::new(32, 128));
    assert_eq!(add_vpn(hosts, None, "37.19.206.105/32"), Ok(()));
    let e = add_vpn(hosts, None, "37.19.206.104/31").unwrap_err();
    assert!(
        e.starts_with("37.19.206.104/31 is wider than a /32, the limit for vpn entries"),
        "{e}"
    );
    // A source's own minimum replaces its categories'; the floor stays.
    let wide = Some(MinPrefix::new(12, 24));
    assert_eq!(add_vpn(Limits::default(), wide, "37.16.0.0/12"), Ok(()));
    assert_eq!(
        add_vpn(Limits::default(), wide, "37.0.0.0/8"),
        Err(
            "37.0.0.0/8 is wider than a /12, the limit source 'vpn' sets (its min_prefix): too \
             broad for a vpn list"
                .to_owned()
        )
    );
    let e = add_vpn(Limits::default(), Some(MinPrefix::NONE), "0.0.0.0/0").unwrap_err();
    assert!(
        e.starts_with("0.0.0.0/0 is wider than a /8, the limit for any categorised entry"),
        "{e}"
    );
    // No limits at all (reference models, fuzzing).
    assert_eq!(add_vpn(Limits::none(), None, "0.0.0.0/0"), Ok(()));
}

#[test]
fn manifest_min_prefix_applies_per_source_and_names_the_line() {
    let dir = scratch("min-prefix");
    // 40 real IVPN servers with three absurd entries at lines 5, 9 and 13.
    let mut lines = ivpn(40);
    lines.insert(4, "0.0.0.0/0".to_owned());
    lines.insert(8, "::/0".to_owned());
    lines.insert(12, "37.16.0.0/12".to_owned());
    std::fs::write(dir.join("vpn.txt"), text(&lines)).unwrap();
    let manifest = [
        table("vpn-list", "ip-list", "vpn.txt", "categories = [\"vpn\"]"),
        table(
            "vpn-wide",
            "ip-list",
            "vpn.txt",
            "categories = [\"vpn\"]\nmin_prefix = { v4 = 12, v6 = 24 }",
        ),
    ]
    .concat();
    let built = build(&dir, &manifest).unwrap();
    let vpn = built.report("vpn-list");
    assert_eq!((vpn.read, vpn.rejected, vpn.unparsable), (43, 3, 0));
    assert_eq!(
        vpn.errors,
        [
            "vpn-list: line 5: 0.0.0.0/0 is wider than a /16, the limit for vpn entries (a \
             source's min_prefix can change it): too broad for a vpn list",
            "vpn-list: line 9: ::/0 is wider than a /32, the limit for vpn entries (a source's \
             min_prefix can change it): too broad for a vpn list",
            "vpn-list: line 13: 37.16.0.0/12 is wider than a /16, the limit for vpn entries (a \
             source's min_prefix can change it): too broad for a vpn list",
        ]
    );
    let wide = built.report("vpn-wide");
    assert_eq!((wide.read, wide.rejected), (43, 2));
    assert_eq!(
        wide.errors,
        [
            "vpn-wide: line 5: 0.0.0.0/0 is wider than a /12, the limit source 'vpn-wide' sets \
             (its min_prefix): too broad for a vpn list",
            "vpn-wide: line 9: ::/0 is wider than a /24, the limit source 'vpn-wide' sets (its \
             min_prefix): too broad for a vpn list",
        ]
    );
    let db = built.db();
    let a = db.lookup(ip("37.19.206.105"));
    assert!(a.is_vpn());
    assert_eq!(a.sources().count(), 2);
    // The /12 counts for the source that allows it only.
    let a = db.lookup(ip("37.17.0.1"));
    assert_eq!(a.sources().collect::<Vec<_>>(), ["vpn-wide"]);
    assert!(db.lookup(ip("8.8.8.8")).is_empty());

    for (value, error) in [
        (
            "{ v4 = 33, v6 = 48 }",
            "line 1: source 'x': min_prefix { v4 = 33, v6 = 48 } is not a prefix length pair \
             (v4 0..=32, v6 0..=128)",
        ),
        ("{ v4 = 8 }", "missing field `v6`"),
        ("{ v4 = 8, v6 = 16, v5 = 1 }", "unknown field `v5`"),
        ("{ v4 = -1, v6 = 16 }", "invalid value"),
    ] {
        let text = table("x", "ip-list", "x.txt", &format!("min_prefix = {value}"));
        let e = Manifest::parse(&text).unwrap_err();
        assert!(e.contains(error), "{value}: {e}");
    }
}

/// The prefix length the limits count a range as: the longest /n whose block is at least as
/// large (a limit /m admits the range exactly when m <= n).
fn prefix_len(width: u128, bits: u32) -> u32 {
    bits - (128 - width.leading_zeros())
}

#[test]
fn prefix_len_counts_like_the_limits() {
    assert_eq!(prefix_len(0, 32), 32);
    assert_eq!(prefix_len(255, 32), 24);
    // 257 addresses (198.51.100.0-198.51.101.0): a /24 is too small, a /23 holds them.
    assert_eq!(prefix_len(256, 32), 23);
    assert_eq!(prefix_len(u128::from(u32::MAX), 32), 0);
    assert_eq!(prefix_len(u128::MAX, 128), 0);
    let vpn_min = |m: u8| Limits::default().category(Categories::VPN, MinPrefix::new(m, 128));
    let mut b = Builder::new().limits(vpn_min(23));
    let vpn = b
        .add_source(SourceSpec::new("vpn", "ip-list").categories(Categories::VPN))
        .unwrap();
    let (lo, hi) = (ip("198.51.100.0"), ip("198.51.101.0"));
    assert!(b.add_range(vpn, lo, hi, Attrs::default()).is_ok());
    let mut b = b.limits(vpn_min(24));
    assert!(b.add_range(vpn, lo, hi, Attrs::default()).is_err());
}

/// The defaults sit below the shortest prefix each category has in the real data: the
/// vendored snapshot always, and the shared data mirror (every categorised source of
/// `sources/shared-data.toml`) when it is there. Printed with `--nocapture`.
#[test]
fn category_defaults_sit_below_every_real_prefix() {
    let mut manifests = vec![root().join("data/snapshot/sources.toml")];
    let shared = root().join("sources/shared-data.toml");
    if ipsieve_testkit::require_shared_data(
        "category_defaults_sit_below_every_real_prefix (the shared data part)",
    )
    .is_some()
    {
        manifests.push(shared);
    }
    // Per category (NAMED order): the shortest IPv4 and IPv6 prefix, with its source.
    let mut shortest: [[(u32, String); 2]; Categories::NAMED.len()] =
        std::array::from_fn(|_| std::array::from_fn(|_| (u32::MAX, String::new())));
    for path in &manifests {
        let manifest = Manifest::load(path).unwrap();
        for entry in manifest.enabled() {
            let cats = match entry.format {
                // Relays with the Exit flag are tor_exit, the others tor_relay.
                f if f.name == "tor-consensus" => Categories::TOR_EXIT | Categories::TOR_RELAY,
                _ => entry.spec().unwrap().categories,
            };
            if cats.is_empty() || matches!(entry.format.name, "asn-list" | "bad-asn-list") {
                continue;
            }
            // Every entry, however wide: what the limits are measured against.
            let mut b = Builder::new().limits(Limits::none());
            load::load_source(entry, &mut b).unwrap();
            let v4 = b
                .ranges_v4()
                .map(|r| prefix_len(u128::from(u32::from(*r.end()) - u32::from(*r.start())), 32))
                .min();
            let v6 = b
                .ranges_v6()
                .map(|r| prefix_len(u128::from(*r.end()) - u128::from(*r.start()), 128))
                .min();
            for (i, (c, _)) in Categories::NAMED.iter().enumerate() {
                if !cats.contains(*c) {
                    continue;
                }
                for (family, len) in [v4, v6].into_iter().enumerate() {
                    if let Some(len) = len.filter(|&l| l < shortest[i][family].0) {
                        shortest[i][family] = (len, entry.name.clone());
                    }
                }
            }
        }
    }
    let defaults = Limits::default();
    for (i, (c, name)) in Categories::NAMED.iter().enumerate() {
        let min = defaults.min_prefix(*c);
        let [v4, v6] = shortest[i].clone().map(|(len, source)| match len {
            u32::MAX => (len, "none".to_owned()),
            _ => (len, format!("/{len} ({source})")),
        });
        eprintln!(
            "{name}: default /{} /{}; shortest real IPv4 {}, IPv6 {}",
            min.v4, min.v6, v4.1, v6.1
        );
        let ((v4, s4), (v6, s6)) = (&v4, &v6);
        assert!(u32::from(min.v4) <= *v4, "{name}: IPv4 /{v4} in {s4}");
        assert!(u32::from(min.v6) <= *v6, "{name}: IPv6 /{v6} in {s6}");
    }
}

/// Special-purpose addresses the routing data of the tests below must leave without an ASN:
/// "this network", private, CGNAT, loopback, link-local, multicast, broadcast; IPv6
/// unspecified, loopback, unique-local, link-local, multicast; an IPv4-mapped private address.
const SPECIAL_ADDRESSES: [&str; 14] = [
    "0.0.0.1",
    "10.0.0.1",
    "100.64.0.1",
    "127.0.0.1",
    "169.254.1.1",
    "172.16.0.1",
    "192.168.1.1",
    "224.0.0.251",
    "255.255.255.255",
    "::1",
    "fd00::1",
    "fe80::1",
    "ff02::1",
    "::ffff:10.0.0.1",
];

/// Routing data (prefix-to-AS, IP-to-AS ranges, MRT and MMDB through the builder) feeds the
/// ASN of every address it covers, so a default route or a private prefix in it would give
/// private space an owner (the full shared-data build answered AS16637 for 10.0.0.1 and ::1).
/// Entries wider than a /8 (IPv4) or /16 (IPv6) and entries overlapping special-purpose space
/// are dropped, each reported with its line and counted as rejected; real rows around them
/// keep their ASNs.
#[test]
fn routing_entries_leave_special_purpose_space_without_an_asn() {
    let dir = scratch("routing");
    let with = |real: Vec<String>, extra: &[&str]| {
        let mut lines = real;
        lines.extend(extra.iter().map(|s| (*s).to_owned()));
        text(&lines)
    };
    let pfx2as = real_lines(
        &root().join("data/snapshot/bgp/routeviews-rv2-20240406.pfx2as-excerpt.gz"),
        100,
    );
    let files = [
        (
            "pfx2as",
            with(
                pfx2as,
                &[
                    "0.0.0.0\t0\t16637",
                    "224.0.0.0\t3\t16637",
                    "4.0.0.0\t7\t3356",
                    "10.0.0.0\t8\t64500",
                    "127.0.0.0\t8\t64501",
                    "192.168.1.0\t24\t64502",
                    "100.64.0.0\t10\t64503",
                ],
            ),
        ),
        (
            "ip2asn.tsv",
            with(
                real_lines(&fixture("ip2asn-v4.tsv"), 24),
                &[
                    "169.254.0.0\t169.254.255.255\t64504\tZZ\tLINK-LOCAL-AS",
                    "0.0.0.0\t255.255.255.255\t16637\tZA\tMTNNS-AS",
                    // Two /8s of one network merged into one range (ip-location-db holds
                    // this one): each block is a /8, kept.
                    "21.0.0.0\t22.255.255.255\t749\tUS\tDNIC-AS-00749",
                ],
            ),
        ),
        (
            "asn-ipv6.csv",
            with(
                real_lines(&fixture("ip-location-db-asn-ipv6.csv"), 16),
                &[
                    "::,ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,16637,Default Route",
                    "::1,::1,64505,Loopback",
                    "fd00::,fd00:ffff:ffff:ffff:ffff:ffff:ffff:ffff,64506,Unique Local",
                    "2000::,3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff,3356,Wide",
                ],
            ),
        ),
    ];
    for (name, body) in &files {
        std::fs::write(dir.join(name), body).unwrap();
    }
    let lax = "max_reject_pct = 50";
    let manifest = [
        table("pfx2as", "pfx2as", "pfx2as", ""),
        table("iptoasn", "iptoasn", "ip2asn.tsv", ""),
        table("asn-v6", "ip-location-db-asn", "asn-ipv6.csv", lax),
    ]
    .concat();
    let built = build(&dir, &manifest).unwrap();
    let db = built.db();
    for a in SPECIAL_ADDRESSES {
        let answer = db.lookup(ip(a));
        assert_eq!(answer.asn(), None, "{a} in {}", answer.network());
    }
    // The real rows keep their origins (1.0.0.0/24 AS13335 is pfx2as line 1, 1.1.1.1 AS7497
    // iptoasn line 2, 2001::/32 AS6939 ip-location-db line 1).
    assert_eq!(db.lookup(ip("1.0.0.1")).asn(), Some(13335));
    assert_eq!(db.lookup(ip("1.1.1.1")).asn(), Some(7497));
    assert_eq!(db.lookup(ip("2001::1")).asn(), Some(6939));
    let pfx = built.report("pfx2as");
    assert_eq!((pfx.read, pfx.rejected), (107, 7), "{:?}", pfx.errors);
    assert_eq!(
        pfx.errors,
        [
            "pfx2as: line 101: 0.0.0.0/0 is wider than a /8, the limit for routing entries: a \
             default or aggregate route names no origin for the addresses it covers",
            "pfx2as: line 102: 224.0.0.0/3 is wider than a /8, the limit for routing entries: a \
             default or aggregate route names no origin for the addresses it covers",
            "pfx2as: line 103: 4.0.0.0/7 is wider than a /8, the limit for routing entries: a \
             default or aggregate route names no origin for the addresses it covers",
            "pfx2as: line 104: 10.0.0.0/8 overlaps 10.0.0.0/8, Private-Use (RFC 1918): \
             special-purpose space has no origin AS",
            "pfx2as: line 105: 127.0.0.0/8 overlaps 127.0.0.0/8, Loopback (RFC 1122): \
             special-purpose space has no origin AS",
            "pfx2as: line 106: 192.168.1.0/24 overlaps 192.168.0.0/16, Private-Use (RFC 1918): \
             special-purpose space has no origin AS",
            "pfx2as: line 107: 100.64.0.0/10 overlaps 100.64.0.0/10, Shared Address Space \
             (RFC 6598): special-purpose space has no origin AS",
        ]
    );
    assert_eq!(db.lookup(ip("22.1.2.3")).asn(), Some(749));
    let iptoasn = built.report("iptoasn");
    assert_eq!(iptoasn.rejected, 2, "{:?}", iptoasn.errors);
    assert!(
        iptoasn.errors[0].starts_with("iptoasn: line 25: 169.254.0.0/16 overlaps 169.254.0.0/16"),
        "{:?}",
        iptoasn.errors
    );
    assert!(
        iptoasn.errors[1].starts_with("iptoasn: line 26: 0.0.0.0/0 is wider than a /8"),
        "{:?}",
        iptoasn.errors
    );
    let v6 = built.report("asn-v6");
    assert_eq!(v6.rejected, 4, "{:?}", v6.errors);
    for (e, want) in v6.errors.iter().zip([
        "asn-v6: line 17: ::/0 is wider than a /16, the limit for routing entries",
        "asn-v6: line 18: ::1/128 overlaps ::1/128, Loopback Address (RFC 4291)",
        "asn-v6: line 19: fd00::/16 overlaps fc00::/7, Unique-Local (RFC 4193)",
        "asn-v6: line 20: 2000::/3 is wider than a /16, the limit for routing entries",
    ]) {
        assert!(e.starts_with(want), "{e}");
    }

    // MRT and MMDB rows reach the builder as `add_net` with an origin: the same rules. The
    // floor is the same knob as for categorised entries (`Limits::none()` lifts it, as the
    // reference models and fuzzing need); 6to4 (a /16) and documentation space pass.
    let mut b = Builder::new();
    let mrt = b.add_source(SourceSpec::new("rib", "mrt")).unwrap();
    let origin = |asn| Attrs {
        asn: Some(asn),
        ..Attrs::default()
    };
    for n in ["0.0.0.0/0", "::/0", "ff00::/8", "198.18.0.0/7"] {
        assert!(
            b.add_net(mrt, n.parse().unwrap(), origin(16637)).is_err(),
            "{n}"
        );
    }
    // A range is judged by its blocks: one holding a /7 is refused, naming it.
    let e = b
        .add_range(mrt, ip("3.255.255.0"), ip("6.0.0.0"), origin(3356))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "3.255.255.0-6.0.0.0 holds 4.0.0.0/7, wider than a /8, the limit for routing entries: a \
         default or aggregate route names no origin for the addresses it covers"
    );
    for n in ["2002::/16", "192.0.2.0/24", "8.0.0.0/8"] {
        b.add_net(mrt, n.parse().unwrap(), origin(3356)).expect(n);
    }
    let mut b = Builder::new().limits(Limits::none());
    let mrt = b.add_source(SourceSpec::new("rib", "mrt")).unwrap();
    b.add_net(mrt, "0.0.0.0/0".parse().unwrap(), origin(16637))
        .unwrap();
    // Country-only rows (RIR delegations, geofeeds) are not routing data: untouched.
    let mut b = Builder::new();
    let rir = b
        .add_source(SourceSpec::new("rir", "rir-delegated"))
        .unwrap();
    let country = Attrs {
        country: Some(*b"ZZ"),
        ..Attrs::default()
    };
    b.add_net(rir, "0.0.0.0/8".parse().unwrap(), country)
        .unwrap();
}

// --- 2. IPv6 zone identifiers ------------------------------------------------------------------

#[test]
fn ipv6_zone_ids_are_rejected_not_parsed() {
    let dir = scratch("zone-ids");
    // The SecOps Tor exit list (IPv4, then IPv6 fully expanded), zone ids at lines 3, 8, 12, 20.
    let mut lines = real_lines(&fixture("secops-tor-exit-nodes.lst"), 20);
    for (at, zoned) in [
        (2, "fe80::1%eth0"),
        (7, "2001:db8::1%1/64"),
        (11, "2001:db8::/64%eth0"),
        (19, "2001:0470:0001:0908:0000:0000:0000:9001%25eth0"),
    ] {
        lines.insert(at, zoned.to_owned());
    }
    std::fs::write(dir.join("exits.lst"), text(&lines)).unwrap();
    let mut proxies = real_lines(&fixture("proxy-monosans-all.txt"), 12);
    proxies.insert(5, "http://[2001:db8::3%eth0]:8080".to_owned());
    std::fs::write(dir.join("proxies.txt"), text(&proxies)).unwrap();
    let mut exits = real_lines(&fixture("tor-exit-addresses.txt"), 12);
    exits.insert(
        8,
        "ExitAddress 2001:db8::4%1 2024-03-12 13:09:46".to_owned(),
    );
    std::fs::write(dir.join("exit-addresses"), text(&exits)).unwrap();
    let manifest = [
        table(
            "secops-exits",
            "ip-list",
            "exits.lst",
            "categories = [\"tor_exit\"]\nmax_reject_pct = 50",
        ),
        table(
            "monosans",
            "proxy-list",
            "proxies.txt",
            "categories = [\"proxy\"]\nmax_reject_pct = 50",
        ),
        table(
            "exit-addresses",
            "tor-exit-list",
            "exit-addresses",
            "categories = [\"tor_exit\"]\nmax_reject_pct = 50",
        ),
    ]
    .concat();
    let built = build(&dir, &manifest).unwrap();
    let zone = "ipv6 zone ids (\"%...\") are not allowed";
    assert_eq!(
        built.report("secops-exits").errors,
        [
            format!("secops-exits: line 3: {zone} (in \"fe80::1%eth0\")"),
            format!("secops-exits: line 8: {zone} (in \"2001:db8::1%1/64\")"),
            format!("secops-exits: line 12: {zone} (in \"2001:db8::/64%eth0\")"),
            format!(
                "secops-exits: line 20: {zone} (in \"2001:0470:0001:0908:0000:0000:0000:9001%25eth0\")"
            ),
        ]
    );
    assert_eq!(built.report("secops-exits").read, 20);
    assert_eq!(
        built.report("monosans").errors,
        [format!(
            "monosans: line 6: {zone} (in \"http://[2001:db8::3%eth0]:8080\")"
        )]
    );
    assert_eq!(built.report("monosans").read, 12);
    let e = &built.report("exit-addresses").errors;
    assert_eq!(e.len(), 1, "{e:?}");
    assert!(
        e[0].starts_with(&format!("exit-addresses: line 9: ExitAddress: {zone}")),
        "{e:?}"
    );
    let db = built.db();
    for addr in ["2001:db8::1", "2001:db8::3", "2001:db8::4", "fe80::1"] {
        assert!(db.lookup(ip(addr)).is_empty(), "{addr}");
    }
    // The rest counts: the expanded IPv6 exit without a zone, a proxy, an exit.
    assert!(db.lookup(ip("2001:470:1:908::9001")).is_tor_exit());
    assert!(db.lookup(ip("85.8.47.198")).is_proxy());
    assert!(db.lookup(ip("171.25.193.25")).is_tor_exit());
}

// --- 3. AS 0 and AS numbers past 32 bits --------------------------------------------------------

#[test]
fn asn_zero_and_asns_past_32_bits() {
    let dir = scratch("asns");
    let hostile = |real: Vec<String>, extra: &[&str]| {
        let mut lines = real;
        lines.extend(extra.iter().map(|s| (*s).to_owned()));
        text(&lines)
    };
    // Real rows first (line numbers of the hostile ones follow), then the hostile ones.
    let files = [
        (
            "vpn-asns.txt",
            hostile(
                real_lines(&fixture("x4bnet-vpn-ASN.txt"), 15),
                &[
                    "AS0 # zero",
                    "AS4294967296 # 2^32",
                    "AS99999999999",
                    "AS-1",
                    "AS4294967295 # the last, reserved",
                ],
            ),
        ),
        (
            "bad-asn.csv",
            hostile(
                real_lines(&fixture("bad-asn-list.csv"), 12),
                &[
                    "0,Zero",
                    "4294967296,\"Big, XX\"",
                    "99999999999,Bigger",
                    "AS-1,Minus",
                ],
            ),
        ),
        (
            "pfx2as",
            hostile(
                real_lines(&fixture("routeviews-rv2-20240406.pfx2as.gz"), 19),
                &[
                    "192.0.2.0\t24\t0",
                    "198.51.100.0\t24\t4294967296",
                    "203.0.113.0\t24\t99999999999",
                    "203.0.113.0\t25\tAS-1",
                    "198.18.0.0\t15\t0_64500",
                    "198.51.100.128\t25\t64500_0",
                ],
            ),
        ),
        (
            "ip2asn.tsv",
            hostile(
                real_lines(&fixture("ip2asn-v4.tsv"), 24),
                &[
                    "0.0.0.0\t0.255.255.255\t0\tNone\tNot routed",
                    "192.0.2.0\t192.0.2.255\t4294967296\tUS\tBig",
                    "198.51.100.0\t198.51.100.255\t99999999999\tUS\tBigger",
                    "203.0.113.0\t203.0.113.255\tAS-1\tUS\tMinus",
                ],
            ),
        ),
        (
            "asn-ipv4.csv",
            hostile(
                real_lines(&fixture("ip-location-db-asn-ipv4.csv"), 19),
                &[
                    "224.0.0.0,239.255.255.255,0,Not routed",
                    "192.0.2.0,192.0.2.255,4294967296,Big",
                    "198.51.100.0,198.51.100.255,99999999999,Bigger",
                    "203.0.113.0,203.0.113.255,AS-1,Minus",
                ],
            ),
        ),
    ];
    for (name, body) in &files {
        std::fs::write(dir.join(name), body).unwrap();
    }
    let lax = "max_reject_pct = 50";
    let manifest = [
        table("bgp", "pfx2as", "pfx2as", lax),
        table("ip2asn", "iptoasn", "ip2asn.tsv", lax),
        table("asn-db", "ip-location-db-asn", "asn-ipv4.csv", lax),
        table(
            "vpn-asns",
            "asn-list",
            "vpn-asns.txt",
            &format!("categories = [\"vpn\"]\ntier = \"asn-heuristic\"\n{lax}"),
        ),
        table(
            "bad-asns",
            "bad-asn-list",
            "bad-asn.csv",
            &format!("categories = [\"hosting\"]\ntier = \"asn-heuristic\"\n{lax}"),
        ),
    ]
    .concat();
    let built = build(&dir, &manifest).unwrap();
    let rfc7607 = "as 0 is reserved (rfc 7607) and never originates a route";
    assert_eq!(
        built.report("vpn-asns").errors,
        [
            format!("vpn-asns: line 16: {rfc7607} (in \"AS0 # zero\")"),
            "vpn-asns: line 17: as number 4294967296 does not fit in 32 bits (in \"AS4294967296 # 2^32\")".to_owned(),
            "vpn-asns: line 18: as number 99999999999 does not fit in 32 bits (in \"AS99999999999\")".to_owned(),
            "vpn-asns: line 19: \"AS-1\" is not an as number (in \"AS-1\")".to_owned(),
            "vpn-asns: line 20: AS4294967295 is reserved".to_owned(),
        ]
    );
    assert_eq!(built.report("vpn-asns").read, 16);
    assert_eq!(
        built.report("bad-asns").errors,
        [
            format!("bad-asns: line 13: {rfc7607} (in \"0,Zero\")"),
            "bad-asns: line 14: as number 4294967296 does not fit in 32 bits (in \"4294967296,\\\"Big, XX\\\"\")".to_owned(),
            "bad-asns: line 15: as number 99999999999 does not fit in 32 bits (in \"99999999999,Bigger\")".to_owned(),
            "bad-asns: line 16: \"AS-1\" is not an as number (in \"AS-1,Minus\")".to_owned(),
        ]
    );
    let origin0 = "has origin AS0, which is reserved (RFC 7607): no route originates from it, a \
                   route naming it is treated as withdrawn";
    assert_eq!(
        built.report("bgp").errors,
        [
            format!("bgp: line 20: 192.0.2.0/24 {origin0}"),
            "bgp: line 21: origin \"4294967296\" is not a 32-bit asn (in \"198.51.100.0\\t24\\t4294967296\")".to_owned(),
            "bgp: line 22: origin \"99999999999\" is not a 32-bit asn (in \"203.0.113.0\\t24\\t99999999999\")".to_owned(),
            "bgp: line 23: origin \"AS-1\" is not a 32-bit asn (in \"203.0.113.0\\t25\\tAS-1\")".to_owned(),
            format!("bgp: line 24: 198.18.0.0/15 {origin0}"),
        ]
    );
    assert_eq!(
        built.report("ip2asn").errors,
        [
            "ip2asn: line 26: as number 4294967296 does not fit in 32 bits (in \"192.0.2.0\\t192.0.2.255\\t4294967296\\tUS\\tBig\")",
            "ip2asn: line 27: as number 99999999999 does not fit in 32 bits (in \"198.51.100.0\\t198.51.100.255\\t99999999999\\tUS\\tBigger\")",
            "ip2asn: line 28: \"AS-1\" is not an as number (in \"203.0.113.0\\t203.0.113.255\\tAS-1\\tUS\\tMinus\")",
        ]
    );
    assert_eq!(
        built.report("asn-db").errors,
        [
            "asn-db: line 21: as number 4294967296 does not fit in 32 bits (in \"192.0.2.0,192.0.2.255,4294967296,Big\")",
            "asn-db: line 22: as number 99999999999 does not fit in 32 bits (in \"198.51.100.0,198.51.100.255,99999999999,Bigger\")",
            "asn-db: line 23: \"AS-1\" is not an as number (in \"203.0.113.0,203.0.113.255,AS-1,Minus\")",
        ]
    );
    // AS 0 in an IP-to-AS table is the upstream's "not routed": skipped and said so.
    for name in ["ip2asn", "asn-db"] {
        assert_eq!(
            built.report(name).warnings,
            [
                "ranges of AS 0 skipped: 1 (AS 0 marks space no AS announces, RFC 7607: it is no \
              origin)"
            ],
            "{name}"
        );
    }
    let db = built.db();
    assert_eq!(db.lookup(ip("192.0.2.1")).asn(), None);
    assert_eq!(db.lookup(ip("198.18.0.1")).asn(), None);
    assert_eq!(db.lookup(ip("224.0.0.1")).asn(), None);
    assert_eq!(db.lookup(ip("0.0.0.1")).asn(), None);
    // The primary origin decides: a MOAS row whose first origin is real keeps it.
    assert_eq!(db.lookup(ip("198.51.100.129")).asn(), Some(64500));
    // The real rows count: pfx2as, iptoasn and ip-location-db, and the ASN lists apply.
    assert_eq!(db.lookup(ip("1.1.1.1")).asn(), Some(7497));
    assert_eq!(db.lookup(ip("1.0.4.1")).asn(), Some(38803));
    assert_eq!(db.lookup(ip("1.0.0.1")).asn(), Some(13335));

    // Straight through the builder (MRT and MMDB origins take this path): AS 0 is refused as
    // an origin and as a listed AS, and so is the reserved last AS on a list.
    let mut b = Builder::new();
    let bgp = b.add_source(SourceSpec::new("rib", "mrt")).unwrap();
    let list = b
        .add_source(SourceSpec::new("list", "asn-list").categories(Categories::HOSTING))
        .unwrap();
    let origin = |asn| Attrs {
        asn: Some(asn),
        ..Attrs::default()
    };
    let e = b
        .add_net(bgp, "1.0.0.0/24".parse().unwrap(), origin(0))
        .unwrap_err();
    assert_eq!(e.to_string(), format!("1.0.0.0/24 {origin0}"));
    assert!(b
        .add_net(bgp, "1.0.0.0/24".parse().unwrap(), origin(u32::MAX))
        .is_ok());
    assert_eq!(
        b.add_asn(list, 0).unwrap_err().to_string(),
        "AS0 is reserved"
    );
    assert!(b.add_asn(list, u32::MAX).is_err());
}

// --- 4. Repeated and conflicting entries --------------------------------------------------------

#[test]
fn repeated_entries_count_once_and_are_reported() {
    let dir = scratch("repeats");
    // AWS publishes 3.5.140.0/22 three times (AMAZON, S3, EC2): the fixture keeps all three.
    let lines = ivpn(30);
    let mut repeated = lines.clone();
    repeated.push(lines[2].clone());
    repeated.push(lines[2].clone());
    repeated.push(lines[7].clone());
    std::fs::write(dir.join("vpn.txt"), text(&lines)).unwrap();
    std::fs::write(dir.join("vpn-repeated.txt"), text(&repeated)).unwrap();
    let aws = fixture("aws-ip-ranges.json");
    let manifest = |file: &str| {
        [
            table("vpn", "ip-list", file, "categories = [\"vpn\"]"),
            table(
                "aws",
                "aws-ip-ranges",
                &aws.display().to_string(),
                "categories = [\"hosting\"]\nprovider = \"Amazon AWS\"",
            ),
        ]
        .concat()
    };
    let clean = build(&dir, &manifest("vpn.txt")).unwrap();
    let built = build(&dir, &manifest("vpn-repeated.txt")).unwrap();
    let vpn = built.report("vpn");
    assert_eq!((vpn.read, vpn.rejected), (33, 0));
    // A repeat is counted once and reported as a count, not a warning: lists repeat entries
    // as a matter of course (the Tor exit list once per relay, AWS once per service).
    assert_eq!((vpn.duplicates, vpn.entries), (3, 30), "{vpn:?}");
    assert!(vpn.warnings.is_empty(), "{:?}", vpn.warnings);
    assert_eq!(clean.report("vpn").duplicates, 0);
    assert!(clean.report("vpn").warnings.is_empty());
    // Counted once: the artifact is the same byte for byte.
    assert!(built.bytes == clean.bytes);
    let aws = built.report("aws");
    assert_eq!(aws.rejected, 0);
    assert_eq!(aws.duplicates, 2, "{aws:?}");
    assert_eq!(aws.entries, aws.read - 2);
    assert!(aws.warnings.is_empty(), "{:?}", aws.warnings);
}

#[test]
fn conflicting_entries_resolve_by_specificity_then_source_name() {
    let dir = scratch("conflicts");
    // Linode's real geofeed; line 11 is "72.14.177.0/24,US,US-TX,Richardson,". The same prefix
    // again as DE at the end (line 19): within a source the smallest code wins, whatever the
    // order.
    let linode = real_lines(&fixture("geofeed-linode.csv"), 15);
    let mut geo_b = vec![
        "# ip_prefix, alpha2code, region, city, postal_code".to_owned(),
        "# Linode's excerpt, then a conflicting line".to_owned(),
        "#".to_owned(),
    ];
    geo_b.extend(linode.iter().cloned());
    geo_b.push("72.14.177.0/24,DE,,,".to_owned());
    // A second geofeed: the whole /20 as NL, and 72.14.176.0/24 as NL (Linode says US).
    let geo_a = ["72.14.176.0/20,NL,,,", "72.14.176.0/24,NL,,,"];
    // Routing: CAIDA's real rows; a second table (named first) originating one of its /24s
    // from another AS, and the same source restating 1.0.4.0/22 with a smaller ASN.
    let mut bgp_b = real_lines(&fixture("routeviews-rv2-20240406.pfx2as.gz"), 19);
    bgp_b.push("1.0.4.0\t22\t38000".to_owned());
    let bgp_a = ["1.0.128.0\t24\t64500"];
    let write = |name: &str, lines: &[String]| std::fs::write(dir.join(name), text(lines)).unwrap();
    write("geo-b.csv", &geo_b);
    write("geo-a.csv", &geo_a.map(str::to_owned));
    write("bgp-b", &bgp_b);
    write("bgp-a", &bgp_a.map(str::to_owned));
    let tables = [
        table("geo-b", "geofeed", "geo-b.csv", ""),
        table("geo-a", "geofeed", "geo-a.csv", ""),
        table("bgp-b", "pfx2as", "bgp-b", ""),
        table("bgp-a", "pfx2as", "bgp-a", ""),
    ];
    let built = build(&dir, &tables.concat()).unwrap();
    assert_eq!(
        built.report("geo-b").warnings,
        [
            "entries restating an earlier entry's range with other attributes: 1 (first: \
          72.14.177.0/24 (US) at line 11, then 72.14.177.0/24 (DE) at line 19); categories are \
          merged, of ASN, country and provider the smallest wins"
        ]
    );
    assert_eq!(
        built.report("bgp-b").warnings,
        [
            "entries restating an earlier entry's range with other attributes: 1 (first: \
          1.0.4.0/22 (AS38803) at line 2, then 1.0.4.0/22 (AS38000) at line 20); categories are \
          merged, of ASN, country and provider the smallest wins"
        ]
    );
    assert!(built.reports.iter().all(|r| r.rejected == 0));
    let db = built.db();
    let country = |a: &str| db.lookup(ip(a)).country().map(str::to_owned);
    // Within one source: the smallest value.
    assert_eq!(country("72.14.177.1").as_deref(), Some("DE"));
    assert_eq!(db.lookup(ip("1.0.4.1")).asn(), Some(38000));
    // Across sources: the most specific entry wins (Linode's /24 inside geo-a's /20) ...
    assert_eq!(country("72.14.178.1").as_deref(), Some("US"));
    assert_eq!(country("72.14.180.1").as_deref(), Some("NL"));
    assert_eq!(db.lookup(ip("1.0.129.1")).asn(), Some(23969));
    // ... and between equally specific entries, the source first by name: geo-a over geo-b,
    // bgp-a over bgp-b (not the smaller value, not the manifest order).
    assert_eq!(country("72.14.176.1").as_deref(), Some("NL"));
    assert_eq!(db.lookup(ip("1.0.128.1")).asn(), Some(64500));

    // Deterministic: sources in the other order and every file's lines reversed give the same
    // artifact, byte for byte.
    let reversed: Vec<String> = tables.iter().rev().cloned().collect();
    for name in ["geo-b.csv", "bgp-b", "geo-a.csv"] {
        let body = std::fs::read_to_string(dir.join(name)).unwrap();
        let lines: Vec<&str> = body.lines().rev().collect();
        std::fs::write(dir.join(name), text(&lines)).unwrap();
    }
    let again = build(&dir, &reversed.concat()).unwrap();
    assert!(again.bytes == built.bytes);
}

// --- 5. Hostile bytes: huge lines, NUL, invalid UTF-8, CRLF, BOM, gzip bombs -------------------

/// Peak resident memory of this process (`VmHWM`), in bytes; `None` off Linux.
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

const HUGE: u64 = 100 << 20;

#[test]
fn a_100_mib_line_is_rejected_in_bounded_memory() {
    // Run again alone in a fresh process, so that the peak memory measured is this test's.
    const ALONE: &str = "IPSIEVE_HOSTILE_ALONE";
    if std::env::var_os(ALONE).is_none() {
        let out = Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "a_100_mib_line_is_rejected_in_bounded_memory",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(ALONE, "1")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
        return;
    }
    let dir = scratch("huge-line");
    // 100 real IVPN servers, line 51 a doodad-style comma-separated line grown to 100 MiB,
    // written and read as a stream.
    let lines = ivpn(100);
    let path = dir.join("vpn.txt");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
    f.write_all(text(&lines[..50]).as_bytes()).unwrap();
    let item = b"185.220.101.1,";
    let chunk: Vec<u8> = item
        .iter()
        .copied()
        .cycle()
        .take(item.len() << 16)
        .collect();
    let mut written = 0u64;
    while written < HUGE {
        f.write_all(&chunk).unwrap();
        written += chunk.len() as u64;
    }
    f.write_all(b"\n").unwrap();
    f.write_all(text(&lines[50..]).as_bytes()).unwrap();
    drop(f);
    assert!(std::fs::metadata(&path).unwrap().len() > HUGE);
    let built = build(
        &dir,
        &table("vpn", "ip-list", "vpn.txt", "categories = [\"vpn\"]"),
    )
    .unwrap();
    let vpn = built.report("vpn");
    assert_eq!((vpn.read, vpn.rejected, vpn.unparsable), (100, 1, 1));
    let quoted: String = "185.220.101.1,".repeat(6).chars().take(80).collect();
    assert_eq!(
        vpn.errors,
        [format!(
            "vpn: line 51: line longer than 1048576 bytes (in \"{quoted}…\")"
        )]
    );
    let db = built.db();
    assert!(db.lookup(ip(&lines[0])).is_vpn());
    assert!(db.lookup(ip(&lines[99])).is_vpn());
    assert!(db.lookup(ip("185.220.101.1")).is_empty());
    std::fs::remove_dir_all(&dir).unwrap();
    if let Some(peak) = peak_rss() {
        eprintln!("peak resident memory: {} MiB", peak >> 20);
        assert!(peak < 64 << 20, "peak {} MiB", peak >> 20);
    }
}

#[test]
fn nul_bytes_invalid_utf8_crlf_and_bom() {
    let dir = scratch("bytes");
    let lines = ivpn(40);
    // A UTF-8 byte-order mark, CRLF line ends, and hostile lines among the real ones.
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    for (i, line) in lines.iter().enumerate() {
        bytes.extend_from_slice(line.as_bytes());
        bytes.extend_from_slice(b"\r\n");
        match i {
            4 => bytes.extend_from_slice(b"37.19.206.105\0\r\n"),
            9 => bytes.extend_from_slice(b"\0\0\0\0\r\n"),
            14 => bytes.extend_from_slice(b"37.19.206.1\xFF1\r\n"),
            19 => bytes.extend_from_slice(b"# caf\xE9: a comment in Latin-1\r\n"),
            24 => bytes.extend_from_slice("\u{FEFF}37.19.206.111\r\n".as_bytes()),
            29 => bytes.extend_from_slice(b"37.19.206.112\r37.19.206.113\r\n"),
            _ => {}
        }
    }
    std::fs::write(dir.join("vpn.txt"), &bytes).unwrap();
    let manifest = table(
        "vpn",
        "ip-list",
        "vpn.txt",
        "categories = [\"vpn\"]\nmax_reject_pct = 50",
    );
    let built = build(&dir, &manifest).unwrap();
    let vpn = built.report("vpn");
    assert_eq!((vpn.read, vpn.rejected), (40, 5));
    assert_eq!(
        vpn.errors,
        [
            "vpn: line 6: not an ip address or network (in \"37.19.206.105\\0\")",
            "vpn: line 12: not an ip address or network (in \"\\0\\0\\0\\0\")",
            "vpn: line 18: not an ip address or network (in \"37.19.206.1\u{FFFD}1\")",
            "vpn: line 30: not an ip address or network (in \"\\u{feff}37.19.206.111\")",
            "vpn: line 36: one address or network per line or comma-separated item (in \
             \"37.19.206.112\\r37.19.206.113\")",
        ]
    );
    // What was accepted is exactly the real list: the same artifact as from the clean file.
    std::fs::write(dir.join("vpn.txt"), text(&lines)).unwrap();
    let clean = build(&dir, &manifest).unwrap();
    assert_eq!(clean.report("vpn").rejected, 0);
    assert!(built.bytes == clean.bytes);

    // A CSV format with a BOM and CRLF reads like the original file.
    let geofeed = std::fs::read_to_string(fixture("geofeed-linode.csv")).unwrap();
    let crlf = format!("\u{FEFF}{}", geofeed.replace('\n', "\r\n"));
    std::fs::write(dir.join("geofeed.csv"), crlf).unwrap();
    std::fs::write(dir.join("geofeed-lf.csv"), &geofeed).unwrap();
    let crlf = build(&dir, &table("linode", "geofeed", "geofeed.csv", "")).unwrap();
    let lf = build(&dir, &table("linode", "geofeed", "geofeed-lf.csv", "")).unwrap();
    assert_eq!(crlf.report("linode").rejected, 0);
    assert_eq!(crlf.report("linode").read, 15);
    assert!(crlf.bytes == lf.bytes);
}

/// Bytes of one blank line in the gzip bomb.
const BLANK: usize = 64 << 10;

#[test]
fn a_gzip_bomb_stops_at_the_cap_and_keeps_what_came_before() {
    let dir = scratch("bomb");
    // 100 real IVPN servers, then 4 MiB of blank lines (64 KiB of spaces each): a 1000:1
    // gzip bomb of a few KiB, 16 times the cap set below.
    let lines = ivpn(100);
    let real = text(&lines);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(real.as_bytes()).unwrap();
    let mut blank = vec![b' '; BLANK - 1];
    blank.push(b'\n');
    for _ in 0..(4 << 20) / BLANK {
        gz.write_all(&blank).unwrap();
    }
    let bomb = gz.finish().unwrap();
    assert!(bomb.len() < 8 << 10, "{}", bomb.len());
    std::fs::write(dir.join("vpn.txt.gz"), &bomb).unwrap();
    let exits = fixture("tor-exit-addresses.txt.gz");
    let manifest = |cap: &str| {
        [
            table(
                "vpn-bomb",
                "ip-list",
                "vpn.txt.gz",
                &format!("categories = [\"vpn\"]\n{cap}"),
            ),
            table(
                "tor",
                "tor-exit-list",
                &exits.display().to_string(),
                "categories = [\"tor_exit\"]",
            ),
        ]
        .concat()
    };
    let cap = 256u64 << 10;
    // A source stopped by the cap fails the build (nothing published) ...
    let e = build(&dir, &manifest(&format!("max_decompressed_bytes = {cap}")))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.starts_with("line 1: source 'vpn-bomb' stopped early, refusing to publish without it")
            && e.contains("decompressed input larger than 262144 bytes"),
        "{e}"
    );
    // ... unless it is optional: then the lines before the cap count.
    let built = build(
        &dir,
        &manifest(&format!("max_decompressed_bytes = {cap}\noptional = true")),
    )
    .unwrap();
    let vpn = built.report("vpn-bomb");
    // The line being read when the cap is reached: after the real lines and the whole blank
    // lines that fit.
    let line = 100 + (cap - real.len() as u64) / BLANK as u64 + 1;
    assert_eq!(
        vpn.fatal.as_deref(),
        Some(
            format!(
                "vpn-bomb: line {line}: decompressed input larger than 262144 bytes (a \
                 compression bomb, or not the file this source should be); check the file"
            )
            .as_str()
        )
    );
    assert_eq!((vpn.read, vpn.rejected), (100, 0));
    assert!(vpn
        .optional_failure
        .as_deref()
        .is_some_and(|f| f.starts_with("built with the 100 entries read before it stopped: ")));
    let db = built.db();
    assert!(db.lookup(ip(&lines[99])).is_vpn());
    assert!(db.lookup(ip("171.25.193.25")).is_tor_exit());
    assert!(built.report("tor").fatal.is_none());
    // The default cap is 8 GiB: the same file reads to its end.
    assert_eq!(input::MAX_DECOMPRESSED, 8 << 30);
    let whole = build(&dir, &manifest("")).unwrap();
    assert!(whole.report("vpn-bomb").fatal.is_none());
    assert_eq!(whole.report("vpn-bomb").read, 100);
    assert!(
        Manifest::parse(&table("x", "ip-list", "x", "max_decompressed_bytes = 0"))
            .unwrap_err()
            .contains("max_decompressed_bytes must be at least 1")
    );
}

/// With the delegation files of all five RIRs among the sources, `is_bogon` also names space
/// that no RIR has delegated (issue 17 item 3); with some of them (the shared data holds three)
/// or none, only special-purpose space is a bogon: the missing registries' space would look
/// undelegated, and 8.8.8.8 a bogon. The real APNIC excerpt delegates 1.0.0.0/24,
/// 2001:200::/35, 2001:200:2000::/35 and 2001:de3::/48. No ARIN file is in the shared data, so
/// the complete build declares the four other registries through the builder API.
#[test]
fn undelegated_space_is_a_bogon_only_when_every_rirs_file_was_read() {
    assert_eq!(
        ipsieve::special::RIR_DELEGATED_FORMAT,
        ipsieve_sources::formats::FORMATS
            .iter()
            .find(|f| f.module == "rir")
            .map(|f| f.name)
            .unwrap(),
        "the lookup crate names the registry's format"
    );
    let dir = scratch("rir-bogons");
    let rir = fixture("rir-apnic.txt").display().to_string();
    std::fs::write(dir.join("vpn.txt"), "1.0.1.7\n").unwrap();
    let vpn = table("vpn", "ip-list", "vpn.txt", "categories = [\"vpn\"]");
    let with_apnic = [table("apnic", "rir-delegated", &rir, ""), vpn.clone()].concat();
    let apnic = build(&dir, &with_apnic).unwrap().db();
    let registries = |db: &Database| {
        db.metadata()
            .find(|&(k, _)| k == ipsieve::special::RIR_REGISTRIES_KEY)
            .map(|(_, v)| v.to_owned())
    };
    assert_eq!(registries(&apnic).as_deref(), Some("apnic"));
    std::fs::write(dir.join("all.toml"), &with_apnic).unwrap();
    let manifest = Manifest::load(&dir.join("all.toml")).unwrap();
    let mut b = Builder::new().build_time(1_750_000_000);
    load::load_manifest(&manifest, &mut b, |_| {}).unwrap();
    for registry in ["afrinic", "arin", "lacnic", "ripencc"] {
        b.add_rir_registry(registry);
    }
    let all = Database::from_bytes(&b.compile().unwrap().bytes).unwrap();
    assert_eq!(
        registries(&all).as_deref(),
        Some("afrinic,apnic,arin,lacnic,ripencc")
    );
    let without = build(&dir, &vpn).unwrap().db();
    assert!(all.has_rir_delegations());
    assert!(!apnic.has_rir_delegations() && !without.has_rir_delegations());
    // (address, bogon with all five, with APNIC's alone and without any)
    for (addr, bogon_all, bogon_else) in [
        ("1.0.0.1", false, false),         // delegated (AU, assigned)
        ("1.0.1.7", true, false),          // not delegated, even with a VPN listing it
        ("8.8.8.8", true, false),          // not in this excerpt's delegations
        ("10.0.0.1", true, true),          // private-use: special, a bogon either way
        ("192.0.2.1", true, true),         // documentation
        ("2001:200::1", false, false),     // delegated
        ("2001:200:4000::1", true, false), // past the two /35s
        ("2001:de3::9", false, false),     // delegated (assigned /48)
        ("2002::1", false, false),         // 6to4: special, globally reachable, no bogon
        ("2001:db8::1", true, true),       // documentation
        ("::ffff:1.0.0.1", false, false),  // IPv4-mapped answers as IPv4
    ] {
        let bogon = |db: &Database| db.lookup(ip(addr)).is_bogon();
        assert_eq!(
            (bogon(&all), bogon(&apnic), bogon(&without)),
            (bogon_all, bogon_else, bogon_else),
            "{addr}"
        );
    }
    assert!(
        all.lookup(ip("1.0.1.7")).is_vpn(),
        "the bogon flag does not hide evidence"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
