//! The layer's decision about one request, attached to the request's extensions for handlers,
//! and its JSON.

use std::fmt;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http::{HeaderMap, HeaderName, HeaderValue};
use ipsieve::{
    ActionClass, Answer, Database, Indicator, Overlay, OverlayMatch, PolicyDecision, Reason,
    Response,
};
use serde_json::{json, Value};

use crate::client_addr::ClientAddr;

/// Why a [`Decision`] came out as it did: the [`Reason`] of the crate's
/// [`PolicyDecision`] without its borrow, plus the two ways a request goes unjudged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DecisionReason {
    /// Nothing is known against the address.
    Clean,
    /// This category's cell of the policy decided.
    Indicator(Indicator),
    /// This category's cell decided after the weak-evidence cap (ASN-wide or keyword sources
    /// only).
    WeakEvidence(Indicator),
    /// An overlay allow entry decided (the anonymity check did not run).
    OverlayAllow,
    /// An overlay deny entry decided.
    OverlayDeny,
    /// No artifact could be opened: passed (fail-open) or refused with 503 (fail-closed).
    NoDatabase,
    /// The request carried no peer address: passed (fail-open) or refused with 503
    /// (fail-closed). The server is not recording peers (see [`crate::PeerAddr`]).
    NoClientAddress,
}

impl DecisionReason {
    /// The stable name: `clean`, a category (`tor_exit`, `vpn`, …, also for weak evidence),
    /// `overlay_allow`, `overlay_deny`, `no_database`, `no_client_address`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DecisionReason::Clean => "clean",
            DecisionReason::Indicator(i) | DecisionReason::WeakEvidence(i) => i.as_str(),
            DecisionReason::OverlayAllow => "overlay_allow",
            DecisionReason::OverlayDeny => "overlay_deny",
            DecisionReason::NoDatabase => "no_database",
            DecisionReason::NoClientAddress => "no_client_address",
        }
    }

    /// True for the reasons of an unjudged request (no database, no client address).
    pub const fn is_unjudged(self) -> bool {
        matches!(
            self,
            DecisionReason::NoDatabase | DecisionReason::NoClientAddress
        )
    }

    pub(crate) fn from_policy(reason: Reason<'_>) -> DecisionReason {
        match reason {
            Reason::Overlay(m) if m.is_allow() => DecisionReason::OverlayAllow,
            Reason::Overlay(_) => DecisionReason::OverlayDeny,
            Reason::Indicator(i) => DecisionReason::Indicator(i),
            Reason::WeakEvidence(i) => DecisionReason::WeakEvidence(i),
            Reason::Clean => DecisionReason::Clean,
        }
    }
}

impl fmt::Display for DecisionReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request id: the request's own `x-request-id` when it has a plausible one (set by a
/// proxy or an outer `tower-http` `SetRequestId` layer: 1 to 128 characters of letters,
/// digits and `-_.:+/=`), otherwise one made here (20 hexadecimal digits: a random
/// per-process prefix and a counter). It names the request in the 403 body, the response's
/// `x-request-id` header and the layer's log lines, so a refused user's report can be matched
/// to its decision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(Repr);

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Repr {
    Made(u32, u64),
    Given(HeaderValue),
}

/// The name of the request id header read and written.
pub const REQUEST_ID_HEADER: &str = "x-request-id";

impl RequestId {
    /// A new id, unique within the process (and, by its random prefix, very likely across
    /// processes).
    pub fn generate() -> RequestId {
        static PREFIX: OnceLock<u32> = OnceLock::new();
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let prefix = *PREFIX.get_or_init(|| {
            use std::hash::BuildHasher;
            let seed = (std::time::SystemTime::now(), std::process::id());
            std::collections::hash_map::RandomState::new().hash_one(seed) as u32
        });
        RequestId(Repr::Made(
            prefix,
            COUNTER.fetch_add(1, Ordering::Relaxed) & 0xffff_ffff_ffff,
        ))
    }

