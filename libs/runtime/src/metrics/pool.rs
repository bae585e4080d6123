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

    /// Samples `pool`, named `name` (`primary`; the ingress's `read`, the
    /// outbound's `links`), at every read.
    pub fn watch(&self, name: &'static str, pool: &PgPool) {
        let pool = pool.clone();
        let (connections, max) = (self.connections.clone(), self.max.clone());
        self.registry.on_scrape(move || {
            let size = f64::from(pool.size());
            let idle = pool.num_idle() as f64;
            connections.set(&[name, "idle"], idle);
            connections.set(&[name, "busy"], (size - idle).max(0.0));
            max.set(&[name], f64::from(pool.options().get_max_connections()));
        });
    }

    /// Samples a [`ReadPool`](scimbus_db::ReadPool) (the connections it
    /// lends are its own, not its sqlx pool's).
    pub fn watch_read(&self, name: &'static str, pool: &scimbus_db::ReadPool) {
        let pool = pool.clone();
        let (connections, max) = (self.connections.clone(), self.max.clone());
        self.registry.on_scrape(move || {
            let size = f64::from(pool.size());
            let idle = pool.num_idle() as f64;
            connections.set(&[name, "idle"], idle);
            connections.set(&[name, "busy"], (size - idle).max(0.0));
            max.set(&[name], f64::from(pool.max()));
        });
    }
}
