//! The server span of every HTTP request: its parent from the caller's
//! `traceparent` (when it sends one), its name the route template, its
//! request id (the caller's `X-Request-Id`, or a new one) answered back and
//! on every log line written while it is served. And the client span of a
//! request a service sends (to a target, a webhook receiver), whose trace
//! context goes along in `traceparent`/`tracestate`.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::propagate::{self, TraceHeaders};
use crate::metrics::http::{HttpMetrics, method_of, route_of};

/// The request id header, read and answered.
pub const REQUEST_ID: &str = "x-request-id";

/// The request's id (the caller's `X-Request-Id`, or one made for it), in
/// the request's extensions for the handlers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(pub String);

/// Middleware: serves the request inside its span, then counts and times
/// it in `metrics`.
pub async fn trace(State(metrics): State<HttpMetrics>, mut req: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let route = route_of(&req);
    let method = method_of(&req);
    let request_id = req
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128)
        .map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_string);
    let span = tracing::info_span!(
        "request",
        "otel.name" = %format_args!("{method} {route}"),
        "otel.kind" = "server",
        "http.request.method" = method,
        "http.route" = %route,
        "url.path" = req.uri().path(),
        "http.response.status_code" = tracing::field::Empty,
        "otel.status_code" = tracing::field::Empty,
        "request_id" = %request_id,
        "trace_id" = tracing::field::Empty,
    );
    {
        // A borrow of the request (which is not Sync) must not live across
        // the await below.
        let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
        propagate::set_parent(&span, header("traceparent"), header("tracestate"));
    }
    if let Some(id) = propagate::trace_id(&span) {
        span.record("trace_id", id);
    }
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let mut response = next.run(req).instrument(span.clone()).await;
    let status = response.status().as_u16();
    metrics.record(&route, method, status, started.elapsed().as_secs_f64());
    span.record("http.response.status_code", status);
    if response.status().is_server_error() {
        span.record("otel.status_code", "ERROR");
    }
    if let Ok(v) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID, v);
    }
    response
}

/// The client span of a request this service sends to `url`, child of the
/// current span (after the OpenTelemetry HTTP client conventions), and the
/// trace headers to send with it. Record its answer with [`answered`].
pub fn client(method: &str, url: &str) -> (tracing::Span, TraceHeaders) {
    let parsed = reqwest::Url::parse(url).ok();
    let span = tracing::info_span!(
        "request",
        "otel.name" = method,
        "otel.kind" = "client",
        "http.request.method" = method,
        "server.address" = parsed
            .as_ref()
            .and_then(|u| u.host_str())
            .unwrap_or_default(),
        "server.port" = parsed
            .as_ref()
            .and_then(reqwest::Url::port_or_known_default),
        "url.full" = url,
        "http.response.status_code" = tracing::field::Empty,
        "otel.status_code" = tracing::field::Empty,
    );
    let headers = propagate::headers_of(&span);
    (span, headers)
}

/// Records the status of the answer to a [`client`] request (a 4xx or 5xx
/// is the span's error), or that none came (`None`).
pub fn answered(span: &tracing::Span, status: Option<u16>) {
    if let Some(status) = status {
        span.record("http.response.status_code", status);
    }
    if status.is_none_or(|s| s >= 400) {
        span.record("otel.status_code", "ERROR");
    }
}

/// `req` with the trace headers of a [`client`] span.
pub fn with_trace(
    mut req: reqwest::RequestBuilder,
    trace: &TraceHeaders,
) -> reqwest::RequestBuilder {
    if let Some(v) = &trace.traceparent {
        req = req.header("traceparent", v);
    }
    if let Some(v) = &trace.tracestate {
        req = req.header("tracestate", v);
    }
    req
}
