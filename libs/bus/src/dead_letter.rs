//! Dead letters: a message that cannot be decoded or applied (the store's
//! commands) or pushed (an outbound target's changes) is published on
//! `SCIMBUS_DLQ` with why, so the rest keeps flowing and nothing is lost.

use async_nats::jetstream;
use bytes::Bytes;
use scimbus_events::v1::DeadLetter;
use scimbus_events::{Message, Subjects, valid_tenant};

use crate::{BusError, Outgoing};

/// Publishes `letter` on `scimbus.dlq.<origin>.<tenant>` (a tenant that is
/// not a valid subject token goes under `_`) with `msg_id` as its
/// `Nats-Msg-Id`, and waits until JetStream holds it: only then may the
/// original be acknowledged or passed over.
pub async fn dead_letter(
    js: &jetstream::Context,
    subjects: &Subjects,
    letter: &DeadLetter,
    msg_id: String,
) -> Result<(), BusError> {
    let tenant_token = if valid_tenant(&letter.tenant) {
        letter.tenant.as_str()
    } else {
        "_"
    };
    let out = Outgoing {
        subject: subjects.dead_letter(&letter.origin, tenant_token),
        msg_id,
        tenant: letter.tenant.clone(),
        payload: Bytes::from(letter.encode_to_vec()),
        traceparent: None,
        tracestate: None,
        reply_to: None,
        reply_batch: None,
    };
    crate::publish(js, &out)
        .await?
        .await
        .map_err(|e| BusError::Publish {
            subject: out.subject.clone(),
            reason: e.to_string(),
        })?;
    Ok(())
}
