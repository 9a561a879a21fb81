//! Hosting from VPN co-location (`docs/INTELLIGENCE.md`, "VPN co-location") on real excerpts
//! (`fixtures/vpn-colocation/README.md`): EstNOC's AS206804, on no list, carries servers of PIA,
//! Windscribe, IVPN and Proton VPN; three providers make it `hosting` at the `asn-heuristic`
//! tier, two do not, a copy of a provider's list counts once, a listed AS gets no signal on
//! top, large eyeball networks are held back, and the rule runs only when the manifest asks.

use ipsieve::{Categories, Database, Tier};
use ipsieve_builder::{Attrs, Builder, Compiled, SourceSpec};
use ipsieve_testkit::rules::{compile_text, eyeball_country, facts, hosting_asn_list, report_text};
use ipsieve_testkit::table as source;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/vpn-colocation");
/// EstNOC addresses that no list of the excerpt names.
const ESTNOC: [&str; 2] = ["45.133.194.1", "37.0.12.9"];
/// An AS61272 address beside the PIA server there.
const IST: &str = "158.173.79.200";

/// A VPN list of the excerpts: `file` (without `-excerpt.txt`) as source `name`.
fn vpn(name: &str, file: &str, provider: &str, snapshot: &str) -> String {
    source(
        name,
        "ip-list",
        &format!("{DIR}/{file}-excerpt.txt"),
        &format!("categories = [\"vpn\"]\nprovider = \"{provider}\"\nsnapshot = \"{snapshot}\"\n"),
    )
}

fn pia() -> String {
    vpn("vpn-pia", "pia", "Private Internet Access", "2026-08-22")
}
fn windscribe() -> String {
    vpn("vpn-windscribe", "windscribe", "Windscribe", "2026-08-21")
}
fn ivpn() -> String {
    vpn("vpn-ivpn", "ivpn", "IVPN", "2026-08-20")
}
fn proton() -> String {
    vpn("vpn-protonvpn", "protonvpn", "Proton VPN", "2026-08-23")
}

/// Compiles the routing excerpt and `lists`, with `vpn_colocation = true`.
fn build(lists: &[String]) -> Compiled {
    build_with(true, lists)
}

fn build_with(colocation: bool, lists: &[String]) -> Compiled {
    let setting = format!("vpn_colocation = {colocation}\n");
    let routing = source(
        "ip-location-db-asn-v4",
        "ip-location-db-asn",
        &format!("{DIR}/ip-location-db-asn-ipv4-excerpt.csv"),
        "tier = \"curated\"\n",
    );
    compile_text(
        &[setting, routing]
            .iter()
            .chain(lists)
            .cloned()
            .collect::<String>(),
    )
}

#[test]
fn an_as_carrying_three_providers_servers_answers_hosting() {
    let compiled = build(&[pia(), windscribe(), ivpn()]);
    assert_eq!(compiled.stats.colocation.asns, [206804]);
    assert!(compiled.stats.colocation.eyeball.is_empty());
    for ip in ESTNOC {
        let f = facts(&compiled, ip);
        assert_eq!(f.categories, Categories::HOSTING, "{ip}");
        assert_eq!(f.weak, Categories::HOSTING, "{ip}");
        assert_eq!(f.asn, Some(206804), "{ip}");
        assert_eq!(
            f.sources,
            ["ip-location-db-asn-v4", "vpn-colocation"],
            "{ip}"
        );
    }
    // The servers keep their own lists' vpn and gain hosting.
    let f = facts(&compiled, "45.133.193.66");
    assert_eq!(f.categories, Categories::VPN | Categories::HOSTING);
    assert_eq!(
        f.sources,
        ["ip-location-db-asn-v4", "vpn-colocation", "vpn-ivpn"]
    );
    // One provider in AS61272: nothing derived there.
    let f = facts(&compiled, IST);
    assert!(f.categories.is_empty(), "{f:?}");
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    let spec = db.sources().find(|s| s.name() == "vpn-colocation").unwrap();
    assert_eq!(
        (spec.tier(), spec.format()),
        (Tier::AsnHeuristic, "vpn-colocation")
    );
    // The newest of the server lists that counted (PIA's, 2026-08-22).
    assert_eq!(spec.snapshot_day(), Some(20_687));
    let text = report_text(&compiled);
    assert!(
        text.contains(
            "VPN co-location: 1 ASNs announcing the servers of 3 or more VPN providers get \
             hosting at tier asn-heuristic (vpn-colocation); 0 held back as eyeball networks"
        ),
        "{text}"
    );
}

