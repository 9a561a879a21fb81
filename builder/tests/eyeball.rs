//! Aggregates inside eyeball networks (`docs/INTELLIGENCE.md`, "Aggregates inside eyeball
//! networks") on real excerpts (`fixtures/eyeball-aggregates/README.md`): X4BNet's datacenter
//! list still names Sprint's former `68.240.0.0/13`, which T-Mobile US's mobile network
//! announces whole, and a `/24` inside a Deutsche Telekom announcement. The first claim is held
//! back unless something other than an aggregate vouches for it; the second stands.

use ipsieve::Categories;
use ipsieve_builder::{Compiled, EyeballHeld};
use ipsieve_testkit::rules::{compile_text, facts, report_text};
use ipsieve_testkit::{fresh_dir, table as source};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/eyeball-aggregates"
);
const SIBLINGS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/asn-siblings");

/// A T-Mobile US address in Sprint's former block, and a Deutsche Telekom one in the /24.
const SPRINT: &str = "68.241.2.3";
const INSIDE: &str = "84.32.51.7";

/// Compiles the routing and AS-name excerpts, X4BNet's excerpt as the aggregate it is (tier
/// `curated`, no provider; `aggregate_extra` overrides that), and `more` sources.
fn build(aggregate_extra: &str, more: &[String]) -> Compiled {
    let mut parts = vec![
        source(
            "caida-pfx2as",
            "pfx2as",
            &format!("{DIR}/routeviews-rv2-20240406-excerpt.pfx2as"),
            "",
        ),
        source(
            "caida-pfx2as-wide",
            "pfx2as",
            &format!("{SIBLINGS}/routeviews-rv2-20240406-excerpt.pfx2as"),
            "",
        ),
        source(
            "asnames",
            "asnames",
            &format!("{SIBLINGS}/asnames-excerpt.txt"),
            "",
        ),
        source(
            "x4bnet-datacenter",
            "ip-list",
            &format!("{DIR}/x4bnet-datacenter-ipv4-excerpt.txt"),
            &format!("categories = [\"hosting\"]\n{aggregate_extra}"),
        ),
    ];
    parts.extend_from_slice(more);
    compile_text(&parts.concat())
}

fn has_aggregate(sources: &[String]) -> bool {
    sources.iter().any(|s| s == "x4bnet-datacenter")
}

#[test]
fn an_aggregate_claim_over_a_large_eyeball_networks_announcement_is_held_back() {
    let compiled = build("tier = \"curated\"\n", &[]);
    let f = facts(&compiled, SPRINT);
    assert_eq!(f.asn, Some(21928));
    assert!(!f.categories.contains(Categories::HOSTING), "{f:?}");
    assert!(!has_aggregate(&f.sources), "{f:?}");
    // The whole /13, once.
    assert_eq!(
        compiled.stats.eyeball_held,
        [EyeballHeld {
            source: "x4bnet-datacenter".into(),
            v4_addresses: 1 << 19,
            v6_addresses: 0,
        }]
    );
    let text = report_text(&compiled);
    assert!(
        text.contains(
            "aggregate inside eyeball networks: x4bnet-datacenter's hosting claim held back on \
             524288 IPv4 and 0 IPv6 addresses"
        ),
        "{text}"
    );
}

#[test]
fn a_block_inside_an_eyeball_networks_announcement_keeps_its_claim() {
    let compiled = build("tier = \"curated\"\n", &[]);
    let f = facts(&compiled, INSIDE);
    assert_eq!(f.asn, Some(3320));
    assert!(f.categories.contains(Categories::HOSTING), "{f:?}");
    assert!(has_aggregate(&f.sources), "{f:?}");
}

#[test]
fn a_claim_anything_but_an_aggregate_makes_stands() {
    // The same list as a provider's own (first-party), or naming its provider: not an
    // aggregate.
    for extra in [
        "tier = \"first-party\"\n",
        "tier = \"curated\"\nprovider = \"Sprint\"\n",
    ] {
        let compiled = build(extra, &[]);
        let f = facts(&compiled, SPRINT);
        assert!(f.categories.contains(Categories::HOSTING), "{extra}: {f:?}");
        assert!(compiled.stats.eyeball_held.is_empty(), "{extra}");
    }
    // Another source asserting hosting there: the aggregate's claim stands beside it.
    let other = source(
        "another-list",
        "ip-list",
        &format!("{DIR}/x4bnet-datacenter-ipv4-excerpt.txt"),
        "categories = [\"hosting\"]\ntier = \"first-party\"\n",
    );
    let compiled = build("tier = \"curated\"\n", &[other]);
    let f = facts(&compiled, SPRINT);
    assert!(f.categories.contains(Categories::HOSTING), "{f:?}");
    assert!(has_aggregate(&f.sources), "{f:?}");
    assert!(compiled.stats.eyeball_held.is_empty());
}

#[test]
fn only_a_hosting_list_vouches_for_an_eyeball_sized_asn() {
    let list = fresh_dir("eyeball-asn-list").join("asns.txt");
    std::fs::write(&list, "AS21928\n").unwrap();
    // A hosting list naming the AS vouches for the aggregate's claim; a VPN list does not (the
    // aggregate is still held back, and the VPN listing applies).
    for (category, hosting_kept) in [("hosting", true), ("vpn", false)] {
        let listed = source(
            "asn-list",
            "asn-list",
            &list.display().to_string(),
            &format!("categories = [\"{category}\"]\ntier = \"asn-heuristic\"\n"),
        );
        let compiled = build("tier = \"curated\"\n", &[listed]);
        let f = facts(&compiled, SPRINT);
        assert_eq!(
            f.categories.contains(Categories::HOSTING),
            hosting_kept,
            "{f:?}"
        );
        assert_eq!(has_aggregate(&f.sources), hosting_kept, "{f:?}");
        assert_eq!(compiled.stats.eyeball_held.is_empty(), hosting_kept);
        if !hosting_kept {
            assert_eq!(f.categories, Categories::VPN, "{f:?}");
        }
    }
}
