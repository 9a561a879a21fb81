//! The routes and their JSON: the request in, one lookup per address through the `Sieve`, the
//! answer out in the shape of the API the route imitates. Every input error is a JSON 4xx
//! (docs/HTTP.md has the table); nothing here panics on request data.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, FailedToBufferBody, PathRejection};
use axum::extract::{
    ConnectInfo, DefaultBodyLimit, FromRequest, MatchedPath, Path, Request, State,
};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use ipsieve::{ActionClass, Answer, Categories, Verdict};
use ipsieve_builder::manifest::day_string;
use ipsieve_http::{AddrSource, ClientAddr, Decision, RequestId, Sieve, REQUEST_ID_HEADER};
use ipsieve_sources::error::truncate;
use serde::Serialize;
use serde_json::{Map, Value};

use super::metrics::{route_index, Metrics};
use crate::lookup::JsonSpecial;

/// At most this many addresses in one `POST /v1/bulk-check`.
pub(crate) const BULK_MAX: usize = 100;

/// What every handler shares.
#[derive(Debug)]
pub(crate) struct AppState {
    /// The artifact (hot-reloaded), the counters and the client-address configuration.
    pub(crate) sieve: Sieve,
    /// The server's own counters.
    pub(crate) metrics: Metrics,
    /// `--max-body`.
    pub(crate) max_body: usize,
    /// `--body-timeout`.
    pub(crate) body_timeout: Duration,
    /// When the server started.
    pub(crate) started: Instant,
}

type Shared = Arc<AppState>;

/// A JSON object as parsed.
type Object = Map<String, Value>;

/// The router: every route, the JSON 404 and 405, the body limit and the counting middleware.
pub(crate) fn router(state: Shared) -> Router {
    Router::new()
        .route("/v1/check", post(check))
        .route("/v1/bulk-check", post(bulk_check))
        .route("/ip/me", get(ip_me))
        .route("/ip/{ip}", get(ip))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/internal/stats", get(stats))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(Arc::clone(&state), observe))
        .layer(DefaultBodyLimit::max(state.max_body))
        .with_state(state)
}

/// Counts every request (route pattern, status, latency, in flight) and logs it at `debug`.
async fn observe(State(s): State<Shared>, request: Request, next: Next) -> Response {
    let route = route_index(
        request
            .extensions()
            .get::<MatchedPath>()
            .map(|m| m.as_str()),
    );
    let logged = tracing::enabled!(tracing::Level::DEBUG).then(|| {
        let peer = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let client = s.sieve.client_ip().resolve(request.headers(), peer);
        (
            request.method().clone(),
            request.uri().path().to_owned(),
            client.map(|c| c.ip()),
        )
    });
    let start = Instant::now();
    let in_flight = s.metrics.start();
    let response = next.run(request).await;
    drop(in_flight);
    let took = start.elapsed();
    s.metrics.record(route, response.status().as_u16(), took);
    if let Some((method, path, client)) = logged {
        tracing::debug!(
            %method,
            path = %path.escape_debug(),
            status = response.status().as_u16(),
            micros = took.as_micros() as u64,
            client = %client.map_or_else(|| "-".to_owned(), |ip| ip.to_string()),
            "request"
        );
    }
    response
}

/// A JSON error: a 4xx status (or 503 while no artifact is loaded), a stable code and a
/// message for a person.
#[derive(Debug)]
pub(crate) struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// The response: `{"success": false, "error": code, "message": …, "request_id": …}`.
    fn response(self, id: &RequestId) -> Response {
        #[derive(Serialize)]
        struct Body<'a> {
            success: bool,
            error: &'a str,
            message: &'a str,
            request_id: String,
        }
        let body = Body {
            success: false,
            error: self.code,
            message: &self.message,
            request_id: id.to_string(),
        };
        json_response(self.status, &body, id)
    }
}

/// `body` as JSON with `status`, `content-type: application/json` and the request id header.
fn json_response(status: StatusCode, body: &impl Serialize, id: &RequestId) -> Response {
    let mut bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        // Serialising these shapes (strings, numbers, booleans) cannot fail.
        Err(_) => b"{\"success\":false,\"error\":\"internal\"}".to_vec(),
    };
    bytes.push(b'\n');
    let mut response = (status, bytes).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(REQUEST_ID_HEADER, id.to_header_value());
    response
}

