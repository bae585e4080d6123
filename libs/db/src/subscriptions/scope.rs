//! The resources inside a subscription's filter, as of the last event
//! delivered for each: a resource that stops matching gets one last event
//! (and leaves this set), one that starts matching enters it.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::SubscriptionKey;

/// Whether the resource was inside the filter as of the last event
/// delivered for it.
pub async fn contains<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    resource: Uuid,
) -> sqlx::Result<bool> {
    sqlx::query_scalar(
        "select exists (select 1 from subscription_scope
                        where tenant = $1 and name = $2 and resource_id = $3)",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(resource)
    .fetch_one(db)
    .await
}

/// Records whether the resource is inside the filter after the event of
/// `version` was delivered. An older version than the one recorded changes
/// nothing (a change seen again after a takeover).
pub async fn set<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    resource: Uuid,
    version: i64,
    inside: bool,
) -> sqlx::Result<()> {
    let q = if inside {
        "insert into subscription_scope (tenant, name, resource_id, version)
         values ($1, $2, $3, $4)
         on conflict (tenant, name, resource_id) do update set version = excluded.version
         where subscription_scope.version < excluded.version"
    } else {
        "delete from subscription_scope
         where tenant = $1 and name = $2 and resource_id = $3 and version <= $4"
    };
    sqlx::query(q)
        .bind(k.tenant)
        .bind(k.name)
        .bind(resource)
        .bind(version)
        .execute(db)
        .await?;
    Ok(())
}
