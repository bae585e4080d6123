//! Publishing a scimbus message with its headers, awaiting JetStream's ack.

use async_nats::HeaderMap;
use async_nats::jetstream::{self, context::PublishAckFuture};
use bytes::Bytes;
use scimbus_events::v1::Command;
use scimbus_events::{Message, Subjects, headers, partition};

use crate::connect::BusError;

/// One message to publish.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub subject: String,
    /// `Nats-Msg-Id`: the command or change id, so a republish is dropped
    /// by JetStream within its duplicate window.
    pub msg_id: String,
    pub tenant: String,
    pub payload: Bytes,
    /// W3C `traceparent` / `tracestate`, when the caller has a trace.
    pub traceparent: Option<String>,
    pub tracestate: Option<String>,
    /// Where the store should answer (commands only).
    pub reply_to: Option<String>,
    /// Where the store may answer with the results of several commands in
    /// one message (commands only; see `headers::REPLY_BATCH`).
    pub reply_batch: Option<String>,
}

impl Outgoing {
    /// A command, on the subject of its partition (`partitions` of them);
    /// the store answers on `reply_to`, if given.
    pub fn command(
        subjects: &Subjects,
        partitions: u32,
        cmd: &Command,
        reply_to: Option<String>,
    ) -> Outgoing {
        let p = partition(&cmd.tenant, &cmd.resource_id, partitions);
        Outgoing {
            subject: subjects.command(&cmd.tenant, p),
            msg_id: cmd.id.clone(),
            tenant: cmd.tenant.clone(),
            payload: Bytes::from(cmd.encode_to_vec()),
            traceparent: None,
            tracestate: None,
            reply_to,
            reply_batch: None,
        }
    }
}

/// The headers of an outgoing message.
pub fn headers_for(msg: &Outgoing) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(headers::MSG_ID, msg.msg_id.as_str());
    h.insert(headers::TENANT, msg.tenant.as_str());
    h.insert(headers::CONTENT_TYPE, headers::PROTOBUF);
    if let Some(tp) = &msg.traceparent {
        h.insert(headers::TRACEPARENT, tp.as_str());
    }
    if let Some(ts) = &msg.tracestate {
        h.insert(headers::TRACESTATE, ts.as_str());
    }
    if let Some(r) = &msg.reply_to {
        h.insert(headers::REPLY_TO, r.as_str());
    }
    if let Some(r) = &msg.reply_batch {
        h.insert(headers::REPLY_BATCH, r.as_str());
    }
    h
}

/// Sends a message and returns the future of JetStream's ack, so callers
/// can pipeline many publishes and await the acks together.
pub async fn publish(
    js: &jetstream::Context,
    msg: &Outgoing,
) -> Result<PublishAckFuture, BusError> {
    js.publish_with_headers(msg.subject.clone(), headers_for(msg), msg.payload.clone())
        .await
        .map_err(|e| BusError::Publish {
            subject: msg.subject.clone(),
            reason: e.to_string(),
        })
}
