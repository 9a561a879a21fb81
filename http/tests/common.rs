//! Artifacts, apps, servers and clients shared by the tests.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use ipsieve::{ActionClass, Categories, Tier};
use ipsieve_builder::{Attrs, Builder, SourceSpec};
use ipsieve_http::{Decision, Sieve};
use serde_json::Value;

/// Real addresses of each kind (see `artifact`).
pub const TOR: &str = "185.220.101.1";
/// Another real Tor exit (2024-03-12 exit list of the vendored snapshot), listed only in the
/// "newer" artifact of the reload tests.
pub const TOR_LATER: &str = "185.241.208.232";
pub const VPN: &str = "23.144.160.67";
pub const PROXY: &str = "5.255.99.75";
pub const HOSTING: &str = "3.5.140.9";
/// Hetzner space, hosting only by an ASN-wide list (weak evidence).
pub const HOSTING_WEAK: &str = "5.9.1.1";
pub const RELAY: &str = "104.28.28.1";
pub const RELAY_V6: &str = "2606:54c0::1";
pub const CLEAN: &str = "192.0.2.1";

/// The trusted proxy's address and anyone else's.
pub const PROXY_PEER: &str = "127.0.0.2";
pub const STRANGER: &str = "127.0.0.3";

/// An artifact of real entries: the Tor exits given, a Mullvad server (vendored
/// `data/snapshot/vpn/mullvad.txt.gz`), a checked public SOCKS5 proxy (monosans/proxy-list,
/// 2026-08-22), AWS's 3.5.140.0/22 (`aws-ip-ranges`), Hetzner's 5.9.0.0/16 from an ASN-wide
/// hosting list, iCloud Private Relay egress (IPv4 104.28.28.0/26 and IPv6 2606:54c0::/35),
/// and the origin ASNs of CAIDA's pfx2as excerpt for those prefixes.
pub fn artifact(tor: &[&str], build_time: u64) -> Vec<u8> {
    let mut b = Builder::new().build_time(build_time);
    let mut source = |name: &str, format: &str, c: Categories, provider: &str, tier: Tier| {
        let spec = SourceSpec::new(name, format)
            .categories(c)
            .provider(provider)
            .tier(tier);
        b.add_source(spec).unwrap()
    };
    let tor_src = source(
        "tor-exit-addresses",
        "tor-exit-list",
        Categories::TOR_EXIT,
        "Tor Project",
        Tier::FirstParty,
    );
    let vpn = source(
        "vpn-mullvad",
        "ip-list",
        Categories::VPN,
        "Mullvad",
        Tier::FirstParty,
    );
    let proxy = source(
        "monosans-proxy-list",
        "proxy-list",
        Categories::PROXY,
        "public proxy",
        Tier::Curated,
    );
    let aws = source(
        "aws",
        "aws-ip-ranges",
        Categories::HOSTING,
        "Amazon AWS",
        Tier::FirstParty,
    );
    let asn_hosting = source(
        "hosting-asns",
        "asn-list",
        Categories::HOSTING,
        "Hetzner",
        Tier::AsnHeuristic,
    );
    let relay = source(
        "icloud-private-relay",
        "ip-list",
        Categories::RELAY,
        "iCloud Private Relay",
        Tier::FirstParty,
    );
    let bgp = b
        .add_source(SourceSpec::new("caida-pfx2as", "pfx2as"))
        .unwrap();
    let net = |s: &str| s.parse().unwrap();
    for t in tor {
        b.add_net(tor_src, net(&format!("{t}/32")), Attrs::default())
            .unwrap();
    }
    b.add_net(vpn, net("23.144.160.67/32"), Attrs::default())
        .unwrap();
    b.add_net(proxy, net("5.255.99.75/32"), Attrs::default())
        .unwrap();
    b.add_net(aws, net("3.5.140.0/22"), Attrs::default())
        .unwrap();
    b.add_net(asn_hosting, net("5.9.0.0/16"), Attrs::default())
        .unwrap();
    b.add_net(relay, net("104.28.28.0/26"), Attrs::default())
        .unwrap();
    b.add_net(relay, net("2606:54c0::/35"), Attrs::default())
        .unwrap();
    for (prefix, asn) in [
        ("185.220.101.0/24", 60729),
        ("185.241.208.0/24", 210558),
        ("23.144.160.0/24", 32727),
        ("5.255.96.0/19", 60404),
        ("3.5.140.0/22", 16509),
        ("104.28.28.0/24", 13335),
    ] {
        let attrs = Attrs {
            asn: Some(asn),
            ..Attrs::default()
        };
        b.add_net(bgp, net(prefix), attrs).unwrap();
    }
    b.add_as_name(16509, "AMAZON-02, US");
    b.add_as_name(13335, "CLOUDFLARENET, US");
    b.add_as_name(60729, "ZWIEBELFREUNDE");
    b.compile().unwrap().bytes
}

