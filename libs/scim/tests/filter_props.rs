//! Property tests for the filter language: printing and parsing agree on
//! every tree, the parser never panics, and neither does evaluation.

use proptest::prelude::*;
use scimbus_scim::filter::{CompValue, CompareOp, Filter, Matcher, matches, parse};
use scimbus_scim::{AttrPath, Registry, ScimType};
use serde_json::{Number, Value, json};

/// 512 cases by default; more with `SCIMBUS_PROPTEST_CASES=100000`, as for
/// the other property tests of this crate.
fn config() -> ProptestConfig {
    let cases = std::env::var("SCIMBUS_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(512);
    ProptestConfig::with_cases(cases)
}

const OPS: [CompareOp; 9] = [
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

fn op() -> impl Strategy<Value = CompareOp> {
    proptest::sample::select(&OPS[..])
}

/// Attribute names, including ones that spell keywords.
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        1 => proptest::sample::select(&["and", "or", "not", "pr", "eq", "true", "null", "$ref", "AND"][..])
            .prop_map(str::to_string),
    ]
}

fn urn() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("urn:ietf:params:scim:schemas:core:2.0:User".to_string()),
        Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_string()),
        "[uU][rR][nN](:[a-zA-Z0-9.-]{1,6}){1,4}",
    ]
}

fn abs_path() -> impl Strategy<Value = AttrPath> {
    (
        proptest::option::of(urn()),
        name(),
        proptest::option::of(name()),
    )
        .prop_map(|(uri, attr, sub)| AttrPath {
            uri,
            attr,
            sub_attr: sub,
        })
}

/// Paths for the head of a value path: no sub-attribute.
fn complex_path() -> impl Strategy<Value = AttrPath> {
    (proptest::option::of(urn()), name()).prop_map(|(uri, attr)| AttrPath {
        uri,
        attr,
        sub_attr: None,
    })
}

fn rel_path() -> impl Strategy<Value = AttrPath> {
    name().prop_map(|n| AttrPath::new(n, None))
}

fn number() -> impl Strategy<Value = Number> {
    prop_oneof![
        any::<i64>().prop_map(Number::from),
        any::<u64>().prop_map(Number::from),
        any::<f64>().prop_filter_map("finite", Number::from_f64),
        (-1000.0..1000.0f64).prop_filter_map("finite", Number::from_f64),
    ]
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        number().prop_map(CompValue::Number),
        // Any text a value can hold: no control character but tab, line
        // feed and carriage return (a literal with another is refused).
        any::<String>()
            .prop_map(|s| s.replace(|c: char| c < ' ' && !"\t\n\r".contains(c), ""))
            .prop_map(CompValue::Str),
        "[\"\\\\/ a-zé😀\r\u{7f}\t\n]{0,10}".prop_map(CompValue::Str),
    ]
}

fn leaf(path: BoxedStrategy<AttrPath>) -> impl Strategy<Value = Filter> {
    prop_oneof![
        path.clone().prop_map(Filter::Present),
        (path, op(), comp_value()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
    ]
}

/// Wraps `leaf` in `not`, `and` and `or`.
fn logic(leaf: BoxedStrategy<Filter>, depth: u32, size: u32) -> BoxedStrategy<Filter> {
    leaf.prop_recursive(depth, size, 2, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            (inner.clone(), inner.clone()).prop_map(|(l, r)| Filter::And(Box::new(l), Box::new(r))),
            (inner.clone(), inner).prop_map(|(l, r)| Filter::Or(Box::new(l), Box::new(r))),
        ]
    })
    .boxed()
}

/// Trees the parser can produce from arbitrary text.
fn filter() -> impl Strategy<Value = Filter> {
    let value_filter = logic(leaf(rel_path().boxed()).boxed(), 3, 24);
    let value_path =
        (complex_path(), value_filter).prop_map(|(p, f)| Filter::ValuePath(p, Box::new(f)));
    let top = prop_oneof![3 => leaf(abs_path().boxed()), 1 => value_path];
    logic(top.boxed(), 4, 24)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn printing_then_parsing_gives_the_same_tree(f in filter()) {
        let text = f.to_string();
        prop_assert_eq!(parse(&text), Ok(f), "{}", text);
    }

    #[test]
    fn parse_never_panics_on_arbitrary_text(s in any::<String>()) {
        check_parse(&s)?;
    }

    #[test]
    fn parse_never_panics_on_filter_like_soup(parts in proptest::collection::vec(soup(), 0..24)) {
        check_parse(&parts.concat())?;
    }
}

fn soup() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(
        &[
            "(",
            ")",
            "[",
            "]",
            " ",
            " ",
            "\t",
            "not",
            "NOT",
            "and",
            "or",
            "Or",
            "eq",
            "ne",
            "co",
            "gt",
            "pr",
            "\"x\"",
            "\"",
            "\\",
            "\\u00e9",
            "\\ud800",
            "emails",
            "type",
            "value",
            "userName",
            "name.familyName",
            "urn:ietf:params:scim:schemas:core:2.0:User:",
            "urn:x:",
            ".",
            ":",
            "1",
            "-",
            "1e5",
            "1.",
            "01",
            "true",
            "null",
            "é",
            "\u{0}",
            "\n",
        ][..],
    )
}

