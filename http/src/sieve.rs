//! The shared state behind every layer: the artifact (hot-reloaded), the overlay, the policy,
//! the client-address configuration and the counters; and the judgement of one request.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use http::{Extensions, HeaderMap, Request};
use ipsieve::{
    ActionClass, Categories, Database, OpenError, Overlay, Policy, ReloadConfig, Response,
    SharedDatabase,
};

use crate::client_addr::{ClientAddr, ClientIpConfig};
use crate::counters::{Counters, DatabaseStats, Stats};
use crate::decision::{Decision, DecisionReason, Judged, Owner, RequestId};
use crate::layer::{RouteClasses, SieveLayer};

/// What the layer does with a request it cannot judge: when no artifact could be opened at
/// start (and none has appeared since), or when the request carries no peer address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FailMode {
    /// Let it through unjudged (counted as `unjudged`), after an `error!` log line at start.
    /// The default: an IP-intelligence outage should not become a site outage.
    #[default]
    Open,
    /// Refuse it with `503` and a JSON body (counted as `unavailable`).
    Closed,
}

impl FailMode {
    /// `open` or `closed`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FailMode::Open => "open",
            FailMode::Closed => "closed",
        }
    }
}

/// The peer address of a request, for servers other than axum: insert it into the request's
/// extensions before the layer runs (a hyper `service_fn` knows it from its listener; axum's
/// `ConnectInfo<SocketAddr>` is read without this).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PeerAddr(pub SocketAddr);

/// A function that finds the peer address in a request's extensions, for servers that record
/// it in a type of their own (tonic's `TcpConnectInfo`, for example).
pub type PeerAddrFn = fn(&Extensions) -> Option<SocketAddr>;

/// An address in a log line, `-` for none.
struct OptIp(Option<IpAddr>);

impl fmt::Display for OptIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(ip) => ip.fmt(f),
            None => f.write_str("-"),
        }
    }
}

/// A [`Sieve`] that cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SieveError {
    /// No artifact was named ([`SieveBuilder::database_path`], [`SieveBuilder::database`] or
    /// [`SieveBuilder::shared_database`]).
    #[error("no artifact: name one with database_path, database or shared_database")]
    NoDatabase,
    /// A zero polling interval would be a busy loop.
    #[error("the reload polling interval must not be zero; use None to switch polling off")]
    ZeroPollInterval,
    /// The thread that retries opening the artifact could not be started.
    #[error("cannot start the thread that retries opening {path}: {source}")]
    Spawn {
        /// The artifact's path.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

enum Source {
    Fixed(Arc<Database>),
    Shared(SharedDatabase),
    Pending(Arc<Pending>),
}

/// An artifact that could not be opened at start: retried every polling interval until it
/// opens, then served (and hot-reloaded) like any other.
struct Pending {
    path: PathBuf,
    config: ReloadConfig,
    shared: OnceLock<SharedDatabase>,
    failures: AtomicU64,
    /// Dropping it stops the retry thread.
    _stop: Mutex<Option<mpsc::Sender<()>>>,
}

impl Pending {
    /// One attempt; true once open.
    fn try_open(&self) -> bool {
        if self.shared.get().is_some() {
            return true;
        }
        match SharedDatabase::open_with(&self.path, self.config) {
            Ok(shared) => {
                let build_time = shared.load().build_time();
                if self.shared.set(shared).is_ok() {
                    tracing::warn!(
                        path = %self.path.display(),
                        build_time,
                        "ipsieve: opened the artifact; requests are judged from now on"
                    );
                }
                true
            }
            Err(e) => {
                self.failures.fetch_add(1, Ordering::Relaxed);
                tracing::debug!(path = %self.path.display(), error = %e, "ipsieve: still no artifact");
                false
            }
        }
    }

    fn spawn_retries(this: &Arc<Pending>, interval: Duration) -> std::io::Result<()> {
        let (stop, stopped) = mpsc::channel::<()>();
        *this._stop.lock().unwrap_or_else(PoisonError::into_inner) = Some(stop);
        let weak: Weak<Pending> = Arc::downgrade(this);
        std::thread::Builder::new()
            .name("ipsieve-http-open".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(interval) {
                    let Some(p) = weak.upgrade() else { return };
                    if p.try_open() {
                        return;
                    }
                }
            })?;
        Ok(())
    }
}

