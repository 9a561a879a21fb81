//! AS-organisation siblings (`docs/INTELLIGENCE.md`, "AS-organisation siblings") on real
//! excerpts (`fixtures/asn-siblings/README.md`): Google's AS19527, on no list, inherits the
//! hosting listing of AS15169 through the organisation name both carry; Telekom Malaysia's
//! eyeball AS4788 does not inherit its data-centre sibling's (it announces most of Malaysia's
//! routed space in the excerpt), and neither does AS29447, Iliad Italia's mobile network, which
//! ip-location-db names after its sister Scaleway (it announces more than the listed Scaleway
//! AS).

use ipsieve::{Categories, Database, Tier};
use ipsieve_builder::siblings::HeldBack;
use ipsieve_builder::{Attrs, Builder, Compiled, SourceId, SourceSpec};
use proptest::prelude::*;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/asn-siblings");

fn source(name: &str, format: &str, file: &str, extra: &str) -> String {
    format!(
        "[[source]]\nname = \"{name}\"\nformat = \"{format}\"\npath = \"{DIR}/{file}\"\n\
         tier = \"first-party\"\n{extra}\n"
    )
}

/// Compiles the excerpts; `with_org_names`: whether ip-location-db's organisation names are in.
fn build(with_org_names: bool, reversed: bool) -> Compiled {
    let mut parts = vec![
        source(
            "caida-pfx2as",
            "pfx2as",
            "routeviews-rv2-20240406-excerpt.pfx2as",
            "",
        ),
        source("asnames", "asnames", "asnames-excerpt.txt", ""),
        source(
            "x4bnet-datacenter-asns",
            "asn-list",
            "x4bnet-datacenter-ASN-excerpt.txt",
            "categories = [\"hosting\"]\n",
        )
        .replace("first-party", "asn-heuristic"),
    ];
    if with_org_names {
        parts.push(
            source(
                "ip-location-db-asn-v4",
                "ip-location-db-asn",
                "ip-location-db-asn-ipv4-excerpt.csv",
                "",
            )
            .replace("first-party", "curated"),
        );
    }
    if reversed {
        parts.reverse();
    }
    ipsieve_testkit::rules::compile_text(&parts.concat())
}

/// A builder with a routing source `bgp` and a hosting ASN list named `list`.
fn routing_and_list(list: &str) -> (Builder, SourceId, SourceId) {
    let mut b = Builder::new();
    let bgp = b.add_source(SourceSpec::new("bgp", "pfx2as")).unwrap();
    let spec = SourceSpec::new(list, "asn-list")
        .categories(Categories::HOSTING)
        .tier(Tier::AsnHeuristic);
    let list = b.add_source(spec).unwrap();
    (b, bgp, list)
}

fn ask(db: &Database, ip: &str) -> (Categories, Vec<String>) {
    let a = db.lookup(ip.parse().unwrap());
    (a.categories(), a.sources().map(str::to_owned).collect())
}

#[test]
fn a_sibling_of_a_listed_asn_inherits_at_the_weaker_tier() {
    let compiled = build(true, false);
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    db.verify().unwrap();

    // AS15169, listed: hosting at asn-heuristic.
    let listed = db.lookup("8.8.8.8".parse().unwrap());
    assert_eq!(listed.categories(), Categories::HOSTING);
    // AS19527, "Google LLC" like AS15169, on no list: inherits through the derived source.
    let sibling = db.lookup("34.1.82.1".parse().unwrap());
    assert_eq!(sibling.asn(), Some(19527));
    assert_eq!(sibling.categories(), Categories::HOSTING);
    assert_eq!(sibling.weak_categories(), Categories::HOSTING);
    assert!(sibling
        .sources()
        .any(|s| s == "x4bnet-datacenter-asns.sibling"));
    assert!(!sibling.sources().any(|s| s == "x4bnet-datacenter-asns"));
    assert!(sibling.score() < listed.score(), "a sibling weighs less");
    let derived = db
        .sources()
        .find(|s| s.name() == "x4bnet-datacenter-asns.sibling")
        .unwrap();
    assert_eq!(derived.tier(), Tier::AsnSibling);
    assert_eq!(derived.format(), "asn-sibling");
    assert_eq!(derived.categories(), Categories::HOSTING);

    let line = &compiled.stats.siblings[0];
    assert_eq!(line.from, "x4bnet-datacenter-asns");
    assert_eq!(line.asns, [19527]);
}

