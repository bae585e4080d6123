//! Change-notification subscriptions: those made through the operator API
//! (the configuration file's are not stored), each subscription's progress
//! and what operators asked of it ([`progress`]), the events it parked
//! ([`parked`]), the resources inside its filter ([`scope`]) and the events
//! waiting for a polling application ([`polled`]).

use sqlx::PgExecutor;

pub mod parked;
pub mod polled;
pub mod progress;
pub mod scope;

/// Which subscription: tenant and name.
#[derive(Debug, Clone, Copy)]
pub struct SubscriptionKey<'a> {
    pub tenant: &'a str,
    pub name: &'a str,
}

/// A subscription made through the operator API.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Stored {
    pub tenant: String,
    pub name: String,
    /// As written, without its secrets.
    pub spec: serde_json::Value,
    /// Newest first; never shown back.
    pub secrets: Vec<String>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

/// Creates or replaces a subscription; `true` if it is new. A replaced one
/// is enabled again if it was disabled. A new one
/// starts with the changes published from now on (its progress is made
/// afresh: a subscription deleted and made again under the same name does
/// not inherit the old one's position, parked events or queue).
pub async fn put(
    conn: &mut sqlx::PgConnection,
    k: SubscriptionKey<'_>,
    spec: &serde_json::Value,
    secrets: &[String],
) -> sqlx::Result<bool> {
    let created: bool = sqlx::query_scalar(
        "insert into subscriptions as s (tenant, name, spec, secrets) values ($1, $2, $3, $4)
         on conflict (tenant, name) do update
           set spec = excluded.spec, secrets = excluded.secrets, updated_at = now()
         returning s.created_at = s.updated_at",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(spec)
    .bind(secrets)
    .fetch_one(&mut *conn)
    .await?;
    if created {
        forget(&mut *conn, k).await?;
        progress::create(&mut *conn, k).await?;
    } else {
        // Changed: worth trying again (a 410's receiver may have moved).
        sqlx::query(
            "update subscription_progress set disabled_reason = null, disabled_at = null,
                 updated_at = now()
             where tenant = $1 and name = $2",
        )
        .bind(k.tenant)
        .bind(k.name)
        .execute(&mut *conn)
        .await?;
    }
    Ok(created)
}

/// Deletes a subscription made through the API with everything of it;
/// `false` if there was none.
pub async fn delete(conn: &mut sqlx::PgConnection, k: SubscriptionKey<'_>) -> sqlx::Result<bool> {
    let gone = sqlx::query("delete from subscriptions where tenant = $1 and name = $2")
        .bind(k.tenant)
        .bind(k.name)
        .execute(&mut *conn)
        .await?
        .rows_affected();
    if gone > 0 {
        forget(conn, k).await?;
    }
    Ok(gone > 0)
}

/// Removes a subscription's progress, parked events, scope and queue.
async fn forget(conn: &mut sqlx::PgConnection, k: SubscriptionKey<'_>) -> sqlx::Result<()> {
    for q in [
        "delete from subscription_progress where tenant = $1 and name = $2",
        "delete from subscription_parked where tenant = $1 and name = $2",
        "delete from subscription_scope where tenant = $1 and name = $2",
        "delete from subscription_polled where tenant = $1 and name = $2",
    ] {
        sqlx::query(q)
            .bind(k.tenant)
            .bind(k.name)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// One subscription made through the API.
pub async fn get<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
) -> sqlx::Result<Option<Stored>> {
    sqlx::query_as(
        "select tenant, name, spec, secrets, created_at, updated_at from subscriptions
         where tenant = $1 and name = $2",
    )
    .bind(k.tenant)
    .bind(k.name)
    .fetch_optional(db)
    .await
}

/// Every subscription made through the API (of one tenant, if given), by
/// tenant and name.
pub async fn all<'e>(db: impl PgExecutor<'e>, tenant: Option<&str>) -> sqlx::Result<Vec<Stored>> {
    sqlx::query_as(
        "select tenant, name, spec, secrets, created_at, updated_at from subscriptions
         where $1::text is null or tenant = $1 order by tenant, name",
    )
    .bind(tenant)
    .fetch_all(db)
    .await
}
