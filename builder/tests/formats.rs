//! Every input format the builder reads, built from the real excerpts vendored with the
//! parsers (`data-sources/tests/fixtures`), with facts checked against the same files.

use std::collections::HashSet;
use std::net::IpAddr;
use std::path::PathBuf;

use ipsieve::Database;
use ipsieve_builder::manifest::Manifest;
use ipsieve_builder::{load, Builder, Limits};
use ipsieve_sources::rir::{Resource, RirRecord};
use ipsieve_sources::tor_consensus::ConsensusItem;
use ipsieve_sources::{
    asn_list, azure, bad_asn, geofeed, geofeed_json, gluetun, input, ip_location_db, ipcat,
    ipfetcher, mmdb, mrt, mullvad, oracle, pfx2as, proxy, rir, tor_consensus,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data-sources/tests/fixtures")
        .join(name)
}

/// Builds one source of `format` over the fixture `file`; every entry must be read and none
/// rejected.
fn build_one(format: &str, file: &str, extra: &str) -> Database {
    let text = format!(
        "[[source]]\nname = \"src\"\nformat = \"{format}\"\npath = \"{}\"\n{extra}\n",
        fixture(file).display()
    );
    let manifest = Manifest::parse(&text).unwrap();
    let mut b = Builder::new();
    let reports = load::load_manifest(&manifest, &mut b, |_| {}).unwrap();
    let r = &reports[0];
    assert!(
        r.read > 0 && r.rejected == 0 && r.fatal.is_none(),
        "{format}: {r:?}"
    );
    Database::from_bytes(&b.compile().unwrap().bytes).unwrap()
}

fn open(file: &str) -> Box<dyn std::io::BufRead + Send> {
    input::open(&fixture(file)).unwrap()
}

#[test]
fn tor_consensus_exits_and_relays_stay_apart() {
    for file in [
        "tor-consensus-ns-2022-11-19.txt",
        "tor-consensus-microdesc-2024-05-17.txt",
    ] {
        let db = build_one("tor-consensus", file, "provider = \"Tor Project\"");
        let relays: Vec<_> = tor_consensus::parse(open(file), file)
            .filter_map(|i| match i.unwrap() {
                ConsensusItem::Relay(r) => Some(r),
                ConsensusItem::Header(_) => None,
            })
            .collect();
        let exits: HashSet<IpAddr> = relays
            .iter()
            .filter(|r| r.is_exit())
            .flat_map(|r| r.addresses())
            .collect();
        assert!(!exits.is_empty(), "{file} has exits");
        let mut relay_only = 0;
        for r in &relays {
            for ip in r.addresses() {
                let a = db.lookup(ip);
                if exits.contains(&ip) {
                    assert!(a.is_tor_exit() && a.is_anonymous(), "{file}: exit {ip}");
                } else {
                    relay_only += 1;
                    assert!(
                        a.is_tor_relay() && !a.is_tor_exit() && !a.is_anonymous(),
                        "{file}: relay {ip}"
                    );
                }
            }
        }
        assert!(relay_only > 0, "{file} has relay-only addresses");
    }
}

#[test]
fn rir_delegations_give_the_registration_country() {
    for file in [
        "rir-apnic.txt",
        "rir-afrinic-extended.txt",
        "rir-lacnic-extended.txt",
    ] {
        let db = build_one("rir-delegated", file, "");
        let mut checked = 0;
        for rec in rir::parse(open(file), file) {
            let RirRecord::Delegation(d) = rec.unwrap() else {
                continue;
            };
            let (Some(cc), ip) = (
                d.country,
                match d.resource {
                    Resource::Ipv4 { start, .. } => IpAddr::V4(start),
                    Resource::Ipv6(net) => IpAddr::V6(net.network()),
                    Resource::Asn { .. } => continue,
                },
            ) else {
                continue;
            };
            let a = db.lookup(ip);
            assert_eq!(a.country(), std::str::from_utf8(&cc).ok(), "{file}: {ip}");
            assert!(a.categories().is_empty());
            checked += 1;
        }
        assert!(checked > 0, "{file}: {checked}");
    }
}

