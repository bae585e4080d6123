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

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::{self, consumer};
use bytes::Bytes;
use futures_util::StreamExt;
use scimbus_bus::Outgoing;
use scimbus_db::links::{self, Advance, Parked};
use scimbus_events::v1::{Change, DeadLetter};
use scimbus_events::{Message, Subjects};
use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection, PgConnection};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::client::PushError;
use crate::lifecycle::Mode;
use crate::link_cache::LinkCache;
use crate::push::{Pushed, Target};
use crate::reconcile::reconcile;
use crate::sync::full_sync;

/// The advisory-lock class of targets (the second key is a hash of tenant
/// and target name).
const LOCK_CLASS: i32 = 0x5c1b_0002;

/// What every worker shares.
#[derive(Debug, Clone)]
pub struct Bus {
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub pg: PgConnectOptions,
    /// How often a replica tries to take a target someone else drives.
    pub lease_retry: Duration,
    /// The first retry delay of a transient failure (doubles, with jitter).
    pub backoff: Duration,
}

/// Why a worker let its target go (it will try to take it again).
#[derive(Debug, thiserror::Error)]
enum WorkerError {
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("JetStream: {0}")]
    JetStream(String),
    #[error("the target: {0}")]
    Target(String),
    /// Something that cannot be unless a bug broke an invariant.
    #[error("broken invariant: {0}")]
    Invariant(String),
}

/// Keeps trying to drive `target` and drives it while it holds the lock.
pub async fn run(bus: Bus, target: Arc<Target>, shutdown: CancellationToken) {
    loop {
        match acquire(&bus.pg, &target).await {
            Ok(Some((conn, clean))) => {
                tracing::info!(tenant = %target.tenant, target = %target.cfg.name, clean, "target taken");
                let driven = drive(&bus, &target, conn, clean, &shutdown).await;
                // Links not flushed are the next driver's to redo or adopt.
                target.link_cache.stop();
                match driven {
                    Ok(()) => return,
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
            _ = tokio::time::sleep(bus.lease_retry) => {}
        }
    }
}

fn lock_key(target: &Target) -> i32 {
    // FNV-1a, folded to 32 bits.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in target
        .tenant
        .bytes()
        .chain([0])
        .chain(target.cfg.name.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    ((h >> 32) ^ h) as u32 as i32
}

/// Takes the target's lock, if free: the connection that holds it, and
/// whether the worker before stopped cleanly.
async fn acquire(
    pg: &PgConnectOptions,
    target: &Target,
) -> sqlx::Result<Option<(PgConnection, bool)>> {
    let mut conn = pg.connect().await?;
    let got: bool = sqlx::query_scalar("select pg_try_advisory_lock($1, $2)")
        .bind(LOCK_CLASS)
        .bind(lock_key(target))
        .fetch_one(&mut conn)
        .await?;
    if !got {
        return Ok(None);
    }
    // Recorded (synchronously) before anything is pushed: a crash from
    // here on is seen by the next worker.
    let clean = links::take_over(&mut conn, target.key()).await?;
    {
        // The position and counters written on this connection can be lost
        // in a crash and redone (changes seen again are skipped by their
        // version): not worth an fsync every 200 ms while pushes wait.
        sqlx::query("set synchronous_commit = off")
            .execute(&mut conn)
            .await?;
    }
    Ok(Some((conn, clean)))
}

async fn drive(
    bus: &Bus,
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
    let mut stream = bus
        .js
        .get_stream(bus.subjects.change_stream())
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
        let report = full_sync(target, false, bus.backoff).await?;
        tracing::info!(tenant = %target.tenant, target = %target.cfg.name, %report, "initial sync done");
        links::synced(
            &mut lock,
            target.key(),
            &report.to_string(),
            false,
            Some(before),
        )
        .await?;
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
            filter_subject: bus.subjects.tenant_changes(&target.tenant),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: start,
            },
            ..Default::default()
        })
        .await
        .map_err(|e| js_err(&e))?;
    let mut messages = consumer.messages().await.map_err(|e| js_err(&e))?;
    follow(
        bus,
        target,
        &mut lock,
        &mut messages,
        recover_through,
        shutdown,
    )
    .await
}

/// One change in hand: pushed (or parked) in its own future; the changes
/// of a resource one after the other, different resources side by side.
type Done = (Uuid, u64, Result<Counts, WorkerError>);

