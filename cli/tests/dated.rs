//! Issue 19 through the command line: against the local HTTP server serving the index
//! fixtures of `builder/tests/fixtures/dated/` (a CAIDA creation log, a RouteViews directory
//! listing, Microsoft's download page) and real data under dated names, `ipsieve fetch` takes
//! an index's link with the newest date (another host only where the manifest allows it),
//! keeps the cached copy when the index is broken and fails the run only once that copy is
//! older than `max_age_days`, `--resolve-only` says what it would fetch, `sources/default.toml`
//! resolves against a local mirror; the resolved URL and its date reach the sidecar, the
//! artifact, `ipsieve stats` and the build report. The fetcher's own resolution is tested in
//! `builder/tests/dated.rs`.

use std::path::Path;
use std::process::{Command, Output};

use ipsieve_builder::cache::{self, CacheMeta};
use ipsieve_builder::fetch::Resolved;
use ipsieve_builder::manifest::Manifest;

use ipsieve_testkit::fetch::{cache_files, fetcher_at};
use ipsieve_testkit::http::{Reply, Server};
use ipsieve_testkit::{fresh_dir, real, repo};

/// Unix seconds of `YYYY-MM-DD HH:MM:SS` (UTC).
fn unix(t: &str) -> u64 {
    let ts = ipsieve_sources::time::Timestamp::parse_date_time(t).unwrap();
    u64::try_from(ts.0).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    real(&format!("builder/tests/fixtures/dated/{name}"))
}

const RIB: &str = "data-sources/tests/fixtures/mrt-rib.20140523.0600-excerpt.bz2";

const PFX2AS: &str = "data/snapshot/bgp/routeviews-rv2-20240406.pfx2as-excerpt.gz";

const AZURE: &str = "data-sources/tests/fixtures/azure-service-tags.json";

const AZURE_FILE: &str =
    "download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20240909.json";
const MS_PAGE: &str = "en-us/download/details.aspx?id=56519";

const CAIDA_LOG: &str = "routeviews-prefix2as/pfx2as-creation.log";

const CAIDA_NEWEST: &str = "routeviews-prefix2as/2017/07/routeviews-rv2-20170715-1200.pfx2as.gz";

const RIBS: &str = "route-views2/bgpdata/2014.05/RIBS/";

/// Microsoft's page with its download links pointing at `host` on this server.
fn ms_page(server: &Server, host: &str) -> Vec<u8> {
    String::from_utf8(fixture("microsoft-download-details-56519.html"))
        .unwrap()
        .replace("https://download.microsoft.com/", &server.url_on(host, ""))
        .into_bytes()
}

/// One `[[source]]` table.
fn source(name: &str, format: &str, keys: &str) -> String {
    format!("[[source]]\nname = \"{name}\"\nformat = \"{format}\"\n{keys}\n")
}

