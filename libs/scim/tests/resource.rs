#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Resource validation and normalisation against RFC 7643 §8 examples and
//! what real identity providers send.

#[path = "support/rfc7643.rs"]
mod rfc7643;

use scimbus_scim::resource::{Intent, Leniency, normalize};
use scimbus_scim::{Registry, ScimType};
use serde_json::{Value, json};

const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";

fn reg() -> Registry {
    Registry::standard().unwrap()
}

fn user(input: Value) -> scimbus_scim::Result<Value> {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    normalize(&r, rt, &input, Intent::Create, Leniency::default())
}

fn group(input: Value) -> scimbus_scim::Result<Value> {
    let r = reg();
    let rt = r.resource_type("Group").unwrap();
    normalize(&r, rt, &input, Intent::Create, Leniency::default())
}

#[test]
fn rfc7643_examples_are_accepted_and_read_only_parts_dropped() {
    for example in [
        rfc7643::minimal_user(),
        rfc7643::full_user(),
        rfc7643::enterprise_user(),
    ] {
        let out = user(example.clone()).unwrap();
        for read_only in ["id", "meta", "groups"] {
            assert!(
                out.get(read_only).is_none(),
                "{read_only} must be ignored on input"
            );
        }
        assert_eq!(out["userName"], example["userName"]);
    }
    let full = user(rfc7643::full_user()).unwrap();
    assert_eq!(full["emails"], rfc7643::full_user()["emails"]);
    assert_eq!(full["addresses"][0]["postalCode"], "91608");
    assert_eq!(
        full["password"], "t1meMa$heen",
        "writeOnly is accepted on input"
    );
    let ent = user(rfc7643::enterprise_user()).unwrap();
    assert_eq!(
        ent["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENT])
    );
    assert_eq!(
        ent[ENT]["manager"],
        json!({
            "value": "26118915-6090-4610-87e4-49d8ca9f808d",
            "$ref": "../Users/26118915-6090-4610-87e4-49d8ca9f808d"
        }),
        "manager.displayName is readOnly"
    );
    let g = group(rfc7643::group()).unwrap();
    assert_eq!(
        g["members"][1]["value"],
        "902c246b-6245-4190-8e05-00816be7344a"
    );
    assert!(
        g["members"][0].get("display").is_none(),
        "members.display is readOnly"
    );
}

#[test]
fn names_match_case_insensitively_and_with_urn_prefix() {
    let out = user(json!({
        "SCHEMAS": ["urn:ietf:params:scim:schemas:core:2.0:user"],
        "USERNAME": "bjensen",
        "Name": {"GIVENNAME": "Barbara"},
        "urn:ietf:params:scim:schemas:core:2.0:User:displayName": "Babs",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber": "701984",
        "URN:IETF:PARAMS:SCIM:SCHEMAS:EXTENSION:ENTERPRISE:2.0:USER": {"Department": "Tours"}
    }))
    .unwrap();
    assert_eq!(out["userName"], "bjensen");
    assert_eq!(out["name"], json!({"givenName": "Barbara"}));
    assert_eq!(out["displayName"], "Babs");
    assert_eq!(
        out[ENT],
        json!({"employeeNumber": "701984", "department": "Tours"})
    );
    assert_eq!(out["schemas"][1], ENT);
}

#[test]
fn lenient_where_real_clients_are_sloppy() {
    // Entra ID: booleans as strings; a single value for a list; unknown
    // attributes (of known schemas) and unassigned values dropped.
    let out = user(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
        "userName": "a@contoso.com",
        "active": "True",
        "emails": {"value": "a@contoso.com", "type": "work", "primary": "true"},
        "roles": [],
        "nickName": null,
        "favouriteColour": "teal",
        "urn:ietf:params:scim:schemas:core:2.0:User:shoeSize": 42,
        ENT: {"x": 1}
    }))
    .unwrap();
    assert_eq!(out["active"], true);
    assert_eq!(
        out["emails"],
        json!([{"value": "a@contoso.com", "type": "work", "primary": true}])
    );
    assert!(out.get("roles").is_none() && out.get("nickName").is_none());
    assert!(out.get("favouriteColour").is_none() && out.get("shoeSize").is_none());
    assert_eq!(
        out["schemas"],
        json!(["urn:ietf:params:scim:schemas:core:2.0:User"])
    );
    // "$ref": null in members, member type in any case.
    let g = group(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Ops",
        "members": [{"value": "u1", "$ref": null, "type": "user"}]
    }))
    .unwrap();
    assert_eq!(g["members"], json!([{"value": "u1", "type": "User"}]));
}

