//! Which address is judged: spoofed forwarding headers from untrusted peers, the hop lists
//! from the trusted proxy, every supported header, requests without a peer address.

use std::sync::atomic::Ordering;

use ipsieve::{Database, Overlay, Policy};
use ipsieve_http::{ClientIpConfig, FailMode, Sieve};

use crate::common::*;

fn sieve_for(source: &str, trusted: &[&str], overlay: &str) -> Sieve {
    Sieve::builder()
        .database(Database::from_bytes(&first_artifact()).unwrap())
        .overlay(Overlay::parse("overlay.txt", overlay.as_bytes()).unwrap())
        .policy(Policy::default())
        .client_ip(ClientIpConfig::parse(source, trusted.iter().copied()).unwrap())
        .build()
        .unwrap()
}

/// Every header, from a stranger and from the proxy: the stranger is judged by its socket
/// address whatever it claims, in both directions (a Tor exit cannot be claimed to block a
/// victim, and a denied peer cannot claim a clean address to escape).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spoofed_headers_from_untrusted_peers_never_change_the_address() {
    let headers = [
        ("x-forwarded-for", TOR.to_owned()),
        ("forwarded", format!("for={TOR}")),
        ("cf-connecting-ip", TOR.to_owned()),
        ("x-real-ip", TOR.to_owned()),
        ("true-client-ip", TOR.to_owned()),
        ("fly-client-ip", TOR.to_owned()),
        ("cloudfront-viewer-address", format!("{TOR}:443")),
        ("x-envoy-external-address", TOR.to_owned()),
    ];
    for (name, value) in &headers {
        let sieve = sieve_for(name, &[PROXY_PEER], "deny 127.0.0.3 the stranger\n");
        let (app, runs) = app(&sieve);
        let server = serve(app).await;
        let stranger = Client::new(server, STRANGER);
        let proxy = Client::new(server, PROXY_PEER);

        // The stranger claims to be a Tor exit: judged as itself (denied by the overlay).
        let r = stranger.call("/pay", &[(name, value)]).await.unwrap();
        assert_eq!(
            (r.status, r.str("ip")),
            (403, STRANGER),
            "{name}: {:?}",
            r.json
        );
        assert_eq!(r.str("reason"), "overlay_deny");
        // The stranger claims a clean address (also with every other header at once).
        let all: Vec<(&str, &str)> = headers
            .iter()
            .map(|(n, _)| {
                (
                    *n,
                    if *n == "forwarded" {
                        "for=192.0.2.1"
                    } else {
                        CLEAN
                    },
                )
            })
            .collect();
        let r = stranger.call("/pay", &all).await.unwrap();
        assert_eq!((r.status, r.str("ip")), (403, STRANGER), "{name}");
        // On a read route it passes, judged as itself: the handler says so.
        let r = stranger.call("/", &[(name, value)]).await.unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.str("ip"), STRANGER);
        assert_eq!(r.str("ip_source"), "untrusted_peer");

        // The same header from the proxy names the client.
        let r = proxy.call("/pay", &[(name, value)]).await.unwrap();
        assert_eq!((r.status, r.str("ip")), (403, TOR), "{name}: {:?}", r.json);
        assert_eq!(r.str("reason"), "tor_exit");
        let r = proxy.call("/", &[(name, value)]).await.unwrap();
        assert_eq!(r.str("ip_source"), *name);

        let s = sieve.stats();
        assert_eq!(s.forwarding_headers_ignored, 3, "{name}");
        assert_eq!(runs.load(Ordering::Relaxed), 2);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_proxy_s_hop_list_is_read_from_the_right() {
    // Our edge proxies live in 10.0.0.0/8; the app's own proxy connects from 127.0.0.2.
    let sieve = sieve_for("x-forwarded-for", &[PROXY_PEER, "10.0.0.0/8"], "");
    let (app, _) = app(&sieve);
    let proxy = Client::new(serve(app).await, PROXY_PEER);
    let cases = [
        // The client wrote a clean address first; the proxy appended the real one.
        (format!("{CLEAN}, {TOR}"), TOR, 403),
        // The client wrote a Tor exit first to get someone blocked: ignored.
        (format!("{TOR}, {CLEAN}"), CLEAN, 200),
        // Behind two of our proxies.
        (format!("{CLEAN}, {TOR}, 10.1.2.3"), TOR, 403),
        (
            format!("garbage, {TOR}, 10.1.2.3, ::ffff:10.9.8.7"),
            TOR,
            403,
        ),
    ];
    for (xff, want, status) in &cases {
        let r = proxy
            .call("/pay", &[("x-forwarded-for", xff)])
            .await
            .unwrap();
        assert_eq!((r.status, r.str("ip")), (*status, *want), "{xff}");
    }
    // The proxy without the header (its own health check): judged as the proxy.
    let r = proxy.call("/", &[]).await.unwrap();
    assert_eq!(
        (r.str("ip"), r.str("ip_source")),
        (PROXY_PEER, "proxy_without_header")
    );
    let r = proxy
        .call("/", &[("x-forwarded-for", "not an address")])
        .await
        .unwrap();
    assert_eq!(r.str("ip_source"), "proxy_without_header");
    assert_eq!(sieve.stats().proxies_without_header, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_is_read_stanza_by_stanza() {
    let sieve = sieve_for("forwarded", &[PROXY_PEER, "10.0.0.0/8"], "");
    let (app, _) = app(&sieve);
    let proxy = Client::new(serve(app).await, PROXY_PEER);
    let cases = [
        (format!("for={TOR};proto=https"), TOR),
        ("for=\"[2606:54c0::1]:443\"".to_owned(), RELAY_V6),
        (
            format!("for={CLEAN}, for={TOR}, for=10.1.2.3;by=10.0.0.1"),
            TOR,
        ),
        // A malformed stanza the client wrote cannot hide the one the proxy appended.
        (format!("for=@@@, for={TOR}"), TOR),
    ];
    for (value, want) in &cases {
        let r = proxy.call("/", &[("forwarded", value)]).await.unwrap();
        assert_eq!(r.str("ip"), *want, "{value}");
        assert_eq!(r.str("ip_source"), "forwarded");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_socket_source_reads_no_header_at_all() {
    let sieve = sieve_for("socket", &[], "deny 127.0.0.2 the proxy peer\n");
    let (app, _) = app(&sieve);
    let from_proxy = Client::new(serve(app).await, PROXY_PEER);
    let r = from_proxy
        .call("/pay", &[("x-forwarded-for", CLEAN)])
        .await
        .unwrap();
    assert_eq!((r.status, r.str("ip")), (403, PROXY_PEER));
    // Not counted as ignored: no header is configured.
    assert_eq!(sieve.stats().forwarding_headers_ignored, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_records_no_peer_fails_open_or_closed() {
    for mode in [FailMode::Open, FailMode::Closed] {
        let sieve = Sieve::builder()
            .database(Database::from_bytes(&first_artifact()).unwrap())
            .fail_mode(mode)
            .build()
            .unwrap();
        let (app, runs) = app(&sieve);
        let client = Client::new(serve_without_peers(app).await, STRANGER);
        let r = client.call("/pay", &[]).await.unwrap();
        match mode {
            FailMode::Open => {
                assert_eq!(r.status, 200);
                assert_eq!(r.str("reason"), "no_client_address");
                assert_eq!(r.json["ip"], serde_json::Value::Null);
                assert_eq!(runs.load(Ordering::Relaxed), 1);
                assert_eq!(sieve.stats().unjudged, 1);
            }
            FailMode::Closed => {
                assert_eq!(r.status, 503);
                assert_eq!(r.str("error"), "unavailable");
                assert_eq!(r.str("reason"), "no_client_address");
                assert_eq!(runs.load(Ordering::Relaxed), 0);
                assert_eq!(sieve.stats().unavailable, 1);
            }
        }
        assert_eq!(sieve.stats().lookups, 0);
    }
}
