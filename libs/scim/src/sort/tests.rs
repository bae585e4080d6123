use serde_json::json;

use super::*;
use crate::ScimType;
use crate::registry::ENTERPRISE_USER_SCHEMA;

fn reg() -> Registry {
    let mut r = Registry::standard().unwrap();
    r.add_extension_json(
        "User",
        &json!({"id": "urn:acme:scim:User", "attributes": [
            {"name": "level", "type": "integer"},
            {"name": "score", "type": "decimal"},
            {"name": "vip", "type": "boolean"},
            {"name": "photo", "type": "binary"},
            {"name": "tags", "multiValued": true},
            {"name": "hash", "returned": "never"},
            {"name": "pin", "mutability": "writeOnly"}
        ]}),
        false,
    )
    .unwrap();
    r
}

/// Sorts `docs` by `sort_by`/`sort_order` and returns their `id`s.
fn ids(sort_by: &str, sort_order: Option<&str>, docs: &[Value]) -> Vec<String> {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    let key = SortKey::parse(&r, rt, sort_by, sort_order).unwrap();
    let mut by_compare = docs.to_vec();
    by_compare.sort_by(|a, b| key.compare(&r, rt, a, b));
    let mut by_sort = docs.to_vec();
    key.sort(&r, rt, &mut by_sort);
    assert_eq!(by_compare, by_sort, "compare and sort agree");
    by_sort
        .iter()
        .map(|d| d["id"].as_str().unwrap().to_string())
        .collect()
}

fn users(names: &[(&str, Value)]) -> Vec<Value> {
    names
        .iter()
        .map(|(id, user_name)| json!({"id": id, "userName": user_name}))
        .collect()
}

#[test]
fn sort_order_parses_case_insensitively() {
    assert_eq!(SortOrder::parse(None), Ok(SortOrder::Ascending));
    assert_eq!(SortOrder::parse(Some(" ")), Ok(SortOrder::Ascending));
    assert_eq!(
        SortOrder::parse(Some("ASCENDING")),
        Ok(SortOrder::Ascending)
    );
    assert_eq!(
        SortOrder::parse(Some("Descending")),
        Ok(SortOrder::Descending)
    );
    for bad in ["desc", "asc", "up", "-1"] {
        let e = SortOrder::parse(Some(bad)).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{bad}");
    }
}

#[test]
fn parse_canonicalises_and_defaults_complex_to_value() {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    let key = SortKey::parse(&r, rt, "NAME.givenname", Some("descending")).unwrap();
    assert_eq!(key.path.to_string(), "name.givenName");
    assert_eq!(key.order, SortOrder::Descending);
    assert_eq!(
        SortKey::parse(&r, rt, "emails", None)
            .unwrap()
            .path
            .to_string(),
        "emails.value"
    );
    assert_eq!(
        SortKey::parse(&r, rt, "manager", None)
            .unwrap()
            .path
            .to_string(),
        format!("{ENTERPRISE_USER_SCHEMA}:manager.value")
    );
    assert_eq!(
        SortKey::parse(
            &r,
            rt,
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            None
        )
        .unwrap()
        .path
        .to_string(),
        "userName"
    );
}

#[test]
fn parse_rejects_what_cannot_be_sorted() {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    for bad in [
        "nope",
        "name.nope",
        "name",
        "photo",
        "password",
        "hash",
        "pin",
        "",
        "a.b.c",
        ENTERPRISE_USER_SCHEMA,
    ] {
        let e = SortKey::parse(&r, rt, bad, None).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue), "{bad}");
        assert_eq!(e.status, 400);
    }
    let e = SortKey::parse(&r, rt, "userName", Some("sideways")).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    assert!(e.detail.contains("sortOrder \"sideways\""), "{}", e.detail);
}

#[test]
fn strings_follow_case_exact() {
    let docs = users(&[
        ("1", json!("bob")),
        ("2", json!("Alice")),
        ("3", json!("carol")),
    ]);
    assert_eq!(ids("userName", None, &docs), ["2", "1", "3"]);
    assert_eq!(ids("userName", Some("descending"), &docs), ["3", "1", "2"]);
    // `id` is caseExact: upper case sorts before lower case.
    let docs = vec![json!({"id": "b"}), json!({"id": "B"}), json!({"id": "a"})];
    assert_eq!(ids("id", None, &docs), ["B", "a", "b"]);
}

