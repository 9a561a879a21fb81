//! The `ipsieve` command line, run as a user would.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ipsieve"))
}

/// Runs `ipsieve COMMAND --db DB ARGS…`: whether it succeeded, its stdout and its stderr.
pub(crate) fn run_on_db(command: &str, db: &Path, args: &[&str]) -> (bool, String, String) {
    let out = bin()
        .arg(command)
        .arg("--db")
        .arg(db)
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ipsieve-cli-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub(crate) fn built() -> PathBuf {
    let dir = tmp("db");
    let db = dir.join("snapshot.ipsieve");
    let out = bin()
        .args(["build", "--out"])
        .arg(&db)
        .arg("--sources")
        .arg(ipsieve_testkit::snapshot_manifest())
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    for want in [
        "tor-exit-addresses",
        "caida-pfx2as",
        "tor_exit",
        "artifact:",
    ] {
        assert!(report.contains(want), "report lacks {want}:\n{report}");
    }
    db
}

#[test]
fn build_then_lookup_json() {
    let db = built();
    let out = bin()
        .args(["lookup", "--json", "--db"])
        .arg(&db)
        .args(["1.1.1.1", "not-an-ip", "192.0.2.1", "::ffff:1.1.1.1"])
        .output()
        .unwrap();
    assert!(!out.status.success(), "a bad address must fail the run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("'not-an-ip' is not an IPv4 or IPv6 address"),
        "{stderr}"
    );
    let lines: Vec<serde_json::Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3, "the other addresses are still answered");
    let keys = [
        "ip",
        "network",
        "special",
        "is_bogon",
        "categories",
        "verdict",
        "score",
        "asn",
        "as_org",
        "provider",
        "country",
        "sources",
        "last_seen",
        "trust_score",
        "risk_level",
        "tier",
        "is_anonymous",
        "is_anonymous_vpn",
        "is_hosting_provider",
        "is_public_proxy",
        "is_tor_exit_node",
        "is_residential_proxy",
        "signals",
    ];
    for l in &lines {
        let obj = l.as_object().unwrap();
        let mut got: Vec<&str> = obj.keys().map(String::as_str).collect();
        let mut want = keys.to_vec();
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want);
    }
    assert_eq!(lines[0]["ip"], "1.1.1.1");
    assert_eq!(lines[0]["asn"], 13335);
    assert_eq!(lines[1]["verdict"], "clean");
    assert_eq!(lines[1]["categories"], serde_json::json!([]));
    assert_eq!(lines[1]["asn"], serde_json::Value::Null);
    assert_eq!(lines[2]["asn"], 13335, "IPv4-mapped answers like IPv4");
    // 192.0.2.1 is documentation space: named, a bogon, its network the block.
    assert_eq!(
        lines[1]["special"],
        serde_json::json!({"name": "Documentation (TEST-NET-1)", "network": "192.0.2.0/24",
            "rfc": "RFC 5737", "globally_reachable": false})
    );
    assert_eq!(lines[1]["is_bogon"], true);
    assert_eq!(lines[1]["network"], "192.0.2.0/24");
    assert_eq!(lines[0]["special"], serde_json::Value::Null);
    assert_eq!(lines[0]["is_bogon"], false);
}

#[test]
fn lookup_reads_stdin_and_verify_stats_work() {
    let db = built();
    let mut child = bin()
        .args(["lookup", "--json", "--db"])
        .arg(&db)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"# resolvers\n8.8.8.8\n\n2001:db8::1  # documentation\n   # indented\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);

    let v = bin().arg("verify").arg(&db).output().unwrap();
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stderr));
    let s = bin().arg("stats").arg(&db).output().unwrap();
    assert!(String::from_utf8_lossy(&s.stdout).contains("tor-exit-addresses"));

    // A corrupt artifact is refused with a message, not a panic.
    let bad = db.with_extension("bad");
    std::fs::write(&bad, b"<html>login</html>").unwrap();
    let o = bin()
        .args(["lookup", "--db"])
        .arg(&bad)
        .arg("1.1.1.1")
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not an ipsieve artifact"));
}

