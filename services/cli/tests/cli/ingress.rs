//! A token made by the CLI at the ingress: accepted for its tenant only,
//! refused once revoked.

use axum::http::{Method, StatusCode};
use scimbus_e2e::http::{request, send};
use scimbus_e2e::{IngressBuilder, TestEnv};

use crate::support::*;

/// An ingress on the test's database and bus prefix; a fresh one has an
/// empty token cache.
async fn ingress(env: &TestEnv) -> axum::Router {
    IngressBuilder::new(env)
        .partitions(2)
        // Tenants without configured tokens: only api_tokens can let a
        // client in.
        .tenants(["acme", "other"])
        .admin_tokens(&[])
        .router()
        .await
}

async fn get_users(router: &axum::Router, tenant: &str, token: &str) -> StatusCode {
    let path = format!("/scim/v2/{tenant}/Users");
    send(router, request(Method::GET, &path, token, None, &[]))
        .await
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cli_token_authenticates_at_the_ingress_until_revoked() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme", "other"]).await;

    let o = scimbus(
        &env,
        &["token", "create", "--tenant", "acme", "--label", "e2e"],
    );
    assert_exit(&o, 0);
    let token = field(&stdout(&o), "token");
    let id = field(&stdout(&o), "id");

    let router = ingress(&env).await;
    assert_eq!(get_users(&router, "acme", &token).await, StatusCode::OK);
    assert_eq!(
        get_users(&router, "other", &token).await,
        StatusCode::UNAUTHORIZED,
        "bound to its tenant"
    );
    assert_eq!(
        get_users(&router, "acme", &format!("{token}x")).await,
        StatusCode::UNAUTHORIZED
    );

    let o = scimbus(&env, &["token", "revoke", &id]);
    assert_exit(&o, 0);
    // The running ingress may trust its cache for 30 s; a fresh one asks
    // the database.
    let fresh = ingress(&env).await;
    assert_eq!(
        get_users(&fresh, "acme", &token).await,
        StatusCode::UNAUTHORIZED
    );
    env.teardown().await;
}