/// Follows the stream without batch barriers: up to `concurrency`
/// resources in flight, each resource's later changes queued behind its
/// current one, the position moved (every 200 ms) to the highest stream
/// sequence below which everything is done. Operator requests (pause, sync,
/// reconcile, replay) are looked at every second and served once what is in
/// flight has finished.
async fn follow(
    bus: &Bus,
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
    // Stream sequences received and not done yet.
    let mut pending: std::collections::BTreeSet<u64> = std::collections::BTreeSet::new();
    let mut highest: u64 = 0;
    let mut done = Advance::default();
    let mut lag: Option<i64> = None;
    let mut flushed = Instant::now();
    let mut looked = Instant::now() - Duration::from_secs(2);
    let mut control = links::Control::default();
    let start = |item: Item| {
        let mode = if item.stream_seq <= recover_through {
            Mode::Recover
        } else {
            Mode::Change
        };
        push_item(bus, target, item, mode, shutdown)
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
            flush(lock, target, &mut done, &pending, highest, lag).await?;
            flushed = Instant::now();
            if control.paused {
                tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                looked = Instant::now() - Duration::from_secs(2);
                continue;
            }
            // Sync, reconcile and replay write their links themselves.
            target.link_cache.stop();
            serve(bus, target, lock, &control, shutdown).await?;
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
                return stop_cleanly(lock, target, &mut done, &pending, highest, lag).await;
            }
            Some((rid, seq, result)) = inflight.next(), if !inflight.is_empty() => {
                let c: Counts = match result {
                    Ok(c) => c,
                    // A retry cut short by the shutdown: what finished is
                    // recorded as on any shutdown.
                    Err(_) if shutdown.is_cancelled() => {
                        return stop_cleanly(lock, target, &mut done, &pending, highest, lag).await;
                    }
                    Err(e) => return Err(e),
                };
                done.pushed += c.pushed;
                done.skipped += c.skipped;
                if c.last_error.is_some() {
                    done.last_error = c.last_error;
                }
                pending.remove(&seq);
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
                let item = Item::of(&m);
                if let Ok(info) = m.info() {
                    lag = Some(i64::try_from(info.pending).unwrap_or(i64::MAX));
                }
                pending.insert(item.stream_seq);
                highest = highest.max(item.stream_seq);
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
            flush(lock, target, &mut done, &pending, highest, lag).await?;
            flushed = Instant::now();
        }
    }
}

/// Writes the links kept since the last flush, moves the position to just
/// below the oldest change not done (or to the highest received, when all
/// are) and adds up the counts. `done` carries
/// the counts since the last flush and the position, lag and circuit last
/// written.
async fn flush(
    lock: &mut PgConnection,
    target: &Target,
    done: &mut Advance,
    pending: &std::collections::BTreeSet<u64>,
    highest: u64,
    lag: Option<i64>,
) -> Result<(), WorkerError> {
    let position = pending.first().map_or(highest, |p| p.saturating_sub(1));
    let next = Advance {
        stream_seq: i64::try_from(position).unwrap_or(i64::MAX),
        lag: lag.map(|l| l + i64::try_from(pending.len()).unwrap_or(0)),
        circuit: circuit(target),
        ..std::mem::take(done)
    };
    // Written only when something moved: an idle target writes nothing.
    let same = next.pushed == 0
        && next.skipped == 0
        && next.last_error.is_none()
        && done.stream_seq == next.stream_seq
        && done.lag == next.lag
        && done.circuit == next.circuit;
    // The links written since the last flush and the position, in one
    // transaction on the connection that holds the lock: the position never
    // passes a change whose link is only in memory, and a worker that lost
    // its lock (and its connection) writes nothing more.
    let taken = target.link_cache.snapshot();
    if !same || !taken.is_empty() {
        let mut tx = lock.begin().await?;
        LinkCache::flush(&mut tx, target.key(), &taken).await?;
        links::advance(&mut *tx, target.key(), &next).await?;
        tx.commit().await?;
        target.link_cache.release(taken);
    }
    // What was written stays for the next comparison; the counts start over.
    *done = Advance {
        stream_seq: next.stream_seq,
        lag: next.lag,
        circuit: next.circuit,
        ..Advance::default()
    };
    Ok(())
}

/// The last flush of a shutdown: everything pushed is then in Postgres, so
/// the next worker need not doubt the links (`clean_stop`).
async fn stop_cleanly(
    lock: &mut PgConnection,
    target: &Target,
    done: &mut Advance,
    pending: &std::collections::BTreeSet<u64>,
    highest: u64,
    lag: Option<i64>,
) -> Result<(), WorkerError> {
    flush(lock, target, done, pending, highest, lag).await?;
    links::stopped_cleanly(&mut *lock, target.key()).await?;
    Ok(())
}

