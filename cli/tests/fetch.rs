//! `ipsieve fetch` then `ipsieve build --cache` through the command line, against the local
//! HTTP server serving real files: fetch time becomes the snapshot date, a failed fetch keeps
//! the copy and exits non-zero, `--offline` reports what the cache holds. The fetcher's own
//! faults are tested in `builder/tests/fetch.rs`.

use std::path::Path;
use std::process::Command;

use ipsieve_builder::cache::{self, CacheMeta};
use ipsieve_testkit::http::{Reply, Server};
use ipsieve_testkit::{fresh_dir, real};

/// The whole flow through the command line: fetch, build from the cache (fetch time becomes
/// the snapshot date), a failed fetch keeps the copy and exits non-zero, `--offline` reports.
#[test]
fn cli_fetch_then_build_from_the_cache() {
    let server = Server::start();
    let dir = fresh_dir("cli");
    let cache_dir = dir.join("cache");
    let exits = real("data-sources/tests/fixtures/tor-exit-addresses.txt");
    let aws = real("data-sources/tests/fixtures/aws-ip-ranges.json");
    server.route("exit-addresses", vec![Reply::Ok(exits.clone(), vec![])]);
    server.route("ip-ranges.json", vec![Reply::Ok(aws.clone(), vec![])]);
    let text = format!(
        "# url-only sources\n\
         [[source]]\nname = \"tor-exits\"\nformat = \"tor-exit-list\"\nurl = \"{}\"\n\
         categories = [\"tor_exit\"]\nprovider = \"Tor Project\"\nmax_age_days = 2\n\n\
         [[source]]\nname = \"aws\"\nformat = \"aws-ip-ranges\"\nurl = \"{}\"\n\
         categories = [\"hosting\"]\nprovider = \"Amazon AWS\"\nsnapshot = \"2026-08-22\"\n",
        server.url("exit-addresses"),
        server.url("ip-ranges.json")
    );
    let manifest = dir.join("sources.toml");
    std::fs::write(&manifest, text).unwrap();
    let fetch = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
            .arg("fetch")
            .arg("--sources")
            .arg(&manifest)
            .arg("--cache")
            .arg(&cache_dir)
            .args(["--timeout", "1", "--retries", "1", "--backoff-ms", "10"])
            .args(extra)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stdout, stderr) = fetch(&[]);
    assert!(ok, "{stdout}\n{stderr}");
    assert!(stdout.contains("tor-exits: updated: "), "{stdout}");
    assert!(stdout.contains("fetched 2 of 2 sources"), "{stdout}");

    let build = |cache: Option<&Path>| {
        let db = dir.join("out.ipsieve");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_ipsieve"));
        cmd.args(["build", "--quiet", "--sources"])
            .arg(&manifest)
            .arg("--out")
            .arg(&db)
            .env("SOURCE_DATE_EPOCH", "1750000000");
        if let Some(c) = cache {
            cmd.arg("--cache").arg(c);
        }
        let out = cmd.output().unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            db,
        )
    };
    let (ok, stderr, db) = build(Some(&cache_dir));
    assert!(ok, "{stderr}");
    let stats = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .arg("stats")
        .arg(&db)
        .output()
        .unwrap();
    let stats = String::from_utf8_lossy(&stats.stdout).into_owned();
    let today = ipsieve_builder::manifest::day_string((cache::unix_now() / 86_400) as u32);
    let exits_line = stats.lines().find(|l| l.contains("tor-exits")).unwrap();
    assert!(
        exits_line.contains(&today),
        "fetch day is the snapshot: {stats}"
    );
    let aws_line = stats.lines().find(|l| l.contains(" aws ")).unwrap();
    assert!(
        aws_line.contains("2026-08-22"),
        "a manifest snapshot wins: {stats}"
    );
    let sha = CacheMeta::read(&cache_dir, "tor-exits").unwrap().sha256;
    assert!(
        stats.contains(&format!("source.tor-exits.sha256 = {sha}")),
        "{stats}"
    );
    let lookup = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .args(["lookup", "--db"])
        .arg(&db)
        .arg("185.241.208.232")
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&lookup.stdout).into_owned();
    assert!(
        answer.contains("tor_exit") && answer.contains("tor-exits"),
        "{answer}"
    );

    // AWS now answers with a login page: the run fails, names it, keeps its copy.
    let aws_before = std::fs::read(cache_dir.join("aws")).unwrap();
    server.route(
        "ip-ranges.json",
        vec![Reply::Ok(
            b"<html><body>Sign in</body></html>".to_vec(),
            vec![],
        )],
    );
    let (ok, stdout, stderr) = fetch(&["--quiet"]);
    assert!(!ok, "a failed source fails the run");
    assert!(stdout.is_empty(), "--quiet: {stdout}");
    assert!(
        stderr.contains("source 'aws': GET ") && stderr.contains("HTML page"),
        "{stderr}"
    );
    assert!(stderr.contains("kept the cached copy of"), "{stderr}");
    assert!(
        !stderr.contains("tor-exits"),
        "the good source is fine: {stderr}"
    );
    assert_eq!(std::fs::read(cache_dir.join("aws")).unwrap(), aws_before);

    let (ok, stdout, _) = fetch(&["--offline"]);
    assert!(ok);
    assert!(stdout.contains("tor-exits: cached: "), "{stdout}");
    assert!(stdout.contains("aws: cached: "), "{stdout}");

    // Without --cache a url-only source cannot be built; the error names the line.
    let (ok, stderr, _) = build(None);
    assert!(!ok);
    assert!(
        stderr.contains("line 2: source 'tor-exits' has only a `url`"),
        "{stderr}"
    );
    // A missing cached copy is named too, and --offline fails on it.
    std::fs::remove_file(cache_dir.join("aws")).unwrap();
    let (ok, stderr, _) = build(Some(&cache_dir));
    assert!(!ok);
    assert!(
        stderr.contains("line 10: source 'aws': no cached copy"),
        "{stderr}"
    );
    let (ok, stdout, stderr) = fetch(&["--offline"]);
    assert!(!ok);
    // Missing copies are named together, with the command that fetches them, and the report
    // ends in a one-line summary.
    assert!(
        stderr.contains("sources have no cached copy in ")
            && stderr.contains(": aws; run `ipsieve fetch --sources "),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("cache ") && last.ends_with(", 1 missing"),
        "{stdout}"
    );
}
