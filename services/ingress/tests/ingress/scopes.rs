//! A tenant's token does what its scopes say and nothing more: each kind
//! of route, allowed and refused (403 naming the missing scope, with
//! `WWW-Authenticate: Bearer error="insufficient_scope"`), Bulk operation
//! by operation.

use axum::http::{Method, StatusCode};
use scimbus_runtime::api_tokens::{self, TokenSpec};
use scimbus_runtime::scope::{Scope, Scopes};
use serde_json::{Value, json};

use crate::support::*;

/// A stored token of `acme` with these scopes.
pub async fn scoped_token(api: &Api, scopes: &[Scope]) -> String {
    api.env.tenants(&["acme"]).await;
    let spec = TokenSpec {
        tenant: "acme",
        label: "scoped",
        scopes: Scopes::of(scopes.iter().copied()),
        expires_at: None,
    };
    api_tokens::create_with(&api.env.pool, &spec)
        .await
        .unwrap()
        .token
}

/// Asserts a 403 that names `scope`.
fn refused(r: &scimbus_e2e::http::Reply, scope: &str, what: &str) {
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{what}: {}", r.body);
    assert_eq!(r.body["status"], "403", "{what}");
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(scope), "{what}: {detail}");
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains("error=\"insufficient_scope\"") && challenge.contains(scope),
        "{what}: {challenge}"
    );
}

fn group(name: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name})
}

#[tokio::test]
async fn a_read_token_reads_and_writes_nothing() {
    let api = Api::new().await;
    let id = api.post(USERS, user("kept")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let t = scoped_token(&api, &[Scope::ScimRead]).await;
    let call = |m: Method, p: String, b: Option<Value>| {
        let t = t.clone();
        let api = &api;
        async move { api.call(m, &p, &t, b).await }
    };

    for path in [
        USERS.to_string(),
        format!("{USERS}/{id}"),
        "/scim/v2/acme/ServiceProviderConfig".into(),
        "/scim/v2/acme/Schemas".into(),
    ] {
        let r = call(Method::GET, path.clone(), None).await;
        assert_eq!(r.status, StatusCode::OK, "GET {path}: {}", r.body);
    }
    let search = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"]});
    for path in [
        "/scim/v2/acme/.search".to_string(),
        format!("{USERS}/.search"),
    ] {
        let r = call(Method::POST, path.clone(), Some(search.clone())).await;
        assert_eq!(r.status, StatusCode::OK, "POST {path}: {}", r.body);
    }

    let r = call(Method::POST, USERS.into(), Some(user("new"))).await;
    refused(&r, "scim:write", "POST /Users");
    let r = call(Method::PUT, format!("{USERS}/{id}"), Some(user("kept"))).await;
    refused(&r, "scim:write", "PUT");
    let r = call(
        Method::PATCH,
        format!("{USERS}/{id}"),
        Some(ops(
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        )),
    )
    .await;
    refused(&r, "scim:write", "PATCH");
    let r = call(Method::DELETE, format!("{USERS}/{id}"), None).await;
    refused(&r, "scim:write", "DELETE");
    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "POST", "path": "/Users", "bulkId": "a", "data": user("b")}]
    });
    let r = call(Method::POST, "/scim/v2/acme/Bulk".into(), Some(bulk)).await;
    refused(&r, "scim:write", "Bulk");
    let r = call(
        Method::POST,
        "/events/v1/acme/subscriptions/bus/poll".into(),
        Some(json!({})),
    )
    .await;
    refused(&r, "events:poll", "poll");

    // Nothing was written: the user is as it was, and alone.
    let r = api.get(USERS).await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    api.teardown().await;
}

#[tokio::test]
async fn a_users_write_token_writes_users_only_and_bulk_says_so_per_operation() {
    let api = Api::new().await;
    let t = scoped_token(&api, &[Scope::UsersWrite]).await;

    let r = api.call(Method::POST, USERS, &t, Some(user("made"))).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let r = api.call(Method::POST, GROUPS, &t, Some(group("g"))).await;
    refused(&r, "groups:write", "POST /Groups");
    let r = api.call(Method::GET, USERS, &t, None).await;
    refused(&r, "scim:read", "GET /Users");

    let bulk = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [
            {"method": "POST", "path": "/Users", "bulkId": "u", "data": user("bulk-user")},
            {"method": "POST", "path": "/Groups", "bulkId": "g", "data": group("bulk-group")}
        ]
    });
    let r = api
        .call(Method::POST, "/scim/v2/acme/Bulk", &t, Some(bulk))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let statuses: Vec<&str> = r.body["Operations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["201", "403"], "{}", r.body);
    let detail = r.body["Operations"][1]["response"]["detail"]
        .as_str()
        .unwrap();
    assert!(detail.contains("groups:write"), "{detail}");

    // What the full token sees: the two users, no group.
    assert_eq!(api.get(USERS).await.body["totalResults"], 2);
    assert_eq!(api.get(GROUPS).await.body["totalResults"], 0);
    api.teardown().await;
}

#[tokio::test]
async fn a_poll_token_polls_and_does_nothing_else() {
    let api = Api::new().await;
    let t = scoped_token(&api, &[Scope::EventsPoll]).await;
    let r = api
        .call(
            Method::POST,
            "/events/v1/acme/subscriptions/bus/poll",
            &t,
            Some(json!({})),
        )
        .await;
    // Past the door: what the poll itself answers (this subscription
    // delivers to NATS, so it is not one to poll), never 401 or 403.
    assert!(
        r.status != StatusCode::FORBIDDEN && r.status != StatusCode::UNAUTHORIZED,
        "{} {}",
        r.status,
        r.body
    );
    let r = api.call(Method::GET, USERS, &t, None).await;
    refused(&r, "scim:read", "GET /Users");
    api.teardown().await;
}