    /// The request's `x-request-id` if it is plausible (see the type's docs), else `None`.
    pub fn from_headers(headers: &HeaderMap) -> Option<RequestId> {
        const NAME: HeaderName = HeaderName::from_static(REQUEST_ID_HEADER);
        let v = headers.get(NAME)?;
        let ok = (1..=128).contains(&v.len())
            && v.as_bytes()
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.:+/=".contains(b));
        ok.then(|| RequestId(Repr::Given(v.clone())))
    }

    /// The id as a header value.
    pub fn to_header_value(&self) -> HeaderValue {
        match &self.0 {
            Repr::Given(v) => v.clone(),
            Repr::Made(..) => {
                HeaderValue::from_str(&self.to_string()).unwrap_or(HeaderValue::from_static("-"))
            }
        }
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Repr::Made(prefix, n) => write!(f, "{prefix:08x}{n:012x}"),
            // Checked to be ASCII in `from_headers`.
            Repr::Given(v) => f.write_str(v.to_str().unwrap_or("-")),
        }
    }
}

/// What the lookup borrowed from: the artifact and the overlay of the moment.
#[derive(Debug)]
pub(crate) struct Owner {
    pub(crate) db: Option<Arc<Database>>,
    pub(crate) overlay: Arc<Overlay>,
}

/// One lookup's answer and the overlay's entry for it, borrowing from the [`Owner`].
#[derive(Debug, Clone, Copy)]
pub(crate) struct Looked<'a> {
    pub(crate) answer: Option<Answer<'a>>,
    pub(crate) overlay: Option<OverlayMatch<'a>>,
}

self_cell::self_cell!(
    /// The answer of the request's one lookup, kept alive with the artifact it borrows from,
    /// so that handlers (and nested layers) read it without looking up again.
    pub(crate) struct Judged {
        owner: Owner,
        #[covariant]
        dependent: Looked,
    }
    impl {Debug}
);

impl Judged {
    /// Looks `ip` up in `owner.db` (when there is one) and checks the overlay.
    pub(crate) fn look_up(owner: Owner, ip: IpAddr) -> Judged {
        Judged::new(owner, |o| {
            let answer = o.db.as_deref().map(|db| db.lookup(ip));
            let overlay = match &answer {
                Some(a) => o.overlay.check(a),
                None => o.overlay.check_ip(ip, None),
            };
            Looked { answer, overlay }
        })
    }

    pub(crate) fn looked(&self) -> Looked<'_> {
        *self.borrow_dependent()
    }
}

/// The layer's decision about a request, in the request's extensions for the handler (axum:
/// `Extension<Decision>`; elsewhere `request.extensions().get::<Decision>()`), and in the
/// extensions of a 403 or 503 response the layer makes.
///
/// Cheap to clone. It keeps the lookup's [`Answer`] (and the artifact it borrows from) so a
/// handler reads any field of it without a second lookup: [`Decision::answer`].
///
/// ```
/// use ipsieve::{ActionClass, Database, Response};
/// use ipsieve_http::{AddrSource, ClientAddr, Sieve};
///
/// let db = Database::from_bytes(include_bytes!("../../lookup/tests/golden/v4.ipsieve"))?;
/// let sieve = Sieve::builder().database(db).build()?;
/// let tor = ClientAddr::new("185.220.101.1".parse()?, AddrSource::Socket);
/// let d = sieve.judge_addr(ActionClass::PAYMENT, Some(tor), None);
/// assert_eq!(d.response(), Response::Block);
/// assert_eq!(d.reason().as_str(), "tor_exit");
/// assert_eq!(d.answer().unwrap().provider(), Some("Tor Project"));
/// assert_eq!(d.to_json()["reason"], "tor_exit");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone)]
pub struct Decision {
    pub(crate) client: Option<ClientAddr>,
    pub(crate) class: ActionClass,
    pub(crate) response: Response,
    pub(crate) reason: DecisionReason,
    pub(crate) request_id: RequestId,
    pub(crate) judged: Option<Arc<Judged>>,
    /// The [`crate::Sieve`] that made it (its address), for nested layers.
    pub(crate) sieve: usize,
}