/// Serves what an operator asked for (the target is idle meanwhile).
async fn serve(
    bus: &Bus,
    target: &Target,
    lock: &mut PgConnection,
    control: &links::Control,
    shutdown: &CancellationToken,
) -> Result<(), WorkerError> {
    if let Some(dry_run) = control.sync {
        let report = full_sync(target, dry_run, bus.backoff).await?;
        tracing::info!(tenant = %target.tenant, target = %target.cfg.name, %report, "full sync done");
        links::synced(&mut *lock, target.key(), &report.to_string(), dry_run, None).await?;
    }
    if let Some(apply) = control.reconcile {
        let report = match reconcile(target, apply).await {
            Ok(r) => r.to_string(),
            Err(e) => format!("reconcile failed: {e}"),
        };
        tracing::info!(tenant = %target.tenant, target = %target.cfg.name, %report, "reconciled");
        links::reconciled(&mut *lock, target.key(), &report).await?;
    }
    if control.replay {
        let replayed = replay(bus, target, shutdown).await?;
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

/// Whether a resource has a parked change for this target (from memory,
/// loaded from Postgres the first time).
async fn has_parked(target: &Target, resource: Uuid) -> Result<bool, WorkerError> {
    if let Some(set) = target
        .parked
        .lock()
        .ok()
        .and_then(|p| p.as_ref().map(|s| s.contains(&resource)))
    {
        return Ok(set);
    }
    let all = links::parked_resources(&target.pool, target.key()).await?;
    let has = all.contains(&resource);
    if let Ok(mut p) = target.parked.lock() {
        *p = Some(all.into_iter().collect());
    }
    Ok(has)
}

/// Forgets what is known of parked resources (after a replay).
fn reload_parked(target: &Target) {
    if let Ok(mut p) = target.parked.lock() {
        *p = None;
    }
}

/// The circuit breaker's state, as the status shows it.
fn circuit(target: &Target) -> String {
    match target.throttle.circuit() {
        crate::throttle::Circuit::Closed => "closed".into(),
        crate::throttle::Circuit::Open(_) => "open".into(),
    }
}

/// One change to push, with where it came from.
struct Item {
    stream_seq: u64,
    subject: String,
    msg_id: String,
    /// The resource it changes (nil when it cannot be decoded).
    resource: Uuid,
    change: Result<Change, String>,
}

impl Item {
    fn of(m: &jetstream::Message) -> Item {
        let change =
            Change::decode(m.payload.as_ref()).map_err(|e| format!("not a scimbus.v1.Change: {e}"));
        Item {
            stream_seq: m.info().map(|i| i.stream_sequence).unwrap_or(0),
            subject: m.subject.to_string(),
            msg_id: m
                .headers
                .as_ref()
                .and_then(|h| h.get(scimbus_events::headers::MSG_ID))
                .map(|v| v.as_str().to_string())
                .unwrap_or_default(),
            resource: change
                .as_ref()
                .ok()
                .and_then(|c| Uuid::parse_str(&c.resource_id).ok())
                .unwrap_or_default(),
            change,
        }
    }
}

#[derive(Debug, Default)]
struct Counts {
    pushed: i64,
    skipped: i64,
    last_error: Option<String>,
}

/// Pushes one change (after its resource's earlier ones). A resource with
/// a parked change parks its later ones behind it (never applied out of
/// order).
async fn push_item(
    bus: &Bus,
    target: &Target,
    item: Item,
    mode: Mode,
    shutdown: &CancellationToken,
) -> Done {
    let rid = item.resource;
    let seq = item.stream_seq;
    (rid, seq, push_one(bus, target, &item, mode, shutdown).await)
}

async fn push_one(
    bus: &Bus,
    target: &Target,
    item: &Item,
    mode: Mode,
    shutdown: &CancellationToken,
) -> Result<Counts, WorkerError> {
    let mut counts = Counts::default();
    let change = match &item.change {
        Ok(c) => c,
        Err(reason) => {
            tracing::warn!(target = %target.cfg.name, subject = %item.subject, %reason, "change parked");
            park_letter(bus, target, item, None, reason, 1).await?;
            counts.last_error = Some(reason.clone());
            return Ok(counts);
        }
    };
    if has_parked(target, item.resource).await? {
        let reason = "an earlier change of this resource is parked; this one waits behind it";
        park(bus, target, item, change, reason, None, 0).await?;
        return Ok(counts);
    }
    match push_with_retries(bus, target, change, mode, shutdown, &mut counts).await? {
        Ok(Pushed::Skipped(why)) => {
            tracing::debug!(target = %target.cfg.name, resource = %change.resource_id, why, "skipped");
            counts.skipped += 1;
        }
        Ok(what) => {
            tracing::debug!(target = %target.cfg.name, resource = %change.resource_id, ?what, "pushed");
            counts.pushed += 1;
        }
        Err((e, attempts)) => {
            let reason = failure(&e, attempts);
            tracing::warn!(target = %target.cfg.name, resource = %change.resource_id, %reason, "change parked");
            park(bus, target, item, change, &reason, Some(&e), attempts).await?;
            counts.last_error = Some(reason);
        }
    }
    Ok(counts)
}

fn failure(e: &PushError, attempts: u32) -> String {
    if e.is_transient() {
        format!("{e} (gave up after {attempts} attempts)")
    } else {
        e.to_string()
    }
}

/// Pushes a change, retrying transient failures with backoff (or the
/// target's `Retry-After`) up to the target's attempts. The inner `Err` is
/// the last failure and the attempts made.
async fn push_with_retries(
    bus: &Bus,
    target: &Target,
    change: &Change,
    mode: Mode,
    shutdown: &CancellationToken,
    counts: &mut Counts,
) -> Result<Result<Pushed, (PushError, u32)>, WorkerError> {
    let mut attempt = 1;
    loop {
        let pushed = target.push(change, mode).await;
        if let Err(e) = &pushed {
            // Counted now: a crash before the next flush must not lose it.
            let error = e.to_string();
            links::count_failure(&target.links_pool, target.key(), &error).await?;
            counts.last_error = Some(error);
        }
        let e = match pushed {
            Ok(p) => return Ok(Ok(p)),
            Err(e) => e,
        };
        let Some(wait) = retry_wait(target, bus.backoff, &e, attempt, change.sequence) else {
            return Ok(Err((e, attempt)));
        };
        tracing::info!(target = %target.cfg.name, resource = %change.resource_id,
            attempt, error = %e, ?wait, "push failed; retrying");
        tokio::select! {
            _ = shutdown.cancelled() => return Err(WorkerError::JetStream("shutting down".into())),
            _ = tokio::time::sleep(wait) => {}
        }
        attempt += 1;
    }
}

/// Pushes again the parked changes an operator asked to replay, resource by
/// resource in change order; a change that succeeds leaves the parked
/// list, one that fails again keeps its place (and the resource's later
/// ones theirs).
async fn replay(
    bus: &Bus,
    target: &Target,
    shutdown: &CancellationToken,
) -> Result<Counts, WorkerError> {
    let mut counts = Counts::default();
    let due = links::replay_due(&target.pool, target.key(), 1000).await?;
    let mut failed: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    for p in due {
        if failed.contains(&p.resource_id) {
            continue;
        }
        let change = match Change::decode(p.payload.as_slice()) {
            Ok(c) => c,
            Err(e) => {
                failed.insert(p.resource_id);
                let again = Parked {
                    reason: format!("not a scimbus.v1.Change: {e}"),
                    attempts: 1,
                    ..p
                };
                links::replay_failed(&target.pool, target.key(), &again).await?;
                continue;
            }
        };
        match push_with_retries(bus, target, &change, Mode::Change, shutdown, &mut counts).await? {
            Ok(what) => {
                tracing::info!(target = %target.cfg.name, resource = %change.resource_id, seq = p.seq, ?what, "parked change replayed");
                links::unpark(&target.pool, target.key(), p.seq).await?;
                counts.pushed += 1;
            }
            Err((e, attempts)) => {
                let reason = failure(&e, attempts);
                tracing::warn!(target = %target.cfg.name, resource = %change.resource_id, seq = p.seq, %reason, "replay failed; still parked");
                failed.insert(p.resource_id);
                let exchange = e.exchange().clone();
                let again = Parked {
                    reason: reason.clone(),
                    request: (!exchange.request.is_empty()).then_some(exchange.request),
                    response: exchange.response,
                    attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
                    ..p
                };
                links::replay_failed(&target.pool, target.key(), &again).await?;
                counts.last_error = Some(reason);
            }
        }
    }
    Ok(counts)
}

/// How long to wait before trying again after `e` at attempt `attempt`:
/// the target's `Retry-After`, else [`backoff`]; `None` when it is not
/// tried again (a permanent error, or the target's attempts are spent).
pub(crate) fn retry_wait(
    target: &Target,
    first: Duration,
    e: &PushError,
    attempt: u32,
    salt: u64,
) -> Option<Duration> {
    match e {
        PushError::Transient { retry_after, .. } if attempt < target.cfg.max_attempts => {
            Some(retry_after.unwrap_or_else(|| backoff(first, attempt, salt)))
        }
        _ => None,
    }
}

/// Exponential from `first`, capped at a minute, with up to 50 % jitter
/// (from the change's sequence and the attempt: no two resources retry in
/// lock step).
fn backoff(first: Duration, attempt: u32, salt: u64) -> Duration {
    let base = first
        .saturating_mul(1 << attempt.saturating_sub(1).min(16))
        .min(Duration::from_secs(60));
    let mut h = salt
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(u64::from(attempt));
    h ^= h >> 29;
    let jitter = base.mul_f64((h % 1000) as f64 / 2000.0);
    base + jitter
}

/// Parks a change: in Postgres (for listing and replay, and so the
/// resource's later changes wait behind it) and on `SCIMBUS_DLQ`.
async fn park(
    bus: &Bus,
    target: &Target,
    item: &Item,
    change: &Change,
    reason: &str,
    error: Option<&PushError>,
    attempts: u32,
) -> Result<(), WorkerError> {
    let exchange = error.map(|e| e.exchange().clone()).unwrap_or_default();
    if let Ok(mut p) = target.parked.lock()
        && let Some(set) = p.as_mut()
    {
        set.insert(Uuid::parse_str(&change.resource_id).unwrap_or_default());
    }
    links::park(
        &target.pool,
        target.key(),
        &Parked {
            seq: i64::try_from(change.sequence).unwrap_or(i64::MAX),
            resource_type: change.resource_type.clone(),
            resource_id: Uuid::parse_str(&change.resource_id).unwrap_or_default(),
            payload: change.encode_to_vec(),
            reason: reason.to_string(),
            request: (!exchange.request.is_empty()).then(|| exchange.request.clone()),
            response: exchange.response.clone(),
            attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
        },
    )
    .await?;
    park_letter(bus, target, item, error, reason, attempts).await
}

/// The dead letter on `SCIMBUS_DLQ` (`scimbus.dlq.target:<name>.<tenant>`).
async fn park_letter(
    bus: &Bus,
    target: &Target,
    item: &Item,
    error: Option<&PushError>,
    reason: &str,
    attempts: u32,
) -> Result<(), WorkerError> {
    let origin = format!("target:{}", target.cfg.name);
    let exchange = error.map(|e| e.exchange().clone()).unwrap_or_default();
    let letter = DeadLetter {
        origin: origin.clone(),
        tenant: target.tenant.clone(),
        subject: item.subject.clone(),
        message_id: item.msg_id.clone(),
        payload: item
            .change
            .as_ref()
            .map(Message::encode_to_vec)
            .unwrap_or_default(),
        reason: reason.to_string(),
        attempts,
        parked_at_unix_micros: chrono::Utc::now().timestamp_micros(),
        request: exchange.request,
        response: exchange.response.unwrap_or_default(),
    };
    let out = Outgoing {
        subject: bus.subjects.dead_letter(&origin, &target.tenant),
        // One letter per (target, stream position): a re-park after a
        // crash is deduplicated.
        msg_id: format!("{origin}/{}/{}", target.tenant, item.stream_seq),
        tenant: target.tenant.clone(),
        payload: Bytes::from(letter.encode_to_vec()),
        traceparent: None,
        tracestate: None,
        reply_to: None,
    };
    scimbus_bus::publish(&bus.js, &out)
        .await
        .map_err(|e| WorkerError::JetStream(e.to_string()))?
        .await
        .map_err(|e| WorkerError::JetStream(e.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let first = Duration::from_millis(100);
        for attempt in 1..6 {
            let base = first * (1 << (attempt - 1));
            let d = backoff(first, attempt, 42);
            assert!(d >= base && d <= base + base / 2, "{attempt}: {d:?}");
        }
        assert!(backoff(first, 40, 1) <= Duration::from_secs(90));
        // Different resources do not retry in lock step.
        assert_ne!(backoff(first, 3, 1), backoff(first, 3, 2));
    }
}