/// The request's plausible `x-request-id`, or a new one.
fn request_id(headers: &HeaderMap) -> RequestId {
    RequestId::from_headers(headers).unwrap_or_else(RequestId::generate)
}

/// Reads the body (within `--body-timeout` and `--max-body`) and parses it as a JSON object.
async fn read_json(s: &AppState, request: Request) -> Result<Object, ApiError> {
    let bytes = match tokio::time::timeout(s.body_timeout, Bytes::from_request(request, &())).await
    {
        Err(_) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "body_timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    s.body_timeout.as_millis()
                ),
            ))
        }
        Ok(Err(BytesRejection::FailedToBufferBody(FailedToBufferBody::LengthLimitError(_)))) => {
            return Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body_too_large",
                format!("the request body is over the limit of {} bytes", s.max_body),
            ))
        }
        Ok(Err(e)) => {
            return Err(ApiError::bad_request(
                "unreadable_body",
                format!("cannot read the request body: {}", truncate(&e.body_text())),
            ))
        }
        Ok(Ok(b)) => b,
    };
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err(ApiError::bad_request(
            "invalid_request",
            "the body must be a JSON object",
        )),
        Err(e) => Err(ApiError::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {}", truncate(&e.to_string())),
        )),
    }
}

/// The string field `name` of a request object.
fn string_field<'a>(o: &'a Object, name: &str) -> Result<&'a str, ApiError> {
    match o.get(name) {
        Some(Value::String(s)) => Ok(s),
        None => Err(ApiError::bad_request(
            "invalid_request",
            format!("the body has no `{name}` field"),
        )),
        Some(_) => Err(ApiError::bad_request(
            "invalid_request",
            format!("`{name}` must be a string"),
        )),
    }
}

/// An address from client text (blanks around it allowed).
fn parse_ip(text: &str) -> Result<IpAddr, ApiError> {
    text.trim().parse().map_err(|_| {
        ApiError::bad_request(
            "invalid_ip",
            format!("'{}' is not an IPv4 or IPv6 address", truncate(text)),
        )
    })
}

impl AppState {
    /// One lookup of `ip` through the sieve (counted as a lookup and a judged `read`
    /// request), and the verdict counted.
    fn judge(&self, ip: IpAddr, id: &RequestId) -> Result<Decision, ApiError> {
        let client = ClientAddr::new(ip, AddrSource::Socket);
        let d = self
            .sieve
            .judge_addr(ActionClass::READ, Some(client), Some(id.clone()));
        match d.answer() {
            Some(a) => self.metrics.verdict(a.verdict()),
            None => return Err(no_database()),
        }
        Ok(d)
    }
}

fn no_database() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_database",
        "no artifact is loaded",
    )
}

/// A score or weight in hundredths as a JSON number (`0.1`, not `0.10000000149011612`).
fn hundredths(h: u8) -> f64 {
    f64::from(h) / 100.0
}

/// The categories of an anonymizer (`is_anonymous`): Tor exit, VPN, public proxy.
const ANONYMIZER: Categories = Categories::TOR_EXIT
    .union(Categories::VPN)
    .union(Categories::PROXY);

/// `AS64496`.
fn asn_text(a: &Answer<'_>) -> Option<String> {
    a.asn().map(|n| format!("AS{n}"))
}

/// `POST /v1/check`: IPLogs' answer.
#[derive(Serialize)]
struct CheckAnswer<'a> {
    verdict: &'static str,
    score: f64,
    is_vpn: bool,
    confidence: f64,
    signals: Vec<CheckSignal<'a>>,
    ip_info: IpInfo<'a>,
    /// ipsieve's additions: the special-purpose block and the bogon flag.
    special: Option<JsonSpecial>,
    is_bogon: bool,
    request_id: String,
}

#[derive(Serialize)]
struct CheckSignal<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    weight: f64,
    matched: bool,
    detail: String,
}

