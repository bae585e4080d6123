//! Changes for the notifier's tests, shaped as the store publishes them.
#![allow(dead_code, clippy::unwrap_used)]

use scimbus_events::v1::Change;
use scimbus_events::v1::change::Operation;
use serde_json::{Value, json};

pub const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A change of `resource_type` with the resource after it (`Value::Null`
/// for none, as on delete) and the changed paths.
pub fn change(resource_type: &str, op: Operation, resource: Value, changed: &[&str]) -> Change {
    let resource_id = resource
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("2819c223-7f76-453a-919d-413861904646")
        .to_string();
    Change {
        id: "0190a8f2-7b3c-7d4e-8f10-1a2b3c4d5e6f".into(),
        tenant: "acme".into(),
        sequence: 42,
        resource_type: resource_type.into(),
        resource_id,
        operation: op as i32,
        version: 3,
        resource: if resource.is_null() {
            Vec::new()
        } else {
            serde_json::to_vec(&resource).unwrap()
        },
        changed_attributes: changed.iter().map(|s| s.to_string()).collect(),
        command_id: "0190a8f2-7b3c-7d4e-8f10-000000000001".into(),
        source: None,
        committed_at_unix_micros: 1_718_000_000_123_456,
        members_added: Vec::new(),
        members_removed: Vec::new(),
    }
}

/// Barbara, an engineer in Sales, after the change.
pub fn barbara(department: &str, active: bool) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "bjensen",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "title": "Engineer",
        "active": active,
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true}],
        ENTERPRISE: {"department": department, "employeeNumber": "701984"},
        "meta": {"resourceType": "User", "version": "W/\"3\""}
    })
}

pub fn user(op: Operation, resource: Value, changed: &[&str]) -> Change {
    change("User", op, resource, changed)
}

/// A group after a change (without members, as changes carry groups).
pub fn admins() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "id": "e9e30dba-f08f-4109-8486-d5c6a331660a",
        "displayName": "Admins",
        "meta": {"resourceType": "Group", "version": "W/\"3\""}
    })
}

pub fn membership(added: &[&str], removed: &[&str]) -> Change {
    let mut c = change(
        "Group",
        Operation::MembershipChanged,
        admins(),
        &["members"],
    );
    c.members_added = added.iter().map(|s| s.to_string()).collect();
    c.members_removed = removed.iter().map(|s| s.to_string()).collect();
    c
}

/// A `whsec_` secret of `n` bytes of `fill`.
pub fn whsec(fill: u8, n: usize) -> String {
    use base64::Engine;
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(vec![fill; n])
    )
}
