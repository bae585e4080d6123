//! Tenants, as the configuration file declares them.

use sqlx::PgExecutor;

/// Makes sure the tenants exist (they are never deleted here: their data
/// outlives a configuration change).
pub async fn ensure<'e>(db: impl PgExecutor<'e>, names: &[String]) -> sqlx::Result<()> {
    sqlx::query("insert into tenants (name) select unnest($1::text[]) on conflict do nothing")
        .bind(names)
        .execute(db)
        .await?;
    Ok(())
}
