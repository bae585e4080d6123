//! Connection pools.

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("invalid database URL: {0}")]
    Url(String),
    // The cause is in the message, not also a `source`: error chains would
    // print it twice.
    #[error("cannot connect to Postgres: {0}")]
    Connect(sqlx::Error),
    #[error("migrating the database: {0}")]
    Migrate(sqlx::migrate::MigrateError),
    #[error(transparent)]
    Sql(#[from] sqlx::Error),
}

fn options(url: &str) -> Result<PgConnectOptions, DbError> {
    let opts: PgConnectOptions = url
        .parse()
        .map_err(|e: sqlx::Error| DbError::Url(e.to_string()))?;
    // Statement logging at debug level; slow statements at warn.
    Ok(opts.log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500)))
}

impl From<sqlx::migrate::MigrateError> for DbError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        DbError::Migrate(e)
    }
}

/// Opens one connection first: a pool that cannot connect only says
/// "timed out", a connection says why (refused, no such database, bad
/// password).
async fn probe(opts: &PgConnectOptions) -> Result<(), DbError> {
    use sqlx::Connection;
    let conn = opts.connect().await.map_err(DbError::Connect)?;
    // It answered, which is all the probe asks; a failed goodbye is not
    // worth reporting.
    let _ = conn.close().await;
    Ok(())
}

/// A pool on `opts` (after one probing connection).
async fn pool(opts: PgConnectOptions, max_connections: u32) -> Result<PgPool, DbError> {
    probe(&opts).await?;
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(10))
        // No ping before each use (a round trip per query): a connection
        // that broke fails its query, which the caller reports, and sqlx
        // drops it from the pool.
        .test_before_acquire(false)
        .connect_with(opts)
        .await
        .map_err(DbError::Connect)
}

/// A read-write pool with durable commits: the default for every service
/// (the store's writes, the outbound service's status, the CLI, the
/// operator API).
pub async fn connect(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    pool(options(url)?, max_connections).await
}

/// A pool whose commits do not wait for the WAL flush
/// (`synchronous_commit = off`), for writes that can be lost in a crash and
/// redone (outbound links, published marks). Never for identity data or
/// anything acknowledged.
pub async fn connect_async_commit(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    pool(
        options(url)?.options([("synchronous_commit", "off")]),
        max_connections,
    )
    .await
}

/// A pool whose sessions are read-only (`default_transaction_read_only`),
/// for the ingress's reads; it may point at a replica.
pub async fn connect_read_only(url: &str, max_connections: u32) -> Result<PgPool, DbError> {
    pool(
        options(url)?.options([("default_transaction_read_only", "on")]),
        max_connections,
    )
    .await
}
