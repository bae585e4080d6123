#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Property tests: the PATCH engine never panics, answers every bad request
//! with a 400 SCIM error, and what it returns is a valid resource.

#[path = "support/rfc7643.rs"]
mod rfc7643;

use proptest::prelude::*;
use scimbus_scim::Registry;
use scimbus_scim::patch::{PatchRequest, apply, check};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use serde_json::{Map, Value, json};

const PATHS: &[&str] = &[
    "members",
    "members[value eq \"u1\"]",
    "members[value eq \"u1\"].display",
    "members.value",
    "displayName",
    "userName",
    "name",
    "name.givenName",
    "name.familyName",
    "nickName",
    "active",
    "emails",
    "emails[type eq \"work\"]",
    "emails[type eq \"work\"].value",
    "emails[primary eq true].type",
    "emails[type eq \"work\" and value co \"@\"]",
    "emails[not (type eq \"home\")].value",
    "emails.value",
    "phoneNumbers[type eq \"fax\"].value",
    "addresses[type eq \"work\"].streetAddress",
    "x509Certificates",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:core:2.0:User:title",
    "id",
    "meta.created",
    "groups",
    "externalId",
    "emails[",
    "emails[type eq]",
    "",
    "a.b.c",
    "emails[type eq \"x\"]]",
    "name[givenName pr]",
    "$ref",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop_oneof![
            Just("True".to_string()),
            Just("work".to_string()),
            Just("u1".into()),
            ".{0,12}".prop_map(|s| s)
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..5).prop_map(|kv| {
                Value::Object(
                    kv.into_iter()
                        .map(|(k, v)| (k.to_string(), v))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

const KEYS: &[&str] = &[
    "value",
    "type",
    "primary",
    "display",
    "$ref",
    "givenName",
    "familyName",
    "emails",
    "members",
    "active",
    "displayName",
    "userName",
    "name.givenName",
    "nickname",
    "id",
    "schemas",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "department",
    "manager",
    "Value",
];

fn arb_op() -> impl Strategy<Value = Value> {
    (
        prop::sample::select(
            &[
                "add", "Add", "replace", "REPLACE", "remove", "Remove", "move", "",
            ][..],
        ),
        prop::option::of(prop::sample::select(PATHS)),
        prop::option::of(arb_json()),
    )
        .prop_map(|(op, path, value)| {
            let mut o = Map::new();
            o.insert("op".into(), json!(op));
            if let Some(p) = path {
                o.insert("path".into(), json!(p));
            }
            if let Some(v) = value {
                o.insert("value".into(), v);
            }
            Value::Object(o)
        })
}

fn stored(reg: &Registry, rt: &str, doc: Value) -> Value {
    normalize(
        reg,
        reg.resource_type(rt).unwrap(),
        &doc,
        Intent::Create,
        Leniency::default(),
    )
    .unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(
        std::env::var("SCIMBUS_PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(400)))]

    #[test]
    fn patch_never_panics_and_returns_valid_resources(ops in prop::collection::vec(arb_op(), 1..5), group in any::<bool>()) {
        let reg = Registry::standard().unwrap();
        let (rt_name, doc) = if group {
            ("Group", stored(&reg, "Group", rfc7643::group()))
        } else {
            ("User", stored(&reg, "User", rfc7643::enterprise_user()))
        };
        let rt = reg.resource_type(rt_name).unwrap();
        let body = json!({"Operations": ops});
        match PatchRequest::parse(&body).and_then(|req| apply(&reg, rt, &doc, &req, Leniency::default())) {
            Ok(out) => {
                // The result is canonical: normalising it again changes nothing.
                let again = normalize(&reg, rt, &out.resource, Intent::Replace { existing: &out.resource }, Leniency::default());
                prop_assert_eq!(again.as_ref(), Ok(&out.resource));
                prop_assert_eq!(out.changed.is_empty(), scimbus_scim::diff::changed_paths(&reg, rt, &doc, &out.resource).is_empty());
            }
            Err(e) => {
                prop_assert_eq!(e.status, 400, "{}", e);
                prop_assert!(e.scim_type.is_some(), "{}", e);
            }
        }
    }

    /// The ingress checks a PATCH before the store applies it, without the
    /// stored resource: it must never refuse what the store would apply.
    #[test]
    fn the_check_at_the_edge_refuses_nothing_the_apply_accepts(ops in prop::collection::vec(arb_op(), 1..3), group in any::<bool>()) {
        let reg = Registry::standard().unwrap();
        let (rt_name, doc) = if group {
            ("Group", stored(&reg, "Group", rfc7643::group()))
        } else {
            ("User", stored(&reg, "User", rfc7643::enterprise_user()))
        };
        let rt = reg.resource_type(rt_name).unwrap();
        let Ok(req) = PatchRequest::parse(&json!({"Operations": ops})) else {
            return Ok(());
        };
        if apply(&reg, rt, &doc, &req, Leniency::default()).is_ok() {
            let checked = check(&reg, rt, &req, Leniency::default());
            prop_assert!(checked.is_ok(), "{:?}: {:?}", req, checked);
        }
    }

    #[test]
    fn patch_body_parser_never_panics_on_arbitrary_json(body in arb_json()) {
        let _ = PatchRequest::parse(&body);
    }
}