#[test]
fn geofeeds_give_country_and_the_declared_category() {
    for (format, file) in [
        ("geofeed", "geofeed-digitalocean.csv"),
        ("geofeed", "geofeed-linode.csv"),
        ("icloud-egress", "icloud-egress-ip-ranges.csv"),
    ] {
        let db = build_one(format, file, "categories = [\"hosting\"]\nprovider = \"P\"");
        for g in geofeed::parse(open(file), file) {
            let g = g.unwrap();
            let a = db.lookup(g.network.network());
            assert!(
                a.is_hosting() && a.provider() == Some("P"),
                "{file}: {}",
                g.network
            );
            if let Some(cc) = g.country {
                assert_eq!(
                    a.country(),
                    std::str::from_utf8(&cc).ok(),
                    "{file}: {}",
                    g.network
                );
            }
        }
    }
}

#[test]
fn asn_ranges_give_asn_and_organisation() {
    let file = "ip-location-db-asn-ipv6.csv";
    let db = build_one("ip-location-db-asn", file, "");
    for r in ip_location_db::parse(open(file), file) {
        let r = r.unwrap();
        if !r.is_routed() {
            continue;
        }
        let a = db.lookup(r.start);
        assert_eq!(a.asn(), Some(r.asn), "{}", r.start);
        assert!(a.as_org().is_some(), "{}", r.start);
    }
    build_one("iptoasn", "ip2asn-v4.tsv", "");
}

#[test]
fn vpn_proxy_and_hosting_lists_flag_their_addresses() {
    let file = "mullvad-app-v1-relays.json";
    let db = build_one(
        "mullvad-relays",
        file,
        "categories = [\"vpn\"]\nprovider = \"Mullvad\"",
    );
    let relays: Vec<_> = mullvad::parse(open(file), file)
        .map(Result::unwrap)
        .collect();
    assert!(relays.iter().any(|r| r.active));
    for r in relays.iter().filter(|r| r.active) {
        for ip in r.addresses() {
            let a = db.lookup(ip);
            assert!(a.is_vpn() && a.provider() == Some("Mullvad"), "{ip}");
        }
    }
    // One source, many brands: each address answers with its server's provider.
    let file = "gluetun-servers.json";
    let db = build_one("gluetun-servers", file, "categories = [\"vpn\"]");
    let servers: Vec<_> = gluetun::parse(open(file), file)
        .map(Result::unwrap)
        .collect();
    let mut brands = HashSet::new();
    for s in &servers {
        for &ip in &s.addresses {
            let a = db.lookup(ip);
            assert!(a.is_vpn(), "{ip}");
            assert_eq!(a.provider(), Some(s.provider.as_str()), "{ip}");
            brands.insert(a.provider().unwrap().to_owned());
        }
    }
    assert_eq!(brands.len(), 5, "{brands:?}");
    let file = "proxy-monosans-all.txt";
    let db = build_one("proxy-list", file, "categories = [\"proxy\"]");
    for p in proxy::parse(open(file), file) {
        assert!(db.lookup(p.unwrap().address).is_proxy());
    }
    let firsts = |format: &str, file: &str| -> Vec<IpAddr> {
        let r = open(file);
        match format {
            "azure-service-tags" => azure::parse(r, file)
                .map(|p| p.unwrap().net.network())
                .collect(),
            "oracle-cloud" => oracle::parse(r, file)
                .map(|p| p.unwrap().net.network())
                .collect(),
            "geofeed-json" => geofeed_json::parse(r, file)
                .map(|g| g.unwrap().network.network())
                .collect(),
            "ip-fetcher" => ipfetcher::parse(r, file)
                .map(|n| n.unwrap().network())
                .collect(),
            "ipcat" => ipcat::parse(r, file).map(|c| c.unwrap().start).collect(),
            _ => unreachable!(),
        }
    };
    for (format, file) in [
        ("azure-service-tags", "azure-service-tags.json"),
        ("oracle-cloud", "oracle-public_ip_ranges.json"),
        ("geofeed-json", "vultr-geofeed.json"),
        ("geofeed-json", "ipfetcher-linode.json"),
        ("ip-fetcher", "ipfetcher-scaleway.json"),
        ("ipcat", "ipcat-datacenters.csv"),
    ] {
        let db = build_one(format, file, "categories = [\"hosting\"]");
        let ips = firsts(format, file);
        assert!(!ips.is_empty(), "{file}");
        for ip in ips {
            assert!(db.lookup(ip).is_hosting(), "{format} {file}: {ip}");
        }
    }
}

