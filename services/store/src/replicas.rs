//! How store replicas share the command partitions.
//!
//! Each replica holds a presence lease (a Postgres advisory lock of its own
//! class, on a random key) for as long as it runs; the number of such
//! leases held is the number of live replicas, as Postgres sees it (a
//! replica that dies loses its lease with its session). A replica holds at
//! most its fair share of the partitions, `ceil(partitions / replicas)`:
//! below it, it takes any partition nobody holds; above it (another
//! replica started), it lets the excess go between two batches, and the
//! other takes it (services/store/src/partition/held.rs). The first
//! replica to start takes every partition; the second, seen at the
//! first's next count, gets half of them within a few
//! `lease_retry`s. Handing a partition over is what a crash does already,
//! without the crash: the new owner starts at the oldest command not
//! acknowledged, so per-resource order and exactly-once hold.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use sqlx::postgres::PgConnectOptions;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use scimbus_db::lease;

/// The fair share of partitions: the partitions over the live replicas
/// last counted.
#[derive(Debug)]
pub struct Balance {
    partitions: u32,
    /// Live replicas last counted (0: not counted yet, taken as 1).
    replicas: AtomicU32,
}

impl Balance {
    pub fn new(partitions: u32) -> Balance {
        Balance {
            partitions,
            replicas: AtomicU32::new(0),
        }
    }

    /// How many partitions each replica may hold.
    pub fn share(&self) -> u32 {
        let replicas = self.replicas.load(Ordering::SeqCst).max(1);
        self.partitions.div_ceil(replicas)
    }

    /// Records a count of the live replicas; the count before.
    fn counted(&self, replicas: u32) -> u32 {
        self.replicas.swap(replicas, Ordering::SeqCst)
    }
}

/// Holds this replica's presence lease and counts the live replicas every
/// `every`, until `shutdown`. Without Postgres it tries again with backoff;
/// meanwhile the last count stands.
pub async fn run(
    pg: PgConnectOptions,
    balance: std::sync::Arc<Balance>,
    every: Duration,
    shutdown: CancellationToken,
) {
    let salt = Uuid::now_v7().as_u64_pair().1;
    let mut failures = 0u32;
    loop {
        let ended = present(&pg, &balance, every, &shutdown).await;
        match ended {
            Ok(()) => return,
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::warn!(error = %e, "cannot count the store replicas");
            }
        }
        let wait = scimbus_runtime::backoff(Duration::from_millis(50), every, failures, salt);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// One presence: a connection holding a lease on a random key (another,
/// if that key is taken), counting until it fails or `shutdown`.
async fn present(
    pg: &PgConnectOptions,
    balance: &Balance,
    every: Duration,
    shutdown: &CancellationToken,
) -> sqlx::Result<()> {
    let mut conn = loop {
        // The low half of a UUIDv7 is random.
        let key = Uuid::now_v7().as_u64_pair().1 as i32;
        if let Some(conn) = lease::try_take(pg, lease::STORE_REPLICA, key).await? {
            break conn;
        }
    };
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tick.tick() => {}
        }
        let n = lease::holders(&mut conn, lease::STORE_REPLICA).await?;
        let n = u32::try_from(n).unwrap_or(u32::MAX).max(1);
        if balance.counted(n) != n {
            tracing::info!(
                replicas = n,
                share = balance.share(),
                "store replicas counted"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_share_is_the_partitions_over_the_replicas_counted() {
        let b = Balance::new(4);
        // Not counted yet: one replica, every partition.
        assert_eq!(b.share(), 4);
        // A second replica: two each.
        b.counted(2);
        assert_eq!(b.share(), 2);
        // Three replicas of four partitions: two each at most.
        b.counted(3);
        assert_eq!(b.share(), 2);
        // The other replicas went: all four again.
        b.counted(1);
        assert_eq!(b.share(), 4);

        // One partition, two replicas: one holds it, the other nothing.
        let one = Balance::new(1);
        one.counted(2);
        assert_eq!(one.share(), 1);
    }
}
