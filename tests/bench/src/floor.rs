//! The GET's floor on the chosen packages: an axum server that answers
//! `GET /Users?filter=userName eq "…"` with one Postgres query — the very
//! SQL the ingress runs for it, through sqlx on a read pool like the
//! ingress's ([`scimbus_db::ReadPool`], 16 read-only connections unless
//! told otherwise) — and writes the rows into a SCIM ListResponse by
//! splicing the stored document's bytes, with `id` and `meta` added. No
//! token, no filter parser, no JSON tree, no attribute projection, no
//! `groups`: less than a correct server may do. Whatever rate it reaches
//! against pgbench running the same query bounds what any server built on
//! axum and sqlx reaches on the machine.

use std::net::SocketAddr;

use anyhow::Context;
use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

/// The ingress's query for a `userName eq` filter on a tenant's Users: as
/// it builds it, and as `tests/bench/sql/pgbench-lookup.sql` runs it (a
/// test below holds the two together).
const SQL: &str = "select r.id, r.resource_type, r.version, r.created, r.last_modified, r.doc, (r.id) as sort_key, \
count(*) over () as total, \
(select coalesce(json_agg(json_build_array(g.id, g.display_name) order by g.id), '[]') \
from group_members m join resources g on g.tenant = m.tenant and g.id = m.group_id \
where m.tenant = r.tenant and m.member_id = r.id) as rel \
from resources r where r.tenant = $1 and r.resource_type = $2 \
and ((r.resource_type = 'User' and (lower(r.user_name) = lower($3)))) \
order by (r.id) asc nulls last, r.id asc limit 100";

#[derive(Clone)]
struct Floor {
    read: scimbus_db::ReadPool,
    tenant: String,
    base: String,
}

/// The router: `/livez`, and the GET on any other path.
fn app(floor: Floor) -> Router {
    Router::new()
        .route("/livez", axum::routing::get(|| async { "ok" }))
        .fallback(users)
        .with_state(floor)
}

/// The quoted value of `filter=userName eq "…"` in a query string, as wrk's
/// GET script sends it (`%20` and `%22` escaped, nothing else).
pub fn user_name(query: &str) -> Option<&str> {
    let filter = query.split('&').find_map(|kv| kv.strip_prefix("filter="))?;
    filter
        .strip_prefix("userName%20eq%20%22")?
        .strip_suffix("%22")
}

async fn users(State(floor): State<Floor>, RawQuery(query): RawQuery) -> Response {
    let Some(name) = query.as_deref().and_then(user_name).map(str::to_owned) else {
        return (StatusCode::BAD_REQUEST, "filter=userName eq \"…\" only").into_response();
    };
    let rows = floor
        .read
        .read(|mut conn: PgConnection| {
            let (tenant, name) = (floor.tenant.clone(), name.clone());
            async move {
                let rows = sqlx::query(SQL)
                    .bind(tenant)
                    .bind("User")
                    .bind(name)
                    .fetch_all(&mut conn)
                    .await;
                (conn, rows)
            }
        })
        .await;
    match rows.and_then(|rows| render(&rows, &floor.base)) {
        Ok(body) => ([(header::CONTENT_TYPE, "application/scim+json")], body).into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}

/// The ListResponse of `rows`: each stored document's bytes with `id` put
/// first and `meta` last.
fn render(rows: &[sqlx::postgres::PgRow], base: &str) -> sqlx::Result<String> {
    let total = match rows.first() {
        Some(r) => r.try_get::<i64, _>("total")?,
        None => 0,
    };
    let mut out = String::with_capacity(256 + rows.len() * 1600);
    out.push_str(
        r#"{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":"#,
    );
    out.push_str(&format!(
        r#"{total},"itemsPerPage":{},"startIndex":1,"Resources":["#,
        rows.len()
    ));
    for (i, r) in rows.iter().enumerate() {
        let id: Uuid = r.try_get("id")?;
        let version: i64 = r.try_get("version")?;
        let created: DateTime<Utc> = r.try_get("created")?;
        let modified: DateTime<Utc> = r.try_get("last_modified")?;
        // jsonb's binary form: a version byte, then the document's text.
        let doc: &[u8] = r.try_get_unchecked("doc")?;
        let doc = std::str::from_utf8(doc.get(1..).unwrap_or_default())
            .map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
        let fields = doc.trim().trim_start_matches('{').trim_end_matches('}');
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(r#"{{"id":"{id}","#));
        out.push_str(fields);
        out.push_str(&format!(
            r#","meta":{{"resourceType":"User","created":"{}","lastModified":"{}","version":"W/\"{version}\"","location":"{base}/Users/{id}"}}}}"#,
            created.to_rfc3339_opts(SecondsFormat::Micros, true),
            modified.to_rfc3339_opts(SecondsFormat::Micros, true),
        ));
    }
    out.push_str("]}");
    Ok(out)
}

/// The floor's router for `tenant`'s users in the database at `url`, its
/// `meta.location`s under `base` (`…/scim/v2/<tenant>`), on a read pool of
/// `connections` (the ingress's has
/// [`scimbus_db::read::INGRESS_READ_CONNECTIONS`]).
pub async fn router(
    url: &str,
    tenant: &str,
    base: String,
    connections: u32,
) -> anyhow::Result<Router> {
    let pool = scimbus_db::connect_read_only(url, connections)
        .await
        .context("connecting to Postgres")?;
    Ok(app(Floor {
        read: scimbus_db::ReadPool::new(pool),
        tenant: tenant.to_owned(),
        base,
    }))
}

/// Serves the floor on `addr` for `tenant`'s users in the database at `url`
/// until the process is stopped.
pub async fn serve(
    addr: SocketAddr,
    url: &str,
    tenant: &str,
    connections: u32,
) -> anyhow::Result<()> {
    let base = format!("http://{addr}/scim/v2/{tenant}");
    let app = router(url, tenant, base, connections).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    axum::serve(listener, app).await.context("serving")
}

#[cfg(test)]
mod tests {
    use super::{SQL, user_name};

    /// Whitespace runs as one space.
    fn squeezed(s: &str) -> String {
        s.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    #[test]
    fn the_floor_runs_the_query_pgbench_runs_for_the_get() {
        let pgbench = include_str!("../sql/pgbench-lookup.sql")
            .lines()
            .filter(|l| !l.starts_with("--") && !l.starts_with("\\set"))
            .collect::<Vec<_>>()
            .join(" ")
            .replace(":tenant", "$1")
            .replace(":rt", "$2")
            .replace("'bench-' || :n::text", "$3");
        assert_eq!(
            squeezed(SQL),
            squeezed(pgbench.trim_end_matches(';').trim())
        );
    }

    #[test]
    fn the_user_name_is_read_from_the_scripts_filter_and_nothing_else() {
        assert_eq!(
            user_name("filter=userName%20eq%20%22bench-42%22"),
            Some("bench-42")
        );
        assert_eq!(
            user_name("count=1&filter=userName%20eq%20%22a%22"),
            Some("a")
        );
        assert_eq!(user_name("filter=userName%20sw%20%22a%22"), None);
        assert_eq!(user_name("filter=displayName%20eq%20%22a%22"), None);
        assert_eq!(user_name(""), None);
    }
}