#[test]
fn precise_errors_otherwise() {
    let cases: Vec<(Value, ScimType, &str)> = vec![
        (json!([1]), ScimType::InvalidSyntax, "JSON object"),
        (
            json!({"schemas": "x", "userName": "a"}),
            ScimType::InvalidSyntax,
            "schemas",
        ),
        (
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "userName": "a"}),
            ScimType::InvalidValue,
            "not a schema of resource type User",
        ),
        (
            json!({"schemas": [ENT], "userName": "a"}),
            ScimType::InvalidValue,
            "must include",
        ),
        (
            json!({"displayName": "no userName"}),
            ScimType::InvalidValue,
            "userName",
        ),
        (
            json!({"userName": "  "}),
            ScimType::InvalidValue,
            "userName",
        ),
        (
            json!({"userName": "a", "active": "yes"}),
            ScimType::InvalidValue,
            "active",
        ),
        (
            json!({"userName": "a", "name": "Barbara"}),
            ScimType::InvalidValue,
            "name",
        ),
        (
            json!({"userName": "a", "displayName": ["x"]}),
            ScimType::InvalidValue,
            "displayName",
        ),
        (
            json!({"userName": "a", "emails": [
            {"value": "a@x", "primary": true}, {"value": "b@x", "primary": true}]}),
            ScimType::InvalidValue,
            "primary",
        ),
        (
            json!({"userName": "a", "x509Certificates": [{"value": "not base64!"}]}),
            ScimType::InvalidValue,
            "x509Certificates[0].value",
        ),
        (
            json!({"userName": "a", "userName ": "b"}),
            ScimType::InvalidSyntax,
            "twice",
        ),
        (
            json!({"userName": "a", ENT: "Sales"}),
            ScimType::InvalidSyntax,
            ENT,
        ),
        (
            json!({"userName": "a", ENT: {"manager": {"$ref": "../Users/1"}}}),
            ScimType::InvalidValue,
            "value",
        ),
    ];
    for (input, scim_type, needle) in cases {
        let e = user(input.clone()).unwrap_err();
        assert_eq!(e.status, 400, "{input}");
        assert_eq!(e.scim_type, Some(scim_type), "{input}: {e}");
        assert!(
            e.detail.contains(needle),
            "{input}: {} lacks {needle}",
            e.detail
        );
    }
    let e = group(json!({"schemas": [GROUP], "displayName": "g", "members": [{"value": "1", "type": "Device"}]}))
        .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert!(e.detail.contains("members[0].type"), "{}", e.detail);
    let e =
        group(json!({"schemas": [GROUP], "displayName": "g", "members": [{"display": "no id"}]}));
    assert!(
        e.is_ok(),
        "display alone is readOnly, so the member is empty and dropped"
    );
}

#[test]
fn strict_mode_rejects_unknown_attributes() {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    let strict = Leniency {
        reject_unknown: true,
    };
    let e = normalize(
        &r,
        rt,
        &json!({"userName": "a", "shoeSize": 42}),
        Intent::Create,
        strict,
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
    assert!(e.detail.contains("shoeSize"));
}

#[test]
fn replace_keeps_immutable_values() {
    let mut r = reg();
    r.add_extension_json(
        "User",
        &json!({"id": "urn:acme:User", "attributes": [{"name": "badge", "mutability": "immutable"}]}),
        false,
    )
    .unwrap();
    let rt = r.resource_type("User").unwrap();
    let existing = normalize(
        &r,
        rt,
        &json!({"schemas": [CORE, "urn:acme:User"], "userName": "a", "urn:acme:User": {"badge": "B1"}}),
        Intent::Create,
        Leniency::default(),
    )
    .unwrap();
    let replace = Intent::Replace {
        existing: &existing,
    };
    let same = normalize(
        &r,
        rt,
        &json!({"schemas": [CORE], "userName": "b"}),
        replace,
        Leniency::default(),
    )
    .unwrap();
    assert_eq!(
        same["urn:acme:User"]["badge"], "B1",
        "left out: keeps its value"
    );
    assert_eq!(same["schemas"][1], "urn:acme:User");
    let e = normalize(
        &r,
        rt,
        &json!({"schemas": [CORE, "urn:acme:User"], "userName": "b", "urn:acme:User": {"badge": "B2"}}),
        replace,
        Leniency::default(),
    )
    .unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::Mutability));
    assert!(
        normalize(
            &r,
            rt,
            &json!({"schemas": [CORE, "urn:acme:User"], "userName": "b", "urn:acme:User": {"badge": "B1"}}),
            replace,
            Leniency::default()
        )
        .is_ok()
    );
}

