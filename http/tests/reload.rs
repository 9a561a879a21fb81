//! Hot reload while requests run: a replaced artifact is picked up, a corrupt one refused and
//! counted while the previous one keeps serving, and no request fails meanwhile.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ipsieve::{Policy, ReloadConfig};
use ipsieve_http::{ClientIpConfig, Sieve};

use crate::common::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn good_and_corrupt_replacements_under_load() {
    let dir = temp_dir("reload");
    let live = dir.join("ipsieve.db");
    publish(&live, &first_artifact());
    let sieve = Sieve::builder()
        .database_path(&live)
        .reload(ReloadConfig::new().poll_interval(Some(Duration::from_millis(25))))
        .policy(Policy::default())
        .client_ip(ClientIpConfig::parse("x-forwarded-for", [PROXY_PEER]).unwrap())
        .build()
        .unwrap();
    assert_eq!(sieve.stats().database.build_time, Some(1_750_000_000));
    let (app, _) = app(&sieve);
    let client = Client::new(serve(app).await, PROXY_PEER);
    assert_eq!(client.as_ip("/pay", TOR).await.status, 403);
    assert_eq!(client.as_ip("/pay", TOR_LATER).await.status, 200);

    // Load: four tasks paying from a VPN address (step_up in every artifact here) and reading
    // from the Tor exits, until told to stop; every reply must be a 200 or a 403.
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for i in 0..4 {
        let (client, stop, done) = (client.clone(), Arc::clone(&stop), Arc::clone(&done));
        tasks.push(tokio::spawn(async move {
            let mut bad = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let (path, ip) = match i % 2 {
                    0 => ("/pay", VPN),
                    _ => (
                        "/",
                        if done.load(Ordering::Relaxed) % 2 == 0 {
                            TOR
                        } else {
                            TOR_LATER
                        },
                    ),
                };
                match client.call(path, &[("x-forwarded-for", ip)]).await {
                    Ok(r) if r.status == 200 => {}
                    Ok(r) => bad.push(format!("{path} {ip}: {} {}", r.status, r.text)),
                    Err(e) => bad.push(format!("{path} {ip}: {e}")),
                }
                done.fetch_add(1, Ordering::Relaxed);
            }
            bad
        }));
    }
    let requests_at = |n: u64| {
        let done = Arc::clone(&done);
        move || done.load(Ordering::Relaxed) >= n
    };
    assert!(wait_for(10, requests_at(50)).await);

    // A newer artifact: the later exit list (185.241.208.232 in, 185.220.101.1 out).
    publish(&live, &artifact(&[TOR_LATER], 1_760_000_000));
    assert!(wait_for(10, || sieve.stats().database.reloads == 1).await);
    assert_eq!(client.as_ip("/pay", TOR_LATER).await.status, 403);
    assert_eq!(client.as_ip("/pay", TOR).await.status, 200);
    assert_eq!(sieve.stats().database.build_time, Some(1_760_000_000));
    let n = done.load(Ordering::Relaxed);
    assert!(wait_for(10, requests_at(n + 50)).await);

    // A corrupt one: the same artifact with one byte flipped in its data (the checksum and
    // verification catch it), then an HTML error page saved as the artifact.
    let mut flipped = artifact(&[TOR], 1_770_000_000);
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x40;
    publish(&live, &flipped);
    assert!(wait_for(10, || sieve.stats().database.reload_failures == 1).await);
    publish(&live, b"<html><body>502 Bad Gateway</body></html>\n");
    assert!(wait_for(10, || sieve.stats().database.reload_failures == 2).await);
    let n = done.load(Ordering::Relaxed);
    assert!(wait_for(10, requests_at(n + 50)).await);
    // Still the newer artifact.
    assert_eq!(client.as_ip("/pay", TOR_LATER).await.status, 403);
    assert_eq!(client.as_ip("/pay", TOR).await.status, 200);
    let s = sieve.stats();
    assert_eq!(s.database.reloads, 1);
    assert_eq!(s.database.build_time, Some(1_760_000_000));
    let m = client.metrics().await;
    assert!(
        m.contains("ipsieve_reloads_total{result=\"failure\"} 2"),
        "{m}"
    );
    assert!(
        m.contains("ipsieve_reloads_total{result=\"success\"} 1"),
        "{m}"
    );

    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let bad = t.await.unwrap();
        assert!(bad.is_empty(), "failed requests during reloads: {bad:?}");
    }
    assert!(done.load(Ordering::Relaxed) >= 150);
    let _ = std::fs::remove_dir_all(&dir);
}
