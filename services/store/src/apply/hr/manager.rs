//! The manager an HR event names by employee id, as the user id SCIM
//! wants (`manager.value`, with `manager.displayName`). A manager HR has
//! not brought yet is filled in when their user is made.

use scimbus_db::hr;
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};
use scimbus_scim::registry::ENTERPRISE_USER_SCHEMA;
use serde_json::{Map, Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

use super::super::{
    ApplyError, Change, Cmd, Ctx, Operation, change_for, encode, groups_of, version,
};

/// What an event says of the manager.
#[derive(Debug, Clone, PartialEq)]
pub enum Said {
    /// No manager.
    Cleared,
    /// A manager whose user exists.
    Resolved(Value),
    /// A manager without a user yet.
    Unresolved,
}

/// The lower-cased attribute name of the manager.
pub fn is_path(attribute: &str) -> bool {
    attribute.eq_ignore_ascii_case(&format!("{ENTERPRISE_USER_SCHEMA}:manager"))
}

/// The `manager` value of a user: its id and display name.
fn reference(user: &Row) -> Value {
    let display = ["displayName", "userName"]
        .iter()
        .find_map(|k| user.doc.get(*k).and_then(Value::as_str));
    match display {
        Some(d) => json!({ "value": user.id.to_string(), "displayName": d }),
        None => json!({ "value": user.id.to_string() }),
    }
}

/// Resolves the manager an event names (by HR employee id).
pub async fn said(
    conn: &mut PgConnection,
    tenant: &str,
    manager_id: Option<&str>,
) -> Result<Said, ApplyError> {
    let Some(mid) = manager_id else {
        return Ok(Said::Cleared);
    };
    // Locked, so that the manager's own hire, applied beside this event
    // (another partition), either sees this person as a report or is seen
    // here: never neither.
    let mut manager = hr::workers::lock(conn, tenant, mid).await?;
    if let Some(uid) = manager.user_id
        && let Some(row) = resources::get(&mut *conn, tenant, "User", uid).await?
    {
        return Ok(Said::Resolved(reference(&row)));
    }
    // A manager HR has not brought, whom the identity provider made: the
    // user whose externalId is their employee id, taken as theirs.
    let Some(uid) = hr::workers::user_by_external_id(conn, tenant, mid).await? else {
        return Ok(Said::Unresolved);
    };
    let Some(row) = resources::get(&mut *conn, tenant, "User", uid).await? else {
        return Ok(Said::Unresolved);
    };
    manager.user_id = Some(uid);
    manager.idp_set = super::merge::names(&row.doc.0);
    hr::workers::save(conn, tenant, &manager).await?;
    Ok(Said::Resolved(reference(&row)))
}

/// Puts the manager into an event's attributes (null: none, or not known
/// yet — the value in place would name someone else).
pub fn put(attrs: &mut Value, said: &Said) {
    let value = match said {
        Said::Resolved(v) => v.clone(),
        Said::Cleared | Said::Unresolved => Value::Null,
    };
    let Some(o) = attrs.as_object_mut() else {
        return;
    };
    let key = o
        .keys()
        .find(|k| k.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA))
        .cloned()
        .unwrap_or_else(|| ENTERPRISE_USER_SCHEMA.to_string());
    let ext = o.entry(key).or_insert_with(|| Value::Object(Map::new()));
    if let Some(e) = ext.as_object_mut() {
        e.insert("manager".into(), value);
    }
}

/// The manager of a user document (the enterprise extension's `manager`,
/// keys in any case).
fn manager_of(doc: &Value) -> Option<&Value> {
    let ext = doc
        .as_object()?
        .iter()
        .find_map(|(k, v)| k.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA).then_some(v))?;
    ext.as_object()?
        .iter()
        .find_map(|(k, v)| k.eq_ignore_ascii_case("manager").then_some(v))
}

/// Puts back the manager's `displayName` that normalising dropped: it is
/// read-only to clients (RFC 7643 §4.3), and the store is who sets it.
pub fn keep_display_name(merged: &Value, normalized: &mut Value) {
    let Some(display) = manager_of(merged)
        .and_then(|m| m.get("displayName"))
        .cloned()
    else {
        return;
    };
    let same = manager_of(merged).and_then(|m| m.get("value"))
        == manager_of(normalized).and_then(|m| m.get("value"));
    if !same {
        return;
    }
    if let Some(m) = normalized
        .get_mut(ENTERPRISE_USER_SCHEMA)
        .and_then(|e| e.get_mut("manager"))
        .and_then(Value::as_object_mut)
    {
        m.insert("displayName".into(), display);
    }
}

/// Removes null attributes a merge left (a manager cleared) and an
/// extension left empty, so the document says "none" by absence.
pub fn drop_nulls(doc: &mut Value) {
    let Some(o) = doc.as_object_mut() else {
        return;
    };
    o.retain(|_, v| !v.is_null());
    for v in o.values_mut() {
        if let Some(e) = v.as_object_mut() {
            e.retain(|_, x| !x.is_null());
        }
    }
    o.retain(|k, v| !(k.starts_with("urn:") && v.as_object().is_some_and(Map::is_empty)));
}

/// Gives the people who report to `employee_id` (as HR said) the manager
/// whose user was just made, as changes of theirs.
pub async fn fill_reports(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    employee_id: &str,
    muid: Uuid,
) -> Result<Vec<Change>, ApplyError> {
    let tenant = cmd.wire.tenant.as_str();
    let Some(manager) = resources::get(&mut *conn, tenant, "User", muid).await? else {
        return Ok(Vec::new());
    };
    let value = reference(&manager);
    let rt = ctx
        .registry
        .resource_type("User")
        .ok_or_else(|| super::super::Broken::ResourceType("User".into()))?;
    let mut out = Vec::new();
    for (_, uid) in hr::workers::reports_of(conn, tenant, employee_id).await? {
        if uid == muid {
            continue;
        }
        let Some(row) = resources::lock(conn, tenant, "User", uid).await? else {
            continue;
        };
        let mut doc = row.doc.0.clone();
        put(&mut doc, &Said::Resolved(value.clone()));
        if let Some(o) = doc.as_object_mut() {
            let schemas = super::write::schemas(o);
            o.insert("schemas".into(), schemas);
        }
        if doc == row.doc.0 {
            continue;
        }
        let next = Row {
            version: row.version + 1,
            last_modified: ctx.now,
            doc: sqlx::types::Json(doc),
            ..row.clone()
        };
        resources::update(conn, tenant, &next).await?;
        let groups = groups_of(conn, tenant, rt, uid).await?;
        let resource = render::resource(
            &next,
            Relations {
                members: None,
                groups: groups.as_deref(),
            },
        );
        out.push(Change {
            resource: encode(&resource)?,
            changed_attributes: vec![format!("{ENTERPRISE_USER_SCHEMA}:manager")],
            ..change_for(
                ctx,
                cmd,
                rt,
                uid,
                Operation::Updated,
                version(next.version)?,
            )
        });
    }
    Ok(out)
}
