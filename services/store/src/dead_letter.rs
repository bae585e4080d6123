//! Parking messages that cannot be decoded or applied, so the rest flows.

use async_nats::jetstream;
use scimbus_bus::BusError;
use scimbus_events::v1::DeadLetter;
use scimbus_events::{Subjects, headers};
use uuid::Uuid;

/// Publishes a dead letter for a command message and waits for JetStream
/// to hold it (only then may the original be acknowledged).
pub async fn park(
    js: &jetstream::Context,
    subjects: &Subjects,
    msg: &async_nats::Message,
    reason: &str,
    attempts: u32,
) -> Result<(), BusError> {
    // A message is parked because something about it is wrong: a header it
    // lacks is recorded as empty, and the letter is written all the same.
    let header = |name: &str| {
        msg.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_string())
            .unwrap_or_default()
    };
    let letter = DeadLetter {
        origin: "cmd".into(),
        tenant: header(headers::TENANT),
        subject: msg.subject.to_string(),
        message_id: header(headers::MSG_ID),
        payload: msg.payload.to_vec(),
        reason: reason.to_string(),
        attempts,
        parked_at_unix_micros: chrono::Utc::now().timestamp_micros(),
        ..Default::default()
    };
    scimbus_bus::dead_letter(js, subjects, &letter, Uuid::now_v7().to_string()).await
}
