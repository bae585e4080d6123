//! Command partitions and who applies them.
//!
//! Commands of one resource share a partition (docs/design.md §3). A partition
//! is applied by exactly one store replica at a time: the one holding the
//! partition's Postgres advisory lock. The lock is held on the very
//! connection that runs the partition's transactions, so a replica that
//! lost its session (and with it the lock) cannot commit anything more —
//! Postgres fences it. On taking a partition, the owner recreates the
//! partition's consumer; the command stream is a work queue, so the new
//! consumer starts at the oldest unacknowledged command and per-resource
//! order survives any handover.

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_nats::jetstream::stream::ConsumerErrorKind;
use async_nats::jetstream::{self, AckKind, ErrorCode, consumer};
use futures_util::{FutureExt, StreamExt};
use scimbus_bus::BusError;
use scimbus_db::changes::ChangeRow;
use scimbus_events::v1::{Command, CommandResult};
use sqlx::PgConnection;
use sqlx::postgres::PgConnectOptions;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::Shared;
use crate::apply::ApplyError;
use crate::batch::{apply_batch, now};
use crate::dead_letter::park;
use crate::message::{self, decode, failed};

mod answer;
mod lag;

use answer::answer;
use lag::{LAG_EVERY, Lag};

/// The advisory-lock class of command partitions (the second key is the
/// partition number).
const LOCK_CLASS: i32 = scimbus_db::lease::STORE_PARTITION;

/// Why a replica gave up a partition (it will try to take it again).
#[derive(Debug, thiserror::Error)]
pub enum PartitionError {
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Apply(#[from] ApplyError),
    #[error("JetStream: {0}")]
    JetStream(String),
    /// A setting out of the range its reader checked (partitions at most
    /// 1024: the lock key is an `int4`; a batch at most 10 000).
    #[error("{0} is out of range")]
    Setting(String),
}

/// Why a replica stopped working a partition, other than an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The replica is shutting down.
    Shutdown,
    /// It held more than its share: another replica takes this one.
    Yielded,
}

/// The first wait before trying to take a partition back after losing
/// Postgres: a restart or a terminated session is usually over at once.
const FIRST_RETRY: Duration = Duration::from_millis(50);

/// How an attempt at holding a partition ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// Another replica holds it.
    HeldElsewhere,
    /// Postgres (or JetStream) could not be used to take it.
    Failed,
    /// It was held this long, then lost.
    Lost { held: Duration },
    /// It was let go to another replica (already counted off).
    Yielded,
}

/// Keeps trying to own partition `p` and applies its commands while it does.
pub async fn run(shared: Arc<Shared>, p: u32, shutdown: CancellationToken) {
    // Spreads the retries of replicas and partitions that failed together
    // (the low half of a UUIDv7 is random).
    let salt = Uuid::now_v7().as_u64_pair().1 ^ u64::from(p);
    let mut failures = 0u32;
    loop {
        // Beyond this replica's share, the partition is left to another
        // (crate::replicas). A turn that took one counts it off again when
        // it ends — but a yield was counted off when it was decided.
        let turn = if !shared.balance.may_take() {
            Turn::HeldElsewhere
        } else {
            let Some(turn) = hold(&shared, p, &shutdown).await else {
                return;
            };
            if turn != Turn::Yielded {
                shared.balance.released();
            }
            turn
        };
        let wait = retry_wait(turn, &mut failures, shared.settings.lease_retry, salt);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One attempt at partition `p`: taken and worked until it is lost or
/// yielded, or not taken. `None` on shutdown.
async fn hold(shared: &Shared, p: u32, shutdown: &CancellationToken) -> Option<Turn> {
    let started = Instant::now();
    match acquire(&shared.pg, p).await {
        Ok(Some(conn)) => {
            tracing::info!(partition = p, "partition taken");
            match consume(shared, p, conn, shutdown).await {
                Ok(Ended::Shutdown) => None,
                Ok(Ended::Yielded) => {
                    tracing::info!(partition = p, "partition left to another replica");
                    Some(Turn::Yielded)
                }
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "partition released");
                    Some(Turn::Lost {
                        held: started.elapsed(),
                    })
                }
            }
        }
        Ok(None) => Some(Turn::HeldElsewhere),
        Err(e) => {
            tracing::warn!(partition = p, error = %e, "cannot take the partition");
            Some(Turn::Failed)
        }
    }
}

