//! CloudEvents: valid by the CloudEvents 1.0 JSON schema (vendored beside
//! this file, validated by the `jsonschema` crate with formats checked),
//! and carrying what the notifier promises.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{admins, barbara, change, membership, user};
use scimbus_events::v1::Change;
use scimbus_events::v1::change::Operation;
use scimbus_notify::{CLOUDEVENTS_JSON, EventKind, cloud_event};
use serde_json::{Value, json};

fn validator() -> jsonschema::Validator {
    let schema: Value = serde_json::from_str(include_str!("cloudevents.schema.json")).unwrap();
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft7)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap()
}

/// Valid by the schema, and every context attribute named as the spec
/// requires (lower-case ASCII letters and digits).
fn assert_valid(event: &Value) {
    let errors: Vec<String> = validator()
        .iter_errors(event)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{event}: {errors:?}");
    for key in event.as_object().unwrap().keys() {
        assert!(
            key.len() <= 20
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "attribute name {key}"
        );
    }
}

fn all_kinds() -> Vec<(Change, EventKind)> {
    let mut member = membership(&["u1", "u2"], &["u3"]);
    member.committed_at_unix_micros = 0;
    vec![
        (
            user(Operation::Created, barbara("Sales", true), &["userName"]),
            EventKind::Created,
        ),
        (
            user(Operation::Updated, barbara("Sales", true), &["title"]),
            EventKind::Updated,
        ),
        (
            user(Operation::Deleted, Value::Null, &[]),
            EventKind::Deleted,
        ),
        (
            user(Operation::Activated, barbara("Sales", true), &["active"]),
            EventKind::Activated,
        ),
        (
            user(Operation::Deactivated, barbara("Sales", false), &["active"]),
            EventKind::Deactivated,
        ),
        (member, EventKind::Membership),
    ]
}

#[test]
fn the_schema_refuses_what_is_not_a_cloud_event() {
    let v = validator();
    let good = json!({"specversion": "1.0", "id": "1", "source": "/x", "type": "t"});
    assert!(v.is_valid(&good));
    for bad in [
        json!({"specversion": "1.0", "source": "/x", "type": "t"}),
        json!({"specversion": "1.0", "id": "1", "source": "/x", "type": "t", "time": "yesterday"}),
        json!({"specversion": "1.0", "id": "", "source": "/x", "type": "t"}),
        json!({"specversion": "1.0", "id": "1", "source": "/x y", "type": "t"}),
    ] {
        assert!(!v.is_valid(&bad), "{bad}");
    }
}

#[test]
fn every_kind_and_a_leaver_is_a_valid_cloud_event() {
    for (c, kind) in all_kinds() {
        for left in [false, true] {
            let e = cloud_event(&c, kind, left);
            assert_valid(&e);
            assert_eq!(
                e["type"],
                format!(
                    "dev.scimbus.{}.{}",
                    c.resource_type.to_lowercase(),
                    kind.as_str()
                )
            );
            assert_eq!(e["data"].get("left"), left.then_some(&Value::Bool(true)));
        }
    }
    assert_eq!(CLOUDEVENTS_JSON, "application/cloudevents+json");
}

#[test]
fn an_update_carries_its_context_and_the_resource() {
    let c = user(
        Operation::Updated,
        barbara("Sales", true),
        &["title", "name.givenName"],
    );
    let e = cloud_event(&c, EventKind::Updated, false);
    assert_eq!(
        e,
        json!({
            "specversion": "1.0",
            "id": "0190a8f2-7b3c-7d4e-8f10-1a2b3c4d5e6f",
            "source": "/scim/v2/acme",
            "type": "dev.scimbus.user.updated",
            "subject": "2819c223-7f76-453a-919d-413861904646",
            "time": "2024-06-10T06:13:20.123456Z",
            "datacontenttype": "application/json",
            "sequence": "00000000000000000042",
            "data": {
                "resource": barbara("Sales", true),
                "changed": ["title", "name.givenName"]
            }
        })
    );
}

#[test]
fn a_group_travels_without_members_and_a_membership_change_with_ids() {
    let mut with_members = admins();
    with_members["members"] = json!([{"value": "u9"}]);
    let mut c = change(
        "Group",
        Operation::MembershipChanged,
        with_members,
        &["members"],
    );
    c.members_added = vec!["u1".into()];
    let e = cloud_event(&c, EventKind::Membership, false);
    assert_eq!(e["type"], "dev.scimbus.group.membership");
    assert_eq!(e["data"]["resource"], admins());
    assert_eq!(
        e["data"]["members"],
        json!({"added": ["u1"], "removed": []})
    );
    // A membership change lists members even when both lists are empty.
    let empty = change(
        "Group",
        Operation::MembershipChanged,
        admins(),
        &["members"],
    );
    let e = cloud_event(&empty, EventKind::Membership, false);
    assert_eq!(e["data"]["members"], json!({"added": [], "removed": []}));
    // Other changes list them only when they have some.
    let renamed = change("Group", Operation::Updated, admins(), &["displayName"]);
    assert!(
        cloud_event(&renamed, EventKind::Updated, false)["data"]
            .get("members")
            .is_none()
    );
    let mut replaced = renamed.clone();
    replaced.members_removed = vec!["u2".into()];
    let e = cloud_event(&replaced, EventKind::Updated, false);
    assert_eq!(
        e["data"]["members"],
        json!({"added": [], "removed": ["u2"]})
    );
}

#[test]
fn a_delete_has_no_resource() {
    let c = user(Operation::Deleted, Value::Null, &[]);
    let e = cloud_event(&c, EventKind::Deleted, true);
    assert_eq!(
        e["data"],
        json!({"resource": null, "changed": [], "left": true})
    );
    assert_eq!(e["subject"], "2819c223-7f76-453a-919d-413861904646");
}

#[test]
fn sequences_sort_as_text_in_change_order() {
    let mut c = user(Operation::Updated, barbara("Sales", true), &["title"]);
    let mut seqs = Vec::new();
    for n in [9, 10, 99, 100, 1_000_000, u64::MAX] {
        c.sequence = n;
        let s = cloud_event(&c, EventKind::Updated, false)["sequence"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(s.len(), 20);
        assert_eq!(s.parse::<u64>().unwrap(), n);
        seqs.push(s);
    }
    let mut sorted = seqs.clone();
    sorted.sort();
    assert_eq!(sorted, seqs);
}

#[test]
fn the_id_is_the_change_id_on_every_delivery() {
    let c = user(Operation::Updated, barbara("Sales", true), &["title"]);
    let a = cloud_event(&c, EventKind::Updated, false);
    let b = cloud_event(&c, EventKind::Updated, true);
    assert_eq!(a["id"], c.id.as_str());
    assert_eq!(a["id"], b["id"]);
}
