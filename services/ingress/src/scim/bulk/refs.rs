//! `bulkId:` references (RFC 7644 §3.7.2): a string value that is exactly
//! `bulkId:<id>`, at any depth of an operation's `data` (a group member's
//! `value`, a manager's `value`, a PATCH `value`), or the id segment of its
//! `path` (`/Groups/bulkId:qwerty`), stands for the id of the resource the
//! POST with that `bulkId` created.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

const PREFIX: &str = "bulkId:";

/// The `bulkId` a string refers to, if it is a reference.
pub fn reference(s: &str) -> Option<&str> {
    s.strip_prefix(PREFIX).filter(|b| !b.is_empty())
}

/// The `bulkId`s an operation refers to in its path's `id` and its `data`,
/// each once, in the order written.
pub fn of(id: Option<&str>, data: &Value) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(b) = id.and_then(reference) {
        out.push(b.to_string());
    }
    walk(data, &mut |s| {
        if let Some(b) = reference(s)
            && !out.iter().any(|o| o == b)
        {
            out.push(b.to_string());
        }
    });
    out
}

fn walk(v: &Value, f: &mut impl FnMut(&str)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(l) => l.iter().for_each(|x| walk(x, f)),
        Value::Object(o) => o.values().for_each(|x| walk(x, f)),
        _ => {}
    }
}

/// Whether `v` holds a reference to one of `ids`.
fn mentions(v: &Value, ids: &HashSet<String>) -> bool {
    let mut found = false;
    walk(v, &mut |s| {
        found |= reference(s).is_some_and(|b| ids.contains(b))
    });
    found
}

/// Replaces every reference whose id is known.
pub fn substitute(v: &mut Value, ids: &HashMap<String, String>) {
    match v {
        Value::String(s) => {
            if let Some(id) = reference(s).and_then(|b| ids.get(b)) {
                *s = id.clone();
            }
        }
        Value::Array(l) => l.iter_mut().for_each(|x| substitute(x, ids)),
        Value::Object(o) => o.values_mut().for_each(|x| substitute(x, ids)),
        _ => {}
    }
}

/// Takes the references to `later` (resources not created yet: a circular
/// reference) out of a POST's data, and returns the PATCH operations that
/// put them back once those resources exist: a list element that mentions
/// one (a group member) is added to its list afterwards, any other
/// attribute (a manager) is set afterwards. `None` when a reference sits
/// where no PATCH can put it (in `schemas`).
pub fn defer(data: &mut Value, later: &HashSet<String>) -> Option<Vec<Value>> {
    let mut ops = Vec::new();
    let obj = data.as_object_mut()?;
    for (key, v) in obj.iter_mut() {
        if key.eq_ignore_ascii_case("schemas") {
            continue;
        }
        let is_extension = key.to_ascii_lowercase().starts_with("urn:");
        match v.as_object_mut() {
            Some(ext) if is_extension => {
                ops.extend(defer_attributes(ext, later, &format!("{key}:")));
            }
            _ => ops.extend(defer_attribute(key, v, later, "")),
        }
    }
    obj.retain(|_, v| !v.is_null());
    // An attribute taken out whole left a null behind; nothing else does.
    for (key, v) in obj.iter_mut() {
        if key.to_ascii_lowercase().starts_with("urn:")
            && let Some(ext) = v.as_object_mut()
        {
            ext.retain(|_, x| !x.is_null());
        }
    }
    (!mentions(data, later)).then_some(ops)
}

fn defer_attributes(
    obj: &mut Map<String, Value>,
    later: &HashSet<String>,
    prefix: &str,
) -> Vec<Value> {
    obj.iter_mut()
        .flat_map(|(key, v)| defer_attribute(key, v, later, prefix))
        .collect()
}

fn defer_attribute(
    key: &str,
    v: &mut Value,
    later: &HashSet<String>,
    prefix: &str,
) -> Option<Value> {
    if !mentions(v, later) {
        return None;
    }
    let path = format!("{prefix}{key}");
    let value = match v {
        Value::Array(items) => {
            let (moved, kept): (Vec<Value>, Vec<Value>) = std::mem::take(items)
                .into_iter()
                .partition(|x| mentions(x, later));
            *items = kept;
            Value::Array(moved)
        }
        other => std::mem::take(other),
    };
    Some(json!({"op": "add", "path": path, "value": value}))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn references_in_paths_and_data() {
        let data = json!({"Operations": [{"op": "add", "path": "members", "value": [{"value": "bulkId:u"}, {"value": "bulkId:g"}, {"value": "bulkId:"}]}]});
        assert_eq!(
            of(Some("bulkId:g"), &data),
            vec!["g".to_string(), "u".to_string()]
        );
        let mut data = data.clone();
        substitute(
            &mut data,
            &HashMap::from([("u".to_string(), "42".to_string())]),
        );
        assert_eq!(data["Operations"][0]["value"][0]["value"], "42");
        assert_eq!(data["Operations"][0]["value"][1]["value"], "bulkId:g");
        assert_eq!(reference("bulkid:x"), None, "the prefix is case-sensitive");
    }

    #[test]
    fn circular_references_are_deferred_to_a_patch() {
        let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let mut data = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "A",
            "members": [{"value": "bulkId:b", "type": "Group"}, {"value": "bulkId:c"}],
            ent: {"manager": {"value": "bulkId:b"}, "department": "x"}
        });
        let ops = defer(&mut data, &set(&["b"])).unwrap();
        assert_eq!(data["members"], json!([{"value": "bulkId:c"}]));
        assert_eq!(data[ent], json!({"department": "x"}));
        assert_eq!(ops.len(), 2);
        assert_eq!(
            ops[0],
            json!({"op": "add", "path": "members", "value": [{"value": "bulkId:b", "type": "Group"}]})
        );
        assert_eq!(
            ops[1],
            json!({"op": "add", "path": format!("{ent}:manager"), "value": {"value": "bulkId:b"}})
        );
        let mut plain = json!({"displayName": "bulkId:b"});
        assert_eq!(defer(&mut plain, &set(&["b"])).unwrap().len(), 1);
        assert_eq!(plain, json!({}));
        let mut odd = json!({"schemas": ["bulkId:b"]});
        assert_eq!(defer(&mut odd, &set(&["b"])), None);
    }
}
