//! Following the change stream without batch barriers: each change in its
//! own future, a resource's later changes queued behind its current one,
//! different resources side by side up to the target's concurrency; the
//! position and the links written every 200 ms on the lock's connection;
//! operator requests served between changes.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer;
use futures_util::StreamExt;
use scimbus_db::links::{self, Advance};
use sqlx::{Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use uuid::Uuid;

use crate::item::{Counts, Item};
use crate::lifecycle::Mode;
use crate::link_cache::LinkCache;
use crate::parking::{has_parked, park, park_letter, reload_parked, replay};
use crate::reconcile::reconcile;
use crate::retry::{failure, push_with_retries};
use crate::shared::{Shared, WorkerError};
use crate::sync::full_sync;
use crate::target::{Pushed, Target};

/// One change in hand: pushed (or parked) in its own future; the changes
/// of a resource one after the other, different resources side by side.
pub(crate) type Done = (Uuid, u64, Result<Counts, WorkerError>);

/// Follows the stream without batch barriers: up to `concurrency`
/// resources in flight, each resource's later changes queued behind its
/// current one, the position moved (every 200 ms) to the highest stream
/// sequence below which everything is done. Operator requests (pause, sync,
/// reconcile, replay) are looked at every second and served once what is in
/// flight has finished.
pub(crate) async fn follow(
    shared: &Shared,
    target: &Target,
    lock: &mut PgConnection,
    messages: &mut consumer::pull::Ordered,
    recover_through: u64,
    shutdown: &CancellationToken,
) -> Result<(), WorkerError> {
    let js_err = |e: &dyn std::fmt::Display| WorkerError::JetStream(e.to_string());
    let concurrency = target.cfg.concurrency.max(1);
    let mut inflight = futures_util::stream::FuturesUnordered::new();
    // Resources with a change in flight, and their changes waiting behind it.
    let mut queued: HashMap<Uuid, std::collections::VecDeque<Item>> = HashMap::new();
    let mut tally = Tally::default();
    let mut flushed = Instant::now();
    let mut looked = Instant::now() - Duration::from_secs(2);
    let mut control = links::Control::default();
    let start = |item: Item| {
        let mode = if item.stream_seq <= recover_through {
            Mode::Recover
        } else {
            Mode::Change
        };
        push_item(shared, target, item, mode, shutdown)
    };
    target.link_cache.start();
    loop {
        if looked.elapsed() >= Duration::from_secs(1) {
            let every = target.cfg.reconcile_every_secs.map(Duration::from_secs);
            control = links::control(&mut *lock, target.key(), every).await?;
            looked = Instant::now();
        }
        let serve_control = control.wanted() && inflight.is_empty();
        if serve_control {
            // Everything received is done: the position can move first.
            flush(lock, target, &mut tally).await?;
            flushed = Instant::now();
            if control.paused {
                // Nothing in flight, the position written: the pause holds.
                links::acknowledge_pause(&mut *lock, target.key()).await?;
                tokio::select! {
                    _ = shutdown.cancelled() => return stop_cleanly(lock, target, &mut tally).await,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                looked = Instant::now() - Duration::from_secs(2);
                continue;
            }
            // Sync, reconcile and replay write their links themselves.
            target.link_cache.stop();
            // A sync or reconcile takes as long as the tenant is large; a
            // shutdown does not wait for it. Stopped midway it stays asked
            // for, and the stop is not recorded clean: the next worker
            // answers the changes it may have overtaken with the current
            // state.
            tokio::select! {
                served = serve(shared, target, lock, &control, shutdown) => served?,
                () = shutdown.cancelled() => return Err(WorkerError::Stopping),
            }
            target.link_cache.start();
            control = links::Control::default();
            looked = Instant::now() - Duration::from_secs(2);
            continue;
        }
        let take = inflight.len() < concurrency && !control.wanted();
        tokio::select! {
            _ = shutdown.cancelled() => {
                // What finished is recorded; what was in flight is seen again
                // by the next worker (and skipped where it got through).
                return stop_cleanly(lock, target, &mut tally).await;
            }
            Some((rid, seq, result)) = inflight.next(), if !inflight.is_empty() => {
                let c: Counts = match result {
                    Ok(c) => c,
                    // A retry cut short by the shutdown: what finished is
                    // recorded as on any shutdown.
                    Err(WorkerError::Stopping) => {
                        return stop_cleanly(lock, target, &mut tally).await;
                    }
                    Err(e) => return Err(e),
                };
                tally.finished(seq, c);
                match queued.get_mut(&rid).and_then(std::collections::VecDeque::pop_front) {
                    Some(next) => inflight.push(start(next)),
                    None => {
                        queued.remove(&rid);
                    }
                }
            }
            m = messages.next(), if take => {
                let m = m
                    .ok_or_else(|| WorkerError::JetStream("the change stream ended".into()))?
                    .map_err(|e| js_err(&e))?;
                let item = Item::of(&m)?;
                let lag = m.info().ok().map(|i| i64::try_from(i.pending).unwrap_or(i64::MAX));
                tally.received(item.stream_seq, lag);
                let rid = item.resource;
                match queued.get_mut(&rid) {
                    Some(q) => q.push_back(item),
                    None => {
                        queued.insert(rid, std::collections::VecDeque::new());
                        inflight.push(start(item));
                    }
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        if flushed.elapsed() >= Duration::from_millis(200) {
            flush(lock, target, &mut tally).await?;
            flushed = Instant::now();
        }
    }
}

/// Where a worker is in the stream: the changes received and not done
/// yet, the highest received, what was done since the last flush (and the
/// position, lag and circuit last written), the lag.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pending: std::collections::BTreeSet<u64>,
    highest: u64,
    done: Advance,
    lag: Option<i64>,
}

impl Tally {
    fn received(&mut self, seq: u64, lag: Option<i64>) {
        self.pending.insert(seq);
        self.highest = self.highest.max(seq);
        if lag.is_some() {
            self.lag = lag;
        }
    }

    fn finished(&mut self, seq: u64, c: Counts) {
        self.pending.remove(&seq);
        self.done.pushed += c.pushed;
        self.done.skipped += c.skipped;
        if c.last_error.is_some() {
            self.done.last_error = c.last_error;
        }
    }

    /// Just below the oldest change not done, or the highest received when
    /// all are.
    fn position(&self) -> u64 {
        self.pending
            .first()
            .map_or(self.highest, |p| p.saturating_sub(1))
    }
}

/// Writes the links kept since the last flush and moves the position
/// ([`Tally::position`]) with the counts, in one transaction on the
/// connection that holds the lock: the position never passes a change whose
/// link is only in memory, and a worker that lost its lock (and its
/// connection) writes nothing more. An idle target writes nothing.
pub(crate) async fn flush(
    lock: &mut PgConnection,
    target: &Target,
    t: &mut Tally,
) -> Result<(), WorkerError> {
    let last = std::mem::take(&mut t.done);
    let next = Advance {
        stream_seq: i64::try_from(t.position()).unwrap_or(i64::MAX),
        lag: t
            .lag
            .map(|l| l + i64::try_from(t.pending.len()).unwrap_or(i64::MAX)),
        circuit: circuit(target),
        pushed: last.pushed,
        skipped: last.skipped,
        last_error: last.last_error.clone(),
    };
    if let Some(lag) = next.lag {
        target
            .metrics
            .pending(&target.tenant, &target.cfg.name, lag);
    }
    let taken = target.link_cache.snapshot();
    if !unchanged(&last, &next) || !taken.is_empty() {
        let mut tx = lock.begin().await?;
        LinkCache::flush(&mut tx, target.key(), &taken).await?;
        links::advance(&mut *tx, target.key(), &next).await?;
        tx.commit().await?;
        target.link_cache.release(taken);
    }
    // What was written stays for the next comparison; the counts start over.
    t.done = Advance {
        stream_seq: next.stream_seq,
        lag: next.lag,
        circuit: next.circuit,
        ..Advance::default()
    };
    Ok(())
}

/// Whether a flush would write nothing new: no counts, and the position,
/// lag and circuit as last written.
fn unchanged(last: &Advance, next: &Advance) -> bool {
    next.pushed == 0
        && next.skipped == 0
        && next.last_error.is_none()
        && last.stream_seq == next.stream_seq
        && last.lag == next.lag
        && last.circuit == next.circuit
}

/// The last flush of a shutdown: everything pushed is then in Postgres, so
/// the next worker need not doubt the links (`clean_stop`).
pub(crate) async fn stop_cleanly(
    lock: &mut PgConnection,
    target: &Target,
    t: &mut Tally,
) -> Result<(), WorkerError> {
    flush(lock, target, t).await?;
    links::stopped_cleanly(&mut *lock, target.key()).await?;
    Ok(())
}

/// Serves what an operator asked for (the target is idle meanwhile).
pub(crate) async fn serve(
    shared: &Shared,
    target: &Target,
    lock: &mut PgConnection,
    control: &links::Control,
    shutdown: &CancellationToken,
) -> Result<(), WorkerError> {
    if let Some(dry_run) = control.sync {
        let report = full_sync(target, dry_run, shared.backoff).await?;
        tracing::info!(tenant = %target.tenant, target = %target.cfg.name, %report, "full sync done");
        links::synced(&mut *lock, target.key(), &(&report).into(), None).await?;
    }
    if let Some(apply) = control.reconcile {
        let report = match reconcile(target, apply).await {
            Ok(r) => links::ReconcileCounts::from(&r),
            Err(e) => links::ReconcileCounts {
                applied: apply,
                error: Some(e.to_string()),
                ..links::ReconcileCounts::default()
            },
        };
        tracing::info!(tenant = %target.tenant, target = %target.cfg.name, %report, "reconciled");
        links::reconciled(&mut *lock, target.key(), &report).await?;
    }
    if control.replay {
        let replayed = replay(shared, target, shutdown).await?;
        reload_parked(target);
        let a = Advance {
            pushed: replayed.pushed,
            last_error: replayed.last_error,
            circuit: circuit(target),
            ..Advance::default()
        };
        links::advance(&mut *lock, target.key(), &a).await?;
    }
    Ok(())
}

/// The circuit breaker's state, as the status shows it.
pub(crate) fn circuit(target: &Target) -> String {
    match target.throttle.circuit() {
        crate::throttle::Circuit::Closed => "closed".into(),
        crate::throttle::Circuit::Open(_) => "open".into(),
    }
}

/// Pushes one change (after its resource's earlier ones). A resource with
/// a parked change parks its later ones behind it (never applied out of
/// order).
pub(crate) async fn push_item(
    shared: &Shared,
    target: &Target,
    item: Item,
    mode: Mode,
    shutdown: &CancellationToken,
) -> Done {
    let rid = item.resource;
    let seq = item.stream_seq;
    let span = item.span.clone();
    span.record("scimbus.target", target.cfg.name.as_str());
    let pushed = push_one(shared, target, &item, mode, shutdown)
        .instrument(span)
        .await;
    (rid, seq, pushed)
}

pub(crate) async fn push_one(
    shared: &Shared,
    target: &Target,
    item: &Item,
    mode: Mode,
    shutdown: &CancellationToken,
) -> Result<Counts, WorkerError> {
    let mut counts = Counts::default();
    let change = match &item.change {
        Ok(c) => c,
        Err(undecodable) => {
            let reason = undecodable.to_string();
            tracing::warn!(target = %target.cfg.name, subject = %item.subject, %reason, "change parked");
            park_letter(shared, target, item, None, &reason, 1).await?;
            target
                .metrics
                .pushed(&target.tenant, &target.cfg.name, "parked");
            counts.last_error = Some(reason);
            return Ok(counts);
        }
    };
    if has_parked(target, item.resource).await? {
        let reason = "an earlier change of this resource is parked; this one waits behind it";
        park(shared, target, item, change, reason, None, 0).await?;
        target
            .metrics
            .pushed(&target.tenant, &target.cfg.name, "parked");
        return Ok(counts);
    }
    match push_with_retries(shared, target, change, mode, shutdown, &mut counts).await? {
        Ok(Pushed::Skipped(why)) => {
            tracing::debug!(target = %target.cfg.name, resource = %change.resource_id, why, "skipped");
            counts.skipped += 1;
            target
                .metrics
                .pushed(&target.tenant, &target.cfg.name, "skipped");
        }
        Ok(what) => {
            tracing::debug!(target = %target.cfg.name, resource = %change.resource_id, ?what, "pushed");
            counts.pushed += 1;
            target
                .metrics
                .pushed(&target.tenant, &target.cfg.name, "pushed");
        }
        Err((e, attempts)) => {
            let reason = failure(&e, attempts);
            tracing::warn!(target = %target.cfg.name, resource = %change.resource_id, %reason, "change parked");
            park(shared, target, item, change, &reason, Some(&e), attempts).await?;
            target
                .metrics
                .pushed(&target.tenant, &target.cfg.name, "parked");
            counts.last_error = Some(reason);
        }
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_idle_flush_writes_nothing_and_any_move_writes() {
        let written = Advance {
            stream_seq: 42,
            lag: Some(0),
            circuit: "closed".into(),
            ..Advance::default()
        };
        assert!(unchanged(&written, &written.clone()));
        for moved in [
            Advance {
                stream_seq: 43,
                ..written.clone()
            },
            Advance {
                pushed: 1,
                ..written.clone()
            },
            Advance {
                lag: Some(5),
                ..written.clone()
            },
            Advance {
                circuit: "open".into(),
                ..written.clone()
            },
            Advance {
                last_error: Some("x".into()),
                ..written.clone()
            },
        ] {
            assert!(!unchanged(&written, &moved), "{moved:?}");
        }
    }

    #[test]
    fn the_position_stays_below_the_oldest_change_in_flight() {
        let mut t = Tally::default();
        for seq in [10, 11, 12] {
            t.received(seq, Some(3));
        }
        t.finished(11, Counts::default());
        t.finished(12, Counts::default());
        assert_eq!(t.position(), 9);
        t.finished(10, Counts::default());
        assert_eq!(t.position(), 12);
    }
}
