//! The overlay's allow and deny entries, first in the order.

use ipsieve::{Database, Indicator, Overlay, Policy};
use ipsieve_http::{ClientIpConfig, Sieve};

use crate::common::*;

fn sieve(overlay: &str) -> Sieve {
    Sieve::builder()
        .database(Database::from_bytes(&first_artifact()).unwrap())
        .overlay(Overlay::parse("overlay.txt", overlay.as_bytes()).unwrap())
        .policy(Policy::default())
        .client_ip(ClientIpConfig::parse("x-forwarded-for", [PROXY_PEER]).unwrap())
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_wins_then_deny_then_the_anonymity_check() {
    let sieve = sieve(
        "# our penetration testers exit through Tor\n\
         allow 185.220.101.1 pentest contract 2025-07\n\
         deny 192.0.2.0/24 card testing ticket 42\n\
         deny AS16509 signups from AWS are bots\n\
         allow 192.0.2.77 our monitoring probe\n",
    );
    let (app, runs) = app(&sieve);
    let client = Client::new(serve(app).await, PROXY_PEER);

    // Allow: a Tor exit pays.
    let r = client.as_ip("/pay", TOR).await;
    assert_eq!(
        (r.status, r.str("response"), r.str("reason")),
        (200, "allow", "overlay_allow")
    );
    assert_eq!(r.json["overlay"]["reason"], "pentest contract 2025-07");
    assert_eq!(r.json["overlay"]["line"], 2);
    // Deny by prefix: blocked everywhere but read, where it steps up.
    let r = client.as_ip("/login", CLEAN).await;
    assert_eq!((r.status, r.str("reason")), (403, "overlay_deny"));
    // The refused client is not told the deployment's note.
    assert!(!r.text.contains("card testing"), "{}", r.text);
    let r = client.as_ip("/", CLEAN).await;
    assert_eq!((r.status, r.str("response")), (200, "step_up"));
    // Deny by ASN (the answer's origin AS).
    let r = client.as_ip("/signup", HOSTING).await;
    assert_eq!((r.status, r.str("reason")), (403, "overlay_deny"));
    // A narrower allow inside a deny: allow wins.
    let r = client.as_ip("/pay", "192.0.2.77").await;
    assert_eq!((r.status, r.str("reason")), (200, "overlay_allow"));
    // Nothing in the overlay: the anonymity check.
    let r = client.as_ip("/pay", VPN).await;
    assert_eq!((r.status, r.str("reason")), (200, "vpn"));

    let s = sieve.stats();
    assert_eq!((s.overlay_allow_hits, s.overlay_deny_hits), (2, 3));
    assert_eq!(s.blocked_by.get(Indicator::OverlayDeny), 2);
    assert_eq!(s.stepped_up_by.get(Indicator::OverlayDeny), 1);
    assert_eq!(runs.load(std::sync::atomic::Ordering::Relaxed), 4);
    let m = client.metrics().await;
    assert!(
        m.contains("ipsieve_overlay_hits_total{action=\"deny\"} 3"),
        "{m}"
    );
}
