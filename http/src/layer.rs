//! The tower [`Layer`] and [`Service`]: judge, then refuse or pass the request on with its
//! decision.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use ipsieve::ActionClass;
use pin_project_lite::pin_project;
use tower_layer::Layer;
use tower_service::Service;

use crate::sieve::Sieve;

/// Action classes by route, for one layer over a whole router: each request gets the class
/// of its route pattern (axum's `MatchedPath`, such as `/users/{id}/login`, with the `axum`
/// feature), else of its exact request path, else the default class.
///
/// ```
/// use ipsieve::ActionClass;
/// use ipsieve_http::RouteClasses;
///
/// let routes = RouteClasses::new(ActionClass::READ)
///     .route("/login", ActionClass::LOGIN)
///     .route("/checkout/{cart}", ActionClass::PAYMENT);
/// assert_eq!(routes.class_for(Some("/checkout/{cart}"), "/checkout/42"), ActionClass::PAYMENT);
/// assert_eq!(routes.class_for(None, "/login"), ActionClass::LOGIN);
/// assert_eq!(routes.class_for(None, "/about"), ActionClass::READ);
/// ```
#[derive(Debug, Clone)]
pub struct RouteClasses {
    default: ActionClass,
    routes: HashMap<Box<str>, ActionClass>,
}

impl RouteClasses {
    /// No routes yet; every request in `default`.
    pub fn new(default: ActionClass) -> RouteClasses {
        RouteClasses {
            default,
            routes: HashMap::new(),
        }
    }

    /// Requests of route `pattern` (as written in the router, or an exact path) are in
    /// `class`. A later call for the same pattern wins.
    #[must_use]
    pub fn route(mut self, pattern: &str, class: ActionClass) -> RouteClasses {
        self.routes.insert(pattern.into(), class);
        self
    }

    /// The class for a request with this matched route pattern (if the router gave one) and
    /// path.
    pub fn class_for(&self, matched: Option<&str>, path: &str) -> ActionClass {
        matched
            .and_then(|m| self.routes.get(m))
            .or_else(|| self.routes.get(path))
            .copied()
            .unwrap_or(self.default)
    }

    /// The class of requests no route names.
    pub fn default_class(&self) -> ActionClass {
        self.default
    }
}

/// The tower layer: judges each request's client address with its [`Sieve`] before the inner
/// service runs. A blocked request gets the 403 (or, failing closed, 503) JSON response of
/// [`Decision::refusal_response`](crate::Decision::refusal_response) and never reaches the
/// inner service; every other request reaches it with its
/// [`Decision`](crate::Decision) in the extensions. Made by [`Sieve::layer`] or
/// [`Sieve::layer_with_routes`]; all layers of one sieve share its artifact and counters.
#[derive(Debug, Clone)]
pub struct SieveLayer {
    sieve: Sieve,
    class: ActionClass,
    routes: Option<Arc<RouteClasses>>,
}

impl SieveLayer {
    pub(crate) fn new(
        sieve: Sieve,
        class: ActionClass,
        routes: Option<Arc<RouteClasses>>,
    ) -> SieveLayer {
        SieveLayer {
            sieve,
            class,
            routes,
        }
    }

    /// The sieve (its counters, its artifact).
    pub fn sieve(&self) -> &Sieve {
        &self.sieve
    }
}

impl<S> Layer<S> for SieveLayer {
    type Service = SieveService<S>;

    fn layer(&self, inner: S) -> SieveService<S> {
        SieveService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service [`SieveLayer`] wraps around an inner service.
#[derive(Debug, Clone)]
pub struct SieveService<S> {
    inner: S,
    layer: SieveLayer,
}

impl<S> SieveService<S> {
    /// The wrapped service.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn class_of<B>(&self, request: &Request<B>) -> ActionClass {
        let Some(routes) = &self.layer.routes else {
            return self.layer.class;
        };
        #[cfg(feature = "axum")]
        let matched = request
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|m| m.as_str());
        #[cfg(not(feature = "axum"))]
        let matched = None;
        routes.class_for(matched, request.uri().path())
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for SieveService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
{
    type Response = Response<SieveBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, ResBody>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let class = self.class_of(&request);
        let decision = self.layer.sieve.judge(class, &request);
        if decision.is_blocked() {
            return ResponseFuture::refused(decision.refusal_response().map(SieveBody::refusal));
        }
        request.extensions_mut().insert(decision);
        ResponseFuture::inner(self.inner.call(request))
    }
}

pin_project! {
    /// The response future of [`SieveService`]: the inner service's, or a refusal made
    /// before it ran.
    #[derive(Debug)]
    pub struct ResponseFuture<F, B> {
        #[pin]
        kind: FutureKind<F, B>,
    }
}

pin_project! {
    #[project = FutureProj]
    #[derive(Debug)]
    enum FutureKind<F, B> {
        Inner {
            #[pin]
            future: F,
        },
        Refused {
            response: Option<Response<SieveBody<B>>>,
        },
    }
}

impl<F, B> ResponseFuture<F, B> {
    fn inner(future: F) -> Self {
        ResponseFuture {
            kind: FutureKind::Inner { future },
        }
    }

    fn refused(response: Response<SieveBody<B>>) -> Self {
        ResponseFuture {
            kind: FutureKind::Refused {
                response: Some(response),
            },
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F, B>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<SieveBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project().kind.project() {
            FutureProj::Inner { future } => future
                .poll(cx)
                .map(|r| r.map(|res| res.map(SieveBody::inner))),
            FutureProj::Refused { response } => match response.take() {
                Some(r) => Poll::Ready(Ok(r)),
                // Polled after completion: a contract violation of the caller's; stay pending
                // rather than panic.
                None => Poll::Pending,
            },
        }
    }
}

pin_project! {
    /// The response body of [`SieveService`]: the inner service's body, or the JSON of a
    /// refusal.
    #[derive(Debug)]
    pub struct SieveBody<B> {
        #[pin]
        kind: BodyKind<B>,
    }
}

pin_project! {
    #[project = BodyProj]
    #[derive(Debug)]
    enum BodyKind<B> {
        Inner {
            #[pin]
            body: B,
        },
        Refusal {
            bytes: Option<Bytes>,
        },
    }
}

impl<B> SieveBody<B> {
    fn inner(body: B) -> Self {
        SieveBody {
            kind: BodyKind::Inner { body },
        }
    }

    fn refusal(bytes: Bytes) -> Self {
        SieveBody {
            kind: BodyKind::Refusal { bytes: Some(bytes) },
        }
    }
}

impl<B> Body for SieveBody<B>
where
    B: Body<Data = Bytes>,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        match self.project().kind.project() {
            BodyProj::Inner { body } => body.poll_frame(cx),
            BodyProj::Refusal { bytes } => Poll::Ready(bytes.take().map(|b| Ok(Frame::data(b)))),
        }
    }

    fn is_end_stream(&self) -> bool {
        match &self.kind {
            BodyKind::Inner { body } => body.is_end_stream(),
            BodyKind::Refusal { bytes } => bytes.is_none(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        match &self.kind {
            BodyKind::Inner { body } => body.size_hint(),
            BodyKind::Refusal { bytes } => {
                SizeHint::with_exact(bytes.as_ref().map_or(0, |b| b.len() as u64))
            }
        }
    }
}
