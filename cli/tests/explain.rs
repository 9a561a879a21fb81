//! `ipsieve explain` and the intelligence fields of `ipsieve lookup --json`, on the vendored
//! snapshot: every matching source is printed with what the manifest and the rules say about
//! it, and the explanation adds up to the stored score.

use std::collections::HashMap;
use std::path::Path;

use ipsieve::classify::BASE_WEIGHTS;
use ipsieve::Database;
use ipsieve_builder::manifest::Manifest;

use crate::cli::{bin, built};

/// Addresses from the vendored lists (first lines of tor/exit-addresses.gz, vpn/ivpn.txt,
/// relay/icloud-private-relay-ipv4, the AWS ranges), plus documentation space.
const PROBES: [&str; 6] = [
    "185.220.101.1",
    "37.19.206.105",
    "3.5.140.9",
    "172.224.226.1",
    "2606:54c0:1000::1",
    "192.0.2.1",
];

/// Source name → (format, tier, snapshot) as the vendored manifest declares them.
fn declared() -> HashMap<String, (String, String, String)> {
    let m = Manifest::load(&ipsieve_testkit::snapshot_manifest()).unwrap();
    m.sources
        .iter()
        .map(|s| {
            (
                s.name.clone(),
                (
                    s.format.name.to_owned(),
                    s.tier.clone().unwrap_or_else(|| "first-party".into()),
                    s.snapshot.clone().unwrap_or_else(|| "-".into()),
                ),
            )
        })
        .collect()
}

fn run(db: &Path, args: &[&str]) -> (bool, String, String) {
    crate::cli::run_on_db("explain", db, args)
}

#[test]
fn explain_json_lists_every_source_as_declared_and_adds_up() {
    let db_path = built();
    let db = Database::open(&db_path).unwrap();
    let declared = declared();
    let (ok, stdout, stderr) = run(
        &db_path,
        &[
            "--json", PROBES[0], PROBES[1], PROBES[2], PROBES[3], PROBES[4], PROBES[5],
        ],
    );
    assert!(ok, "{stderr}");
    let lines: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), PROBES.len());
    for (ip, j) in PROBES.iter().zip(&lines) {
        let a = db.lookup(ip.parse().unwrap());
        assert_eq!(j["ip"], *ip);
        let signals = j["signals"].as_array().unwrap();
        let names: Vec<&str> = signals
            .iter()
            .map(|s| s["source"].as_str().unwrap())
            .collect();
        assert_eq!(names, a.sources().collect::<Vec<_>>(), "{ip}");
        for s in signals {
            let (format, tier, snapshot) = &declared[s["source"].as_str().unwrap()];
            assert_eq!(s["format"], *format, "{ip}: {s}");
            assert_eq!(s["tier"], *tier, "{ip}: {s}");
            assert_eq!(s["snapshot"].as_str().unwrap_or("-"), snapshot, "{ip}: {s}");
            // The categories a source asserts here are among the answer's.
            for c in s["categories"].as_array().unwrap() {
                assert!(j["categories"].as_array().unwrap().contains(c), "{ip}: {s}");
            }
        }
        // Per category the strongest signal, summed and capped: the stored score.
        let explained: u32 = BASE_WEIGHTS
            .iter()
            .map(|&(c, _)| u32::from(a.signals().map(|s| s.category_weight(c)).max().unwrap_or(0)))
            .sum();
        let score = j["score"].as_f64().unwrap();
        assert_eq!(explained.min(100), (score * 100.0).round() as u32, "{ip}");
        assert_eq!(
            j["trust_score"].as_u64().unwrap(),
            100 - (score * 100.0).round() as u64
        );
        assert_eq!(j["verdict"], a.verdict().as_str());
        assert_eq!(j["risk_level"], a.risk_level().as_str());
    }
    let [tor, vpn, aws, relay4, relay6, none] = &lines[..] else {
        unreachable!()
    };
    let strongest = |j: &serde_json::Value| {
        j["signals"]
            .as_array()
            .unwrap()
            .iter()
            .max_by(|a, b| {
                a["weight"]
                    .as_f64()
                    .partial_cmp(&b["weight"].as_f64())
                    .unwrap()
            })
            .cloned()
            .unwrap()
    };
    // A Tor exit, from the exit list: first-party, weight 1 when fresh, but the list of
    // 2024-03-12 is 460 days old at the build (2025-06-15): half, vpn_likely.
    let s = strongest(tor);
    assert_eq!(
        (
            s["source"].as_str(),
            s["weight"].as_f64(),
            s["age_days"].as_u64()
        ),
        (Some("tor-exit-addresses"), Some(0.5), Some(460))
    );
    assert_eq!(s["categories"], serde_json::json!(["tor_exit"]));
    assert_eq!(
        (tor["verdict"].as_str(), tor["is_tor_exit_node"].as_bool()),
        (Some("vpn_likely"), Some(true))
    );
    assert_eq!(tor["is_anonymous_vpn"], false);
    // A VPN's own server list.
    assert_eq!(strongest(vpn)["source"], "vpn-ivpn");
    assert_eq!(
        (
            vpn["is_anonymous_vpn"].as_bool(),
            vpn["is_anonymous"].as_bool()
        ),
        (Some(true), Some(true))
    );
    assert_eq!(vpn["verdict"], "vpn_detected");
    // A provider's hosting ranges: suspicious, not anonymous.
    assert_eq!(strongest(aws)["source"], "aws");
    assert_eq!(
        (aws["verdict"].as_str(), aws["risk_level"].as_str()),
        (Some("suspicious"), Some("medium"))
    );
    assert_eq!(
        (
            aws["is_hosting_provider"].as_bool(),
            aws["is_anonymous"].as_bool()
        ),
        (Some(true), Some(false))
    );
    // iCloud Private Relay: relay, low risk, never a VPN or anonymous.
    for r in [relay4, relay6] {
        assert_eq!(r["categories"], serde_json::json!(["relay"]));
        assert_eq!(
            (r["verdict"].as_str(), r["risk_level"].as_str()),
            (Some("clean"), Some("low"))
        );
        assert_eq!(
            (r["is_anonymous_vpn"].as_bool(), r["is_anonymous"].as_bool()),
            (Some(false), Some(false))
        );
        assert_eq!(r["tier"], "first-party");
    }
    // Nothing known.
    assert_eq!(none["signals"], serde_json::json!([]));
    assert_eq!(
        (none["trust_score"].as_u64(), none["tier"].is_null()),
        (Some(100), true)
    );
    assert_eq!(none["is_residential_proxy"], false);

    // `explain --json` prints exactly what `lookup --json` prints.
    let lookup = bin()
        .args(["lookup", "--json", "--db"])
        .arg(&db_path)
        .args(PROBES)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8(lookup.stdout).unwrap(), stdout);
}

