//! Spans of messages, after the OpenTelemetry messaging conventions: a
//! producer span per publish (its context rides in the message's
//! headers), a consumer span per message processed (its parent read from
//! them). `messaging.destination.name` is the stream; the subject, which
//! holds tenant and partition, is an attribute of its own.

use tracing::Span;

use super::propagate::{self, TraceHeaders};

/// The span of publishing one message to `stream` on `subject`, child of
/// the current span, and the headers that carry it.
pub fn producer(stream: &str, subject: &str, message_id: &str) -> (Span, TraceHeaders) {
    let span = tracing::info_span!(
        "send",
        "otel.name" = %format_args!("send {stream}"),
        "otel.kind" = "producer",
        "messaging.system" = "nats",
        "messaging.operation.type" = "send",
        "messaging.operation.name" = "publish",
        "messaging.destination.name" = stream,
        "messaging.nats.subject" = subject,
        "messaging.message.id" = message_id,
    );
    let headers = propagate::headers_of(&span);
    (span, headers)
}

/// [`producer`] with an explicit parent (`traceparent`, `tracestate`):
/// for a publish made away from the work it belongs to (the store's
/// outbox publishes changes from a task of its own).
pub fn producer_under(
    stream: &str,
    subject: &str,
    message_id: &str,
    traceparent: &str,
    tracestate: Option<&str>,
) -> (Span, TraceHeaders) {
    let span = tracing::info_span!(
        parent: None,
        "send",
        "otel.name" = %format_args!("send {stream}"),
        "otel.kind" = "producer",
        "messaging.system" = "nats",
        "messaging.operation.type" = "send",
        "messaging.operation.name" = "publish",
        "messaging.destination.name" = stream,
        "messaging.nats.subject" = subject,
        "messaging.message.id" = message_id,
    );
    propagate::set_parent(&span, Some(traceparent), tracestate);
    let headers = propagate::headers_of(&span);
    (span, headers)
}

/// The span of processing one message of `stream`, child of the span that
/// published it (from the message's headers). `what` names the work
/// (`apply`, `push`, `deliver`).
pub fn consumer(
    stream: &str,
    subject: &str,
    message_id: &str,
    what: &'static str,
    headers: Option<&async_nats::HeaderMap>,
) -> Span {
    let span = tracing::info_span!(
        "process",
        "otel.name" = %format_args!("process {stream}"),
        "otel.kind" = "consumer",
        "messaging.system" = "nats",
        "messaging.operation.type" = "process",
        "messaging.operation.name" = what,
        "messaging.destination.name" = stream,
        "messaging.nats.subject" = subject,
        "messaging.message.id" = message_id,
        "scimbus.target" = tracing::field::Empty,
        "scimbus.subscription" = tracing::field::Empty,
    );
    propagate::set_parent_from_nats(&span, headers);
    span
}