#[test]
fn missing_values_are_last_ascending_and_first_descending() {
    let docs = vec![
        json!({"id": "none"}),
        json!({"id": "b", "userName": "b"}),
        json!({"id": "null", "userName": null}),
        json!({"id": "a", "userName": "a"}),
        json!({"id": "num", "userName": 7}),
    ];
    assert_eq!(
        ids("userName", None, &docs),
        ["a", "b", "none", "null", "num"]
    );
    assert_eq!(
        ids("userName", Some("descending"), &docs),
        ["none", "null", "num", "b", "a"]
    );
}

#[test]
fn ties_keep_their_order() {
    let docs = users(&[
        ("1", json!("x")),
        ("2", json!("X")),
        ("3", json!("a")),
        ("4", json!("x")),
    ]);
    assert_eq!(ids("userName", None, &docs), ["3", "1", "2", "4"]);
    assert_eq!(
        ids("userName", Some("descending"), &docs),
        ["1", "2", "4", "3"]
    );
}

#[test]
fn multi_valued_sorts_by_primary_else_first() {
    let docs = vec![
        json!({"id": "p", "emails": [{"value": "z@x"}, {"value": "a@x", "primary": true}]}),
        json!({"id": "f", "emails": [{"value": "m@x"}, {"value": "b@x"}]}),
        json!({"id": "e", "emails": []}),
        json!({"id": "t", "emails": [{"type": "work"}]}),
    ];
    assert_eq!(ids("emails", None, &docs), ["p", "f", "e", "t"]);
    assert_eq!(
        ids("emails.value", Some("descending"), &docs),
        ["e", "t", "f", "p"]
    );
    let docs = vec![
        json!({"id": "1", "urn:acme:scim:User": {"tags": ["b", "a"]}}),
        json!({"id": "2", "urn:acme:scim:User": {"tags": ["a"]}}),
    ];
    assert_eq!(ids("tags", None, &docs), ["2", "1"]);
}

#[test]
fn datetimes_sort_as_instants_and_junk_counts_as_missing() {
    let at = |id: &str, t: &str| json!({"id": id, "meta": {"lastModified": t}});
    let docs = vec![
        at("late", "2011-05-13T06:42:34+00:00"),
        at("junk", "yesterday"),
        at("early", "2011-05-13T07:42:34+02:00"),
    ];
    assert_eq!(
        ids("meta.lastModified", None, &docs),
        ["early", "late", "junk"]
    );
}

#[test]
fn numbers_and_booleans() {
    let ext = |id: &str, v: Value| json!({"id": id, "urn:acme:scim:User": v});
    let docs = vec![
        ext("10", json!({"level": 10, "score": 2, "vip": true})),
        ext("9", json!({"level": 9, "score": 2.5, "vip": false})),
        ext("x", json!({"level": "11", "score": 1e300})),
        ext("neg", json!({"level": -3, "score": -0.5})),
    ];
    assert_eq!(ids("level", None, &docs), ["neg", "9", "10", "x"]);
    assert_eq!(ids("score", None, &docs), ["neg", "10", "9", "x"]);
    assert_eq!(ids("vip", None, &docs), ["9", "10", "x", "neg"]);
    assert_eq!(
        ids("vip", Some("descending"), &docs),
        ["x", "neg", "10", "9"]
    );
}

#[test]
fn extension_and_unresolvable_keys() {
    let dep = |id: &str, d: &str| json!({"id": id, ENTERPRISE_USER_SCHEMA: {"department": d}});
    let docs = vec![dep("s", "Sales"), dep("h", "HR"), json!({"id": "n"})];
    assert_eq!(ids("department", None, &docs), ["h", "s", "n"]);
    let r = reg();
    let group = r.resource_type("Group").unwrap();
    let key = SortKey {
        path: AttrPath::new("userName", None),
        order: SortOrder::Ascending,
    };
    // A key built for another resource type leaves the order alone.
    assert_eq!(key.compare(&r, group, &docs[0], &docs[1]), Ordering::Equal);
    let mut same = docs.clone();
    key.sort(&r, group, &mut same);
    assert_eq!(same, docs);
}
