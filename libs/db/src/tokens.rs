//! API tokens of tenants' SCIM clients. Only a token's SHA-256 is stored;
//! the plain token is shown once, when it is made, and never kept.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// The channel on which every change that decides whether a token is good
/// is announced (payload: the token's SHA-256 in hex); see migration 0011.
pub const CHANGED_CHANNEL: &str = "scimbus_tokens";

/// A stored token as an operator sees it (never its hash).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Token {
    pub id: Uuid,
    pub tenant: String,
    pub label: String,
    /// The first characters of the secret (`scimbus_` and four more).
    pub prefix: String,
    pub scopes: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// To about a minute: replicas write it behind.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// What a good token grants: whose it is, its scopes, until when.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Grant {
    pub id: Uuid,
    pub tenant: String,
    pub label: String,
    pub scopes: Vec<String>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The grant of a hash, if it is stored, not revoked and not expired.
pub async fn find<'e>(db: impl PgExecutor<'e>, hash: &[u8]) -> sqlx::Result<Option<Grant>> {
    sqlx::query_as(
        "select id, tenant, label, scopes, expires_at from api_tokens
         where token_hash = $1 and revoked_at is null
           and (expires_at is null or expires_at > now())",
    )
    .bind(hash)
    .fetch_optional(db)
    .await
}

/// A token to store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRow<'a> {
    pub id: Uuid,
    pub tenant: &'a str,
    pub hash: &'a [u8],
    pub prefix: &'a str,
    pub label: &'a str,
    pub scopes: &'a [String],
    pub expires_at: Option<DateTime<Utc>>,
}

/// Stores a token's hash for a tenant, in one statement so that a tenant
/// that does not exist inserts nothing (`None`); when it was created.
pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    t: &NewRow<'_>,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "insert into api_tokens (id, tenant, token_hash, label, scopes, expires_at, prefix)
         select $1, name, $3, $4, $5, $6, $7 from tenants where name = $2
         returning created_at",
    )
    .bind(t.id)
    .bind(t.tenant)
    .bind(t.hash)
    .bind(t.label)
    .bind(t.scopes)
    .bind(t.expires_at)
    .bind(t.prefix)
    .fetch_optional(db)
    .await
}

/// Records when tokens were last used (never moving a time back).
pub async fn touch<'e>(
    db: impl PgExecutor<'e>,
    used: &[(Uuid, DateTime<Utc>)],
) -> sqlx::Result<()> {
    let (ids, ats): (Vec<Uuid>, Vec<DateTime<Utc>>) = used.iter().copied().unzip();
    sqlx::query(
        "update api_tokens t set last_used_at = greatest(t.last_used_at, u.at)
         from unnest($1::uuid[], $2::timestamptz[]) as u(id, at)
         where t.id = u.id",
    )
    .bind(ids)
    .bind(ats)
    .execute(db)
    .await?;
    Ok(())
}

/// Revokes a token (again is fine: the first revocation time stays): its
/// tenant, when it was revoked, and whether it was already; `None` when
/// there is no such token.
pub async fn revoke<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
) -> sqlx::Result<Option<(String, DateTime<Utc>, bool)>> {
    sqlx::query_as(
        "with old as (select id, revoked_at from api_tokens where id = $1 for update)
         update api_tokens t set revoked_at = coalesce(old.revoked_at, now())
         from old where t.id = old.id
         returning t.tenant, t.revoked_at, old.revoked_at is not null",
    )
    .bind(id)
    .fetch_optional(db)
    .await
}

/// The tokens of one tenant, or of all, oldest first.
pub async fn list<'e>(db: impl PgExecutor<'e>, tenant: Option<&str>) -> sqlx::Result<Vec<Token>> {
    sqlx::query_as(
        "select id, tenant, label, prefix, scopes, created_at, expires_at, last_used_at, revoked_at
         from api_tokens
         where $1::text is null or tenant = $1
         order by tenant, created_at, id",
    )
    .bind(tenant)
    .fetch_all(db)
    .await
}

/// One token of a tenant.
pub async fn get<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    id: Uuid,
) -> sqlx::Result<Option<Token>> {
    sqlx::query_as(
        "select id, tenant, label, prefix, scopes, created_at, expires_at, last_used_at, revoked_at
         from api_tokens where tenant = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .fetch_optional(db)
    .await
}
