use serde_json::json;

use super::*;
use crate::registry::USER_SCHEMA;

const ACME: &str = "urn:acme:scim:User";

/// The standard registry plus an extension with a never-returned
/// sub-attribute and a never-returned attribute.
fn reg() -> Registry {
    let mut r = Registry::standard().unwrap();
    r.add_extension_json(
        "User",
        &json!({"id": ACME, "attributes": [
            {"name": "badge"},
            {"name": "pin", "returned": "never"},
            {"name": "token", "type": "complex", "multiValued": true, "subAttributes": [
                {"name": "label"},
                {"name": "secret", "returned": "never"}
            ]}
        ]}),
        false,
    )
    .unwrap();
    r
}

fn run(kind: Body, mut body: Value) -> Option<Value> {
    let r = reg();
    redact(&r, r.resource_type("User").unwrap(), kind, &mut body)
        .any
        .then_some(body)
}

/// The password a write sets, as `redact` takes it.
fn password(kind: Body, mut body: Value) -> Option<String> {
    let r = reg();
    redact(&r, r.resource_type("User").unwrap(), kind, &mut body).password
}

#[test]
fn a_resource_keeps_its_shape_without_the_values() {
    let got = run(
        Body::Resource,
        json!({
            "schemas": [USER_SCHEMA, ACME],
            "userName": "bjensen",
            "PASSWORD": "t1meMa$heen",
            ACME: {"badge": "B7", "pin": "1234", "token": [{"label": "l", "secret": "s3"}]}
        }),
    );
    assert_eq!(
        got,
        Some(json!({
            "schemas": [USER_SCHEMA, ACME],
            "userName": "bjensen",
            "PASSWORD": REDACTED,
            ACME: {"badge": "B7", "pin": REDACTED, "token": [{"label": "l", "secret": REDACTED}]}
        }))
    );
}

#[test]
fn a_qualified_name_is_the_same_attribute() {
    let got = run(
        Body::Resource,
        json!({"userName": "b", "urn:ietf:params:scim:schemas:core:2.0:User:password": "p"}),
    );
    assert_eq!(
        got,
        Some(
            json!({"userName": "b", "urn:ietf:params:scim:schemas:core:2.0:User:password": REDACTED})
        )
    );
}

#[test]
fn nothing_secret_is_none() {
    assert_eq!(
        run(
            Body::Resource,
            json!({"userName": "b", "name": {"givenName": "password"}})
        ),
        None
    );
    assert_eq!(
        run(
            Body::Patch,
            json!({"Operations": [{"op": "replace", "path": "displayName", "value": "password"}]})
        ),
        None
    );
    // Not the shape a write needs: left to the checks that refuse it.
    assert_eq!(run(Body::Patch, json!({"Operations": "password"})), None);
    assert_eq!(run(Body::Resource, json!(["password"])), None);
}

#[test]
fn patch_operations_of_every_form() {
    let got = run(
        Body::Patch,
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "operations": [
            {"op": "replace", "path": "password", "value": "p1"},
            {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "p2"},
            {"op": "add", "value": {"password": "p3", "displayName": "Babs"}},
            {"op": "add", "path": ACME, "value": {"pin": "p4", "badge": "B"}},
            {"op": "add", "path": "urn:acme:scim:User:token", "value": [{"label": "x", "secret": "p5"}]},
            {"op": "replace", "path": "urn:acme:scim:User:token[label eq \"x\"].secret", "value": "p6"},
            {"op": "remove", "path": "password"},
            {"op": "replace", "path": "displayName", "value": "p1"}
        ]}),
    );
    assert_eq!(
        got,
        Some(
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "operations": [
                {"op": "replace", "path": "password", "value": REDACTED},
                {"op": "Replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": REDACTED},
                {"op": "add", "value": {"password": REDACTED, "displayName": "Babs"}},
                {"op": "add", "path": ACME, "value": {"pin": REDACTED, "badge": "B"}},
                {"op": "add", "path": "urn:acme:scim:User:token", "value": [{"label": "x", "secret": REDACTED}]},
                {"op": "replace", "path": "urn:acme:scim:User:token[label eq \"x\"].secret", "value": REDACTED},
                {"op": "remove", "path": "password"},
                {"op": "replace", "path": "displayName", "value": "p1"}
            ]})
        )
    );
}

#[test]
fn types_without_secrets_are_known() {
    let r = reg();
    assert!(has_secrets(&r, r.resource_type("User").unwrap()));
    assert!(!has_secrets(&r, r.resource_type("Group").unwrap()));
}

#[test]
fn the_password_a_write_sets_is_taken_and_no_other_secret() {
    let user = |extra: Value| {
        let mut b = json!({"userName": "b"});
        b.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        b
    };
    assert_eq!(
        password(Body::Resource, user(json!({"Password": "p0"}))),
        Some("p0".into())
    );
    assert_eq!(
        password(
            Body::Resource,
            user(json!({"urn:ietf:params:scim:schemas:core:2.0:User:password": "p1"}))
        ),
        Some("p1".into())
    );
    // Other never-returned attributes are redacted, not passed on.
    assert_eq!(
        password(Body::Resource, user(json!({ACME: {"pin": "1234"}}))),
        None
    );
    assert_eq!(password(Body::Resource, user(json!({"password": 5}))), None);
    let ops = |ops: Value| json!({"Operations": ops});
    assert_eq!(
        password(
            Body::Patch,
            ops(json!([
                {"op": "replace", "path": "password", "value": "p1"},
                {"op": "add", "value": {"password": "p2"}},
                {"op": "replace", "path": "displayName", "value": "p3"}
            ]))
        ),
        Some("p2".into()),
        "the last operation on it decides"
    );
    assert_eq!(
        password(
            Body::Patch,
            ops(json!([
                {"op": "replace", "path": "password", "value": "p1"},
                {"op": "REMOVE", "path": "password"}
            ]))
        ),
        None,
        "removed after it was set: none to pass on"
    );
    assert_eq!(
        password(
            Body::Patch,
            ops(json!([
                {"op": "remove", "path": "password"},
                {"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:password", "value": "p4"}
            ]))
        ),
        Some("p4".into())
    );
    assert_eq!(
        password(
            Body::Patch,
            ops(json!([{"op": "replace", "path": "urn:acme:scim:User:pin", "value": "9"}]))
        ),
        None
    );
}
