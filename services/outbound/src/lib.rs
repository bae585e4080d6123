//! scimbus-outbound: pushes committed changes to downstream SCIM
//! applications (docs/design.md §1, invariants 3, 4, 6, 7), and notifies
//! the applications that subscribe to them ([`notify`]).
//!
//! Each configured target gets a worker ([`worker`], [`follow`]) that reads
//! its tenant's changes in order and pushes them ([`push`]) through the
//! target's client ([`client`]), rate-limited and behind a circuit breaker
//! ([`throttle`]). Several replicas share the targets: a Postgres advisory
//! lock makes sure one worker drives a target at a time.
//!
//! A push is one step of a resource's life on the target ([`lifecycle`]:
//! absent, in scope, out of scope; enter, return, update, leave, remove),
//! carried out with the requests of [`requests`]. Memberships follow the
//! user across the scope's edge ([`memberships`]).
//!
//! Links (our id ↔ the target's, with the version pushed) are written behind
//! the pushes, every 200 ms. A worker that takes a target over after a crash
//! (`target_progress.clean_stop` false) cannot trust them to be as new as
//! what the target got, so it answers every change up to the stream's end at
//! takeover with the resource's current state: the target never gets an
//! older version after a newer one.

mod adopt;
mod answer;
mod client;
mod config;
mod deprovision;
mod follow;
mod item;
pub mod lifecycle;
mod link_cache;
mod linking;
mod listing;
mod member_locks;
mod memberships;
mod metrics;
mod notify;
mod outgoing;
mod parking;
mod password;
mod push;
mod reconcile;
mod redact;
mod remote_index;
pub mod requests;
mod retry;
mod samples;
mod shared;
mod sync;
mod target;
mod throttle;
mod worker;

use std::sync::Arc;

use scimbus_runtime::process::StartFailure;
use scimbus_runtime::{Connected, Listener, NotReady, Probe, Server, Service, Workers};
use scimbus_scim::Registry;
use sqlx::PgPool;

use crate::link_cache::LinkCache;

pub use client::{ClientError, Exchange, PushError, TargetClient};
pub use config::OutboundConfig;
pub use reconcile::{ReconcileReport, reconcile};
pub use requests::{changed_ops, outgoing};
pub use sync::{SyncReport, full_sync};
pub use target::{Pushed, Target};
pub use throttle::{Circuit, Throttle};

/// Why the outbound service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Base(#[from] scimbus_runtime::StartError),
    /// A target that cannot work as configured (the message names it).
    #[error("SCIMBUS_CONFIG: tenant \"{tenant}\", target \"{target}\": {problem}")]
    Target {
        tenant: String,
        target: String,
        #[source]
        problem: TargetProblem,
    },
}

impl StartFailure for StartError {
    fn is_configuration(&self) -> bool {
        match self {
            StartError::Base(e) => e.is_configuration(),
            StartError::Target { .. } => true,
        }
    }
}

/// What is wrong with a target's configuration.
#[derive(Debug, thiserror::Error)]
pub enum TargetProblem {
    #[error(transparent)]
    Client(#[from] ClientError),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    /// `mapping` or `group_mapping` does not compile.
    #[error("{of}: {source}")]
    Mapping {
        of: &'static str,
        #[source]
        source: scimbus_mapping::MappingError,
    },
    #[error("send_passwords: there are no [passwords] keys to open them with")]
    NoPasswordKeys,
    #[error("group_mapping cannot set members: they are sent translated to the target's ids")]
    MembersMapped,
}

/// A scoping filter (`filter`) that cannot scope a target.
#[derive(Debug, thiserror::Error)]
pub enum ScopeError {
    #[error("filter: {}", .0.detail)]
    Parse(#[source] scimbus_scim::ScimError),
    #[error("filter: \"{0}\" names attributes neither Users nor Groups have")]
    Unfit(String),
}

/// A running outbound service.
#[derive(Debug)]
pub struct Outbound {
    pub pool: PgPool,
    pub targets: Vec<Arc<Target>>,
    /// What `/readyz` asks: NATS, the change and dead-letter streams,
    /// Postgres.
    probe: Probe,
    workers: Workers,
    metrics: scimbus_runtime::metrics::Registry,
}

impl Outbound {
    /// Binds `SCIMBUS_OUTBOUND_ADDR`, runs the prologue (NATS, streams,
    /// Postgres, migrations), checks every target (secrets, filter,
    /// mappings), and starts their workers.
    pub async fn build(
        cfg: OutboundConfig,
        registry: Arc<Registry>,
    ) -> Result<Server<Outbound>, StartError> {
        let listener = Listener::bind(&cfg.service).await?;
        let outbound = Outbound::start(&cfg, registry).await?;
        tracing::info!(targets = outbound.targets.len(), "targets checked");
        Ok(listener.serve(Arc::new(outbound), axum::Router::new()))
    }

