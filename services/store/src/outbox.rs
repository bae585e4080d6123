//! Publishing committed changes to `SCIMBUS_CHANGES`. A change is written
//! in the transaction that made it; it is published after commit and marked
//! published once JetStream holds it. Whatever is not marked (a crash, a
//! NATS outage) is published again by the sweeper, with the same
//! `Nats-Msg-Id`, so JetStream drops what it already has.
//!
//! The store's changes become protobuf here, once: [`row`] encodes a
//! change into its outbox row, whose bytes are what Postgres keeps and
//! what every publish sends.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use bytes::Bytes;
use chrono::Utc;
use scimbus_bus::{BusError, Outgoing};
use scimbus_db::changes::{self, ChangeRow};
use scimbus_events::v1::{self, change::Operation as WireOperation};
use scimbus_events::{Message, Subjects};
use scimbus_runtime::telemetry::messaging;
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::apply::{Broken, Change, Operation};

/// Why a round of publishing stopped.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("marking changes published: {0}")]
    Db(#[from] sqlx::Error),
    /// The store's own settings (the sweep interval, the change stream's
    /// retention) give no instant to look back to.
    #[error("a look back of {0:?} is out of range")]
    Window(Duration),
    /// Only the store publishes on the change subjects; what it finds there
    /// must be its own changes. Guessing what the stream holds would
    /// either skip changes or republish a week of them.
    #[error("the last message on {subject} is not a scimbus change: {reason}")]
    Foreign { subject: String, reason: String },
}

/// The outbox row of `change`, numbered `seq` in its tenant: its payload is
/// the change as the bus carries it (an encoded `scimbus.v1.Change`), what
/// Postgres keeps and what is published — after commit, and again by the
/// sweeper — as it is.
pub fn row(change: Change, seq: i64) -> Result<ChangeRow, Broken> {
    let sequence = u64::try_from(seq).map_err(|_| Broken::Sequence(seq))?;
    let (id, resource_id, committed_at) = (change.id, change.resource_id, change.committed_at);
    let wire = to_wire(change, sequence);
    let payload = wire.encode_to_vec();
    Ok(ChangeRow {
        tenant: wire.tenant,
        seq,
        id,
        resource_type: wire.resource_type,
        resource_id,
        payload,
        committed_at,
        traceparent: None,
        tracestate: None,
    })
}

/// A change as the bus carries it: the one place the store's change
/// becomes a `scimbus.v1.Change`. It takes the change apart field by field,
/// so a field added to [`Change`] does not compile until it is carried.
fn to_wire(change: Change, sequence: u64) -> v1::Change {
    let Change {
        id,
        tenant,
        resource_type,
        resource_id,
        operation,
        version,
        resource,
        changed_attributes,
        command_id,
        source,
        committed_at,
        members_added,
        members_removed,
    } = change;
    let ids = |l: Vec<Uuid>| l.iter().map(Uuid::to_string).collect();
    v1::Change {
        id: id.to_string(),
        tenant,
        sequence,
        resource_type,
        resource_id: resource_id.to_string(),
        operation: wire_operation(operation) as i32,
        version,
        resource,
        changed_attributes,
        command_id: command_id.to_string(),
        source,
        committed_at_unix_micros: committed_at.timestamp_micros(),
        members_added: ids(members_added),
        members_removed: ids(members_removed),
    }
}

fn wire_operation(op: Operation) -> WireOperation {
    match op {
        Operation::Created => WireOperation::Created,
        Operation::Updated => WireOperation::Updated,
        Operation::Deleted => WireOperation::Deleted,
        Operation::Activated => WireOperation::Activated,
        Operation::Deactivated => WireOperation::Deactivated,
        Operation::MembershipChanged => WireOperation::MembershipChanged,
    }
}

