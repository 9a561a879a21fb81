//! Issue 14, item 12: fetch defects a hostile tester found, each reproduced against the local
//! HTTP server with real files: a killed fetch's temporary file, a trickling server, redirects
//! to another host, a `304` to a request without validators, a list that suddenly grows, and
//! two fetches into one cache. The command line's part (a killed fetch, a
//! trickling server, two fetches at once) is in `cli/tests/fetch_guards.rs`.

use ipsieve_builder::cache::{self, CacheMeta};
use ipsieve_builder::fetch::FetchError;
use ipsieve_builder::manifest::Manifest;

use ipsieve_testkit::fetch::{
    cache_files, failure, fetch_all, fetcher, lines, lock, manifest, updated,
};
use ipsieve_testkit::http::{Reply, Server};
use ipsieve_testkit::{fresh_dir, real};

/// A redirect within the host is followed and recorded: the sidecar keeps the URL asked for
/// and the one the body came from. A redirect to another host is refused, naming the host and
/// the key that would allow it, unless the source's `allow_hosts` lists that host; a loop stops
/// after 10 redirects.
#[test]
fn redirects_are_recorded_and_leave_the_host_only_where_the_manifest_allows() {
    let server = Server::start();
    let dir = fresh_dir("redirects");
    let list = real("data-sources/tests/fixtures/tor-torbulkexitlist.txt");
    server.route("current/list.txt", vec![Reply::Ok(list.clone(), vec![])]);
    server.route(
        "moved.txt",
        vec![Reply::Redirect(302, "/current/list.txt".into())],
    );
    let elsewhere = server.url_on("localhost", "current/list.txt");
    server.route(
        "elsewhere.txt",
        vec![Reply::Redirect(301, elsewhere.clone())],
    );
    server.route("loop-a", vec![Reply::Redirect(307, "/loop-b".into())]);
    server.route("loop-b", vec![Reply::Redirect(308, "/loop-a".into())]);
    let m = Manifest::parse(&manifest(
        &server,
        &[
            ("same-host", "ip-list", "moved.txt", ""),
            ("cross-host", "ip-list", "elsewhere.txt", ""),
            (
                "cross-host-allowed",
                "ip-list",
                "elsewhere.txt",
                "allow_hosts = [\"localhost\"]",
            ),
            ("loop", "ip-list", "loop-a", ""),
        ],
    ))
    .unwrap();
    let got = fetch_all(&fetcher(), &m, &dir);

    let (meta, _) = updated(&got["same-host"]);
    assert_eq!(meta.url, server.url("moved.txt"));
    assert_eq!(
        meta.final_url.as_deref(),
        Some(server.url("current/list.txt").as_str())
    );
    assert_eq!(CacheMeta::read(&dir, "same-host").unwrap(), *meta);
    assert_eq!(std::fs::read(dir.join("same-host")).unwrap(), list);

    let refused = failure(&got["cross-host"]);
    println!("cross-host: {refused}");
    assert!(
        matches!(refused, FetchError::Redirect { .. }),
        "{refused:?}"
    );
    assert_eq!(
        refused.to_string(),
        format!(
            "source 'cross-host': GET {}: refusing a redirect to {elsewhere}: host localhost is \
             not 127.0.0.1, and the source's allow_hosts does not name it (add \"localhost\" if \
             the redirect is expected)",
            server.url("elsewhere.txt")
        )
    );
    assert!(!dir.join("cross-host").exists());

    let (meta, _) = updated(&got["cross-host-allowed"]);
    assert_eq!(meta.final_url.as_deref(), Some(elsewhere.as_str()));
    assert_eq!(
        server.requests("current/list.txt").len(),
        2,
        "the refused redirect was not followed"
    );

    let looped = failure(&got["loop"]);
    assert!(
        looped.to_string().ends_with(": more than 10 redirects"),
        "{looped}"
    );
}

/// A `304 Not Modified` to a request that carried no validators (the cached copy came without
/// `ETag` or `Last-Modified`) confirms nothing: it is refused, and the sidecar, with its fetch
/// time, stays byte for byte.
#[test]
fn a_304_to_a_request_without_validators_leaves_the_fetch_time() {
    let server = Server::start();
    let dir = fresh_dir("bogus-304");
    let m = Manifest::parse(&manifest(&server, &[("exits", "ip-list", "list", "")])).unwrap();
    let list = real("data-sources/tests/fixtures/tor-torbulkexitlist.txt");
    server.route("list", vec![Reply::Ok(list.clone(), vec![])]);
    let f = fetcher();
    let r = f.fetch(&m.sources[0], &lock(&dir), &mut |_| {});
    let first = updated(&r).0;
    assert_eq!((&first.etag, &first.last_modified), (&None, &None));
    // Three days ago, so that a refresh would show.
    let mut meta = CacheMeta::read(&dir, "exits").unwrap();
    meta.fetched_at -= 3 * 86_400;
    meta.fetched_at_utc = cache::utc_string(meta.fetched_at);
    meta.write(&dir).unwrap();
    let before = cache_files(&dir);

    server.route("list", vec![Reply::NotModified]);
    server.clear_log();
    let r = f.fetch(&m.sources[0], &lock(&dir), &mut |_| {});
    let e = failure(&r);
    println!("{e}");
    assert!(matches!(e, FetchError::Rejected { .. }), "{e:?}");
    assert!(
        e.to_string().contains(
            "the server answered 304 Not Modified to a request that carried no validators"
        ),
        "{e}"
    );
    let sent = server.requests("list");
    assert_eq!(sent.len(), 1, "not retried");
    assert!(!sent[0].headers.contains_key("if-none-match"));
    assert!(!sent[0].headers.contains_key("if-modified-since"));
    assert_eq!(cache_files(&dir), before, "the fetch time is not refreshed");
}

