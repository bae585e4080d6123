use serde_json::json;

use super::*;
use crate::ScimType;
use crate::registry::{ENTERPRISE_USER_SCHEMA, USER_SCHEMA};

const ACME: &str = "urn:acme:scim:User";

/// The standard registry plus an extension with `returned: request`,
/// `always` and `never` characteristics at both levels.
fn reg() -> Registry {
    let mut r = Registry::standard().unwrap();
    r.add_extension_json(
        "User",
        &json!({"id": ACME, "attributes": [
            {"name": "badge"},
            {"name": "audit", "returned": "request"},
            {"name": "token", "type": "complex", "subAttributes": [
                {"name": "label"},
                {"name": "secret", "returned": "never"},
                {"name": "kid", "returned": "always"},
                {"name": "history", "returned": "request"}
            ]}
        ]}),
        false,
    )
    .unwrap();
    r
}

fn user() -> Value {
    json!({
        "schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA, ACME],
        "id": "2819c223",
        "externalId": "bjensen",
        "meta": {"resourceType": "User", "version": "W/\"3\""},
        "userName": "bjensen",
        "password": "t1meMa$heen",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org"}
        ],
        ENTERPRISE_USER_SCHEMA: {"department": "Tour Operations", "manager": {"value": "26118915", "displayName": "John Smith"}},
        ACME: {"badge": "B7", "audit": "x", "token": {"label": "l", "secret": "s", "kid": "k", "history": "h"}}
    })
}

fn project(attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    Projection::parse(&r, rt, attributes, excluded)
        .unwrap()
        .project(&r, rt, user())
}

#[test]
fn default_view_drops_never_and_request_attributes() {
    let got = project(None, None);
    let mut want = user();
    let obj = want.as_object_mut().unwrap();
    obj.remove("password");
    obj[ACME] = json!({"badge": "B7", "token": {"label": "l", "kid": "k"}});
    assert_eq!(got, want);
    assert_eq!(
        project(Some(" "), Some("")),
        want,
        "empty values count as absent"
    );
}

#[test]
fn attributes_keeps_always_and_the_named_ones() {
    assert_eq!(
        project(Some("userName"), None),
        json!({"schemas": [USER_SCHEMA], "id": "2819c223", "userName": "bjensen"})
    );
    // Names are case-insensitive and may be URN-qualified; unknown ones are ignored.
    let got = project(
        Some(" USERNAME , urn:ietf:params:scim:schemas:core:2.0:User:externalId,nope,urn:x:y:z"),
        None,
    );
    assert_eq!(
        got,
        json!({"schemas": [USER_SCHEMA], "id": "2819c223", "externalId": "bjensen", "userName": "bjensen"})
    );
    // Only unknown names: only the `always` attributes are left.
    assert_eq!(
        project(Some("nope"), None),
        json!({"schemas": [USER_SCHEMA], "id": "2819c223"})
    );
}

#[test]
fn sub_attribute_names_select_inside_complex_values() {
    let got = project(Some("name.givenName,meta.version"), None);
    assert_eq!(got["name"], json!({"givenName": "Barbara"}));
    assert_eq!(got["meta"], json!({"version": "W/\"3\""}));
    // A whole multi-valued attribute comes with all its sub-attributes ...
    assert_eq!(project(Some("emails"), None)["emails"], user()["emails"]);
    // ... a sub-attribute of it keeps only that, dropping emptied elements.
    assert_eq!(
        project(Some("emails.type"), None)["emails"],
        json!([{"type": "work"}])
    );
    assert!(project(Some("name.middleName"), None).get("name").is_none());
}

#[test]
fn extension_attributes_and_whole_extensions() {
    let got = project(
        Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
        None,
    );
    assert_eq!(
        got,
        json!({"schemas": [USER_SCHEMA, ENTERPRISE_USER_SCHEMA], "id": "2819c223",
               ENTERPRISE_USER_SCHEMA: {"manager": {"value": "26118915"}}})
    );
    // Unqualified extension attribute names resolve too.
    assert_eq!(
        project(Some("department"), None)[ENTERPRISE_USER_SCHEMA],
        json!({"department": "Tour Operations"})
    );
    let whole = project(Some(ENTERPRISE_USER_SCHEMA), None);
    assert_eq!(
        whole[ENTERPRISE_USER_SCHEMA],
        user()[ENTERPRISE_USER_SCHEMA]
    );
    assert!(whole.get("userName").is_none());
    // Naming the whole extension includes its `request` attributes, never `never`.
    assert_eq!(
        project(Some(ACME), None)[ACME],
        json!({"badge": "B7", "audit": "x", "token": {"label": "l", "kid": "k", "history": "h"}})
    );
}

