//! What the layer did: counters kept with relaxed atomic additions, a [`Stats`] snapshot of
//! them, and the snapshot as Prometheus text.
//!
//! Every request a layer judges is counted once under its outcome
//! (`ipsieve_requests_total{outcome=…}`): `allow`, `elevate_risk`, `step_up`, `block`, or,
//! when it could not be judged (no database, no client address), `unjudged` (passed, fail-open)
//! or `unavailable` (refused with 503, fail-closed). Blocks and step-ups are also counted by
//! what caused them: a category (`tor_exit`, `vpn`, `proxy`, `hosting`, `tor_relay`, `relay`)
//! or `overlay_deny`.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

use ipsieve::{Indicator, Response};

use crate::client_addr::AddrSource;
use crate::decision::{Decision, DecisionReason};

const INDICATORS: usize = Indicator::ALL.len();

fn add(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

fn get(c: &AtomicU64) -> u64 {
    c.load(Ordering::Relaxed)
}

/// The live counters of one [`Sieve`](crate::Sieve), shared by every layer made from it.
/// `serve` and other front ends can keep their own and [`record`](Counters::record) decisions
/// into them.
#[derive(Debug, Default)]
pub struct Counters {
    responses: [AtomicU64; 4],
    unjudged: AtomicU64,
    unavailable: AtomicU64,
    blocked: [AtomicU64; INDICATORS],
    step_up: [AtomicU64; INDICATORS],
    overlay_allow: AtomicU64,
    overlay_deny: AtomicU64,
    lookups: AtomicU64,
    headers_ignored: AtomicU64,
    proxies_without_header: AtomicU64,
}

impl Counters {
    /// Zeroed counters.
    pub fn new() -> Counters {
        Counters::default()
    }

    /// Counts one decision: its outcome, the cause of a block or step-up, an overlay hit and
    /// how the client address was found. Lookups are counted apart
    /// ([`Counters::record_lookup`]) since a nested layer decides again without one.
    pub fn record(&self, d: &Decision) {
        match d.reason() {
            DecisionReason::NoDatabase | DecisionReason::NoClientAddress => {
                if d.response() == Response::Block {
                    add(&self.unavailable);
                } else {
                    add(&self.unjudged);
                }
            }
            reason => {
                add(&self.responses[d.response() as usize]);
                let cause = match reason {
                    DecisionReason::Indicator(i) | DecisionReason::WeakEvidence(i) => Some(i),
                    DecisionReason::OverlayDeny => Some(Indicator::OverlayDeny),
                    _ => None,
                };
                if let Some(i) = cause {
                    match d.response() {
                        Response::Block => add(&self.blocked[i as usize]),
                        Response::StepUp => add(&self.step_up[i as usize]),
                        _ => {}
                    }
                }
            }
        }
        if let Some(m) = d.overlay_match() {
            add(if m.is_allow() {
                &self.overlay_allow
            } else {
                &self.overlay_deny
            });
        }
        match d.client().map(|c| c.source()) {
            Some(AddrSource::UntrustedPeer {
                header_ignored: true,
            }) => add(&self.headers_ignored),
            Some(AddrSource::ProxyWithoutHeader(_)) => add(&self.proxies_without_header),
            _ => {}
        }
    }

    /// Counts one lookup in the artifact.
    pub fn record_lookup(&self) {
        add(&self.lookups);
    }

    /// A snapshot of the counters (each read on its own: a snapshot taken under load may be
    /// a few requests apart between fields). `database` is left at its default; a
    /// [`Sieve`](crate::Sieve) fills it in [`Sieve::stats`](crate::Sieve::stats).
    pub fn snapshot(&self) -> Stats {
        let by = |a: &[AtomicU64; INDICATORS]| {
            let mut out = ByCause::default();
            for (o, c) in out.0.iter_mut().zip(a) {
                *o = get(c);
            }
            out
        };
        Stats {
            allowed: get(&self.responses[Response::Allow as usize]),
            elevated_risk: get(&self.responses[Response::ElevateRisk as usize]),
            stepped_up: get(&self.responses[Response::StepUp as usize]),
            blocked: get(&self.responses[Response::Block as usize]),
            unjudged: get(&self.unjudged),
            unavailable: get(&self.unavailable),
            blocked_by: by(&self.blocked),
            stepped_up_by: by(&self.step_up),
            overlay_allow_hits: get(&self.overlay_allow),
            overlay_deny_hits: get(&self.overlay_deny),
            lookups: get(&self.lookups),
            forwarding_headers_ignored: get(&self.headers_ignored),
            proxies_without_header: get(&self.proxies_without_header),
            database: DatabaseStats::default(),
        }
    }
}

/// Counts per cause of a block or a step-up: one per [`Indicator`] (the categories and
/// `overlay_deny`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ByCause([u64; INDICATORS]);

impl ByCause {
    /// The count for one cause.
    pub fn get(&self, cause: Indicator) -> u64 {
        self.0[cause as usize]
    }

    /// Every cause with its count, in [`Indicator::ALL`] order.
    pub fn iter(&self) -> impl Iterator<Item = (Indicator, u64)> + '_ {
        Indicator::ALL.into_iter().zip(self.0)
    }

    /// The sum over causes.
    pub fn total(&self) -> u64 {
        self.0.iter().sum()
    }
}