#[test]
fn strict_where_the_rfcs_are() {
    let refused = |input: Value, needles: &[&str]| {
        let e = user(input.clone()).unwrap_err();
        assert_eq!(
            (e.status, e.scim_type),
            (400, Some(ScimType::InvalidValue)),
            "{input}: {e}"
        );
        for n in needles {
            assert!(e.detail.contains(n), "{input}: {} lacks {n}", e.detail);
        }
    };
    // RFC 7643 §3: `schemas` is required, and lists schemas the type has.
    refused(json!({"userName": "a"}), &["\"schemas\" is required"]);
    let nobody = "urn:example:params:scim:schemas:extension:nobody:2.0:User";
    refused(
        json!({"schemas": [CORE, nobody], "userName": "a"}),
        &["\"schemas\"", nobody, ENT],
    );
    // An extension nobody registered, as an object or as qualified names.
    refused(
        json!({"schemas": [CORE], "userName": "a", nobody: {"x": "1"}}),
        &[nobody, "register the extension"],
    );
    refused(
        json!({"schemas": [CORE], "userName": "a", format!("{nobody}:x"): "1"}),
        &[nobody],
    );
    refused(
        json!({"schemas": [CORE], "userName": "a", format!("{ENT}x:y"): "1"}),
        &["register"],
    );
    // No coercion but the documented ones.
    refused(
        json!({"schemas": [CORE], "userName": 12345}),
        &["userName: expected a string, found a number"],
    );
    refused(
        json!({"schemas": [CORE], "userName": "a", ENT: {"employeeNumber": 42}}),
        &[&format!("{ENT}:employeeNumber: expected a string")],
    );
    // Text the store cannot keep, wherever the value is.
    refused(
        json!({"schemas": [CORE], "userName": "a", "name": {"givenName": "x\u{0}"}}),
        &["name.givenName", "U+0000"],
    );
    refused(
        json!({"schemas": [CORE], "userName": "a", "emails": [{"value": "e".repeat(1025)}]}),
        &["emails[0].value", "1025 bytes", "1024"],
    );
    refused(
        json!({"schemas": [CORE], "userName": "a", "title": "t".repeat(65_537)}),
        &["title", "65536"],
    );
    assert!(
        user(json!({"schemas": [CORE], "userName": "u".repeat(1024), "title": "t".repeat(65_536)}))
            .is_ok()
    );
}

#[test]
fn integers_are_64_bit_and_not_strings() {
    let mut r = reg();
    r.add_extension_json(
        "User",
        &json!({"id": "urn:acme:User", "attributes": [{"name": "badge", "type": "integer"}]}),
        false,
    )
    .unwrap();
    let rt = r.resource_type("User").unwrap();
    let badge = |v: Value| {
        normalize(
            &r,
            rt,
            &json!({"schemas": [CORE, "urn:acme:User"], "userName": "a", "urn:acme:User": {"badge": v}}),
            Intent::Create,
            Leniency::default(),
        )
        .map(|out| out["urn:acme:User"]["badge"].clone())
    };
    assert_eq!(badge(json!(i64::MAX)).unwrap(), json!(i64::MAX));
    assert_eq!(
        badge(json!(-7.0)).unwrap(),
        json!(-7),
        "JSON has one number type"
    );
    for bad in [json!(u64::MAX), json!("42"), json!(1.5), json!(1e300)] {
        let e = badge(bad.clone()).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{bad}: {e}");
        assert!(
            e.detail
                .contains("urn:acme:User:badge: expected an integer"),
            "{bad}: {e}"
        );
    }
}

#[test]
fn a_replacement_checked_unseen_may_leave_out_immutable_required_attributes() {
    let mut r = reg();
    r.add_extension_json(
        "User",
        &json!({"id": "urn:acme:User", "attributes": [
            {"name": "badge", "mutability": "immutable", "required": true},
            {"name": "desk", "required": true}]}),
        false,
    )
    .unwrap();
    let rt = r.resource_type("User").unwrap();
    let body = json!({"schemas": [CORE, "urn:acme:User"], "userName": "a", "urn:acme:User": {"desk": "4"}});
    assert!(normalize(&r, rt, &body, Intent::ReplaceUnseen, Leniency::default()).is_ok());
    let e = normalize(&r, rt, &body, Intent::Create, Leniency::default()).unwrap_err();
    assert!(e.detail.contains("badge"), "{e}");
    let no_desk = json!({"schemas": [CORE, "urn:acme:User"], "userName": "a", "urn:acme:User": {"badge": "1"}});
    let e = normalize(&r, rt, &no_desk, Intent::ReplaceUnseen, Leniency::default()).unwrap_err();
    assert!(e.detail.contains("desk"), "{e}");
}
