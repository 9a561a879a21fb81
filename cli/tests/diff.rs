//! `ipsieve diff` on the vendored snapshot against a variant of it (testkit's diff fixture):
//! the `--max-shrink` exit codes name exactly the offenders the reference names, and the text
//! and JSON carry the library's numbers. The counts themselves are checked against the source
//! files in `builder/tests/diff.rs`.

use std::collections::BTreeSet;

use ipsieve_builder::diff::KeyKind;

use ipsieve_testkit::diff::{
    amount, minus, pair, reference_shrink, references, sets, the_diff, DROPPED, HALVED,
};

use crate::cli::bin;

fn run_diff(args: &[&str]) -> std::process::Output {
    let p = pair();
    bin()
        .arg("diff")
        .arg(&p.old_file)
        .arg(&p.new_file)
        .args(args)
        .output()
        .unwrap()
}

/// The (kind, name, family) each failing run names on standard error.
fn named(stderr: &str) -> BTreeSet<String> {
    stderr
        .lines()
        .filter(|l| l.contains(" lost "))
        .map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            let family = w.iter().position(|x| *x == "its").map(|i| w[i + 1]);
            format!("{} {} {}", w[1], w[2], family.unwrap())
        })
        .collect()
}

/// What the reference says must be named at threshold `pct`.
fn expected(pct: f64) -> BTreeSet<String> {
    let [old_ref, _] = references();
    let mut out = BTreeSet::new();
    for (kind, name) in old_ref.keys() {
        if !matches!(kind, KeyKind::Category | KeyKind::Source) {
            continue;
        }
        for (fi, family) in ["IPv4", "IPv6"].into_iter().enumerate() {
            if reference_shrink(*kind, name, fi) > pct {
                out.insert(format!("{} {name} {family}", kind.as_str()));
            }
        }
    }
    out
}

