//! Publishing committed changes to `SCIMBUS_CHANGES`. A change is written
//! in the transaction that made it; it is published after commit and marked
//! published once JetStream holds it. Whatever is not marked (a crash, a
//! NATS outage) is published again by the sweeper, with the same
//! `Nats-Msg-Id`, so JetStream drops what it already has.

use std::time::Duration;

use async_nats::jetstream;
use async_nats::jetstream::stream::LastRawMessageErrorKind;
use bytes::Bytes;
use chrono::Utc;
use scimbus_bus::{BusError, Outgoing};
use scimbus_db::changes::{self, ChangeRow};
use scimbus_events::v1::Change;
use scimbus_events::{Message, Subjects};
use sqlx::PgPool;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

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

/// Publishes `rows` (pipelined: all sent, then all acks awaited) and marks
/// them published.
pub async fn publish(
    js: &jetstream::Context,
    subjects: &Subjects,
    pool: &PgPool,
    rows: &[ChangeRow],
) -> Result<(), OutboxError> {
    let mut acks = Vec::with_capacity(rows.len());
    for r in rows {
        let out = Outgoing {
            subject: subjects.change(&r.tenant, &r.resource_type),
            msg_id: r.id.to_string(),
            tenant: r.tenant.clone(),
            payload: Bytes::from(r.payload.clone()),
            traceparent: None,
            tracestate: None,
            reply_to: None,
        };
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
                    let seq = Change::decode(m.payload.as_ref())
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
