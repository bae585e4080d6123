//! Command partitions and who applies them.
//!
//! Commands of one resource share a partition (docs/design.md §3). A partition
//! is applied by exactly one store replica at a time: the one holding the
//! partition's Postgres advisory lock. A replica holds the locks of all its
//! partitions on one session, the very connection that runs its
//! transactions, so a replica that lost its session (and with it the locks)
//! cannot commit anything more — Postgres fences it.
//!
//! One session also means one transaction for what all of a replica's
//! partitions have waiting: a batch takes the commands at hand from every
//! partition it holds (each partition's in their order; commands of
//! different partitions are of different resources), so spreading a
//! tenant over more partitions does not cut the batches a transaction
//! commits into smaller ones.
//!
//! On taking a partition, the replica recreates the partition's consumer;
//! the command stream is a work queue, so the new consumer starts at the
//! oldest unacknowledged command and per-resource order survives any
//! handover. A partition is let go only between two batches: nothing of it
//! is in hand then.

use std::sync::Arc;
use std::time::{Duration, Instant};

use scimbus_bus::BusError;
use sqlx::ConnectOptions;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::Shared;
use crate::apply::ApplyError;

mod answer;
mod held;
mod lag;
mod process;

use held::Held;
use lag::LAG_EVERY;

/// The advisory-lock class of command partitions (the second key is the
/// partition number).
const LOCK_CLASS: i32 = scimbus_db::lease::STORE_PARTITION;

/// Why a replica's session ended (it will start another).
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

/// The first wait before starting a session again after losing Postgres:
/// a restart or a terminated session is usually over at once.
const FIRST_RETRY: Duration = Duration::from_millis(50);

/// How a session ended, other than by shutdown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Turn {
    /// Postgres could not be reached to start one.
    Failed,
    /// It lasted this long, then was lost (and every partition with it).
    Lost { held: Duration },
}

/// Keeps a session and applies the commands of the partitions it holds,
/// starting another whenever one is lost, until `shutdown`.
pub async fn run(shared: Arc<Shared>, shutdown: CancellationToken) {
    // Spreads the retries of replicas that failed together (the low half
    // of a UUIDv7 is random).
    let salt = Uuid::now_v7().as_u64_pair().1;
    let mut failures = 0u32;
    loop {
        let started = Instant::now();
        let turn = match shared.pg.connect().await {
            Ok(mut conn) => {
                let mut held = Held::new(&shared);
                let ended = work(&shared, &mut conn, &mut held, &shutdown).await;
                held.release_all();
                match ended {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, "partitions released");
                        Turn::Lost {
                            held: started.elapsed(),
                        }
                    }
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot take partitions");
                Turn::Failed
            }
        };
        let wait = retry_wait(turn, &mut failures, shared.settings.lease_retry, salt);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// How long to wait before starting a session again: promptly at first
/// and then less and less often (from [`FIRST_RETRY`], doubling, at most
/// `lease_retry`, with jitter); a session that lasted `lease_retry` or
/// longer before it was lost starts that series afresh.
fn retry_wait(turn: Turn, failures: &mut u32, lease_retry: Duration, salt: u64) -> Duration {
    match turn {
        Turn::Lost { held } if held >= lease_retry => *failures = 1,
        Turn::Lost { .. } | Turn::Failed => *failures = failures.saturating_add(1),
    }
    scimbus_runtime::backoff(FIRST_RETRY, lease_retry, *failures, salt)
}

/// What wakes a session.
enum Wake {
    Shutdown,
    Lag,
    Balance,
    Command(Box<Result<async_nats::jetstream::Message, PartitionError>>),
}

/// One session: takes the partitions it may, applies their commands batch
/// by batch, and between batches lets go of what is over this replica's
/// share and takes what is free. `Ok` on shutdown.
async fn work(
    shared: &Shared,
    conn: &mut sqlx::PgConnection,
    held: &mut Held<'_>,
    shutdown: &CancellationToken,
) -> Result<(), PartitionError> {
    held.take_free(conn).await?;
    let mut lag = tokio::time::interval(LAG_EVERY);
    lag.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut balance = tokio::time::interval(shared.settings.lease_retry);
    balance.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // Both fire at once; the partitions were just taken.
    lag.tick().await;
    balance.tick().await;
    loop {
        let wake = tokio::select! {
            _ = shutdown.cancelled() => Wake::Shutdown,
            _ = lag.tick() => Wake::Lag,
            _ = balance.tick() => Wake::Balance,
            m = held.next() => Wake::Command(Box::new(m)),
        };
        match wake {
            Wake::Shutdown => return Ok(()),
            Wake::Lag => held.sample().await,
            Wake::Balance => {
                held.yield_excess(conn).await?;
                held.take_free(conn).await?;
            }
            Wake::Command(first) => {
                let mut batch = vec![(*first)?];
                // Whatever else any partition has here joins the batch.
                held.gather(&mut batch, shared.settings.batch_max)?;
                process::process(shared, conn, batch).await?;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LEASE: Duration = Duration::from_secs(2);

    #[test]
    fn a_lost_session_is_retried_promptly_then_less_often() {
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
}
