//! One change to push, as it came from the change stream, and what
//! pushing it counted.

use async_nats::jetstream;
use scimbus_events::Message;
use scimbus_events::v1::Change;
use uuid::Uuid;

use crate::shared::WorkerError;

/// One change to push, with where it came from.
pub(crate) struct Item {
    pub(crate) stream_seq: u64,
    pub(crate) subject: String,
    pub(crate) msg_id: String,
    /// The resource it changes (nil when it cannot be decoded).
    pub(crate) resource: Uuid,
    pub(crate) change: Result<Change, Undecodable>,
    /// The message as it came (what a dead letter carries: a change that
    /// does not decode is parked as it was, not as nothing).
    pub(crate) raw: bytes::Bytes,
    /// The span of pushing it: child of the span that published it.
    pub(crate) span: tracing::Span,
}

/// A message of the change stream that is not a change (it parks with
/// this reason and its bytes as they came).
#[derive(Debug, thiserror::Error)]
#[error("not a scimbus.v1.Change: {0}")]
pub(crate) struct Undecodable(#[source] scimbus_events::DecodeError);

impl Item {
    /// A message of the change stream. One without its stream position
    /// is a broken consumer (the position could not move past it): an
    /// error, never position 0.
    pub(crate) fn of(m: &jetstream::Message) -> Result<Item, WorkerError> {
        let change = Change::decode(m.payload.as_ref()).map_err(Undecodable);
        let info = m.info().map_err(|e| {
            WorkerError::JetStream(format!("a change without its stream position: {e}"))
        })?;
        let stream_seq = info.stream_sequence;
        let msg_id = m
            .headers
            .as_ref()
            .and_then(|h| h.get(scimbus_events::headers::MSG_ID))
            .map(|v| v.as_str().to_string())
            .unwrap_or_default();
        let span = scimbus_runtime::telemetry::messaging::consumer(
            info.stream,
            &m.subject,
            &msg_id,
            "push",
            m.headers.as_ref(),
        );
        Ok(Item {
            span,
            stream_seq,
            subject: m.subject.to_string(),
            // Only named in a dead letter: one without the header (the store
            // always sets it) is still pushed.
            msg_id,
            // The key changes queue on: those that cannot be read share the
            // nil id (in stream order), and park with their reason.
            resource: change
                .as_ref()
                .ok()
                .and_then(|c| Uuid::parse_str(&c.resource_id).ok())
                .unwrap_or_default(),
            change,
            raw: m.payload.clone(),
        })
    }
}

#[derive(Debug, Default)]
pub(crate) struct Counts {
    pub(crate) pushed: i64,
    pub(crate) skipped: i64,
    pub(crate) last_error: Option<String>,
}
