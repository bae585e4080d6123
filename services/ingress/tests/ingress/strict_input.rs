//! Input that must be refused at the edge: a SCIM error (`status`,
//! `scimType`, a `detail` naming the attribute), never a 5xx, and nothing
//! published to the store. The sweep over every write path is in `sweep`.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::{Value, json};

use crate::support::*;

mod sweep;

const CORE: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// How many commands the ingress has published: the command stream's last
/// sequence (a work queue forgets what the store took, not how many came).
pub async fn commands_sent(api: &Api) -> u64 {
    let (_client, js) = api.env.bus().await;
    let mut stream = js
        .get_stream(api.env.subjects.command_stream())
        .await
        .unwrap();
    stream.info().await.unwrap().state.last_sequence
}

/// The userNames of acme's users.
pub async fn user_names(api: &Api) -> Vec<String> {
    let r = api.get(&format!("{USERS}?count=1000")).await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    let mut names: Vec<String> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names
}

/// A request with a body sent byte for byte (duplicate keys and escapes
/// that `json!` cannot write).
pub fn raw_request(method: Method, path: &str, body: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {ACME}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// Asserts a 400 with `scim_type` whose detail mentions every `needle`.
pub fn assert_refused(r: &Reply, scim_type: &str, needles: &[&str]) {
    r.assert_error(400, Some(scim_type));
    let detail = r.body["detail"].as_str().unwrap();
    for n in needles {
        assert!(detail.contains(n), "detail {detail:?} must name {n:?}");
    }
}

/// Sends `body` as a POST to /Users and asserts it is refused before
/// anything is published, and that no user came of it.
async fn refused_post(api: &Api, body: &str, scim_type: &str, needles: &[&str]) {
    let before = commands_sent(api).await;
    let r = api.raw(raw_request(Method::POST, USERS, body)).await;
    assert_refused(&r, scim_type, needles);
    assert_eq!(
        commands_sent(api).await,
        before,
        "{body} was published to the store"
    );
}

#[tokio::test]
async fn a_nul_or_control_character_in_a_string_is_refused_naming_the_attribute() {
    let api = Api::new().await;
    refused_post(
        &api,
        &format!(r#"{{"schemas": ["{CORE}"], "userName": "a\u0000b"}}"#),
        "invalidValue",
        &["userName", "U+0000"],
    )
    .await;
    // Nested, multi-valued, in an extension, in a member name.
    refused_post(
        &api,
        &format!(
            r#"{{"schemas": ["{CORE}"], "userName": "n", "name": {{"givenName": "x\u0000"}}}}"#
        ),
        "invalidValue",
        &["name.givenName"],
    )
    .await;
    refused_post(
        &api,
        &format!(
            r#"{{"schemas": ["{CORE}"], "userName": "n", "emails": [{{"value": "ok@x"}}, {{"value": "a\u0000@x"}}]}}"#
        ),
        "invalidValue",
        &["emails[1].value"],
    )
    .await;
    refused_post(
        &api,
        &format!(
            r#"{{"schemas": ["{CORE}", "{ENTERPRISE}"], "userName": "n", "{ENTERPRISE}": {{"department": "d\u0000"}}}}"#
        ),
        "invalidValue",
        &[&format!("{ENTERPRISE}:department")],
    )
    .await;
    refused_post(
        &api,
        &format!(r#"{{"schemas": ["{CORE}"], "userName": "n", "x\u0000y": 1}}"#),
        "invalidValue",
        &["U+0000"],
    )
    .await;
    // The other C0 control characters, except tab, line feed and carriage
    // return (which a multi-line address has).
    refused_post(
        &api,
        &format!(r#"{{"schemas": ["{CORE}"], "userName": "n", "nickName": "bell\u0007"}}"#),
        "invalidValue",
        &["nickName", "U+0007"],
    )
    .await;
    let ok = api
        .post(
            USERS,
            json!({"schemas": [CORE], "userName": "multi-line",
                   "addresses": [{"formatted": "1 Main St\r\nAnytown\tUS"}]}),
        )
        .await;
    assert_eq!(ok.status.as_u16(), 201, "{}", ok.body);
    assert_eq!(user_names(&api).await, ["multi-line"]);
    api.teardown().await;
}

#[tokio::test]
async fn strings_and_numbers_the_store_cannot_keep_are_refused() {
    let api = Api::new().await;
    // userName is in a unique index: an entry over the index's limit (about
    // 2700 bytes) would fail the insert; identifiers are capped at 1024 bytes.
    let long: String = (0..1500u32)
        .map(|i| char::from_u32(0x4E00 + (i * 7919) % 20000).unwrap())
        .collect();
    refused_post(
        &api,
        &json!({"schemas": [CORE], "userName": long}).to_string(),
        "invalidValue",
        &["userName", "1024"],
    )
    .await;
    refused_post(
        &api,
        &json!({"schemas": [CORE], "userName": "n", "emails": [{"value": "x".repeat(1025)}]})
            .to_string(),
        "invalidValue",
        &["emails[0].value", "1024"],
    )
    .await;
    // Any other string: at most 64 KiB.
    refused_post(
        &api,
        &json!({"schemas": [CORE], "userName": "n", "title": "t".repeat(65_537)}).to_string(),
        "invalidValue",
        &["title", "65536"],
    )
    .await;
    // An integer that is no signed 64-bit integer.
    refused_post(
        &api,
        &format!(
            r#"{{"schemas": ["{CORE}"], "userName": "n", "x": {{"y": 18446744073709551615}}}}"#
        ),
        "invalidValue",
        &["x.y"],
    )
    .await;
    // A lone surrogate is no Unicode text.
    for lone in [r"\ud800", r"\ud800x", r"\udc00"] {
        refused_post(
            &api,
            &format!(r#"{{"schemas": ["{CORE}"], "userName": "{lone}"}}"#),
            "invalidSyntax",
            &["not valid JSON", "escape"],
        )
        .await;
    }
    assert!(user_names(&api).await.is_empty());
    api.teardown().await;
}

#[tokio::test]
async fn duplicate_keys_are_refused_as_invalid_syntax() {
    let api = Api::new().await;
    refused_post(
        &api,
        &format!(r#"{{"schemas": ["{CORE}"], "userName": "a", "userName": "b"}}"#),
        "invalidSyntax",
        &["\"userName\"", "twice"],
    )
    .await;
    refused_post(
        &api,
        &format!(
            r#"{{"schemas": ["{CORE}"], "userName": "a", "name": {{"givenName": "a", "givenName": "b"}}}}"#
        ),
        "invalidSyntax",
        &["name.givenName"],
    )
    .await;
    // In a PATCH too.
    let id = api.post(USERS, user("dup")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = commands_sent(&api).await;
    let body = r#"{"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "replace", "path": "title", "value": "a", "value": "b"}]}"#;
    let r = api
        .raw(raw_request(Method::PATCH, &format!("{USERS}/{id}"), body))
        .await;
    assert_refused(&r, "invalidSyntax", &["Operations[0].value"]);
    assert_eq!(commands_sent(&api).await, before);
    assert_eq!(user_names(&api).await, ["dup"]);
    assert_eq!(
        api.get(&format!("{USERS}/{id}")).await.body["title"],
        Value::Null
    );
    api.teardown().await;
}

#[tokio::test]
async fn a_value_of_the_wrong_type_is_refused_naming_the_expected_type() {
    let api = Api::new().await;
    refused_post(
        &api,
        &json!({"schemas": [CORE], "userName": 12345}).to_string(),
        "invalidValue",
        &["userName", "expected a string"],
    )
    .await;
    refused_post(
        &api,
        &json!({"schemas": [CORE, ENTERPRISE], "userName": "n", ENTERPRISE: {"employeeNumber": 42}})
            .to_string(),
        "invalidValue",
        &[&format!("{ENTERPRISE}:employeeNumber"), "a string"],
    )
    .await;
    refused_post(
        &api,
        &json!({"schemas": [CORE], "userName": "n", "active": "yes"}).to_string(),
        "invalidValue",
        &["active", "a boolean"],
    )
    .await;
    // PATCH values are checked the same way, before a command is sent.
    let id = api.post(USERS, user("typed")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = commands_sent(&api).await;
    for (op, needle) in [
        (
            json!({"op": "replace", "path": "userName", "value": 12345}),
            "userName",
        ),
        (
            json!({"op": "replace", "value": {"displayName": false}}),
            "displayName",
        ),
        (
            json!({"op": "add", "path": "emails[type eq \"work\"].value", "value": 7}),
            "value",
        ),
    ] {
        let r = api.patch(&format!("{USERS}/{id}"), ops(json!([op]))).await;
        assert_refused(&r, "invalidValue", &[needle, "expected"]);
    }
    assert_eq!(commands_sent(&api).await, before);
    // The documented leniency stays: Entra ID's booleans as strings.
    let r = api
        .patch(
            &format!("{USERS}/{id}"),
            ops(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await;
    assert_eq!(r.status.as_u16(), 200, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(user_names(&api).await, ["typed"]);
    api.teardown().await;
}

#[tokio::test]
async fn schemas_is_required_and_names_only_schemas_of_the_resource_type() {
    let api = Api::new().await;
    refused_post(
        &api,
        r#"{"userName": "no-schemas"}"#,
        "invalidValue",
        &["\"schemas\"", "required"],
    )
    .await;
    let unknown = "urn:example:params:scim:schemas:extension:nobody:2.0:User";
    refused_post(
        &api,
        &json!({"schemas": [CORE, unknown], "userName": "n"}).to_string(),
        "invalidValue",
        &["\"schemas\"", unknown],
    )
    .await;
    // An extension nobody registered is a configuration error to see, not
    // something to drop.
    refused_post(
        &api,
        &json!({"schemas": [CORE], "userName": "n", unknown: {"costCenter": "1"}}).to_string(),
        "invalidValue",
        &[unknown],
    )
    .await;
    refused_post(
        &api,
        &json!({"schemas": [CORE], "userName": "n", format!("{unknown}:costCenter"): "1"})
            .to_string(),
        "invalidValue",
        &[unknown],
    )
    .await;
    // PUT as well.
    let id = api.post(USERS, user("kept")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before = commands_sent(&api).await;
    let r = api
        .call(
            Method::PUT,
            &format!("{USERS}/{id}"),
            ACME,
            Some(json!({"userName": "kept", "title": "changed"})),
        )
        .await;
    assert_refused(&r, "invalidValue", &["\"schemas\""]);
    // A PATCH that writes to an unregistered extension, likewise.
    let r = api
        .patch(
            &format!("{USERS}/{id}"),
            ops(json!([{"op": "add", "value": {format!("{unknown}:costCenter"): "1"}}])),
        )
        .await;
    assert_refused(&r, "invalidPath", &[unknown]);
    assert_eq!(commands_sent(&api).await, before);
    assert_eq!(
        api.get(&format!("{USERS}/{id}")).await.body["title"],
        Value::Null
    );
    // Attributes the server does not know are still dropped quietly.
    let r = api
        .post(
            USERS,
            json!({"schemas": [CORE], "userName": "extra", "favouriteColour": "teal",
                   "name": {"givenName": "E", "middleInitial": "Q"}}),
        )
        .await;
    assert_eq!(r.status.as_u16(), 201, "{}", r.body);
    assert!(r.body.get("favouriteColour").is_none());
    assert_eq!(user_names(&api).await, ["extra", "kept"]);
    api.teardown().await;
}

#[tokio::test]
async fn a_client_that_accepts_no_json_gets_406() {
    let api = Api::new().await;
    for accept in [
        "application/xml",
        "text/html, application/xml;q=0.9",
        "application/json;q=0, application/scim+json;q=0",
        "application/xml, application/json;q=0",
        "text/*",
    ] {
        let r = api
            .call_with(Method::GET, USERS, ACME, None, &[("accept", accept)])
            .await;
        r.assert_error(406, None);
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains("application/scim+json"),
            "{}",
            r.body
        );
    }
    // Refused before anything is written.
    let before = commands_sent(&api).await;
    let r = api
        .call_with(
            Method::POST,
            USERS,
            ACME,
            Some(user("xml")),
            &[("accept", "application/xml")],
        )
        .await;
    r.assert_error(406, None);
    assert_eq!(commands_sent(&api).await, before);
    assert!(user_names(&api).await.is_empty());
    for accept in [
        "*/*",
        "application/*",
        "application/json",
        "application/scim+json",
        "APPLICATION/SCIM+JSON; charset=utf-8",
        "text/html, application/json;q=0.5",
        "application/xml;q=0.9, */*;q=0.1",
        "application/json;q=0, */*",
        "",
    ] {
        let r = api
            .call_with(Method::GET, USERS, ACME, None, &[("accept", accept)])
            .await;
        assert_eq!(r.status.as_u16(), 200, "Accept: {accept:?}: {}", r.body);
    }
    assert_eq!(
        api.get(USERS).await.status.as_u16(),
        200,
        "no Accept at all"
    );
    api.teardown().await;
}

#[tokio::test]
async fn a_filter_with_a_nul_or_control_character_is_a_400_not_a_500() {
    let api = Api::new().await;
    api.post(USERS, user("filtered")).await;
    for filter in [
        // \u0000 escaped inside the literal, and the byte itself.
        "userName%20eq%20%22a%5Cu0000%22",
        "userName%20eq%20%22a%00%22",
        "userName%20eq%20%22a%5Cu0001%22",
        "userName%20eq%20%22a%01%22",
        "userName%00%20eq%20%22a%22",
        "emails%5Bvalue%20co%20%22%5Cu0000%22%5D",
    ] {
        let r = api.get(&format!("{USERS}?filter={filter}")).await;
        r.assert_error(400, Some("invalidFilter"));
    }
    // In a SearchRequest, the body's own check comes first.
    let r = api
        .call(
            Method::POST,
            "/scim/v2/acme/Users/.search",
            ACME,
            Some(json!({"filter": "userName eq \"a\u{0}\""})),
        )
        .await;
    assert_refused(&r, "invalidValue", &["\"filter\"", "U+0000"]);
    let r = api
        .call(
            Method::POST,
            "/scim/v2/acme/Users/.search",
            ACME,
            Some(json!({"filter": "userName eq \"a\\u0000\""})),
        )
        .await;
    r.assert_error(400, Some("invalidFilter"));
    // Other parameters with a NUL are client errors or ignored, never 5xx.
    for query in [
        "sortBy=userName%00",
        "attributes=userName%00",
        "excludedAttributes=%00",
        "cursor=%00",
        "count=1%00",
        "startIndex=%00",
    ] {
        let r = api.get(&format!("{USERS}?{query}")).await;
        assert!(r.status.as_u16() < 500, "{query}: {} {}", r.status, r.body);
    }
    // And in the path.
    api.get("/scim/v2/ac%00me/Users")
        .await
        .assert_error(401, None);
    api.get(&format!("{USERS}/%00"))
        .await
        .assert_error(404, None);
    assert_eq!(user_names(&api).await, ["filtered"]);
    api.teardown().await;
}
