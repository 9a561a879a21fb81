//! The server's own counters: requests by route and status, their latency, the requests in
//! flight and the verdicts answered. The artifact's lookups and reloads are the `Sieve`'s
//! (`ipsieve_http::Stats`); `/metrics` writes both.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use ipsieve::Verdict;

/// The route patterns, as axum's `MatchedPath` names them; the last one counts requests no
/// route matched.
pub(crate) const ROUTES: [&str; 8] = [
    "/v1/check",
    "/v1/bulk-check",
    "/ip/me",
    "/ip/{ip}",
    "/healthz",
    "/metrics",
    "/internal/stats",
    "unmatched",
];

/// The statuses the server answers with; `0` counts any other.
const STATUSES: [u16; 10] = [200, 400, 404, 405, 408, 413, 500, 503, 504, 0];

/// Upper bounds of the latency histogram's buckets, in microseconds (`+Inf` follows).
const BUCKETS_US: [u64; 12] = [
    50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 100_000, 1_000_000, 10_000_000,
];

const VERDICTS: [Verdict; 4] = [
    Verdict::Clean,
    Verdict::Suspicious,
    Verdict::VpnLikely,
    Verdict::VpnDetected,
];

/// Live counters, shared by every connection.
#[derive(Debug, Default)]
pub(crate) struct Metrics {
    requests: [[AtomicU64; STATUSES.len()]; ROUTES.len()],
    /// Per route, the count in each bucket (not cumulative) and one for above the last bound.
    latency: [[AtomicU64; BUCKETS_US.len() + 1]; ROUTES.len()],
    latency_sum_us: [AtomicU64; ROUTES.len()],
    in_flight: AtomicI64,
    verdicts: [AtomicU64; VERDICTS.len()],
}

/// The index in [`ROUTES`] of a matched route pattern (`None`: unmatched).
pub(crate) fn route_index(pattern: Option<&str>) -> usize {
    pattern
        .and_then(|p| ROUTES.iter().position(|r| *r == p))
        .unwrap_or(ROUTES.len() - 1)
}

