//! # ipsieve-http
//!
//! A [tower](https://docs.rs/tower) layer that puts ipsieve in the request path of axum,
//! tonic, hyper or any other tower-based service: it finds each request's client address,
//! looks it up once in an ipsieve artifact, checks the deployment's overlay, applies the
//! [`Policy`](ipsieve::Policy) of the route's action class, and then either refuses the
//! request with a small JSON 403 before the inner service runs, or passes it on with its
//! [`Decision`] in the request's extensions.
//!
//! ## Quick start
//! ```
//! use axum::{routing::{get, post}, Extension, Router};
//! use ipsieve::{ActionClass, Database, Indicator};
//! use ipsieve_http::{Decision, PeerAddr, Sieve};
//! use tower::ServiceExt; // oneshot
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! // A service names the file: `Sieve::builder().database_path("ipsieve.db")`, hot-reloaded.
//! let db = Database::from_bytes(include_bytes!("../../lookup/tests/golden/v4.ipsieve"))?;
//! let sieve = Sieve::builder().database(db).build()?;
//!
//! async fn pay(Extension(d): Extension<Decision>) -> &'static str {
//!     if d.needs_step_up() { "challenge first" } else { "paid" }
//! }
//! // The route picks the class.
//! let app = Router::new()
//!     .route("/", get(|| async { "hello" }).layer(sieve.layer(ActionClass::READ)))
//!     .route("/pay", post(pay).layer(sieve.layer(ActionClass::PAYMENT)));
//!
//! // A request from a Tor exit. A served router has the peer in axum's `ConnectInfo`
//! // (`into_make_service_with_connect_info::<SocketAddr>()`); here `PeerAddr` stands in.
//! let request = |method: &str, path: &str| {
//!     http::Request::builder()
//!         .method(method)
//!         .uri(path)
//!         .extension(PeerAddr("185.220.101.1:4711".parse().unwrap()))
//!         .body(axum::body::Body::empty())
//!         .unwrap()
//! };
//! let read = app.clone().oneshot(request("GET", "/")).await?;
//! assert_eq!(read.status(), 200); // the default policy never blocks reading
//! let paid = app.oneshot(request("POST", "/pay")).await?;
//! assert_eq!(paid.status(), 403); // but blocks paying from a Tor exit
//! assert_eq!(sieve.stats().blocked_by.get(Indicator::TorExit), 1);
//! print!("{}", sieve.prometheus()); // ipsieve_requests_total{outcome="block"} 1, …
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```
//! `examples/axum.rs` is a complete server to copy: a file artifact, an overlay, a policy,
//! a proxy in front, route classes, `/metrics`.
//!
//! ## What the layer decides, in order
//! The order a gateway firewall applies (each step is the lookup crate's
//! [`Policy::decide`](ipsieve::Policy::decide)):
//! 1. **overlay allow**: an allow entry of the [`Overlay`](ipsieve::Overlay) covering the
//!    address or its ASN lets the request through; nothing else is checked.
//! 2. **overlay deny**: a deny entry applies the policy's `overlay_deny` cell of the class
//!    (`block`, except `step_up` on `read`).
//! 3. **the anonymity check**: each category of the answer (`tor_exit`, `vpn`, `proxy`,
//!    `hosting`, `tor_relay`, `relay`) applies its cell of the class; the most severe cell
//!    wins (with an overlay deny, the deny is named on a tie). What is blocked is
//!    configured per category and per class in the [`Policy`](ipsieve::Policy) (in code, or a
//!    policy file): the default blocks a Tor exit on `payment` and nothing else, never a
//!    privacy relay (`relay`) and never `read`; categories known only from ASN-wide or
//!    keyword sources are capped at `elevate_risk`.
//! 4. **pass**: `allow`.
//!
//! `block` ends the request with `403` and [`Decision::refusal_json`] (`{"error":"forbidden",
//! "reason":"tor_exit","class":"payment","ip":…,"request_id":…}`); `step_up` and
//! `elevate_risk` pass it on, marked, for the handler to challenge or watch
//! ([`Decision::needs_step_up`], [`Decision::is_elevated_risk`]).
//!
//! Each layer has one class ([`Sieve::layer`], put on the route), or picks it by route
//! pattern ([`Sieve::layer_with_routes`] with [`RouteClasses`], one layer for a router). A
//! request meets one layer; if layers of one sieve nest, the inner one decides again for its
//! own class from the outer one's lookup (one lookup, two counted decisions).
//!
//! ## The client address
//! [`ClientIpConfig`]: the socket peer, or one forwarding header (`X-Forwarded-For`,
//! `Forwarded`, `CF-Connecting-IP`, `X-Real-IP`, …) read only when the peer is inside a
//! trusted proxy network, taking the rightmost untrusted hop of a list. A header from any
//! other peer is ignored (and counted): a client cannot choose the address it is judged by.
//! Headers are parsed by the `client-ip` crate; [`client_addr`](mod@client_addr) says why it
//! and not `axum-client-ip`, and where `Forwarded` needed more care.
//!
//! ## The artifact, reloads and failure
//! [`SieveBuilder::database_path`] serves a file through [`ipsieve::SharedDatabase`]:
//! replacements (written elsewhere and renamed over the path, as `ipsieve build` does) are
//! picked up within the polling interval; a replacement that does not open or verify is
//! refused, logged and counted while the previous artifact keeps serving. When no artifact
//! can be opened at start, the [`FailMode`] decides: `Open` (the default) passes requests
//! unjudged after a loud `error!` log line, `Closed` refuses them with `503`; either way the
//! overlay still applies, and the open is retried every polling interval.
//!
//! ## Counters
//! [`Sieve::stats`] (allowed, elevated, stepped up, blocked by cause, unjudged, overlay hits,
//! lookups, ignored forwarding headers, reloads and refused reloads) and
//! [`Sieve::prometheus`], the same as Prometheus text for a `/metrics` route.
//!
//! ## Cost
//! One lookup (tens of nanoseconds, no allocation) per request, plus what the request path
//! needs to carry its result: the decision's few small allocations (the answer kept with its
//! artifact, the extension's entry). Logging is `debug` for passes and `info` for blocks and
//! step-ups (targets under `ipsieve_http`), with the request id.
//!
//! ## Features
//! * `axum` (default): reads the peer from axum's `ConnectInfo<SocketAddr>` and the route
//!   pattern from `MatchedPath`. Without it, the layer is plain tower + http; give the peer
//!   as [`PeerAddr`] or through [`SieveBuilder::peer_addr_fn`].
#![deny(missing_docs)]
#![forbid(unsafe_code)]

pub mod client_addr;
pub mod counters;
mod decision;
mod layer;
mod sieve;

pub use client_addr::{
    AddrSource, ClientAddr, ClientIpConfig, ClientIpConfigError, ClientIpSource, ForwardedHeader,
};
pub use counters::{ByCause, Counters, DatabaseStats, Stats};
pub use decision::{Decision, DecisionReason, RequestId, REQUEST_ID_HEADER};
pub use layer::{ResponseFuture, RouteClasses, SieveBody, SieveLayer, SieveService};
pub use sieve::{FailMode, PeerAddr, PeerAddrFn, Sieve, SieveBuilder, SieveError};
