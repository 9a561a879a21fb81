//! Evidence with a date: each answer's `last_seen` day, and the Tor relay rule (newer
//! first-party evidence that an address is a relay and not an exit outweighs older exit
//! claims; `docs/INTELLIGENCE.md`, "Newer evidence"), on real excerpts of an exit list and a
//! consensus two months apart (`fixtures/tor-relay-rule/README.md`).

use ipsieve::{Categories, Database};
use ipsieve_builder::manifest::{day_number, Manifest};
use ipsieve_builder::{load, Builder};

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/tor-relay-rule");
/// Exits on 2024-03-12 that the consensus of 2024-05-17 lists without the Exit flag.
const NO_LONGER_EXITS: [&str; 2] = ["185.220.101.129", "198.98.48.192"];
/// An exit on both days.
const STILL_AN_EXIT: &str = "5.196.8.113";

fn day(date: &str) -> u32 {
    day_number(date).unwrap()
}

/// Builds the exit list (dated `exits`, or undated) and, when `consensus` is given, the
/// consensus excerpt dated that day.
fn build(exits: Option<&str>, consensus: Option<&str>) -> Database {
    let mut text = format!(
        "[[source]]\nname = \"tor-exit-addresses\"\nformat = \"tor-exit-list\"\n\
         path = \"{DIR}/exit-addresses-2024-03-12-excerpt\"\ncategories = [\"tor_exit\"]\n\
         tier = \"first-party\"\n"
    );
    if let Some(d) = exits {
        text += &format!("snapshot = \"{d}\"\n");
    }
    if let Some(d) = consensus {
        text += &format!(
            "\n[[source]]\nname = \"tor-consensus\"\nformat = \"tor-consensus\"\n\
             path = \"{DIR}/consensus-microdesc-2024-05-17-excerpt\"\ntier = \"first-party\"\n\
             snapshot = \"{d}\"\n"
        );
    }
    let m = Manifest::parse(&text).unwrap();
    let mut b = Builder::new().build_time(1_796_601_000);
    load::load_manifest(&m, &mut b, |_| {}).unwrap();
    Database::from_bytes(&b.compile().unwrap().bytes).unwrap()
}

fn categories(db: &Database, ip: &str) -> Categories {
    db.lookup(ip.parse().unwrap()).categories()
}

#[test]
fn a_newer_consensus_without_the_exit_flag_makes_an_old_exit_a_relay() {
    let db = build(Some("2024-03-12"), Some("2024-05-17"));
    db.verify().unwrap();
    for ip in NO_LONGER_EXITS {
        assert_eq!(categories(&db, ip), Categories::TOR_RELAY, "{ip}");
        let a = db.lookup(ip.parse().unwrap());
        assert!(
            !a.is_tor_exit() && a.is_tor_relay() && !a.is_anonymous(),
            "{ip}"
        );
        // The exit list still matched, and says so, but its claim counts for nothing.
        let signals: Vec<_> = a.signals().map(|s| (s.name(), s.categories())).collect();
        assert_eq!(
            signals,
            [
                ("tor-consensus", Categories::TOR_RELAY),
                ("tor-exit-addresses", Categories::empty())
            ],
            "{ip}"
        );
        assert_eq!(a.last_seen_day(), Some(day("2024-05-17")), "{ip}");
    }
    let exit = db.lookup(STILL_AN_EXIT.parse().unwrap());
    assert_eq!(exit.categories(), Categories::TOR_EXIT);
    assert_eq!(exit.last_seen_day(), Some(day("2024-05-17")));
}

#[test]
fn older_or_same_day_relay_evidence_and_undated_exit_lists_change_nothing() {
    // The consensus dated before the exit list, or on its day: the exit claim stands.
    for consensus in ["2024-03-01", "2024-03-12"] {
        let db = build(Some("2024-03-12"), Some(consensus));
        for ip in NO_LONGER_EXITS {
            assert_eq!(
                categories(&db, ip),
                Categories::TOR_EXIT | Categories::TOR_RELAY,
                "{ip}, consensus of {consensus}"
            );
            assert_eq!(
                db.lookup(ip.parse().unwrap()).last_seen_day(),
                Some(day(consensus).max(day("2024-03-12")))
            );
        }
    }
    // An exit list without a date cannot be shown to be older.
    let db = build(None, Some("2024-05-17"));
    for ip in NO_LONGER_EXITS {
        assert!(categories(&db, ip).contains(Categories::TOR_EXIT), "{ip}");
    }
    // Alone, the exit list is the evidence, and its day is the last seen.
    let db = build(Some("2024-03-12"), None);
    for ip in NO_LONGER_EXITS.into_iter().chain([STILL_AN_EXIT]) {
        let a = db.lookup(ip.parse().unwrap());
        assert_eq!(a.categories(), Categories::TOR_EXIT, "{ip}");
        assert_eq!(a.last_seen_day(), Some(day("2024-03-12")));
    }
    assert_eq!(
        db.lookup("192.0.2.1".parse().unwrap()).last_seen_day(),
        None,
        "no category, no day"
    );
}
