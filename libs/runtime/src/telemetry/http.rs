//! The server span of every HTTP request: its parent from the caller's
//! `traceparent` (when it sends one), its name the route template, its
//! request id (the caller's `X-Request-Id`, or a new one) answered back and
//! on every log line written while it is served.

use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::propagate;
use crate::metrics::http::{HttpMetrics, method_of, route_of};

/// The request id header, read and answered.
pub const REQUEST_ID: &str = "x-request-id";

/// Middleware: serves the request inside its span, then counts and times
/// it in `metrics`.
pub async fn trace(State(metrics): State<HttpMetrics>, req: Request, next: Next) -> Response {
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
