//! `scripts/nightly.sh` end to end, offline, on a copy of the vendored snapshot: a first run
//! publishes, an unchanged rerun leaves the artifact alone, and a source cut to a tenth of its
//! lines trips the shrink guard, which must leave everything published byte-identical.
#![cfg(unix)]

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Command, Output};

use ipsieve::Database;
use ipsieve_builder::manifest::Manifest;

/// The source the third run cuts to a tenth of its lines (plain text in the snapshot).
const SHRUNK: &str = "vpn-windscribe";

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Runs the script offline with the test-built binary and a fixed build time.
fn nightly(manifest: &Path, dir: &Path) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/nightly.sh");
    Command::new("bash")
        .arg(script)
        .arg("--offline")
        .arg("--sources")
        .arg(manifest)
        .arg("--cache")
        .arg(dir.join("cache"))
        .arg("--publish")
        .arg(dir.join("publish"))
        .args(["--max-shrink", "20"])
        .arg("--ipsieve")
        .arg(env!("CARGO_BIN_EXE_ipsieve"))
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .output()
        .unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Everything in the publish directory but the lock file, by name.
fn published(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_name() != ".nightly.lock")
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read(e.path()).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn nightly_publishes_then_guards_against_a_shrunken_source() {
    let dir = std::env::temp_dir().join(format!("ipsieve-pipeline-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let snapshot = dir.join("snapshot");
    let vendored = ipsieve_testkit::snapshot_manifest();
    copy_dir(vendored.parent().unwrap(), &snapshot);
    let manifest_path = snapshot.join("sources.toml");
    let manifest = Manifest::load(&manifest_path).unwrap();
    let publish = dir.join("publish");
    let artifact = publish.join("ipsieve.db");

    // First run: nothing published yet, so no guard; all three files appear.
    let first = nightly(&manifest_path, &dir);
    assert!(first.status.success(), "{}", text(&first));
    let names: Vec<_> = published(&publish).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        ["ATTRIBUTION", "ipsieve.db", "report.json"],
        "staging left behind or a file missing:\n{}",
        text(&first)
    );
    Database::open(&artifact).unwrap().verify().unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(publish.join("report.json")).unwrap()).unwrap();
    assert!(report.is_object(), "{report}");

    // Every source, with its licence, URL and snapshot date, under its own name.
    let attribution = std::fs::read_to_string(publish.join("ATTRIBUTION")).unwrap();
    for s in &manifest.sources {
        let block = attribution
            .split("\n\n")
            .find(|b| b.lines().next() == Some(s.name.as_str()))
            .unwrap_or_else(|| panic!("ATTRIBUTION lacks {}:\n{attribution}", s.name));
        for (field, want) in [
            ("licence", s.licence.as_deref()),
            ("url", s.url.as_deref()),
            ("snapshot", s.snapshot.as_deref()),
        ] {
            let want = want.unwrap_or_else(|| panic!("{} has no {field}", s.name));
            assert!(
                block.lines().any(|l| l == format!("  {field}: {want}")),
                "{}: no {field} {want:?} in\n{block}",
                s.name
            );
        }
    }
    let before = published(&publish);
    let inode = std::fs::metadata(&artifact).unwrap().ino();

    // Second run, same inputs and build time: the same bytes, so nothing is replaced.
    let second = nightly(&manifest_path, &dir);
    assert!(second.status.success(), "{}", text(&second));
    assert!(
        String::from_utf8_lossy(&second.stdout).contains("unchanged"),
        "{}",
        text(&second)
    );
    assert!(published(&publish) == before, "{}", text(&second));

    // Third run: one upstream list shrank to a tenth. The guard names it and nothing moves.
    let entry = manifest.sources.iter().find(|s| s.name == SHRUNK).unwrap();
    let list = snapshot.join(entry.path.as_ref().unwrap());
    let lines: Vec<String> = std::fs::read_to_string(&list)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    assert!(lines.len() >= 100, "{SHRUNK} is too short to shrink");
    std::fs::write(&list, lines[..lines.len() / 10].join("\n") + "\n").unwrap();
    let third = nightly(&manifest_path, &dir);
    assert_eq!(third.status.code(), Some(3), "{}", text(&third));
    let stderr = String::from_utf8_lossy(&third.stderr);
    assert!(
        stderr.contains(&format!("source {SHRUNK} lost")) && stderr.contains("NOT PUBLISHED"),
        "{}",
        text(&third)
    );
    assert!(
        published(&publish) == before,
        "the guard let something through:\n{}",
        text(&third)
    );
    // Not even replaced by an identical copy: the file services map is the same one.
    assert_eq!(std::fs::metadata(&artifact).unwrap().ino(), inode);

    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the script against the network (the local server here), with the test-built binary
/// and a fixed build time.
#[cfg(feature = "fetch")]
fn nightly_online(manifest: &Path, dir: &Path) -> Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/nightly.sh");
    Command::new("bash")
        .arg(script)
        .arg("--sources")
        .arg(manifest)
        .arg("--cache")
        .arg(dir.join("cache"))
        .arg("--publish")
        .arg(dir.join("publish"))
        .args(["--max-shrink", "20"])
        .arg("--ipsieve")
        .arg(env!("CARGO_BIN_EXE_ipsieve"))
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .output()
        .unwrap()
}

