//! The classification rules as documented in `docs/INTELLIGENCE.md` are the rules in
//! `ipsieve::classify`, and the golden artifact's answers explain themselves.

use ipsieve::classify::{self, Scorer, BASE_WEIGHTS, DECAY_FLOOR, HALF_LIVES};
use ipsieve::{Categories, Database, RiskLevel, Tier, Verdict};

fn doc() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/INTELLIGENCE.md");
    std::fs::read_to_string(path).expect("docs/INTELLIGENCE.md")
}

/// The body rows of the markdown table between `<!-- NAME:begin -->` and `<!-- NAME:end -->`,
/// as trimmed cells with backticks removed.
fn table(doc: &str, name: &str) -> Vec<Vec<String>> {
    let begin = format!("<!-- {name}:begin -->");
    let end = format!("<!-- {name}:end -->");
    let from = doc.find(&begin).unwrap_or_else(|| panic!("no {begin}")) + begin.len();
    let to = from + doc[from..].find(&end).unwrap_or_else(|| panic!("no {end}"));
    doc[from..to]
        .lines()
        .filter(|l| l.starts_with('|'))
        .skip(2) // header and alignment rows
        .map(|l| {
            l.trim()
                .trim_matches('|')
                .split('|')
                .map(|c| c.trim().replace('`', ""))
                .collect()
        })
        .collect()
}

/// "0.35" → 35.
fn hundredths(cell: &str) -> u8 {
    let v: f64 = cell
        .parse()
        .unwrap_or_else(|_| panic!("not a number: {cell}"));
    let h = (v * 100.0).round();
    assert!(
        (v * 100.0 - h).abs() < 1e-9 && (0.0..=100.0).contains(&h),
        "{cell}"
    );
    h as u8
}

#[test]
fn documented_weights_are_the_code() {
    let rows = table(&doc(), "weights");
    assert_eq!(rows.len(), BASE_WEIGHTS.len());
    for (row, &(cat, weights)) in rows.iter().zip(&BASE_WEIGHTS) {
        assert_eq!(Categories::from_name(&row[0]), Some(cat), "row {row:?}");
        let documented: Vec<u8> = row[1..].iter().map(|c| hundredths(c)).collect();
        assert_eq!(documented, weights, "{}", row[0]);
        for (tier, &w) in Tier::ALL.iter().zip(&weights) {
            assert_eq!(classify::category_weight(cat, *tier, 100), w);
        }
    }
}

#[test]
fn documented_half_lives_are_the_code() {
    let rows = table(&doc(), "half-lives");
    assert_eq!(rows.len(), HALF_LIVES.len());
    for (row, &(cat, days)) in rows.iter().zip(&HALF_LIVES) {
        assert_eq!(Categories::from_name(&row[0]), Some(cat), "row {row:?}");
        assert_eq!(row[1], days.to_string(), "{}", row[0]);
        // "after a year": the percentage kept, as documented.
        let kept = format!("{} %", classify::decay_percent(cat, Some(365)));
        assert_eq!(row[2], kept, "{}", row[0]);
    }
    assert!(
        doc().contains(&format!("never below {DECAY_FLOOR} %")),
        "the floor is documented"
    );
}

