//! HR events that are due: a future-dated change whose time has come, or
//! an event whose command the ingress could not publish (NATS down after
//! the 202). Every store replica looks for them; each row is taken by one
//! (`skip locked`) and its command published to the person's partition,
//! where the replica that owns that partition applies it. The event's
//! status, set in the applying transaction, makes a second publish
//! (a crash before the mark was kept, a lost publish taken up again)
//! change nothing.

use std::time::Duration;

use async_nats::jetstream;
use scimbus_bus::Outgoing;
use scimbus_events::{Subjects, hr_command};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Why a round of publishing due events failed (it is tried again).
#[derive(Debug, thiserror::Error)]
pub enum DueError {
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("publishing an HR command: {0}")]
    Bus(#[from] scimbus_bus::BusError),
    #[error("JetStream did not acknowledge an HR command: {0}")]
    Ack(String),
}

/// What the loop needs.
#[derive(Debug, Clone)]
pub struct DueEvents {
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub pool: PgPool,
    pub partitions: u32,
    /// How often to look.
    pub interval: Duration,
    /// How long after a publish an event still pending is published again.
    pub republish_after: Duration,
}

/// The most events taken in one round.
const ROUND: i64 = 500;

impl DueEvents {
    /// Publishes the commands of the events due now; how many.
    pub async fn round(&self) -> Result<usize, DueError> {
        let mut total = 0;
        loop {
            let now = crate::batch::now();
            let mut tx = self.pool.begin().await?;
            let due = scimbus_db::hr::due::take_due(
                &mut tx,
                now,
                self.republish_after.as_secs_f64(),
                ROUND,
            )
            .await?;
            tx.commit().await?;
            let n = due.len();
            let mut acks = Vec::with_capacity(n);
            for d in &due {
                let cmd = hr_command(
                    &d.tenant,
                    &d.source,
                    d.id,
                    d.due_at.timestamp_micros(),
                    &d.employee_id,
                    now.timestamp_micros(),
                );
                let out = Outgoing::command(&self.subjects, self.partitions, &cmd, None);
                acks.push(scimbus_bus::publish(&self.js, &out).await?);
            }
            for ack in acks {
                ack.await.map_err(|e| DueError::Ack(e.to_string()))?;
            }
            total += n;
            if n < ROUND as usize {
                return Ok(total);
            }
        }
    }

    /// Looks every `interval` until shut down.
    pub async fn run(self, shutdown: CancellationToken) {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tokio::time::sleep(self.interval) => {}
            }
            match self.round().await {
                Ok(0) => {}
                Ok(n) => tracing::debug!(events = n, "published due HR events"),
                Err(e) => tracing::warn!(error = %e, "publishing due HR events failed"),
            }
        }
    }
}
