//! What the layer costs per request, in process (no sockets, no runtime): the lookup alone,
//! `Sieve::judge` (client address from `X-Forwarded-For`, lookup, overlay, policy,
//! counters), and a request through the layer around a trivial service against the trivial
//! service alone.
//!
//! ```sh
//! cargo run --release -p ipsieve-http --example overhead [ARTIFACT]
//! ```
//! Without `ARTIFACT`, the repository's golden artifact (tiny: its lookups stay in cache).
//! Build the full-size one to measure lookups as a service sees them:
//! `cargo run --release -p ipsieve-builder -- build --sources sources/shared-data.toml --out full.db`.

use std::convert::Infallible;
use std::future::Future;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

use http::{Request, Response};
use ipsieve::{ActionClass, Database};
use ipsieve_http::{ClientIpConfig, PeerAddr, Sieve};
use tower::{Layer, Service};

const N: usize = 200_000;
const ROUNDS: usize = 7;

/// Median nanoseconds per iteration of `f` over `ROUNDS` rounds of `N`.
fn measure(mut f: impl FnMut(usize)) -> f64 {
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for i in 0..N {
                f(i);
            }
            t.elapsed().as_nanos() as f64 / N as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

/// Polls a future that is ready at once (every service here is).
fn now<F: Future>(f: F) -> F::Output {
    let mut f = pin!(f);
    match f.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(v) => v,
        Poll::Pending => unreachable!("the services here never wait"),
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let db = match std::env::args().nth(1) {
        Some(path) => Database::open(path)?,
        None => Database::from_bytes(include_bytes!("../../lookup/tests/golden/v2.ipsieve"))?,
    };
    // 4096 addresses from a fixed-seed generator, as the proxy would forward them.
    let mut x = 0x9e37_79b9_7f4a_7c15_u64;
    let addrs: Vec<IpAddr> = (0..4096)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            IpAddr::V4(Ipv4Addr::from((x >> 32) as u32))
        })
        .collect();
    let xff: Vec<http::HeaderValue> = addrs
        .iter()
        .map(|a| format!("203.0.113.9, {a}").parse().unwrap())
        .collect();
    let sieve = Sieve::builder()
        .database(db)
        .client_ip(ClientIpConfig::parse("x-forwarded-for", ["10.0.0.0/8"])?)
        .build()?;
    let db = sieve.database().expect("a fixed artifact");
    let peer = PeerAddr(SocketAddr::from(([10, 0, 0, 1], 40000)));
    let request = |i: usize| {
        Request::builder()
            .uri("/pay")
            .header("x-forwarded-for", xff[i % xff.len()].clone())
            .extension(peer)
            .body(())
            .unwrap()
    };

    let lookup = measure(|i| {
        black_box(db.lookup(addrs[i % addrs.len()]).verdict());
    });
    let requests: Vec<Request<()>> = (0..4096).map(request).collect();
    let judge = measure(|i| {
        black_box(sieve.judge(ActionClass::PAYMENT, &requests[i % requests.len()]));
    });
    let inner = tower::service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    let mut bare = inner;
    let without = measure(|i| {
        black_box(now(bare.call(request(i))).unwrap());
    });
    let mut layered = sieve.layer(ActionClass::PAYMENT).layer(inner);
    let with = measure(|i| {
        black_box(now(layered.call(request(i))).unwrap());
    });
    println!("median of {ROUNDS} rounds of {N} requests, ns per request");
    println!("lookup (Database::lookup + verdict)      {lookup:8.1}");
    println!("Sieve::judge                             {judge:8.1}");
    println!("request through a trivial service        {without:8.1}");
    println!("the same through the layer               {with:8.1}");
    println!(
        "layer overhead                           {:8.1}",
        with - without
    );
    let s = sieve.stats();
    println!(
        "({} lookups, {} blocked, {} stepped up)",
        s.lookups, s.blocked, s.stepped_up
    );
    Ok(())
}