/// How long to wait before trying to take the partition again. While
/// another replica holds it, `lease_retry` (no point in asking sooner).
/// After a failure, promptly at first and then less and less often (from
/// [`FIRST_RETRY`], doubling, at most `lease_retry`, with jitter); a
/// partition that was held for `lease_retry` or longer before it was lost
/// starts that series afresh.
fn retry_wait(turn: Turn, failures: &mut u32, lease_retry: Duration, salt: u64) -> Duration {
    match turn {
        Turn::HeldElsewhere | Turn::Yielded => {
            *failures = 0;
            return lease_retry;
        }
        Turn::Lost { held } if held >= lease_retry => *failures = 1,
        Turn::Lost { .. } | Turn::Failed => *failures = failures.saturating_add(1),
    }
    scimbus_runtime::backoff(FIRST_RETRY, lease_retry, *failures, salt)
}

/// A connection holding the partition's lock, if no one else holds it.
async fn acquire(pg: &PgConnectOptions, p: u32) -> Result<Option<PgConnection>, PartitionError> {
    let key = i32::try_from(p).map_err(|_| PartitionError::Setting(format!("partition {p}")))?;
    Ok(scimbus_db::lease::try_take(pg, LOCK_CLASS, key).await?)
}

/// The partition's consumer, created afresh so that it starts at the
/// oldest command not yet acknowledged.
async fn fresh_consumer(shared: &Shared, p: u32) -> Result<consumer::PullConsumer, PartitionError> {
    let js_err = |e: &dyn std::fmt::Display| PartitionError::JetStream(e.to_string());
    let stream = shared
        .js
        .get_stream(shared.subjects.command_stream())
        .await
        .map_err(|e| js_err(&e))?;
    let name = format!("store-p{p}");
    match stream.delete_consumer(&name).await {
        Ok(_) => {}
        // Not found is fine: this is the first owner.
        Err(e)
            if matches!(e.kind(), ConsumerErrorKind::JetStream(j)
                if j.error_code() == ErrorCode::CONSUMER_NOT_FOUND) => {}
        // Anything else: the old consumer may still be there, and a new
        // owner would not start at the oldest unacknowledged command.
        Err(e) => return Err(js_err(&e)),
    }
    let max_ack_pending = i64::try_from(shared.settings.batch_max.saturating_mul(4))
        .map_err(|_| PartitionError::Setting(format!("batch {}", shared.settings.batch_max)))?;
    stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some(name),
            filter_subject: shared.subjects.command_partition(p),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            deliver_policy: consumer::DeliverPolicy::All,
            max_ack_pending,
            ..Default::default()
        })
        .await
        .map_err(|e| js_err(&e))
}

async fn consume(
    shared: &Shared,
    p: u32,
    mut conn: PgConnection,
    shutdown: &CancellationToken,
) -> Result<Ended, PartitionError> {
    let mut consumer = fresh_consumer(shared, p).await?;
    let stream_name = shared.subjects.command_stream();
    let consumer_name = format!("store-p{p}");
    let lag = Lag {
        shared,
        stream: &stream_name,
        consumer: &consumer_name,
    };
    let ended = follow(shared, &mut consumer, &mut conn, shutdown, &lag).await;
    lag.released();
    if let Ok(Ended::Yielded) = ended {
        // Its session, and the lease with it, ends now rather than when
        // Postgres notices the socket gone.
        let _ = sqlx::Connection::close(conn).await;
    }
    ended
}