/// An `index` gives the matching link with the newest date, whatever the order of its lines:
/// a CAIDA creation log (relative paths), a RouteViews directory listing (relative names), and
/// Microsoft's download page, whose link points to another host: refused, naming the host
/// and the key, unless `allow_hosts` names it. Fetched, each sidecar records the index, the
/// URL and its date; built, the artifact, `ipsieve stats` and the build report carry the
/// resolved URL and its date as the source's snapshot.
#[test]
fn an_index_gives_the_link_with_the_newest_date() {
    let server = Server::start();
    let dir = fresh_dir("index");
    let cache_dir = dir.join("cache");
    let log = fixture("pfx2as-creation.log");
    server.route(CAIDA_LOG, vec![Reply::Ok(log.clone(), vec![])]);
    let reversed: String = {
        let text = String::from_utf8(log.clone()).unwrap();
        let mut lines: Vec<&str> = text.lines().collect();
        lines.reverse();
        lines.join("\n") + "\n"
    };
    let reversed_log = "routeviews-prefix2as/reversed.log";
    server.route(reversed_log, vec![Reply::Ok(reversed.into_bytes(), vec![])]);
    server.route(CAIDA_NEWEST, vec![Reply::Ok(real(PFX2AS), vec![])]);
    server.route(
        RIBS,
        vec![Reply::Ok(
            fixture("routeviews-bgpdata-2014.05-RIBS.html"),
            vec![],
        )],
    );
    server.route(
        &format!("{RIBS}rib.20140523.0600.bz2"),
        vec![Reply::Ok(real(RIB), vec![])],
    );
    server.route(
        MS_PAGE,
        vec![Reply::Ok(ms_page(&server, "localhost"), vec![])],
    );
    server.route(AZURE_FILE, vec![Reply::Ok(real(AZURE), vec![])]);
    let caida_link = "routeviews-rv2-{yyyymmdd}-{hhmm}.pfx2as.gz";
    let text = [
        source(
            "caida",
            "pfx2as",
            &format!(
                "index = \"{}\"\nlink = \"{caida_link}\"\nlicence = \"CAIDA AUA\"",
                server.url(CAIDA_LOG)
            ),
        ),
        source(
            "routeviews",
            "mrt",
            &format!(
                "index = \"{}\"\nlink = \"rib.{{yyyymmdd}}.{{hhmm}}.bz2\"",
                server.url(RIBS)
            ),
        ),
        source(
            "azure",
            "azure-service-tags",
            &format!(
                "index = \"{}\"\nlink = \"ServiceTags_Public_{{yyyymmdd}}.json\"\n\
                 categories = [\"hosting\"]\nallow_hosts = [\"localhost\"]",
                server.url(MS_PAGE)
            ),
        ),
    ]
    .concat();
    let manifest_path = dir.join("sources.toml");
    std::fs::write(&manifest_path, &text).unwrap();
    let m = Manifest::load(&manifest_path).unwrap();
    let f = fetcher_at(cache::unix_now());

    let caida = f.resolve(&m.sources[0]).unwrap();
    assert_eq!(
        caida,
        Resolved {
            url: server.url(CAIDA_NEWEST),
            date: Some(unix("2017-07-15 12:00:00")),
            index: Some(server.url(CAIDA_LOG)),
            missing: 0,
        }
    );
    let mut reversed = m.sources[0].clone();
    reversed.index = Some(server.url(reversed_log));
    assert_eq!(
        f.resolve(&reversed).unwrap().url,
        caida.url,
        "order is no matter"
    );
    let rv = f.resolve(&m.sources[1]).unwrap();
    assert_eq!(rv.url, server.url(&format!("{RIBS}rib.20140523.0600.bz2")));
    assert_eq!(rv.date_utc().as_deref(), Some("2014-05-23T06:00:00Z"));
    let azure = f.resolve(&m.sources[2]).unwrap();
    assert_eq!(azure.url, server.url_on("localhost", AZURE_FILE));
    assert_eq!(azure.date_utc().as_deref(), Some("2024-09-09T00:00:00Z"));

    // Without `allow_hosts` the page's link to another host is refused, and not requested.
    let mut strict = m.sources[2].clone();
    strict.allow_hosts = None;
    let e = f.resolve(&strict).unwrap_err();
    println!("{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "source 'azure': cannot find its newest file ({} link \
             ServiceTags_Public_{{yyyymmdd}}.json): GET {}: the newest link, {}, points to host \
             localhost, not the index's host 127.0.0.1: add \"localhost\" to allow_hosts for \
             this source if that host is trusted",
            server.url(MS_PAGE),
            server.url(MS_PAGE),
            server.url_on("localhost", AZURE_FILE)
        )
    );
    assert!(server.requests(AZURE_FILE).is_empty());

    // Fetched through the command line, then built from the cache.
    let out = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .arg("fetch")
        .arg("--sources")
        .arg(&manifest_path)
        .arg("--cache")
        .arg(&cache_dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{stdout}");
    let line = stdout.lines().find(|l| l.starts_with("caida: ")).unwrap();
    assert!(
        line.starts_with("caida: updated: 18716 records, ")
            && line.ends_with(&format!(", {} dated 2017-07-15T12:00:00Z", caida.url)),
        "{stdout}"
    );
    for (name, r) in [("caida", &caida), ("routeviews", &rv), ("azure", &azure)] {
        let meta = CacheMeta::read(&cache_dir, name).unwrap();
        assert_eq!(meta.url, r.url, "{name}");
        assert_eq!(meta.url_date, r.date, "{name}");
        assert_eq!(meta.index, r.index, "{name}");
        assert_eq!(
            meta.origin,
            m.sources.iter().find(|s| s.name == name).unwrap().origin()
        );
    }
    let db = dir.join("out.ipsieve");
    let report = dir.join("report.json");
    let out = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .args(["build", "--quiet", "--sources"])
        .arg(&manifest_path)
        .arg("--cache")
        .arg(&cache_dir)
        .arg("--out")
        .arg(&db)
        .arg("--report-json")
        .arg(&report)
        .env("SOURCE_DATE_EPOCH", "1750000000")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stats = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .args(["stats", "--json"])
        .arg(&db)
        .output()
        .unwrap();
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).unwrap();
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    for (name, r, day) in [
        ("caida", &caida, "2017-07-15"),
        ("routeviews", &rv, "2014-05-23"),
        ("azure", &azure, "2024-09-09"),
    ] {
        for (what, list) in [("stats", &stats["sources"]), ("report", &report["sources"])] {
            let s = list
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["name"] == name)
                .unwrap_or_else(|| panic!("{what}: no {name}"));
            assert_eq!(s["snapshot"], day, "{what} {name}");
            assert_eq!(s["url"], r.url.as_str(), "{what} {name}");
        }
    }
    let text = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .arg("stats")
        .arg(&db)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("caida "))
        .unwrap();
    assert!(line.contains("2017-07-15"), "{text}");
}