#[test]
fn eyeball_networks_and_bigger_siblings_are_held_back() {
    let compiled = build(true, false);
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    // TM Net (AS4788), "TM TECHNOLOGY SERVICES SDN BHD" like the listed data centre AS17971,
    // announces most of Malaysia's routed space here: an eyeball network.
    let (cats, _) = ask(&db, "175.136.0.1");
    assert!(cats.is_empty(), "{cats:?}");
    assert_eq!(ask(&db, "49.236.192.1").0, Categories::HOSTING);
    // Iliad Italia's mobile AS29447, named "SCALEWAY S.A.S." like the listed AS202023, a /12
    // against the listed /17.
    assert!(ask(&db, "78.208.0.1").0.is_empty());
    assert_eq!(ask(&db, "139.26.0.1").0, Categories::HOSTING);

    let held = &compiled.stats.siblings[0].held_back;
    assert!(held.contains(&(4788, HeldBack::EyeballShare)), "{held:?}");
    assert!(
        held.contains(&(29447, HeldBack::BiggerThanListed)),
        "{held:?}"
    );
}

#[test]
fn a_bare_handle_names_no_organisation() {
    // Without ip-location-db, the AS names are bare handles ("GOOGLE, US", "GOOGLE-2, US"):
    // nothing links AS19527 to AS15169, and nothing is derived.
    let compiled = build(false, false);
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    assert!(ask(&db, "34.1.82.1").0.is_empty());
    assert!(db.sources().all(|s| !s.name().ends_with(".sibling")));
    // (The CIDR report's descriptions of AS4788 and AS17971, "TM Net, Internet Service
    // Provider" and "TM-VADS DC Hosting", differ too.)
    assert!(compiled.stats.siblings.is_empty());
}

#[test]
fn the_rule_does_not_depend_on_the_order_of_sources() {
    let (a, b) = (build(true, false), build(true, true));
    let lines = |c: &Compiled| format!("{:?}", c.stats.siblings);
    assert_eq!(lines(&a), lines(&b));
    let (a, b) = (
        Database::from_bytes(&a.bytes).unwrap(),
        Database::from_bytes(&b.bytes).unwrap(),
    );
    for ip in [
        "8.8.8.8",
        "34.1.82.1",
        "175.136.0.1",
        "78.208.0.1",
        "139.26.0.1",
    ] {
        assert_eq!(ask(&a, ip), ask(&b, ip), "{ip}");
    }
}

#[test]
fn organisation_names_shared_by_many_asns_are_not_used() {
    // A name carried by 40 ASNs links nothing: ip-location-db names 132 ASNs "DoD Network
    // Information Center" (bgp/ip-location-db-asn).
    let (mut b, bgp, list) = routing_and_list("dc-asns");
    for i in 0..40u32 {
        let asn = 64_512 + i;
        let net = format!("45.{i}.0.0/24");
        let attrs = Attrs {
            asn: Some(asn),
            ..Attrs::default()
        };
        b.add_net(bgp, net.parse().unwrap(), attrs).unwrap();
        b.add_as_name(asn, "DoD Network Information Center");
    }
    b.add_asn(list, 64_512).unwrap();
    let compiled = b.compile().unwrap();
    let line = &compiled.stats.siblings[0];
    assert_eq!(line.generic_orgs, 1, "{line:?}");
    assert!(
        line.asns.is_empty() && line.held_back.is_empty(),
        "{line:?}"
    );
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    assert!(db
        .lookup("45.1.0.1".parse().unwrap())
        .categories()
        .is_empty());
}

#[test]
fn the_build_report_names_the_derived_sources() {
    let compiled = build(true, false);
    let text = ipsieve_testkit::rules::report_text(&compiled);
    assert!(
        text.contains(
            "x4bnet-datacenter-asns.sibling: 1 ASNs inherit x4bnet-datacenter-asns's categories; \
             held back: 1 for their share of a country's routed space, 0 for an organisation \
             that runs such a network, 1 for announcing more than their organisation's listed \
             ASNs"
        ),
        "{text}"
    );
}

#[test]
fn a_sibling_that_announces_nothing_in_a_country_with_no_routes_is_handled() {
    // AS64501 carries the listed AS64500's organisation and a country no routed AS has, and
    // announces nothing itself: it inherits (it is no bigger than the evidence and no eyeball
    // network), and nothing divides by an empty country.
    let (mut b, bgp, list) = routing_and_list("dc-asns");
    let attrs = Attrs {
        asn: Some(64_500),
        ..Attrs::default()
    };
    b.add_net(bgp, "45.1.0.0/24".parse().unwrap(), attrs)
        .unwrap();
    b.add_as_name(64_500, "Example Hosting GmbH");
    b.add_as_name(64_501, "Example Hosting GmbH");
    b.add_as_country(64_500, *b"DE");
    b.add_as_country(64_501, *b"ZZ");
    b.add_asn(list, 64_500).unwrap();
    let compiled = b.compile().unwrap();
    assert_eq!(compiled.stats.siblings[0].asns, [64_501]);
    Database::from_bytes(&compiled.bytes)
        .unwrap()
        .verify()
        .unwrap();
}

/// One AS of a generated build: /24s it announces, a /12 too?, organisation names, country,
/// listed?
#[derive(Debug, Clone)]
struct GenAs {
    blocks: u8,
    big: bool,
    orgs: Vec<usize>,
    country: Option<usize>,
    listed: bool,
}