/// The usual artifact: the first Tor exit only.
pub fn first_artifact() -> Vec<u8> {
    artifact(&[TOR], 1_750_000_000)
}

/// A fresh directory under the system's temporary directory.
pub fn temp_dir(name: &str) -> PathBuf {
    static N: AtomicU64 = AtomicU64::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ipsieve-http-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Publishes `bytes` at `path` as `ipsieve build` does: a temporary file beside it, renamed
/// over it.
pub fn publish(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// The handler: the decision it was given, as JSON. Counts its runs.
async fn show(
    State(runs): State<Arc<AtomicU64>>,
    Extension(d): Extension<Decision>,
) -> Json<Value> {
    runs.fetch_add(1, Ordering::Relaxed);
    Json(d.to_json())
}

/// An app with one layer per route: `GET /` read, `POST /login`, `/signup`, `/pay`; and
/// `GET /metrics` outside any layer. Returns the handler run counter too.
pub fn app(sieve: &Sieve) -> (Router, Arc<AtomicU64>) {
    let runs = Arc::new(AtomicU64::new(0));
    let metrics = {
        let sieve = sieve.clone();
        move || async move { sieve.prometheus() }
    };
    let router = Router::new()
        .route("/", get(show).layer(sieve.layer(ActionClass::READ)))
        .route("/login", post(show).layer(sieve.layer(ActionClass::LOGIN)))
        .route(
            "/signup",
            post(show).layer(sieve.layer(ActionClass::SIGNUP)),
        )
        .route("/pay", post(show).layer(sieve.layer(ActionClass::PAYMENT)))
        .route("/metrics", get(metrics))
        .with_state(Arc::clone(&runs));
    (router, runs)
}

/// Serves `app` on 127.0.0.1:0 with peer addresses recorded; returns the address.
pub async fn serve(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    addr
}

/// Serves `app` without recording peer addresses.
pub async fn serve_without_peers(app: Router) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    addr
}

/// A reply: status, JSON body (or `Null`), headers.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub text: String,
    pub json: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// A field of the JSON body as a string (`""` when absent or not a string).
    pub fn str(&self, field: &str) -> &str {
        self.json[field].as_str().unwrap_or("")
    }
}

/// An HTTP client connecting from a chosen loopback address.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    pub fn new(server: SocketAddr, from: &str) -> Client {
        let http = reqwest::Client::builder()
            .no_proxy()
            .local_address(from.parse::<IpAddr>().unwrap())
            .build()
            .unwrap();
        Client {
            http,
            base: format!("http://{server}"),
        }
    }

    /// `GET /` for `/`, `POST` for anything else but `/metrics`.
    pub async fn call(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> Result<Reply, reqwest::Error> {
        let url = format!("{}{path}", self.base);
        let mut req = if path == "/" || path == "/metrics" {
            self.http.get(url)
        } else {
            self.http.post(url)
        };
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let res = req.send().await?;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await?;
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);

        Ok(Reply {
            status,
            text,
            json,
            headers,
        })
    }

    /// [`Client::call`] with the address in `X-Forwarded-For`.
    pub async fn as_ip(&self, path: &str, ip: &str) -> Reply {
        self.call(path, &[("x-forwarded-for", ip)]).await.unwrap()
    }

    /// The server's `/metrics` text.
    pub async fn metrics(&self) -> String {
        self.http
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// Waits up to `secs` seconds for `done`, checking every 20 ms.
pub async fn wait_for(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if done() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    done()
}
