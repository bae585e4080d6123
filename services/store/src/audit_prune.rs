//! Keeping the audit trail to its retention (`SCIMBUS_AUDIT_RETENTION_DAYS`):
//! every store replica deletes, now and then, the entries older than that,
//! a bounded batch at a time so no transaction holds many rows. Replicas
//! pruning at once delete disjoint rows or none; nothing else depends on
//! old entries.

use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// What the loop needs.
#[derive(Debug, Clone)]
pub struct Pruner {
    pub pool: PgPool,
    /// Entries older than this go.
    pub retention: Duration,
    /// How often to look.
    pub interval: Duration,
}

/// The most entries one statement deletes.
const BATCH: i64 = 10_000;

impl Pruner {
    /// Deletes every entry past the retention; how many went.
    pub async fn round(&self) -> sqlx::Result<u64> {
        let retention = chrono::Duration::from_std(self.retention).unwrap_or(chrono::Duration::MAX);
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

    /// Prunes at once, then every `interval`, until shut down.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            match self.round().await {
                Ok(0) => {}
                Ok(n) => tracing::info!(entries = n, "pruned the audit trail"),
                Err(e) => tracing::warn!(error = %e, "pruning the audit trail failed"),
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}