const ORGS: [&str; 3] = ["Alpha Hosting GmbH", "Beta Net Inc.", "Gamma Cloud S.A."];
const CCS: [[u8; 2]; 2] = [*b"DE", *b"FR"];

fn gen_as() -> impl Strategy<Value = GenAs> {
    (
        0u8..6,
        proptest::bool::weighted(0.15),
        proptest::collection::vec(0usize..3, 0..3),
        proptest::option::of(0usize..2),
        proptest::bool::weighted(0.3),
    )
        .prop_map(|(blocks, big, orgs, country, listed)| GenAs {
            blocks,
            big,
            orgs,
            country,
            listed,
        })
}

/// The rule as docs/INTELLIGENCE.md states it, naively: the ASNs that inherit.
fn model(ases: &[GenAs]) -> std::collections::BTreeSet<usize> {
    let space = |i: usize| u64::from(ases[i].blocks) * 256 + u64::from(ases[i].big) * (1 << 20);
    let total = |c: Option<usize>| -> u64 {
        (0..ases.len())
            .filter(|&j| c.is_none() || ases[j].country == c)
            .map(space)
            .sum()
    };
    let eyeball = |i: usize| {
        let t = total(ases[i].country);
        t > 0 && space(i) * 1000 >= t * 10
    };
    let mut inherit = std::collections::BTreeSet::new();
    for org in 0..ORGS.len() {
        let members: Vec<usize> = (0..ases.len())
            .filter(|&i| ases[i].orgs.contains(&org))
            .collect();
        if !members.iter().any(|&i| ases[i].listed) {
            continue;
        }
        let listed_space: u64 = members
            .iter()
            .filter(|&&i| ases[i].listed)
            .map(|&i| space(i))
            .sum();
        let unlisted: Vec<usize> = members
            .iter()
            .copied()
            .filter(|&i| !ases[i].listed)
            .collect();
        if unlisted.iter().any(|&i| eyeball(i)) {
            continue;
        }
        // No IPv6 here: an AS announcing nothing is never bigger than the evidence.
        inherit.extend(unlisted.into_iter().filter(|&i| space(i) <= listed_space));
    }
    inherit
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    /// Generated builds of up to 10 ASes with shared organisation names, countries and sizes:
    /// the ASes that inherit are the model's, each of their routes answers `hosting` through the
    /// derived source only, and every other unlisted AS's routes answer nothing.
    #[test]
    fn the_sibling_rule_equals_a_naive_model(mut ases in proptest::collection::vec(gen_as(), 1..10)) {
        // Background: a /12 in each country and one without, so that a few /24s are a small
        // share of a country and a /12 a large one.
        for country in [Some(0), Some(1), None] {
            ases.push(GenAs { blocks: 0, big: true, orgs: Vec::new(), country, listed: false });
        }
        let (mut b, bgp, list) = routing_and_list("dc");
        let asn = |i: usize| 64_500 + i as u32;
        for (i, a) in ases.iter().enumerate() {
            let attrs = Attrs { asn: Some(asn(i)), ..Attrs::default() };
            for j in 0..a.blocks {
                let net = format!("45.{i}.{j}.0/24").parse().unwrap();
                b.add_net(bgp, net, attrs.clone()).unwrap();
            }
            if a.big {
                let net = format!("46.{}.0.0/12", 16 * i).parse().unwrap();
                b.add_net(bgp, net, attrs).unwrap();
            }
            for &o in &a.orgs {
                b.add_as_name(asn(i), ORGS[o]);
            }
            if let Some(c) = a.country {
                b.add_as_country(asn(i), CCS[c]);
            }
            if a.listed {
                b.add_asn(list, asn(i)).unwrap();
            }
        }
        let compiled = b.compile().unwrap();
        let want = model(&ases);
        let got: std::collections::BTreeSet<usize> = compiled
            .stats
            .siblings
            .iter()
            .flat_map(|l| l.asns.iter().map(|&a| (a - 64_500) as usize))
            .collect();
        prop_assert_eq!(&got, &want);
        let db = Database::from_bytes(&compiled.bytes).unwrap();
        db.verify().unwrap();
        for (i, a) in ases.iter().enumerate() {
            let probe = match (a.blocks, a.big) {
                (0, false) => continue,
                (0, true) => format!("46.{}.0.1", 16 * i),
                _ => format!("45.{i}.0.1"),
            };
            let answer = db.lookup(probe.parse().unwrap());
            let sources: Vec<&str> = answer.sources().collect();
            if a.listed {
                prop_assert_eq!(answer.categories(), Categories::HOSTING);
                prop_assert_eq!(sources, ["bgp", "dc"]);
            } else if want.contains(&i) {
                prop_assert_eq!(answer.categories(), Categories::HOSTING);
                prop_assert_eq!(sources, ["bgp", "dc.sibling"]);
            } else {
                prop_assert!(answer.categories().is_empty());
            }
        }
    }
}
