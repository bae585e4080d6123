//! W3C trace context across processes: read from an incoming request or
//! message into a span's parent, and written from a span into an outgoing
//! message's headers. Without an exporter every span context is invalid and
//! nothing is written.

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator};
use opentelemetry::trace::TraceContextExt;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// A span's `traceparent` and `tracestate`, to send on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceHeaders {
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
}

impl Injector for TraceHeaders {
    fn set(&mut self, key: &str, value: String) {
        match key {
            "traceparent" => self.traceparent = Some(value),
            "tracestate" if !value.is_empty() => self.tracestate = Some(value),
            _ => {}
        }
    }
}

struct Pair<'a> {
    traceparent: Option<&'a str>,
    tracestate: Option<&'a str>,
}

impl Extractor for Pair<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        match key {
            "traceparent" => self.traceparent,
            "tracestate" => self.tracestate,
            _ => None,
        }
    }
    fn keys(&self) -> Vec<&str> {
        vec!["traceparent", "tracestate"]
    }
}

/// The trace context of `span`, when it has a real one.
pub fn headers_of(span: &tracing::Span) -> TraceHeaders {
    let cx = span.context();
    if !cx.span().span_context().is_valid() {
        return TraceHeaders::default();
    }
    let mut headers = TraceHeaders::default();
    TraceContextPropagator::new().inject_context(&cx, &mut headers);
    headers
}

/// Makes the context of `traceparent`/`tracestate` (when valid) the parent
/// of `span`, which must not have been entered yet.
pub fn set_parent(span: &tracing::Span, traceparent: Option<&str>, tracestate: Option<&str>) {
    if traceparent.is_none() || span.is_disabled() {
        return;
    }
    let cx = TraceContextPropagator::new().extract(&Pair {
        traceparent,
        tracestate,
    });
    if cx.span().span_context().is_valid() {
        let _ = span.set_parent(cx);
    }
}

/// [`set_parent`] from a NATS message's headers.
pub fn set_parent_from_nats(span: &tracing::Span, headers: Option<&async_nats::HeaderMap>) {
    let Some(h) = headers else { return };
    set_parent(
        span,
        h.get(scimbus_events::headers::TRACEPARENT)
            .map(|v| v.as_str()),
        h.get(scimbus_events::headers::TRACESTATE)
            .map(|v| v.as_str()),
    );
}

/// The id of the trace `span` belongs to (32 hex digits), for logs.
pub fn trace_id(span: &tracing::Span) -> Option<String> {
    let cx = span.context();
    let sc = cx.span().span_context().clone();
    sc.is_valid().then(|| sc.trace_id().to_string())
}
