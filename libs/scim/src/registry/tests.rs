use super::*;
use crate::schema::{AttributeType, Mutability, Returned};
use serde_json::json;

fn reg() -> Registry {
    Registry::standard().unwrap()
}

#[test]
fn standard_schemas_match_rfc7643() {
    let r = reg();
    let user = r.schema(USER_SCHEMA).unwrap();
    let un = user.attribute("userName").unwrap();
    assert!(un.required && !un.case_exact);
    assert_eq!(un.uniqueness, crate::schema::Uniqueness::Server);
    let pw = user.attribute("password").unwrap();
    assert_eq!(
        (pw.mutability, pw.returned),
        (Mutability::WriteOnly, Returned::Never)
    );
    let groups = user.attribute("groups").unwrap();
    assert_eq!(groups.mutability, Mutability::ReadOnly);
    assert!(groups.multi_valued);
    let emails = user.attribute("emails").unwrap();
    assert_eq!(
        emails.sub("type").unwrap().canonical_values,
        ["work", "home", "other"]
    );
    assert_eq!(emails.sub("primary").unwrap().kind, AttributeType::Boolean);
    assert_eq!(
        user.attribute("x509Certificates")
            .unwrap()
            .sub("value")
            .unwrap()
            .kind,
        AttributeType::Binary
    );
    let members = r
        .schema(GROUP_SCHEMA)
        .unwrap()
        .attribute("members")
        .unwrap();
    assert_eq!(
        members.sub("value").unwrap().mutability,
        Mutability::Immutable
    );
    assert!(members.sub("type").unwrap().canonical_binds(Some(members)));
    assert!(!emails.sub("type").unwrap().canonical_binds(Some(emails)));
    let ent = r.schema(ENTERPRISE_USER_SCHEMA).unwrap();
    assert_eq!(
        ent.attribute("manager")
            .unwrap()
            .sub("$ref")
            .unwrap()
            .reference_types,
        ["User"]
    );
    let id = r.common().attribute("id").unwrap();
    assert!(id.case_exact);
    assert_eq!(id.returned, Returned::Always);
    // The common attributes are not served as a schema of their own.
    assert!(r.schemas().iter().all(|s| s.attribute("meta").is_none()));
}

#[test]
fn resolves_plain_qualified_extension_and_case_insensitive_paths() {
    let r = reg();
    let user = r.resource_type("user").unwrap();
    let p = |s: &str| AttrPath::parse(s).unwrap();
    let res = r.resolve(user, &p("NAME.FAMILYNAME")).unwrap();
    assert_eq!(res.canonical(), "name.familyName");
    let res = r
        .resolve(
            user,
            &p("urn:ietf:params:scim:schemas:core:2.0:User:userName"),
        )
        .unwrap();
    assert_eq!(res.canonical(), "userName");
    let res = r
        .resolve(
            user,
            &p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"),
        )
        .unwrap();
    assert_eq!(res.extension, Some(ENTERPRISE_USER_SCHEMA));
    assert_eq!(res.leaf().name, "value");
    // Unqualified extension attribute, as some clients send it.
    let res = r.resolve(user, &p("department")).unwrap();
    assert_eq!(res.extension, Some(ENTERPRISE_USER_SCHEMA));
    assert_eq!(
        r.resolve(user, &p("meta.lastModified"))
            .unwrap()
            .leaf()
            .kind,
        AttributeType::DateTime
    );
    for bad in ["nope", "name.nope", "urn:x:y:userName", "members"] {
        let e = r.resolve(user, &p(bad)).unwrap_err();
        assert_eq!(e.scim_type, Some(crate::ScimType::InvalidPath), "{bad}");
    }
    let whole = p("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User");
    assert_eq!(
        r.whole_extension(user, &whole).unwrap().id,
        ENTERPRISE_USER_SCHEMA
    );
    let group = r.resource_type_by_endpoint("/groups").unwrap();
    assert!(r.whole_extension(group, &whole).is_none());
}

#[test]
fn reads_values_from_core_and_extension_containers() {
    let r = reg();
    let user = r.resource_type("User").unwrap();
    let doc = json!({
        "userName": "bjensen",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Sales"}
    });
    let dep = r.resolve(user, &AttrPath::new("department", None)).unwrap();
    assert_eq!(dep.value(&doc), Some(&json!("Sales")));
    let un = r.resolve(user, &AttrPath::new("USERNAME", None)).unwrap();
    assert_eq!(un.value(&doc), Some(&json!("bjensen")));
    let mut doc2 = json!({});
    dep.container_mut(&mut doc2, true)
        .unwrap()
        .insert("department".into(), json!("HR"));
    assert_eq!(dep.value(&doc2), Some(&json!("HR")));
}

#[test]
fn custom_extension_registers_and_resolves() {
    let mut r = reg();
    r.add_extension_json(
        "User",
        &json!({"id": "urn:acme:scim:User", "attributes": [{"name": "badge", "type": "integer"}]}),
        false,
    )
    .unwrap();
    let user = r.resource_type("User").unwrap();
    let res = r
        .resolve(user, &AttrPath::parse("urn:acme:scim:User:badge").unwrap())
        .unwrap();
    assert_eq!(res.leaf().kind, AttributeType::Integer);
    let dup = r.add_extension_json(
        "User",
        &json!({"id": "urn:acme:scim:User", "attributes": []}),
        false,
    );
    assert_eq!(dup.unwrap_err().status, 400);
    let e = r
        .add_extension_json("Device", &json!({"id": "urn:a:b", "attributes": []}), false)
        .unwrap_err();
    assert_eq!(e.scim_type, Some(crate::ScimType::InvalidValue));
    assert_eq!(e.detail, "unknown resource type \"Device\"");
}