/// Parsing fails only with `invalidFilter`; what parses prints to a fixed
/// point.
fn check_parse(s: &str) -> Result<(), TestCaseError> {
    match parse(s) {
        Ok(f) => {
            let text = f.to_string();
            prop_assert_eq!(parse(&text), Ok(f), "{:?} printed as {}", s, text);
        }
        Err(e) => {
            prop_assert_eq!(
                (e.status, e.scim_type),
                (400, Some(ScimType::InvalidFilter))
            );
            prop_assert!(!e.detail.is_empty());
        }
    }
    Ok(())
}

/// Paths that mostly resolve in the User schema, some that do not.
fn user_path() -> impl Strategy<Value = AttrPath> {
    let unknown = proptest::sample::select(&["nope", "name.nope", "schemas.x"][..]);
    let known = proptest::sample::select(
        &[
            "userName",
            "name",
            "name.familyName",
            "emails",
            "emails.value",
            "emails.type",
            "emails.primary",
            "ims.value",
            "meta.lastModified",
            "meta.created",
            "active",
            "schemas",
            "title",
            "x509Certificates.value",
            "groups.$ref",
            "addresses",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "manager.displayName",
            "manager",
        ][..],
    );
    prop_oneof![20 => known, 1 => unknown].prop_filter_map("a path", |p| AttrPath::parse(p).ok())
}

fn user_filter() -> impl Strategy<Value = Filter> {
    let rel = prop_oneof![
        12 => proptest::sample::select(&["value", "type", "primary", "display"][..]),
        1 => Just("nope"),
    ]
    .prop_map(|n| AttrPath::new(n, None));
    let head = prop_oneof![
        8 => proptest::sample::select(&["emails", "ims", "phoneNumbers"][..]),
        1 => proptest::sample::select(&["name", "manager", "userName", "schemas"][..]),
    ]
    .prop_map(|n| AttrPath::new(n, None));
    let text_values = proptest::sample::select(
        &[
            "bjensen",
            "BJENSEN@example.com",
            "work",
            "2011-05-13T04:42:34Z",
            "",
            "x",
        ][..],
    )
    .prop_map(|s| CompValue::Str(s.to_string()));
    let value = prop_oneof![1 => comp_value(), 2 => text_values];
    let leaf_of = move |paths: BoxedStrategy<AttrPath>| {
        prop_oneof![
            1 => paths.clone().prop_map(Filter::Present),
            3 => (paths, op(), value.clone()).prop_map(|(p, o, v)| Filter::Compare(p, o, v)),
        ]
        .boxed()
    };
    let value_path = (head, logic(leaf_of(rel.boxed()), 2, 4))
        .prop_map(|(p, f)| Filter::ValuePath(p, Box::new(f)));
    let top = prop_oneof![3 => leaf_of(user_path().boxed()), 1 => value_path];
    logic(top.boxed(), 3, 8)
}

fn documents() -> Vec<Value> {
    vec![
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "bjensen", "active": true, "title": "",
            "name": {"familyName": "Jensen", "givenName": null},
            "emails": [{"value": "BJensen@example.com", "type": "work", "primary": true}, {"value": "b@j.org"}],
            "ims": [], "meta": {"lastModified": "2011-05-13T04:42:34Z", "created": "garbage"},
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                {"employeeNumber": "701984", "manager": {"displayName": "John"}}
        }),
        // Every attribute of the wrong JSON type.
        json!({
            "schemas": "urn:ietf:params:scim:schemas:core:2.0:User", "userName": 5, "active": "yes",
            "name": [1, [2], {"familyName": 3}], "emails": "x", "ims": [null, 7, {"value": []}],
            "meta": null, "title": {"a": {}}, "x509Certificates": [{"value": 1}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": [],
            "groups": [{"$ref": null}]
        }),
        json!({}),
        json!([{"userName": "bjensen"}]),
        json!("bjensen"),
        Value::Null,
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn evaluation_never_panics_and_not_negates(f in user_filter()) {
        let registry = Registry::standard().unwrap();
        let rt = registry.resource_type("User").unwrap();
        let negated = Filter::Not(Box::new(f.clone()));
        match Matcher::new(&registry, rt, &f) {
            Ok(m) => {
                let n = Matcher::new(&registry, rt, &negated).unwrap();
                for doc in documents() {
                    let hit = m.matches(&doc);
                    prop_assert_eq!(matches(&registry, rt, &doc, &f), Ok(hit));
                    prop_assert_eq!(n.matches(&doc), !hit, "{} on {}", f, doc);
                }
            }
            Err(e) => {
                prop_assert_eq!(e.scim_type, Some(ScimType::InvalidFilter), "{}", e);
                prop_assert_eq!(Matcher::new(&registry, rt, &negated).err(), Some(e.clone()));
                for doc in documents() {
                    prop_assert_eq!(matches(&registry, rt, &doc, &f), Err(e.clone()));
                }
            }
        }
    }
}
