//! What is kept only for a while: audit entries past their retention
//! (`SCIMBUS_AUDIT_RETENTION_DAYS`), and sealed passwords past their expiry
//! (`[passwords] ttl_hours`; the workers already pass over an expired one,
//! this deletes it). Every store replica deletes, now and then, what is past
//! its time, a bounded batch at a time so no transaction holds many rows.
//! Replicas pruning at once delete disjoint rows or none; nothing else
//! depends on what goes.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// What the loop needs.
#[derive(Debug, Clone)]
pub struct Pruner {
    pub pool: PgPool,
    /// Audit entries older than this go (none: they are kept for ever).
    pub retention: Option<Duration>,
    /// How often to look.
    pub interval: Duration,
}

/// The most entries one statement deletes.
const BATCH: i64 = 10_000;

impl Pruner {
    /// Deletes every audit entry past the retention; how many went.
    pub async fn round(&self) -> sqlx::Result<u64> {
        let Some(retention) = self.retention else {
            return Ok(0);
        };
        let retention = chrono::Duration::from_std(retention).unwrap_or(chrono::Duration::MAX);
        let Some(before) = crate::batch::now().checked_sub_signed(retention) else {
            return Ok(0);
        };
        let mut total = 0;
        loop {
            let n = scimbus_db::audit::prune(&self.pool, before, BATCH).await?;
            total += n;
            if n < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Deletes every sealed password past its expiry; how many went.
    pub async fn passwords(&self) -> sqlx::Result<u64> {
        let mut total = 0;
        loop {
            let n = scimbus_db::passwords::prune(&self.pool, crate::batch::now(), BATCH).await?;
            total += n;
            if n < BATCH as u64 {
                return Ok(total);
            }
        }
    }

    /// Prunes at once, then every `interval`, until shut down.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.round().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(entries = n, "pruned the audit trail"),
                Err(e) => tracing::warn!(error = %e, "pruning the audit trail failed"),
            }
            match self.passwords().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(passwords = n, "deleted expired sealed passwords"),
                Err(e) => tracing::warn!(error = %e, "deleting expired passwords failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
