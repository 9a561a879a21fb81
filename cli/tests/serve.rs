//! `ipsieve serve`, run as a deployment would: the real binary on `127.0.0.1:0`, its printed
//! address read back, called with a real HTTP client (and raw sockets for slow clients), its
//! artifact replaced under load, signalled with SIGHUP and SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::cli::{bin, built};

/// Addresses from the vendored snapshot (data/snapshot): a Tor exit, a Mullvad VPN server, an
/// AWS address, iCloud Private Relay over IPv6, and private space.
const TOR: &str = "185.220.101.1";
const VPN: &str = "23.144.160.67";
const AWS: &str = "3.5.140.1";
const RELAY6: &str = "2606:54c0::1";
const PRIVATE: &str = "10.0.0.1";

/// The build time of `built()`'s artifact (its SOURCE_DATE_EPOCH).
const BUILT_AT: u64 = 1_750_000_000;

/// A running `ipsieve serve`, killed when dropped.
struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    url: String,
    addr: String,
    stderr: PathBuf,
    http: reqwest::blocking::Client,
}

impl Server {
    /// Starts `ipsieve serve --db DB --listen 127.0.0.1:0 ARGS…` and reads the address it
    /// prints.
    fn start(db: &Path, args: &[&str]) -> Server {
        let stderr = db.with_extension("stderr");
        let mut child = bin()
            .arg("serve")
            .arg("--db")
            .arg(db)
            .args(["--listen", "127.0.0.1:0"])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let url = line.trim().to_owned();
        assert!(
            url.starts_with("http://127.0.0.1:"),
            "no address printed ({url:?}); stderr:\n{}",
            std::fs::read_to_string(&stderr).unwrap_or_default()
        );
        Server {
            child,
            addr: url.trim_start_matches("http://").to_owned(),
            url,
            stderr,
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    fn get(&self, path: &str) -> (u16, Value) {
        let r = self.http.get(format!("{}{path}", self.url)).send().unwrap();
        reply(r)
    }

    fn post(&self, path: &str, body: impl Into<reqwest::blocking::Body>) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.url))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .unwrap();
        reply(r)
    }

    fn check(&self, ip: &str) -> Value {
        let (status, v) = self.post("/v1/check", json!({ "ip": ip }).to_string());
        assert_eq!(status, 200, "{v}");
        v
    }

    fn metrics(&self) -> String {
        let r = self
            .http
            .get(format!("{}/metrics", self.url))
            .send()
            .unwrap();
        assert_eq!(r.status(), 200);
        r.text().unwrap()
    }

    fn signal(&self, name: &str) {
        let ok = std::process::Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{name}");
    }

    fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Status and JSON body; a body that is not JSON fails the test.
fn reply(r: reqwest::blocking::Response) -> (u16, Value) {
    let status = r.status().as_u16();
    let json_type = r
        .headers()
        .get("content-type")
        .is_some_and(|v| v == "application/json");
    let text = r.text().unwrap();
    let v = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status} {text:?}: {e}"));
    assert!(
        json_type,
        "{status} {text} without content-type: application/json"
    );
    (status, v)
}

/// Polls `done` every 20 ms until it holds or `secs` pass.
fn wait_for(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    done()
}

/// `built()`'s artifact copied into a directory of this test's own (other tests rebuild
/// `built()`'s file, which a server watching it would count as reloads).
fn own_copy(name: &str) -> PathBuf {
    let dir = ipsieve_testkit::fresh_dir(&format!("serve-{name}"));
    let db = dir.join("live.ipsieve");
    std::fs::copy(built(), &db).unwrap();
    db
}

/// The vendored snapshot built with `build_time`, at `out`.
fn build_at(build_time: u64, out: &Path) {
    let o = bin()
        .args(["build", "--out"])
        .arg(out)
        .arg("--sources")
        .arg(ipsieve_testkit::snapshot_manifest())
        .env("SOURCE_DATE_EPOCH", build_time.to_string())
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

/// Puts `bytes` at `live` the way `ipsieve build` publishes: written beside it, renamed over.
fn publish(live: &Path, bytes: &[u8]) {
    let tmp = live.with_extension("new");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, live).unwrap();
}

