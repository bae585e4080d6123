//! Outbound links: our resource ↔ a target's id for it, with the version
//! last pushed. A target's parked changes are in [`crate::parked`], its
//! position, status and operator requests in [`crate::progress`] (both
//! re-exported here, where callers find them).

use sqlx::PgExecutor;
use uuid::Uuid;

/// What a target holds of one of our resources.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    pub resource_id: Uuid,
    pub resource_type: String,
    pub remote_id: String,
    pub version: i64,
    pub in_scope: bool,
}

/// The columns of a [`Link`].
macro_rules! link_columns {
    () => {
        "resource_id, resource_type, remote_id, version, in_scope"
    };
}

pub async fn get<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    resource_id: Uuid,
) -> sqlx::Result<Option<Link>> {
    sqlx::query_as(concat!(
        "select ",
        link_columns!(),
        " from target_links where tenant = $1 and target = $2 and resource_id = $3"
    ))
    .bind(t.tenant)
    .bind(t.target)
    .bind(resource_id)
    .fetch_optional(db)
    .await
}

/// The links of many resources (those that have one).
pub async fn get_many<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Link>> {
    // One primary-key probe per id, whatever the statistics say: with
    // `resource_id = any($3)` a planner that believes the target has few
    // links (a new target, before autovacuum analyzes) scans all of them
    // against the list each time, quadratic over a full sync. The `limit`
    // keeps the lateral subquery from being flattened into a join.
    sqlx::query_as(concat!(
        "select ",
        link_columns!(),
        " from (select distinct unnest($3::uuid[]) as id) i
         cross join lateral (
           select * from target_links
           where tenant = $1 and target = $2 and resource_id = i.id
           limit 1
         ) l"
    ))
    .bind(t.tenant)
    .bind(t.target)
    .bind(ids)
    .fetch_all(db)
    .await
}

/// Records (or moves forward) a link. A version older than the recorded
/// one never overwrites it.
pub async fn put<'e>(db: impl PgExecutor<'e>, t: TargetKey<'_>, l: &Link) -> sqlx::Result<()> {
    put_many(db, t, std::slice::from_ref(l)).await
}

/// Records many links in one statement (as [`put`] each).
pub async fn put_many<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    list: &[Link],
) -> sqlx::Result<()> {
    if list.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = list.iter().map(|l| l.resource_id).collect();
    let types: Vec<&str> = list.iter().map(|l| l.resource_type.as_str()).collect();
    let remotes: Vec<&str> = list.iter().map(|l| l.remote_id.as_str()).collect();
    let versions: Vec<i64> = list.iter().map(|l| l.version).collect();
    let scoped: Vec<bool> = list.iter().map(|l| l.in_scope).collect();
    sqlx::query(
        "insert into target_links (tenant, target, resource_id, resource_type, remote_id, version, in_scope)
         select $1, $2, i, rt, r, v, s
         from unnest($3::uuid[], $4::text[], $5::text[], $6::bigint[], $7::bool[]) as x(i, rt, r, v, s)
         on conflict (tenant, target, resource_id) do update
           set remote_id = excluded.remote_id, version = excluded.version,
               in_scope = excluded.in_scope, updated_at = now()
           where target_links.version <= excluded.version",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(ids)
    .bind(types)
    .bind(remotes)
    .bind(versions)
    .bind(scoped)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets a link (the resource is gone from the target).
pub async fn delete<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    resource_id: Uuid,
) -> sqlx::Result<()> {
    sqlx::query("delete from target_links where tenant = $1 and target = $2 and resource_id = $3")
        .bind(t.tenant)
        .bind(t.target)
        .bind(resource_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Every link of a target whose resource is gone from Postgres.
pub async fn orphans<'e>(db: impl PgExecutor<'e>, t: TargetKey<'_>) -> sqlx::Result<Vec<Link>> {
    sqlx::query_as(concat!(
        "select ",
        link_columns!(),
        " from target_links l
         where l.tenant = $1 and l.target = $2
           and not exists (select 1 from resources r where r.tenant = l.tenant and r.id = l.resource_id)
         order by l.resource_id"
    ))
    .bind(t.tenant)
    .bind(t.target)
    .fetch_all(db)
    .await
}

/// Every link of a target.
pub async fn all<'e>(db: impl PgExecutor<'e>, t: TargetKey<'_>) -> sqlx::Result<Vec<Link>> {
    sqlx::query_as(concat!(
        "select ",
        link_columns!(),
        " from target_links where tenant = $1 and target = $2"
    ))
    .bind(t.tenant)
    .bind(t.target)
    .fetch_all(db)
    .await
}

pub use crate::parked::*;
pub use crate::progress::*;
pub use crate::target_key::TargetKey;