#[test]
fn explain_text_shows_each_source_strongest_first() {
    let db_path = built();
    let db = Database::open(&db_path).unwrap();
    let declared = declared();
    let (ok, stdout, stderr) = run(&db_path, &PROBES);
    assert!(ok, "{stderr}");
    // One block per address, each starting with "<ip> in <network>".
    let mut blocks: Vec<Vec<&str>> = Vec::new();
    for line in stdout.lines() {
        if line.starts_with(' ') {
            blocks.last_mut().unwrap().push(line);
        } else {
            blocks.push(vec![line]);
        }
    }
    assert_eq!(blocks.len(), PROBES.len(), "{stdout}");
    for (ip, block) in PROBES.iter().zip(&blocks) {
        let a = db.lookup(ip.parse().unwrap());
        assert_eq!(block[0], format!("{ip} in {}", a.network()));
        // A special-purpose address says so first.
        let mut at = 1;
        if let Some(b) = a.special() {
            let named = format!(
                "  special-purpose: {} ({}, {})",
                b.name(),
                b.rfc(),
                b.network()
            );
            assert!(block[1].starts_with(&named), "{ip}: {}", block[1]);
            assert_eq!(
                block[1].contains("a bogon"),
                a.is_bogon(),
                "{ip}: {}",
                block[1]
            );
            at = 2;
        }
        let verdict = format!("  verdict {} (", a.verdict());
        let summary = format!(
            "), score {:.2} (trust {}, risk {})",
            a.score(),
            a.trust_score(),
            a.risk_level()
        );
        assert!(
            block[at].starts_with(&verdict) && block[at].contains(&summary),
            "{ip}: {}",
            block[at]
        );
        // An anonymizer verdict names the category that decided it (IPLogs' `vpn_detected`
        // stands for a Tor exit too).
        if a.is_anonymous() {
            assert!(block[at].contains("; decided by "), "{ip}: {}", block[at]);
        }
        let rows: Vec<&str> = block
            .iter()
            .skip_while(|l| l.trim() != "signals:")
            .skip(1)
            .copied()
            .collect();
        if a.sources().next().is_none() {
            assert_eq!(
                block.last().unwrap().trim(),
                "no source covers this address"
            );
            continue;
        }
        assert_eq!(rows.len(), a.sources().count(), "{ip}: {block:?}");
        let mut last = f64::INFINITY;
        for row in rows {
            let cols: Vec<&str> = row.split_whitespace().collect();
            let (format, tier, snapshot) = &declared[cols[0]];
            assert_eq!(
                (cols[1], cols[3]),
                (format.as_str(), tier.as_str()),
                "{row}"
            );
            let at = cols.iter().position(|&c| c == "weight").unwrap();
            let weight: f64 = cols[at + 1].parse().unwrap();
            assert!(weight <= last, "{ip}: not strongest first: {row}");
            last = weight;
            let sig = a.signals().find(|s| s.name() == cols[0]).unwrap();
            assert_eq!(cols[at + 1], format!("{:.2}", sig.weight()));
            assert_eq!(cols[at + 3], snapshot, "{row}");
            // Each dated signal's age counts to the artifact's data day: here the build day
            // (2025-06-15), earlier than the newest snapshots (2026-08-22), whose age is 0.
            if let Some(age) = sig.age_days() {
                assert_eq!(db.data_day(), 20_254);
                let ends = format!("({age} days old on 2025-06-15)");
                assert!(row.trim_end().ends_with(&ends), "{row}");
            }
            let cats = sig.categories().to_string();
            assert_eq!(cols[2], if cats.is_empty() { "-" } else { &cats }, "{row}");
        }
    }
}

#[test]
fn explain_reports_bad_addresses_and_answers_the_rest() {
    let db_path = built();
    let (ok, stdout, stderr) = run(&db_path, &["nonsense", "185.220.101.1"]);
    assert!(!ok);
    assert!(
        stderr.contains("'nonsense' is not an IPv4 or IPv6 address"),
        "{stderr}"
    );
    assert!(stdout.starts_with("185.220.101.1 in "), "{stdout}");
    assert!(stdout.contains("tor-exit-addresses"), "{stdout}");
}
