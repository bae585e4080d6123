//! The startup prologue every service runs, and why a start fails.

use async_nats::jetstream;
use scimbus_bus::{BusError, StreamSettings};
use scimbus_db::DbError;
use scimbus_events::Subjects;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

use crate::env::SettingError;
use crate::settings::ServiceSettings;

/// Why a service could not start. A service's own start error wraps this
/// one and adds what only it can get wrong.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Setting(#[from] SettingError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("{setting} {addr}: {source}")]
    Bind {
        setting: &'static str,
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl StartError {
    /// Whether the fault is in the configuration (a value that can never
    /// work), not in the world (a server that does not answer yet).
    pub fn is_configuration(&self) -> bool {
        matches!(
            self,
            StartError::Setting(_)
                | StartError::Db(DbError::Url(_))
                | StartError::Bus(BusError::Credentials { .. })
        )
    }
}

/// What the prologue leaves a service with: the bus, its subjects, a
/// migrated Postgres pool, and the options its own connections (leases)
/// open with.
#[derive(Debug, Clone)]
pub struct Connected {
    pub client: async_nats::Client,
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub pool: PgPool,
    pub pg: PgConnectOptions,
}

impl Connected {
    /// Connects to NATS (refusing a server older than 2.10 or without
    /// JetStream), makes sure the streams exist, connects to Postgres with
    /// `pool_size` connections, migrates, and makes sure `tenants` exist.
    /// `name` is the connection name NATS shows.
    pub async fn connect(
        name: &str,
        settings: &ServiceSettings,
        pool_size: u32,
        tenants: &[String],
    ) -> Result<Connected, StartError> {
        let subjects = Subjects::new(&settings.bus_prefix)
            .map_err(|e| SettingError::new("SCIMBUS_BUS_PREFIX", e.to_string()))?;
        let pg: PgConnectOptions = settings
            .database_url
            .parse()
            .map_err(|e: sqlx::Error| DbError::Url(e.to_string()))?;
        let (client, js) =
            scimbus_bus::connect_with(&settings.nats_url, name, &settings.nats_auth).await?;
        let streams = StreamSettings {
            replicas: settings.stream_replicas,
            ..StreamSettings::default()
        };
        scimbus_bus::ensure_streams(&js, &subjects, &streams).await?;
        let pool = scimbus_db::connect(&settings.database_url, pool_size).await?;
        scimbus_db::MIGRATOR
            .run(&pool)
            .await
            .map_err(DbError::from)?;
        if !tenants.is_empty() {
            scimbus_db::tenants::ensure(&pool, tenants)
                .await
                .map_err(DbError::from)?;
        }
        Ok(Connected {
            client,
            js,
            subjects,
            pool,
            pg,
        })
    }
}
