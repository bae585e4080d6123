//! Postgres pool usage, sampled at each read of the registry.

use sqlx::PgPool;

use super::{Gauge, Registry};

/// `scimbus_db_pool_connections{pool,state}` (idle, busy) and
/// `scimbus_db_pool_max_connections{pool}`.
#[derive(Debug, Clone)]
pub struct PoolMetrics {
    registry: Registry,
    connections: Gauge,
    max: Gauge,
}

impl PoolMetrics {
    /// Registers the families in `registry`.
    pub fn new(registry: &Registry) -> PoolMetrics {
        PoolMetrics {
            registry: registry.clone(),
            connections: registry.gauge(
                "scimbus_db_pool_connections",
                "Postgres connections of the pool, by state (idle, busy).",
                &["pool", "state"],
            ),
            max: registry.gauge(
                "scimbus_db_pool_max_connections",
                "The most connections the pool may open.",
                &["pool"],
            ),
        }
    }

    /// Samples `pool`, named `name` (`primary`; the outbound's `links`), at
    /// every read.
    pub fn watch(&self, name: &'static str, pool: &PgPool) {
        let pool = pool.clone();
        self.on_scrape(name, move || {
            let max = pool.options().get_max_connections();
            (pool.size(), pool.num_idle(), max)
        });
    }

    /// Samples a [`ReadPool`](scimbus_db::ReadPool) (the ingress's `read`:
    /// the connections it lends are its own, not its sqlx pool's).
    pub fn watch_read(&self, name: &'static str, pool: &scimbus_db::ReadPool) {
        let pool = pool.clone();
        self.on_scrape(name, move || (pool.size(), pool.num_idle(), pool.max()));
    }

    /// Sets the families from `sample` (open connections, idle ones, the
    /// most) at every read.
    fn on_scrape(
        &self,
        name: &'static str,
        sample: impl Fn() -> (u32, usize, u32) + Send + Sync + 'static,
    ) {
        let (connections, max) = (self.connections.clone(), self.max.clone());
        self.registry.on_scrape(move || {
            let (size, idle, most) = sample();
            let (size, idle) = (f64::from(size), idle as f64);
            connections.set(&[name, "idle"], idle);
            connections.set(&[name, "busy"], (size - idle).max(0.0));
            max.set(&[name], f64::from(most));
        });
    }
}
