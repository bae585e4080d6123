//! Shared by the filter-to-SQL tests: a registry with custom extensions,
//! writing resources the way the store does, reading them back the way the
//! ingress renders them, and running filters both in SQL and in memory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod agree;
pub mod data;
pub mod explain;
pub mod filters;
pub mod table;

use chrono::{DateTime, Utc};
use scimbus_db::members::{self, Member};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};
use scimbus_db::{Cursor, Sort, SortValue, push_filter};
use scimbus_scim::filter::{Filter, Matcher};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use scimbus_scim::{Registry, ResourceType, ScimError, SortKey, SortOrder};
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, QueryBuilder};
use uuid::Uuid;

pub const ACME_USER: &str = "urn:example:params:scim:schemas:extension:acme:2.0:User";
pub const ACME_GROUP: &str = "urn:example:params:scim:schemas:extension:acme:2.0:Group";
/// A URN that cannot be inlined into SQL as it is.
pub const ODD_USER: &str = "urn:example:o'brien:2.0:User";

/// The standard registry plus extensions with every attribute type.
pub fn registry() -> Registry {
    let mut r = Registry::standard().unwrap();
    r.add_extension_json(
        "User",
        &json!({"id": ACME_USER, "name": "AcmeUser", "attributes": [
            {"name": "level", "type": "integer"},
            {"name": "score", "type": "decimal"},
            {"name": "hired", "type": "dateTime"},
            {"name": "remote", "type": "boolean"},
            {"name": "tags", "type": "string", "multiValued": true},
            {"name": "code", "type": "string", "caseExact": true},
            {"name": "blob", "type": "binary"},
            {"name": "badges", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "code", "type": "string", "caseExact": true},
                {"name": "since", "type": "dateTime"},
                {"name": "level", "type": "integer"},
                {"name": "primary", "type": "boolean"}
            ]}
        ]}),
        false,
    )
    .unwrap();
    r.add_extension_json(
        "User",
        &json!({"id": ODD_USER, "attributes": [{"name": "nick", "type": "string"}]}),
        false,
    )
    .unwrap();
    r.add_extension_json(
        "Group",
        &json!({"id": ACME_GROUP, "attributes": [
            {"name": "rank", "type": "decimal"},
            {"name": "since", "type": "dateTime"}
        ]}),
        false,
    )
    .unwrap();
    r
}

pub fn rt<'r>(registry: &'r Registry, name: &str) -> &'r ResourceType {
    registry.resource_type(name).unwrap()
}

/// A resource to store: its input JSON and metadata.
#[derive(Debug, Clone)]
pub struct New {
    pub id: Uuid,
    pub resource_type: &'static str,
    pub body: Value,
    pub version: i64,
    pub created: DateTime<Utc>,
    pub last_modified: DateTime<Utc>,
    /// For Groups: members with their types.
    pub members: Vec<Member>,
}

pub async fn ensure_tenants(pool: &PgPool, names: &[&str]) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    scimbus_db::tenants::ensure(pool, &names).await.unwrap();
}

/// `body` with the `schemas` an IdP would list (RFC 7643 §3 makes it
/// required): the resource type's schema and the extensions it carries.
fn with_schemas(rt: &scimbus_scim::ResourceType, body: &serde_json::Value) -> serde_json::Value {
    let mut body = body.clone();
    if let Some(o) = body.as_object_mut()
        && !o.contains_key("schemas")
    {
        let mut schemas = vec![serde_json::Value::String(rt.schema.clone())];
        schemas.extend(
            o.keys()
                .filter(|k| k.starts_with("urn:"))
                .map(|k| serde_json::Value::String(k.clone())),
        );
        o.insert("schemas".into(), serde_json::Value::Array(schemas));
    }
    body
}

/// Normalises and stores resources as the store does (document + columns,
/// then memberships).
pub async fn store(pool: &PgPool, registry: &Registry, tenant: &str, items: &[New]) {
    let mut tx = pool.begin().await.unwrap();
    for n in items {
        let rt = rt(registry, n.resource_type);
        let body = with_schemas(rt, &n.body);
        let doc = normalize(registry, rt, &body, Intent::Create, Leniency::default())
            .unwrap_or_else(|e| panic!("{e:?} in {}", n.body));
        let row = Row {
            id: n.id,
            resource_type: n.resource_type.into(),
            version: n.version,
            created: n.created,
            last_modified: n.last_modified,
            doc: sqlx::types::Json(doc),
        };
        assert!(
            resources::insert(&mut tx, tenant, &row).await.unwrap(),
            "{}",
            n.body
        );
    }
    for n in items.iter().filter(|n| !n.members.is_empty()) {
        members::add(&mut tx, tenant, n.id, &n.members)
            .await
            .unwrap();
    }
    tx.commit().await.unwrap();
}

