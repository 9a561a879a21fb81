//! Hosting by AS name (`docs/INTELLIGENCE.md`, "AS-name keywords") on real excerpts
//! (`fixtures/as-name-keywords/README.md`): MAXIHOST, on no list, answers `hosting` at the
//! `keyword` tier; Charter's name says nothing; EchoStar's and a broadband ISP's names hold a
//! keyword but also an access word, and are held back; a listed AS gets no keyword signal on
//! top; an eyeball network named like a hoster is held back; the rule runs only when the
//! manifest asks.

use ipsieve::{Categories, Database, Tier};
use ipsieve_builder::{Builder, Compiled};
use ipsieve_testkit::rules::{compile_text, eyeball_country, facts, hosting_asn_list, report_text};
use ipsieve_testkit::table as source;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/as-name-keywords"
);
const MAXIHOST: &str = "5.182.184.9";
const CHARTER: &str = "16.203.1.1";
const ECHOSTAR: &str = "66.170.240.7";
const CLOUDSKY: &str = "103.195.72.9";

/// Compiles the excerpts and `more`, with `as_name_keywords = keywords`.
fn build_with(keywords: bool, more: &[String]) -> Compiled {
    let mut parts = vec![
        format!("as_name_keywords = {keywords}\n"),
        source(
            "caida-pfx2as",
            "pfx2as",
            &format!("{DIR}/routeviews-rv2-20240406-excerpt.pfx2as"),
            "",
        ),
        source(
            "asnames",
            "asnames",
            &format!("{DIR}/asnames-excerpt.txt"),
            "",
        ),
    ];
    parts.extend_from_slice(more);
    compile_text(&parts.concat())
}

fn build(more: &[String]) -> Compiled {
    build_with(true, more)
}

#[test]
fn a_hoster_named_as_one_answers_hosting_at_the_keyword_tier() {
    let compiled = build(&[]);
    let f = facts(&compiled, MAXIHOST);
    assert_eq!(f.categories, Categories::HOSTING);
    assert_eq!(f.weak, Categories::HOSTING);
    assert_eq!(f.sources, ["as-name-keywords", "caida-pfx2as"]);
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    let spec = db
        .sources()
        .find(|s| s.name() == "as-name-keywords")
        .unwrap();
    assert_eq!((spec.tier(), spec.format()), (Tier::Keyword, "asn-keyword"));
    assert_eq!(compiled.stats.keywords.asns, [396356]);
    let f = facts(&compiled, CHARTER);
    assert!(f.categories.is_empty(), "{f:?}");
    assert_eq!(f.sources, ["caida-pfx2as"]);
    let text = report_text(&compiled);
    assert!(
        text.contains(
            "AS-name keywords: 1 ASNs named like hosters get hosting at tier keyword \
             (as-name-keywords); 0 held back as eyeball networks, 2 named as access networks"
        ),
        "{text}"
    );
}

#[test]
fn names_with_an_access_word_are_held_back() {
    // ECHOSTAR holds `host` inside another word; cloudsky's name says "cloud" and "broadband".
    let compiled = build(&[]);
    assert_eq!(compiled.stats.keywords.access, [13996, 134340]);
    for ip in [ECHOSTAR, CLOUDSKY] {
        let f = facts(&compiled, ip);
        assert!(f.categories.is_empty(), "{ip}: {f:?}");
        assert_eq!(f.sources, ["caida-pfx2as"], "{ip}");
    }
}

#[test]
fn the_rule_runs_only_when_the_manifest_asks_for_it() {
    let compiled = build_with(false, &[]);
    let f = facts(&compiled, MAXIHOST);
    assert!(f.categories.is_empty(), "{f:?}");
    assert_eq!(f.sources, ["caida-pfx2as"]);
    assert!(compiled.stats.keywords.asns.is_empty());
    let db = Database::from_bytes(&compiled.bytes).unwrap();
    assert!(db.sources().all(|s| s.name() != "as-name-keywords"));
}

#[test]
fn a_listed_asn_gets_no_keyword_signal_on_top() {
    let listed = hosting_asn_list("keywords-asn-list", 396356);
    let compiled = build(&[listed]);
    let f = facts(&compiled, MAXIHOST);
    assert_eq!(f.categories, Categories::HOSTING);
    assert_eq!(f.sources, ["caida-pfx2as", "hosting-asns"]);
    assert!(compiled.stats.keywords.asns.is_empty());
}

#[test]
fn an_eyeball_network_named_like_a_hoster_is_held_back() {
    // Two ASes of one (unnamed) country: the "cloud" one announces nearly all of it.
    let mut b = Builder::new().as_name_keywords(true);
    eyeball_country(&mut b);
    b.add_as_name(64500, "Example Cloud Networks");
    b.add_as_name(64501, "Example Hosting");
    let compiled = b.compile().unwrap();
    assert_eq!(compiled.stats.keywords.asns, [64501]);
    assert_eq!(compiled.stats.keywords.eyeball, [64500]);
    assert!(facts(&compiled, "20.1.2.3").categories.is_empty());
    assert_eq!(facts(&compiled, "21.0.0.1").categories, Categories::HOSTING);
}