#[test]
fn two_providers_are_not_enough_and_a_copy_counts_once() {
    // X4BNet's copy of PIA's list names the same provider: still two providers.
    let copy = source(
        "x4bnet-vpn-pia",
        "ip-list",
        &format!("{DIR}/pia-excerpt.txt"),
        "categories = [\"vpn\"]\nprovider = \"Private Internet Access\"\ntier = \"curated\"\n",
    );
    let compiled = build(&[pia(), windscribe(), copy.clone()]);
    assert!(compiled.stats.colocation.is_empty());
    for ip in ESTNOC {
        assert!(facts(&compiled, ip).categories.is_empty(), "{ip}");
    }
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    assert!(db.sources().all(|s| s.name() != "vpn-colocation"));
    assert!(!report_text(&compiled).contains("VPN co-location"));
    // A third provider in another of EstNOC's ranges (Proton's server in 37.0.12.0/24).
    let compiled = build(&[pia(), windscribe(), copy, proton()]);
    assert_eq!(compiled.stats.colocation.asns, [206804]);
    for ip in ESTNOC {
        assert_eq!(facts(&compiled, ip).categories, Categories::HOSTING, "{ip}");
    }
}

#[test]
fn the_rule_runs_only_when_the_manifest_asks_for_it() {
    let compiled = build_with(false, &[pia(), windscribe(), ivpn()]);
    assert!(compiled.stats.colocation.is_empty());
    assert!(facts(&compiled, ESTNOC[0]).categories.is_empty());
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    assert!(db.sources().all(|s| s.name() != "vpn-colocation"));
}

#[test]
fn a_listed_asn_gets_no_colocation_signal_on_top() {
    let listed = hosting_asn_list("colocation-asn-list", 206804);
    let compiled = build(&[pia(), windscribe(), ivpn(), listed]);
    assert!(compiled.stats.colocation.is_empty());
    let f = facts(&compiled, ESTNOC[0]);
    assert_eq!(f.categories, Categories::HOSTING);
    assert_eq!(f.sources, ["hosting-asns", "ip-location-db-asn-v4"]);
}

#[test]
fn large_eyeball_networks_are_held_back_small_countries_hosters_are_not() {
    // One (unnamed) country: AS64500 announces a /8 of it (a large access network), AS64501 a
    // /24, less than a /12 but a share of more than 1 % in a country this small.
    let mut b = Builder::new().vpn_colocation(true);
    eyeball_country(&mut b);
    for (i, brand) in ["A", "B", "C"].into_iter().enumerate() {
        let spec = SourceSpec::new(format!("vpn-{}", brand.to_lowercase()), "ip-list")
            .categories(Categories::VPN)
            .provider(format!("Brand {brand}"));
        let src = b.add_source(spec).unwrap();
        for net in [
            format!("20.0.0.{}/32", i + 1),
            format!("21.0.0.{}/32", i + 1),
        ] {
            b.add_net(src, net.parse().unwrap(), Attrs::default())
                .unwrap();
        }
    }
    let compiled = b.compile().unwrap();
    assert_eq!(compiled.stats.colocation.asns, [64501]);
    assert_eq!(compiled.stats.colocation.eyeball, [64500]);
    assert!(facts(&compiled, "20.1.2.3").categories.is_empty());
    assert_eq!(
        facts(&compiled, "21.0.0.200").categories,
        Categories::HOSTING
    );
}
