//! `ipsieve eval` on the vendored snapshot: labels made from addresses of the vendored lists
//! (some labelled right, some deliberately wrong), counts checked against a count of our own
//! from library lookups, and bad label lines reported with their line numbers.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use ipnet::IpNet;
use ipsieve::{Categories, Database};

use crate::cli::{bin, built};

fn snapshot_file(rel: &str) -> Box<dyn BufRead> {
    let path = ipsieve_testkit::snapshot_manifest()
        .parent()
        .unwrap()
        .join(rel);
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let r: Box<dyn Read> = if rel.ends_with(".gz") {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    Box::new(BufReader::new(r))
}

/// The first `n` addresses of a vendored list: `ExitAddress` lines of the Tor exit list, or
/// one address inside each of the first networks of an address/CIDR list.
fn first_addresses(rel: &str, n: usize) -> Vec<IpAddr> {
    snapshot_file(rel)
        .lines()
        .map(Result::unwrap)
        .filter_map(|l| {
            let t = l.trim();
            let t = t.strip_prefix("ExitAddress ").unwrap_or(t);
            let field = t.split_whitespace().next()?;
            if let Ok(ip) = field.parse::<IpAddr>() {
                return Some(ip);
            }
            // One address past the network address, still inside the network.
            let net = field.parse::<IpNet>().ok()?;
            net.hosts().nth(1).or_else(|| net.hosts().next())
        })
        .take(n)
        .collect()
}

/// A labels file from the vendored lists, with rows that are right and rows that are wrong.
fn labels() -> Vec<(IpAddr, &'static str)> {
    let mut rows = Vec::new();
    let mut add = |ips: Vec<IpAddr>, expected: &'static str| {
        assert!(!ips.is_empty(), "no addresses for {expected}");
        rows.extend(ips.into_iter().map(|ip| (ip, expected)));
    };
    add(first_addresses("tor/exit-addresses.gz", 6), "tor_exit");
    add(first_addresses("tor/exit-addresses.gz", 2), "tor_relay"); // wrong: exits
    add(first_addresses("vpn/ivpn.txt", 5), "vpn");
    add(first_addresses("vpn/windscribe.txt", 3), "hosting"); // VPN servers, labelled hosting
    add(
        first_addresses("relay/icloud-private-relay-ipv4.txt.gz", 4),
        "relay",
    );
    add(
        first_addresses("relay/icloud-private-relay-ipv6.txt.gz", 3),
        "vpn",
    ); // wrong: relays
       // Documentation space: no source covers it.
    add(
        vec!["192.0.2.1".parse().unwrap(), "2001:db8::1".parse().unwrap()],
        "none",
    );
    add(first_addresses("vpn/ovpn.txt", 2), "clean"); // wrong: VPN servers
    rows
}