#[test]
fn excluded_attributes_remove_from_the_default_set() {
    let got = project(None, Some("emails,meta,id,name.familyName"));
    assert_eq!(
        got["id"], "2819c223",
        "returned: always ignores excludedAttributes"
    );
    assert!(
        got.get("emails").is_none() && got.get("meta").is_none() && got.get("password").is_none()
    );
    assert_eq!(got["name"], json!({"givenName": "Barbara"}));
    assert_eq!(got["userName"], "bjensen");
    // Excluding a whole extension drops its object and its URN.
    let got = project(None, Some(ENTERPRISE_USER_SCHEMA));
    assert!(got.get(ENTERPRISE_USER_SCHEMA).is_none());
    assert_eq!(got["schemas"], json!([USER_SCHEMA, ACME]));
    // Excluding every remaining attribute of an extension drops it as well.
    let got = project(None, Some(&format!("badge,{ACME}:token")));
    assert!(got.get(ACME).is_none());
    assert_eq!(got["schemas"], json!([USER_SCHEMA, ENTERPRISE_USER_SCHEMA]));
    // An always sub-attribute survives exclusion of its siblings.
    assert_eq!(
        project(None, Some("token.label"))[ACME]["token"],
        json!({"kid": "k"})
    );
}

#[test]
fn request_and_always_sub_attributes() {
    assert_eq!(project(Some("audit"), None)[ACME], json!({"audit": "x"}));
    assert!(
        project(None, Some("badge"))
            .get(ACME)
            .unwrap()
            .get("audit")
            .is_none()
    );
    assert_eq!(
        project(Some("token.label"), None)[ACME]["token"],
        json!({"label": "l", "kid": "k"})
    );
    assert_eq!(
        project(Some("token.history"), None)[ACME]["token"],
        json!({"history": "h", "kid": "k"})
    );
    assert_eq!(
        project(Some("token"), None)[ACME]["token"],
        json!({"label": "l", "kid": "k", "history": "h"})
    );
    assert_eq!(
        project(Some("token.secret"), None)[ACME]["token"],
        json!({"kid": "k"})
    );
    assert!(project(Some("password"), None).get("password").is_none());
}

#[test]
fn both_parameters_attributes_wins() {
    assert_eq!(
        project(Some("userName"), Some("userName")),
        project(Some("userName"), None)
    );
}

#[test]
fn malformed_names_are_invalid_value() {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    for bad in ["emails[type eq \"work\"]", "a.b.c", "1abc"] {
        let e = Projection::parse(&r, rt, Some(bad), None).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{bad}");
        assert!(e.detail.starts_with("attributes: "), "{}", e.detail);
        let e = Projection::parse(&r, rt, None, Some(bad)).unwrap_err();
        assert!(e.detail.starts_with("excludedAttributes: "), "{}", e.detail);
    }
}

#[test]
fn unknown_keys_survive_unless_a_set_was_requested() {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    let doc = json!({"id": "1", "USERNAME": "b", "x-vendor": 1, "emails": [{"value": "a", "x": 2}, "junk"]});
    let all = Projection::default().project(&r, rt, doc.clone());
    assert_eq!(all, doc);
    let some = Projection::parse(&r, rt, Some("userName,emails.value"), None)
        .unwrap()
        .project(&r, rt, doc);
    assert_eq!(
        some,
        json!({"id": "1", "USERNAME": "b", "emails": [{"value": "a"}, "junk"]})
    );
    assert_eq!(
        Projection::default().project(&r, rt, json!("x")),
        json!("x")
    );
}

#[test]
fn wants_tells_the_store_what_to_load() {
    let r = reg();
    let group = r.resource_type("Group").unwrap();
    let user = r.resource_type("User").unwrap();
    let p = |s: &str| AttrPath::parse(s).unwrap();
    let parse = |rt, a, e| Projection::parse(&r, rt, a, e).unwrap();
    assert!(Projection::default().wants(&r, group, &p("members")));
    assert!(!parse(group, None, Some("members")).wants(&r, group, &p("members")));
    assert!(!parse(group, Some("displayName"), None).wants(&r, group, &p("members")));
    assert!(parse(group, Some("members.value"), None).wants(&r, group, &p("members")));
    assert!(parse(group, None, Some("members")).wants(&r, group, &p("id")));
    assert!(!Projection::default().wants(&r, user, &p("password")));
    assert!(!Projection::default().wants(&r, user, &p("nope")));
    let given = parse(user, Some("name.givenName"), None);
    assert!(given.wants(&r, user, &p("name")));
    assert!(given.wants(&r, user, &p("name.givenName")));
    assert!(!given.wants(&r, user, &p("name.familyName")));
    assert!(!given.wants(&r, user, &p(ENTERPRISE_USER_SCHEMA)));
    assert!(parse(user, Some("department"), None).wants(&r, user, &p(ENTERPRISE_USER_SCHEMA)));
    assert!(!Projection::default().wants(&r, user, &p("audit")));
    assert!(parse(user, Some("audit"), None).wants(&r, user, &p("audit")));
}

#[test]
fn strip_never_keeps_request_attributes() {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    let got = strip_never(&r, rt, user());
    assert!(got.get("password").is_none());
    assert_eq!(
        got[ACME],
        json!({"badge": "B7", "audit": "x", "token": {"label": "l", "kid": "k", "history": "h"}})
    );
    assert_eq!(got["schemas"], user()["schemas"]);
}
