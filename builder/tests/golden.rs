//! The golden artifact of format 4 (`lookup/tests/golden/v4.ipsieve`), built from a handful
//! of real entries copied from the vendored snapshot. The lookup crate's tests and docs read
//! it; this test proves the builder still produces it byte for byte. It records a fixed
//! `builder` metadata value, so a crate version bump does not change it. After an intentional
//! format change, bump the version, keep the old golden (readers of the new major refuse it:
//! `lookup/tests/golden.rs`), and regenerate with
//! `IPSIEVE_BLESS=1 cargo test -p ipsieve-builder --test integration golden`.

use ipsieve::Categories;
use ipsieve_builder::{Attrs, Builder, SourceSpec};

pub(crate) fn golden_build() -> Vec<u8> {
    let mut b = Builder::new().build_time(1_750_000_000);
    b.metadata("builder", "ipsieve-builder (golden artifact)");
    let spec = |name: &str, format: &str, cats: Categories, provider: Option<&str>| {
        let mut s = SourceSpec::new(name, format).categories(cats);
        s.provider = provider.map(str::to_owned);
        s.snapshot_day = None;
        s
    };
    let tor = b
        .add_source(spec(
            "tor-exit-addresses",
            "tor-exit-list",
            Categories::TOR_EXIT,
            Some("Tor Project"),
        ))
        .unwrap();
    let aws = b
        .add_source(spec(
            "aws",
            "aws-ip-ranges",
            Categories::HOSTING,
            Some("Amazon AWS"),
        ))
        .unwrap();
    let relay = b
        .add_source(spec(
            "icloud-private-relay-v6",
            "ip-list",
            Categories::RELAY,
            Some("iCloud Private Relay"),
        ))
        .unwrap();
    let bgp = b
        .add_source(spec("caida-pfx2as", "pfx2as", Categories::empty(), None))
        .unwrap();
    let dc = b
        .add_source(
            spec(
                "x4bnet-datacenter-asns",
                "asn-list",
                Categories::HOSTING,
                None,
            )
            .tier(ipsieve::Tier::AsnHeuristic),
        )
        .unwrap();
    let plain = Attrs::default;
    // tor/exit-addresses.gz: "ExitAddress 185.220.101.1 2024-03-12 14:02:58"
    b.add_net(tor, "185.220.101.1/32".parse().unwrap(), plain())
        .unwrap();
    // cloud/aws-ip-ranges.json.gz: {"ip_prefix": "3.5.140.0/22", "region": "ap-northeast-2", ...}
    b.add_net(aws, "3.5.140.0/22".parse().unwrap(), plain())
        .unwrap();
    // relay/icloud-private-relay-ipv6.txt.gz: "2606:54c0::/35"
    b.add_net(relay, "2606:54c0::/35".parse().unwrap(), plain())
        .unwrap();
    // bgp/routeviews-rv2-20240406.pfx2as: "185.220.101.0\t24\t60729", "1.1.1.0\t24\t13335"
    // "8.8.8.0\t24\t15169", "34.1.82.0\t24\t19527", "3.8.0.0\t14\t16509"
    for (net, asn) in [
        ("185.220.101.0/24", 60729),
        ("1.1.1.0/24", 13335),
        ("8.8.8.0/24", 15169),
        ("34.1.82.0/24", 19527),
        ("3.8.0.0/14", 16509),
    ] {
        let attrs = Attrs {
            asn: Some(asn),
            ..Attrs::default()
        };
        b.add_net(bgp, net.parse().unwrap(), attrs).unwrap();
    }
    // asn/asnames: "AS60729       ZWIEBELFREUNDE, AT", "AS13335       CLOUDFLARENET, US"
    b.add_as_name(60729, "ZWIEBELFREUNDE");
    b.add_as_name(13335, "CLOUDFLARENET");
    // asn/asnames: "AS15169       GOOGLE, US", "AS19527       GOOGLE-2, US", "AS16509
    // AMAZON-02, US" (the countries: AS19527 announces a small share of US space here).
    b.add_as_name(15169, "GOOGLE, US");
    b.add_as_name(19527, "GOOGLE-2, US");
    b.add_as_name(16509, "AMAZON-02, US");
    // bgp/ip-location-db-asn/asn-ipv4.csv.gz: "8.8.8.0,8.8.8.255,15169,Google LLC",
    // "34.1.82.0,34.1.82.255,19527,Google LLC": one organisation, so AS19527, on no list,
    // inherits AS15169's listing as an `asn-sibling`.
    b.add_as_name(15169, "Google LLC");
    b.add_as_name(19527, "Google LLC");
    // asn/x4bnet-lists_vpn/input/datacenter/ASN.txt: "AS15169 # GOOGLE - Google Inc., US"
    b.add_asn(dc, 15169).unwrap();
    b.compile().unwrap().bytes
}

#[test]
fn golden_v4_is_reproduced() {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lookup/tests/golden/v4.ipsieve");
    let fresh = golden_build();
    if std::env::var_os("IPSIEVE_BLESS").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed =
        std::fs::read(&path).expect("golden artifact (regenerate with IPSIEVE_BLESS=1)");
    assert!(
        committed == fresh,
        "the builder no longer reproduces the format-4 golden artifact"
    );
}