impl Decision {
    /// What to do: `allow`, `elevate_risk`, `step_up` or `block`.
    pub fn response(&self) -> Response {
        self.response
    }

    /// Why.
    pub fn reason(&self) -> DecisionReason {
        self.reason
    }

    /// The action class the route gave the request.
    pub fn class(&self) -> ActionClass {
        self.class
    }

    /// The client address judged and how it was found; `None` when the request had no peer
    /// address.
    pub fn client(&self) -> Option<&ClientAddr> {
        self.client.as_ref()
    }

    /// The client address judged.
    pub fn ip(&self) -> Option<IpAddr> {
        self.client.map(|c| c.ip())
    }

    /// The request id (see [`RequestId`]).
    pub fn request_id(&self) -> &RequestId {
        &self.request_id
    }

    /// True when the layer refused the request (403, or 503 when failing closed). A handler
    /// never sees such a decision; outer layers find it in the response's extensions.
    pub fn is_blocked(&self) -> bool {
        self.response == Response::Block
    }

    /// True when the handler should challenge first (CAPTCHA, second factor, 3-D Secure).
    pub fn needs_step_up(&self) -> bool {
        self.response == Response::StepUp
    }

    /// True when the handler should let the request through with the session's risk raised.
    pub fn is_elevated_risk(&self) -> bool {
        self.response == Response::ElevateRisk
    }

    /// True when the request was judged (an artifact or the overlay decided); false when it
    /// passed or was refused without judgement.
    pub fn is_judged(&self) -> bool {
        !self.reason.is_unjudged()
    }