async fn follow(
    shared: &Shared,
    consumer: &mut consumer::PullConsumer,
    conn: &mut PgConnection,
    shutdown: &CancellationToken,
    lag: &Lag<'_>,
) -> Result<Ended, PartitionError> {
    lag.sample(consumer).await;
    let mut tick = tokio::time::interval(LAG_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Between two batches: does this replica hold more than its share?
    let mut balance = tokio::time::interval(shared.settings.lease_retry);
    balance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut messages = consumer
        .clone()
        .stream()
        .max_messages_per_batch(shared.settings.batch_max)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await
        .map_err(|e| PartitionError::JetStream(e.to_string()))?;
    loop {
        let first = tokio::select! {
            _ = shutdown.cancelled() => return Ok(Ended::Shutdown),
            _ = tick.tick() => {
                lag.sample(consumer).await;
                continue;
            }
            _ = balance.tick() => {
                if shared.balance.should_yield() {
                    return Ok(Ended::Yielded);
                }
                continue;
            }
            m = messages.next() => m,
        };
        let first = first
            .ok_or_else(|| PartitionError::JetStream("the consumer's message stream ended".into()))?
            .map_err(|e| PartitionError::JetStream(e.to_string()))?;
        let mut batch = vec![first];
        // Whatever else is already here joins the batch.
        while batch.len() < shared.settings.batch_max {
            match messages.next().now_or_never() {
                Some(Some(Ok(m))) => batch.push(m),
                Some(Some(Err(e))) => return Err(PartitionError::JetStream(e.to_string())),
                _ => break,
            }
        }
        process(shared, conn, batch).await?;
    }
}

/// Decodes, applies, answers, acknowledges and hands the changes on.
async fn process(
    shared: &Shared,
    conn: &mut PgConnection,
    msgs: Vec<jetstream::Message>,
) -> Result<(), PartitionError> {
    // One span per command, child of the span that published it; they
    // end with the batch.
    let spans = message::spans(&shared.subjects.command_stream(), &msgs);
    let mut good: Vec<(usize, Uuid, Command)> = Vec::with_capacity(msgs.len());
    let mut refused: Vec<(usize, CommandResult)> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        match decode(m) {
            Ok((id, cmd)) => good.push((i, id, cmd)),
            Err(undecodable) => {
                let reason = undecodable.to_string();
                tracing::warn!(subject = %m.subject, %reason, "command parked");
                park(&shared.js, &shared.subjects, &m.message, &reason, 1).await?;
                refused.push((i, failed(String::new(), 400, &reason)));
            }
        }
    }
    let started = Instant::now();
    let (results, mut changes) = apply_all(shared, conn, &good, &msgs).await?;
    message::traced(&mut changes, &good, &spans);
    shared
        .metrics
        .batch(msgs.len(), started.elapsed().as_secs_f64());
    shared.metrics.answered(&results);
    shared.metrics.parked(refused.len());
    let answers = good
        .iter()
        .map(|(i, _, _)| *i)
        .zip(results)
        .chain(refused)
        .map(|(i, result)| (&msgs[i], result));
    answer(shared, answers).await;
    // One acknowledgement each: a work-queue stream allows no other
    // policy than explicit.
    for m in &msgs {
        m.ack()
            .await
            .map_err(|e| PartitionError::JetStream(format!("ack: {e}")))?;
    }
    if !changes.is_empty() && shared.outbox.send(changes).await.is_err() {
        tracing::warn!("the change publisher has stopped; the sweeper publishes the changes");
    }
    Ok(())
}

