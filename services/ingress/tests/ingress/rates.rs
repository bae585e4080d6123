//! Request rates per tenant and per token: past either, `429` with
//! `Retry-After` and a SCIM error body, and nothing carried out.

use axum::http::{Method, StatusCode};
use scimbus_e2e::http::{Reply, request, send};
use scimbus_e2e::{IngressBuilder, TestEnv};
use scimbus_runtime::api_tokens::{self, TokenSpec};
use scimbus_runtime::config::RateLimit;
use scimbus_runtime::scope::Scopes;

async fn token(env: &TestEnv) -> String {
    let spec = TokenSpec {
        tenant: "acme",
        label: "rated",
        scopes: Scopes::tenant_default(),
        expires_at: None,
    };
    api_tokens::create_with(&env.pool, &spec)
        .await
        .unwrap()
        .token
}

async fn get(router: &axum::Router, token: &str) -> Reply {
    send(
        router,
        request(Method::GET, "/scim/v2/acme/Users", token, None, &[]),
    )
    .await
}

fn assert_limited(r: &Reply) {
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.body);
    assert_eq!(r.body["status"], "429", "{}", r.body);
    let wait: u32 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(wait >= 1, "{wait}");
}

/// An ingress of tenant `acme` with these rates (slow refill: a test
/// runs well within a refill).
async fn ingress(env: &TestEnv, limit: RateLimit) -> axum::Router {
    IngressBuilder::new(env)
        .tenants(["acme"])
        .rate_limit("acme", limit)
        .router()
        .await
}

#[tokio::test]
async fn a_tenant_over_its_rate_gets_429_whichever_token_asks() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let router = ingress(
        &env,
        RateLimit {
            requests_per_second: 1.0,
            burst: 3.0,
            token_requests_per_second: 100.0,
            token_burst: 100.0,
        },
    )
    .await;
    let (a, b) = (token(&env).await, token(&env).await);
    for t in [&a, &b, &a] {
        assert_eq!(get(&router, t).await.status, StatusCode::OK);
    }
    assert_limited(&get(&router, &b).await);
    assert_limited(&get(&router, &a).await);
    env.teardown().await;
}

#[tokio::test]
async fn a_token_over_its_rate_gets_429_and_another_token_goes_on() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let router = ingress(
        &env,
        RateLimit {
            requests_per_second: 100.0,
            burst: 100.0,
            token_requests_per_second: 1.0,
            token_burst: 2.0,
        },
    )
    .await;
    let (a, b) = (token(&env).await, token(&env).await);
    assert_eq!(get(&router, &a).await.status, StatusCode::OK);
    assert_eq!(get(&router, &a).await.status, StatusCode::OK);
    assert_limited(&get(&router, &a).await);
    // A refused write is not carried out.
    let r = send(
        &router,
        request(
            Method::POST,
            "/scim/v2/acme/Users",
            &a,
            Some(&scimbus_e2e::scim::user("refused")),
            &[],
        ),
    )
    .await;
    assert_limited(&r);
    assert_eq!(get(&router, &b).await.status, StatusCode::OK);
    let users: i64 = sqlx::query_scalar("select count(*) from resources")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(users, 0);
    env.teardown().await;
}
