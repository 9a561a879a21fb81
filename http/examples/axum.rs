//! An axum service with ipsieve in its request path: copy it and change the routes.
//!
//! ```sh
//! cargo try build --out ipsieve.db                                 # the vendored snapshot
//! cargo run -p ipsieve-http --example axum                             # listens on 127.0.0.1:3000
//! curl -i -X POST localhost:3000/checkout                              # 200: you are clean
//! # Behind a proxy: trust its X-Forwarded-For (here: requests from this machine).
//! IPSIEVE_CLIENT_IP=x-forwarded-for IPSIEVE_TRUSTED_PROXIES=127.0.0.1 \
//!     cargo run -p ipsieve-http --example axum &
//! curl -i -X POST localhost:3000/checkout -H 'x-forwarded-for: 185.241.208.232'   # 403: Tor
//! curl -i -X POST localhost:3000/login    -H 'x-forwarded-for: 185.241.208.232'   # 401: challenge
//! curl localhost:3000/metrics
//! ```
//!
//! Configuration, from the environment:
//! * `IPSIEVE_DB` (default `ipsieve.db`): the artifact, reloaded when replaced (by rename).
//! * `IPSIEVE_OVERLAY`: an overlay file of allow and deny entries (`allow 203.0.113.0/24 Acme`).
//! * `IPSIEVE_POLICY`: a policy file (`signup vpn block`), applied to the default table.
//! * `IPSIEVE_CLIENT_IP` (default `socket`) and `IPSIEVE_TRUSTED_PROXIES` (comma-separated
//!   networks): where the client address comes from.
//! * `IPSIEVE_FAIL` (`open`, the default, or `closed`): what to do while no artifact opens.
//! * `LISTEN` (default `127.0.0.1:3000`), `RUST_LOG` (default `info`).

use std::net::SocketAddr;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use ipsieve::{ActionClass, Overlay, Policy};
use ipsieve_http::{ClientIpConfig, Decision, FailMode, Sieve};
use serde_json::json;

type Error = Box<dyn std::error::Error + Send + Sync>;

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The sieve from the environment (see the file's docs).
fn sieve() -> Result<Sieve, Error> {
    let client_ip = ClientIpConfig::parse(
        &env("IPSIEVE_CLIENT_IP").unwrap_or_else(|| "socket".into()),
        env("IPSIEVE_TRUSTED_PROXIES")
            .as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.trim().is_empty()),
    )?;
    let overlay = match env("IPSIEVE_OVERLAY") {
        Some(path) => Overlay::load(path)?,
        None => Overlay::empty(),
    };
    let policy = match env("IPSIEVE_POLICY") {
        Some(path) => Policy::load(path)?,
        None => Policy::default(),
    };
    let fail_mode = match env("IPSIEVE_FAIL").as_deref() {
        Some("closed") => FailMode::Closed,
        _ => FailMode::Open,
    };
    Ok(Sieve::builder()
        .database_path(env("IPSIEVE_DB").unwrap_or_else(|| "ipsieve.db".into()))
        .overlay(overlay)
        .policy(policy)
        .client_ip(client_ip)
        .fail_mode(fail_mode)
        .build()?)
}

/// Public pages: never blocked by the default policy; the decision is there to log or to
/// tune rate limits with.
async fn home(Extension(d): Extension<Decision>) -> String {
    format!(
        "hello {}: {} ({})\n",
        d.ip().map(|ip| ip.to_string()).unwrap_or_default(),
        d.response(),
        d.reason()
    )
}

/// Sign-in: challenge before checking the password when the layer says so.
async fn login(Extension(d): Extension<Decision>) -> impl IntoResponse {
    if d.needs_step_up() {
        let body = json!({"challenge": "captcha", "request_id": d.request_id().to_string()});
        return (StatusCode::UNAUTHORIZED, Json(body));
    }
    // A real handler checks credentials here; `d.is_elevated_risk()` can shorten the session.
    (StatusCode::OK, Json(json!({"signed_in": true})))
}

/// Paying: a blocked request never gets here (the layer answered 403).
async fn checkout(Extension(d): Extension<Decision>) -> impl IntoResponse {
    if d.needs_step_up() {
        return (StatusCode::UNAUTHORIZED, Json(json!({"challenge": "3ds"})));
    }
    let provider = d.answer().and_then(|a| a.provider()).unwrap_or("");
    (
        StatusCode::OK,
        Json(json!({"paid": true, "network_provider": provider})),
    )
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let sieve = sieve()?;
    let metrics = {
        let sieve = sieve.clone();
        move || async move { sieve.prometheus() }
    };
    // The route picks the class: a layer per route.
    let app = Router::new()
        .route("/", get(home).layer(sieve.layer(ActionClass::READ)))
        .route("/login", post(login).layer(sieve.layer(ActionClass::LOGIN)))
        .route(
            "/signup",
            post(login).layer(sieve.layer(ActionClass::SIGNUP)),
        )
        .route(
            "/checkout",
            post(checkout).layer(sieve.layer(ActionClass::PAYMENT)),
        )
        // Operators only: keep it off the public listener in production.
        .route("/metrics", get(metrics));

    let listen = env("LISTEN").unwrap_or_else(|| "127.0.0.1:3000".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    tracing::info!(%listen, client_ip = %sieve.client_ip().source(), "listening");
    // `ConnectInfo<SocketAddr>` gives the layer each request's peer address.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await?;
    Ok(())
}