/// The artifact being served and its reloads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DatabaseStats {
    /// An artifact is loaded (false while failing open or closed at start).
    pub loaded: bool,
    /// Its build time (Unix seconds).
    pub build_time: Option<u64>,
    /// Replacements swapped in since it was opened ([`ipsieve::SharedDatabase::successes`]).
    pub reloads: u64,
    /// Replacements refused, the previous artifact still serving
    /// ([`ipsieve::SharedDatabase::failures`]).
    pub reload_failures: u64,
    /// Failed attempts to open the first artifact (at start, then at every retry).
    pub open_failures: u64,
}

/// A snapshot of a layer's counters; see the [module docs](self). `Display` writes the
/// Prometheus text ([`Stats::write_prometheus`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Judged and allowed (clean, an overlay allow, or a cell that says `allow`).
    pub allowed: u64,
    /// Judged, allowed, with the risk elevated for the handler.
    pub elevated_risk: u64,
    /// Judged, allowed, marked for a step-up challenge.
    pub stepped_up: u64,
    /// Judged and refused with 403.
    pub blocked: u64,
    /// Passed without judgement (fail-open: no database, no client address).
    pub unjudged: u64,
    /// Refused with 503 without judgement (fail-closed).
    pub unavailable: u64,
    /// Blocks by cause.
    pub blocked_by: ByCause,
    /// Step-ups by cause.
    pub stepped_up_by: ByCause,
    /// Decisions an overlay allow entry matched.
    pub overlay_allow_hits: u64,
    /// Decisions an overlay deny entry matched (and no allow entry).
    pub overlay_deny_hits: u64,
    /// Lookups in the artifact (one per request, whatever the number of nested layers).
    pub lookups: u64,
    /// Requests from peers outside the trusted proxy networks that carried the configured
    /// forwarding header anyway; it was ignored.
    pub forwarding_headers_ignored: u64,
    /// Requests from a trusted proxy whose forwarding header was missing or unusable; judged
    /// by the proxy's address.
    pub proxies_without_header: u64,
    /// The artifact and its reloads.
    pub database: DatabaseStats,
}

impl Stats {
    /// Every request counted: the sum over outcomes.
    pub fn requests(&self) -> u64 {
        self.allowed
            + self.elevated_risk
            + self.stepped_up
            + self.blocked
            + self.unjudged
            + self.unavailable
    }