#[test]
fn documented_thresholds_are_the_code() {
    let rows = table(&doc(), "thresholds");
    assert_eq!(rows.len(), 4);
    let verdicts = [
        Verdict::Clean,
        Verdict::Suspicious,
        Verdict::VpnLikely,
        Verdict::VpnDetected,
    ];
    let mut froms = Vec::new();
    for (row, verdict) in rows.iter().zip(verdicts) {
        assert_eq!(row[0], verdict.as_str());
        let from = hundredths(&row[1]);
        froms.push(from);
        assert_eq!(classify::verdict_for_score(from), verdict, "{row:?}");
        if from > 0 {
            assert_ne!(classify::verdict_for_score(from - 1), verdict, "{row:?}");
        }
        let level = RiskLevel::from_name(&row[2]).unwrap();
        assert_eq!(classify::risk_level_for_score(from), level);
        // Trust score band `lo–hi` is 100 − the verdict's score band.
        let (lo, hi) = row[3].split_once('–').unwrap();
        assert_eq!(hi.parse::<u8>().unwrap(), 100 - from, "{row:?}");
        froms.push(100 - lo.parse::<u8>().unwrap());
    }
    // Each band's top is one below the next band's start.
    let tops: Vec<u8> = froms.iter().skip(1).step_by(2).copied().collect();
    let starts: Vec<u8> = froms.iter().step_by(2).skip(1).copied().collect();
    for (top, next) in tops.iter().zip(starts.iter().chain([&101])) {
        assert_eq!(top + 1, *next);
    }
    assert_eq!(classify::SUSPICIOUS_FROM, hundredths(&rows[1][1]));
    assert_eq!(classify::LIKELY_FROM, hundredths(&rows[2][1]));
    assert_eq!(classify::DETECTED_FROM, hundredths(&rows[3][1]));
}

/// `vpn@curated×0.5` → (vpn, curated, 50).
fn signal(text: &str) -> (Categories, Tier, u8) {
    let (cat, rest) = text.split_once('@').unwrap();
    let (tier, weight) = match rest.split_once('×') {
        Some((t, w)) => (t, hundredths(w)),
        None => (rest, 100),
    };
    (
        Categories::from_name(cat).unwrap_or_else(|| panic!("category {cat}")),
        Tier::from_name(tier).unwrap_or_else(|| panic!("tier {tier}")),
        weight,
    )
}

#[test]
fn documented_examples_follow_the_rules() {
    let rows = table(&doc(), "examples");
    assert!(rows.len() >= 10);
    for row in &rows {
        let signals: Vec<_> = row[1].split(',').map(|s| signal(s.trim())).collect();
        let answer = signals.iter().fold(Categories::empty(), |a, s| a | s.0);
        let mut scorer = Scorer::new(answer);
        for &(c, t, w) in &signals {
            scorer.add(c, t, w);
        }
        let (verdict, score) = scorer.finish();
        assert_eq!(score, hundredths(&row[2]), "{}", row[0]);
        assert_eq!(verdict.as_str(), row[3], "{}", row[0]);
    }
}

#[test]
fn issue_rules_hold_for_every_tier() {
    for tier in [Tier::FirstParty, Tier::Curated] {
        // A Tor exit from the exit list or the consensus Exit flag is detected.
        let mut s = Scorer::new(Categories::TOR_EXIT);
        s.add(Categories::TOR_EXIT, tier, 100);
        assert_eq!(s.finish().0, Verdict::VpnDetected, "{tier}");
    }
    for tier in Tier::ALL {
        // A Tor relay alone, or a privacy relay alone, is clean, whatever else is hosting.
        for cat in [Categories::TOR_RELAY, Categories::RELAY] {
            let mut s = Scorer::new(cat | Categories::HOSTING);
            s.add(cat, tier, 100);
            s.add(Categories::HOSTING, Tier::FirstParty, 100);
            assert!(s.finish().0 <= Verdict::Suspicious, "{cat:?} {tier}");
            let mut s = Scorer::new(cat);
            s.add(cat, tier, 100);
            assert_eq!(s.finish().0, Verdict::Clean, "{cat:?} {tier}");
        }
        // Hosting from an ASN-wide list weighs less than from a provider's own list.
        let w = |t| classify::category_weight(Categories::HOSTING, t, 100);
        assert!(w(Tier::AsnHeuristic) < w(Tier::FirstParty));
        assert!(w(Tier::AsnHeuristic) < w(Tier::Curated));
    }
}

fn golden() -> Database {
    Database::from_bytes(include_bytes!("golden/v4.ipsieve")).unwrap()
}

/// Per category the strongest signal, summed and capped: must equal the stored score.
fn explained_score(a: &ipsieve::Answer<'_>) -> u8 {
    let sum: u32 = BASE_WEIGHTS
        .iter()
        .map(|&(c, _)| u32::from(a.signals().map(|s| s.category_weight(c)).max().unwrap_or(0)))
        .sum();
    sum.min(100) as u8
}

