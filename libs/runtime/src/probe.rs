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
    #[error("Postgres did not answer within {0:?}")]
    PostgresSlow(std::time::Duration),
    /// The database lacks migrations this binary has (restored from an
    /// older backup, or migrated down by hand): writes would fail.
    #[error("Postgres: the database is at migration {found}, this binary needs {wanted}")]
    Migrations { found: i64, wanted: i64 },
}

/// How long a readiness check waits for Postgres: under Kubernetes'
/// default probe timeout, so a Postgres that is away answers "not ready"
/// rather than no answer.
const POSTGRES_WITHIN: std::time::Duration = std::time::Duration::from_secs(3);

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
    /// Probes `client`, the `streams` the service uses, and Postgres
    /// through `pool` (the ingress's own read pool; the others' pool,
    /// wrapped).
    pub fn new(
        client: async_nats::Client,
        js: jetstream::Context,
        streams: Vec<String>,
        pool: ReadPool,
    ) -> Probe {
        Probe {
            client,
            js,
            streams,
            pool,
        }
    }

    /// `Ok` when NATS is connected, every stream answers, Postgres answers
    /// a query (within 3 s) and has every migration this binary knows.
    pub async fn check(&self) -> Result<(), NotReady> {
        scimbus_bus::ready(&self.client, &self.js, &self.streams).await?;
        let wanted = scimbus_db::latest_migration();
        let found = tokio::time::timeout(
            POSTGRES_WITHIN,
            self.pool.read(|mut c| async move {
                let r = scimbus_db::applied_migration(&mut c).await;
                (c, r)
            }),
        )
        .await
        .map_err(|_| NotReady::PostgresSlow(POSTGRES_WITHIN))??;
        if found < wanted {
            return Err(NotReady::Migrations { found, wanted });
        }
        Ok(())
    }
}
