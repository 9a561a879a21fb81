//! `ipsieve serve`: a self-hosted JSON API in the shapes of the paid IP APIs an existing client
//! already calls (IPLogs' `POST /v1/check` and `POST /v1/bulk-check`, ip2geoapi's
//! `GET /ip/{ip}`), so that the client changes only its base URL. The artifact, its hot reload,
//! the counters and the client address come from the `ipsieve-http` crate's `Sieve`; this module
//! adds the routes, their JSON and the server around them (docs/HTTP.md).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;

#[cfg(feature = "serve")]
mod api;
#[cfg(feature = "serve")]
mod metrics;
#[cfg(feature = "serve")]
mod server;

/// What `serve` reads.
// Without the `serve` feature the options are parsed (for `--help`) but go unread.
#[cfg_attr(not(feature = "serve"), allow(dead_code))]
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The artifact. A replaced file (written elsewhere and renamed over it, as `ipsieve
    /// build` does) is picked up within --poll-interval, and at once on SIGHUP; a replacement
    /// that does not open and verify is refused (and counted) while the previous one keeps
    /// serving.
    #[arg(long)]
    pub(crate) db: PathBuf,
    /// The address to listen on (port 0: any free port). Once bound, it is printed on standard
    /// output as `http://ADDRESS:PORT`; logs go to standard error (RUST_LOG sets the level).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub(crate) listen: SocketAddr,
    /// The largest request body accepted, in bytes (1 to 16 MiB); a larger one gets 413.
    #[arg(long, default_value_t = 64 * 1024,
          value_parser = clap::value_parser!(u64).range(1..=16 << 20))]
    pub(crate) max_body: u64,
    /// How long a client may take to send a request's headers (`10s`, `500ms`, `1m`; above
    /// zero, at most a day); a slower one has its connection closed.
    #[arg(long, default_value = "10s", value_parser = crate::duration::duration)]
    pub(crate) header_timeout: Duration,
    /// How long a client may take to send a request's body once its headers are in; a slower
    /// one gets 408.
    #[arg(long, default_value = "10s", value_parser = crate::duration::duration)]
    pub(crate) body_timeout: Duration,
    /// How often the artifact's file is checked for a replacement.
    #[arg(long, default_value = "5s", value_parser = crate::duration::duration)]
    pub(crate) poll_interval: Duration,
    /// At SIGTERM or SIGINT the server stops accepting connections and lets the requests in
    /// flight finish, for at most this long.
    #[arg(long, default_value = "30s", value_parser = crate::duration::duration)]
    pub(crate) shutdown_timeout: Duration,
    /// Where `GET /ip/me` and the request log find the client's address: `socket` (the
    /// peer), or a forwarding header (`x-forwarded-for`, `forwarded`, `cf-connecting-ip`,
    /// `x-real-ip`, …) read only from peers in a --trust-proxy network.
    #[arg(long, default_value = "socket", value_name = "SOURCE")]
    pub(crate) client_ip_header: String,
    /// A proxy network (CIDR, or one address) whose forwarding header is believed;
    /// repeatable.
    #[arg(long = "trust-proxy", value_name = "CIDR")]
    pub(crate) trust_proxy: Vec<String>,
}

/// Runs the server until SIGTERM or SIGINT; `Ok(true)` after a clean shutdown.
#[cfg(feature = "serve")]
pub(crate) fn run(args: &Args) -> Result<bool> {
    server::run(args)
}

#[cfg(not(feature = "serve"))]
const NO_SERVE: &str = "this ipsieve was built without the `serve` feature (as `cargo try` \
    builds it); build the whole command line with `cargo install --locked --path cli`, or run \
    `cargo run --release --locked -p ipsieve-cli -- serve …`";

/// Without the `serve` feature: says how to get it.
#[cfg(not(feature = "serve"))]
pub(crate) fn run(_: &Args) -> Result<bool> {
    anyhow::bail!(NO_SERVE)
}