struct Inner {
    source: Source,
    overlay: Arc<Overlay>,
    policy: Policy,
    client_ip: ClientIpConfig,
    fail_mode: FailMode,
    peer_fn: Option<PeerAddrFn>,
    counters: Counters,
    warned_no_peer: AtomicBool,
    seen_reloads: AtomicU64,
    seen_failures: AtomicU64,
}

/// The state every layer made from it shares: the artifact, the overlay, the policy, the
/// client-address configuration, the failure mode and the counters. Cheap to clone.
///
/// Build one with [`Sieve::builder`], then make layers: [`Sieve::layer`] (every request of
/// the layer in one action class) or [`Sieve::layer_with_routes`] (the class by route).
/// [`Sieve::judge`] judges a request without a layer.
#[derive(Clone)]
pub struct Sieve {
    inner: Arc<Inner>,
}

impl fmt::Debug for Sieve {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("Sieve")
            .field("database", &self.stats().database)
            .field("overlay_entries", &i.overlay.len())
            .field("client_ip", &i.client_ip)
            .field("fail_mode", &i.fail_mode)
            .finish_non_exhaustive()
    }
}

/// Configures a [`Sieve`]; see [`Sieve::builder`].
#[derive(Debug, Default)]
pub struct SieveBuilder {
    path: Option<PathBuf>,
    reload: Option<ReloadConfig>,
    fixed: Option<Arc<Database>>,
    shared: Option<SharedDatabase>,
    overlay: Option<Arc<Overlay>>,
    policy: Option<Policy>,
    client_ip: Option<ClientIpConfig>,
    fail_mode: FailMode,
    peer_fn: Option<PeerAddrFn>,
}

impl SieveBuilder {
    /// Serve the artifact at `path` through a [`SharedDatabase`]: verified at open, polled
    /// for replacements (every 5 s unless [`SieveBuilder::reload`] says otherwise), a bad
    /// replacement refused and counted while the previous one keeps serving. When it cannot
    /// be opened at start, the [`FailMode`] applies and the open is retried every polling
    /// interval until it succeeds.
    pub fn database_path(mut self, path: impl AsRef<Path>) -> Self {
        self.path = Some(path.as_ref().to_path_buf());
        self
    }

    /// How [`SieveBuilder::database_path`] opens and polls (default [`ReloadConfig::new`]:
    /// verified, polled every 5 seconds).
    pub fn reload(mut self, config: ReloadConfig) -> Self {
        self.reload = Some(config);
        self
    }

    /// Serve a fixed artifact (from bytes, `include_bytes!`, tests); never reloaded.
    pub fn database(mut self, db: impl Into<Arc<Database>>) -> Self {
        self.fixed = Some(db.into());
        self
    }

    /// Serve a [`SharedDatabase`] the application already opened (and reloads as it likes).
    pub fn shared_database(mut self, shared: SharedDatabase) -> Self {
        self.shared = Some(shared);
        self
    }

    /// The deployment's allow and deny entries (default: none).
    pub fn overlay(mut self, overlay: impl Into<Arc<Overlay>>) -> Self {
        self.overlay = Some(overlay.into());
        self
    }

    /// What each action class does with each category (default [`Policy::default`]: blocks a
    /// Tor exit on `payment` and an overlay deny outside `read`, never blocks `read` traffic
    /// or a privacy relay).
    pub fn policy(mut self, policy: Policy) -> Self {
        self.policy = Some(policy);
        self
    }

    /// Where the client address comes from (default: the socket peer).
    pub fn client_ip(mut self, config: ClientIpConfig) -> Self {
        self.client_ip = Some(config);
        self
    }

    /// Fail open (default) or closed when a request cannot be judged.
    pub fn fail_mode(mut self, mode: FailMode) -> Self {
        self.fail_mode = mode;
        self
    }

    /// A function that finds the peer address where the server records it, tried before
    /// [`PeerAddr`] and axum's `ConnectInfo<SocketAddr>`.
    pub fn peer_addr_fn(mut self, f: PeerAddrFn) -> Self {
        self.peer_fn = Some(f);
        self
    }

