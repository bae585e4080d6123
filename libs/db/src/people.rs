//! What the operator API tells of one person or group: finding it by what
//! an operator knows of it, where it is provisioned, and what happened to
//! it. Every query is an index lookup, whatever the size of the tenant.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;
use uuid::Uuid;

/// A resource found by a search: the columns a list shows.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Found {
    pub id: Uuid,
    pub resource_type: String,
    pub user_name: Option<String>,
    pub display_name: Option<String>,
    pub external_id: Option<String>,
    pub active: Option<bool>,
    pub emails: Vec<String>,
    pub version: i64,
    pub last_modified: DateTime<Utc>,
}

/// The Users and Groups of `tenant` whose id, userName, an email,
/// externalId or displayName is `q` (case-insensitive but for the id and
/// externalId, which are case-exact in SCIM), at most `limit`, Users first.
pub async fn search<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    q: &str,
    limit: i64,
) -> sqlx::Result<Vec<Found>> {
    let id = Uuid::parse_str(q).ok();
    // One branch per index, so each is a lookup (an OR across them may not
    // be planned as one).
    macro_rules! found {
        ($where:literal) => {
            concat!(
                "select id, resource_type, user_name, display_name, external_id, active,
                        emails, version, last_modified from resources where tenant = $1 and ",
                $where
            )
        };
    }
    sqlx::query_as(concat!(
        "select * from (",
        found!("id = $2"),
        " union ",
        found!("resource_type = 'User' and lower(user_name) = lower($3)"),
        " union ",
        found!("emails @> array[lower($3)]"),
        " union ",
        found!("resource_type in ('User', 'Group') and external_id = $3"),
        " union ",
        found!("resource_type in ('User', 'Group') and lower(display_name) = lower($3)"),
        ") found
         order by resource_type desc, lower(coalesce(user_name, display_name)), id
         limit $4",
    ))
    .bind(tenant)
    .bind(id)
    .bind(q)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// What a target holds of one resource (its link row).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Held {
    pub target: String,
    pub resource_type: String,
    pub remote_id: String,
    pub version: i64,
    pub in_scope: bool,
    pub updated_at: DateTime<Utc>,
}

/// The links of one resource in each of `targets`.
pub async fn held<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    targets: &[String],
    id: Uuid,
) -> sqlx::Result<Vec<Held>> {
    sqlx::query_as(
        "select target, resource_type, remote_id, version, in_scope, updated_at from target_links
         where tenant = $1 and target = any($2) and resource_id = $3 order by target",
    )
    .bind(tenant)
    .bind(targets)
    .bind(id)
    .fetch_all(db)
    .await
}

/// A change of one resource that a target parked.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ParkedFor {
    pub target: String,
    pub resource_type: String,
    pub seq: i64,
    pub reason: String,
    pub attempts: i32,
    pub parked_at: DateTime<Utc>,
    pub replay_requested: bool,
}

/// The changes of one resource parked by any of `targets`, oldest first.
pub async fn parked_for<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    targets: &[String],
    id: Uuid,
) -> sqlx::Result<Vec<ParkedFor>> {
    sqlx::query_as(
        "select target, resource_type, seq, reason, attempts, parked_at, replay_requested from parked_changes
         where tenant = $1 and target = any($2) and resource_id = $3 order by target, seq",
    )
    .bind(tenant)
    .bind(targets)
    .bind(id)
    .fetch_all(db)
    .await
}

/// The newest `limit` changes of one resource (sequence, encoded change),
/// newest first.
pub async fn changes_of<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    id: Uuid,
    limit: i64,
) -> sqlx::Result<Vec<(i64, Vec<u8>)>> {
    sqlx::query_as(
        "select seq, payload from changes where tenant = $1 and resource_id = $2
         order by seq desc limit $3",
    )
    .bind(tenant)
    .bind(id)
    .bind(limit)
    .fetch_all(db)
    .await
}

/// How many members a group has, counting no further than `most`.
pub async fn member_count<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    group: Uuid,
    most: i64,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "select count(*) from (select from group_members
          where tenant = $1 and group_id = $2 limit $3) m",
    )
    .bind(tenant)
    .bind(group)
    .bind(most)
    .fetch_one(db)
    .await
}
