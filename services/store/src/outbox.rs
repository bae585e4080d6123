//! Publishing committed changes to `SCIMBUS_CHANGES`. A change is written
//! in the transaction that made it; it is published after commit and marked
//! published once JetStream holds it. Whatever is not marked (a crash, a
//! NATS outage) is published again by the sweeper, with the same
//! `Nats-Msg-Id`, so JetStream drops what it already has.

use std::time::Duration;

use async_nats::jetstream;
use bytes::Bytes;
use chrono::Utc;
use scimbus_bus::{BusError, Outgoing};
use scimbus_db::changes::{self, ChangeRow};
use scimbus_events::Subjects;
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
    let ids: Vec<_> = rows.iter().map(|r| r.id).collect();
    changes::mark_published(pool, &ids, Utc::now()).await?;
    Ok(())
}

/// Publishes every change not yet marked published that was committed
/// before `older_than` ago; returns how many.
pub async fn sweep(
    js: &jetstream::Context,
    subjects: &Subjects,
    pool: &PgPool,
    older_than: Duration,
) -> Result<usize, OutboxError> {
    let before = Utc::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
    let mut total = 0;
    loop {
        let rows = changes::unpublished(pool, before, 1000).await?;
        if rows.is_empty() {
            return Ok(total);
        }
        publish(js, subjects, pool, &rows).await?;
        total += rows.len();
    }
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

/// Sweeps every `interval` until shut down.
pub async fn run_sweeper(
    js: jetstream::Context,
    subjects: Subjects,
    pool: PgPool,
    interval: Duration,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        match sweep(&js, &subjects, &pool, interval).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(changes = n, "republished changes left unpublished"),
            Err(e) => tracing::warn!(error = %e, "sweeping unpublished changes failed"),
        }
    }
}