#[test]
fn mrt_dumps_give_the_origin_of_the_most_specific_prefix() {
    // The ADD-PATH sample is a lab capture of private space (10.0.x.0/24): read without the
    // limits on routing data, as the reference models are.
    for (file, lab) in [
        ("mrt-rib.20140523.0600-excerpt.bz2", false),
        ("mrt-rib6.20151101.0600-excerpt.bz2", false),
        ("mrt-bview.ipv4_unicast_add_path.gz", true),
    ] {
        let text = format!(
            "[[source]]\nname = \"src\"\nformat = \"mrt\"\npath = \"{}\"\n",
            fixture(file).display()
        );
        let manifest = Manifest::parse(&text).unwrap();
        let limits = if lab {
            Limits::none()
        } else {
            Limits::default()
        };
        let mut b = Builder::new().limits(limits);
        let reports = load::load_manifest(&manifest, &mut b, |_| {}).unwrap();
        let prefixes: Vec<_> = mrt::parse(open(file), file)
            .filter_map(Result::ok)
            .collect();
        assert!(!prefixes.is_empty(), "{file}");
        // Routes wider than a /8 (/16) are refused as routing data (the 2014 RIB excerpt
        // holds a default route, 0.0.0.0/0 from AS16637); the rest all count.
        let (wide, routes): (Vec<_>, Vec<_>) = prefixes.iter().partition(|p| {
            !lab && p.net.prefix_len() < if p.net.addr().is_ipv4() { 8 } else { 16 }
        });
        assert!(
            reports[0].read > 0 && reports[0].rejected == wide.len() as u64,
            "{file}: {:?}",
            reports[0]
        );
        let db = Database::from_bytes(&b.compile().unwrap().bytes).unwrap();
        for p in &prefixes {
            let ip = p.net.network();
            // The reference: the origin of the longest route kept containing the address.
            let best = routes
                .iter()
                .filter(|q| q.net.contains(&ip))
                .max_by_key(|q| q.net.prefix_len());
            assert_eq!(
                db.lookup(ip).asn(),
                best.and_then(|q| q.origins.first().copied()),
                "{file}: {}",
                p.net
            );
        }
    }
}

#[test]
fn maxmind_databases_map_flags_to_categories() {
    for file in [
        "mmdb-GeoIP2-Anonymous-IP-Test.mmdb",
        "mmdb-GeoIP-Anonymous-Plus-Test.mmdb",
        "mmdb-GeoLite2-ASN-Test.mmdb",
    ] {
        // MaxMind's synthetic test data flags a /13 as a Tor exit: allow down to the floor.
        let text = format!(
            "[[source]]\nname = \"src\"\nformat = \"mmdb\"\npath = \"{}\"\n\
             min_prefix = {{ v4 = 8, v6 = 16 }}\n",
            fixture(file).display()
        );
        let manifest = Manifest::parse(&text).unwrap();
        let mut b = Builder::new();
        let reports = load::load_manifest(&manifest, &mut b, |_| {}).unwrap();
        let mmdb = mmdb::MmdbDatabase::open(&fixture(file), file).unwrap();
        // An ASN row without a flag is routing data: one wider than a /8 (/16) is refused
        // (MaxMind's synthetic ASN database has IPv6 /13 to /15 blocks).
        let flagged = |r: &mmdb::MmdbRecord| {
            r.is_anonymous_vpn
                || r.is_hosting_provider
                || r.is_public_proxy
                || r.is_residential_proxy
                || r.is_tor_exit_node
        };
        let refused = |r: &mmdb::MmdbRecord| {
            r.asn.is_some()
                && !flagged(r)
                && r.net.prefix_len() < if r.net.addr().is_ipv4() { 8 } else { 16 }
        };
        let wide = mmdb
            .networks()
            .filter(|r| refused(r.as_ref().unwrap()))
            .count();
        assert!(
            reports[0].read > 0 && reports[0].rejected == wide as u64 && reports[0].fatal.is_none(),
            "{file}: {:?}",
            reports[0]
        );
        let db = Database::from_bytes(&b.compile().unwrap().bytes).unwrap();
        let mut checked = 0;
        for r in mmdb.networks() {
            let r = r.unwrap();
            if refused(&r) {
                assert_eq!(db.lookup(r.net.network()).asn(), None, "{file}: {}", r.net);
                continue;
            }
            let a = db.lookup(r.net.network());
            assert_eq!(a.is_vpn(), r.is_anonymous_vpn, "{file}: {}", r.net);
            assert_eq!(a.is_hosting(), r.is_hosting_provider, "{file}: {}", r.net);
            assert_eq!(
                a.is_proxy(),
                r.is_public_proxy || r.is_residential_proxy,
                "{file}: {}",
                r.net
            );
            assert_eq!(a.is_tor_exit(), r.is_tor_exit_node, "{file}: {}", r.net);
            if r.asn.is_some() {
                assert_eq!(a.asn(), r.asn, "{file}: {}", r.net);
            }
            if r.provider_name.is_some() {
                assert_eq!(
                    a.provider(),
                    r.provider_name.as_deref(),
                    "{file}: {}",
                    r.net
                );
            }
            checked += 1;
        }
        assert!(checked > 10, "{file}: {checked}");
    }
}