#[derive(Serialize)]
struct IpInfo<'a> {
    ip: String,
    asn: Option<String>,
    org: Option<&'a str>,
    country: Option<&'a str>,
    country_code: Option<&'a str>,
    is_vpn: bool,
    vpn_provider: Option<&'a str>,
    vpn_provider_sources: Vec<&'a str>,
}

impl<'a> CheckAnswer<'a> {
    fn new(a: &Answer<'a>, id: &RequestId) -> CheckAnswer<'a> {
        let verdict = a.verdict();
        let is_vpn = verdict == Verdict::VpnDetected;
        let signals: Vec<CheckSignal<'a>> = a
            .signals()
            .map(|s| {
                let categories = s.categories();
                CheckSignal {
                    kind: categories.names().next().unwrap_or(s.format()),
                    weight: hundredths(s.weight_hundredths()),
                    matched: s.weight_hundredths() > 0,
                    detail: format!(
                        "{}: {} ({}, {} tier), snapshot {}",
                        s.name(),
                        if categories.is_empty() {
                            "no category".to_owned()
                        } else {
                            categories.to_string()
                        },
                        s.format(),
                        s.tier().as_str(),
                        s.snapshot_day()
                            .map_or_else(|| "undated".to_owned(), day_string),
                    ),
                }
            })
            .collect();
        let strongest = a
            .signals()
            .map(|s| s.weight_hundredths())
            .max()
            .unwrap_or(0);
        let confidence = if verdict == Verdict::Clean {
            hundredths(100 - a.score_hundredths())
        } else {
            hundredths(strongest)
        };
        let anonymous = a.is_anonymous();
        CheckAnswer {
            verdict: verdict.as_str(),
            score: hundredths(a.score_hundredths()),
            is_vpn,
            confidence,
            signals,
            ip_info: IpInfo {
                ip: a.ip().to_string(),
                asn: asn_text(a),
                org: a.as_org(),
                // The artifact holds country codes, not names.
                country: a.country(),
                country_code: a.country(),
                is_vpn,
                vpn_provider: if anonymous { a.provider() } else { None },
                vpn_provider_sources: a
                    .signals()
                    .filter(|s| s.categories().bits() & ANONYMIZER.bits() != 0)
                    .map(|s| s.name())
                    .collect(),
            },
            special: JsonSpecial::of(a),
            is_bogon: a.is_bogon(),
            request_id: id.to_string(),
        }
    }
}

async fn check(State(s): State<Shared>, request: Request) -> Response {
    let id = request_id(request.headers());
    let answer = async {
        let body = read_json(&s, request).await?;
        let d = s.judge(parse_ip(string_field(&body, "ip")?)?, &id)?;
        let a = d.answer().ok_or_else(no_database)?;
        Ok::<_, ApiError>(json_response(
            StatusCode::OK,
            &CheckAnswer::new(&a, &id),
            &id,
        ))
    };
    answer.await.unwrap_or_else(|e| e.response(&id))
}

/// One row of `POST /v1/bulk-check`.
#[derive(Serialize)]
struct BulkRow<'a> {
    ip: String,
    verdict: &'static str,
    score: f64,
    country: Option<&'a str>,
    asn: Option<String>,
    provider: Option<&'a str>,
}

#[derive(Serialize)]
struct BulkAnswer<'a> {
    results: Vec<BulkRow<'a>>,
    count: usize,
    request_id: String,
}

