//! Requests and their latency, by route template (never the path itself:
//! it holds tenant names and resource ids), method and status.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::{Counter, Histogram, LATENCY_BUCKETS, Registry};

/// The HTTP families of a service.
#[derive(Clone, Debug)]
pub struct HttpMetrics {
    requests: Counter,
    duration: Histogram,
}

impl std::fmt::Debug for Counter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Counter")
    }
}

impl std::fmt::Debug for Histogram {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Histogram")
    }
}

impl std::fmt::Debug for super::Gauge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Gauge")
    }
}

impl HttpMetrics {
    /// Registers the families in `registry`.
    pub fn new(registry: &Registry) -> HttpMetrics {
        HttpMetrics {
            requests: registry.counter(
                "scimbus_http_requests_total",
                "HTTP requests answered, by route template, method and status.",
                &["route", "method", "status"],
            ),
            duration: registry.histogram(
                "scimbus_http_request_duration_seconds",
                "Time to the response head, by route template and method.",
                &["route", "method"],
                LATENCY_BUCKETS,
            ),
        }
    }
}

/// The route template of a request (`/scim/v2/{tenant}/Users/{id}`), or
/// `unmatched` for one no route took.
pub fn route_of(req: &Request) -> String {
    req.extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |p| p.as_str().to_string())
}

/// A method name with a bounded set of values.
pub fn method_of(req: &Request) -> &'static str {
    use axum::http::Method;
    match *req.method() {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Middleware: counts and times every request.
pub async fn track(State(m): State<HttpMetrics>, req: Request, next: Next) -> Response {
    let route = route_of(&req);
    let method = method_of(&req);
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_str().to_string();
    m.requests.inc(&[&route, method, &status]);
    m.duration
        .observe(&[&route, method], started.elapsed().as_secs_f64());
    response
}