/// The vendored snapshot's real pfx2as excerpt (18,716 rows; the parser fixture is too small to
/// meet the ASN lists).
fn snapshot_pfx2as() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../data/snapshot/bgp/routeviews-rv2-20240406.pfx2as-excerpt.gz")
}

#[test]
fn asn_lists_flag_the_ranges_their_ases_originate() {
    let text = format!(
        "[[source]]\nname = \"bgp\"\nformat = \"pfx2as\"\npath = \"{}\"\n\n\
         [[source]]\nname = \"dc-asns\"\nformat = \"asn-list\"\npath = \"{}\"\n\
         categories = [\"hosting\"]\ntier = \"asn-heuristic\"\n\n\
         [[source]]\nname = \"bad-asns\"\nformat = \"bad-asn-list\"\npath = \"{}\"\n\
         categories = [\"hosting\"]\ntier = \"asn-heuristic\"\n",
        snapshot_pfx2as().display(),
        fixture("x4bnet-datacenter-ASN.txt").display(),
        fixture("bad-asn-list.csv").display(),
    );
    let manifest = Manifest::parse(&text).unwrap();
    let mut b = Builder::new();
    let reports = load::load_manifest(&manifest, &mut b, |_| {}).unwrap();
    for r in &reports {
        assert!(r.read > 0 && r.rejected == 0, "{r:?}");
    }
    let db = Database::from_bytes(&b.compile().unwrap().bytes).unwrap();
    let listed = |file: &str, bad: bool| -> HashSet<u32> {
        if bad {
            bad_asn::parse(open(file), file)
                .map(|e| e.unwrap().asn)
                .collect()
        } else {
            asn_list::parse(open(file), file)
                .map(|e| e.unwrap().asn)
                .collect()
        }
    };
    let dc = listed("x4bnet-datacenter-ASN.txt", false);
    let bad = listed("bad-asn-list.csv", true);
    let (mut flagged, mut clean) = (0, 0);
    for row in pfx2as::parse(input::open(&snapshot_pfx2as()).unwrap(), "bgp") {
        let a = db.lookup(row.unwrap().net.network());
        let asn = a.asn().expect("every pfx2as prefix has an origin");
        let sources: Vec<&str> = a.sources().collect();
        assert_eq!(sources.contains(&"dc-asns"), dc.contains(&asn), "AS{asn}");
        assert_eq!(sources.contains(&"bad-asns"), bad.contains(&asn), "AS{asn}");
        assert_eq!(
            a.is_hosting(),
            dc.contains(&asn) || bad.contains(&asn),
            "AS{asn}"
        );
        if a.is_hosting() {
            flagged += 1
        } else {
            clean += 1
        }
    }
    assert!(flagged > 0 && clean > 0, "{flagged} flagged, {clean} clean");
}
