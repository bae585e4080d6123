//! An application reading scimbus's public change events from NATS.
//!
//! scimbus publishes each change a `delivery = { type = "nats" }`
//! subscription selects as a CloudEvent (JSON) to the JetStream stream
//! `SCIMBUS_EVENTS`, on `scimbus.events.<tenant>.<resourceType>.<event>`.
//! The stream belongs to scimbus; an application binds a durable pull
//! consumer of its own to it, filtered to its tenant, and acknowledges each
//! event once handled. The durable remembers how far the application got:
//! after a restart it resumes there, and nothing is lost while it is down
//! (within the stream's retention, seven days by default).
//!
//! Where a new durable starts ([`Start`]): with the events published from
//! now on, or — to replay — from a stream sequence or a point in time. A
//! replay re-creates the durable (NATS does not move an existing one).

pub mod line;

use async_nats::jetstream::{self, AckKind, consumer};
use futures_util::StreamExt;

/// A durable pull consumer of the events stream.
pub type EventConsumer = consumer::Consumer<consumer::pull::Config>;

/// Where a new durable starts.
#[derive(Debug, Clone, PartialEq)]
pub enum Start {
    /// The events published from now on; an existing durable resumes where
    /// it left off.
    New,
    /// From this stream sequence on (`--from-sequence`).
    Sequence(u64),
    /// From the first event published at or after this time (`--since`).
    Since(async_nats::datetime::DateTime),
}

impl Start {
    /// From an RFC 3339 time (`2026-12-05T22:00:00Z`).
    pub fn since(rfc3339: &str) -> Result<Start, ConsumerError> {
        let start_time = async_nats::datetime::parse_rfc3339(rfc3339)
            .map_err(|e| ConsumerError::Time(format!("{rfc3339}: {e}")))?;
        Ok(Start::Since(start_time))
    }

    fn deliver_policy(&self) -> consumer::DeliverPolicy {
        match self {
            Start::New => consumer::DeliverPolicy::New,
            Start::Sequence(n) => consumer::DeliverPolicy::ByStartSequence { start_sequence: *n },
            Start::Since(t) => consumer::DeliverPolicy::ByStartTime { start_time: *t },
        }
    }
}

/// What to consume.
#[derive(Debug, Clone)]
pub struct Options {
    /// scimbus's bus prefix (`SCIMBUS_BUS_PREFIX`), empty in a plain
    /// installation.
    pub prefix: String,
    pub tenant: String,
    /// The durable consumer's name: one per application.
    pub durable: String,
    pub start: Start,
}

/// What went wrong talking to JetStream.
#[derive(Debug, thiserror::Error)]
pub enum ConsumerError {
    #[error("not an RFC 3339 time: {0}")]
    Time(String),
    #[error("stream {0}: {1} (does scimbus run with this bus prefix?)")]
    Stream(String, String),
    #[error("consumer {0}: {1}")]
    Consumer(String, String),
    #[error("reading events: {0}")]
    Messages(String),
    #[error("acknowledging an event: {0}")]
    Ack(String),
}

/// `SCIMBUS_EVENTS`, or `<PREFIX>_SCIMBUS_EVENTS` under a bus prefix (upper
/// case, `-` as `_`), as scimbus names it.
pub fn stream_name(prefix: &str) -> String {
    if prefix.is_empty() {
        "SCIMBUS_EVENTS".to_string()
    } else {
        format!(
            "{}_SCIMBUS_EVENTS",
            prefix.to_ascii_uppercase().replace('-', "_")
        )
    }
}

/// `scimbus.events.<tenant>.>` (after `<prefix>.` under a bus prefix):
/// every event of one tenant.
pub fn tenant_filter(prefix: &str, tenant: &str) -> String {
    if prefix.is_empty() {
        format!("scimbus.events.{tenant}.>")
    } else {
        format!("{prefix}.scimbus.events.{tenant}.>")
    }
}

/// Binds the durable consumer: the existing one when starting with new
/// events, a new one (replacing any of that name) when replaying.
pub async fn bind(js: &jetstream::Context, o: &Options) -> Result<EventConsumer, ConsumerError> {
    let name = stream_name(&o.prefix);
    let stream = js
        .get_stream(&name)
        .await
        .map_err(|e| ConsumerError::Stream(name.clone(), e.to_string()))?;
    let config = consumer::pull::Config {
        durable_name: Some(o.durable.clone()),
        description: Some(format!("scimbus events of tenant {}", o.tenant)),
        filter_subject: tenant_filter(&o.prefix, &o.tenant),
        deliver_policy: o.start.deliver_policy(),
        ack_policy: consumer::AckPolicy::Explicit,
        ..Default::default()
    };
    let err = |e: &dyn std::fmt::Display| ConsumerError::Consumer(o.durable.clone(), e.to_string());
    if o.start == Start::New {
        return stream
            .get_or_create_consumer(&o.durable, config)
            .await
            .map_err(|e| err(&e));
    }
    // A replay starts the durable over: gone if it was there.
    if stream.consumer_info(&o.durable).await.is_ok() {
        stream
            .delete_consumer(&o.durable)
            .await
            .map_err(|e| err(&e))?;
    }
    stream.create_consumer(config).await.map_err(|e| err(&e))
}

/// Prints (through `print`) and acknowledges each event, in stream order,
/// until the connection ends. A message that is no CloudEvent is reported
/// on stderr and terminated (never redelivered): retrying cannot mend it.
pub async fn consume(
    consumer: &EventConsumer,
    mut print: impl FnMut(&str),
) -> Result<(), ConsumerError> {
    let mut messages = consumer
        .messages()
        .await
        .map_err(|e| ConsumerError::Messages(e.to_string()))?;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| ConsumerError::Messages(e.to_string()))?;
        match line::cloudevent_line(&message.payload) {
            Ok(line) => {
                print(&line);
                message
                    .ack()
                    .await
                    .map_err(|e| ConsumerError::Ack(e.to_string()))?;
            }
            Err(e) => {
                eprintln!("skipping a message on {}: {e}", message.subject);
                message
                    .ack_with(AckKind::Term)
                    .await
                    .map_err(|e| ConsumerError::Ack(e.to_string()))?;
            }
        }
    }
    Ok(())
}
