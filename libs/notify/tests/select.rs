//! Which changes a subscription delivers: every branch of the selector.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{ENTERPRISE, admins, barbara, membership, user, whsec};
use scimbus_events::v1::change::Operation;
use scimbus_notify::{Decision, EventKind, Selector, SubscriptionSpec};
use scimbus_scim::Registry;
use serde_json::{Value, json};

/// The selector of a webhook subscription with `extra` settings.
fn selector(extra: Value) -> Selector {
    let mut body = json!({"delivery": {"type": "webhook", "url": "https://app.example.com/h", "secret": whsec(1, 32)}});
    for (k, v) in extra.as_object().unwrap() {
        body[k] = v.clone();
    }
    SubscriptionSpec::from_json(body.to_string().as_bytes())
        .unwrap()
        .check("app", &Registry::standard().unwrap(), true)
        .unwrap()
        .selector
}

fn deliver(kind: EventKind) -> Decision {
    Decision::Deliver { kind, left: false }
}

fn left(kind: EventKind) -> Decision {
    Decision::Deliver { kind, left: true }
}

const SALES: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Sales\"";

fn sales_filter() -> Selector {
    selector(json!({"filter": SALES}))
}

fn moved(to: &str) -> scimbus_events::v1::Change {
    user(
        Operation::Updated,
        barbara(to, true),
        &[&format!("{ENTERPRISE}:department")],
    )
}

#[test]
fn other_resource_types_and_unknown_operations_are_skipped() {
    let users = selector(json!({"resource_types": ["User"]}));
    let group = membership(&["u1"], &[]);
    assert_eq!(users.decide(&group, true).0, Decision::Skip);
    for op in [0, 99] {
        let mut c = user(Operation::Updated, barbara("Sales", true), &["title"]);
        c.operation = op;
        assert_eq!(users.decide(&c, true).0, Decision::Skip, "operation {op}");
    }
    let c = user(Operation::Updated, barbara("Sales", true), &["title"]);
    assert_eq!(users.decide(&c, false), (deliver(EventKind::Updated), true));
}

#[test]
fn without_a_filter_everything_selected_is_delivered_and_in() {
    let all = selector(json!({}));
    assert!(!all.has_filter());
    let c = user(Operation::Updated, barbara("Sales", true), &["title"]);
    // `was_in` means nothing without a filter.
    assert_eq!(all.decide(&c, false), (deliver(EventKind::Updated), true));
    assert_eq!(all.decide(&c, true), (deliver(EventKind::Updated), true));
    let gone = user(Operation::Deleted, Value::Null, &[]);
    assert_eq!(
        all.decide(&gone, false),
        (deliver(EventKind::Deleted), false)
    );
}

#[test]
fn kinds_not_subscribed_are_skipped() {
    let deletes = selector(json!({"events": ["deleted"]}));
    let c = user(Operation::Updated, barbara("Sales", true), &["title"]);
    assert_eq!(deletes.decide(&c, true), (Decision::Skip, true));
    let off = user(Operation::Deactivated, barbara("Sales", false), &["active"]);
    assert_eq!(deletes.decide(&off, true).0, Decision::Skip);
    let gone = user(Operation::Deleted, Value::Null, &[]);
    assert_eq!(deletes.decide(&gone, true).0, deliver(EventKind::Deleted));
}

#[test]
fn a_resource_entering_or_staying_in_the_filter_is_delivered() {
    let s = sales_filter();
    assert!(s.has_filter());
    assert_eq!(
        s.decide(&moved("Sales"), false),
        (deliver(EventKind::Updated), true)
    );
    assert_eq!(
        s.decide(&moved("Sales"), true),
        (deliver(EventKind::Updated), true)
    );
}

#[test]
fn a_resource_leaving_the_filter_is_delivered_as_left_whatever_else_is_chosen() {
    let s = selector(json!({"filter": SALES, "events": ["created"], "attributes": ["title"]}));
    assert_eq!(
        s.decide(&moved("Marketing"), true),
        (left(EventKind::Updated), false)
    );
    let plain = sales_filter();
    assert_eq!(
        plain.decide(&moved("Marketing"), true),
        (left(EventKind::Updated), false)
    );
}

