//! Resource rows: the canonical SCIM document (without `id`, `meta`, a
//! group's `members` and a user's derived `groups`) plus the columns that
//! filters, sorting and uniqueness need.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One stored User or Group.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Row {
    pub id: Uuid,
    pub resource_type: String,
    pub version: i64,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    pub doc: sqlx::types::Json<Value>,
}

/// The columns derived from a document; kept in step on every write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Columns {
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub active: Option<bool>,
    /// Lower-cased `emails[].value`, for index-backed `emails.value eq`.
    pub emails: Vec<String>,
}

impl Columns {
    /// Reads the columns from a canonical document (canonical attribute
    /// names, as `scimbus_scim::resource::normalize` writes them).
    pub fn of(doc: &Value) -> Columns {
        let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
        Columns {
            user_name: text("userName"),
            external_id: text("externalId"),
            display_name: text("displayName"),
            active: doc.get("active").and_then(Value::as_bool),
            emails: doc
                .get("emails")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(|e| e.get("value").and_then(Value::as_str))
                        .map(str::to_lowercase)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

macro_rules! select_row {
    ($rest:literal) => {
        concat!(
            "select id, resource_type, version, created, last_modified, doc from resources ",
            $rest
        )
    };
}

/// Inserts a new resource. `Ok(false)` when a unique key (lower(userName),
/// a group's lower(displayName), the id) is taken: the caller answers 409.
pub async fn insert(conn: &mut PgConnection, tenant: &str, row: &Row) -> sqlx::Result<bool> {
    Ok(!insert_many(conn, &[(tenant, row)]).await?.is_empty())
}

/// Reads a resource and locks it for the rest of the transaction.
pub async fn lock(
    conn: &mut PgConnection,
    tenant: &str,
    resource_type: &str,
    id: Uuid,
) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(select_row!(
        "where tenant = $1 and resource_type = $2 and id = $3 for update"
    ))
    // Planned for the table as it is (crate docs).
    .persistent(false)
    .bind(tenant)
    .bind(resource_type)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Reads and locks several resources of one type: the rows found (an id
/// without one is not there). Locked in id order, as every multi-row lock
/// of the store is, so two such transactions cannot deadlock on them.
pub async fn lock_many(
    conn: &mut PgConnection,
    tenant: &str,
    resource_type: &str,
    ids: &[Uuid],
) -> sqlx::Result<Vec<Row>> {
    sqlx::query_as(select_row!(
        "where tenant = $1 and resource_type = $2 and id = any($3) order by id for update"
    ))
    // Planned for the table as it is (crate docs).
    .persistent(false)
    .bind(tenant)
    .bind(resource_type)
    .bind(ids)
    .fetch_all(conn)
    .await
}

/// Rows as `unnest` takes them: one array per column, the derived columns
/// read from each document ([`Columns::of`]).
struct Arrays<'r> {
    ids: Vec<Uuid>,
    types: Vec<&'r str>,
    user_names: Vec<Option<String>>,
    external_ids: Vec<Option<String>>,
    display_names: Vec<Option<String>>,
    actives: Vec<Option<bool>>,
    /// A text[] per row travels as one JSON array (Postgres has no arrays
    /// of arrays of varying length).
    emails: Vec<sqlx::types::Json<Vec<String>>>,
    versions: Vec<i64>,
    createds: Vec<DateTime<Utc>>,
    modifieds: Vec<DateTime<Utc>>,
    docs: Vec<&'r sqlx::types::Json<Value>>,
}

impl<'r> Arrays<'r> {
    fn of(rows: impl ExactSizeIterator<Item = &'r Row>) -> Arrays<'r> {
        let n = rows.len();
        let mut a = Arrays {
            ids: Vec::with_capacity(n),
            types: Vec::with_capacity(n),
            user_names: Vec::with_capacity(n),
            external_ids: Vec::with_capacity(n),
            display_names: Vec::with_capacity(n),
            actives: Vec::with_capacity(n),
            emails: Vec::with_capacity(n),
            versions: Vec::with_capacity(n),
            createds: Vec::with_capacity(n),
            modifieds: Vec::with_capacity(n),
            docs: Vec::with_capacity(n),
        };
        for row in rows {
            let c = Columns::of(&row.doc);
            a.ids.push(row.id);
            a.types.push(row.resource_type.as_str());
            a.user_names.push(c.user_name);
            a.external_ids.push(c.external_id);
            a.display_names.push(c.display_name);
            a.actives.push(c.active);
            a.emails.push(sqlx::types::Json(c.emails));
            a.versions.push(row.version);
            a.createds.push(row.created);
            a.modifieds.push(row.last_modified);
            a.docs.push(&row.doc);
        }
        a
    }
}

/// Writes new versions of several resources of a tenant in one statement
/// (as [`update`] does one). None may change a unique key: a clash would
/// fail them all.
pub async fn update_many(conn: &mut PgConnection, tenant: &str, rows: &[&Row]) -> sqlx::Result<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let a = Arrays::of(rows.iter().copied());
    sqlx::query(
        "update resources r set user_name = u.un, external_id = u.ei, display_name = u.dn,
             active = u.a, emails = array(select jsonb_array_elements_text(u.e)),
             version = u.v, last_modified = u.m, doc = u.d
         from unnest($2::uuid[], $3::text[], $4::text[], $5::text[], $6::bool[], $7::jsonb[],
                     $8::bigint[], $9::timestamptz[], $10::jsonb[])
              as u(i, un, ei, dn, a, e, v, m, d)
         where r.tenant = $1 and r.id = u.i",
    )
    .bind(tenant)
    .bind(a.ids)
    .bind(a.user_names)
    .bind(a.external_ids)
    .bind(a.display_names)
    .bind(a.actives)
    .bind(a.emails)
    .bind(a.versions)
    .bind(a.modifieds)
    .bind(a.docs)
    .execute(conn)
    .await?;
    Ok(())
}

/// Reads a resource.
pub async fn get<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    resource_type: &str,
    id: Uuid,
) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(select_row!(
        "where tenant = $1 and resource_type = $2 and id = $3"
    ))
    .bind(tenant)
    .bind(resource_type)
    .bind(id)
    .fetch_optional(db)
    .await
}

/// Reads a resource, whatever its type.
pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    id: Uuid,
) -> sqlx::Result<Option<Row>> {
    sqlx::query_as(select_row!("where tenant = $1 and id = $2"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// Writes a new version of a resource. A unique-key clash is an error
/// ([`is_unique_violation`]); run it under a savepoint when that can happen.
pub async fn update(conn: &mut PgConnection, tenant: &str, row: &Row) -> sqlx::Result<()> {
    let c = Columns::of(&row.doc);
    sqlx::query(
        "update resources set user_name = $3, external_id = $4, display_name = $5, active = $6,
             emails = $7, version = $8, last_modified = $9, doc = $10
         where tenant = $1 and id = $2",
    )
    .bind(tenant)
    .bind(row.id)
    .bind(c.user_name)
    .bind(c.external_id)
    .bind(c.display_name)
    .bind(c.active)
    .bind(c.emails)
    .bind(row.version)
    .bind(row.last_modified)
    .bind(&row.doc)
    .execute(conn)
    .await?;
    Ok(())
}

/// Bumps the version and lastModified of a resource whose document did not
/// change (a group whose members did).
pub async fn touch(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    version: i64,
    at: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update resources set version = $3, last_modified = $4 where tenant = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(version)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a resource; its memberships go with it.
pub async fn delete(conn: &mut PgConnection, tenant: &str, id: Uuid) -> sqlx::Result<bool> {
    sqlx::query("delete from group_members where tenant = $1 and member_id = $2")
        .bind(tenant)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    let n = sqlx::query("delete from resources where tenant = $1 and id = $2")
        .bind(tenant)
        .bind(id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(n == 1)
}

/// The attribute a resource type's resources are unique on in a tenant,
/// without case — what the unique indexes on `lower(user_name)` of Users
/// and `lower(display_name)` of Groups hold; other types have none.
pub fn unique_attribute(resource_type: &str) -> Option<&'static str> {
    match resource_type {
        "User" => Some("userName"),
        "Group" => Some("displayName"),
        _ => None,
    }
}

/// Whether an error is a unique-constraint violation (SQLSTATE 23505).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.code().as_deref() == Some("23505"))
}

/// Inserts many new resources (of any tenants) in one statement; returns
/// the ids that were inserted — the others clashed with a unique key (or
/// with an earlier row of the same call), as [`insert`] would report one
/// by one.
pub async fn insert_many(
    conn: &mut PgConnection,
    rows: &[(&str, &Row)],
) -> sqlx::Result<Vec<Uuid>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let tenants: Vec<&str> = rows.iter().map(|(t, _)| *t).collect();
    let a = Arrays::of(rows.iter().map(|(_, r)| *r));
    sqlx::query_scalar(
        "insert into resources (tenant, id, resource_type, user_name, external_id, display_name,
             active, emails, version, created, last_modified, doc)
         select t, i, rt, un, ei, dn, a,
                array(select jsonb_array_elements_text(e)), v, c, m, d
         from unnest($1::text[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[],
                     $7::bool[], $8::jsonb[], $9::bigint[], $10::timestamptz[],
                     $11::timestamptz[], $12::jsonb[])
              with ordinality as x(t, i, rt, un, ei, dn, a, e, v, c, m, d, o)
         order by o
         on conflict do nothing
         returning id",
    )
    .bind(tenants)
    .bind(a.ids)
    .bind(a.types)
    .bind(a.user_names)
    .bind(a.external_ids)
    .bind(a.display_names)
    .bind(a.actives)
    .bind(a.emails)
    .bind(a.versions)
    .bind(a.createds)
    .bind(a.modifieds)
    .bind(a.docs)
    .fetch_all(conn)
    .await
}

/// A page of a tenant's resources of one type in id order, after `after`
/// (keyset paging: stable while others write).
pub async fn page<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    resource_type: &str,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Row>> {
    // `id > $3` from the nil UUID on, not `($3 is null or id > $3)`: the
    // generic plan of the latter cannot start the index scan at $3 and
    // reads every earlier row on each page.
    sqlx::query_as(select_row!(
        "where tenant = $1 and resource_type = $2 and id > $3
         order by id limit $4"
    ))
    .bind(tenant)
    .bind(resource_type)
    .bind(after.unwrap_or(Uuid::nil()))
    .bind(limit)
    .fetch_all(db)
    .await
}
