//! scimbus-db: scimbus on Postgres, the system of record.
//!
//! Migrations (append-only once landed), connection pools, and the queries
//! the store (writes) and the ingress (reads) share. It knows SCIM through
//! `scimbus-scim` and nothing of NATS or HTTP.
//!
//! # Planned for the table as it is
//!
//! sqlx prepares every statement once per connection, and after a few runs
//! Postgres may keep a generic plan for it until the table's statistics
//! change. Made while the table was small — a new install, an emptied
//! table, one analyzed early — that plan reads the whole table, and the
//! store's long-lived session runs it on every batch while the table grows,
//! until autovacuum next analyzes it: about a minute of every batch reading
//! every row so far. The store's lookups by key on tables that start empty
//! and grow with every write are therefore planned on every run
//! (`.persistent(false)`, one more round trip to Postgres):
//! [`commands::recorded`], [`resources::lock`], [`resources::lock_many`],
//! [`members::existing`], [`members::remove`], [`members::groups_of_many`]
//! (`tests/write_plans.rs`). A lookup on the ingress's read path keeps its
//! cached plan: the round trip would be paid on every read.

pub mod audit;
pub mod changes;
pub mod commands;
pub mod console;
pub mod hr;
pub mod lease;
pub mod links;
pub mod list;
pub mod members;
mod parked;
pub mod passwords;
pub mod people;
mod pool;
mod progress;
pub mod read;
pub mod render;
pub mod resources;
pub mod subscriptions;
mod target_key;
pub mod tenants;
pub mod tokens;

pub use pool::{DbError, connect, connect_async_commit, connect_read_only};
pub use read::ReadPool;

/// The migrations in `migrations/`, embedded at build time.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// The newest migration this build has.
pub fn latest_migration() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// The newest migration the database has applied (0: none).
pub async fn applied_migration(db: impl sqlx::PgExecutor<'_>) -> sqlx::Result<i64> {
    let v: Option<i64> =
        sqlx::query_scalar("select max(version) from _sqlx_migrations where success")
            .fetch_one(db)
            .await?;
    Ok(v.unwrap_or(0))
}

mod filter_sql;
pub use filter_sql::{Cursor, FilterSql, Sort, SortValue, push_filter, push_order_by};
