//! API tokens of tenants' SCIM clients. Only a token's SHA-256 is stored;
//! the plain token is shown once, when it is made, and never kept.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A stored token as an operator sees it (never its hash).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Token {
    pub id: Uuid,
    pub tenant: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// The token (id, tenant) of a hash, if it is stored and not revoked.
pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    hash: &[u8],
) -> sqlx::Result<Option<(Uuid, String)>> {
    sqlx::query_as("select id, tenant from api_tokens where token_hash = $1 and revoked_at is null")
        .bind(hash)
        .fetch_optional(db)
        .await
}

/// Stores a token's hash for a tenant, in one statement so that a tenant
/// that does not exist inserts nothing (`None`); when it was created.
pub async fn insert<'e>(
    db: impl PgExecutor<'e>,
    id: Uuid,
    tenant: &str,
    hash: &[u8],
    label: &str,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "insert into api_tokens (id, tenant, token_hash, label)
         select $1, name, $3, $4 from tenants where name = $2
         returning created_at",
    )
    .bind(id)
    .bind(tenant)
    .bind(hash)
    .bind(label)
    .fetch_optional(db)
    .await
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
        "select id, tenant, label, created_at, revoked_at from api_tokens
         where $1::text is null or tenant = $1
         order by tenant, created_at, id",
    )
    .bind(tenant)
    .fetch_all(db)
    .await
}