async fn bulk_check(State(s): State<Shared>, request: Request) -> Response {
    let id = request_id(request.headers());
    let answer = async {
        let body = read_json(&s, request).await?;
        let list = match body.get("ips") {
            Some(Value::Array(list)) => list,
            None => {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "the body has no `ips` field",
                ))
            }
            Some(_) => {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    "`ips` must be an array of strings",
                ))
            }
        };
        if list.len() > BULK_MAX {
            return Err(ApiError::bad_request(
                "too_many_ips",
                format!(
                    "at most {BULK_MAX} addresses per request; this one has {}",
                    list.len()
                ),
            ));
        }
        let mut ips = Vec::with_capacity(list.len());
        for (i, item) in list.iter().enumerate() {
            let Value::String(text) = item else {
                return Err(ApiError::bad_request(
                    "invalid_request",
                    format!("ips[{i}] must be a string"),
                ));
            };
            let ip = parse_ip(text).map_err(|e| ApiError {
                message: format!("ips[{i}]: {}", e.message),
                ..e
            })?;
            ips.push(ip);
        }
        let decisions = ips
            .into_iter()
            .map(|ip| s.judge(ip, &id))
            .collect::<Result<Vec<_>, _>>()?;
        let results = decisions
            .iter()
            .filter_map(|d| d.answer())
            .map(|a| BulkRow {
                ip: a.ip().to_string(),
                verdict: a.verdict().as_str(),
                score: hundredths(a.score_hundredths()),
                country: a.country(),
                asn: asn_text(&a),
                provider: a.provider(),
            })
            .collect::<Vec<_>>();
        let answer = BulkAnswer {
            count: results.len(),
            results,
            request_id: id.to_string(),
        };
        Ok::<_, ApiError>(json_response(StatusCode::OK, &answer, &id))
    };
    answer.await.unwrap_or_else(|e| e.response(&id))
}

/// `GET /ip/{ip}`: ip2geoapi's answer.
#[derive(Serialize)]
struct IpAnswer<'a> {
    success: bool,
    ip: String,
    version: &'static str,
    security: Security<'a>,
    /// ipsieve's additions: the special-purpose block and the bogon flag.
    special: Option<JsonSpecial>,
    #[serde(rename = "isBogon")]
    is_bogon: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Security<'a> {
    is_hosting: bool,
    is_proxy: bool,
    proxy_type: Option<&'static str>,
    is_vpn: bool,
    vpn_provider: Option<&'a str>,
    vpn_provider_url: Option<&'a str>,
    is_tor: bool,
    is_anonymous: bool,
    trust_score: u8,
    risk_level: &'static str,
}