    /// Writes the counters in the Prometheus text exposition format (version 0.0.4), metric
    /// names prefixed `ipsieve_`:
    ///
    /// | metric | type | labels |
    /// |---|---|---|
    /// | `ipsieve_requests_total` | counter | `outcome`: allow, elevate_risk, step_up, block, unjudged, unavailable |
    /// | `ipsieve_blocked_total` | counter | `reason`: tor_exit, vpn, proxy, hosting, tor_relay, relay, overlay_deny |
    /// | `ipsieve_step_up_total` | counter | `reason`: as above |
    /// | `ipsieve_overlay_hits_total` | counter | `action`: allow, deny |
    /// | `ipsieve_lookups_total` | counter | |
    /// | `ipsieve_forwarding_headers_ignored_total` | counter | |
    /// | `ipsieve_proxies_without_header_total` | counter | |
    /// | `ipsieve_database_loaded` | gauge | |
    /// | `ipsieve_database_build_time_seconds` | gauge | (absent when none is loaded) |
    /// | `ipsieve_reloads_total` | counter | `result`: success, failure |
    /// | `ipsieve_database_open_failures_total` | counter | |
    ///
    /// # Errors
    /// Only those of `out`.
    pub fn write_prometheus(&self, out: &mut impl fmt::Write) -> fmt::Result {
        fn head(out: &mut impl fmt::Write, name: &str, kind: &str, help: &str) -> fmt::Result {
            writeln!(out, "# HELP ipsieve_{name} {help}")?;
            writeln!(out, "# TYPE ipsieve_{name} {kind}")
        }
        head(
            out,
            "requests_total",
            "counter",
            "Requests judged by the ipsieve layer, by outcome.",
        )?;
        for (outcome, n) in [
            ("allow", self.allowed),
            ("elevate_risk", self.elevated_risk),
            ("step_up", self.stepped_up),
            ("block", self.blocked),
            ("unjudged", self.unjudged),
            ("unavailable", self.unavailable),
        ] {
            writeln!(out, "ipsieve_requests_total{{outcome=\"{outcome}\"}} {n}")?;
        }
        for (name, help, by) in [
            (
                "blocked_total",
                "Requests refused with 403, by cause.",
                &self.blocked_by,
            ),
            (
                "step_up_total",
                "Requests marked for a step-up challenge, by cause.",
                &self.stepped_up_by,
            ),
        ] {
            head(out, name, "counter", help)?;
            for (cause, n) in by.iter() {
                writeln!(out, "ipsieve_{name}{{reason=\"{cause}\"}} {n}")?;
            }
        }
        head(
            out,
            "overlay_hits_total",
            "counter",
            "Decisions an overlay entry matched, by action.",
        )?;
        writeln!(
            out,
            "ipsieve_overlay_hits_total{{action=\"allow\"}} {}",
            self.overlay_allow_hits
        )?;
        writeln!(
            out,
            "ipsieve_overlay_hits_total{{action=\"deny\"}} {}",
            self.overlay_deny_hits
        )?;
        for (name, help, n) in [
            ("lookups_total", "Lookups in the artifact.", self.lookups),
            (
                "forwarding_headers_ignored_total",
                "Forwarding headers sent by peers outside the trusted proxy networks (ignored).",
                self.forwarding_headers_ignored,
            ),
            (
                "proxies_without_header_total",
                "Requests from a trusted proxy without a usable forwarding header.",
                self.proxies_without_header,
            ),
        ] {
            head(out, name, "counter", help)?;
            writeln!(out, "ipsieve_{name} {n}")?;
        }
        let db = &self.database;
        head(
            out,
            "database_loaded",
            "gauge",
            "1 when an artifact is loaded, 0 while failing open or closed.",
        )?;
        writeln!(out, "ipsieve_database_loaded {}", u8::from(db.loaded))?;
        if let Some(t) = db.build_time {
            head(
                out,
                "database_build_time_seconds",
                "gauge",
                "Build time of the artifact being served (Unix seconds).",
            )?;
            writeln!(out, "ipsieve_database_build_time_seconds {t}")?;
        }
        head(
            out,
            "reloads_total",
            "counter",
            "Replaced artifacts swapped in (success) or refused (failure).",
        )?;
        writeln!(
            out,
            "ipsieve_reloads_total{{result=\"success\"}} {}",
            db.reloads
        )?;
        writeln!(
            out,
            "ipsieve_reloads_total{{result=\"failure\"}} {}",
            db.reload_failures
        )?;
        head(
            out,
            "database_open_failures_total",
            "counter",
            "Failed attempts to open the first artifact.",
        )?;
        writeln!(
            out,
            "ipsieve_database_open_failures_total {}",
            db.open_failures
        )
    }

    /// The Prometheus text as a `String`.
    pub fn to_prometheus(&self) -> String {
        let mut s = String::with_capacity(2048);
        // Writing to a String cannot fail.
        let _ = self.write_prometheus(&mut s);
        s
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_prometheus(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_text_names_every_series_once() {
        let mut s = Stats {
            allowed: 3,
            blocked: 2,
            lookups: 5,
            ..Stats::default()
        };
        s.blocked_by.0[Indicator::TorExit as usize] = 1;
        s.blocked_by.0[Indicator::OverlayDeny as usize] = 1;
        s.database.loaded = true;
        s.database.build_time = Some(1_750_000_000);
        let text = s.to_prometheus();
        for line in [
            "ipsieve_requests_total{outcome=\"allow\"} 3",
            "ipsieve_requests_total{outcome=\"block\"} 2",
            "ipsieve_blocked_total{reason=\"tor_exit\"} 1",
            "ipsieve_blocked_total{reason=\"overlay_deny\"} 1",
            "ipsieve_blocked_total{reason=\"relay\"} 0",
            "ipsieve_step_up_total{reason=\"vpn\"} 0",
            "ipsieve_lookups_total 5",
            "ipsieve_database_loaded 1",
            "ipsieve_database_build_time_seconds 1750000000",
            "ipsieve_reloads_total{result=\"failure\"} 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        // One TYPE line per metric family, every sample line belongs to a declared family.
        let families: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        let mut unique = families.clone();
        unique.dedup();
        assert_eq!(families, unique);
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let name = l.split(['{', ' ']).next().unwrap();
            assert!(families.contains(&name), "{l}");
            assert!(l.rsplit(' ').next().unwrap().parse::<u64>().is_ok(), "{l}");
        }
        assert_eq!(s.requests(), 5);
        assert_eq!(s.to_string(), text);
    }
}
