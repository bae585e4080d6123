//! A stored row as the SCIM resource clients see: the document with `id`,
//! a group's `members`, a user's `groups` and `meta` (without
//! `meta.location`, which depends on the URL a client used; the ingress adds
//! it).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::members::Member;
use crate::resources::Row;

/// Timestamps as clients see them: RFC 3339, UTC, microseconds (what
/// Postgres keeps).
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The weak ETag of a version.
pub fn etag(version: i64) -> String {
    format!("W/\"{version}\"")
}

/// What of a resource's relations to include.
#[derive(Debug, Clone, Copy, Default)]
pub struct Relations<'a> {
    /// A group's members; `None` leaves `members` out.
    pub members: Option<&'a [Member]>,
    /// A user's groups (id, displayName); `None` leaves `groups` out.
    pub groups: Option<&'a [(Uuid, Option<String>)]>,
}

/// A group's `members` value.
pub fn members(list: &[Member]) -> Value {
    Value::Array(
        list.iter()
            .map(|(id, t)| json!({"value": id.to_string(), "type": t}))
            .collect(),
    )
}

/// Renders a stored resource. Attribute order: `schemas`, `id`, the
/// document's attributes, `members`/`groups`, `meta`.
pub fn resource(row: &Row, rel: Relations<'_>) -> Value {
    into_resource(row.clone(), rel)
}

/// [`resource`], taking the row: its document's values are moved, not copied.
pub fn into_resource(row: Row, rel: Relations<'_>) -> Value {
    let mut doc = match row.doc.0 {
        Value::Object(d) => d,
        _ => Map::new(),
    };
    let mut out = Map::with_capacity(doc.len() + 4);
    if let Some(s) = doc.get_mut("schemas").map(Value::take) {
        out.insert("schemas".into(), s);
    }
    out.insert("id".into(), Value::String(row.id.to_string()));
    out.extend(doc.into_iter().filter(|(k, _)| k != "schemas"));
    if let Some(list) = rel.members.filter(|m| !m.is_empty()) {
        out.insert("members".into(), members(list));
    }
    if let Some(groups) = rel.groups.filter(|g| !g.is_empty()) {
        let list = groups
            .iter()
            .map(|(id, name)| {
                let mut g = Map::new();
                g.insert("value".into(), Value::String(id.to_string()));
                if let Some(n) = name {
                    g.insert("display".into(), Value::String(n.clone()));
                }
                g.insert("type".into(), Value::String("direct".into()));
                Value::Object(g)
            })
            .collect();
        out.insert("groups".into(), Value::Array(list));
    }
    out.insert(
        "meta".into(),
        json!({
            "resourceType": row.resource_type,
            "created": timestamp(row.created),
            "lastModified": timestamp(row.last_modified),
            "version": etag(row.version),
        }),
    );
    Value::Object(out)
}