fn write_labels(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

fn tmp() -> PathBuf {
    std::env::temp_dir().join(format!("ipsieve-eval-{}", std::process::id()))
}

fn eval(db: &Path, args: &[&str]) -> (bool, String, String) {
    crate::cli::run_on_db("eval", db, args)
}

/// Our own count, row by row from library lookups: per category (tp, fn, fp, tn), per
/// expected name (labels, answers holding each category, answers holding none, verdicts).
struct Expectation {
    per_category: HashMap<&'static str, [u64; 4]>,
    holds: HashMap<(&'static str, &'static str), u64>,
    no_category: HashMap<&'static str, u64>,
    verdicts: HashMap<(&'static str, &'static str), u64>,
    labels: HashMap<&'static str, u64>,
}

fn expectation(db: &Database, rows: &[(IpAddr, &'static str)]) -> Expectation {
    let mut e = Expectation {
        per_category: HashMap::new(),
        holds: HashMap::new(),
        no_category: HashMap::new(),
        verdicts: HashMap::new(),
        labels: HashMap::new(),
    };
    for (ip, expected) in rows {
        // `clean` is an alias of `none`.
        let expected: &'static str = if *expected == "clean" {
            "none"
        } else {
            expected
        };
        let a = db.lookup(*ip);
        let names: Vec<&str> = a.categories().names().collect();
        *e.labels.entry(expected).or_default() += 1;
        *e.verdicts
            .entry((expected, a.verdict().as_str()))
            .or_default() += 1;
        if names.is_empty() {
            *e.no_category.entry(expected).or_default() += 1;
        }
        for (_, c) in Categories::NAMED {
            let held = names.contains(&c);
            if held {
                *e.holds.entry((expected, c)).or_default() += 1;
            }
            let slot = match (expected == c, held) {
                (true, true) => 0,   // tp
                (true, false) => 1,  // fn
                (false, true) => 2,  // fp
                (false, false) => 3, // tn
            };
            e.per_category.entry(c).or_default()[slot] += 1;
        }
    }
    e
}

#[test]
fn eval_json_counts_match_library_lookups() {
    let db_path = built();
    let db = Database::open(&db_path).unwrap();
    let rows = labels();
    let mut text = String::from("ip,expected_category\n");
    for (ip, x) in &rows {
        text.push_str(&format!("{ip},{x}\n"));
    }
    let file = write_labels(&tmp(), "labels.csv", &text);
    let (ok, stdout, stderr) = eval(&db_path, &["--json", file.to_str().unwrap()]);
    assert!(ok, "{stderr}");
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let want = expectation(&db, &rows);

    assert_eq!(j["labels"], rows.len() as u64);
    assert_eq!(j["bad_lines"], 0);
    let cats = j["categories"].as_array().unwrap();
    assert_eq!(cats.len(), Categories::NAMED.len());
    for c in cats {
        let name = c["category"].as_str().unwrap();
        let [tp, fn_, fp, tn] = want.per_category[name];
        let got = [&c["tp"], &c["fn"], &c["fp"], &c["tn"]].map(|v| v.as_u64().unwrap());
        assert_eq!(got, [tp, fn_, fp, tn], "{name}");
        match tp + fn_ {
            0 => assert!(c["tpr"].is_null(), "{name}"),
            d => assert!((c["tpr"].as_f64().unwrap() - tp as f64 / d as f64).abs() < 1e-9),
        }
        assert!((c["fpr"].as_f64().unwrap() - fp as f64 / (fp + tn) as f64).abs() < 1e-9);
    }
    // The labels hold right and wrong rows on purpose: the counts are not all one kind.
    let sum = |i: usize| want.per_category.values().map(|v| v[i]).sum::<u64>();
    assert!(
        sum(0) > 0 && sum(1) > 0 && sum(2) > 0,
        "{:?}",
        want.per_category
    );

    for row in j["expected"].as_array().unwrap() {
        let x = row["expected"].as_str().unwrap();
        let labels = want.labels.get(x).copied().unwrap_or(0);
        assert_eq!(row["labels"], labels, "{x}");
        for (_, c) in Categories::NAMED {
            assert_eq!(
                row["holds"][c],
                want.holds.get(&(x, c)).copied().unwrap_or(0),
                "{x} holding {c}"
            );
        }
        assert_eq!(
            row["holds"]["no_category"],
            want.no_category.get(x).copied().unwrap_or(0),
            "{x}"
        );
        let mut verdicts = 0;
        for v in ["clean", "suspicious", "vpn_likely", "vpn_detected"] {
            let n = want.verdicts.get(&(x, v)).copied().unwrap_or(0);
            assert_eq!(row["verdicts"][v], n, "{x} {v}");
            verdicts += n;
        }
        assert_eq!(verdicts, labels);
        let sets: u64 = row["sets"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(sets, labels, "{x}: every answer is in exactly one set");
    }
}

#[test]
fn eval_text_prints_the_same_counts() {
    let db_path = built();
    let db = Database::open(&db_path).unwrap();
    let rows = labels();
    // No header this time, and read from standard input.
    let text: String = rows.iter().map(|(ip, x)| format!("{ip},{x}\n")).collect();
    let mut child = bin()
        .args(["eval", "--db"])
        .arg(&db_path)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.starts_with(&format!("{} labels from -\n", rows.len())),
        "{stdout}"
    );
    let want = expectation(&db, &rows);
    for (_, c) in Categories::NAMED {
        let line = stdout
            .lines()
            .find(|l| l.split_whitespace().next() == Some(c))
            .unwrap_or_else(|| panic!("no row for {c}:\n{stdout}"));
        let counts: Vec<u64> = line
            .split_whitespace()
            .skip(1)
            .take(4)
            .map(|f| f.parse().unwrap())
            .collect();
        assert_eq!(counts, want.per_category[c], "{line}");
    }
    for section in [
        "confusion:",
        "verdicts by expected category:",
        "answered category sets",
    ] {
        assert!(stdout.contains(section), "{section}:\n{stdout}");
    }
}

#[test]
fn eval_reports_bad_lines_by_number_and_counts_the_rest() {
    let db_path = built();
    let db = Database::open(&db_path).unwrap();
    let exits = first_addresses("tor/exit-addresses.gz", 3);
    let text = format!(
        "ip,expected_category\n\
         {},tor_exit\n\
         not-an-address,vpn\n\
         \n\
         {},tor_exitt\n\
         # a comment\n\
         {},tor_exit\n\
         198.51.100.0/24,none\n\
         192.0.2.1,none,extra\n\
         {},tor_exit\n",
        exits[0], exits[1], exits[1], exits[2]
    );
    let file = write_labels(&tmp(), "bad.csv", &text);
    let (ok, stdout, stderr) = eval(&db_path, &["--json", file.to_str().unwrap()]);
    assert!(!ok, "bad lines must fail the run");
    let name = file.display().to_string();
    for want in [
        format!("{name}: line 3: 'not-an-address' is not an IPv4 or IPv6 address"),
        format!("{name}: line 5: unknown category 'tor_exitt'"),
        format!("{name}: line 8: '198.51.100.0/24' is not an IPv4 or IPv6 address"),
        format!("{name}: line 9: expected two fields `ip,expected_category`, found 3"),
    ] {
        assert!(stderr.contains(&want), "{want}\n---\n{stderr}");
    }
    assert_eq!(stderr.lines().count(), 4, "{stderr}");
    let j: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(j["bad_lines"], 4);
    assert_eq!(j["labels"], 3, "lines 2, 7 and 10 still count");
    let tor = &j["categories"][0];
    assert_eq!(tor["category"], "tor_exit");
    let found = [exits[0], exits[1], exits[2]]
        .iter()
        .filter(|ip| db.lookup(**ip).categories().contains(Categories::TOR_EXIT))
        .count() as u64;
    assert_eq!(tor["tp"], found);
    assert_eq!(tor["fn"], 3 - found);

    let (ok, stdout, _) = eval(&db_path, &[file.to_str().unwrap()]);
    assert!(!ok);
    assert!(
        stdout.starts_with(&format!("3 labels from {name}; 4 bad lines skipped\n")),
        "{stdout}"
    );
}

#[test]
fn eval_refuses_a_file_without_labels() {
    let db_path = built();
    let file = write_labels(&tmp(), "empty.csv", "ip,expected_category\n# nothing\n");
    let (ok, stdout, stderr) = eval(&db_path, &[file.to_str().unwrap()]);
    assert!(!ok);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("has no label rows"), "{stderr}");
}