/// A request in flight until dropped (also when the client goes away mid-request and its
/// handler is dropped).
pub(crate) struct InFlight<'a>(&'a Metrics);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Metrics {
    /// Counts a request as started.
    pub(crate) fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(self)
    }

    /// Counts a finished request.
    pub(crate) fn record(&self, route: usize, status: u16, took: Duration) {
        let route = route.min(ROUTES.len() - 1);
        let s = STATUSES
            .iter()
            .position(|&c| c == status)
            .unwrap_or(STATUSES.len() - 1);
        self.requests[route][s].fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let b = BUCKETS_US
            .iter()
            .position(|&le| us <= le)
            .unwrap_or(BUCKETS_US.len());
        self.latency[route][b].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us[route].fetch_add(us, Ordering::Relaxed);
    }

    /// Counts one address answered with `verdict`.
    pub(crate) fn verdict(&self, verdict: Verdict) {
        self.verdicts[verdict as usize].fetch_add(1, Ordering::Relaxed);
    }

    /// Addresses answered with `verdict` so far.
    pub(crate) fn verdicts(&self, verdict: Verdict) -> u64 {
        self.verdicts[verdict as usize].load(Ordering::Relaxed)
    }

    /// Requests finished so far, all routes.
    pub(crate) fn requests(&self) -> u64 {
        self.requests
            .iter()
            .flatten()
            .map(|c| c.load(Ordering::Relaxed))
            .sum()
    }

    /// Requests started and not yet finished.
    pub(crate) fn in_flight(&self) -> i64 {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Writes the Prometheus text (format 0.0.4) of these counters, metric names prefixed
    /// `ipsieve_serve_`.
    pub(crate) fn write_prometheus(&self, out: &mut String) {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        // Writing to a String cannot fail.
        let _ = (|| -> std::fmt::Result {
            writeln!(out, "# HELP ipsieve_serve_requests_total HTTP requests answered, by route pattern and status.")?;
            writeln!(out, "# TYPE ipsieve_serve_requests_total counter")?;
            for (route, row) in ROUTES.iter().zip(&self.requests) {
                for (status, c) in STATUSES.iter().zip(row) {
                    let n = get(c);
                    // Statuses a route never answered are left out, but for 200.
                    if n > 0 || *status == 200 {
                        let status: &dyn std::fmt::Display =
                            if *status == 0 { &"other" } else { status };
                        writeln!(
                            out,
                            "ipsieve_serve_requests_total{{route=\"{route}\",status=\"{status}\"}} {n}"
                        )?;
                    }
                }
            }
            writeln!(out, "# HELP ipsieve_serve_request_duration_seconds Time from routing to the response's headers, by route pattern.")?;
            writeln!(
                out,
                "# TYPE ipsieve_serve_request_duration_seconds histogram"
            )?;
            for (i, route) in ROUTES.iter().enumerate() {
                let mut cumulative = 0;
                for (le, c) in BUCKETS_US.iter().zip(&self.latency[i]) {
                    cumulative += get(c);
                    let le = *le as f64 / 1e6;
                    writeln!(out, "ipsieve_serve_request_duration_seconds_bucket{{route=\"{route}\",le=\"{le}\"}} {cumulative}")?;
                }
                cumulative += get(&self.latency[i][BUCKETS_US.len()]);
                writeln!(out, "ipsieve_serve_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {cumulative}")?;
                let sum = get(&self.latency_sum_us[i]) as f64 / 1e6;
                writeln!(
                    out,
                    "ipsieve_serve_request_duration_seconds_sum{{route=\"{route}\"}} {sum}"
                )?;
                writeln!(out, "ipsieve_serve_request_duration_seconds_count{{route=\"{route}\"}} {cumulative}")?;
            }
            writeln!(
                out,
                "# HELP ipsieve_serve_requests_in_flight Requests being answered now."
            )?;
            writeln!(out, "# TYPE ipsieve_serve_requests_in_flight gauge")?;
            writeln!(out, "ipsieve_serve_requests_in_flight {}", self.in_flight())?;
            writeln!(out, "# HELP ipsieve_serve_answers_total Addresses answered (check, bulk-check, ip), by verdict.")?;
            writeln!(out, "# TYPE ipsieve_serve_answers_total counter")?;
            for v in VERDICTS {
                writeln!(
                    out,
                    "ipsieve_serve_answers_total{{verdict=\"{v}\"}} {}",
                    self.verdicts(v)
                )?;
            }
            Ok(())
        })();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_and_requests() {
        let m = Metrics::default();
        m.record(
            route_index(Some("/ip/{ip}")),
            200,
            Duration::from_micros(80),
        );
        m.record(route_index(Some("/ip/{ip}")), 200, Duration::from_secs(60));
        m.record(route_index(None), 404, Duration::from_micros(10));
        m.record(
            route_index(Some("/v1/check")),
            418,
            Duration::from_micros(10),
        );
        m.verdict(Verdict::VpnDetected);
        let mut text = String::new();
        m.write_prometheus(&mut text);
        for line in [
            "ipsieve_serve_requests_total{route=\"/ip/{ip}\",status=\"200\"} 2",
            "ipsieve_serve_requests_total{route=\"unmatched\",status=\"404\"} 1",
            "ipsieve_serve_requests_total{route=\"/v1/check\",status=\"other\"} 1",
            "ipsieve_serve_request_duration_seconds_bucket{route=\"/ip/{ip}\",le=\"0.00005\"} 0",
            "ipsieve_serve_request_duration_seconds_bucket{route=\"/ip/{ip}\",le=\"0.0001\"} 1",
            "ipsieve_serve_request_duration_seconds_bucket{route=\"/ip/{ip}\",le=\"10\"} 1",
            "ipsieve_serve_request_duration_seconds_bucket{route=\"/ip/{ip}\",le=\"+Inf\"} 2",
            "ipsieve_serve_request_duration_seconds_count{route=\"/ip/{ip}\"} 2",
            "ipsieve_serve_answers_total{verdict=\"vpn_detected\"} 1",
            "ipsieve_serve_requests_in_flight 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert_eq!(m.requests(), 4);
        let guard = m.start();
        assert_eq!(m.in_flight(), 1);
        drop(guard);
        assert_eq!(m.in_flight(), 0);
    }
}
