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

/// Whether a tenant exists.
pub async fn exists<'e>(db: impl PgExecutor<'e>, name: &str) -> sqlx::Result<bool> {
    sqlx::query_scalar("select exists (select 1 from tenants where name = $1)")
        .bind(name)
        .fetch_one(db)
        .await
}

/// Every tenant's name, in order.
pub async fn names<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("select name from tenants order by name")
        .fetch_all(db)
        .await
}