/// Publishes `rows` (pipelined: all sent, then all acks awaited) and marks
/// them published.
pub async fn publish(
    js: &jetstream::Context,
    subjects: &Subjects,
    pool: &PgPool,
    rows: &[ChangeRow],
) -> Result<(), OutboxError> {
    let mut acks = Vec::with_capacity(rows.len());
    let stream = subjects.change_stream();
    for r in rows {
        let mut out = Outgoing {
            subject: subjects.change(&r.tenant, &r.resource_type),
            msg_id: r.id.to_string(),
            tenant: r.tenant.clone(),
            payload: Bytes::from(r.payload.clone()),
            traceparent: None,
            tracestate: None,
            reply_to: None,
            reply_batch: None,
        };
        // The publish span of a change made by traced work, child of it.
        let _span = r.traceparent.as_deref().map(|parent| {
            let (span, trace) = messaging::producer_under(
                &stream,
                &out.subject,
                &out.msg_id,
                parent,
                r.tracestate.as_deref(),
            );
            out.traceparent = trace.traceparent;
            out.tracestate = trace.tracestate;
            span
        });
        acks.push((out.subject.clone(), scimbus_bus::publish(js, &out).await?));
    }
    for (subject, ack) in acks {
        ack.await.map_err(|e| BusError::Publish {
            subject,
            reason: e.to_string(),
        })?;
    }
    changes::mark_published(pool, rows).await?;
    Ok(())
}

/// Publishes again what the change stream may be missing, and returns how
/// many changes it published:
/// - changes never marked published (their committer died or lost NATS
///   before JetStream acknowledged them), committed before `older_than`
///   ago so the live publisher is not raced;
/// - per tenant, every change after the last one the stream holds
///   (JetStream acknowledges before it syncs to disk, so a NATS crash can
///   lose acknowledged changes; Postgres still has them), back to the
///   stream's retention `max_age`.
///
/// Republishing is harmless: the change id is the `Nats-Msg-Id`, and
/// consumers are idempotent on (resource, version).
pub async fn sweep(
    js: &jetstream::Context,
    subjects: &Subjects,
    pool: &PgPool,
    resource_types: &[String],
    older_than: Duration,
    max_age: Duration,
) -> Result<usize, OutboxError> {
    let now = Utc::now();
    let ago = |d: Duration| {
        chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or(OutboxError::Window(d))
    };
    let before = ago(older_than)?;
    let since = ago(max_age)?;
    let mut total = 0;
    loop {
        let rows = changes::unpublished(pool, before, 1000).await?;
        if rows.is_empty() {
            break;
        }
        publish(js, subjects, pool, &rows).await?;
        total += rows.len();
    }
    let stream = js
        .get_stream(subjects.change_stream())
        .await
        .map_err(|e| BusError::JetStream(e.to_string()))?;
    for tenant in changes::tenants(pool).await? {
        let mut last = 0i64;
        for rt in resource_types {
            let subject = subjects.change(&tenant, rt);
            match stream.get_last_raw_message_by_subject(&subject).await {
                Ok(m) => {
                    let foreign = |reason: String| OutboxError::Foreign {
                        subject: subject.clone(),
                        reason,
                    };
                    let seq = v1::Change::decode(m.payload.as_ref())
                        .map_err(|e| foreign(e.to_string()))?
                        .sequence;
                    let seq = i64::try_from(seq)
                        .map_err(|_| foreign(format!("sequence {seq} is out of range")))?;
                    last = last.max(seq);
                }
                Err(e) if e.kind() == LastRawMessageErrorKind::NoMessageFound => {}
                Err(e) => return Err(BusError::JetStream(e.to_string()).into()),
            }
        }
        loop {
            let rows = changes::after(pool, &tenant, last, since, 1000).await?;
            let Some(end) = rows.last().map(|r| r.seq) else {
                break;
            };
            publish(js, subjects, pool, &rows).await?;
            total += rows.len();
            last = end;
        }
    }
    Ok(total)
}

/// Publishes what the partitions committed, in commit order.
pub async fn run_publisher(
    mut rx: mpsc::Receiver<Vec<ChangeRow>>,
    js: jetstream::Context,
    subjects: Subjects,
    pool: PgPool,
) {
    while let Some(mut rows) = rx.recv().await {
        while let Ok(more) = rx.try_recv() {
            rows.extend(more);
            if rows.len() >= 1000 {
                break;
            }
        }
        if let Err(e) = publish(&js, &subjects, &pool, &rows).await {
            tracing::warn!(error = %e, changes = rows.len(), "publishing changes failed; the sweeper publishes them again");
        }
    }
}

