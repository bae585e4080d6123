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
    // The running ingress cached it, and hears of the revocation at once
    // (Postgres announces it; within a second is "at once" here).
    scimbus_e2e::eventually(
        "the running ingress refuses the revoked token",
        std::time::Duration::from_secs(1),
        || async {
            match get_users(&router, "acme", &token).await {
                StatusCode::UNAUTHORIZED => Ok(()),
                s => Err(s.to_string()),
            }
        },
    )
    .await;
    env.teardown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cli_token_can_do_what_its_scopes_say_until_it_expires() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let o = scimbus(
        &env,
        &[
            "token",
            "create",
            "--tenant",
            "acme",
            "--label",
            "reader",
            "--scope",
            "scim:read",
            "--expires-in",
            "3s",
        ],
    );
    assert_exit(&o, 0);
    let out = stdout(&o);
    assert_eq!(field(&out, "scopes"), "scim:read");
    assert!(!field(&out, "expires").is_empty(), "{out}");
    let token = field(&out, "token");

    let router = ingress(&env).await;
    assert_eq!(get_users(&router, "acme", &token).await, StatusCode::OK);
    let r = send(
        &router,
        request(
            Method::POST,
            "/scim/v2/acme/Users",
            &token,
            Some(&serde_json::json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "nobody"
            })),
            &[],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("scim:write"),
        "{}",
        r.body
    );
    // Cached or not, it stops at its expiry.
    scimbus_e2e::eventually(
        "the token expires",
        std::time::Duration::from_secs(10),
        || async {
            match get_users(&router, "acme", &token).await {
                StatusCode::UNAUTHORIZED => Ok(()),
                s => Err(s.to_string()),
            }
        },
    )
    .await;

    // A scope that does not exist, no scope, a bad lifetime: refused.
    for (flag, value, says) in [
        ("--scope", "scim:admin", "\"scim:admin\" is not a scope"),
        ("--scope", ",", "at least one scope"),
        ("--expires-in", "soon", "--expires-in"),
    ] {
        let o = scimbus(&env, &["token", "create", "--tenant", "acme", flag, value]);
        assert_exit(&o, 1);
        assert!(stderr(&o).contains(says), "{flag} {value}: {}", stderr(&o));
    }
    env.teardown().await;
}
