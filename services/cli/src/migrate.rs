//! `scimbus migrate`: the schema migrations of `scimbus-db`.

use scimbus_db::MIGRATOR;
use sqlx::PgPool;
use sqlx::migrate::Migrate;

use crate::CliError;

/// What a migration run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migrated {
    /// The migrations this run applied (version, description), in order.
    pub applied: Vec<(i64, String)>,
    /// How many migrations the binary knows.
    pub known: usize,
}

/// Applies the migrations the database lacks. Safe to run again and from
/// several places at once (sqlx takes an advisory lock).
pub async fn migrate(pool: &PgPool) -> Result<Migrated, CliError> {
    let before: Vec<i64> = {
        let mut conn = pool.acquire().await?;
        conn.ensure_migrations_table(&MIGRATOR.table_name).await?;
        conn.list_applied_migrations(&MIGRATOR.table_name)
            .await?
            .into_iter()
            .map(|m| m.version)
            .collect()
    };
    MIGRATOR.run(pool).await?;
    let up = || {
        MIGRATOR
            .iter()
            .filter(|m| m.migration_type.is_up_migration())
    };
    Ok(Migrated {
        applied: up()
            .filter(|m| !before.contains(&m.version))
            .map(|m| (m.version, m.description.to_string()))
            .collect(),
        known: up().count(),
    })
}
