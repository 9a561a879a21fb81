//! Issue 19, the library: against the local HTTP server, a dated `url` takes the newest
//! candidate that exists, skipping missing days and hours (HEAD, or a ranged GET where HEAD is
//! refused); a source with nothing newer downloads nothing; `sources/default.toml` carries no
//! hand-moved dates. The flows through `ipsieve fetch`, `build` and `stats` are in
//! `cli/tests/dated.rs`.

use ipsieve_builder::cache::{self, CacheMeta};
use ipsieve_builder::fetch::{FetchError, FetchOutcome, Resolved};
use ipsieve_builder::manifest::Manifest;

use ipsieve_testkit::fetch::{cache_files, fetcher_at, lock, records, updated};
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
const CAIDA_LOG: &str = "routeviews-prefix2as/pfx2as-creation.log";
const CAIDA_NEWEST: &str = "routeviews-prefix2as/2017/07/routeviews-rv2-20170715-1200.pfx2as.gz";

/// One `[[source]]` table.
fn source(name: &str, format: &str, keys: &str) -> String {
    format!("[[source]]\nname = \"{name}\"\nformat = \"{format}\"\n{keys}\n")
}

/// A `url` with date fields: candidates from the latest publication step before now
/// backwards; missing ones (404) are skipped, the newest that exists is fetched, and its URL
/// and date go into the sidecar. Where `HEAD` is refused (405) a one-byte ranged `GET` asks
/// instead. No candidate that exists, or a server error, is a resolution failure.
#[test]
fn a_dated_url_takes_the_newest_file_that_exists() {
    let server = Server::start();
    let dir = fresh_dir("template");
    let rib = real(RIB);
    let pfx2as = real(PFX2AS);
    server.route(
        "bgpdata/2014.05/RIBS/rib.20140523.0600.bz2",
        vec![Reply::Ok(rib.clone(), vec![])],
    );
    server.route(
        "caida/2024/04/routeviews-rv2-20240406-1200.pfx2as.gz",
        vec![Reply::NoHead(Box::new(Reply::Ok(pfx2as.clone(), vec![])))],
    );
    server.route("down/2014.05.23", vec![Reply::Status(503)]);
    let rib_template = server.url("bgpdata/{yyyy}.{mm}/RIBS/rib.{yyyymmdd}.{hhmm}.bz2");
    let caida_template = server.url("caida/{yyyy}/{mm}/routeviews-rv2-{yyyymmdd}-1200.pfx2as.gz");
    let text = [
        source(
            "rib",
            "mrt",
            &format!("url = \"{rib_template}\"\npublication_step = \"2h\"\ncandidates = 6"),
        ),
        source(
            "caida",
            "pfx2as",
            &format!(
                "url = \"{caida_template}\"\npublication_step = \"1d\"\n\
                 publication_offset = \"12h\"\ncandidates = 4"
            ),
        ),
        source(
            "gone",
            "ip-list",
            &format!(
                "url = \"{}\"\npublication_step = \"1d\"\ncandidates = 3",
                server.url("gone/{yyyy}-{mm}-{dd}.txt")
            ),
        ),
        source(
            "down",
            "ip-list",
            &format!(
                "url = \"{}\"\npublication_step = \"1d\"\ncandidates = 3",
                server.url("down/{yyyy}.{mm}.{dd}")
            ),
        ),
    ]
    .concat();
    let m = Manifest::parse(&text).unwrap();

    // 09:30: the 08:00 dump is not out yet, the 06:00 one is.
    let f = fetcher_at(unix("2014-05-23 09:30:00"));
    let r = f.resolve(&m.sources[0]).unwrap();
    assert_eq!(
        r,
        Resolved {
            url: server.url("bgpdata/2014.05/RIBS/rib.20140523.0600.bz2"),
            date: Some(unix("2014-05-23 06:00:00")),
            index: None,
            missing: 1,
        }
    );
    let got = f.fetch(&m.sources[0], &lock(&dir), &mut |_| {});
    let (meta, _) = updated(&got);
    assert_eq!(meta.url, r.url);
    assert_eq!(meta.final_url.as_deref(), Some(r.url.as_str()));
    assert_eq!(meta.origin.as_deref(), Some(rib_template.as_str()));
    assert_eq!(meta.url_date, r.date);
    assert_eq!(meta.url_date_utc.as_deref(), Some("2014-05-23T06:00:00Z"));
    assert_eq!(meta.records, records("mrt", &rib));
    assert_eq!(std::fs::read(dir.join("rib")).unwrap(), rib, "bzip2 kept");
    assert_eq!(CacheMeta::read(&dir, "rib").unwrap(), *meta);
    assert_eq!(
        server.methods("bgpdata/2014.05/RIBS/rib.20140523.0800.bz2"),
        ["HEAD", "HEAD"]
    );
    assert_eq!(
        server.methods("bgpdata/2014.05/RIBS/rib.20140523.0600.bz2"),
        ["HEAD", "HEAD", "GET"],
        "resolve, then fetch (which resolves again)"
    );

    // Daily at 12:00; on the 8th at 10:00 the 7th's file is missing, the 6th's is there.
    let f = fetcher_at(unix("2024-04-08 10:00:00"));
    let got = f.fetch(&m.sources[1], &lock(&dir), &mut |_| {});
    let (meta, _) = updated(&got);
    assert_eq!(
        meta.url,
        server.url("caida/2024/04/routeviews-rv2-20240406-1200.pfx2as.gz")
    );
    assert_eq!(meta.url_date_utc.as_deref(), Some("2024-04-06T12:00:00Z"));
    assert_eq!(meta.records, 18_716);
    assert_eq!(
        server.methods("caida/2024/04/routeviews-rv2-20240407-1200.pfx2as.gz"),
        ["HEAD"]
    );
    let asked = server.requests("caida/2024/04/routeviews-rv2-20240406-1200.pfx2as.gz");
    let asked: Vec<(&str, Option<&str>)> = asked
        .iter()
        .map(|r| {
            (
                r.method.as_str(),
                r.headers.get("range").map(String::as_str),
            )
        })
        .collect();
    assert_eq!(
        asked,
        [("HEAD", None), ("GET", Some("bytes=0-0")), ("GET", None)],
        "HEAD refused: a one-byte ranged GET, then the download"
    );

    let e = f.resolve(&m.sources[2]).unwrap_err();
    println!("{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "source 'gone': cannot find its newest file ({}): none of the 3 candidates exists \
             (from {} back to {}: each answered 404 or 410); upstream stopped publishing, or \
             raise `candidates`",
            server.url("gone/{yyyy}-{mm}-{dd}.txt"),
            server.url("gone/2024-04-08.txt"),
            server.url("gone/2024-04-06.txt"),
        )
    );
    let f = fetcher_at(unix("2014-05-23 09:30:00"));
    let e = f.resolve(&m.sources[3]).unwrap_err();
    println!("{e}");
    assert!(matches!(e, FetchError::Resolve { .. }), "{e:?}");
    assert!(
        e.to_string().ends_with(&format!(
            "): GET {}: the server answered 503 Service Unavailable (gave up after 2 attempts)",
            server.url("down/2014.05.23")
        )),
        "{e}"
    );
}

