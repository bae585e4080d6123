//! A table of bad values sent through every write path (POST, PUT, PATCH,
//! and each of them inside a `/Bulk`): each is a 4xx SCIM error, none a 5xx,
//! nothing is published and nothing stored changes.

use axum::http::Method;
use serde_json::Value;

use super::{CORE, ENTERPRISE, commands_sent, raw_request, user_names};
use crate::support::*;

const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";

/// Members to add to a valid User body, each one bad, as raw JSON text.
fn bad_members() -> Vec<String> {
    let long = "x".repeat(65_537);
    let long_id = "u".repeat(1025);
    vec![
        r#""name": {"givenName": "a\u0000"}"#.into(),
        format!(r#""{ENTERPRISE}": {{"department": "d\u0000"}}"#),
        r#""emails": [{"value": "a\u0000@example.com", "type": "work"}]"#.into(),
        r#""displayName": "\ud800""#.into(),
        r#""displayName": "\udc00x""#.into(),
        r#""nickName": "\u001b[31m""#.into(),
        format!(r#""title": "{long}""#),
        format!(r#""externalId": "{long_id}""#),
        r#""displayName": 99999999999999999999"#.into(),
        r#""x": 1e400"#.into(),
        r#""x": [18446744073709551615]"#.into(),
        r#""active": "yes""#.into(),
        r#""active": 1"#.into(),
        r#""name": "Barbara""#.into(),
        r#""name": ["Barbara"]"#.into(),
        r#""emails": "a@example.com""#.into(),
        r#""emails": [["a@example.com"]]"#.into(),
        r#""emails": [{"value": 7}]"#.into(),
        r#""displayName": {"text": "x"}"#.into(),
        r#""externalId": 12345"#.into(),
        r#""name": {"givenName": "a", "givenName": "b"}"#.into(),
        r#""emails": [{"value": "a@x", "value": "b@x"}]"#.into(),
        format!(r#""{ENTERPRISE}": {{"manager": {{"value": "m", "value": "n"}}}}"#),
        r#""a\u0000b": "hidden""#.into(),
        r#""urn:example:unregistered:2.0:User": {"x": "1"}"#.into(),
    ]
}

/// A User body with `member` added.
fn user_with(name: &str, member: &str) -> String {
    format!(r#"{{"schemas": ["{CORE}", "{ENTERPRISE}"], "userName": "{name}", {member}}}"#)
}

/// Bad PATCH operations, as raw JSON text.
fn bad_patch_ops() -> Vec<String> {
    let long = "x".repeat(65_537);
    vec![
        r#"{"op": "replace", "path": "name.givenName", "value": "a\u0000"}"#.into(),
        r#"{"op": "add", "path": "emails", "value": [{"value": "a\u0000@x"}]}"#.into(),
        r#"{"op": "replace", "value": {"displayName": "\ud800"}}"#.into(),
        format!(r#"{{"op": "replace", "path": "{ENTERPRISE}:department", "value": "d\u0000"}}"#),
        format!(r#"{{"op": "replace", "path": "{ENTERPRISE}", "value": {{"department": 5}}}}"#),
        r#"{"op": "replace", "path": "title", "value": "\u0007"}"#.into(),
        format!(r#"{{"op": "replace", "path": "title", "value": "{long}"}}"#),
        format!(
            r#"{{"op": "replace", "path": "userName", "value": "{}"}}"#,
            "u".repeat(1025)
        ),
        r#"{"op": "replace", "path": "active", "value": 1}"#.into(),
        r#"{"op": "replace", "path": "name", "value": "x"}"#.into(),
        r#"{"op": "replace", "path": "userName", "value": 12345}"#.into(),
        r#"{"op": "replace", "path": "emails", "value": "a@x"}"#.into(),
        r#"{"op": "add", "path": "emails[type eq \"work\"].value", "value": 12}"#.into(),
        r#"{"op": "add", "path": "emails[type eq \"work\"]", "value": "a@x"}"#.into(),
        r#"{"op": "replace", "value": {"name": {"givenName": "a", "givenName": "b"}}}"#.into(),
        r#"{"op": "replace", "value": {"nickName": 1, "nickName": 2}}"#.into(),
        r#"{"op": "replace", "value": {"urn:example:unregistered:2.0:User:x": "1"}}"#.into(),
        r#"{"op": "replace", "path": "x", "value": 18446744073709551615}"#.into(),
    ]
}

fn patch_body(op: &str) -> String {
    format!(r#"{{"schemas": ["{PATCH_OP}"], "Operations": [{op}]}}"#)
}

fn bulk_body(method: &str, path: &str, data: &str) -> String {
    let bulk_id = if method == "POST" {
        r#""bulkId": "b1", "#
    } else {
        ""
    };
    format!(
        r#"{{"schemas": ["{BULK_REQUEST}"], "Operations": [{{"method": "{method}", {bulk_id}"path": "{path}", "data": {data}}}]}}"#
    )
}

/// A refusal: the whole request a 4xx SCIM error, or (for a bulk whose
/// operation was refused in its place) a 200 whose one operation is a 4xx.
fn assert_refused(what: &str, r: &Reply) {
    let status = r.status.as_u16();
    let bulk_op = r.body["Operations"].get(0);
    match (status, bulk_op) {
        (200, Some(op)) => {
            let s: u16 = op["status"].as_str().unwrap().parse().unwrap();
            assert!((400..500).contains(&s), "{what}: {op}");
            assert_eq!(op["response"]["status"], s.to_string(), "{what}: {op}");
        }
        _ => {
            assert!((400..500).contains(&status), "{what}: {status} {}", r.body);
            assert_eq!(r.body["status"], status.to_string(), "{what}: {}", r.body);
            assert!(r.body["detail"].as_str().is_some(), "{what}: {}", r.body);
        }
    }
}

#[tokio::test]
async fn no_bad_body_gets_a_5xx_or_reaches_the_store_on_any_write_path() {
    let api = Api::new().await;
    let created = api.post(USERS, user("sweep")).await;
    assert_eq!(created.status.as_u16(), 201, "{}", created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    let one = format!("{USERS}/{id}");
    let stored = api.get(&one).await.body;
    let before = commands_sent(&api).await;

    for (i, member) in bad_members().iter().enumerate() {
        let what = |path: &str| format!("{path} with {}", &member[..member.len().min(80)]);
        let fresh = user_with(&format!("new-{i}"), member);
        let r = api.raw(raw_request(Method::POST, USERS, &fresh)).await;
        assert_refused(&what("POST"), &r);
        let replace = user_with("sweep", member);
        let r = api.raw(raw_request(Method::PUT, &one, &replace)).await;
        assert_refused(&what("PUT"), &r);
        let bulk = bulk_body("POST", "/Users", &fresh);
        let r = api.raw(raw_request(Method::POST, BULK_PATH, &bulk)).await;
        assert_refused(&what("Bulk POST"), &r);
        let bulk = bulk_body("PUT", &format!("/Users/{id}"), &replace);
        let r = api.raw(raw_request(Method::POST, BULK_PATH, &bulk)).await;
        assert_refused(&what("Bulk PUT"), &r);
    }
    for op in bad_patch_ops() {
        let what = |path: &str| format!("{path} with {}", &op[..op.len().min(80)]);
        let body = patch_body(&op);
        let r = api.raw(raw_request(Method::PATCH, &one, &body)).await;
        assert_refused(&what("PATCH"), &r);
        let bulk = bulk_body("PATCH", &format!("/Users/{id}"), &body);
        let r = api.raw(raw_request(Method::POST, BULK_PATH, &bulk)).await;
        assert_refused(&what("Bulk PATCH"), &r);
    }

    assert_eq!(
        commands_sent(&api).await,
        before,
        "a bad body was published"
    );
    assert_eq!(user_names(&api).await, ["sweep"]);
    let now: Value = api.get(&one).await.body;
    assert_eq!(now, stored, "the stored user changed");
    api.teardown().await;
}

const BULK_PATH: &str = "/scim/v2/acme/Bulk";