/// The keys of a JSON object, sorted.
fn sorted_keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

fn health(s: &Server) -> Value {
    let (status, v) = s.get("/healthz");
    assert_eq!(status, 200, "{v}");
    v
}

#[test]
fn serve_answers_in_the_api_shapes() {
    let s = Server::start(&own_copy("shapes"), &[]);

    // POST /v1/check, IPLogs' shape.
    // The exit list of 2024-03-12 is 460 days old at BUILT_AT: its weight has decayed to
    // half (docs/INTELLIGENCE.md, "Decay with age"), so the exit is vpn_likely.
    let tor = s.check(TOR);
    assert_eq!(tor["verdict"], "vpn_likely", "{tor}");
    assert_eq!(tor["is_vpn"], false);
    assert_eq!(tor["score"], 0.5);
    assert_eq!(tor["confidence"], 0.5, "{tor}");
    let signals = tor["signals"].as_array().unwrap();
    let exit = signals
        .iter()
        .find(|s| s["type"] == "tor_exit")
        .unwrap_or_else(|| panic!("{tor}"));
    assert_eq!(exit["matched"], true);
    assert_eq!(exit["weight"], 0.5);
    let detail = exit["detail"].as_str().unwrap();
    assert!(
        detail.starts_with("tor-exit-addresses: tor_exit (") && detail.contains(", snapshot 20"),
        "{detail}"
    );
    let info = &tor["ip_info"];
    assert_eq!(info["ip"], TOR);
    assert!(info["asn"].as_str().unwrap().starts_with("AS"), "{info}");
    assert_eq!(info["vpn_provider"], "Tor Project");
    assert_eq!(info["vpn_provider_sources"], json!(["tor-exit-addresses"]));
    assert_eq!(tor["special"], Value::Null);
    assert_eq!(tor["request_id"].as_str().unwrap().len(), 20);
    assert_eq!(
        sorted_keys(&tor),
        [
            "confidence",
            "ip_info",
            "is_bogon",
            "is_vpn",
            "request_id",
            "score",
            "signals",
            "special",
            "verdict"
        ]
    );

    let vpn = s.check(VPN);
    assert_eq!(vpn["verdict"], "vpn_detected", "{vpn}");
    assert_eq!(vpn["ip_info"]["vpn_provider"], "Mullvad");
    assert_eq!(
        vpn["ip_info"]["vpn_provider_sources"],
        json!(["vpn-mullvad"])
    );
    assert_eq!(vpn["ip_info"]["asn"], "AS32727");

    let aws = s.check(AWS);
    assert_eq!(aws["verdict"], "suspicious", "{aws}");
    assert_eq!(aws["is_vpn"], false);
    assert_eq!(aws["ip_info"]["vpn_provider"], Value::Null);

    // Private space: answered, its nature stated.
    let private = s.check(PRIVATE);
    assert_eq!(private["verdict"], "clean");
    assert_eq!(private["special"]["name"], "Private-Use");
    assert_eq!(private["is_bogon"], true);

    // A request id the caller sends comes back.
    let r = s
        .http
        .post(format!("{}/v1/check", s.url))
        .header("x-request-id", "abc-123")
        .body(json!({ "ip": TOR }).to_string())
        .send()
        .unwrap();
    assert_eq!(r.headers()["x-request-id"], "abc-123");
    assert_eq!(reply(r).1["request_id"], "abc-123");

    // GET /ip/{ip}, ip2geoapi's shape.
    let (status, ip) = s.get(&format!("/ip/{TOR}"));
    assert_eq!(status, 200);
    assert_eq!(ip["success"], true);
    assert_eq!(ip["ip"], TOR);
    assert_eq!(ip["version"], "ipv4");
    let sec = &ip["security"];
    assert_eq!(sec["isTor"], true);
    assert_eq!(sec["isAnonymous"], true);
    assert_eq!(sec["proxyType"], "TOR");
    assert_eq!(sec["trustScore"], 50);
    assert_eq!(sec["riskLevel"], "high");
    assert_eq!(
        sorted_keys(sec),
        [
            "isAnonymous",
            "isHosting",
            "isProxy",
            "isTor",
            "isVpn",
            "proxyType",
            "riskLevel",
            "trustScore",
            "vpnProvider",
            "vpnProviderUrl"
        ]
    );
    let (_, vpn) = s.get(&format!("/ip/{VPN}"));
    assert_eq!(vpn["security"]["isVpn"], true);
    assert_eq!(vpn["security"]["vpnProvider"], "Mullvad");
    assert_eq!(vpn["security"]["proxyType"], "VPN");
    let (_, aws) = s.get(&format!("/ip/{AWS}"));
    assert_eq!(aws["security"]["isHosting"], true);
    assert_eq!(aws["security"]["proxyType"], "DCH");
    assert_eq!(aws["security"]["isAnonymous"], false);
    let (status, relay) = s.get(&format!("/ip/{RELAY6}"));
    assert_eq!(status, 200);
    assert_eq!(relay["version"], "ipv6");
    assert_eq!(relay["ip"], RELAY6);
    assert_eq!(relay["security"]["proxyType"], "CPN");
    assert_eq!(relay["security"]["isVpn"], false);
    let (_, private) = s.get(&format!("/ip/{PRIVATE}"));
    assert_eq!(private["special"]["name"], "Private-Use");
    assert_eq!(private["isBogon"], true);
    assert_eq!(private["security"]["trustScore"], 100);
    // The caller itself, from the socket: loopback.
    let (status, me) = s.get("/ip/me");
    assert_eq!(status, 200);
    assert_eq!(me["ip"], "127.0.0.1");
    assert_eq!(me["special"]["name"], "Loopback");

    // POST /v1/bulk-check: a compact row per address, in order.
    let (status, bulk) = s.post(
        "/v1/bulk-check",
        json!({ "ips": [TOR, VPN, AWS, RELAY6, PRIVATE] }).to_string(),
    );
    assert_eq!(status, 200, "{bulk}");
    assert_eq!(bulk["count"], 5);
    let rows = bulk["results"].as_array().unwrap();
    let ips: Vec<&str> = rows.iter().map(|r| r["ip"].as_str().unwrap()).collect();
    assert_eq!(ips, [TOR, VPN, AWS, RELAY6, PRIVATE]);
    assert_eq!(rows[1]["verdict"], "vpn_detected");
    assert_eq!(rows[1]["provider"], "Mullvad");
    assert_eq!(rows[1]["asn"], "AS32727");
    assert_eq!(rows[2]["provider"], "Amazon AWS");
    assert_eq!(rows[4]["asn"], Value::Null);
    assert_eq!(
        sorted_keys(&rows[0]),
        ["asn", "country", "ip", "provider", "score", "verdict"]
    );
    let (status, bulk) = s.post("/v1/bulk-check", r#"{"ips": []}"#);
    assert_eq!((status, &bulk["count"]), (200, &json!(0)));

    // Health, stats and metrics.
    let h = health(&s);
    assert_eq!(h["loaded"], true);
    assert_eq!(h["build_time"], BUILT_AT);
    assert!(h["age_seconds"].as_u64().unwrap() > 0);
    let (status, stats) = s.get("/internal/stats");
    assert_eq!(status, 200);
    // Mullvad by check, by /ip and in the bulk (the stale Tor exit is vpn_likely).
    assert_eq!(stats["vpnBlockedCount"], 3, "{stats}");
    // Five checks, five /ip, /ip/me, five in the bulks.
    assert_eq!(stats["lookups"], 5 + 5 + 1 + 5, "{stats}");
    assert_eq!(stats["reloads"], 0);
    let m = s.metrics();
    for line in [
        "ipsieve_serve_requests_total{route=\"/v1/check\",status=\"200\"} 5",
        "ipsieve_serve_requests_total{route=\"/ip/{ip}\",status=\"200\"} 5",
        "ipsieve_serve_requests_total{route=\"/v1/bulk-check\",status=\"200\"} 2",
        "ipsieve_serve_request_duration_seconds_count{route=\"/v1/check\"} 5",
        "ipsieve_lookups_total 16",
        "ipsieve_reloads_total{result=\"success\"} 0",
        "ipsieve_reloads_total{result=\"failure\"} 0",
        "ipsieve_database_loaded 1",
        "ipsieve_serve_answers_total{verdict=\"vpn_detected\"} 3",
    ] {
        assert!(m.lines().any(|l| l == line), "{line} missing in\n{m}");
    }
    assert!(m
        .lines()
        .any(|l| l.starts_with("ipsieve_database_age_seconds ")));
}

#[test]
fn serve_refuses_bad_input_with_json_4xx() {
    let s = Server::start(&own_copy("errors"), &[]);
    let too_many = json!({ "ips": vec![TOR; 101] }).to_string();
    let over_limit = format!(r#"{{"ip": "{TOR}", "pad": "{}"}}"#, "x".repeat(64 * 1024));
    let cases: Vec<(&str, &str, String, u16, &str)> = vec![
        (
            "POST",
            "/v1/check",
            r#"{"ip": "#.into(),
            400,
            "malformed_json",
        ),
        (
            "POST",
            "/v1/check",
            "not json".into(),
            400,
            "malformed_json",
        ),
        ("POST", "/v1/check", "".into(), 400, "malformed_json"),
        (
            "POST",
            "/v1/check",
            r#"{"ip": 5}"#.into(),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/check",
            r#"["1.1.1.1"]"#.into(),
            400,
            "invalid_request",
        ),
        ("POST", "/v1/check", "{}".into(), 400, "invalid_request"),
        (
            "POST",
            "/v1/check",
            r#"{"ip": "1.2.3"}"#.into(),
            400,
            "invalid_ip",
        ),
        (
            "POST",
            "/v1/check",
            r#"{"ip": "<script>"}"#.into(),
            400,
            "invalid_ip",
        ),
        ("POST", "/v1/check", over_limit, 413, "body_too_large"),
        ("POST", "/v1/bulk-check", too_many, 400, "too_many_ips"),
        (
            "POST",
            "/v1/bulk-check",
            r#"{"ips": "1.1.1.1"}"#.into(),
            400,
            "invalid_request",
        ),
        (
            "POST",
            "/v1/bulk-check",
            r#"{"ips": ["1.1.1.1", "x"]}"#.into(),
            400,
            "invalid_ip",
        ),
        ("GET", "/ip/not-an-ip", "".into(), 400, "invalid_ip"),
        ("GET", "/ip/%ff%fe", "".into(), 400, "invalid_ip"),
        ("GET", "/nowhere", "".into(), 404, "not_found"),
        ("GET", "/ip/1.1.1.1/extra", "".into(), 404, "not_found"),
        ("GET", "/v1/check", "".into(), 405, "method_not_allowed"),
        (
            "DELETE",
            "/ip/1.1.1.1",
            "".into(),
            405,
            "method_not_allowed",
        ),
        ("POST", "/healthz", "".into(), 405, "method_not_allowed"),
    ];
    for (method, path, body, want_status, want_error) in &cases {
        let r = s
            .http
            .request(method.parse().unwrap(), format!("{}{path}", s.url))
            .body(body.clone())
            .send()
            .unwrap();
        let (status, v) = reply(r);
        let what = format!("{method} {path} {}", &body[..body.len().min(60)]);
        assert_eq!(status, *want_status, "{what}: {v}");
        assert_eq!(v["error"], *want_error, "{what}: {v}");
        assert_eq!(v["success"], false, "{what}");
        assert!(!v["message"].as_str().unwrap().is_empty(), "{what}");
    }
    let (_, v) = s.post(
        "/v1/bulk-check",
        json!({ "ips": vec![TOR; 101] }).to_string(),
    );
    assert_eq!(
        v["message"],
        "at most 100 addresses per request; this one has 101"
    );
    let (_, v) = s.post("/v1/bulk-check", r#"{"ips": ["1.1.1.1", "x"]}"#);
    assert_eq!(v["message"], "ips[1]: 'x' is not an IPv4 or IPv6 address");
    // Exactly 100 is fine.
    let (status, v) = s.post(
        "/v1/bulk-check",
        json!({ "ips": vec![TOR; 100] }).to_string(),
    );
    assert_eq!((status, &v["count"]), (200, &json!(100)));
    // Nothing above was a 5xx, and the server still answers.
    let m = s.metrics();
    assert!(
        !m.lines()
            .any(|l| l.starts_with("ipsieve_serve_requests_total") && l.contains("status=\"5")),
        "{m}"
    );
    assert_eq!(s.check(TOR)["verdict"], "vpn_likely");
}

/// Reads from `stream` until the server closes it (or 10 s pass); what it sent.
fn read_to_close(stream: &mut TcpStream) -> String {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => panic!("the server kept the connection open: {e}"),
        }
    }
    String::from_utf8_lossy(&got).into_owned()
}

#[test]
fn serve_times_out_slow_clients() {
    let s = Server::start(
        &own_copy("slow"),
        &["--header-timeout", "300ms", "--body-timeout", "300ms"],
    );
    // Half a header, then nothing: the connection is closed.
    let mut half = TcpStream::connect(&s.addr).unwrap();
    let start = Instant::now();
    half.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .unwrap();
    let got = read_to_close(&mut half);
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(250) && took < Duration::from_secs(5),
        "{took:?}"
    );
    assert!(!got.contains("200 OK"), "{got}");

    // Headers, then half the body: 408 with a JSON error.
    let mut slow = TcpStream::connect(&s.addr).unwrap();
    let body = format!(r#"{{"ip": "{TOR}"}}"#);
    write!(
        slow,
        "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..5]
    )
    .unwrap();
    let got = read_to_close(&mut slow);
    assert!(got.starts_with("HTTP/1.1 408"), "{got}");
    assert!(got.contains(r#""error":"body_timeout""#), "{got}");

    // The server still answers.
    assert_eq!(s.check(TOR)["verdict"], "vpn_likely");
}

#[test]
fn serve_reloads_good_and_refuses_corrupt_artifacts_under_load() {
    let live = own_copy("reload");
    let dir = live.parent().unwrap().to_path_buf();
    let later = dir.join("later.ipsieve");
    build_at(1_760_000_000, &later);
    let s = Arc::new(Server::start(&live, &["--poll-interval", "50ms"]));
    assert_eq!(health(&s)["build_time"], BUILT_AT);

    // Load: two threads asking about the Tor exit until told to stop; every answer must be a
    // 200 with the same verdict.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let load: Vec<_> = (0..2)
        .map(|i| {
            let (s, stop, done) = (Arc::clone(&s), Arc::clone(&stop), Arc::clone(&done));
            std::thread::spawn(move || {
                let mut bad = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let r = if i == 0 {
                        s.http.get(format!("{}/ip/{TOR}", s.url)).send()
                    } else {
                        s.http
                            .post(format!("{}/v1/check", s.url))
                            .body(json!({ "ip": TOR }).to_string())
                            .send()
                    };
                    match r.map(|r| (r.status().as_u16(), r.text())) {
                        Ok((200, Ok(t))) if t.contains("TOR") || t.contains("tor_exit") => {}
                        other => bad.push(format!("{other:?}")),
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                bad
            })
        })
        .collect();
    let requests_past = |n: u64| {
        let done = Arc::clone(&done);
        move || done.load(Ordering::Relaxed) >= n
    };
    assert!(wait_for(20, requests_past(50)));

    // A good replacement is picked up.
    publish(&live, &std::fs::read(&later).unwrap());
    assert!(
        wait_for(20, || health(&s)["build_time"] == 1_760_000_000),
        "{}",
        s.stderr()
    );
    assert_eq!(health(&s)["reloads"], 1);
    let n = done.load(Ordering::Relaxed);
    assert!(wait_for(20, requests_past(n + 50)));

    // A corrupt one (a byte flipped in its data), then one that is not an artifact at all:
    // refused and counted, the previous artifact keeps serving.
    let mut flipped = std::fs::read(&later).unwrap();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    publish(&live, &flipped);
    assert!(
        wait_for(20, || health(&s)["reload_failures"] == 1),
        "{}",
        s.stderr()
    );
    publish(&live, b"<html>502 Bad Gateway</html>");
    assert!(wait_for(20, || health(&s)["reload_failures"] == 2));
    let n = done.load(Ordering::Relaxed);
    assert!(wait_for(20, requests_past(n + 50)));
    let h = health(&s);
    assert_eq!(h["build_time"], 1_760_000_000);
    assert_eq!(h["reloads"], 1);
    let (_, stats) = s.get("/internal/stats");
    assert_eq!(stats["reloadFailures"], 2);
    let m = s.metrics();
    assert!(
        m.contains("ipsieve_reloads_total{result=\"failure\"} 2\n"),
        "{m}"
    );
    assert!(
        m.contains("ipsieve_reloads_total{result=\"success\"} 1\n"),
        "{m}"
    );
    assert!(
        s.stderr().contains("refused a replaced artifact"),
        "{}",
        s.stderr()
    );

    stop.store(true, Ordering::Relaxed);
    for t in load {
        let bad = t.join().unwrap();
        assert!(bad.is_empty(), "failed requests during reloads: {bad:?}");
    }
    assert!(done.load(Ordering::Relaxed) >= 150);
}

#[test]
fn serve_reloads_on_sighup() {
    let live = own_copy("sighup");
    let later = live.parent().unwrap().join("later.ipsieve");
    build_at(1_770_000_000, &later);
    // Polling once a day: only the signal can make it notice.
    let s = Server::start(&live, &["--poll-interval", "1440m"]);
    publish(&live, &std::fs::read(&later).unwrap());
    assert_eq!(health(&s)["build_time"], BUILT_AT);
    s.signal("HUP");
    assert!(
        wait_for(20, || health(&s)["build_time"] == 1_770_000_000),
        "{}",
        s.stderr()
    );
    // A corrupt file at SIGHUP is refused; the server keeps serving.
    publish(&live, b"not an artifact");
    s.signal("HUP");
    assert!(wait_for(20, || health(&s)["reload_failures"] == 1));
    assert_eq!(health(&s)["build_time"], 1_770_000_000);
    assert_eq!(s.check(VPN)["verdict"], "vpn_detected");
}

#[test]
fn serve_drains_an_in_flight_request_at_sigterm() {
    let mut s = Server::start(&own_copy("sigterm"), &["--body-timeout", "30s"]);
    // A request in flight: its headers and half its body sent.
    let mut slow = TcpStream::connect(&s.addr).unwrap();
    let body = format!(r#"{{"ip": "{VPN}"}}"#);
    write!(
        slow,
        "POST /v1/check HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{}",
        body.len(),
        &body[..6]
    )
    .unwrap();
    // In flight: it and the metrics request asking.
    assert!(
        wait_for(20, || s
            .metrics()
            .contains("ipsieve_serve_requests_in_flight 2\n")),
        "{}",
        s.metrics()
    );
    s.signal("TERM");
    // It stops accepting connections…
    assert!(
        wait_for(20, || TcpStream::connect(&s.addr).is_err()),
        "still accepting after SIGTERM"
    );
    assert!(
        s.child.try_wait().unwrap().is_none(),
        "exited with a request in flight"
    );
    // …but finishes the request in flight.
    slow.write_all(&body.as_bytes()[6..]).unwrap();
    let got = read_to_close(&mut slow);
    assert!(got.starts_with("HTTP/1.1 200"), "{got}");
    assert!(got.contains(r#""vpn_provider":"Mullvad""#), "{got}");
    let mut status = None;
    assert!(wait_for(20, || {
        status = s.child.try_wait().unwrap();
        status.is_some()
    }));
    assert!(status.unwrap().success(), "{status:?}: {}", s.stderr());
    assert!(s.stderr().contains("draining"), "{}", s.stderr());
}

#[test]
fn serve_ip_me_believes_forwarding_headers_only_from_trusted_proxies() {
    let db = own_copy("forwarded");
    let me = |s: &Server, header: Option<&str>| {
        let mut r = s.http.get(format!("{}/ip/me", s.url));
        if let Some(h) = header {
            r = r.header("x-forwarded-for", h);
        }
        let (status, v) = reply(r.send().unwrap());
        assert_eq!(status, 200, "{v}");
        v
    };
    // This test's client (loopback) is a trusted proxy: the rightmost untrusted hop counts.
    let trusted = Server::start(
        &db,
        &[
            "--client-ip-header",
            "x-forwarded-for",
            "--trust-proxy",
            "127.0.0.0/8",
        ],
    );
    let v = me(&trusted, Some(&format!("203.0.113.9, {TOR}")));
    assert_eq!(v["ip"], TOR);
    assert_eq!(v["security"]["isTor"], true);
    assert_eq!(
        me(&trusted, None)["ip"],
        "127.0.0.1",
        "a proxy without the header"
    );
    drop(trusted);

    // Trusting another network: the header is ignored (and counted); the peer is judged.
    let untrusted = Server::start(
        &db,
        &[
            "--client-ip-header",
            "x-forwarded-for",
            "--trust-proxy",
            "10.0.0.0/8",
        ],
    );
    let v = me(&untrusted, Some(TOR));
    assert_eq!(v["ip"], "127.0.0.1");
    assert_eq!(v["security"]["isTor"], false);
    let (_, stats) = untrusted.get("/internal/stats");
    assert_eq!(stats["forwardingHeadersIgnored"], 1, "{stats}");
    drop(untrusted);

    // A bad configuration is refused at start.
    let out = bin()
        .arg("serve")
        .arg("--db")
        .arg(&db)
        .args([
            "--client-ip-header",
            "x-forwarded-for",
            "--trust-proxy",
            "nonsense",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--trust-proxy"), "{stderr}");
}

#[test]
fn serve_refuses_to_start_without_an_artifact() {
    let dir = ipsieve_testkit::fresh_dir("serve-none");
    let bad = dir.join("bad.ipsieve");
    std::fs::write(&bad, b"<html>not an artifact</html>").unwrap();
    for db in [dir.join("missing.ipsieve"), bad] {
        let out = bin()
            .arg("serve")
            .arg("--db")
            .arg(&db)
            .args(["--listen", "127.0.0.1:0"])
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            out.stdout.is_empty(),
            "printed an address without an artifact"
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("opening"), "{stderr}");
    }
    // Absurd limits and durations are refused before anything starts.
    for (flag, value, why) in [
        ("--max-body", "0", "0 is not in 1..=16777216"),
        ("--max-body", "18446744073709551616", "number too large"),
        (
            "--max-body",
            "99999999999",
            "99999999999 is not in 1..=16777216",
        ),
        ("--header-timeout", "0s", "give a duration above zero"),
        (
            "--body-timeout",
            "100000s",
            "give a duration above zero and at most a day",
        ),
        (
            "--poll-interval",
            "1e20",
            "give a duration above zero and at most a day",
        ),
        ("--poll-interval", "soon", "is not a duration such as 10s"),
    ] {
        let out = bin()
            .args([
                "serve",
                "--db",
                "x.ipsieve",
                "--listen",
                "127.0.0.1:0",
                flag,
                value,
            ])
            .output()
            .unwrap();
        assert!(!out.status.success(), "{flag} {value}");
        assert!(out.stdout.is_empty(), "{flag} {value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(flag) && stderr.contains(why),
            "{flag} {value}: {stderr}"
        );
    }
}