/// `sources/default.toml` has no date a person must move: no `snapshot`, and no URL or index
/// with a date in it outside date fields.
#[test]
fn the_default_manifest_has_no_hand_moved_dates() {
    let m = Manifest::load(&repo().join("sources/default.toml")).unwrap();
    for s in &m.sources {
        assert_eq!(s.snapshot, None, "{}: a hand-moved snapshot", s.name);
        for url in [&s.url, &s.index].into_iter().flatten() {
            // Date fields out, then look for 20YY followed by a month: a pinned date.
            let mut plain = String::new();
            let mut depth = 0;
            for c in url.chars() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    c if depth == 0 => plain.push(c),
                    _ => {}
                }
            }
            let bytes = plain.as_bytes();
            let pinned = (0..bytes.len().saturating_sub(5)).any(|i| {
                bytes[i] == b'2'
                    && bytes[i + 1] == b'0'
                    && bytes[i + 2..i + 4].iter().all(u8::is_ascii_digit)
                    && {
                        let rest = &bytes[i + 4..];
                        let rest = rest
                            .strip_prefix(b".")
                            .or_else(|| rest.strip_prefix(b"/"))
                            .or_else(|| rest.strip_prefix(b"-"))
                            .unwrap_or(rest);
                        rest.len() >= 2
                            && rest[..2].iter().all(u8::is_ascii_digit)
                            && (b'0'..=b'1').contains(&rest[0])
                    }
            });
            assert!(!pinned, "{}: {url} pins a date", s.name);
        }
    }
}

/// The library entry points a fetch of a dated source uses, on the same copy twice: the
/// second fetch finds nothing newer and returns the cached sidecar unchanged.
#[test]
fn nothing_newer_is_current_and_downloads_nothing() {
    let server = Server::start();
    let dir = fresh_dir("current");
    server.route(
        CAIDA_LOG,
        vec![Reply::Ok(fixture("pfx2as-creation.log"), vec![])],
    );
    server.route(CAIDA_NEWEST, vec![Reply::Ok(real(PFX2AS), vec![])]);
    let m = Manifest::parse(&source(
        "caida",
        "pfx2as",
        &format!(
            "index = \"{}\"\nlink = \"routeviews-rv2-{{yyyymmdd}}-{{hhmm}}.pfx2as.gz\"",
            server.url(CAIDA_LOG)
        ),
    ))
    .unwrap();
    let f = fetcher_at(cache::unix_now());
    let first = f.fetch(&m.sources[0], &lock(&dir), &mut |_| {});
    let (meta, _) = updated(&first);
    let before = cache_files(&dir);
    let second = f.fetch(&m.sources[0], &lock(&dir), &mut |_| {});
    match &second {
        Ok(FetchOutcome::Current { meta: kept, newest }) => {
            assert_eq!(kept, meta);
            assert_eq!(newest.url, meta.url);
        }
        other => panic!("expected nothing newer, got {other:?}"),
    }
    assert_eq!(cache_files(&dir), before);
    assert_eq!(server.requests(CAIDA_NEWEST).len(), 1);
}
