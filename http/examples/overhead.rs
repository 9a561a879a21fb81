//! What the layer costs per request, in process (no sockets, no runtime): the lookup alone,
//! `Sieve::judge` (client address from `X-Forwarded-For`, lookup, overlay, policy,
//! counters), and a request through the layer around a trivial service against the trivial
//! service alone.
//!
//! ```sh
//! cargo run --release -p ipsieve-http --example overhead [ARTIFACT]
//! # Instructions per request, which a shared machine's load does not change:
//! OVERHEAD_N=20000 valgrind --tool=callgrind target/release/examples/overhead - judge
//! # (its total instructions, less a run with `- none`, divided by 7 × 20,000)
//! ```
//! A second argument (`lookup`, `judge`, `bare`, `layered`) runs that measurement alone
//! (`-` for the golden artifact).
//! Without `ARTIFACT`, the repository's golden artifact (tiny: its lookups stay in cache).
//! Build the full-size one to measure lookups as a service sees them:
//! `cargo try build --sources sources/shared-data.toml --out full.db`.

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

const ROUNDS: usize = 7;

/// Iterations per round: `OVERHEAD_N`, default 200,000.
fn n() -> usize {
    std::env::var("OVERHEAD_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

/// Median nanoseconds per iteration of `f` over `ROUNDS` rounds of `n()`.
fn measure(mut f: impl FnMut(usize)) -> f64 {
    let n = n();
    let mut rounds: Vec<f64> = (0..ROUNDS)
        .map(|_| {
            let t = Instant::now();
            for i in 0..n {
                f(i);
            }
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .collect();
    rounds.sort_by(f64::total_cmp);
    rounds[ROUNDS / 2]
}

/// [`measure`] when `yes`, else NaN.
fn measure_if(yes: bool, f: impl FnMut(usize)) -> f64 {
    if yes {
        measure(f)
    } else {
        f64::NAN
    }
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
    let db = match std::env::args().nth(1).filter(|a| a != "-") {
        Some(path) => Database::open(path)?,
        None => Database::from_bytes(include_bytes!("../../lookup/tests/golden/v4.ipsieve"))?,
    };
    let only = std::env::args().nth(2);
    let run = |name: &str| only.as_deref().is_none_or(|o| o == name);
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

    let lookup = measure_if(run("lookup"), |i| {
        black_box(db.lookup(addrs[i % addrs.len()]).verdict());
    });
    let requests: Vec<Request<()>> = (0..4096).map(request).collect();
    let judge = measure_if(run("judge"), |i| {
        black_box(sieve.judge(ActionClass::PAYMENT, &requests[i % requests.len()]));
    });
    let inner = tower::service_fn(|_req: Request<()>| async {
        Ok::<_, Infallible>(Response::new(String::new()))
    });
    let mut bare = inner;
    let without = measure_if(run("bare"), |i| {
        black_box(now(bare.call(request(i))).unwrap());
    });
    let mut layered = sieve.layer(ActionClass::PAYMENT).layer(inner);
    let with = measure_if(run("layered"), |i| {
        black_box(now(layered.call(request(i))).unwrap());
    });
    println!(
        "median of {ROUNDS} rounds of {} requests, ns per request",
        n()
    );
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
