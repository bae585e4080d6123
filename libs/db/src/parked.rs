//! The changes an outbound target's worker parked (a permanent error, or
//! transient ones past the attempt limit), with the request and the answer;
//! while a resource has one, its later changes park behind it, so that a
//! replay applies them in order.

use sqlx::PgExecutor;
use uuid::Uuid;

use crate::target_key::TargetKey;

/// The columns a [`Parked`] is read from.
macro_rules! parked_columns {
    () => {
        "seq, resource_type, resource_id, payload, reason, request, response, attempts"
    };
}

/// A parked change.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Parked {
    pub seq: i64,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub payload: Vec<u8>,
    pub reason: String,
    pub request: Option<String>,
    pub response: Option<String>,
    pub attempts: i32,
}

/// Parks a change (again: a replay that fails keeps its place). Parked
/// again without an attempt (`attempts` 0: behind an earlier one of its
/// resource, as a change seen again after a takeover is) it keeps the
/// reason, request and answer it was parked with.
pub async fn park<'e>(db: impl PgExecutor<'e>, t: TargetKey<'_>, p: &Parked) -> sqlx::Result<()> {
    sqlx::query(
        "insert into parked_changes (tenant, target, seq, resource_type, resource_id, payload,
             reason, request, response, attempts)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
         on conflict (tenant, target, seq) do update
           set reason = case when excluded.attempts > 0 then excluded.reason
                             else parked_changes.reason end,
               request = case when excluded.attempts > 0 then excluded.request
                              else parked_changes.request end,
               response = case when excluded.attempts > 0 then excluded.response
                               else parked_changes.response end,
               attempts = parked_changes.attempts + excluded.attempts, parked_at = now()",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(p.seq)
    .bind(&p.resource_type)
    .bind(p.resource_id)
    .bind(&p.payload)
    .bind(&p.reason)
    .bind(&p.request)
    .bind(&p.response)
    .bind(p.attempts)
    .execute(db)
    .await?;
    Ok(())
}

/// The resources that have a parked change for this target.
pub async fn parked_resources<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar(
        "select distinct resource_id from parked_changes where tenant = $1 and target = $2",
    )
    .bind(t.tenant)
    .bind(t.target)
    .fetch_all(db)
    .await
}

/// A target's parked changes in change order.
pub async fn parked<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    limit: i64,
) -> sqlx::Result<Vec<Parked>> {
    sqlx::query_as(concat!(
        "select ",
        parked_columns!(),
        " from parked_changes where tenant = $1 and target = $2 order by seq limit $3"
    ))
    .bind(t.tenant)
    .bind(t.target)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Removes a parked change (replayed).
pub async fn unpark<'e>(db: impl PgExecutor<'e>, t: TargetKey<'_>, seq: i64) -> sqlx::Result<()> {
    sqlx::query("delete from parked_changes where tenant = $1 and target = $2 and seq = $3")
        .bind(t.tenant)
        .bind(t.target)
        .bind(seq)
        .execute(db)
        .await?;
    Ok(())
}

/// Asks for parked changes to be pushed again: one (`seq`) or all. Returns
/// how many were marked.
pub async fn request_replay<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    seq: Option<i64>,
) -> sqlx::Result<u64> {
    Ok(sqlx::query(
        "update parked_changes set replay_requested = true
         where tenant = $1 and target = $2 and ($3::bigint is null or seq = $3)",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(seq)
    .execute(db)
    .await?
    .rows_affected())
}

/// The parked changes to push again: every parked change of each resource
/// that has one marked for replay (its later ones must go with it), in
/// change order.
pub async fn replay_due<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    limit: i64,
) -> sqlx::Result<Vec<Parked>> {
    sqlx::query_as(concat!(
        "select ",
        parked_columns!(),
        " from parked_changes p
         where tenant = $1 and target = $2
           and exists (select 1 from parked_changes r
                       where r.tenant = p.tenant and r.target = p.target
                         and r.resource_id = p.resource_id and r.replay_requested)
         order by seq limit $3"
    ))
    .bind(t.tenant)
    .bind(t.target)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// A replay failed again: the change keeps its place with the new reason,
/// and its resource is no longer marked for replay.
pub async fn replay_failed<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    p: &Parked,
) -> sqlx::Result<()> {
    sqlx::query(
        "with failed as (
             update parked_changes set reason = $4, request = $5, response = $6,
                 attempts = attempts + $7, parked_at = now()
             where tenant = $1 and target = $2 and seq = $3)
         update parked_changes set replay_requested = false
         where tenant = $1 and target = $2 and resource_id = $8",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(p.seq)
    .bind(&p.reason)
    .bind(&p.request)
    .bind(&p.response)
    .bind(p.attempts)
    .bind(p.resource_id)
    .execute(db)
    .await?;
    Ok(())
}
