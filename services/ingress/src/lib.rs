//! scimbus-ingress: the only public HTTP surface (docs/design.md §1, §6).
//!
//! A SCIM 2.0 service provider: every write becomes a command on JetStream
//! and the answer waits for the store's result; reads come straight from
//! Postgres through a read-only pool. It never writes identity data itself.

mod accept;
mod admin;
mod audit;
pub mod auth;
mod body;
mod config;
mod console;
mod dispatch;
mod error;
mod events;
mod hr;
mod jwt;
mod scim;
mod state;
mod tokens;

use std::sync::Arc;

use axum::Router;
use scimbus_runtime::process::StartFailure;
use scimbus_runtime::{Connected, Listener, NotReady, Probe, Server, Service};
use scimbus_scim::discovery::BulkLimits;
use scimbus_scim::{Capabilities, Registry};

pub use config::{IngressConfig, Limits};
pub use error::{ApiError, SCIM_JSON};
pub use state::AppState;
pub use tokens::Client;

/// Why the ingress could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Base(#[from] scimbus_runtime::StartError),
    #[error("subscribing to results: {0}")]
    Subscribe(#[from] async_nats::SubscribeError),
    /// The setting's reader checks it is at most 100 000.
    #[error("SCIMBUS_BULK_MAX_OPERATIONS {0} is out of range")]
    Limit(usize),
    #[error("SCIMBUS_CONFIG: {0}")]
    Jwt(String),
}

impl StartFailure for StartError {
    fn is_configuration(&self) -> bool {
        match self {
            StartError::Base(e) => e.is_configuration(),
            StartError::Limit(_) | StartError::Jwt(_) => true,
            StartError::Subscribe(_) => false,
        }
    }
}

/// A running ingress: what its handlers share, and what `/readyz` asks.
#[derive(Debug)]
pub struct Ingress {
    pub state: AppState,
    /// NATS, the command stream, the read pool.
    probe: Probe,
    metrics: scimbus_runtime::metrics::Registry,
    /// Stops the token listener and the writer of token uses.
    stop: tokio_util::sync::CancellationToken,
}

impl Ingress {
    /// Binds `SCIMBUS_INGRESS_ADDR`, runs the prologue (NATS, streams,
    /// Postgres, migrations, tenants), opens the read pool and starts
    /// routing the store's results.
    pub async fn build(
        cfg: IngressConfig,
        registry: Arc<Registry>,
    ) -> Result<Server<Ingress>, StartError> {
        let listener = Listener::bind(&cfg.service).await?;
        let names: Vec<String> = cfg.tenants.iter().map(|t| t.name.clone()).collect();
        // The primary serves the operator API and the token lookups a
        // cache miss makes (and lends one connection to the token listener).
        let Connected {
            client,
            js,
            subjects,
            pool: write,
            ..
        } = Connected::connect("scimbus-ingress", &cfg.service, 4, &names).await?;
        let read_pool = scimbus_db::connect_read_only(
            &cfg.read_database_url,
            scimbus_db::read::INGRESS_READ_CONNECTIONS,
        )
        .await
        .map_err(scimbus_runtime::StartError::from)?;
        let metrics = scimbus_runtime::metrics::Registry::new();
        let pools = scimbus_runtime::metrics::pool::PoolMetrics::new(&metrics);
        pools.watch("primary", &write);
        let read = scimbus_db::ReadPool::new(read_pool);
        pools.watch_read("read", &read);
        let probe = Probe::new(
            client.clone(),
            js.clone(),
            vec![subjects.command_stream()],
            read.clone(),
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
        let tokens = Arc::new(tokens::Tokens::new(&cfg.tenants, write.clone()));
        let stop = tokio_util::sync::CancellationToken::new();
        tokens.start(stop.clone());
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
            trusted_proxies: cfg.trusted_proxies.clone(),
            failures: auth::failures::Failures::default(),
            rates: auth::rate::Rates::new(&cfg.tenants, cfg.replicas),
            jwt: jwt::Jwt::new(&cfg.tenants).map_err(StartError::Jwt)?,
            public_url: cfg.public_url.into(),
            limits: Arc::new(cfg.limits),
            caps: Arc::new(caps),
            admin_tokens: cfg.admin_token_hashes.clone(),
            admin_read_tokens: cfg.admin_read_token_hashes.clone(),
            admin_db: write,
            targets: cfg.targets.clone(),
            subscriptions: cfg.subscriptions.clone(),
            signing_key: cfg.signing_key.clone(),
            poll_wait: cfg.poll_wait,
            hr_sources: state::Sources(cfg.hr_sources.clone()),
            passwords: state::Passwords::new(cfg.passwords.clone(), &cfg.targets),
        });
        let routes = scim::routes(state.clone());
        Ok(listener.serve(
            Arc::new(Ingress {
                state,
                probe,
                metrics,
                stop,
            }),
            routes,
        ))
    }
}

impl Service for Ingress {
    async fn ready(&self) -> Result<(), NotReady> {
        self.probe.check().await
    }

    /// The HTTP drain has answered the requests in flight (each waited for
    /// its command's result); what is left is when tokens were last used.
    async fn stop(&self) {
        self.stop.cancel();
        self.state.tokens.flush_uses().await;
    }

    fn metrics(&self) -> &scimbus_runtime::metrics::Registry {
        &self.metrics
    }
}

/// The whole HTTP surface of `ingress`, as the skeleton serves it (for
/// requests sent in-process).
pub fn app(ingress: &Arc<Ingress>) -> Router {
    scim::routes(ingress.state.clone()).merge(scimbus_runtime::health::routes(ingress.clone()))
}
