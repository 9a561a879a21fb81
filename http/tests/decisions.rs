//! Allowed, stepped-up and blocked requests per category and route class.

use std::sync::atomic::Ordering;

use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use ipsieve::{ActionClass, Database, Indicator, Policy, Response};
use ipsieve_http::{ClientIpConfig, Decision, RouteClasses, Sieve};
use serde_json::Value;

use crate::common::*;

/// A sieve over the usual artifact, trusting 127.0.0.2's `X-Forwarded-For`.
pub fn sieve(policy: Policy) -> Sieve {
    Sieve::builder()
        .database(Database::from_bytes(&first_artifact()).unwrap())
        .policy(policy)
        .client_ip(ClientIpConfig::parse("x-forwarded-for", [PROXY_PEER]).unwrap())
        .build()
        .unwrap()
}

/// The default table, plus what a deployment might add: block VPNs on signup and hosting on
/// payment.
fn deployment_policy() -> Policy {
    Policy::default()
        .with(ActionClass::SIGNUP, Indicator::Vpn, Response::Block)
        .with(ActionClass::PAYMENT, Indicator::Hosting, Response::Block)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_category_on_each_route_class() {
    let sieve = sieve(deployment_policy());
    let (app, runs) = app(&sieve);
    let client = Client::new(serve(app).await, PROXY_PEER);
    // (address, route, status, response, reason)
    let cases = [
        (TOR, "/", 200, "elevate_risk", "tor_exit"),
        (TOR, "/login", 200, "step_up", "tor_exit"),
        (TOR, "/signup", 200, "step_up", "tor_exit"),
        (TOR, "/pay", 403, "block", "tor_exit"),
        (VPN, "/", 200, "allow", "vpn"),
        (VPN, "/login", 200, "elevate_risk", "vpn"),
        (VPN, "/signup", 403, "block", "vpn"),
        (VPN, "/pay", 200, "step_up", "vpn"),
        (PROXY, "/", 200, "elevate_risk", "proxy"),
        (PROXY, "/login", 200, "step_up", "proxy"),
        (PROXY, "/pay", 200, "step_up", "proxy"),
        (HOSTING, "/", 200, "allow", "hosting"),
        (HOSTING, "/login", 200, "elevate_risk", "hosting"),
        (HOSTING, "/pay", 403, "block", "hosting"),
        // An ASN-wide hosting list alone never blocks (capped at elevate_risk).
        (HOSTING_WEAK, "/pay", 200, "elevate_risk", "hosting"),
        // A privacy relay is never blocked by default, on any class.
        (RELAY, "/", 200, "allow", "relay"),
        (RELAY, "/signup", 200, "allow", "relay"),
        (RELAY, "/pay", 200, "allow", "relay"),
        (RELAY_V6, "/pay", 200, "allow", "relay"),
        (CLEAN, "/pay", 200, "allow", "clean"),
    ];
    let mut passed = 0;
    for (ip, path, status, response, reason) in cases {
        let r = client.as_ip(path, ip).await;
        assert_eq!(r.status, status, "{ip} {path}: {:?}", r.json);
        assert_eq!(r.str("reason"), reason, "{ip} {path}: {:?}", r.json);
        assert_eq!(r.str("ip"), ip, "{ip} {path}");
        if status == 200 {
            passed += 1;
            // The handler saw the decision.
            assert_eq!(r.str("response"), response, "{ip} {path}");
            assert_eq!(r.str("ip_source"), "x-forwarded-for");
        }
    }
    // Blocked requests never reached the handler.
    assert_eq!(runs.load(Ordering::Relaxed), passed);

    let s = sieve.stats();
    assert_eq!(s.requests(), cases.len() as u64);
    assert_eq!(s.lookups, cases.len() as u64);
    assert_eq!(s.blocked, 3);
    assert_eq!(s.blocked_by.get(Indicator::TorExit), 1);
    assert_eq!(s.blocked_by.get(Indicator::Vpn), 1);
    assert_eq!(s.blocked_by.get(Indicator::Hosting), 1);
    assert_eq!(s.blocked_by.get(Indicator::Relay), 0);
    assert_eq!(s.stepped_up, 5);
    assert_eq!(s.stepped_up_by.get(Indicator::Proxy), 2);
    assert_eq!(s.elevated_risk, 5);
    assert_eq!(s.allowed, 7);
    // The same, as Prometheus text, from the app's own /metrics route.
    let metrics = client.metrics().await;
    for line in [
        "ipsieve_requests_total{outcome=\"block\"} 3",
        "ipsieve_blocked_total{reason=\"vpn\"} 1",
        "ipsieve_step_up_total{reason=\"tor_exit\"} 2",
        "ipsieve_requests_total{outcome=\"allow\"} 7",
        "ipsieve_lookups_total 20",
    ] {
        assert!(metrics.lines().any(|l| l == line), "{line}\n{metrics}");
    }
    // The handler's view of the answer (Decision::to_json), field by field.
    let r = client.as_ip("/", RELAY).await;
    let want = serde_json::json!({
        "ip": RELAY, "ip_source": "x-forwarded-for", "class": "read", "response": "allow",
        "reason": "relay", "weak_evidence": false, "overlay": null, "categories": ["relay"],
        "verdict": "clean", "score": 0.1, "asn": 13335, "as_org": "CLOUDFLARENET, US",
        "provider": "iCloud Private Relay", "country": null, "network": "104.28.28.0/26",
        "sources": ["caida-pfx2as", "icloud-private-relay"],
        "request_id": r.json["request_id"].clone(),
    });
    assert_eq!(r.json, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_policy_blocks_only_tor_exits_paying() {
    let sieve = sieve(Policy::default());
    let (app, _) = app(&sieve);
    let client = Client::new(serve(app).await, PROXY_PEER);
    for ip in [TOR, VPN, PROXY, HOSTING, HOSTING_WEAK, RELAY, CLEAN] {
        for path in ["/", "/login", "/signup", "/pay"] {
            let r = client.as_ip(path, ip).await;
            let blocked = ip == TOR && path == "/pay";
            assert_eq!(r.status, if blocked { 403 } else { 200 }, "{ip} {path}");
        }
    }
    assert_eq!(sieve.stats().blocked, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_block_is_a_small_json_403_with_a_request_id() {
    let sieve = sieve(Policy::default());
    let (app, runs) = app(&sieve);
    let client = Client::new(serve(app).await, PROXY_PEER);
    let r = client.as_ip("/pay", TOR).await;
    assert_eq!(r.status, 403);
    assert_eq!(r.headers["content-type"], "application/json");
    assert_eq!(r.headers["cache-control"], "no-store");
    let id = r.headers["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(id.len(), 20);
    let mut keys: Vec<&str> = r
        .json
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["class", "error", "ip", "reason", "request_id"]);
    assert_eq!(r.str("error"), "forbidden");
    assert_eq!(r.str("reason"), "tor_exit");
    assert_eq!(r.str("class"), "payment");
    assert_eq!(r.str("ip"), TOR);
    assert_eq!(r.str("request_id"), id);
    assert_eq!(runs.load(Ordering::Relaxed), 0);

    // A plausible request id from upstream is kept; a hostile one is replaced.
    let r = client
        .call(
            "/pay",
            &[("x-forwarded-for", TOR), ("x-request-id", "edge-7f3a.1")],
        )
        .await
        .unwrap();
    assert_eq!(r.str("request_id"), "edge-7f3a.1");
    let r = client
        .call(
            "/pay",
            &[("x-forwarded-for", TOR), ("x-request-id", "\"}<x>")],
        )
        .await
        .unwrap();
    assert_eq!(r.str("request_id").len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn step_up_marks_the_request_for_the_handler() {
    async fn login(Extension(d): Extension<Decision>) -> Json<Value> {
        let answer = d.answer().unwrap();
        Json(serde_json::json!({
            "challenge": d.needs_step_up(),
            "elevated": d.is_elevated_risk(),
            "provider": answer.provider(),
            "policy": d.policy_decision().unwrap().to_string(),
        }))
    }
    let sieve = sieve(Policy::default());
    let app = Router::new().route("/login", post(login).layer(sieve.layer(ActionClass::LOGIN)));
    let client = Client::new(serve(app).await, PROXY_PEER);
    let r = client.as_ip("/login", TOR).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["challenge"], true);
    assert_eq!(r.json["provider"], "Tor Project");
    assert_eq!(r.json["policy"], "step_up: tor_exit");
    let r = client.as_ip("/login", VPN).await;
    assert_eq!(
        (&r.json["challenge"], &r.json["elevated"]),
        (&Value::Bool(false), &Value::Bool(true))
    );
    assert_eq!(r.json["provider"], "Mullvad");
    let r = client.as_ip("/login", CLEAN).await;
    assert_eq!(r.json["challenge"], false);
    assert_eq!(r.json["policy"], "allow: clean");
    assert_eq!(sieve.stats().stepped_up_by.get(Indicator::TorExit), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_router_wide_layer_picks_the_class_by_route_pattern() {
    async fn ok(Extension(d): Extension<Decision>) -> String {
        d.class().to_string()
    }
    let sieve = sieve(Policy::default());
    let routes = RouteClasses::new(ActionClass::READ)
        .route("/checkout/{cart}", ActionClass::PAYMENT)
        .route("/login", ActionClass::LOGIN);
    let app = Router::new()
        .route("/", get(ok))
        .route("/login", post(ok))
        .route("/checkout/{cart}", post(ok))
        .layer(sieve.layer_with_routes(routes));
    let client = Client::new(serve(app).await, PROXY_PEER);
    assert_eq!(client.as_ip("/checkout/42", TOR).await.status, 403);
    assert_eq!(client.as_ip("/checkout/42", CLEAN).await.status, 200);
    let r = client.as_ip("/login", TOR).await;
    assert_eq!(r.status, 200);
    assert_eq!(client.as_ip("/", TOR).await.status, 200);
    let s = sieve.stats();
    assert_eq!(
        (s.blocked, s.stepped_up, s.elevated_risk, s.allowed),
        (1, 1, 1, 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nested_layers_decide_again_without_a_second_lookup() {
    async fn class(Extension(d): Extension<Decision>) -> String {
        format!("{} {}", d.class(), d.response())
    }
    let sieve = sieve(Policy::default());
    let app = Router::new()
        .route("/", get(class))
        .route("/login", post(class).layer(sieve.layer(ActionClass::LOGIN)))
        .route("/pay", post(class).layer(sieve.layer(ActionClass::PAYMENT)))
        .layer(sieve.layer(ActionClass::READ));
    let client = Client::new(serve(app).await, PROXY_PEER);
    assert_eq!(client.as_ip("/pay", TOR).await.status, 403);
    let s = sieve.stats();
    // One lookup for the request; the outer (read) and inner (payment) decisions counted.
    assert_eq!(s.lookups, 1);
    assert_eq!((s.elevated_risk, s.blocked), (1, 1));
    assert_eq!(client.as_ip("/login", TOR).await.text, "login step_up");
    assert_eq!(client.as_ip("/", TOR).await.text, "read elevate_risk");
    assert_eq!(sieve.stats().lookups, 3);
}
