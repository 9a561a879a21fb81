//! The server around the routes: the artifact opened, the listener bound and printed, one
//! hyper HTTP/1 connection per client (with the header read timeout `axum::serve` lacks),
//! SIGHUP forcing a reload, SIGTERM and SIGINT draining the requests in flight.

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use ipsieve::{ReloadConfig, SharedDatabase};
use ipsieve_http::{ClientIpConfig, Sieve};
use tokio::net::TcpListener;

use super::api::{router, AppState};
use super::metrics::Metrics;
use super::Args;

/// Logs to standard error: `info` unless RUST_LOG says otherwise (`RUST_LOG=debug` logs
/// every request).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

pub(crate) fn run(args: &Args) -> Result<bool> {
    init_logging();
    let client_ip = ClientIpConfig::parse(
        &args.client_ip_header,
        args.trust_proxy.iter().map(String::as_str),
    )
    .context("--client-ip-header and --trust-proxy")?;
    // A FIFO would block the open; a device is no artifact.
    ipsieve_sources::input::require_regular_file(&args.db)
        .map_err(anyhow::Error::from)
        .and_then(|()| {
            let config = ReloadConfig::new().poll_interval(Some(args.poll_interval));
            Ok(SharedDatabase::open_with(&args.db, config)?)
        })
        .with_context(|| format!("opening {}", args.db.display()))
        .and_then(|shared| {
            let sieve = Sieve::builder()
                .shared_database(shared.clone())
                .client_ip(client_ip)
                .build()?;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .thread_name("ipsieve-serve")
                .build()
                .context("starting the runtime")?;
            runtime.block_on(serve(args, sieve, shared))
        })
}

async fn serve(args: &Args, sieve: Sieve, shared: SharedDatabase) -> Result<bool> {
    let listener = TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("listening on {}", args.listen))?;
    let local = listener.local_addr().context("the bound address")?;
    let state = Arc::new(AppState {
        sieve,
        metrics: Metrics::default(),
        // At most 16 MiB (checked by clap): fits any usize.
        max_body: usize::try_from(args.max_body).unwrap_or(usize::MAX),
        body_timeout: args.body_timeout,
        started: Instant::now(),
    });
    let app = router(Arc::clone(&state));
    let build_time = shared.load().build_time();
    {
        let mut out = std::io::stdout().lock();
        writeln!(out, "http://{local}")?;
        out.flush()?;
    }
    tracing::info!(
        listen = %local,
        db = %args.db.display(),
        build_time,
        "ipsieve serve: listening"
    );
    let hangups = tokio::spawn(reload_on_hangup(shared.clone()));

    let shutdown = shutdown_signal();
    tokio::pin!(shutdown);
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(args.header_timeout);
    let signal = loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let app = app.clone();
                    let service = hyper::service::service_fn(move |mut r: Request<Incoming>| {
                        r.extensions_mut().insert(ConnectInfo(peer));
                        tower::ServiceExt::oneshot(app.clone(), r)
                    });
                    let connection = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
                    tokio::spawn(async move {
                        if let Err(e) = connection.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                // Out of file descriptors and the like: wait a little rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            signal = &mut shutdown => break signal?,
        }
    };
    drop(listener);
    hangups.abort();
    tracing::info!(
        signal,
        in_flight = state.metrics.in_flight(),
        "ipsieve serve: draining the requests in flight"
    );
    match tokio::time::timeout(args.shutdown_timeout, graceful.shutdown()).await {
        Ok(()) => {
            tracing::info!("ipsieve serve: stopped");
            Ok(true)
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = args.shutdown_timeout.as_millis() as u64,
                "ipsieve serve: stopped with requests still in flight"
            );
            Ok(false)
        }
    }
}

/// The first SIGTERM or SIGINT, by name.
#[cfg(unix)]
async fn shutdown_signal() -> Result<&'static str> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate()).context("handling SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("handling SIGINT")?;
    Ok(tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = int.recv() => "SIGINT",
    })
}

#[cfg(not(unix))]
async fn shutdown_signal() -> Result<&'static str> {
    tokio::signal::ctrl_c().await.context("handling Ctrl-C")?;
    Ok("Ctrl-C")
}

/// Each SIGHUP reloads the artifact now, whether or not it looks changed; a bad file is
/// refused (and counted) and the previous artifact keeps serving.
#[cfg(unix)]
async fn reload_on_hangup(shared: SharedDatabase) {
    use tokio::signal::unix::{signal, SignalKind};
    let mut hangup = match signal(SignalKind::hangup()) {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot handle SIGHUP; reloads come from polling only");
            return;
        }
    };
    while hangup.recv().await.is_some() {
        let s = shared.clone();
        match tokio::task::spawn_blocking(move || s.reload()).await {
            Ok(Ok(db)) => tracing::info!(
                build_time = db.build_time(),
                "SIGHUP: reloaded the artifact"
            ),
            Ok(Err(e)) => tracing::error!(
                error = %e,
                "SIGHUP: refused the artifact; still serving the previous one"
            ),
            Err(e) => tracing::error!(error = %e, "SIGHUP: the reload task failed"),
        }
    }
}

#[cfg(not(unix))]
async fn reload_on_hangup(_: SharedDatabase) {}