#[test]
fn max_shrink_fails_the_run_naming_each_offender() {
    let halved = reference_shrink(KeyKind::Source, HALVED, 0);
    assert!(halved > 0.0 && halved < 100.0, "{halved}");
    // Every threshold up to the halved source's shrink names at least it; past it, only the
    // dropped source (and any category it emptied that much) remains; at 100 nothing fails.
    for pct in [0.0, halved / 2.0, (halved + 100.0) / 2.0] {
        let out = run_diff(&["--max-shrink", &pct.to_string()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "--max-shrink {pct}: {stderr}");
        let want = expected(pct);
        assert!(want.contains(&format!("source {DROPPED} IPv4")), "{want:?}");
        assert_eq!(named(&stderr), want, "--max-shrink {pct}: {stderr}");
        assert!(stderr.contains("keep the old one"), "{stderr}");
    }
    assert!(expected(halved / 2.0).contains(&format!("source {HALVED} IPv4")));
    assert!(!expected((halved + 100.0) / 2.0).contains(&format!("source {HALVED} IPv4")));

    let out = run_diff(&["--max-shrink", "100"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("shrink guard: no category or source lost more than 100%"));
    // The other way round nothing shrank, it only grew.
    let p = pair();
    let out = bin()
        .arg("diff")
        .arg(&p.new_file)
        .arg(&p.old_file)
        .args(["--max-shrink", "0"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Without the guard a shrink is reported, not failed.
    assert!(run_diff(&[]).status.success());
    let bad = run_diff(&["--max-shrink", "150"]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("not a percentage"));
}

#[test]
fn text_names_every_change() {
    let out = run_diff(&["--top", "5"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let d = the_diff();
    let dropped = d.key(KeyKind::Source, DROPPED).unwrap();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(DROPPED))
        .unwrap_or_else(|| panic!("no line for {DROPPED}:\n{text}"));
    assert!(
        line.contains(&format!(
            "addresses {} → 0 (+0, -{})",
            dropped.v4.old.addresses, dropped.v4.removed.addresses
        )),
        "{line}"
    );
    let top = text
        .split("largest changes, IPv4 (top 5):\n")
        .nth(1)
        .unwrap()
        .lines()
        .take_while(|l| l.starts_with("  "))
        .collect::<Vec<_>>();
    assert_eq!(top.len(), 5, "{text}");
    assert!(
        top[0].starts_with(&format!("  {}", d.largest_v4[0].net)),
        "{}",
        top[0]
    );
    // A one-line verdict under the header, with the library's numbers; names whose coverage
    // did not change are listed once per section, not a line each.
    let any = d.key(KeyKind::Any, "any").unwrap();
    let changed = d.keys.iter().filter(|k| !k.is_unchanged()).count();
    let verdict = format!(
        "verdict: changed: categorised addresses IPv4 +{} -{}, IPv6 +{} -{}; {changed} of {} \
         categories, providers and sources changed",
        any.v4.added.addresses,
        any.v4.removed.addresses,
        any.v6.added.addresses,
        any.v6.removed.addresses,
        d.keys.len()
    );
    assert_eq!(text.lines().nth(2), Some(verdict.as_str()), "{text}");
    let unchanged: Vec<&str> = d
        .keys
        .iter()
        .filter(|k| k.is_unchanged())
        .map(|k| k.name.as_str())
        .collect();
    for name in unchanged {
        assert!(
            !text.lines().any(|l| l.trim_start().starts_with(name)),
            "{name} has a line of its own:\n{text}"
        );
    }
    assert!(text.contains("  unchanged: "), "{text}");
}

#[test]
fn an_unchanged_artifact_is_one_verdict_line() {
    let p = pair();
    let out = bin()
        .arg("diff")
        .arg(&p.old_file)
        .arg(&p.old_file)
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    let d = the_diff();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    assert!(lines[0].starts_with("old: ") && lines[1].starts_with("new: "));
    assert!(
        lines[2].starts_with("verdict: unchanged: no address changed its answer ("),
        "{text}"
    );
    assert!(d.keys.len() > 10, "the fixture compares many names");
}

#[test]
fn json_carries_the_numbers() {
    let out = run_diff(&["--json", "--max-shrink", "0"]);
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let d = the_diff();
    let find = |list: &str, name: &str| -> serde_json::Value {
        v[list]
            .as_array()
            .unwrap()
            .iter()
            .find(|k| k["name"] == name)
            .unwrap_or_else(|| panic!("{list} {name}"))
            .clone()
    };
    for (list, kind) in [
        ("categories", KeyKind::Category),
        ("sources", KeyKind::Source),
        ("providers", KeyKind::Provider),
    ] {
        assert_eq!(
            v[list].as_array().unwrap().len(),
            d.of_kind(kind).count(),
            "{list}"
        );
        for k in d.of_kind(kind) {
            let j = find(list, &k.name);
            assert_eq!(j["ipv4"]["old_addresses"], k.v4.old.addresses as u64);
            assert_eq!(j["ipv4"]["removed_ranges"], k.v4.removed.ranges);
            assert_eq!(j["ipv4"]["added_addresses"], k.v4.added.addresses as u64);
            assert_eq!(j["ipv6"]["old_addresses"], k.v6.old.addresses.to_string());
            assert_eq!(
                j["ipv6"]["removed_addresses"],
                k.v6.removed.addresses.to_string()
            );
        }
    }
    let (old, new) = sets(KeyKind::Source, DROPPED, 1);
    assert_eq!(
        find("sources", DROPPED)["ipv6"]["removed_addresses"],
        amount(&minus(&old, &new)).addresses.to_string()
    );
    assert_eq!(v["largest"]["ipv4"].as_array().unwrap().len(), 20);
    assert_eq!(
        v["largest"]["ipv4"][0]["net"],
        d.largest_v4[0].net.to_string()
    );
    let shrinks: BTreeSet<String> = v["shrinks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let family = if s["family"] == "ipv4" {
                "IPv4"
            } else {
                "IPv6"
            };
            format!(
                "{} {} {family}",
                s["kind"].as_str().unwrap(),
                s["name"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(shrinks, expected(0.0));
    assert_eq!(v["old"]["build_time"], 1_750_000_000);
    assert!(v["old"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == DROPPED));
    assert!(!v["new"]["sources"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == DROPPED));
}
