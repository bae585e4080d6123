//! The bodies of the requests a target is sent, built from our resources
//! and the target's ids: pure, no network. What a change changed becomes a
//! PATCH, members go as `add` / `remove` operations in chunks, a resource
//! leaves as `active: false` or a DELETE.

use scimbus_scim::Registry;
use serde_json::{Map, Value, json};

pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// A PatchOp request of these operations.
pub fn patch_body(ops: Vec<Value>) -> Value {
    json!({"schemas": [PATCH_OP], "Operations": ops})
}

/// Adds these members (`{"value": <target id>}` each).
pub fn add_members(values: Vec<Value>) -> Value {
    json!({"op": "add", "path": "members", "value": values})
}

/// A member value of the target's id.
pub fn member(remote_id: &str) -> Value {
    json!({"value": remote_id})
}

/// Removes one member, by the target's id.
pub fn remove_member(remote_id: &str) -> Value {
    json!({"op": "remove", "path": format!("members[value eq {}]", Value::String(remote_id.to_string()))})
}

/// Deactivates a user.
pub fn deactivate() -> Value {
    json!({"op": "replace", "path": "active", "value": false})
}

/// `body` (as the target had it) with `active: false`, for a PUT.
pub fn deactivated(body: &Value) -> Value {
    let mut body = outgoing(body);
    if let Some(o) = body.as_object_mut() {
        o.insert("active".into(), Value::Bool(false));
    }
    body
}

/// A group's whole state as PATCH operations: its attributes replaced and
/// its members replaced by `first` (the rest are added in chunks after).
pub fn replace_group(body: &Value, first: Vec<Value>) -> Vec<Value> {
    let mut attrs = Map::new();
    for (k, v) in body.as_object().into_iter().flatten() {
        if k != "schemas" {
            attrs.insert(k.clone(), v.clone());
        }
    }
    vec![
        json!({"op": "replace", "value": attrs}),
        json!({"op": "replace", "path": "members", "value": first}),
    ]
}

/// `body` with these members (a group for a PUT or POST without PATCH).
pub fn with_members(body: &Value, members: Vec<Value>) -> Value {
    let mut full = body.clone();
    if let Some(o) = full.as_object_mut() {
        o.insert("members".into(), Value::Array(members));
    }
    full
}

/// The query that looks a resource up by one attribute.
pub fn lookup(endpoint: &str, key: &str, value: &str) -> String {
    let filter = format!("{key} eq {}", Value::String(value.to_string()));
    format!("{endpoint}?filter={}", percent_encode(&filter))
}

/// What a target is sent of a resource: no `id`, `meta`, a user's derived
/// `groups` or `password`, a group's `members` (sent separately).
pub fn outgoing(resource: &Value) -> Value {
    let mut out = Map::with_capacity(resource.as_object().map_or(0, Map::len));
    for (k, v) in resource.as_object().into_iter().flatten() {
        if !matches!(
            k.as_str(),
            "id" | "meta" | "groups" | "password" | "members"
        ) {
            out.insert(k.clone(), v.clone());
        }
    }
    Value::Object(out)
}

/// PATCH operations for the changed attribute paths: one `replace` (no
/// path) with every changed top-level attribute that has a value, and a
/// `remove` per changed path that has none.
pub fn changed_ops(registry: &Registry, body: &Value, changed: &[String]) -> Vec<Value> {
    let mut replace = Map::new();
    let mut removes = Vec::new();
    for path in changed {
        let (top, rest) = split_top(registry, path);
        if matches!(
            top,
            "id" | "meta" | "groups" | "password" | "members" | "schemas"
        ) {
            continue;
        }
        let Some(v) = body.get(top) else {
            removes.push(json!({"op": "remove", "path": path}));
            continue;
        };
        // A sub-attribute that went away is removed on its own (a replace
        // of a complex attribute leaves unnamed sub-attributes alone).
        if let Some(sub) = rest {
            let present = sub.split('.').try_fold(v, |node, k| node.get(k));
            if present.is_none() {
                removes.push(json!({"op": "remove", "path": path}));
                continue;
            }
        }
        replace.insert(top.to_string(), v.clone());
    }
    let mut ops = removes;
    if !replace.is_empty() {
        ops.insert(0, json!({"op": "replace", "value": replace}));
    }
    ops
}

