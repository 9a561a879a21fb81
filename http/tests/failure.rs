//! No artifact at start: fail open (default, with a loud log line) or closed; the overlay
//! still applies; the artifact is picked up once it appears.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ipsieve::{Overlay, ReloadConfig};
use ipsieve_http::{ClientIpConfig, FailMode, Sieve};

use crate::common::*;

fn sieve(path: &std::path::Path, mode: FailMode) -> Sieve {
    Sieve::builder()
        .database_path(path)
        .reload(ReloadConfig::new().poll_interval(Some(Duration::from_millis(25))))
        .overlay(Overlay::parse("overlay.txt", "deny 198.51.100.0/24 abuse\n".as_bytes()).unwrap())
        .client_ip(ClientIpConfig::parse("x-forwarded-for", [PROXY_PEER]).unwrap())
        .fail_mode(mode)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_open_passes_unjudged_until_the_artifact_appears() {
    let dir = temp_dir("fail-open");
    let live = dir.join("ipsieve.db");
    let sieve = sieve(&live, FailMode::Open);
    let (app, _) = app(&sieve);
    let client = Client::new(serve(app).await, PROXY_PEER);

    let r = client.as_ip("/pay", TOR).await;
    assert_eq!((r.status, r.str("reason")), (200, "no_database"));
    assert_eq!(r.str("response"), "allow");
    // The overlay needs no artifact.
    let r = client.as_ip("/pay", "198.51.100.7").await;
    assert_eq!((r.status, r.str("reason")), (403, "overlay_deny"));
    let s = sieve.stats();
    assert_eq!((s.unjudged, s.blocked, s.lookups), (1, 1, 0));
    assert!(!s.database.loaded && s.database.open_failures >= 1);
    assert!(client.metrics().await.contains("ipsieve_database_loaded 0"));

    // A garbage file is not an artifact: still failing open.
    publish(&live, b"<html>login</html>");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(client.as_ip("/pay", TOR).await.str("reason"), "no_database");

    publish(&live, &first_artifact());
    assert!(wait_for(10, || sieve.stats().database.loaded).await);
    let r = client.as_ip("/pay", TOR).await;
    assert_eq!((r.status, r.str("reason")), (403, "tor_exit"));
    assert_eq!(sieve.stats().lookups, 1);
    // From then on it reloads like any artifact.
    publish(&live, &artifact(&[TOR_LATER], 1_760_000_000));
    assert!(wait_for(10, || sieve.stats().database.reloads == 1).await);
    assert_eq!(client.as_ip("/pay", TOR_LATER).await.status, 403);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fail_closed_refuses_with_503_until_the_artifact_appears() {
    let dir = temp_dir("fail-closed");
    let live = dir.join("ipsieve.db");
    let sieve = sieve(&live, FailMode::Closed);
    let (app, runs) = app(&sieve);
    let client = Client::new(serve(app).await, PROXY_PEER);

    for path in ["/", "/pay"] {
        let r = client.as_ip(path, CLEAN).await;
        assert_eq!(r.status, 503, "{path}");
        assert_eq!(
            (r.str("error"), r.str("reason")),
            ("unavailable", "no_database")
        );
        assert_eq!(r.str("ip"), CLEAN);
    }
    assert_eq!(runs.load(std::sync::atomic::Ordering::Relaxed), 0);
    assert_eq!(sieve.stats().unavailable, 2);

    publish(&live, &first_artifact());
    assert!(wait_for(10, || sieve.stats().database.loaded).await);
    assert_eq!(client.as_ip("/pay", CLEAN).await.status, 200);
    assert_eq!(client.as_ip("/pay", TOR).await.status, 403);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A writer that keeps what the log subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn failing_open_or_closed_is_logged_loudly_at_start() {
    let dir = temp_dir("fail-log");
    let live = dir.join("missing.db");
    for (mode, words) in [
        (FailMode::Open, "FAILING OPEN"),
        (FailMode::Closed, "FAILING CLOSED"),
    ] {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let sieve = Sieve::builder()
                .database_path(&live)
                .reload(ReloadConfig::new().poll_interval(None))
                .fail_mode(mode)
                .build()
                .unwrap();
            assert!(!sieve.retry_open());
        });
        let log = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        assert!(log.contains("ERROR"), "{log}");
        assert!(log.contains(words), "{log}");
        assert!(log.contains("missing.db"), "{log}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