impl<'a> IpAnswer<'a> {
    fn new(ip: IpAddr, a: &Answer<'a>) -> IpAnswer<'a> {
        // IP2Proxy's proxy type codes, the most telling first.
        let proxy_type = if a.is_tor() {
            Some("TOR")
        } else if a.is_vpn() {
            Some("VPN")
        } else if a.is_proxy() {
            Some("PUB")
        } else if a.is_relay() {
            Some("CPN")
        } else if a.is_hosting() {
            Some("DCH")
        } else {
            None
        };
        let vpn_source = a
            .signals()
            .filter(|s| s.categories().contains(Categories::VPN))
            .max_by_key(|s| s.weight_hundredths());
        IpAnswer {
            success: true,
            ip: ip.to_string(),
            version: if ip.is_ipv4() { "ipv4" } else { "ipv6" },
            security: Security {
                is_hosting: a.is_hosting(),
                is_proxy: a.is_proxy(),
                proxy_type,
                is_vpn: a.is_vpn(),
                vpn_provider: if a.is_vpn() { a.provider() } else { None },
                vpn_provider_url: vpn_source.and_then(|s| s.source().url()),
                is_tor: a.is_tor(),
                is_anonymous: a.is_anonymous(),
                trust_score: a.trust_score(),
                risk_level: a.risk_level().as_str(),
            },
            special: JsonSpecial::of(a),
            is_bogon: a.is_bogon(),
        }
    }
}

async fn ip(
    State(s): State<Shared>,
    headers: HeaderMap,
    path: Result<Path<String>, PathRejection>,
) -> Response {
    let id = request_id(&headers);
    let answer = || {
        let Path(text) =
            path.map_err(|e| ApiError::bad_request("invalid_ip", truncate(&e.body_text())))?;
        let ip = parse_ip(&text)?;
        let d = s.judge(ip, &id)?;
        let a = d.answer().ok_or_else(no_database)?;
        Ok::<_, ApiError>(json_response(StatusCode::OK, &IpAnswer::new(ip, &a), &id))
    };
    answer().unwrap_or_else(|e| e.response(&id))
}

/// `GET /ip/me`: the caller's own address (the socket peer, or the trusted forwarding header),
/// in the shape of `GET /ip/{ip}`.
async fn ip_me(State(s): State<Shared>, request: Request) -> Response {
    let d = s
        .sieve
        .judge_parts(ActionClass::READ, request.headers(), request.extensions());
    let id = d.request_id().clone();
    match (d.ip(), d.answer()) {
        (Some(ip), Some(a)) => {
            s.metrics.verdict(a.verdict());
            json_response(StatusCode::OK, &IpAnswer::new(ip, &a), &id)
        }
        (None, _) => ApiError::bad_request("no_client_address", "the caller's address is unknown")
            .response(&id),
        (_, None) => no_database().response(&id),
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `GET /healthz`.
async fn healthz(State(s): State<Shared>, headers: HeaderMap) -> Response {
    #[derive(Serialize)]
    struct Health {
        status: &'static str,
        loaded: bool,
        build_time: Option<u64>,
        age_seconds: Option<u64>,
        reloads: u64,
        reload_failures: u64,
        uptime_seconds: u64,
    }
    let db = s.sieve.stats().database;
    let health = Health {
        status: if db.loaded { "ok" } else { "no_database" },
        loaded: db.loaded,
        build_time: db.build_time,
        age_seconds: db.build_time.map(|t| unix_now().saturating_sub(t)),
        reloads: db.reloads,
        reload_failures: db.reload_failures,
        uptime_seconds: s.started.elapsed().as_secs(),
    };
    let status = if db.loaded {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    json_response(status, &health, &request_id(&headers))
}

/// `GET /metrics`: the sieve's counters, the server's, and the artifact's age.
async fn metrics(State(s): State<Shared>) -> Response {
    let stats = s.sieve.stats();
    let mut text = stats.to_prometheus();
    s.metrics.write_prometheus(&mut text);
    if let Some(t) = stats.database.build_time {
        text.push_str("# HELP ipsieve_database_age_seconds Seconds since the served artifact was built.\n# TYPE ipsieve_database_age_seconds gauge\n");
        text.push_str(&format!(
            "ipsieve_database_age_seconds {}\n",
            unix_now().saturating_sub(t)
        ));
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        text,
    )
        .into_response()
}

/// `GET /internal/stats`.
async fn stats(State(s): State<Shared>, headers: HeaderMap) -> Response {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Counts {
        uptime_seconds: u64,
        total_requests: u64,
        in_flight: i64,
        lookups: u64,
        clean_count: u64,
        suspicious_count: u64,
        vpn_likely_count: u64,
        vpn_detected_count: u64,
        vpn_blocked_count: u64,
        reloads: u64,
        reload_failures: u64,
        build_time: Option<u64>,
        artifact_age_seconds: Option<u64>,
        forwarding_headers_ignored: u64,
    }
    let st = s.sieve.stats();
    let m = &s.metrics;
    let counts = Counts {
        uptime_seconds: s.started.elapsed().as_secs(),
        total_requests: m.requests(),
        in_flight: m.in_flight(),
        lookups: st.lookups,
        clean_count: m.verdicts(Verdict::Clean),
        suspicious_count: m.verdicts(Verdict::Suspicious),
        vpn_likely_count: m.verdicts(Verdict::VpnLikely),
        vpn_detected_count: m.verdicts(Verdict::VpnDetected),
        vpn_blocked_count: m.verdicts(Verdict::VpnDetected),
        reloads: st.database.reloads,
        reload_failures: st.database.reload_failures,
        build_time: st.database.build_time,
        artifact_age_seconds: st.database.build_time.map(|t| unix_now().saturating_sub(t)),
        forwarding_headers_ignored: st.forwarding_headers_ignored,
    };
    json_response(StatusCode::OK, &counts, &request_id(&headers))
}

/// The routes, for the 404's message.
const ROUTE_LIST: &str = "POST /v1/check, POST /v1/bulk-check, GET /ip/{ip}, GET /ip/me, \
    GET /healthz, GET /metrics, GET /internal/stats";

async fn not_found(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        format!(
            "no route {method} {}; the routes are {ROUTE_LIST}",
            truncate(uri.path())
        ),
    )
    .response(&request_id(&headers))
}

async fn method_not_allowed(method: Method, uri: Uri, headers: HeaderMap) -> Response {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        format!(
            "{method} is not allowed on {}; the routes are {ROUTE_LIST}",
            truncate(uri.path())
        ),
    )
    .response(&request_id(&headers))
}
