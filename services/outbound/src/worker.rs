//! A target's worker: reads the tenant's changes from `SCIMBUS_CHANGES` in
//! stream order and pushes them. Changes of one resource go in order;
//! different resources go in parallel up to the target's concurrency, with
//! no batch barrier (a slow resource holds up only its own later changes).
//!
//! One worker drives a target at a time: the one holding the target's
//! Postgres advisory lock. Its position (the stream sequence of the last
//! change handled) is kept in Postgres, moved after each batch; the worker
//! that takes a target over reads from there with an ordered consumer, so a
//! handover neither skips nor reorders anything (a change seen twice is
//! skipped by its version).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_nats::jetstream::consumer;
use scimbus_db::{lease, links};
use sqlx::PgConnection;
use sqlx::postgres::PgConnectOptions;
use tokio_util::sync::CancellationToken;

use crate::follow::follow;
pub use crate::shared::Shared;
pub(crate) use crate::shared::WorkerError;
use crate::sync::full_sync;
use crate::target::Target;

/// The advisory-lock class of targets (the second key is a hash of tenant
/// and target name).
const LOCK_CLASS: i32 = lease::OUTBOUND_TARGET;

/// Keeps trying to drive `target` and drives it while it holds the lock.
pub async fn run(shared: Shared, target: Arc<Target>, shutdown: CancellationToken) {
    loop {
        match acquire(&shared.pg, &target).await {
            Ok(Some((conn, clean))) => {
                tracing::info!(tenant = %target.tenant, target = %target.cfg.name, clean, "target taken");
                target.driving.store(true, Ordering::Relaxed);
                let driven = drive(&shared, &target, conn, clean, &shutdown).await;
                target.driving.store(false, Ordering::Relaxed);
                target.metrics.released(&target.tenant, &target.cfg.name);
                // Links not flushed are the next driver's to redo or adopt.
                target.link_cache.stop();
                match driven {
                    Ok(()) => return,
                    Err(WorkerError::Stopping) => {
                        tracing::info!(tenant = %target.tenant, target = %target.cfg.name,
                            "target let go: the service is stopping");
                        return;
                    }
                    Err(e) => tracing::warn!(
                        tenant = %target.tenant, target = %target.cfg.name, error = %e,
                        "target released"
                    ),
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot reach Postgres"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(shared.lease_retry) => {}
        }
    }
}

/// Takes the target's lock, if free: the connection that holds it, and
/// whether the worker before stopped cleanly.
async fn acquire(
    pg: &PgConnectOptions,
    target: &Target,
) -> sqlx::Result<Option<(PgConnection, bool)>> {
    let Some(mut conn) =
        lease::try_take(pg, LOCK_CLASS, lease::key(&target.tenant, &target.cfg.name)).await?
    else {
        return Ok(None);
    };
    // Recorded (synchronously) before anything is pushed: a crash from
    // here on is seen by the next worker.
    let clean = links::take_over(&mut conn, target.key()).await?;
    {
        // The position and counters written on this connection can be lost
        // in a crash and redone (changes seen again are skipped by their
        // version): not worth an fsync every 200 ms while pushes wait.
        lease::relax_commits(&mut conn).await?;
    }
    Ok(Some((conn, clean)))
}

async fn drive(
    shared: &Shared,
    target: &Target,
    mut lock: PgConnection,
    clean: bool,
    shutdown: &CancellationToken,
) -> Result<(), WorkerError> {
    let js_err = |e: &dyn std::fmt::Display| WorkerError::JetStream(e.to_string());
    target
        .discover()
        .await
        .map_err(|e| WorkerError::Target(e.to_string()))?;
    let progress = links::progress(&mut lock, target.key()).await?;
    let mut stream = shared
        .js
        .get_stream(shared.subjects.change_stream())
        .await
        .map_err(|e| js_err(&e))?;
    let mut position = progress.stream_seq;
    if progress.synced_at.is_none() {
        // A new target: the current state first, then the stream from the
        // position taken before the snapshot.
        let before = stream
            .info()
            .await
            .map_err(|e| js_err(&e))?
            .state
            .last_sequence;
        let before = i64::try_from(before).unwrap_or(i64::MAX);
        // Not waited for by a shutdown (it takes as long as the tenant is
        // large): stopped midway, it is done again by the next worker, and
        // the stop is not recorded clean.
        let report = tokio::select! {
            synced = full_sync(target, false, shared.backoff) => synced?,
            () = shutdown.cancelled() => return Err(WorkerError::Stopping),
        };
        tracing::info!(tenant = %target.tenant, target = %target.cfg.name, %report, "initial sync done");
        links::synced(&mut lock, target.key(), &(&report).into(), Some(before)).await?;
        position = position.max(before);
    }
    // After a crash, the links in Postgres may be behind what the target
    // got (they are written every 200 ms): the changes up to the end of the
    // stream as it is now, which the dead worker may have pushed, are
    // answered with the current state, never an older one.
    let recover_through = if clean {
        0
    } else {
        stream
            .info()
            .await
            .map_err(|e| js_err(&e))?
            .state
            .last_sequence
    };
    let start = u64::try_from(position)
        .map_err(|_| WorkerError::Invariant(format!("negative stream position {position}")))?
        + 1;
    let consumer = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: shared.subjects.tenant_changes(&target.tenant),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| js_err(&e))?;
    let mut messages = consumer.messages().await.map_err(|e| js_err(&e))?;
    follow(
        shared,
        target,
        &mut lock,
        &mut messages,
        recover_through,
        shutdown,
    )
    .await
}