/// A list that grows past `max_grow_pct` (default 200 %: more than three times the records)
/// is refused like one that shrinks; a source that sets a larger `max_grow_pct` takes it, and
/// an out-of-range value is a manifest error.
#[test]
fn a_list_that_grows_past_max_grow_pct_is_refused() {
    let server = Server::start();
    let dir = fresh_dir("grow");
    let m = Manifest::parse(&manifest(
        &server,
        &[
            ("vpn", "ip-list", "vpn.txt", ""),
            ("vpn-loose", "ip-list", "vpn.txt", "max_grow_pct = 1000"),
        ],
    ))
    .unwrap();
    let ivpn = real("data/snapshot/vpn/ivpn.txt");
    let tenth = lines(&ivpn, 26);
    server.route("vpn.txt", vec![Reply::Ok(tenth, vec![])]);
    for (name, r) in fetch_all(&fetcher(), &m, &dir) {
        assert_eq!(updated(&r).0.records, 26, "{name}");
    }
    let before = cache_files(&dir);
    server.route("vpn.txt", vec![Reply::Ok(ivpn.clone(), vec![])]);
    let got = fetch_all(&fetcher(), &m, &dir);
    let e = failure(&got["vpn"]);
    println!("{e}");
    assert!(
        e.to_string()
            .contains("264 records, up from 26 in the cached copy of ",)
            && e.to_string().ends_with(
                ": more than 200 % more (set `max_grow_pct` for this source if that is expected)"
            ),
        "{e}"
    );
    for file in ["vpn", "vpn.meta.json"] {
        assert!(cache_files(&dir)[file] == before[file], "{file}");
    }
    let (meta, previous) = updated(&got["vpn-loose"]);
    assert_eq!((meta.records, previous.unwrap().records), (264, 26));

    let err = Manifest::parse(
        "[[source]]\nname = \"x\"\nformat = \"ip-list\"\nurl = \"https://example.org/x\"\n\
         max_grow_pct = 100001\n",
    )
    .unwrap_err();
    assert!(
        err.contains("line 1: source 'x': max_grow_pct 100001 is out of range (0..=100000)"),
        "{err}"
    );
}

/// Issue 15: one reject count and one limit. A download whose rejected entries are over the
/// source's `max_reject_pct` (default 10 %) is refused with the count `ipsieve build` uses
/// (rejected of read + unparsable) and the cached copy kept; raising the manifest's limit lets
/// the same download through. (Before, the fetch checked its own 50 % against another count,
/// which the build's 10 % silently overrode.)
#[test]
fn a_download_over_max_reject_pct_keeps_the_cached_copy() {
    let server = Server::start();
    let dir = fresh_dir("reject");
    let m = Manifest::parse(&manifest(
        &server,
        &[
            ("vpn", "ip-list", "vpn.txt", "categories = [\"vpn\"]"),
            (
                "vpn-loose",
                "ip-list",
                "vpn.txt",
                "categories = [\"vpn\"]\nmax_reject_pct = 50",
            ),
        ],
    ))
    .unwrap();
    let good = lines(&real("data/snapshot/vpn/ivpn.txt"), 20);
    server.route("vpn.txt", vec![Reply::Ok(good.clone(), vec![])]);
    for (name, r) in fetch_all(&fetcher(), &m, &dir) {
        assert_eq!(updated(&r).0.records, 20, "{name}");
    }
    let before = cache_files(&dir);
    // 20 good lines, 3 that do not parse and 2 that parse but are too wide for a VPN list:
    // 5 of 25 entries rejected, 20 %.
    let mut noisy = good;
    noisy.extend_from_slice(b"not an address\n999.1.1.1\nhello\n10.0.0.0/8\n0.0.0.0/0\n");
    server.route("vpn.txt", vec![Reply::Ok(noisy, vec![])]);
    let got = fetch_all(&fetcher(), &m, &dir);
    let e = failure(&got["vpn"]).to_string();
    assert!(
        e.contains("source 'vpn': 5 of 25 entries rejected, over max_reject_pct 10"),
        "{e}"
    );
    for file in ["vpn", "vpn.meta.json"] {
        assert!(cache_files(&dir)[file] == before[file], "{file}");
    }
    let (meta, _) = updated(&got["vpn-loose"]);
    assert_eq!(
        meta.records, 22,
        "read: the 20 good lines and the two refused by the builder"
    );
}
