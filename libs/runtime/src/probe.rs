//! Readiness: whether a service's dependencies answer right now.

use async_nats::jetstream;
use scimbus_bus::BusError;
use scimbus_db::ReadPool;

/// What a service lacks to do its work (the body of a 503 `/readyz`).
#[derive(Debug, thiserror::Error)]
pub enum NotReady {
    #[error("NATS: {0}")]
    Nats(#[from] BusError),
    #[error("Postgres: {0}")]
    Postgres(#[from] sqlx::Error),
}

/// The dependencies every service has: the NATS connection, the streams it
/// uses, and Postgres.
#[derive(Debug, Clone)]
pub struct Probe {
    client: async_nats::Client,
    js: jetstream::Context,
    streams: Vec<String>,
    /// A connection that died in a Postgres restart is tried again, not
    /// taken for unreadiness.
    pool: ReadPool,
}

impl Probe {
    /// Probes `client`, the `streams` the service uses, and `pool`.
    pub fn new(
        client: async_nats::Client,
        js: jetstream::Context,
        streams: Vec<String>,
        pool: sqlx::PgPool,
    ) -> Probe {
        Probe {
            client,
            js,
            streams,
            pool: ReadPool::new(pool),
        }
    }

    /// `Ok` when NATS is connected, every stream answers and Postgres
    /// answers a query.
    pub async fn check(&self) -> Result<(), NotReady> {
        scimbus_bus::ready(&self.client, &self.js, &self.streams).await?;
        self.pool.ping().await?;
        Ok(())
    }
}
