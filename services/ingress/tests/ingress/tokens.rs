//! Stored tokens across ingress replicas: a revocation is seen by every
//! replica at once (a cached token included), a token made after its
//! secret was tried works at once, guessing is limited per address, the
//! last use is recorded, and the operator API makes, lists and revokes
//! tokens without ever showing a secret again.

use std::time::Duration;

use axum::http::{Method, StatusCode};
use scimbus_e2e::http::{request, send};
use scimbus_e2e::{ADMIN_TOKEN, IngressBuilder, TestEnv, eventually};
use scimbus_runtime::api_tokens::{self, TokenSpec};
use scimbus_runtime::scope::Scopes;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// "At once": the announcement travels through Postgres in milliseconds;
/// this bound leaves room for a loaded test machine (the cache it replaces
/// trusted a token for 30 s).
const AT_ONCE: Duration = Duration::from_secs(2);

/// An ingress replica of tenant `acme` with no configured tokens, once it
/// listens for token changes (and so caches tokens).
async fn replica(env: &TestEnv) -> axum::Router {
    let server = IngressBuilder::new(env)
        .tenants(["acme"])
        .admin_tokens(&[ADMIN_TOKEN])
        .build()
        .await;
    let ingress = server.service().clone();
    until_listening(&ingress).await;
    scimbus_ingress::app(&ingress)
}

/// Waits until `ingress` listens for token changes (and so caches tokens).
async fn until_listening(ingress: &scimbus_ingress::Ingress) {
    eventually("the replica listens", Duration::from_secs(10), || async {
        if ingress.state.tokens.is_listening() {
            Ok(())
        } else {
            Err("not yet".to_string())
        }
    })
    .await;
}

async fn get_users(router: &axum::Router, token: &str) -> StatusCode {
    send(
        router,
        request(Method::GET, "/scim/v2/acme/Users", token, None, &[]),
    )
    .await
    .status
}

async fn until(router: &axum::Router, token: &str, want: StatusCode, what: &str) {
    eventually(what, AT_ONCE, || async {
        match get_users(router, token).await {
            s if s == want => Ok(()),
            s => Err(s.to_string()),
        }
    })
    .await;
}

async fn new_token(env: &TestEnv) -> (uuid::Uuid, String) {
    let spec = TokenSpec {
        tenant: "acme",
        label: "replicas",
        scopes: Scopes::tenant_default(),
        expires_at: None,
    };
    let t = api_tokens::create_with(&env.pool, &spec).await.unwrap();
    (t.id, t.token)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revocation_reaches_every_replica_at_once() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let (a, b) = (replica(&env).await, replica(&env).await);
    let (id, token) = new_token(&env).await;
    // Both replicas have it cached (twice: the second answer is the cache's).
    for r in [&a, &b] {
        assert_eq!(get_users(r, &token).await, StatusCode::OK);
        assert_eq!(get_users(r, &token).await, StatusCode::OK);
    }
    api_tokens::revoke(&env.pool, id).await.unwrap();
    until(&a, &token, StatusCode::UNAUTHORIZED, "replica a refuses it").await;
    until(&b, &token, StatusCode::UNAUTHORIZED, "replica b refuses it").await;
    env.teardown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_of_scopes_reaches_every_replica_at_once() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let (a, b) = (replica(&env).await, replica(&env).await);
    let (id, token) = new_token(&env).await;
    for r in [&a, &b] {
        assert_eq!(get_users(r, &token).await, StatusCode::OK);
        assert_eq!(get_users(r, &token).await, StatusCode::OK);
    }
    // Scopes changed in Postgres (no API changes them; an operator's SQL
    // does): the cached grants go as a revocation's do.
    sqlx::query("update api_tokens set scopes = '{scim:write}' where id = $1")
        .bind(id)
        .execute(&env.pool)
        .await
        .unwrap();
    until(&a, &token, StatusCode::FORBIDDEN, "replica a reads no more").await;
    until(&b, &token, StatusCode::FORBIDDEN, "replica b reads no more").await;
    env.teardown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_token_made_after_it_was_tried_works_at_once() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let router = replica(&env).await;
    // Wait until the replica listens (its cache is in use from then on).
    let (_, warm) = new_token(&env).await;
    assert_eq!(get_users(&router, &warm).await, StatusCode::OK);

    // A secret nobody has yet: unknown, and remembered as unknown.
    let secret = api_tokens::generate().unwrap();
    assert_eq!(get_users(&router, &secret).await, StatusCode::UNAUTHORIZED);
    assert_eq!(get_users(&router, &secret).await, StatusCode::UNAUTHORIZED);
    // Stored now (as `token create` would store a token with that secret).
    let scopes = Scopes::tenant_default().names();
    let hash = scimbus_runtime::token_hash(&secret);
    scimbus_db::tokens::insert(
        &env.pool,
        &scimbus_db::tokens::NewRow {
            id: uuid::Uuid::now_v7(),
            tenant: "acme",
            hash: &hash,
            label: "late",
            prefix: "",
            scopes: &scopes,
            expires_at: None,
        },
    )
    .await
    .unwrap()
    .unwrap();
    until(&router, &secret, StatusCode::OK, "the new token works").await;
    env.teardown().await;
}

