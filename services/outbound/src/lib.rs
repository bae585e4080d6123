//! scimbus-outbound: pushes committed changes to downstream SCIM
//! applications (DESIGN.md §1).
//!
//! What runs today is the service the per-target workers (issue 4) will live
//! in: it connects to NATS (refusing a server older than 2.10) and Postgres,
//! makes sure the streams exist, and answers `/livez` and `/readyz`. It
//! pushes nothing yet.

mod config;

use scimbus_bus::{BusError, StreamSettings};
use scimbus_events::Subjects;
use sqlx::PgPool;

pub use config::{ConfigError, OutboundConfig};

/// Why the outbound service could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Db(#[from] scimbus_db::DbError),
    #[error("SCIMBUS_BUS_PREFIX: {0}")]
    Prefix(#[from] scimbus_events::TenantError),
}

/// A running outbound service.
#[derive(Debug)]
pub struct Outbound {
    pub client: async_nats::Client,
    pub pool: PgPool,
}

impl Outbound {
    /// Connects to NATS and Postgres and makes sure the streams exist.
    pub async fn start(cfg: &OutboundConfig) -> Result<Outbound, StartError> {
        let (client, js) = scimbus_bus::connect(&cfg.nats_url, "scimbus-outbound").await?;
        let subjects = Subjects::new(&cfg.bus_prefix)?;
        scimbus_bus::ensure_streams(&js, &subjects, &StreamSettings::default()).await?;
        let pool = scimbus_db::connect(&cfg.database_url, 2).await?;
        Ok(Outbound { client, pool })
    }

    /// Whether NATS and Postgres answer (for `/readyz`).
    pub async fn ready(&self) -> Result<(), String> {
        if self.client.connection_state() != async_nats::connection::State::Connected {
            return Err("NATS: not connected".into());
        }
        sqlx::query("select 1")
            .execute(&self.pool)
            .await
            .map(drop)
            .map_err(|e| format!("Postgres: {e}"))
    }
}