/// What the sweeper needs.
#[derive(Debug, Clone)]
pub struct Sweeper {
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub pool: PgPool,
    pub resource_types: Vec<String>,
    pub interval: Duration,
    pub max_age: Duration,
}

/// Sweeps every `interval` until shut down (which also covers the time
/// after a NATS reconnect).
pub async fn run_sweeper(s: Sweeper, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(s.interval) => {}
        }
        match sweep(
            &s.js,
            &s.subjects,
            &s.pool,
            &s.resource_types,
            s.interval,
            s.max_age,
        )
        .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(changes = n, "republished changes left unpublished"),
            Err(e) => tracing::warn!(error = %e, "sweeping unpublished changes failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use scimbus_events::v1::{Source, source};

    use super::*;

    /// A change whose every field differs from the protobuf default.
    fn full(operation: Operation) -> Change {
        Change {
            id: Uuid::now_v7(),
            tenant: "acme".into(),
            resource_type: "Group".into(),
            resource_id: Uuid::now_v7(),
            operation,
            version: 7,
            resource: br#"{"displayName":"G"}"#.to_vec(),
            changed_attributes: vec!["displayName".into(), "members".into()],
            command_id: Uuid::now_v7(),
            source: Some(Source {
                kind: source::Kind::Scim as i32,
                client_id: "okta".into(),
            }),
            committed_at: DateTime::<Utc>::from_timestamp_micros(1_764_000_000_123_456).unwrap(),
            members_added: vec![Uuid::now_v7(), Uuid::now_v7()],
            members_removed: vec![Uuid::now_v7()],
        }
    }

    #[test]
    fn every_field_of_a_change_reaches_the_bus() {
        let change = full(Operation::MembershipChanged);
        let c = change.clone();
        let row = row(change, 42).unwrap();
        let got = v1::Change::decode(row.payload.as_slice()).unwrap();
        // Every field named (no `..Default`): a field the protobuf gains
        // does not compile here until the test, and the conversion, carry it.
        let want = v1::Change {
            id: c.id.to_string(),
            tenant: "acme".into(),
            sequence: 42,
            resource_type: "Group".into(),
            resource_id: c.resource_id.to_string(),
            operation: WireOperation::MembershipChanged as i32,
            version: 7,
            resource: br#"{"displayName":"G"}"#.to_vec(),
            changed_attributes: vec!["displayName".into(), "members".into()],
            command_id: c.command_id.to_string(),
            source: c.source.clone(),
            committed_at_unix_micros: 1_764_000_000_123_456,
            members_added: c.members_added.iter().map(Uuid::to_string).collect(),
            members_removed: vec![c.members_removed[0].to_string()],
        };
        assert_eq!(got, want);
        // The columns the outbox is read by are the change's own.
        let columns = (
            row.tenant.as_str(),
            row.seq,
            row.id,
            row.resource_type.as_str(),
            row.resource_id,
            row.committed_at,
        );
        assert_eq!(
            columns,
            ("acme", 42, c.id, "Group", c.resource_id, c.committed_at)
        );
    }

    #[test]
    fn each_operation_is_the_wire_operation_of_its_name() {
        let all = [
            Operation::Created,
            Operation::Updated,
            Operation::Deleted,
            Operation::Activated,
            Operation::Deactivated,
            Operation::MembershipChanged,
        ];
        for op in all {
            let row = row(full(op), 1).unwrap();
            let got = v1::Change::decode(row.payload.as_slice()).unwrap();
            let wire = WireOperation::try_from(got.operation).unwrap();
            // "MembershipChanged" is "OPERATION_MEMBERSHIP_CHANGED".
            let mut name = String::from("OPERATION");
            for ch in format!("{op:?}").chars() {
                if ch.is_uppercase() {
                    name.push('_');
                }
                name.push(ch.to_ascii_uppercase());
            }
            assert_eq!(wire.as_str_name(), name);
        }
    }

    #[test]
    fn a_negative_sequence_makes_no_row() {
        let e = row(full(Operation::Created), -1).unwrap_err();
        assert!(matches!(e, Broken::Sequence(-1)), "{e}");
    }
}
