//! Group members in commands: reading them from documents and PATCH values,
//! and checking that they name resources of the tenant.

use std::collections::HashSet;

use scimbus_db::members::{self as db_members, Member};
use scimbus_scim::ScimError;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::Step;

/// Members added and removed by a write.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delta {
    pub added: Vec<Uuid>,
    pub removed: Vec<Uuid>,
}

impl Delta {
    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty()
    }
}

/// Takes `members` out of a canonical group document: their ids, in order,
/// without duplicates.
pub fn take(doc: &mut Value) -> Result<Vec<Uuid>, ScimError> {
    match doc.as_object_mut().and_then(|d| d.remove("members")) {
        Some(v) => ids_of(&v, "members"),
        None => Ok(Vec::new()),
    }
}

/// The ids in a `members` value: a list of `{"value": id, …}` or one such
/// object (`$ref`, `display`, `type` and a `"$ref": null` are ignored).
pub fn ids_of(value: &Value, at: &str) -> Result<Vec<Uuid>, ScimError> {
    let items: &[Value] = match value {
        Value::Array(l) => l,
        Value::Null => &[],
        one => std::slice::from_ref(one),
    };
    let mut seen = HashSet::new();
    let mut ids = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let raw = item
            .get("value")
            .or_else(|| item.get("Value"))
            .and_then(Value::as_str)
            .ok_or_else(|| {
                ScimError::invalid_value(format!("{at}[{i}] has no \"value\" naming the member"))
            })?;
        let id = Uuid::parse_str(raw.trim()).map_err(|_| unknown(raw))?;
        if seen.insert(id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

fn unknown(id: &str) -> ScimError {
    ScimError::invalid_value(format!(
        "members: \"{id}\" is not the id of a User or Group of this tenant"
    ))
}

/// Checks that `ids` are Users or Groups of the tenant (and not the group
/// itself); returns them with their types.
pub async fn resolve(
    conn: &mut PgConnection,
    tenant: &str,
    group: Uuid,
    ids: &[Uuid],
) -> Step<Vec<Member>> {
    if let Some(own) = ids.iter().find(|id| **id == group) {
        return Ok(Err(ScimError::invalid_value(format!(
            "members: group {own} cannot be a member of itself"
        ))));
    }
    if ids.is_empty() {
        return Ok(Ok(Vec::new()));
    }
    let found = db_members::existing(conn, tenant, ids).await?;
    if found.len() < ids.len() {
        let known: HashSet<Uuid> = found.iter().map(|m| m.0).collect();
        if let Some(missing) = ids.iter().find(|id| !known.contains(id)) {
            return Ok(Err(unknown(&missing.to_string())));
        }
    }
    Ok(Ok(found))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn member_values_in_the_shapes_clients_send() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let list = json!([{"value": a.to_string(), "$ref": null}, {"value": b.to_string(), "display": "B"}, {"value": a.to_string()}]);
        assert_eq!(ids_of(&list, "members").unwrap(), vec![a, b]);
        assert_eq!(
            ids_of(&json!({"value": a.to_string()}), "m").unwrap(),
            vec![a]
        );
        assert!(ids_of(&Value::Null, "m").unwrap().is_empty());
        let e = ids_of(&json!([{"display": "x"}]), "members").unwrap_err();
        assert_eq!(e.detail, "members[0] has no \"value\" naming the member");
        let e = ids_of(&json!([{"value": "nope"}]), "members").unwrap_err();
        assert_eq!(e.status, 400);
        assert!(e.detail.contains("\"nope\""), "{}", e.detail);
    }

    #[test]
    fn members_are_taken_out_of_the_document() {
        let a = Uuid::now_v7();
        let mut doc = json!({"displayName": "G", "members": [{"value": a.to_string()}]});
        assert_eq!(take(&mut doc).unwrap(), vec![a]);
        assert_eq!(doc, json!({"displayName": "G"}));
        assert!(take(&mut doc).unwrap().is_empty());
    }
}
