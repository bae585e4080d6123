//! The events a subscription's driver gave up on (a permanent refusal, or
//! transient failures past the retry budget). While a resource has one,
//! its later events park behind it, so that a replay delivers them in order.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::SubscriptionKey;

/// A parked event.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Parked {
    pub change_seq: i64,
    pub resource_type: String,
    pub resource_id: Uuid,
    /// The encoded change.
    pub payload: Vec<u8>,
    pub reason: String,
    pub response: Option<String>,
    pub attempts: i32,
    pub parked_at: chrono::DateTime<chrono::Utc>,
}

/// Parks an event (again: a replay that fails keeps its place). Parked
/// again without an attempt (`attempts` 0: behind an earlier one of its
/// resource, as a change seen again after a takeover is) it keeps the
/// reason and answer it was parked with.
pub async fn park<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    p: &Parked,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into subscription_parked (tenant, name, change_seq, resource_type, resource_id,
             payload, reason, response, attempts)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         on conflict (tenant, name, change_seq) do update
           set reason = case when excluded.attempts > 0 then excluded.reason
                             else subscription_parked.reason end,
               response = case when excluded.attempts > 0 then excluded.response
                               else subscription_parked.response end,
               attempts = subscription_parked.attempts + excluded.attempts,
               replay_requested = false, parked_at = now()",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(p.change_seq)
    .bind(&p.resource_type)
    .bind(p.resource_id)
    .bind(&p.payload)
    .bind(&p.reason)
    .bind(&p.response)
    .bind(p.attempts)
    .execute(db)
    .await?;
    Ok(())
}

/// The resources that have a parked event.
pub async fn resources<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select distinct resource_id from subscription_parked where tenant = $1 and name = $2",
    )
    .bind(k.tenant)
    .bind(k.name)
    .fetch_all(db)
    .await
}

/// The parked events in change order (at most `limit`).
pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    limit: i64,
) -> sqlx::Result<Vec<Parked>> {
    sqlx::query_as(
        "select change_seq, resource_type, resource_id, payload, reason, response, attempts,
                parked_at
         from subscription_parked where tenant = $1 and name = $2
         order by change_seq limit $3",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Marks parked events for delivery again: one (`Some(change_seq)`, with
/// the later ones of its resource, which wait behind it) or all. How many
/// are marked.
pub async fn request_replay<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    change_seq: Option<i64>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update subscription_parked p set replay_requested = true
         where tenant = $1 and name = $2
           and ($3::bigint is null
                or exists (select 1 from subscription_parked o
                           where o.tenant = p.tenant and o.name = p.name
                             and o.change_seq = $3 and o.resource_id = p.resource_id
                             and p.change_seq >= o.change_seq))",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(change_seq)
    .execute(db)
    .await?
    .rows_affected())
}

/// The parked events to deliver again, in change order: every parked event
/// of each resource that has one marked for replay. A resource's earlier
/// events go first even when only a later one was marked, or the later
/// would reach the receiver before them.
pub async fn due<'e>(db: impl PgExecutor<'e>, k: SubscriptionKey<'_>) -> sqlx::Result<Vec<Parked>> {
    sqlx::query_as(
        "select change_seq, resource_type, resource_id, payload, reason, response, attempts,
                parked_at
         from subscription_parked p
         where tenant = $1 and name = $2
           and exists (select 1 from subscription_parked r
                       where r.tenant = p.tenant and r.name = p.name
                         and r.resource_id = p.resource_id and r.replay_requested)
         order by change_seq",
    )
    .bind(k.tenant)
    .bind(k.name)
    .fetch_all(db)
    .await
}

/// A parked event got through (or is no longer wanted).
pub async fn unpark<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    change_seq: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "delete from subscription_parked where tenant = $1 and name = $2 and change_seq = $3",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(change_seq)
    .execute(db)
    .await?;
    Ok(())
}
