//! scimbus-store: the only writer of identity data (docs/design.md §1).
//!
//! Consumes commands from `SCIMBUS_CMD` partition by partition, applies each
//! batch in one Postgres transaction together with its change rows (the
//! outbox) and idempotency records, answers the waiting ingress, then
//! publishes the changes to `SCIMBUS_CHANGES`. It serves no SCIM and reads
//! nothing but its own rows.

mod apply;
mod batch;
mod config;
mod dead_letter;
mod outbox;
mod partition;

use std::sync::Arc;

use async_nats::jetstream;
use scimbus_bus::{BusError, StreamSettings};
use scimbus_db::changes::ChangeRow;
use scimbus_events::Subjects;
use scimbus_scim::Registry;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

pub use apply::{outcome_of, pb_error};
pub use batch::{Committed, apply_batch};
pub use config::{ConfigError, Settings, StoreConfig};
pub use outbox::{OutboxError, sweep};

/// Why the store could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Db(#[from] scimbus_db::DbError),
    #[error("SCIMBUS_DATABASE_URL: {0}")]
    Url(sqlx::Error),
    #[error("Postgres: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("publishing changes left from before: {0}")]
    Outbox(#[from] OutboxError),
    #[error("SCIMBUS_BUS_PREFIX: {0}")]
    Prefix(#[from] scimbus_events::TenantError),
}

/// What the partition workers share.
struct Shared {
    registry: Arc<Registry>,
    client: async_nats::Client,
    js: jetstream::Context,
    subjects: Subjects,
    pg: PgConnectOptions,
    outbox: mpsc::Sender<Vec<ChangeRow>>,
    settings: Settings,
}

/// A running store.
#[derive(Debug)]
pub struct Store {
    shutdown: CancellationToken,
    tasks: TaskTracker,
    /// What `/readyz` asks.
    probe: Probe,
}

/// What the store's readiness depends on.
#[derive(Debug, Clone)]
struct Probe {
    client: async_nats::Client,
    js: jetstream::Context,
    /// The streams the store consumes from and publishes to.
    streams: Vec<String>,
    /// A connection that died in a Postgres restart is not unreadiness.
    pool: scimbus_db::ReadPool,
}

impl Store {
    /// Connects (refusing a NATS server older than 2.10), migrates, makes
    /// sure the streams and tenants exist, publishes changes a previous run
    /// left unpublished, and starts working the partitions.
    pub async fn start(cfg: StoreConfig, registry: Arc<Registry>) -> Result<Store, StartError> {
        let (client, js) = scimbus_bus::connect(&cfg.nats_url, "scimbus-store").await?;
        let subjects = Subjects::new(&cfg.bus_prefix)?;
        scimbus_bus::ensure_streams(&js, &subjects, &StreamSettings::default()).await?;
        let pg: PgConnectOptions = cfg.database_url.parse().map_err(StartError::Url)?;
        let pool = scimbus_db::connect(&cfg.database_url, 4).await?;
        scimbus_db::MIGRATOR
            .run(&pool)
            .await
            .map_err(scimbus_db::DbError::from)?;
        scimbus_db::tenants::ensure(&pool, &cfg.tenants).await?;
        drop(pool);
        // The outbox reads changes and removes their unpublished marks; a
        // mark lost in a crash is a republish, not worth an fsync a batch.
        let pool = scimbus_db::connect_async_commit(&cfg.database_url, 4).await?;
        let resource_types: Vec<String> = registry
            .resource_types()
            .iter()
            .map(|rt| rt.name.clone())
            .collect();
        let streams = StreamSettings::default();
        let swept = outbox::sweep(
            &js,
            &subjects,
            &pool,
            &resource_types,
            std::time::Duration::ZERO,
            streams.change_max_age,
        )
        .await;
        match swept {
            Ok(0) => {}
            Ok(left) => tracing::info!(
                changes = left,
                "published changes left unpublished by an earlier run"
            ),
            // A message that is not ours at the end of a change subject must
            // not keep the store from starting (the next change on that
            // subject, which only a running store can publish, supersedes
            // it): reported, and the periodic sweep tries again.
            Err(e @ outbox::OutboxError::Foreign { .. }) => {
                tracing::error!(error = %e, "sweep at start");
            }
            Err(e) => return Err(e.into()),
        }

        let shutdown = CancellationToken::new();
        let tasks = TaskTracker::new();
        let (tx, rx) = mpsc::channel(1024);
        tasks.spawn(outbox::run_publisher(
            rx,
            js.clone(),
            subjects.clone(),
            pool.clone(),
        ));
        let probe = Probe {
            client: client.clone(),
            js: js.clone(),
            streams: vec![
                subjects.command_stream(),
                subjects.change_stream(),
                subjects.dlq_stream(),
            ],
            pool: scimbus_db::ReadPool::new(pool.clone()),
        };
        tasks.spawn(outbox::run_sweeper(
            outbox::Sweeper {
                js: js.clone(),
                subjects: subjects.clone(),
                pool,
                resource_types,
                interval: cfg.settings.sweep_interval,
                max_age: streams.change_max_age,
            },
            shutdown.clone(),
        ));
        let shared = Arc::new(Shared {
            registry,
            client,
            js,
            subjects,
            pg,
            outbox: tx,
            settings: cfg.settings.clone(),
        });
        for p in 0..cfg.settings.partitions {
            tasks.spawn(partition::run(shared.clone(), p, shutdown.clone()));
        }
        tasks.close();
        Ok(Store {
            shutdown,
            tasks,
            probe,
        })
    }

    /// Whether the store can do its work (for `/readyz`); `Err` says what
    /// it lacks.
    pub async fn ready(&self) -> Result<(), String> {
        let p = &self.probe;
        scimbus_bus::ready(&p.client, &p.js, &p.streams)
            .await
            .map_err(|e| format!("NATS: {e}"))?;
        p.pool
            .read(|pool| async move { sqlx::query("select 1").execute(&pool).await })
            .await
            .map(drop)
            .map_err(|e| format!("Postgres: {e}"))
    }

    /// `/livez` and `/readyz` of this store.
    pub fn health_routes(self: &Arc<Self>) -> axum::Router {
        let store = self.clone();
        scimbus_runtime::health::routes(Arc::new(move || {
            let store = store.clone();
            Box::pin(async move { store.ready().await })
        }))
    }

    /// Stops taking commands, finishes the batches in hand and publishes
    /// their changes.
    pub async fn stop(&self) {
        self.shutdown.cancel();
        self.tasks.wait().await;
    }
}
