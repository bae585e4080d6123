//! The audit trail (`audit_log`): who wrote what, when, from where, and how
//! it ended. Entries are written in the transaction of the write they
//! record; attribute paths are kept, never values.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

/// One write, as recorded.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Entry {
    pub tenant: String,
    pub at: DateTime<Utc>,
    /// `scim`, `hr` or `operator`.
    pub actor_kind: String,
    /// The client's id: an API token's id, `jwt:<subject>`,
    /// `config:<tenant>:<n>`, an HR source's name.
    pub actor: String,
    /// The client's name (a token's label, a JWT's subject).
    pub actor_name: String,
    /// `create`, `replace`, `patch`, `delete`, `hr_event`, …
    pub action: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<Uuid>,
    /// The attribute paths that changed (none for a refusal).
    pub attributes: Vec<String>,
    /// The HTTP status the write got.
    pub status: i32,
    pub scim_type: Option<String>,
    pub command_id: Option<Uuid>,
    pub client_address: Option<String>,
    pub request_id: Option<String>,
    pub trace_id: Option<String>,
}

/// Records `entries` (one statement, in the caller's transaction).
pub async fn insert(conn: &mut PgConnection, entries: &[Entry]) -> sqlx::Result<()> {
    if entries.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&Entry) -> Option<String>| entries.iter().map(f).collect::<Vec<_>>();
    let tenants = col(|e| Some(e.tenant.clone()));
    let ats: Vec<DateTime<Utc>> = entries.iter().map(|e| e.at).collect();
    let kinds = col(|e| Some(e.actor_kind.clone()));
    let actors = col(|e| Some(e.actor.clone()));
    let names = col(|e| Some(e.actor_name.clone()));
    let actions = col(|e| Some(e.action.clone()));
    let types = col(|e| e.resource_type.clone());
    let ids: Vec<Option<Uuid>> = entries.iter().map(|e| e.resource_id).collect();
    // Attribute paths never hold a newline: one text per entry.
    let attributes = col(|e| Some(e.attributes.join("\n")));
    let statuses: Vec<i32> = entries.iter().map(|e| e.status).collect();
    let scim_types = col(|e| e.scim_type.clone());
    let commands: Vec<Option<Uuid>> = entries.iter().map(|e| e.command_id).collect();
    let addresses = col(|e| e.client_address.clone());
    let requests = col(|e| e.request_id.clone());
    let traces = col(|e| e.trace_id.clone());
    sqlx::query(
        "insert into audit_log (tenant, at, actor_kind, actor, actor_name, action,
             resource_type, resource_id, attributes, status, scim_type, command_id,
             client_address, request_id, trace_id)
         select t, at, k, a, n, act, rt, rid,
                case when attrs = '' then '{}'::text[] else string_to_array(attrs, E'\\n') end,
                st, sty, cmd, addr, req, tr
         from unnest($1::text[], $2::timestamptz[], $3::text[], $4::text[], $5::text[],
                     $6::text[], $7::text[], $8::uuid[], $9::text[], $10::int[], $11::text[],
                     $12::uuid[], $13::text[], $14::text[], $15::text[])
              as u(t, at, k, a, n, act, rt, rid, attrs, st, sty, cmd, addr, req, tr)",
    )
    .bind(tenants)
    .bind(ats)
    .bind(kinds)
    .bind(actors)
    .bind(names)
    .bind(actions)
    .bind(types)
    .bind(ids)
    .bind(attributes)
    .bind(statuses)
    .bind(scim_types)
    .bind(commands)
    .bind(addresses)
    .bind(requests)
    .bind(traces)
    .execute(conn)
    .await?;
    Ok(())
}

/// Which entries a listing wants.
#[derive(Debug, Clone, Default)]
pub struct Query {
    pub actor: Option<String>,
    pub resource_id: Option<Uuid>,
    pub action: Option<String>,
    /// `success` (below 400) or `failure`.
    pub failed: Option<bool>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// Entries older than this id (the cursor).
    pub before_id: Option<i64>,
    pub limit: i64,
}

/// Entries of `tenant`, newest first, with their ids.
pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    q: &Query,
) -> sqlx::Result<Vec<(i64, Entry)>> {
    #[derive(sqlx::FromRow)]
    struct Listed {
        id: i64,
        #[sqlx(flatten)]
        entry: Entry,
    }
    // Only the filters given, as plain predicates: each then has its plan
    // (an index of its own where there is one: failures, the rare actions)
    // instead of one generic plan that scans the tenant's whole trail.
    let mut qb = sqlx::QueryBuilder::<sqlx::Postgres>::new(
        "select id, tenant, at, actor_kind, actor, actor_name, action, resource_type,
                resource_id, attributes, status, scim_type, command_id, client_address,
                request_id, trace_id
         from audit_log where tenant = ",
    );
    qb.push_bind(tenant);
    if let Some(actor) = &q.actor {
        qb.push(" and actor = ").push_bind(actor);
    }
    if let Some(id) = q.resource_id {
        qb.push(" and resource_id = ").push_bind(id);
    }
    if let Some(action) = &q.action {
        qb.push(" and action = ").push_bind(action);
    }
    if let Some(failed) = q.failed {
        qb.push(if failed {
            " and status >= 400"
        } else {
            " and status < 400"
        });
    }
    if let Some(since) = q.since {
        qb.push(" and at >= ").push_bind(since);
    }
    if let Some(until) = q.until {
        qb.push(" and at < ").push_bind(until);
    }
    if let Some(before) = q.before_id {
        qb.push(" and id < ").push_bind(before);
    }
    qb.push(" order by id desc limit ").push_bind(q.limit);
    let rows: Vec<Listed> = qb.build_query_as().fetch_all(db).await?;
    Ok(rows.into_iter().map(|r| (r.id, r.entry)).collect())
}

/// Deletes up to `batch` entries recorded before `before`; how many went.
pub async fn prune<'e>(
    db: impl PgExecutor<'e>,
    before: DateTime<Utc>,
    batch: i64,
) -> sqlx::Result<u64> {
    let done = sqlx::query(
        "delete from audit_log where id in (
             select id from audit_log where at < $1 limit $2)",
    )
    .bind(before)
    .bind(batch)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}