/// Every resource of a type as a client reads it, in id order.
pub async fn read_all(pool: &PgPool, tenant: &str, resource_type: &str) -> Vec<Value> {
    let ids: Vec<Uuid> = sqlx::query_scalar(
        "select id from resources where tenant = $1 and resource_type = $2 order by id",
    )
    .bind(tenant)
    .bind(resource_type)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut out = Vec::new();
    for id in ids {
        let row = resources::get(pool, tenant, resource_type, id)
            .await
            .unwrap()
            .unwrap();
        let (mut list, mut groups) = (None, None);
        if resource_type == "Group" {
            list = Some(members::list(pool, tenant, id).await.unwrap());
        } else {
            groups = Some(members::groups_of(pool, tenant, id).await.unwrap());
        }
        let rel = Relations {
            members: list.as_deref(),
            groups: groups.as_deref(),
        };
        out.push(render::resource(&row, rel));
    }
    out
}

pub fn id_of(resource: &Value) -> Uuid {
    resource["id"].as_str().unwrap().parse().unwrap()
}

/// `select r.id … where tenant, type and (filter)`, in id order.
pub fn select(tenant: &str, rt: &ResourceType) -> QueryBuilder<Postgres> {
    let mut qb = QueryBuilder::new("SELECT r.id FROM resources r WHERE r.tenant = ");
    qb.push_bind(tenant.to_string())
        .push(" AND r.resource_type = ")
        .push_bind(rt.name.clone())
        .push(" AND ");
    qb
}

/// The ids SQL finds for `filter`, sorted.
pub async fn sql_ids(
    pool: &PgPool,
    registry: &Registry,
    rt: &ResourceType,
    tenant: &str,
    filter: &Filter,
) -> Result<Vec<Uuid>, ScimError> {
    let mut qb = select(tenant, rt);
    push_filter(&mut qb, registry, rt, filter)?;
    qb.push(" ORDER BY r.id");
    let sql = qb.sql().as_str().to_string();
    Ok(qb
        .build_query_scalar::<Uuid>()
        .fetch_all(pool)
        .await
        .unwrap_or_else(|e| panic!("{e}\nfilter: {filter}\nsql: {sql}")))
}

/// The ids the evaluator matches, sorted.
pub fn eval_ids(
    registry: &Registry,
    rt: &ResourceType,
    resources: &[Value],
    filter: &Filter,
) -> Result<Vec<Uuid>, ScimError> {
    let m = Matcher::new(registry, rt, filter)?;
    let mut ids: Vec<Uuid> = resources
        .iter()
        .filter(|r| m.matches(r))
        .map(id_of)
        .collect();
    ids.sort();
    Ok(ids)
}

/// The ids in the order SQL sorts them (optionally `page` rows at a time
/// through keyset cursors).
pub async fn sql_order(
    pool: &PgPool,
    registry: &Registry,
    rt: &ResourceType,
    tenant: &str,
    key: &SortKey,
    page: Option<i64>,
) -> Vec<Uuid> {
    let sort = Sort::new(registry, rt, key);
    let mut out = Vec::new();
    let mut after: Option<Cursor> = None;
    loop {
        let mut qb = QueryBuilder::new("SELECT r.id, ");
        sort.push_value(&mut qb);
        qb.push(" AS sort_value FROM resources r WHERE r.tenant = ")
            .push_bind(tenant.to_string())
            .push(" AND r.resource_type = ")
            .push_bind(rt.name.clone());
        if let Some(c) = &after {
            qb.push(" AND ");
            sort.push_after(&mut qb, c).unwrap();
        }
        qb.push(" ORDER BY ");
        sort.push_order_by(&mut qb);
        if let Some(n) = page {
            qb.push(" LIMIT ").push_bind(n);
        }
        let sql = qb.sql().as_str().to_string();
        let rows = qb
            .build()
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{e}\nsql: {sql}"));
        for row in &rows {
            let id: Uuid = sqlx::Row::get(row, "id");
            let value: SortValue = sort.read(row, "sort_value").unwrap();
            out.push(id);
            after = Some(Cursor { value, id });
        }
        if page.is_none() || rows.is_empty() {
            return out;
        }
    }
}

/// The ids in the order `SortKey::sort` puts them, ties in id order along
/// the sort direction (as the SQL breaks them).
pub fn eval_order(
    registry: &Registry,
    rt: &ResourceType,
    resources: &[Value],
    key: &SortKey,
) -> Vec<Uuid> {
    let mut all = resources.to_vec();
    all.sort_by_key(id_of);
    if key.order == SortOrder::Descending {
        all.reverse();
    }
    key.sort(registry, rt, &mut all);
    all.iter().map(id_of).collect()
}