#[test]
fn a_resource_never_in_the_filter_is_skipped() {
    let s = sales_filter();
    assert_eq!(
        s.decide(&moved("Marketing"), false),
        (Decision::Skip, false)
    );
}

#[test]
fn a_delete_with_a_filter_is_delivered_only_if_it_was_in() {
    let s = sales_filter();
    let gone = user(Operation::Deleted, Value::Null, &[]);
    assert_eq!(s.decide(&gone, true), (left(EventKind::Deleted), false));
    assert_eq!(s.decide(&gone, false), (Decision::Skip, false));
}

#[test]
fn a_resource_that_does_not_parse_is_not_in_the_filter() {
    let s = sales_filter();
    let mut broken = moved("Sales");
    broken.resource = b"{not json".to_vec();
    assert_eq!(s.decide(&broken, true), (left(EventKind::Updated), false));
    assert_eq!(s.decide(&broken, false), (Decision::Skip, false));
    // Without a filter nothing is parsed, so nothing can go wrong.
    assert_eq!(
        selector(json!({})).decide(&broken, false).0,
        deliver(EventKind::Updated)
    );
}

#[test]
fn a_filter_is_judged_only_on_the_types_selected() {
    let s = selector(json!({"filter": "displayName eq \"Admins\"", "resource_types": ["Group"]}));
    let g = user(Operation::Updated, admins(), &["displayName"]);
    // A User change is not selected at all; a Group change is judged.
    assert_eq!(s.decide(&g, true).0, Decision::Skip);
    let mut group = membership(&["u1"], &[]);
    group.operation = Operation::Updated as i32;
    assert_eq!(s.decide(&group, false), (deliver(EventKind::Updated), true));
}

#[test]
fn attributes_pass_changes_that_overlap_them() {
    let cases: [(&[&str], &[&str], bool); 10] = [
        (&["name.givenName"], &["name.givenName"], true),
        (&["NAME.GIVENNAME"], &["name.givenName"], true),
        (&["name"], &["name.givenName"], true),
        (&["name.givenName"], &["name"], true),
        (&["name.givenName"], &["name.familyName"], false),
        (&["title"], &["userName", "title"], true),
        (
            &[ENTERPRISE],
            &["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"],
            true,
        ),
        (
            &["department"],
            &["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"],
            true,
        ),
        (
            &["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"],
            &["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"],
            false,
        ),
        (&["emails.value"], &["emails"], true),
    ];
    for (attributes, changed, passes) in cases {
        let s = selector(json!({"attributes": attributes}));
        let c = user(Operation::Updated, barbara("Sales", true), changed);
        let want = if passes {
            deliver(EventKind::Updated)
        } else {
            Decision::Skip
        };
        assert_eq!(s.decide(&c, true).0, want, "{attributes:?} vs {changed:?}");
    }
}

#[test]
fn creates_and_deletes_pass_any_attributes() {
    let s = selector(json!({"attributes": ["title"]}));
    let born = user(Operation::Created, barbara("Sales", true), &["userName"]);
    assert_eq!(s.decide(&born, false).0, deliver(EventKind::Created));
    let gone = user(Operation::Deleted, Value::Null, &[]);
    assert_eq!(s.decide(&gone, true).0, deliver(EventKind::Deleted));
    let off = user(Operation::Deactivated, barbara("Sales", false), &["active"]);
    assert_eq!(s.decide(&off, true).0, Decision::Skip);
    let watching = selector(json!({"attributes": ["active"]}));
    assert_eq!(
        watching.decide(&off, true).0,
        deliver(EventKind::Deactivated)
    );
}

#[test]
fn a_membership_change_touches_members() {
    let members = selector(json!({"attributes": ["members"]}));
    let mut c = membership(&["u1"], &["u2"]);
    c.changed_attributes.clear();
    assert_eq!(members.decide(&c, true).0, deliver(EventKind::Membership));
    let names = selector(json!({"attributes": ["displayName"]}));
    assert_eq!(names.decide(&c, true).0, Decision::Skip);
}

#[test]
fn entering_the_filter_passes_the_attributes() {
    let s = selector(json!({"filter": SALES, "attributes": ["title"]}));
    assert_eq!(
        s.decide(&moved("Sales"), false),
        (deliver(EventKind::Updated), true)
    );
    assert_eq!(s.decide(&moved("Sales"), true), (Decision::Skip, true));
}
