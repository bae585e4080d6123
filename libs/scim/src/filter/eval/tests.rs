//! Evaluator unit tests: the semantic choices documented on the module.

use serde_json::{Value, json};

use super::super::parse;
use super::*;
use crate::ScimType;

fn reg() -> Registry {
    Registry::standard().unwrap()
}

fn user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": "BJensen",
        "title": "",
        "nickName": null,
        "active": true,
        "name": {"familyName": "Jensen", "givenName": null},
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        "phoneNumbers": [],
        "addresses": [{"type": null}],
        "meta": {"lastModified": "2011-05-13T04:42:34Z"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984"}
    })
}

fn eval(filter: &str) -> bool {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    matches(&r, rt, &user(), &parse(filter).unwrap()).unwrap()
}

fn invalid(filter: &str) -> String {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    let e = validate(&r, rt, &parse(filter).unwrap()).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{filter}");
    let again = matches(&r, rt, &user(), &parse(filter).unwrap()).unwrap_err();
    assert_eq!(again, e);
    e.detail
}

#[test]
fn presence_treats_null_and_empty_as_absent() {
    for (f, want) in [
        ("userName pr", true),
        ("title pr", false),
        ("nickName pr", false),
        ("displayName pr", false),
        ("phoneNumbers pr", false),
        ("addresses pr", false),
        ("name pr", true),
        ("name.givenName pr", false),
        ("emails pr", true),
        ("emails.primary pr", true),
        ("title eq null", true),
        ("userName eq null", false),
        ("userName ne null", true),
        ("employeeNumber pr", true),
    ] {
        assert_eq!(eval(f), want, "{f}");
    }
}

#[test]
fn ne_matches_absent_and_any_differing_value() {
    for (f, want) in [
        ("displayName ne \"x\"", true),
        ("userName ne \"bjensen\"", false),
        ("userName ne \"other\"", true),
        ("emails.type ne \"work\"", true),
        ("emails.type ne \"other\"", true),
        ("emails[type ne \"work\"]", true),
        ("not (emails.type eq \"work\")", false),
        ("userName ne 5", false),
        ("userName eq 5", false),
        ("active eq \"true\"", false),
        ("active eq true", true),
        ("active ne false", true),
    ] {
        assert_eq!(eval(f), want, "{f}");
    }
}

#[test]
fn case_follows_case_exact_and_complex_reads_value() {
    for (f, want) in [
        ("USERNAME EQ \"bjensen\"", true),
        ("userName co \"JENS\"", true),
        ("userName sw \"bj\"", true),
        ("userName ew \"SEN\"", true),
        ("id eq \"2819C223-7F76-453A-919D-413861904646\"", false),
        ("id sw \"2819c223\"", true),
        ("emails co \"JENSEN.ORG\"", true),
        ("emails eq \"bjensen@example.com\"", true),
        (
            "schemas eq \"URN:ietf:params:scim:schemas:core:2.0:User\"",
            true,
        ),
        ("Schemas co \"enterprise\"", false),
        ("meta.lastModified eq \"2011-05-13T06:42:34+02:00\"", true),
        ("meta.lastModified gt \"2011-05-13T04:42:33.9Z\"", true),
        ("meta.lastModified sw \"2011-05\"", true),
        ("userName gt \"a\" and userName lt \"c\"", true),
        ("emails[type eq \"work\" and primary eq true]", true),
        ("emails[type eq \"home\" and primary eq true]", false),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"701984\"",
            true,
        ),
    ] {
        assert_eq!(eval(f), want, "{f}");
    }
}

#[test]
fn meaningless_filters_are_invalid() {
    assert_eq!(
        invalid("nope pr"),
        "\"nope\" is not an attribute of resource type User"
    );
    assert_eq!(
        invalid("active gt true"),
        "\"active\" is a boolean attribute, which \"gt\" cannot compare"
    );
    assert_eq!(
        invalid("emails.primary co \"t\""),
        "\"emails.primary\" is a boolean attribute, which \"co\" cannot compare"
    );
    assert_eq!(
        invalid("x509Certificates.value le \"x\""),
        "\"x509Certificates.value\" is a binary attribute, which \"le\" cannot compare"
    );
    assert_eq!(
        invalid("name eq \"x\""),
        "\"name\" is complex: compare one of its sub-attributes, or use pr"
    );
    assert_eq!(
        invalid("userName gt null"),
        "\"userName gt null\": null can only be compared with eq or ne"
    );
    assert_eq!(
        invalid("meta.created gt \"yesterday\""),
        "\"meta.created\" is a dateTime, but \"yesterday\" is not one (e.g. \"2011-05-13T04:42:34Z\")"
    );
    assert_eq!(
        invalid("userName[value pr]"),
        "\"userName[…]\": a value filter needs a complex attribute"
    );
    assert_eq!(
        invalid("emails[nope pr]"),
        "\"nope\" is not a sub-attribute of \"emails\""
    );
    assert_eq!(
        invalid("schemas.value pr"),
        "\"schemas.value\": \"schemas\" has no sub-attributes"
    );
    // Invalid in a branch that short-circuits: still rejected.
    invalid("userName pr or nope pr");
}

#[test]
fn hand_built_trees_are_checked_too() {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    let inner = parse("value pr").unwrap();
    let nested = Filter::ValuePath(
        AttrPath::new("emails", None),
        Box::new(Filter::ValuePath(
            AttrPath::new("emails", None),
            Box::new(inner),
        )),
    );
    assert!(
        validate(&r, rt, &nested)
            .unwrap_err()
            .detail
            .contains("cannot contain another")
    );
    let mut deep = parse("userName pr").unwrap();
    for _ in 0..1000 {
        deep = Filter::Not(Box::new(deep));
    }
    assert_eq!(
        validate(&r, rt, &deep).unwrap_err().detail,
        "the filter is nested too deeply"
    );
    let mut right = parse("userName pr").unwrap();
    for _ in 0..1000 {
        right = Filter::And(Box::new(parse("title pr").unwrap()), Box::new(right));
    }
    let e = validate(&r, rt, &right).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    assert_eq!(e.detail, "the filter is nested too deeply");
}

#[test]
fn element_filters_for_patch() {
    let r = reg();
    let rt = r.resource_type("User").unwrap();
    let emails = r.resolve(rt, &AttrPath::new("emails", None)).unwrap();
    let f = parse("type eq \"WORK\" and value ew \"example.com\"").unwrap();
    let doc = user();
    let hits: Vec<bool> = doc["emails"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| matches_element(&r, rt, &emails, e, &f).unwrap())
        .collect();
    assert_eq!(hits, [true, false]);
    let m = Matcher::for_element(&r, &emails, &parse("primary eq true").unwrap()).unwrap();
    assert!(m.matches(&doc["emails"][0]) && !m.matches(&doc["emails"][1]));
    assert!(!m.matches(&json!("not an object")));
    let bad = parse("emails.value pr").unwrap();
    let e = matches_element(&r, rt, &emails, &doc["emails"][0], &bad).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    assert_eq!(
        e.detail,
        "\"emails.value\": inside \"emails[…]\" only sub-attribute names are allowed"
    );
    let user_name = r.resolve(rt, &AttrPath::new("userName", None)).unwrap();
    let Err(e) = Matcher::for_element(&r, &user_name, &f) else {
        panic!("userName has no value filter");
    };
    assert_eq!(e.scim_type, Some(ScimType::InvalidFilter));
    assert_eq!(
        e.detail,
        "\"userName\" is not a complex attribute, so it has no value filter"
    );
}
