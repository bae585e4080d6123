//! Changes as CloudEvents 1.0 in structured-mode JSON (the JSON event
//! format), the body of a webhook or a NATS message.

use chrono::{DateTime, SecondsFormat};
use scimbus_events::v1::Change;
use serde_json::{Map, Value, json};

use crate::kind::EventKind;

/// The media type of a structured-mode CloudEvent in JSON.
pub const CLOUDEVENTS_JSON: &str = "application/cloudevents+json";

/// The CloudEvent of one change.
///
/// - `id` is the change's id, the same on every redelivery and replay, so
///   `source` + `id` deduplicate as the spec intends.
/// - `source` is the tenant's SCIM base path, `/scim/v2/{tenant}`.
/// - `type` is `dev.scimbus.<resource type>.<kind>`
///   (`dev.scimbus.group.membership`); `subject` the resource id.
/// - `time` is the commit time, RFC 3339 in UTC with microseconds (left out
///   if the change carries a time no date can hold).
/// - `sequence` (the Sequence extension) is the tenant's change sequence
///   written as 20 digits with leading zeros: the extension requires a
///   string whose lexicographic order is the event order, and 20 digits
///   hold every u64. `sequencetype` is left out: the extension's only
///   defined type, `Integer`, is a signed 32-bit counter that wraps, which
///   this sequence is not; it is contiguous per tenant from 1.
/// - `data` is `{"resource": <the resource after the change without
///   members, or null when deleted>, "changed": [paths], "members":
///   {"added": [...], "removed": [...]}, "left": true}`, `members` only for
///   a membership change or when either list has ids, `left` only when the
///   resource left the subscription's filter.
pub fn cloud_event(change: &Change, kind: EventKind, left: bool) -> Value {
    let mut data = Map::new();
    data.insert("resource".into(), resource_without_members(change));
    data.insert("changed".into(), json!(change.changed_attributes));
    if kind == EventKind::Membership
        || !change.members_added.is_empty()
        || !change.members_removed.is_empty()
    {
        data.insert(
            "members".into(),
            json!({"added": change.members_added, "removed": change.members_removed}),
        );
    }
    if left {
        data.insert("left".into(), Value::Bool(true));
    }
    let mut event = Map::new();
    event.insert("specversion".into(), "1.0".into());
    event.insert("id".into(), change.id.clone().into());
    event.insert(
        "source".into(),
        format!("/scim/v2/{}", change.tenant).into(),
    );
    event.insert(
        "type".into(),
        format!(
            "dev.scimbus.{}.{}",
            change.resource_type.to_ascii_lowercase(),
            kind.as_str()
        )
        .into(),
    );
    event.insert("subject".into(), change.resource_id.clone().into());
    if let Some(t) = DateTime::from_timestamp_micros(change.committed_at_unix_micros) {
        event.insert(
            "time".into(),
            t.to_rfc3339_opts(SecondsFormat::Micros, true).into(),
        );
    }
    event.insert("datacontenttype".into(), "application/json".into());
    event.insert("sequence".into(), format!("{:020}", change.sequence).into());
    event.insert("data".into(), Value::Object(data));
    Value::Object(event)
}

/// The resource after the change, `members` taken out (a group's members
/// travel as ids in `members.added` / `removed`, never whole); `null` on
/// delete or when the bytes are not a JSON object.
fn resource_without_members(change: &Change) -> Value {
    match serde_json::from_slice::<Value>(&change.resource) {
        Ok(Value::Object(mut obj)) => {
            obj.retain(|k, _| !k.eq_ignore_ascii_case("members"));
            Value::Object(obj)
        }
        _ => Value::Null,
    }
}
