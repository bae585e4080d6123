//! scimbus-store: the only writer of identity data (docs/design.md §1).
//!
//! Consumes commands from the partitions of `SCIMBUS_CMD` it holds, applies
//! each batch (what all of them have waiting) in one Postgres transaction
//! together with its change rows (the outbox) and idempotency records,
//! answers the waiting ingress, then publishes the changes to
//! `SCIMBUS_CHANGES`. It serves no SCIM and reads nothing but its own rows.

mod apply;
mod audit;
mod batch;
mod config;
mod dead_letter;
mod hr_due;
mod message;
mod metrics;
mod outbox;
mod partition;
mod passwords;
mod prune;
mod replicas;

use std::sync::Arc;

use async_nats::jetstream;
use scimbus_bus::StreamSettings;
use scimbus_db::changes::ChangeRow;
use scimbus_events::Subjects;
use scimbus_runtime::process::StartFailure;
use scimbus_runtime::{Connected, Listener, NotReady, Probe, Server, Service, Workers};
use scimbus_scim::Registry;
use sqlx::postgres::PgConnectOptions;
use tokio::sync::mpsc;

pub use apply::{DEFAULT_HR_OWNS, Owners, outcome_of, pb_error};
pub use batch::{Committed, apply_batch};
pub use config::{Settings, StoreConfig};
pub use outbox::{OutboxError, sweep};

/// Why the store could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Base(#[from] scimbus_runtime::StartError),
    #[error("publishing changes left from before: {0}")]
    Outbox(#[from] OutboxError),
}

impl StartFailure for StartError {
    fn is_configuration(&self) -> bool {
        match self {
            StartError::Base(e) => e.is_configuration(),
            StartError::Outbox(_) => false,
        }
    }
}

/// What the partitions' worker and the store's other tasks share.
struct Shared {
    registry: Arc<Registry>,
    /// What HR owns of each tenant's users.
    owners: Owners,
    client: async_nats::Client,
    js: jetstream::Context,
    subjects: Subjects,
    pg: PgConnectOptions,
    outbox: mpsc::Sender<Vec<ChangeRow>>,
    settings: Settings,
    metrics: metrics::StoreMetrics,
    /// This replica's share of the partitions.
    balance: Arc<replicas::Balance>,
}

/// A running store.
#[derive(Debug)]
pub struct Store {
    workers: Workers,
    /// What `/readyz` asks: NATS, the streams the store consumes from and
    /// publishes to, Postgres.
    probe: Arc<Probe>,
    metrics: scimbus_runtime::metrics::Registry,
    /// Flushed once the workers stopped: their last acknowledgements are
    /// plain publishes, which a process exiting must not leave unsent.
    nats: async_nats::Client,
}

impl Store {
    /// Binds `SCIMBUS_STORE_ADDR`, runs the prologue (NATS, streams,
    /// Postgres, migrations, tenants), publishes changes a previous run
    /// left unpublished, and starts working the partitions.
    pub async fn build(
        cfg: StoreConfig,
        registry: Arc<Registry>,
    ) -> Result<Server<Store>, StartError> {
        let listener = Listener::bind(&cfg.service).await?;
        let store = Store::start(cfg, registry).await?;
        Ok(listener.serve(Arc::new(store), axum::Router::new()))
    }

    async fn start(cfg: StoreConfig, registry: Arc<Registry>) -> Result<Store, StartError> {
        let Connected {
            client,
            js,
            subjects,
            pool,
            pg,
        } = Connected::connect("scimbus-store", &cfg.service, 1, &cfg.tenants).await?;
        // That pool only migrated; the store's own commits differently.
        drop(pool);
        // The outbox reads changes and removes their unpublished marks; a
        // mark lost in a crash is a republish, not worth an fsync a batch.
        let pool = scimbus_db::connect_async_commit(&cfg.service.database_url, 4)
            .await
            .map_err(scimbus_runtime::StartError::from)?;
        let metrics = scimbus_runtime::metrics::Registry::new();
        scimbus_runtime::metrics::pool::PoolMetrics::new(&metrics).watch("primary", &pool);
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

        let workers = Workers::new();
        let (tx, rx) = mpsc::channel(1024);
        workers.spawn(outbox::run_publisher(
            rx,
            js.clone(),
            subjects.clone(),
            pool.clone(),
        ));
        let probe = Arc::new(Probe::new(
            client.clone(),
            js.clone(),
            vec![
                subjects.command_stream(),
                subjects.change_stream(),
                subjects.dlq_stream(),
            ],
            scimbus_db::ReadPool::new(pool.clone()),
        ));
        workers.spawn(outbox::run_sweeper(
            outbox::Sweeper {
                js: js.clone(),
                subjects: subjects.clone(),
                pool: pool.clone(),
                resource_types,
                interval: cfg.settings.sweep_interval,
                max_age: streams.change_max_age,
            },
            workers.shutdown(),
        ));
        workers.spawn(
            hr_due::DueEvents {
                js: js.clone(),
                subjects: subjects.clone(),
                pool: pool.clone(),
                partitions: cfg.settings.partitions,
                interval: cfg.settings.hr_interval,
                republish_after: cfg.settings.hr_republish,
            }
            .run(workers.shutdown()),
        );
        workers.spawn(
            prune::Pruner {
                pool: pool.clone(),
                retention: cfg.settings.audit_retention,
                interval: cfg.settings.audit_prune_interval,
            }
            .run(workers.shutdown()),
        );
        let nats = client.clone();
        // This replica's sessions say which replica they are
        // (`pg_stat_activity.application_name`): who holds which
        // partition is one join with `pg_locks` away.
        let replica = format!("{:08x}", uuid::Uuid::now_v7().as_u64_pair().1 as u32);
        let pg = pg.application_name(&format!("scimbus-store {replica}"));
        tracing::info!(replica, "store replica started");
        let balance = Arc::new(replicas::Balance::new(cfg.settings.partitions));
        workers.spawn(replicas::run(
            pg.clone(),
            balance.clone(),
            cfg.settings.lease_retry,
            workers.shutdown(),
        ));
        let shared = Arc::new(Shared {
            registry,
            owners: Owners::new(cfg.hr_owns.clone()),
            client,
            js,
            subjects,
            pg,
            outbox: tx,
            settings: cfg.settings.clone(),
            metrics: metrics::StoreMetrics::new(&metrics),
            balance,
        });
        workers.spawn(partition::run(shared, workers.shutdown()));
        Ok(Store {
            workers,
            probe,
            metrics,
            nats,
        })
    }
}

impl Service for Store {
    async fn ready(&self) -> Result<(), NotReady> {
        self.probe.check().await
    }

    /// Stops taking commands, finishes the batches in hand and publishes
    /// their changes.
    async fn stop(&self) {
        self.workers.stop().await;
        if let Err(e) = self.nats.flush().await {
            tracing::warn!(error = %e, "flushing the last acknowledgements to NATS failed");
        }
    }

    fn metrics(&self) -> &scimbus_runtime::metrics::Registry {
        &self.metrics
    }
}
