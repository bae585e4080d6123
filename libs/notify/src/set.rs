//! Changes as SCIM Security Event Tokens (RFC 9967, on RFC 8417): the
//! claims of one SET, which `jws::sign_jwt` signs.
//!
//! The events chosen, per kind of change:
//!
//! | kind        | events                                                    |
//! |-------------|-----------------------------------------------------------|
//! | created     | `prov:create:full`, `data` = the resource                 |
//! | updated     | `prov:patch:full`, `data` = a PatchOp of what changed     |
//! | membership  | `prov:patch:full`, `data` = add / remove of `members`     |
//! | activated   | `prov:patch:full` (as updated) and `prov:activate`        |
//! | deactivated | `prov:patch:full` (as updated) and `prov:deactivate`      |
//! | deleted     | `prov:delete` (no payload, no full/notice: §2.4.4)        |
//!
//! "full" rather than "notice" (§2.4): the app gets the values, as the
//! CloudEvents carry them, and need not call back with a SCIM GET it may
//! have no credentials for. An update is a `patch` (§2.4.2) and not a `put`
//! because a change lists what changed, not a whole replacement; a `put`'s
//! data would also claim a group without members had lost them all. Should a
//! change list nothing a PatchOp can say, the event is `prov:patch:notice`
//! with the changed paths as `attributes`. An activation is a patch of
//! `active` plus the `activate` signal in the same SET (§2.1: several event
//! URIs in one SET arise from one state change). A resource that left the
//! subscription's filter also gets `feed:remove` (§2.3.2), except on
//! delete (§2.4.4: a delete is never paired with a feed remove).

use scimbus_events::v1::Change;
use scimbus_scim::path::AttrPath;
use scimbus_scim::registry::get_ci;
use serde_json::{Map, Value, json};

use crate::kind::EventKind;

/// The media type of a SET (RFC 8417 §8.2).
pub const SECEVENT_JWT: &str = "application/secevent+jwt";

const PROV: &str = "urn:ietf:params:scim:event:prov";
const FEED_REMOVE: &str = "urn:ietf:params:scim:event:feed:remove";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// The claims of the SET for one change.
///
/// - `jti` is the change id: the same on every retry and replay, so a poll
///   acknowledgement (RFC 8936) names the change.
/// - `txn` (RFC 8417 §2.2, which RFC 9967 §2.2 requires for replication) is
///   the id of the command that caused the change, the store's transaction;
///   the change id when the command's is not known.
/// - `sub_id` (RFC 9493 `scim` format, RFC 9967 §2.1) holds `uri`
///   (`/Users/{id}`, relative to the tenant's SCIM base URI), `id`, and the
///   `externalId` when the resource has one.
/// - `toe` is the commit time in seconds; `iss`, `aud` and `iat` are the
///   caller's.
pub fn set_claims(
    change: &Change,
    kind: EventKind,
    left: bool,
    issuer: &str,
    audience: &str,
    issued_at_unix: i64,
) -> Value {
    let resource = serde_json::from_slice::<Value>(&change.resource).ok();
    let mut sub_id = Map::new();
    sub_id.insert("format".into(), "scim".into());
    sub_id.insert(
        "uri".into(),
        format!(
            "/{}/{}",
            endpoint(&change.resource_type),
            change.resource_id
        )
        .into(),
    );
    sub_id.insert("id".into(), change.resource_id.clone().into());
    if let Some(ext) = resource
        .as_ref()
        .and_then(Value::as_object)
        .and_then(|o| get_ci(o, "externalId"))
        .filter(|v| v.is_string())
    {
        sub_id.insert("externalId".into(), ext.clone());
    }
    let txn = if change.command_id.is_empty() {
        &change.id
    } else {
        &change.command_id
    };
    let mut claims = Map::new();
    claims.insert("iss".into(), issuer.into());
    claims.insert("iat".into(), issued_at_unix.into());
    claims.insert("jti".into(), change.id.clone().into());
    claims.insert("aud".into(), audience.into());
    claims.insert("txn".into(), txn.clone().into());
    claims.insert(
        "toe".into(),
        (change.committed_at_unix_micros.div_euclid(1_000_000)).into(),
    );
    claims.insert("sub_id".into(), Value::Object(sub_id));
    claims.insert(
        "events".into(),
        Value::Object(events(change, kind, left, resource)),
    );
    Value::Object(claims)
}

