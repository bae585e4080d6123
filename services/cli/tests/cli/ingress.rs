//! A token made by the CLI at the ingress: accepted for its tenant only,
//! refused once revoked.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use scimbus_ingress::{Ingress, IngressConfig, Limits};
use scimbus_runtime::config::Tenant;
use scimbus_testkit::TestEnv;
use tower::ServiceExt;

use crate::support::*;

/// An ingress on the test's database and bus prefix; a fresh one has an
/// empty token cache.
async fn ingress(env: &TestEnv) -> axum::Router {
    let cfg = IngressConfig {
        public_url: "http://scim.test".into(),
        service: env.service_settings(),
        read_database_url: env.database_url.clone(),
        partitions: 2,
        write_timeout: Duration::from_secs(15),
        // Tenants without configured tokens: only api_tokens can let a
        // client in.
        tenants: vec![
            Tenant {
                name: "acme".into(),
                token_hashes: vec![],
            },
            Tenant {
                name: "other".into(),
                token_hashes: vec![],
            },
        ],
        limits: Limits::default(),
        admin_token_hashes: Vec::new(),
        targets: Vec::new(),
    };
    let registry = Arc::new(scimbus_scim::Registry::standard().unwrap());
    let ingress = Ingress::build(cfg, registry).await.unwrap();
    scimbus_ingress::app(ingress.service())
}

async fn get_users(router: &axum::Router, tenant: &str, token: &str) -> StatusCode {
    let req = Request::get(format!("/scim/v2/{tenant}/Users"))
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .unwrap();
    router.clone().oneshot(req).await.unwrap().status()
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