    async fn start(cfg: &OutboundConfig, registry: Arc<Registry>) -> Result<Outbound, StartError> {
        let Connected {
            client,
            js,
            subjects,
            pool,
            pg,
        } = Connected::connect("scimbus-outbound", &cfg.service, 8, &[]).await?;
        let links_pool = scimbus_db::connect_async_commit(&cfg.service.database_url, 8)
            .await
            .map_err(scimbus_runtime::StartError::from)?;
        let metrics = scimbus_runtime::metrics::Registry::new();
        let pools = scimbus_runtime::metrics::pool::PoolMetrics::new(&metrics);
        pools.watch("primary", &pool);
        pools.watch("links", &links_pool);
        let outbound_metrics = metrics::OutboundMetrics::new(&metrics);
        let mut targets = Vec::with_capacity(cfg.targets.len());
        for (tenant, t) in &cfg.targets {
            let bad = |problem: TargetProblem| StartError::Target {
                tenant: tenant.clone(),
                target: t.name.clone(),
                problem,
            };
            let client =
                TargetClient::new(&t.url, &t.auth, t.timeout()).map_err(|e| bad(e.into()))?;
            let scope = t
                .filter
                .as_deref()
                .map(|f| scope_filter(&registry, f))
                .transpose()
                .map_err(|e| bad(e.into()))?;
            let compile = |m: Option<&scimbus_runtime::MappingConfig>, of: &'static str| {
                m.map(|m| scimbus_mapping::Mapping::compile(m.keep.as_deref(), &m.drop, &m.set))
                    .transpose()
                    .map_err(|source| bad(TargetProblem::Mapping { of, source }))
            };
            let mapping = compile(t.mapping.as_ref(), "mapping")?;
            let group_mapping = compile(t.group_mapping.as_ref(), "group_mapping")?;
            if group_mapping.as_ref().is_some_and(|m| {
                m.set_paths()
                    .any(|p| p.top().eq_ignore_ascii_case("members"))
            }) {
                return Err(bad(TargetProblem::MembersMapped));
            }
            let passwords = match (t.send_passwords, &cfg.passwords) {
                (false, _) => None,
                (true, Some(keys)) => Some(keys.clone()),
                (true, None) => return Err(bad(TargetProblem::NoPasswordKeys)),
            };
            targets.push(Arc::new(Target {
                passwords,
                mapping,
                group_mapping,
                index: std::sync::RwLock::new(None),
                parked: std::sync::Mutex::new(None),
                link_cache: LinkCache::default(),
                member_locks: member_locks::MemberLocks::default(),
                tenant: tenant.clone(),
                cfg: t.clone(),
                client,
                scope,
                registry: registry.clone(),
                patch_supported: std::sync::OnceLock::new(),
                pool: pool.clone(),
                links_pool: links_pool.clone(),
                throttle: Throttle::new(t.rate_per_sec, t.circuit.clone()),
                metrics: outbound_metrics.clone(),
                driving: std::sync::atomic::AtomicBool::new(false),
            }));
        }
        target::watch(&metrics, targets.clone());
        let probe = Probe::new(
            client,
            js.clone(),
            vec![
                subjects.change_stream(),
                subjects.dlq_stream(),
                subjects.events_stream(),
            ],
            scimbus_db::ReadPool::new(pool.clone()),
        );
        let workers = Workers::new();
        let notify = notify::NotifyShared {
            js: js.clone(),
            nats_url: cfg.service.nats_url.clone(),
            nats_auth: cfg.service.nats_auth.clone(),
            subjects: subjects.clone(),
            pg: pg.clone(),
            pool: pool.clone(),
            registry: registry.clone(),
            configured: Arc::new(cfg.subscriptions.clone()),
            key: cfg.signing_key.clone(),
            public_url: cfg.public_url.clone(),
            backoff: cfg.notify_backoff,
            lease_retry: cfg.lease_retry,
            reload: cfg.notify_reload,
            rendered: Arc::default(),
            deliveries: metrics.counter(
                "scimbus_notify_events_total",
                "Changes a subscription's driver finished, by outcome (delivered, skipped: not an event it asked for, parked, gone: the receiver answered 410).",
                &["tenant", "subscription", "outcome"],
            ),
        };
        workers.spawn(notify::run(notify, workers.shutdown()));
        workers.spawn(samples::run(pool.clone(), workers.shutdown()));
        let shared = worker::Shared {
            js,
            subjects,
            pg,
            lease_retry: cfg.lease_retry,
            backoff: cfg.backoff,
        };
        for t in &targets {
            workers.spawn(worker::run(shared.clone(), t.clone(), workers.shutdown()));
        }
        Ok(Outbound {
            pool,
            targets,
            probe,
            workers,
            metrics,
        })
    }
}

impl Service for Outbound {
    async fn ready(&self) -> Result<(), NotReady> {
        self.probe.check().await
    }

    /// Stops the workers (a batch in hand is finished or, if it was
    /// waiting to retry, handled again by the next worker).
    async fn stop(&self) {
        self.workers.stop().await;
    }

    fn metrics(&self) -> &scimbus_runtime::metrics::Registry {
        &self.metrics
    }
}

/// A scoping filter, checked: it must parse and name attributes of Users or
/// Groups.
fn scope_filter(
    registry: &Registry,
    text: &str,
) -> Result<scimbus_scim::filter::Filter, ScopeError> {
    let f = scimbus_scim::filter::parse(text).map_err(ScopeError::Parse)?;
    let fits = |name: &str| {
        registry
            .resource_type(name)
            .is_some_and(|rt| scimbus_scim::filter::Matcher::new(registry, rt, &f).is_ok())
    };
    if !fits("User") && !fits("Group") {
        return Err(ScopeError::Unfit(text.to_string()));
    }
    Ok(f)
}
