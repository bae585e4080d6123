//! The outbox: every committed change, numbered per tenant, written in the
//! transaction that made it and published to JetStream after commit.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// A change row.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ChangeRow {
    pub tenant: String,
    pub seq: i64,
    pub id: Uuid,
    pub resource_type: String,
    pub resource_id: Uuid,
    /// The encoded `scimbus.v1.Change`.
    pub payload: Vec<u8>,
    pub committed_at: DateTime<Utc>,
    /// The W3C `traceparent` / `tracestate` of the work that made the
    /// change, carried to its publish while the store has it in hand (not
    /// kept: a change published again by the sweeper starts no trace).
    #[sqlx(skip)]
    pub traceparent: Option<String>,
    #[sqlx(skip)]
    pub tracestate: Option<String>,
}

/// Reserves `n` sequence numbers of `tenant` and returns the first. The
/// tenant's counter row stays locked until the transaction ends, which is
/// what keeps the sequence contiguous and in commit order: take it last,
/// just before commit, and for several tenants in name order.
pub async fn reserve(conn: &mut PgConnection, tenant: &str, n: i64) -> sqlx::Result<i64> {
    let last: i64 = sqlx::query_scalar(
        "insert into tenant_sequences (tenant, last_seq) values ($1, $2)
         on conflict (tenant) do update set last_seq = tenant_sequences.last_seq + excluded.last_seq
         returning last_seq",
    )
    .bind(tenant)
    .bind(n)
    .fetch_one(conn)
    .await?;
    Ok(last - n + 1)
}

/// Writes change rows, each marked as not yet published (one statement for
/// the lot).
pub async fn insert(conn: &mut PgConnection, rows: &[ChangeRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut tenants = Vec::with_capacity(rows.len());
    let mut seqs = Vec::with_capacity(rows.len());
    let mut ids = Vec::with_capacity(rows.len());
    let mut types = Vec::with_capacity(rows.len());
    let mut resource_ids = Vec::with_capacity(rows.len());
    let mut payloads = Vec::with_capacity(rows.len());
    let mut ats = Vec::with_capacity(rows.len());
    for r in rows {
        tenants.push(r.tenant.as_str());
        seqs.push(r.seq);
        ids.push(r.id);
        types.push(r.resource_type.as_str());
        resource_ids.push(r.resource_id);
        payloads.push(r.payload.as_slice());
        ats.push(r.committed_at);
    }
    sqlx::query(
        "with c as (
             insert into changes (tenant, seq, id, resource_type, resource_id, payload, committed_at)
             select * from unnest($1::text[], $2::bigint[], $3::uuid[], $4::text[], $5::uuid[],
                                  $6::bytea[], $7::timestamptz[])
             returning tenant, seq, committed_at)
         insert into unpublished_changes (tenant, seq, committed_at) select * from c",
    )
    .bind(tenants)
    .bind(seqs)
    .bind(ids)
    .bind(types)
    .bind(resource_ids)
    .bind(payloads)
    .bind(ats)
    .execute(conn)
    .await?;
    Ok(())
}

/// Changes not yet marked published, oldest first per tenant, committed
/// before `before` (so a sweeper leaves the ones their committer is about
/// to publish alone).
pub async fn unpublished<'e>(
    db: impl PgExecutor<'e>,
    before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<ChangeRow>> {
    sqlx::query_as(
        "select c.tenant, c.seq, c.id, c.resource_type, c.resource_id, c.payload, c.committed_at
         from unpublished_changes u join changes c on c.tenant = u.tenant and c.seq = u.seq
         where u.committed_at < $1
         order by u.tenant, u.seq limit $2",
    )
    .bind(before)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// Marks changes as published (acknowledged by JetStream): their
/// unpublished marks go. Give it a pool from
/// [`crate::connect_async_commit`]: losing a mark in a crash only means the
/// change is published again, which JetStream and consumers deduplicate — so
/// it need not cost an fsync per batch.
pub async fn mark_published<'e>(db: impl PgExecutor<'e>, rows: &[ChangeRow]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let tenants: Vec<&str> = rows.iter().map(|r| r.tenant.as_str()).collect();
    let seqs: Vec<i64> = rows.iter().map(|r| r.seq).collect();
    sqlx::query(
        "delete from unpublished_changes u
         using unnest($1::text[], $2::bigint[]) as p(tenant, seq)
         where u.tenant = p.tenant and u.seq = p.seq",
    )
    .bind(tenants)
    .bind(seqs)
    .execute(db)
    .await?;
    Ok(())
}

/// The tenants that have changes.
pub async fn tenants<'e>(db: impl PgExecutor<'e>) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("select tenant from tenant_sequences order by tenant")
        .fetch_all(db)
        .await
}

/// A tenant's changes with a sequence above `after`, committed after
/// `since` (older ones have aged out of the stream anyway), in order.
pub async fn after<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    after: i64,
    since: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<ChangeRow>> {
    sqlx::query_as(
        "select tenant, seq, id, resource_type, resource_id, payload, committed_at from changes
         where tenant = $1 and seq > $2 and committed_at > $3
         order by seq limit $4",
    )
    .bind(tenant)
    .bind(after)
    .bind(since)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// When a tenant's change `seq` was committed (none: no such change).
pub async fn committed_at<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    seq: i64,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar("select committed_at from changes where tenant = $1 and seq = $2")
        .bind(tenant)
        .bind(seq)
        .fetch_optional(db)
        .await
}

/// A tenant's last change sequence (0: none yet).
pub async fn last_seq<'e>(db: impl PgExecutor<'e>, tenant: &str) -> sqlx::Result<i64> {
    Ok(
        sqlx::query_scalar("select last_seq from tenant_sequences where tenant = $1")
            .bind(tenant)
            .fetch_optional(db)
            .await?
            .unwrap_or(0),
    )
}

/// A tenant's first change committed at or after `t` (none: none since).
pub async fn first_since<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    t: DateTime<Utc>,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar("select min(seq) from changes where tenant = $1 and committed_at >= $2")
        .bind(tenant)
        .bind(t)
        .fetch_one(db)
        .await
}