/// Runs `ipsieve fetch` with `args` on `manifest` into `cache`.
fn cli_fetch(manifest: &Path, cache: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .arg("fetch")
        .arg("--sources")
        .arg(manifest)
        .arg("--cache")
        .arg(cache)
        .args(["--timeout", "1", "--retries", "1", "--backoff-ms", "10"])
        .args(args)
        .output()
        .unwrap()
}

/// A broken index (a server error, an HTML error page served with 200, a body cut short, one
/// trickling past the deadline, one past `--max-index-bytes`) and an upstream with nothing newer keep the cached copy byte for
/// byte and are reported for the source; the run fails only once the copy is older than the
/// source's `max_age_days`. Nothing newer downloads nothing.
#[test]
fn a_broken_or_error_page_index_keeps_the_cached_copy() {
    let server = Server::start();
    let dir = fresh_dir("broken-index");
    let cache_dir = dir.join("cache");
    let log = fixture("pfx2as-creation.log");
    server.route(CAIDA_LOG, vec![Reply::Ok(log.clone(), vec![])]);
    server.route(CAIDA_NEWEST, vec![Reply::Ok(real(PFX2AS), vec![])]);
    let manifest_path = dir.join("sources.toml");
    let origin = format!(
        "{} link routeviews-rv2-{{yyyymmdd}}-{{hhmm}}.pfx2as.gz",
        server.url(CAIDA_LOG)
    );
    std::fs::write(
        &manifest_path,
        source(
            "caida",
            "pfx2as",
            &format!(
                "index = \"{}\"\nlink = \"routeviews-rv2-{{yyyymmdd}}-{{hhmm}}.pfx2as.gz\"\n\
                 max_age_days = 30",
                server.url(CAIDA_LOG)
            ),
        ),
    )
    .unwrap();
    // Five days and 48 days after the file's date.
    let fresh = (unix("2017-07-20 12:00:00")).to_string();
    let stale = (unix("2017-09-01 12:00:00")).to_string();
    let out = cli_fetch(&manifest_path, &cache_dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let before = cache_files(&cache_dir);

    // Nothing newer: nothing downloaded; fine while fresh, a failure once stale.
    server.clear_log();
    let out = cli_fetch(&manifest_path, &cache_dir, &["--now", &fresh]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(out.status.success());
    assert!(
        stdout.contains(&format!(
            "caida: current: the newest file upstream is {} dated 2017-07-15T12:00:00Z; kept \
             18716 records",
            server.url(CAIDA_NEWEST)
        )),
        "{stdout}"
    );
    assert!(
        server.requests(CAIDA_NEWEST).is_empty(),
        "nothing downloaded"
    );
    let out = cli_fetch(&manifest_path, &cache_dir, &["--now", &stale, "--quiet"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    println!("{stderr}");
    assert!(!out.status.success());
    assert!(
        stderr.contains("ipsieve: source 'caida': nothing newer than the cached copy (")
            && stderr.ends_with(
                "; stale: its data (2017-07-15) is 48 days old, more than max_age_days 30\n"
            ),
        "{stderr}"
    );
    assert_eq!(cache_files(&cache_dir), before);

    let error_page =
        b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>\n<body><h1>Service Unavailable</h1><p>The server is temporarily unable to service your request.</p></body></html>\n".to_vec();
    let faults: [(&str, Reply, &[&str], String); 5] = [
        (
            "server error",
            Reply::Status(500),
            &[],
            format!(
                "GET {}: the server answered 500 Internal Server Error (gave up after 2 attempts)",
                server.url(CAIDA_LOG)
            ),
        ),
        (
            "error page",
            Reply::Ok(error_page.clone(), vec![("Content-Type", "text/html")]),
            &[],
            format!(
                "GET {}: no link in the index ({} bytes) matches \
                 'routeviews-rv2-{{yyyymmdd}}-{{hhmm}}.pfx2as.gz' (an error page, or the \
                 publisher renamed its files?)",
                server.url(CAIDA_LOG),
                error_page.len()
            ),
        ),
        (
            "cut short",
            Reply::Truncated(log[..log.len() / 2].to_vec(), log.len()),
            &[],
            format!(
                "GET {}: the index broke off after {} of {} bytes: ",
                server.url(CAIDA_LOG),
                log.len() / 2,
                log.len()
            ),
        ),
        (
            "trickling",
            Reply::Trickle(log.clone(), std::time::Duration::from_millis(50)),
            &["--deadline", "1"],
            format!(
                "GET {}: the download passed its deadline of 1.0 s (--deadline) after ",
                server.url(CAIDA_LOG)
            ),
        ),
        (
            "too large",
            Reply::Ok(log.clone(), vec![]),
            &["--max-index-bytes", "1000"],
            format!(
                "GET {}: the index is larger than 1000 bytes (--max-index-bytes)",
                server.url(CAIDA_LOG)
            ),
        ),
    ];
    for (what, reply, extra, reason) in faults {
        server.route(CAIDA_LOG, vec![reply]);
        for (now, fails) in [(&fresh, false), (&stale, true)] {
            let mut args = vec!["--now", now.as_str()];
            args.extend_from_slice(extra);
            let out = cli_fetch(&manifest_path, &cache_dir, &args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            println!(
                "{what} ({}): {stderr}",
                if fails { "stale" } else { "fresh" }
            );
            assert_eq!(out.status.success(), !fails, "{what}: {stderr}");
            let expected = format!(
                "ipsieve: source 'caida': cannot find its newest file ({origin}): {reason}"
            );
            assert!(
                stderr.contains(&expected),
                "{what}: expected {expected:?} in {stderr}"
            );
            let kept = if fails {
                "; stale: its data (2017-07-15) is 48 days old, more than max_age_days 30"
            } else {
                "; not a failure while the copy is within max_age_days"
            };
            assert!(
                stderr.contains(&format!(
                    "kept the cached copy of {} (18716 records, {} dated 2017-07-15T12:00:00Z){kept}",
                    CacheMeta::read(&cache_dir, "caida").unwrap().fetched_at_utc,
                    server.url(CAIDA_NEWEST)
                )),
                "{what}: {stderr}"
            );
            assert_eq!(cache_files(&cache_dir), before, "{what}");
        }
    }

    // No copy at all: a resolution failure fails the run.
    server.route(CAIDA_LOG, vec![Reply::Status(500)]);
    let empty = dir.join("empty-cache");
    let out = cli_fetch(&manifest_path, &empty, &["--now", &fresh]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("; there is no cached copy to keep"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `ipsieve fetch --resolve-only`: one line per source with the URL it would fetch and its
/// date, nothing downloaded; a source that cannot be resolved is named and fails the run.
#[test]
fn resolve_only_prints_what_each_source_would_fetch() {
    let server = Server::start();
    let dir = fresh_dir("resolve-only");
    server.route(
        CAIDA_LOG,
        vec![Reply::Ok(fixture("pfx2as-creation.log"), vec![])],
    );
    server.route(
        "bgpdata/2014.05/RIBS/rib.20140523.0600.bz2",
        vec![Reply::Ok(real(RIB), vec![])],
    );
    let text = [
        source(
            "caida",
            "pfx2as",
            &format!(
                "index = \"{}\"\nlink = \"routeviews-rv2-{{yyyymmdd}}-{{hhmm}}.pfx2as.gz\"",
                server.url(CAIDA_LOG)
            ),
        ),
        source(
            "rib",
            "mrt",
            &format!(
                "url = \"{}\"\npublication_step = \"2h\"\ncandidates = 3",
                server.url("bgpdata/{yyyy}.{mm}/RIBS/rib.{yyyymmdd}.{hhmm}.bz2")
            ),
        ),
        source(
            "plain",
            "ip-list",
            &format!("url = \"{}\"", server.url("list.txt")),
        ),
    ]
    .concat();
    let manifest_path = dir.join("sources.toml");
    std::fs::write(&manifest_path, &text).unwrap();
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ipsieve"))
            .arg("fetch")
            .arg("--sources")
            .arg(&manifest_path)
            .args(["--resolve-only", "--timeout", "1", "--retries", "0"])
            .args(args)
            .output()
            .unwrap()
    };
    let out = run(&["--now", &unix("2014-05-23 09:30:00").to_string()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout,
        format!(
            "caida: {} (dated 2017-07-15T12:00:00Z; from {})\n\
             rib: {} (dated 2014-05-23T06:00:00Z; 1 newer candidates missing)\n\
             plain: {}\n",
            server.url(CAIDA_NEWEST),
            server.url(CAIDA_LOG),
            server.url("bgpdata/2014.05/RIBS/rib.20140523.0600.bz2"),
            server.url("list.txt"),
        )
    );
    assert!(server.requests(CAIDA_NEWEST).is_empty());
    assert_eq!(
        server.methods("bgpdata/2014.05/RIBS/rib.20140523.0600.bz2"),
        ["HEAD"],
        "asked, not downloaded"
    );
    assert!(server.requests("list.txt").is_empty());
    // A day later every candidate of the dump is missing.
    let out = run(&["--now", &unix("2014-05-24 09:30:00").to_string()]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ipsieve: source 'rib': cannot find its newest file (")
            && stderr.contains("none of the 3 candidates exists"),
        "{stderr}"
    );
}

/// `sources/default.toml` against a local mirror: every `https://HOST/path` becomes
/// `http://127.0.0.1:PORT/HOST/path`, the mirror serves the index fixtures and the real data
/// excerpts under the names upstream would use, and every source, enabled or not, resolves:
/// the dated ones (CAIDA v4 and v6 through their creation logs, the RouteViews RIBs through
/// their two-hourly templates, Azure through Microsoft's download page) to their newest file,
/// the others to their own URL. The table is printed.
#[test]
fn the_default_manifest_resolves_against_a_local_mirror() {
    let server = Server::start();
    let mirror = server.url("");
    let text = std::fs::read_to_string(repo().join("sources/default.toml")).unwrap();
    let local = text
        .replace("\"http://", &format!("\"{mirror}"))
        .replace("\"https://", &format!("\"{mirror}"));
    let dir = fresh_dir("default-manifest");
    let manifest_path = dir.join("default.toml");
    std::fs::write(&manifest_path, &local).unwrap();
    let m = Manifest::load(&manifest_path).unwrap();

    let log = String::from_utf8(fixture("pfx2as-creation.log")).unwrap();
    let caida = "publicdata.caida.org/datasets/routing/";
    server.route(
        &format!("{caida}routeviews-prefix2as/pfx2as-creation.log"),
        vec![Reply::Ok(log.clone().into_bytes(), vec![])],
    );
    server.route(
        &format!("{caida}routeviews6-prefix2as/pfx2as-creation.log"),
        vec![Reply::Ok(
            log.replace("-rv2-", "-rv6-").into_bytes(),
            vec![],
        )],
    );
    let rib = real(RIB);
    for collector in ["", "route-views6/"] {
        server.route(
            &format!(
                "archive.routeviews.org/{collector}bgpdata/2014.05/RIBS/rib.20140523.0600.bz2"
            ),
            vec![Reply::Ok(rib.clone(), vec![])],
        );
    }
    let page = String::from_utf8(fixture("microsoft-download-details-56519.html"))
        .unwrap()
        .replace("https://", &mirror);
    server.route(
        &format!("www.microsoft.com/{MS_PAGE}"),
        vec![Reply::Ok(page.into_bytes(), vec![])],
    );

    let f = fetcher_at(unix("2014-05-23 09:30:00"));
    let upstream = Manifest::load(&repo().join("sources/default.toml")).unwrap();
    let mut dated = Vec::new();
    println!("{:<26} {:<22} resolved URL", "source", "date");
    for (s, original) in m.sources.iter().zip(&upstream.sources) {
        let r = f.resolve(s).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        let shown = match &original.url {
            Some(url) if !s.is_dated() => url.clone(),
            _ => r.url.replace(&mirror, "https://"),
        };
        println!(
            "{:<26} {:<22} {shown}",
            s.name,
            r.date_utc().unwrap_or_else(|| "-".into())
        );
        if s.is_dated() {
            dated.push((s.name.as_str(), shown, r.date_utc().unwrap()));
        } else {
            assert_eq!(Some(&r.url), s.url.as_ref(), "{}", s.name);
            assert_eq!(r.date, None);
        }
    }
    fn expect<'a>(name: &'a str, url: &str, date: &str) -> (&'a str, String, String) {
        (name, url.to_owned(), date.to_owned())
    }
    assert_eq!(
        dated,
        [
            expect(
                "caida-pfx2as-v4",
                "https://publicdata.caida.org/datasets/routing/routeviews-prefix2as/2017/07/routeviews-rv2-20170715-1200.pfx2as.gz",
                "2017-07-15T12:00:00Z"
            ),
            expect(
                "caida-pfx2as-v6",
                "https://publicdata.caida.org/datasets/routing/routeviews6-prefix2as/2017/07/routeviews-rv6-20170715-1200.pfx2as.gz",
                "2017-07-15T12:00:00Z"
            ),
            expect(
                "routeviews-rib-v4",
                "https://archive.routeviews.org/bgpdata/2014.05/RIBS/rib.20140523.0600.bz2",
                "2014-05-23T06:00:00Z"
            ),
            expect(
                "routeviews-rib-v6",
                "https://archive.routeviews.org/route-views6/bgpdata/2014.05/RIBS/rib.20140523.0600.bz2",
                "2014-05-23T06:00:00Z"
            ),
            expect(
                "azure",
                "https://download.microsoft.com/download/7/1/D/71D86715-5596-4529-9B13-DA13A5DE5B63/ServiceTags_Public_20240909.json",
                "2024-09-09T00:00:00Z"
            ),
        ]
    );
    let azure = m.sources.iter().find(|s| s.name == "azure").unwrap();
    assert!(azure.enabled.unwrap_or(true), "Azure is fetched by default");

    // The command line agrees, for the enabled sources.
    let out = Command::new(env!("CARGO_BIN_EXE_ipsieve"))
        .arg("fetch")
        .arg("--sources")
        .arg(&manifest_path)
        .arg("--resolve-only")
        .args(["--now", &unix("2014-05-23 09:30:00").to_string()])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout.lines().count(), m.enabled().count());
    assert!(
        stdout.lines().any(|l| l.starts_with("azure: ")
            && l.contains("ServiceTags_Public_20240909.json (dated 2024-09-09T00:00:00Z; from ")),
        "{stdout}"
    );
}