    /// Opens the artifact (a path that cannot be opened is not an error: see
    /// [`SieveBuilder::database_path`]) and makes the [`Sieve`]. With several artifact
    /// sources given, a fixed one wins over a shared one over a path.
    ///
    /// # Errors
    /// [`SieveError::NoDatabase`] without an artifact; [`SieveError::ZeroPollInterval`];
    /// [`SieveError::Spawn`] when the retry thread cannot start. Never panics.
    pub fn build(self) -> Result<Sieve, SieveError> {
        let source = if let Some(db) = self.fixed {
            Source::Fixed(db)
        } else if let Some(shared) = self.shared {
            Source::Shared(shared)
        } else if let Some(path) = self.path {
            let config = self.reload.unwrap_or_default();
            if config.get_poll_interval() == Some(Duration::ZERO) {
                return Err(SieveError::ZeroPollInterval);
            }
            open_or_pend(path, config, self.fail_mode)?
        } else {
            return Err(SieveError::NoDatabase);
        };
        Ok(Sieve {
            inner: Arc::new(Inner {
                source,
                overlay: self.overlay.unwrap_or_default(),
                policy: self.policy.unwrap_or_default(),
                client_ip: self.client_ip.unwrap_or_default(),
                fail_mode: self.fail_mode,
                peer_fn: self.peer_fn,
                counters: Counters::new(),
                warned_no_peer: AtomicBool::new(false),
                seen_reloads: AtomicU64::new(0),
                seen_failures: AtomicU64::new(0),
            }),
        })
    }
}

fn open_or_pend(path: PathBuf, config: ReloadConfig, mode: FailMode) -> Result<Source, SieveError> {
    let error: OpenError = match SharedDatabase::open_with(&path, config) {
        Ok(shared) => return Ok(Source::Shared(shared)),
        Err(e) => e,
    };
    let retry = config.get_poll_interval();
    match mode {
        FailMode::Open => tracing::error!(
            path = %path.display(),
            %error,
            retry_every = ?retry,
            "ipsieve: NO ARTIFACT COULD BE OPENED; FAILING OPEN: every request passes \
             UNCHECKED until a valid artifact appears at this path"
        ),
        FailMode::Closed => tracing::error!(
            path = %path.display(),
            %error,
            retry_every = ?retry,
            "ipsieve: NO ARTIFACT COULD BE OPENED; FAILING CLOSED: every request is refused \
             with 503 until a valid artifact appears at this path"
        ),
    }
    let pending = Arc::new(Pending {
        path: path.clone(),
        config,
        shared: OnceLock::new(),
        failures: AtomicU64::new(1),
        _stop: Mutex::new(None),
    });
    if let Some(interval) = retry {
        Pending::spawn_retries(&pending, interval)
            .map_err(|source| SieveError::Spawn { path, source })?;
    }
    Ok(Source::Pending(pending))
}