/// The whole nightly pipeline, fetching from a server on 127.0.0.1, run three times: the first
/// run publishes CAIDA's newest file as its creation log names it; then upstream publishes the
/// next day's file (a new line in the log) and the second run publishes an artifact whose
/// snapshot for that source is the newer date (in the artifact, `ipsieve stats`, ATTRIBUTION
/// and report.json); a third run with nothing new downloads nothing for it and keeps that date.
#[cfg(feature = "fetch")]
#[test]
fn nightly_publishes_the_newer_file_when_upstream_moves_forward() {
    use ipsieve_testkit::http::{Reply, Server};
    use ipsieve_testkit::real;

    let server = Server::start();
    let dir = std::env::temp_dir().join(format!("ipsieve-pipeline-online-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let publish = dir.join("publish");
    let artifact = publish.join("ipsieve.db");

    let log = String::from_utf8(real("builder/tests/fixtures/dated/pfx2as-creation.log")).unwrap();
    let (older_log, newest_line) = log.trim_end().rsplit_once('\n').unwrap();
    assert!(newest_line.ends_with("2017/07/routeviews-rv2-20170715-1200.pfx2as.gz"));
    let table = real("data/snapshot/bgp/routeviews-rv2-20240406.pfx2as-excerpt.gz");
    let older = "caida/2017/07/routeviews-rv2-20170714-1400.pfx2as.gz";
    let newer = "caida/2017/07/routeviews-rv2-20170715-1200.pfx2as.gz";
    server.route(
        "caida/pfx2as-creation.log",
        vec![Reply::Ok(format!("{older_log}\n").into_bytes(), vec![])],
    );
    server.route(older, vec![Reply::Ok(table.clone(), vec![])]);
    server.route(newer, vec![Reply::Ok(table, vec![])]);
    server.route(
        "tor/exit-addresses",
        vec![Reply::Ok(
            real("data/snapshot/tor/exit-addresses.gz"),
            vec![],
        )],
    );
    let manifest_path = dir.join("sources.toml");
    std::fs::write(
        &manifest_path,
        format!(
            "[[source]]\nname = \"caida-pfx2as\"\nformat = \"pfx2as\"\nindex = \"{}\"\n\
             link = \"routeviews-rv2-{{yyyymmdd}}-{{hhmm}}.pfx2as.gz\"\n\
             licence = \"CAIDA AUA for public data\"\n\n\
             [[source]]\nname = \"tor-exits\"\nformat = \"tor-exit-list\"\nurl = \"{}\"\n\
             categories = [\"tor_exit\"]\nprovider = \"Tor Project\"\n\
             licence = \"public Tor Project data\"\n",
            server.url("caida/pfx2as-creation.log"),
            server.url("tor/exit-addresses")
        ),
    )
    .unwrap();
    // The source's snapshot and URL as every published file states them.
    let published_source = |name: &str| -> [(String, String); 3] {
        let stats = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
            .args(["stats", "--json"])
            .arg(&artifact)
            .output()
            .unwrap();
        let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
        let report: serde_json::Value =
            serde_json::from_slice(&std::fs::read(publish.join("report.json")).unwrap()).unwrap();
        let pick = |list: &serde_json::Value| {
            let s = list
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name)
                .unwrap()
                .clone();
            (
                s["snapshot"].as_str().unwrap().to_owned(),
                s["url"].as_str().unwrap().to_owned(),
            )
        };
        let attribution = std::fs::read_to_string(publish.join("ATTRIBUTION")).unwrap();
        let block = attribution
            .split("\n\n")
            .find(|b| b.lines().next() == Some(name))
            .unwrap();
        let field = |key: &str| {
            block
                .lines()
                .find_map(|l| l.strip_prefix(&format!("  {key}: ")))
                .unwrap()
                .to_owned()
        };
        [
            pick(&stats["sources"]),
            pick(&report["sources"]),
            (field("snapshot"), field("url")),
        ]
    };

    let first = nightly_online(&manifest_path, &dir);
    assert!(first.status.success(), "{}", text(&first));
    let expected = ("2017-07-14".to_owned(), server.url(older));
    assert_eq!(
        published_source("caida-pfx2as"),
        [expected.clone(), expected.clone(), expected]
    );
    let inode = std::fs::metadata(&artifact).unwrap().ino();

    // Upstream publishes the next file.
    server.route(
        "caida/pfx2as-creation.log",
        vec![Reply::Ok(log.clone().into_bytes(), vec![])],
    );
    let second = nightly_online(&manifest_path, &dir);
    assert!(second.status.success(), "{}", text(&second));
    let stdout = String::from_utf8_lossy(&second.stdout);
    assert!(stdout.contains("nightly: published "), "{}", text(&second));
    let expected = ("2017-07-15".to_owned(), server.url(newer));
    assert_eq!(
        published_source("caida-pfx2as"),
        [expected.clone(), expected.clone(), expected]
    );
    assert_ne!(std::fs::metadata(&artifact).unwrap().ino(), inode);
    Database::open(&artifact).unwrap().verify().unwrap();
    assert_eq!(server.requests(newer).len(), 1);

    // Nothing new upstream: CAIDA's file is not downloaded again and the published snapshot
    // stays (the artifact itself is rebuilt: the other source's fetch time is part of it).
    let third = nightly_online(&manifest_path, &dir);
    assert!(third.status.success(), "{}", text(&third));
    assert!(
        String::from_utf8_lossy(&third.stdout).contains("caida-pfx2as: current: "),
        "{}",
        text(&third)
    );
    let expected = ("2017-07-15".to_owned(), server.url(newer));
    assert_eq!(
        published_source("caida-pfx2as"),
        [expected.clone(), expected.clone(), expected]
    );
    assert_eq!(server.requests(newer).len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
