//! scimbus-ingress: the only public HTTP surface (docs/design.md §1, §6).
//!
//! A SCIM 2.0 service provider: every write becomes a command on JetStream
//! and the answer waits for the store's result; reads come straight from
//! Postgres through a read-only pool. It never writes identity data itself.

mod accept;
mod admin;
mod auth;
mod body;
mod config;
mod dispatch;
mod error;
mod scim;
mod state;

use std::sync::Arc;

use axum::Router;
use scimbus_bus::{BusError, StreamSettings};
use scimbus_events::Subjects;
use scimbus_scim::discovery::BulkLimits;
use scimbus_scim::{Capabilities, Registry};
use tokio::net::TcpListener;

pub use auth::Client;
pub use config::{IngressConfig, Limits};
pub use error::{ApiError, SCIM_JSON};
pub use state::AppState;

/// Why the ingress could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Db(#[from] scimbus_db::DbError),
    #[error("Postgres: {0}")]
    Sql(#[from] sqlx::Error),
    #[error("subscribing to results: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
    #[error("SCIMBUS_BUS_PREFIX: {0}")]
    Prefix(#[from] scimbus_events::TenantError),
    /// The setting's reader checks it is at most 100 000.
    #[error("SCIMBUS_BULK_MAX_OPERATIONS {0} is out of range")]
    Limit(usize),
    #[error("SCIMBUS_INGRESS_ADDR {addr}: {source}")]
    Bind {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// A built ingress: its state and bound listener.
#[derive(Debug)]
pub struct Ingress {
    pub state: AppState,
    listener: TcpListener,
}

impl Ingress {
    /// Connects to NATS (refusing servers older than 2.10) and Postgres,
    /// makes sure the streams and tenants exist, and binds.
    pub async fn build(cfg: IngressConfig, registry: Arc<Registry>) -> Result<Ingress, StartError> {
        let (client, js) = scimbus_bus::connect(&cfg.nats_url, "scimbus-ingress").await?;
        let subjects = Subjects::new(&cfg.bus_prefix)?;
        scimbus_bus::ensure_streams(&js, &subjects, &StreamSettings::default()).await?;
        let write = scimbus_db::connect(&cfg.database_url, 2).await?;
        scimbus_db::MIGRATOR
            .run(&write)
            .await
            .map_err(scimbus_db::DbError::from)?;
        let names: Vec<String> = cfg.tenants.iter().map(|t| t.name.clone()).collect();
        scimbus_db::tenants::ensure(&write, &names).await?;
        let read = scimbus_db::ReadPool::new(
            scimbus_db::connect_read_only(&cfg.read_database_url, 16).await?,
        );
        let dispatcher = dispatch::Dispatcher::start(
            client,
            js,
            subjects,
            cfg.partitions,
            cfg.write_timeout,
            read.clone(),
        )
        .await?;
        let tokens = Arc::new(auth::Tokens::new(
            &cfg.tenants,
            scimbus_db::ReadPool::new(write.clone()),
        ));
        let listener = TcpListener::bind(cfg.addr)
            .await
            .map_err(|source| StartError::Bind {
                addr: cfg.addr,
                source,
            })?;
        let caps = Capabilities {
            bulk: Some(BulkLimits {
                max_operations: u32::try_from(cfg.limits.bulk_max_operations)
                    .map_err(|_| StartError::Limit(cfg.limits.bulk_max_operations))?,
                max_payload_size: cfg.limits.max_payload as u64,
            }),
            ..Capabilities::default()
        };
        let state = AppState::new(state::Shared {
            registry,
            read,
            dispatcher,
            tokens,
            public_url: cfg.public_url.into(),
            limits: Arc::new(cfg.limits),
            caps: Arc::new(caps),
            admin_tokens: cfg.admin_token_hashes.clone(),
            admin_db: write,
            targets: cfg.targets.clone(),
        });
        Ok(Ingress { state, listener })
    }

    /// The address it listens on (port 0 in tests becomes a real port).
    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, then drains.
    pub async fn run_until<F>(self, shutdown: F) -> std::io::Result<()>
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        axum::serve(self.listener, app(self.state))
            .with_graceful_shutdown(shutdown)
            .await
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let ready_state = state.clone();
    let ready: scimbus_runtime::health::ReadyCheck = Arc::new(move || {
        let s = ready_state.clone();
        Box::pin(async move {
            s.dispatcher
                .ready()
                .await
                .map_err(|e| format!("NATS: {e}"))?;
            s.read
                .read(|pool| async move { sqlx::query("select 1").execute(&pool).await })
                .await
                .map(drop)
                .map_err(|e| format!("Postgres: {e}"))
        })
    });
    scim::routes(state).merge(scimbus_runtime::health::routes(ready))
}