    /// The answer of the request's lookup; `None` when no artifact was loaded (or no address).
    pub fn answer(&self) -> Option<Answer<'_>> {
        self.judged.as_deref().and_then(|j| j.looked().answer)
    }

    /// The overlay entry that matched the client address, if any.
    pub fn overlay_match(&self) -> Option<OverlayMatch<'_>> {
        self.judged.as_deref().and_then(|j| j.looked().overlay)
    }

    /// The crate's own decision type (its `Display` is `block: tor_exit`, or `allow: overlay
    /// allow 203.0.113.0/24 (overlay.txt line 3): Acme office`); `None` for an unjudged request.
    pub fn policy_decision(&self) -> Option<PolicyDecision<'_>> {
        let reason = match self.reason {
            DecisionReason::Clean => Reason::Clean,
            DecisionReason::Indicator(i) => Reason::Indicator(i),
            DecisionReason::WeakEvidence(i) => Reason::WeakEvidence(i),
            DecisionReason::OverlayAllow | DecisionReason::OverlayDeny => {
                Reason::Overlay(self.overlay_match()?)
            }
            DecisionReason::NoDatabase | DecisionReason::NoClientAddress => return None,
        };
        Some(PolicyDecision {
            response: self.response,
            reason,
        })
    }

    /// The decision as JSON, for logs, handlers and APIs (field by field in `docs/HTTP.md`):
    ///
    /// ```json
    /// {"ip": "185.220.101.1", "ip_source": "x-forwarded-for", "class": "payment",
    ///  "response": "block", "reason": "tor_exit", "weak_evidence": false,
    ///  "overlay": null, "categories": ["tor_exit"], "verdict": "vpn_detected", "score": 1.0,
    ///  "asn": 60729, "as_org": "ZWIEBELFREUNDE", "provider": "Tor Project", "country": null,
    ///  "network": "185.220.101.1/32", "sources": ["caida-pfx2as", "tor-exit-addresses"],
    ///  "request_id": "5f0c2a9e000000000001"}
    /// ```
    ///
    /// `overlay` is `null` or `{"action", "target", "reason", "source", "line"}`; the answer's
    /// fields are `null` (and `categories`, `sources` empty) when no artifact answered. The
    /// overlay's reason is the deployment's own note: do not send this object to clients
    /// ([`Decision::refusal_json`] is what they get).
    pub fn to_json(&self) -> Value {
        let answer = self.answer();
        let overlay = self.overlay_match().map(|m| {
            json!({
                "action": m.action().as_str(),
                "target": m.entry().target().to_string(),
                "reason": m.reason(),
                "source": m.source_name(),
                "line": m.entry().line(),
            })
        });
        json!({
            "ip": self.ip().map(|ip| ip.to_string()),
            "ip_source": self.client.map(|c| c.source().as_str()),
            "class": self.class.as_str(),
            "response": self.response.as_str(),
            "reason": self.reason.as_str(),
            "weak_evidence": matches!(self.reason, DecisionReason::WeakEvidence(_)),
            "overlay": overlay,
            "categories": answer.map_or_else(Vec::new, |a| a.categories().names().collect()),
            "verdict": answer.map(|a| a.verdict().as_str()),
            // Hundredths, as stored (an f32 widened to f64 would print 0.10000000149011612).
            "score": answer.map(|a| (f64::from(a.score()) * 100.0).round() / 100.0),
            "asn": answer.and_then(|a| a.asn()),
            "as_org": answer.and_then(|a| a.as_org()),
            "provider": answer.and_then(|a| a.provider()),
            "country": answer.and_then(|a| a.country()),
            "network": answer.map(|a| a.network().to_string()),
            "sources": answer.map_or_else(Vec::new, |a| a.sources().collect()),
            "request_id": self.request_id.to_string(),
        })
    }

    /// The small body a refused client gets: what happened, why, the address judged and the
    /// request id, and nothing of the deployment's overlay notes:
    ///
    /// ```json
    /// {"error": "forbidden", "reason": "tor_exit", "class": "payment",
    ///  "ip": "185.220.101.1", "request_id": "5f0c2a9e000000000001"}
    /// ```
    ///
    /// `error` is `forbidden` for a block (403) and `unavailable` for a request refused
    /// unjudged while failing closed (503; `reason` `no_database` or `no_client_address`).
    pub fn refusal_json(&self) -> Value {
        json!({
            "error": if self.reason.is_unjudged() { "unavailable" } else { "forbidden" },
            "reason": self.reason.as_str(),
            "class": self.class.as_str(),
            "ip": self.ip().map(|ip| ip.to_string()),
            "request_id": self.request_id.to_string(),
        })
    }

    /// The refusal response: 403 (or 503 when refused unjudged), `content-type:
    /// application/json`, `cache-control: no-store`, `x-request-id`, the
    /// [`Decision::refusal_json`] body, and the decision itself in the extensions.
    pub fn refusal_response(&self) -> http::Response<Bytes> {
        let status = if self.reason.is_unjudged() {
            http::StatusCode::SERVICE_UNAVAILABLE
        } else {
            http::StatusCode::FORBIDDEN
        };
        let mut body = self.refusal_json().to_string().into_bytes();
        body.push(b'\n');
        let mut response = http::Response::new(Bytes::from(body));
        *response.status_mut() = status;
        let h = response.headers_mut();
        h.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(
            http::header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        );
        h.insert(REQUEST_ID_HEADER, self.request_id.to_header_value());
        response.extensions_mut().insert(self.clone());
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_ids() {
        let a = RequestId::generate();
        let b = RequestId::generate();
        assert_ne!(a, b);
        assert_eq!(a.to_string().len(), 20);
        assert!(a.to_string().bytes().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a.to_header_value(), a.to_string().as_str());

        let mut h = HeaderMap::new();
        h.insert(REQUEST_ID_HEADER, "01J9Z-abc_def.1:2".parse().unwrap());
        assert_eq!(
            RequestId::from_headers(&h).unwrap().to_string(),
            "01J9Z-abc_def.1:2"
        );
        for bad in ["", "a b", "\"}{", "<script>", &"x".repeat(129)] {
            h.insert(REQUEST_ID_HEADER, HeaderValue::from_str(bad).unwrap());
            assert!(RequestId::from_headers(&h).is_none(), "{bad:?}");
        }
    }
}