impl Sieve {
    /// A builder with the defaults: default policy, empty overlay, socket address, fail-open.
    ///
    /// ```
    /// use ipsieve::{ActionClass, Indicator, Policy, ReloadConfig, Response};
    /// use ipsieve_http::{ClientIpConfig, FailMode, ForwardedHeader, Sieve};
    /// use std::time::Duration;
    ///
    /// let sieve = Sieve::builder()
    ///     .database_path("/nonexistent/ipsieve.db") // fails open, retried every 30 s
    ///     .reload(ReloadConfig::new().poll_interval(Some(Duration::from_secs(30))))
    ///     .policy(Policy::default().with(ActionClass::SIGNUP, Indicator::Vpn, Response::Block))
    ///     .client_ip(ClientIpConfig::header(
    ///         ForwardedHeader::XForwardedFor,
    ///         ["10.0.0.0/8".parse().unwrap()],
    ///     )?)
    ///     .fail_mode(FailMode::Open)
    ///     .build()?;
    /// assert!(!sieve.stats().database.loaded);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn builder() -> SieveBuilder {
        SieveBuilder::default()
    }

    /// A layer that judges every request in `class` (`ActionClass::READ` for public pages,
    /// `LOGIN` for a login route, …). Put it on the route: the route, not the handler, picks
    /// the class.
    pub fn layer(&self, class: ActionClass) -> SieveLayer {
        SieveLayer::new(self.clone(), class, None)
    }

    /// One layer for a whole router that picks each request's class from its route (axum's
    /// `MatchedPath`, or else the request path) in `routes`.
    pub fn layer_with_routes(&self, routes: RouteClasses) -> SieveLayer {
        SieveLayer::new(self.clone(), routes.default_class(), Some(Arc::new(routes)))
    }

    /// The counters, with the artifact's state and its reload counts.
    pub fn stats(&self) -> Stats {
        let mut stats = self.inner.counters.snapshot();
        stats.database = self.database_stats();
        stats
    }

    /// The counters as Prometheus text (see [`Stats::write_prometheus`]).
    pub fn prometheus(&self) -> String {
        self.stats().to_prometheus()
    }

    /// The live counters, for front ends that record decisions of their own.
    pub fn counters(&self) -> &Counters {
        &self.inner.counters
    }

    /// The artifact being served now, if any.
    pub fn database(&self) -> Option<Arc<Database>> {
        match &self.inner.source {
            Source::Fixed(db) => Some(Arc::clone(db)),
            Source::Shared(s) => Some(s.load()),
            Source::Pending(p) => p.shared.get().map(SharedDatabase::load),
        }
    }

    /// The [`SharedDatabase`] behind the sieve, when it serves a path (once open).
    pub fn shared_database(&self) -> Option<&SharedDatabase> {
        match &self.inner.source {
            Source::Shared(s) => Some(s),
            Source::Pending(p) => p.shared.get(),
            Source::Fixed(_) => None,
        }
    }

    /// Tries to open a path that could not be opened at start, now (the retry thread does it
    /// every polling interval); true when an artifact is being served.
    pub fn retry_open(&self) -> bool {
        match &self.inner.source {
            Source::Pending(p) => p.try_open(),
            _ => true,
        }
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// The overlay.
    pub fn overlay(&self) -> &Overlay {
        &self.inner.overlay
    }

    /// The client-address configuration.
    pub fn client_ip(&self) -> &ClientIpConfig {
        &self.inner.client_ip
    }

    /// The failure mode.
    pub fn fail_mode(&self) -> FailMode {
        self.inner.fail_mode
    }

    fn database_stats(&self) -> DatabaseStats {
        let (shared, open_failures) = match &self.inner.source {
            Source::Fixed(db) => {
                return DatabaseStats {
                    loaded: true,
                    build_time: Some(db.build_time()),
                    ..DatabaseStats::default()
                }
            }
            Source::Shared(s) => (Some(s), 0),
            Source::Pending(p) => (p.shared.get(), p.failures.load(Ordering::Relaxed)),
        };
        let Some(shared) = shared else {
            return DatabaseStats {
                open_failures,
                ..DatabaseStats::default()
            };
        };
        DatabaseStats {
            loaded: true,
            build_time: Some(shared.load().build_time()),
            reloads: shared.successes(),
            reload_failures: shared.failures(),
            open_failures,
        }
    }

    /// Logs reloads and refused replacements once each, as the request path notices them.
    fn note_reloads(&self, shared: &SharedDatabase) {
        let i = &self.inner;
        let failures = shared.failures();
        if failures != i.seen_failures.load(Ordering::Relaxed)
            && i.seen_failures.swap(failures, Ordering::Relaxed) != failures
        {
            let error = shared
                .last_error()
                .map(|e| e.to_string())
                .unwrap_or_default();
            tracing::error!(path = %shared.path().display(), failures, %error, "ipsieve: refused a replaced artifact; still serving the previous one");
        }
        let reloads = shared.successes();
        if reloads != i.seen_reloads.load(Ordering::Relaxed)
            && i.seen_reloads.swap(reloads, Ordering::Relaxed) != reloads
        {
            tracing::info!(path = %shared.path().display(), reloads, "ipsieve: serving a replaced artifact");
        }
    }

    fn peer(&self, extensions: &Extensions) -> Option<IpAddr> {
        if let Some(f) = self.inner.peer_fn {
            if let Some(a) = f(extensions) {
                return Some(a.ip());
            }
        }
        if let Some(PeerAddr(a)) = extensions.get::<PeerAddr>() {
            return Some(a.ip());
        }
        #[cfg(feature = "axum")]
        if let Some(c) = extensions.get::<axum::extract::ConnectInfo<SocketAddr>>() {
            return Some(c.0.ip());
        }
        None
    }

    /// Judges a request in `class`: finds its client address, looks it up once, checks the
    /// overlay and applies the policy; counts and logs the decision. What the layer does
    /// before the inner service; a request that already carries a decision of this sieve
    /// (a nested layer) is judged again for `class` from that decision's lookup, without a
    /// new one. Never panics.
    pub fn judge<B>(&self, class: ActionClass, request: &Request<B>) -> Decision {
        self.judge_parts(class, request.headers(), request.extensions())
    }

    /// [`Sieve::judge`] from a request's headers and extensions.
    pub fn judge_parts(
        &self,
        class: ActionClass,
        headers: &HeaderMap,
        extensions: &Extensions,
    ) -> Decision {
        let id = self.id();
        if let Some(prev) = extensions.get::<Decision>().filter(|d| d.sieve == id) {
            let d = self.decide(
                class,
                prev.client,
                prev.request_id.clone(),
                prev.judged.clone(),
            );
            self.finish(&d);
            return d;
        }
        let client = self.inner.client_ip.resolve(headers, self.peer(extensions));
        let request_id = RequestId::from_headers(headers).unwrap_or_else(RequestId::generate);
        self.judge_addr(class, client, Some(request_id))
    }

    /// Judges a client address found elsewhere (an API that receives the address to check,
    /// a test): one lookup, the overlay, the policy; counted and logged like a request.
    /// `request_id` defaults to a new one.
    pub fn judge_addr(
        &self,
        class: ActionClass,
        client: Option<ClientAddr>,
        request_id: Option<RequestId>,
    ) -> Decision {
        let request_id = request_id.unwrap_or_else(RequestId::generate);
        let judged = client.map(|c| {
            let db = self.database();
            if db.is_some() {
                self.inner.counters.record_lookup();
            }
            if let Some(shared) = self.shared_database() {
                self.note_reloads(shared);
            }
            let owner = Owner {
                db,
                overlay: Arc::clone(&self.inner.overlay),
            };
            Arc::new(Judged::look_up(owner, c.ip()))
        });
        let d = self.decide(class, client, request_id, judged);
        self.finish(&d);
        d
    }

    /// The decision for `class` from a lookup already made.
    fn decide(
        &self,
        class: ActionClass,
        client: Option<ClientAddr>,
        request_id: RequestId,
        judged: Option<Arc<Judged>>,
    ) -> Decision {
        let policy = &self.inner.policy;
        let unjudged = |reason| match self.inner.fail_mode {
            FailMode::Open => (Response::Allow, reason),
            FailMode::Closed => (Response::Block, reason),
        };
        let (response, reason) = match judged.as_deref().map(Judged::looked) {
            None => unjudged(DecisionReason::NoClientAddress),
            Some(looked) => match looked.answer {
                Some(answer) => {
                    let pd = policy.decide(class, &answer, looked.overlay);
                    (pd.response, DecisionReason::from_policy(pd.reason))
                }
                // No artifact: the overlay can still decide (steps 1 and 2 of the order).
                None => match looked.overlay {
                    Some(m) => {
                        let pd = policy.decide_categories(class, Categories::empty(), Some(m));
                        if pd.by_overlay() {
                            (pd.response, DecisionReason::from_policy(pd.reason))
                        } else {
                            unjudged(DecisionReason::NoDatabase)
                        }
                    }
                    None => unjudged(DecisionReason::NoDatabase),
                },
            },
        };
        Decision {
            client,
            class,
            response,
            reason,
            request_id,
            judged,
            sieve: self.id(),
        }
    }

    /// Counts and logs a decision.
    fn finish(&self, d: &Decision) {
        self.inner.counters.record(d);
        if d.reason() == DecisionReason::NoClientAddress
            && !self.inner.warned_no_peer.swap(true, Ordering::Relaxed)
        {
            tracing::error!(
                fail_mode = self.inner.fail_mode.as_str(),
                "ipsieve: a request without a peer address; with axum serve the router with \
                 into_make_service_with_connect_info::<SocketAddr>(), elsewhere insert \
                 ipsieve_http::PeerAddr (logged once)"
            );
        }
        // Fields are formatted only when a subscriber takes the event.
        match d.response() {
            Response::Block | Response::StepUp => tracing::info!(
                request_id = %d.request_id(),
                ip = %OptIp(d.ip()),
                class = d.class().as_str(),
                response = d.response().as_str(),
                reason = d.reason().as_str(),
                "ipsieve decision"
            ),
            _ => tracing::debug!(
                request_id = %d.request_id(),
                ip = %OptIp(d.ip()),
                class = d.class().as_str(),
                response = d.response().as_str(),
                reason = d.reason().as_str(),
                "ipsieve decision"
            ),
        }
    }

    fn id(&self) -> usize {
        Arc::as_ptr(&self.inner) as usize
    }
}