/// Applies the batch in one transaction; if that fails, one command at a
/// time with retries, parking a command that keeps failing.
async fn apply_all(
    shared: &Shared,
    conn: &mut PgConnection,
    good: &[(usize, Uuid, Command)],
    msgs: &[jetstream::Message],
) -> Result<(Vec<CommandResult>, Vec<ChangeRow>), PartitionError> {
    if good.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let registry = &shared.registry;
    let all: Vec<(Uuid, &Command)> = good.iter().map(|(_, id, c)| (*id, c)).collect();
    match apply_batch(conn, registry, &shared.owners, now(), &all).await {
        Ok(c) => return Ok((c.results, c.changes)),
        Err(e) if lost_connection(&e) => return Err(e.into()),
        Err(e) => {
            tracing::debug!(error = %e, size = all.len(), "batch failed; applying one at a time")
        }
    }
    let mut results = Vec::with_capacity(good.len());
    let mut changes = Vec::new();
    for (i, id, cmd) in good {
        let mut attempt = 1;
        loop {
            match apply_batch(conn, registry, &shared.owners, now(), &[(*id, cmd)]).await {
                Ok(c) => {
                    results.extend(c.results);
                    changes.extend(c.changes);
                    break;
                }
                Err(e) if lost_connection(&e) => return Err(e.into()),
                Err(e) if attempt >= shared.settings.max_attempts || deterministic(&e) => {
                    let reason = format!("applying failed {attempt} times: {e}");
                    tracing::error!(command = %id, %reason, "command parked");
                    park(
                        &shared.js,
                        &shared.subjects,
                        &msgs[*i].message,
                        &reason,
                        attempt,
                    )
                    .await?;
                    results.push(failed(
                        cmd.id.clone(),
                        500,
                        "the write could not be applied and was parked for an operator",
                    ));
                    break;
                }
                Err(e) => {
                    tracing::warn!(command = %id, attempt, error = %e, "applying failed; retrying");
                    // Keep JetStream from redelivering while we retry. If
                    // this fails, the command is delivered again after
                    // ack_wait: applied once all the same (its id is
                    // recorded), so the failure needs no handling here.
                    let _ = msgs[*i].ack_with(AckKind::Progress).await;
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
    Ok((results, changes))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(5))
}

/// Errors after which this connection (and the lock on it) cannot be
/// trusted: give the partition up and take it again.
fn lost_connection(e: &ApplyError) -> bool {
    let ApplyError::Db(e) = e else {
        return false;
    };
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// Errors that come back every time (invalid data, a broken constraint
/// such as an undeclared tenant, a broken invariant): retrying cannot help.
fn deterministic(e: &ApplyError) -> bool {
    match e {
        ApplyError::Broken(_) => true,
        ApplyError::Db(e) => e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(2);

    #[test]
    fn a_lost_partition_is_retried_promptly_then_less_often() {
        let mut failures = 0;
        let first = retry_wait(Turn::Lost { held: LEASE * 10 }, &mut failures, LEASE, 7);
        assert!(first <= FIRST_RETRY, "{first:?}");
        let mut last = first;
        for _ in 0..10 {
            let next = retry_wait(Turn::Failed, &mut failures, LEASE, 7);
            assert!(next <= LEASE, "{next:?}");
            assert!(next >= last / 2, "{next:?} after {last:?}");
            last = next;
        }
        assert!(last >= LEASE / 2, "the waits grow to the cap: {last:?}");
        // Lost again soon after taking it: the series goes on.
        let again = retry_wait(Turn::Lost { held: FIRST_RETRY }, &mut failures, LEASE, 7);
        assert!(again >= LEASE / 2, "{again:?}");
        // Held for a while, then lost: prompt again.
        let fresh = retry_wait(Turn::Lost { held: LEASE }, &mut failures, LEASE, 7);
        assert!(fresh <= FIRST_RETRY, "{fresh:?}");
    }

    #[test]
    fn a_partition_another_replica_holds_is_asked_for_every_lease_retry() {
        let mut failures = 5;
        for _ in 0..3 {
            assert_eq!(
                retry_wait(Turn::HeldElsewhere, &mut failures, LEASE, 1),
                LEASE
            );
        }
        assert_eq!(failures, 0);
        // A failure after that starts the series from the beginning.
        assert!(retry_wait(Turn::Failed, &mut failures, LEASE, 1) <= FIRST_RETRY);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(2), Duration::from_millis(400));
        assert_eq!(backoff(30), Duration::from_secs(5));
    }
}