#[test]
fn golden_signals_explain_the_score() {
    let db = golden();
    let tor = db.lookup("185.220.101.1".parse().unwrap());
    let signals: Vec<_> = tor.signals().collect();
    assert_eq!(signals.len(), 2);
    assert_eq!(signals[0].name(), "caida-pfx2as");
    assert_eq!(signals[0].format(), "pfx2as");
    assert!(signals[0].categories().is_empty());
    assert_eq!(signals[0].weight(), 0.0);
    assert_eq!(signals[1].name(), "tor-exit-addresses");
    assert_eq!(signals[1].format(), "tor-exit-list");
    assert_eq!(signals[1].categories(), Categories::TOR_EXIT);
    assert_eq!(signals[1].tier(), Tier::FirstParty);
    assert_eq!(signals[1].weight_hundredths(), 100);
    assert_eq!(signals[1].snapshot_day(), None);
    assert_eq!(signals[1].source().provider(), Some("Tor Project"));
    assert_eq!(tor.tier(), Some(Tier::FirstParty));

    let aws = db.lookup("3.5.141.200".parse().unwrap());
    let s: Vec<_> = aws.signals().collect();
    assert_eq!(s.len(), 1);
    assert_eq!((s[0].name(), s[0].weight_hundredths()), ("aws", 35));

    let relay = db.lookup("2606:54c0:1000::1".parse().unwrap());
    let s: Vec<_> = relay.signals().collect();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].categories(), Categories::RELAY);
    assert_eq!(s[0].weight_hundredths(), 10);

    let none = db.lookup("192.0.2.1".parse().unwrap());
    assert_eq!(none.signals().count(), 0);
    assert_eq!(none.tier(), None);

    for a in [tor, aws, relay, none] {
        let stored = (a.score() * 100.0).round() as u8;
        assert_eq!(explained_score(&a), stored, "{}", a.ip());
        assert_eq!(
            a.verdict(),
            classify::verdict_for_score(stored),
            "{}",
            a.ip()
        );
    }
}

#[test]
fn golden_derived_fields() {
    let db = golden();
    let tor = db.lookup("185.220.101.1".parse().unwrap());
    assert_eq!(tor.score(), 1.0);
    assert_eq!(
        (tor.trust_score(), tor.risk_level()),
        (0, RiskLevel::Critical)
    );
    assert!(tor.is_tor_exit_node() && tor.is_anonymous());
    assert!(!tor.is_anonymous_vpn() && !tor.is_public_proxy() && !tor.is_hosting_provider());

    let aws = db.lookup("3.5.141.200".parse().unwrap());
    assert_eq!(
        (aws.trust_score(), aws.risk_level()),
        (65, RiskLevel::Medium)
    );
    assert!(aws.is_hosting_provider() && !aws.is_anonymous() && !aws.is_tor_exit_node());

    let relay = db.lookup("2606:54c0:1000::1".parse().unwrap());
    assert_eq!(
        (relay.trust_score(), relay.risk_level()),
        (90, RiskLevel::Low)
    );
    assert!(!relay.is_anonymous() && !relay.is_anonymous_vpn() && !relay.is_hosting_provider());

    let none = db.lookup("192.0.2.1".parse().unwrap());
    assert_eq!(
        (none.trust_score(), none.risk_level()),
        (100, RiskLevel::Low)
    );

    for a in [tor, aws, relay, none] {
        // MaxMind's is_anonymous: any of the anonymizer flags, nothing else.
        assert_eq!(
            a.is_anonymous(),
            a.is_anonymous_vpn()
                || a.is_public_proxy()
                || a.is_tor_exit_node()
                || a.is_residential_proxy(),
            "{}",
            a.ip()
        );
        assert!(!a.is_residential_proxy());
        assert_eq!(
            u32::from(a.trust_score()),
            100 - (a.score() * 100.0).round() as u32
        );
    }
}
