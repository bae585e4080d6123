//! Requests and their latency, by route template (never the path itself:
//! it holds tenant names and resource ids), method and status.

use axum::extract::{MatchedPath, Request};

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

    /// Counts and times one answered request.
    pub fn record(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .inc(&[route, method, status.to_string().as_str()]);
        self.duration.observe(&[route, method], seconds);
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