/// One request over TCP from 127.0.0.1: its status and headers.
async fn over_tcp(addr: std::net::SocketAddr, token: &str) -> (u16, String) {
    over_tcp_with(addr, token, "").await
}

/// [`over_tcp`] with more header lines (each ending in `\r\n`).
async fn over_tcp_with(addr: std::net::SocketAddr, token: &str, more: &str) -> (u16, String) {
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    let head = format!(
        "GET /scim/v2/acme/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n\
         Accept: application/scim+json\r\n{more}Connection: close\r\n\r\n"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.unwrap();
    let text = String::from_utf8_lossy(&answer).to_string();
    let status = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|t| t.get(..3))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, text)
}

#[tokio::test(flavor = "multi_thread")]
async fn guessing_tokens_is_limited_per_address_and_a_good_token_still_works() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let ingress = IngressBuilder::new(&env).tenants(["acme"]).start().await;
    let addr = ingress.addr();
    until_listening(ingress.service()).await;
    let (id, good) = new_token(&env).await;
    // In use (and so cached) before the guessing starts. (Its first use may
    // race the announcement of its creation, which keeps that answer out of
    // the cache; the second is cached.)
    assert_eq!(over_tcp(addr, &good).await.0, 200);
    assert_eq!(over_tcp(addr, &good).await.0, 200);

    let burst = scimbus_ingress::auth::failures::BURST as usize;
    for i in 0..burst {
        let guess = format!("scimbus_guess{i}");
        let (status, text) = over_tcp(addr, &guess).await;
        assert_eq!(status, 401, "guess {i}: {text}");
    }
    let (status, text) = over_tcp(addr, "scimbus_one-more-guess").await;
    assert_eq!(status, 429, "{text}");
    let lower = text.to_ascii_lowercase();
    assert!(lower.contains("\r\nretry-after: "), "{text}");
    assert!(text.contains("\"status\":\"429\""), "{text}");
    // The good token keeps working from the same address.
    assert_eq!(over_tcp(addr, &good).await.0, 200);

    // Its use is recorded when the replica stops (written behind).
    ingress.stop().await.unwrap();
    let t = scimbus_db::tokens::get(&env.pool, "acme", id)
        .await
        .unwrap()
        .unwrap();
    assert!(t.last_used_at.is_some(), "{t:?}");
    env.teardown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_trusted_proxy_each_forwarded_client_has_its_own_limit() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let ingress = IngressBuilder::new(&env)
        .tenants(["acme"])
        .trusted_proxies("127.0.0.1/32")
        .start()
        .await;
    let addr = ingress.addr();
    let burst = scimbus_ingress::auth::failures::BURST as usize;
    // A client writes its own hop on the left; the proxy appends the real
    // one on the right, which is what counts.
    let a = "X-Forwarded-For: 6.6.6.6, 203.0.113.5\r\n";
    for i in 0..burst {
        assert_eq!(
            over_tcp_with(addr, &format!("scimbus_g{i}"), a).await.0,
            401
        );
    }
    let (status, text) = over_tcp_with(addr, "scimbus_more", a).await;
    assert_eq!(status, 429, "{text}");
    // Another client behind the same proxy is not held up.
    let b = "X-Forwarded-For: 6.6.6.6, 203.0.113.6\r\n";
    assert_eq!(over_tcp_with(addr, "scimbus_other", b).await.0, 401);
    ingress.stop().await.unwrap();
    env.teardown().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_operator_api_makes_lists_and_revokes_tokens() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let router = replica(&env).await;
    let admin = |m: Method, path: &str, body: Option<serde_json::Value>| {
        let path = format!("/admin/v1/tenants/acme/tokens{path}");
        let router = router.clone();
        async move { send(&router, request(m, &path, ADMIN_TOKEN, body.as_ref(), &[])).await }
    };

    let made = admin(
        Method::POST,
        "",
        Some(json!({"name": "okta", "scopes": ["scim:read", "users:write"], "expiresIn": "30d"})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let secret = made.body["token"].as_str().unwrap().to_string();
    let id = made.body["id"].as_str().unwrap().to_string();
    assert_eq!(made.body["scopes"], json!(["scim:read", "users:write"]));
    assert!(made.body["expiresAt"].is_string(), "{}", made.body);
    assert_eq!(get_users(&router, &secret).await, StatusCode::OK);

    let list = admin(Method::GET, "", None).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let text = list.body.to_string();
    assert!(!text.contains(&secret), "a listing never shows a secret");
    assert_eq!(list.body["tokens"][0]["name"], "okta");
    assert_eq!(list.body["tokens"][0]["id"], id.as_str());
    // A prefix tells it apart: `scimbus_` and four characters.
    assert_eq!(list.body["tokens"][0]["prefix"], &secret[..12]);

    let gone = admin(Method::DELETE, &format!("/{id}"), None).await;
    assert_eq!(gone.status, StatusCode::OK, "{}", gone.body);
    assert!(gone.body["revokedAt"].is_string(), "{}", gone.body);
    until(&router, &secret, StatusCode::UNAUTHORIZED, "revoked").await;

    for (body, says) in [
        (json!({"scopes": ["scim:admin"]}), "scim:admin"),
        (json!({"scopes": []}), "at least one scope"),
        (json!({"expiresIn": "soon"}), "expiresIn"),
        (
            json!({"expiresAt": "2000-01-01T00:00:00Z"}),
            "not in the future",
        ),
        (json!({"secret": "mine"}), "\"secret\" is not a field"),
    ] {
        let r = admin(Method::POST, "", Some(body.clone())).await;
        assert_eq!(r.status, StatusCode::BAD_REQUEST, "{body}: {}", r.body);
        assert_eq!(r.body["scimType"], "invalidValue", "{body}");
        let detail = r.body["detail"].as_str().unwrap();
        assert!(detail.contains(says), "{body}: {detail}");
    }
    let r = admin(Method::GET, "/not-a-uuid", None).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = send(
        &router,
        request(
            Method::GET,
            "/admin/v1/tenants/nope/tokens",
            ADMIN_TOKEN,
            None,
            &[],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    env.teardown().await;
}

#[tokio::test]
async fn a_read_only_admin_token_reads_the_operator_api_and_acts_on_nothing() {
    let env = TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    let router = IngressBuilder::new(&env)
        .tenants(["acme"])
        .admin_read_tokens(&["admin-reader"])
        .router()
        .await;
    let call = |m: Method, path: &str| {
        let router = router.clone();
        let path = path.to_string();
        async move { send(&router, request(m, &path, "admin-reader", None, &[])).await }
    };
    let r = call(Method::GET, "/admin/v1/tenants/acme/tokens").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    for (m, path) in [
        (Method::POST, "/admin/v1/tenants/acme/tokens"),
        (Method::POST, "/admin/v1/tenants/acme/targets/crm/pause"),
        (Method::DELETE, "/admin/v1/tenants/acme/subscriptions/bus"),
    ] {
        let r = call(m.clone(), path).await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{m} {path}: {}", r.body);
        assert!(
            r.body["detail"].as_str().unwrap().contains("admin:write"),
            "{}",
            r.body
        );
    }
    // Nothing was made.
    assert!(
        api_tokens::list(&env.pool, Some("acme"))
            .await
            .unwrap()
            .is_empty()
    );
    // Still no SCIM token.
    assert_eq!(
        get_users(&router, "admin-reader").await,
        StatusCode::UNAUTHORIZED
    );
    env.teardown().await;
}