/// The resource type's endpoint name: `Users`, `Groups`.
fn endpoint(resource_type: &str) -> String {
    match resource_type.to_ascii_lowercase().as_str() {
        "user" => "Users".into(),
        "group" => "Groups".into(),
        _ => format!("{resource_type}s"),
    }
}

fn events(
    change: &Change,
    kind: EventKind,
    left: bool,
    resource: Option<Value>,
) -> Map<String, Value> {
    let version = json!(format!("W/\"{}\"", change.version));
    let mut events = Map::new();
    match kind {
        EventKind::Deleted => {
            events.insert(format!("{PROV}:delete"), json!({}));
            // §2.4.4: no feed:remove beside a delete.
            return events;
        }
        EventKind::Created => {
            let mut data = resource.unwrap_or_else(|| json!({}));
            // A group's resource comes without members; they are the ids
            // added, so the data is the whole group as created.
            if let Some(obj) = data.as_object_mut()
                && !change.members_added.is_empty()
            {
                obj.insert("members".into(), member_values(&change.members_added));
            }
            events.insert(
                format!("{PROV}:create:full"),
                json!({"version": version, "data": data}),
            );
        }
        EventKind::Updated
        | EventKind::Membership
        | EventKind::Activated
        | EventKind::Deactivated => {
            let ops = patch_operations(change, resource.as_ref());
            if ops.is_empty() {
                events.insert(
                    format!("{PROV}:patch:notice"),
                    json!({"version": version, "attributes": change.changed_attributes}),
                );
            } else {
                events.insert(
                    format!("{PROV}:patch:full"),
                    json!({
                        "version": version,
                        "data": {"schemas": [PATCH_OP], "Operations": ops},
                    }),
                );
            }
            match kind {
                EventKind::Activated => {
                    events.insert(format!("{PROV}:activate"), json!({}));
                }
                EventKind::Deactivated => {
                    events.insert(format!("{PROV}:deactivate"), json!({}));
                }
                _ => {}
            }
        }
    }
    if left {
        events.insert(FEED_REMOVE.into(), json!({}));
    }
    events
}

/// The PatchOp operations that bring a copy of the resource to its state
/// after the change: `replace` each changed path with its new value, or
/// `remove` it if it has none; members added with `add`, removed one
/// `remove` each by a value filter (RFC 9967 Figure 6, RFC 7644 §3.5.2.2).
fn patch_operations(change: &Change, resource: Option<&Value>) -> Vec<Value> {
    let mut ops = Vec::new();
    for path in &change.changed_attributes {
        if path.eq_ignore_ascii_case("members") {
            continue;
        }
        match resource.and_then(|r| value_at(r, path)) {
            Some(v) => ops.push(json!({"op": "replace", "path": path, "value": v})),
            None => ops.push(json!({"op": "remove", "path": path})),
        }
    }
    if !change.members_added.is_empty() {
        ops.push(json!({
            "op": "add",
            "path": "members",
            "value": member_values(&change.members_added),
        }));
    }
    for id in &change.members_removed {
        // A JSON string is a SCIM filter string literal, escapes included.
        let literal = Value::String(id.clone()).to_string();
        ops.push(json!({"op": "remove", "path": format!("members[value eq {literal}]")}));
    }
    ops
}

fn member_values(ids: &[String]) -> Value {
    Value::Array(ids.iter().map(|id| json!({"value": id})).collect())
}

/// The value of a canonical changed path (`title`, `name.givenName`,
/// `urn:…:enterprise:2.0:User:department`) in a resource; `None` when it
/// is absent or null.
fn value_at(resource: &Value, path: &str) -> Option<Value> {
    let p = AttrPath::parse(path).ok()?;
    let mut obj = resource.as_object()?;
    if let Some(uri) = &p.uri {
        obj = get_ci(obj, uri)?.as_object()?;
    }
    let mut v = get_ci(obj, &p.attr)?;
    if let Some(sub) = &p.sub_attr {
        v = get_ci(v.as_object()?, sub)?;
    }
    (!v.is_null()).then(|| v.clone())
}
