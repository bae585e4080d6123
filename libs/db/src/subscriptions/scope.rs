//! When each resource entered or left a subscription's filter, as the
//! events delivered told the application: one row per transition, at the
//! version of the change that made it. A resource that stops matching gets
//! one last event; one that starts matching again, its event. A change is
//! judged against the transitions before its own version, so a replay
//! decides as the first delivery did.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::SubscriptionKey;

/// Whether the resource was inside the filter just before its change of
/// `version` (as the application was told).
pub async fn contains<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    resource: Uuid,
    version: i64,
) -> sqlx::Result<bool> {
    let inside: Option<bool> = sqlx::query_scalar(
        "select inside from subscription_scope
         where tenant = $1 and name = $2 and resource_id = $3 and version < $4
         order by version desc limit 1",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(resource)
    .bind(version)
    .fetch_optional(db)
    .await?;
    Ok(inside.unwrap_or(false))
}

/// Records that the change of `version`, delivered, took the resource
/// inside the filter (or out of it). The same change recorded again
/// (delivered again after a takeover or a replay) changes nothing.
pub async fn record<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    resource: Uuid,
    version: i64,
    inside: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into subscription_scope (tenant, name, resource_id, version, inside)
         values ($1, $2, $3, $4, $5)
         on conflict (tenant, name, resource_id, version) do update set inside = excluded.inside",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(resource)
    .bind(version)
    .bind(inside)
    .execute(db)
    .await?;
    Ok(())
}