/// A VPN list with absurd and unparseable lines among real ones: the build goes on, reports
/// each bad line with source, line and reason, and the good lines still count.
#[test]
fn bad_lines_are_reported_with_source_and_line() {
    let dir = tmp("bad-lines");
    // Lines 1, 3 and 5 are the first three entries of data/snapshot/vpn/ivpn.txt.
    let list = "37.19.206.105\n0.0.0.0/0\n37.19.206.106\nnot an address\n37.19.206.111\n";
    std::fs::write(dir.join("vpn.txt"), list).unwrap();
    let manifest = "[[source]]\nname = \"vpn-test\"\nformat = \"ip-list\"\npath = \"vpn.txt\"\n\
                    categories = [\"vpn\"]\nprovider = \"IVPN\"\ntier = \"first-party\"\n";
    let db = dir.join("out.ipsieve");
    // 2 of 5 entries rejected is over the default 10 %: the build refuses, publishing nothing.
    std::fs::write(dir.join("sources.toml"), manifest).unwrap();
    let out = bin()
        .args(["build", "--quiet", "--sources"])
        .arg(dir.join("sources.toml"))
        .arg("--out")
        .arg(&db)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // One count (`SourceReport::entries_seen`): the five lines, each counted once, whether the
    // parser (line 4) or the builder (line 2, 0.0.0.0/0) refused it.
    assert!(
        stderr
            .contains("line 1: source 'vpn-test': 2 of 5 entries rejected, over max_reject_pct 10"),
        "{stderr}"
    );
    assert!(!db.exists(), "nothing may be published from a broken list");
    // With a tolerance that admits it, the rest of the list counts.
    let manifest = format!("{manifest}max_reject_pct = 50\n");
    std::fs::write(dir.join("sources.toml"), manifest).unwrap();
    let report = dir.join("report.json");
    let out = bin()
        .args(["build", "--quiet", "--sources"])
        .arg(dir.join("sources.toml"))
        .arg("--out")
        .arg(&db)
        .arg("--report-json")
        .arg(&report)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let src = &json["sources"][0];
    assert_eq!(src["read"], 4, "{src}");
    assert_eq!(src["rejected"], 2, "{src}");
    let errors: Vec<&str> = src["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e.as_str().unwrap())
        .collect();
    assert!(
        errors[0].starts_with("vpn-test: line 2: ") && errors[0].contains("wider than a /16"),
        "{errors:?}"
    );
    assert!(errors[1].starts_with("vpn-test: line 4: "), "{errors:?}");
    let answers = bin()
        .args(["lookup", "--db"])
        .arg(&db)
        .args(["37.19.206.106", "8.8.8.8"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&answers.stdout);
    assert!(text.lines().next().unwrap().contains("\tvpn\t"), "{text}");
    assert!(text.lines().nth(1).unwrap().contains("\t-\t"), "{text}");
}

/// On a terminal `lookup` prints a header and aligned columns (checked under a pseudo-terminal
/// made by util-linux `script`); piped it prints plain tab-separated lines, with a header line
/// only when `--header` is given (issue 17 item 4).
#[test]
fn lookup_aligns_a_table_on_a_terminal_and_stays_tsv_when_piped() {
    let db = built();
    let ips = ["185.241.208.232", "104.28.28.1", "10.0.0.1", "2606:54c0::1"];
    let columns = [
        "address",
        "network",
        "categories",
        "score",
        "verdict",
        "asn",
        "as_org",
        "provider",
        "country",
        "sources",
        "special",
    ];

    // Piped: no header unless asked for, tabs between fields.
    let piped = |extra: &[&str]| {
        let out = bin()
            .args(["lookup", "--db"])
            .arg(&db)
            .args(extra)
            .args(ips)
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = piped(&[]);
    assert_eq!(plain.lines().count(), ips.len(), "{plain}");
    assert!(plain
        .lines()
        .all(|l| l.split('\t').count() == columns.len()));
    let with_header = piped(&["--header"]);
    assert_eq!(
        with_header.lines().next(),
        Some(columns.join("\t").as_str())
    );
    assert_eq!(
        with_header.lines().skip(1).collect::<Vec<_>>(),
        plain.lines().collect::<Vec<_>>()
    );

    // On a terminal.
    let command = format!(
        "{} lookup --db {} {}",
        env!("CARGO_BIN_EXE_ipsieve"),
        db.display(),
        ips.join(" ")
    );
    let Ok(out) = Command::new("script")
        .args(["-q", "-e", "-c", &command, "/dev/null"])
        .output()
    else {
        ipsieve_testkit::skip(
            "lookup_aligns_a_table_on_a_terminal_and_stays_tsv_when_piped (terminal part)",
            "util-linux `script` (to make a pseudo-terminal) is not installed",
        );
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap().replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), ips.len() + 1, "{text}");
    assert!(!text.contains('\t'), "{text}");
    // Each column starts where its header does, in every row: cut at the header's column
    // starts, a row gives exactly the TSV fields (a provider like "Tor Project" has spaces).
    let starts: Vec<usize> = columns.iter().map(|c| lines[0].find(c).unwrap()).collect();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), columns);
    let tsv: Vec<Vec<&str>> = plain.lines().map(|l| l.split('\t').collect()).collect();
    for (line, cells) in lines[1..].iter().zip(&tsv) {
        let cut: Vec<&str> = (0..columns.len())
            .map(|i| {
                let end = starts
                    .get(i + 1)
                    .copied()
                    .unwrap_or(line.len())
                    .min(line.len());
                assert!(i == 0 || line.as_bytes()[starts[i] - 1] == b' ', "{line}");
                line[starts[i]..end].trim_end()
            })
            .collect();
        assert_eq!(cut, *cells, "{line}");
    }
}

/// `ipsieve build` shows progress (a bar over the sources, then a spinner per phase) on a
/// terminal, and nothing on standard error when piped or with `--quiet` (issue 17 item 8).
#[test]
fn build_progress_shows_on_a_terminal_only() {
    let dir = std::env::temp_dir().join(format!("ipsieve-cli-progress-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let out = dir.join("db");
    let piped = bin().args(["build", "--out"]).arg(&out).output().unwrap();
    assert!(piped.status.success());
    assert!(
        piped.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&piped.stderr)
    );
    let command = format!(
        "{} build --out {}",
        env!("CARGO_BIN_EXE_ipsieve"),
        out.display()
    );
    for (extra, shown) in [("", true), (" --quiet", false)] {
        let Ok(tty) = Command::new("script")
            .args(["-q", "-e", "-c", &format!("{command}{extra}"), "/dev/null"])
            .output()
        else {
            ipsieve_testkit::skip(
                "build_progress_shows_on_a_terminal_only",
                "util-linux `script` (to make a pseudo-terminal) is not installed",
            );
            return;
        };
        assert!(tty.status.success());
        let text = String::from_utf8_lossy(&tty.stdout);
        assert_eq!(text.contains("reading sources ["), shown, "{text}");
        assert_eq!(text.contains(" tor-exit-addresses"), shown, "{text}");
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