/// The top-level key of a canonical path (an extension's URN for its
/// attributes) and the rest.
fn split_top<'p>(registry: &Registry, path: &'p str) -> (&'p str, Option<&'p str>) {
    for s in registry.schemas() {
        if let Some(rest) = path
            .strip_prefix(s.id.as_str())
            .and_then(|r| r.strip_prefix(':'))
        {
            if !registry.resource_types().iter().any(|rt| rt.schema == s.id) {
                return (&path[..s.id.len()], Some(rest));
            }
            // A core schema URN prefix: the attribute is top-level.
            return split_plain(rest);
        }
    }
    split_plain(path)
}

fn split_plain(path: &str) -> (&str, Option<&str>) {
    match path.split_once('.') {
        Some((a, b)) => (a, Some(b)),
        None => (path, None),
    }
}

pub fn remote_id(resource: &Value) -> Option<String> {
    match resource.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Percent-encodes a query value (everything but RFC 3986 unreserved).
pub fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn registry() -> Registry {
        Registry::standard().unwrap()
    }

    #[test]
    fn outgoing_drops_what_targets_must_not_get() {
        let r = json!({"schemas": ["s"], "id": "1", "meta": {}, "userName": "u",
            "groups": [{"value": "g"}], "password": "p", "externalId": "e"});
        assert_eq!(
            outgoing(&r),
            json!({"schemas": ["s"], "userName": "u", "externalId": "e"})
        );
    }

    #[test]
    fn changed_attributes_become_replace_and_remove() {
        let reg = registry();
        let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let body = json!({
            "userName": "u", "title": "Boss", "name": {"givenName": "B"},
            ent: {"department": "Sales"}
        });
        let changed: Vec<String> = [
            "title",
            "name.givenName",
            "name.familyName",
            "nickName",
            &format!("{ent}:department"),
            "meta.lastModified",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let ops = changed_ops(&reg, &body, &changed);
        assert_eq!(
            ops,
            vec![
                json!({"op": "replace", "value": {
                    "title": "Boss", "name": {"givenName": "B"}, ent: {"department": "Sales"}}}),
                json!({"op": "remove", "path": "name.familyName"}),
                json!({"op": "remove", "path": "nickName"}),
            ]
        );
        assert!(changed_ops(&reg, &body, &["meta.version".to_string()]).is_empty());
    }

    #[test]
    fn members_come_and_go_by_the_targets_ids() {
        assert_eq!(
            patch_body(vec![add_members(vec![member("r1"), member("r2")])]),
            json!({"schemas": [PATCH_OP], "Operations": [
                {"op": "add", "path": "members", "value": [{"value": "r1"}, {"value": "r2"}]}]})
        );
        assert_eq!(
            remove_member("a\"b"),
            json!({"op": "remove", "path": "members[value eq \"a\\\"b\"]"})
        );
    }

    #[test]
    fn a_group_is_replaced_whole_without_its_schemas() {
        let body = json!({"schemas": ["s"], "displayName": "G", "externalId": "e"});
        assert_eq!(
            replace_group(&body, vec![member("m")]),
            vec![
                json!({"op": "replace", "value": {"displayName": "G", "externalId": "e"}}),
                json!({"op": "replace", "path": "members", "value": [{"value": "m"}]}),
            ]
        );
        assert_eq!(
            deactivated(&json!({"id": "1", "meta": {}, "userName": "u", "active": true})),
            json!({"userName": "u", "active": false})
        );
    }

    #[test]
    fn filters_are_encoded_for_the_query() {
        assert_eq!(
            lookup("/Users", "userName", "b j"),
            "/Users?filter=userName%20eq%20%22b%20j%22"
        );
        assert_eq!(
            percent_encode("userName eq \"b j&n\""),
            "userName%20eq%20%22b%20j%26n%22"
        );
    }
}
