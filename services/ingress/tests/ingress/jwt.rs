//! JWT bearer tokens of a tenant's authorization server, against a JWKS
//! served by the test: a good token works with the scopes of its claim;
//! expired, not yet valid, wrong issuer, wrong audience, bad signature,
//! `alg: none` and HS256 are 401 with RFC 6750's `invalid_token`; a key
//! rotated in is found by fetching the JWKS again, no more often than
//! allowed.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scimbus_e2e::http::{Reply, request, send};
use scimbus_e2e::{IngressBuilder, TestEnv, eventually};
use scimbus_notify::{Signer, SigningKey, sign_jwt};
use scimbus_runtime::config::JwtConfig;
use serde_json::{Value, json};

const ISSUER: &str = "https://idp.example.com";
const AUDIENCE: &str = "scimbus";

/// A JWKS served over HTTP, replaceable, counting its fetches.
struct Jwks {
    url: String,
    keys: Arc<Mutex<Value>>,
    fetches: Arc<AtomicUsize>,
}

async fn jwks_server(keys: Value) -> Jwks {
    let keys = Arc::new(Mutex::new(keys));
    let fetches = Arc::new(AtomicUsize::new(0));
    let (k, f) = (keys.clone(), fetches.clone());
    let app = axum::Router::new().route(
        "/jwks.json",
        axum::routing::get(move || {
            let (k, f) = (k.clone(), f.clone());
            async move {
                f.fetch_add(1, Ordering::SeqCst);
                axum::Json(k.lock().unwrap().clone())
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    Jwks {
        url: format!("http://{addr}/jwks.json"),
        keys,
        fetches,
    }
}

/// A fresh P-256 key (ES256).
fn ec_key() -> SigningKey {
    let rng = ring::rand::SystemRandom::new();
    let der = ring::signature::EcdsaKeyPair::generate_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &rng,
    )
    .unwrap();
    let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
    let pem = format!("-----BEGIN PRIVATE KEY-----\n{b64}\n-----END PRIVATE KEY-----\n");
    SigningKey::from_pem(pem.as_bytes()).unwrap()
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Claims of a good token with `scope`, changed by `edit`.
fn claims(scope: &str, edit: impl FnOnce(&mut Value)) -> Value {
    let mut c = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "okta-client",
        "iat": now(), "exp": now() + 300, "scope": scope,
    });
    edit(&mut c);
    c
}

fn sign(key: &SigningKey, c: &Value) -> String {
    sign_jwt(c, &Signer::Key(key)).unwrap()
}

async fn get_users(router: &axum::Router, token: &str) -> Reply {
    send(
        router,
        request(Method::GET, "/scim/v2/acme/Users", token, None, &[]),
    )
    .await
}

fn assert_invalid(r: &Reply, says: &str, what: &str) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{what}: {}", r.body);
    let challenge = r.header("www-authenticate").unwrap_or_default();
    assert!(
        challenge.contains("error=\"invalid_token\""),
        "{what}: {challenge}"
    );
    let detail = r.body["detail"].as_str().unwrap_or_default();
    assert!(detail.contains(says), "{what}: {detail}");
}

async fn ingress(env: &TestEnv, jwks_url: &str) -> axum::Router {
    IngressBuilder::new(env)
        .tenants(["acme"])
        .jwt(
            "acme",
            JwtConfig {
                issuer: ISSUER.into(),
                audience: AUDIENCE.into(),
                algorithms: vec!["RS256".into(), "ES256".into()],
                jwks_url: Some(jwks_url.into()),
                jwks: None,
                scope_claim: "scope".into(),
                jwks_min_refresh_secs: 2,
                leeway_secs: 5,
            },
        )
        .router()
        .await
}

#[tokio::test]
async fn good_jwts_work_with_their_scopes_and_bad_ones_are_invalid_tokens() {
    let env = TestEnv::new().await;
    env.bus().await;
    let rsa = crate::support::signing_key();
    let jwks = jwks_server(rsa.jwks()).await;
    let router = ingress(&env, &jwks.url).await;

    let good = sign(&rsa, &claims("openid scim:read", |_| {}));
    let r = get_users(&router, &good).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    // Its scopes are those of the claim: reading, not writing.
    let r = send(
        &router,
        request(
            Method::POST,
            "/scim/v2/acme/Users",
            &good,
            Some(&scimbus_e2e::scim::user("jwt")),
            &[],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN, "{}", r.body);

    let cases = [
        (
            claims("scim:read", |c| c["exp"] = json!(now() - 60)),
            "expired",
        ),
        (
            claims("scim:read", |c| c["nbf"] = json!(now() + 600)),
            "not valid yet",
        ),
        (
            claims("scim:read", |c| {
                c["iss"] = json!("https://evil.example.com")
            }),
            "another issuer",
        ),
        (
            claims("scim:read", |c| c["aud"] = json!("someone-else")),
            "another audience",
        ),
    ];
    for (c, says) in cases {
        assert_invalid(&get_users(&router, &sign(&rsa, &c)).await, says, says);
    }
    // A signature that does not hold: the payload changed after signing.
    let mut parts: Vec<String> = good.split('.').map(str::to_string).collect();
    parts[1] = URL_SAFE_NO_PAD
        .encode(serde_json::to_vec(&claims("scim:read scim:write", |_| {})).unwrap());
    assert_invalid(
        &get_users(&router, &parts.join(".")).await,
        "signature",
        "tampered",
    );
    // alg none, and HS256 signed with the public key's bytes: refused.
    let none_header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let none = format!("{none_header}.{}.", parts[1]);
    assert_invalid(&get_users(&router, &none).await, "not", "alg none");
    let public = rsa.jwks().to_string();
    let hs = sign_jwt(
        &claims("scim:read", |_| {}),
        &Signer::Hs256(public.as_bytes()),
    )
    .unwrap();
    assert_invalid(&get_users(&router, &hs).await, "not allowed", "HS256");

    // `/ServiceProviderConfig` names both ways in: API tokens, and JWTs of
    // this issuer for this audience.
    let r = send(
        &router,
        request(
            Method::GET,
            "/scim/v2/acme/ServiceProviderConfig",
            &good,
            None,
            &[],
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let schemes = r.body["authenticationSchemes"].as_array().unwrap();
    let kinds: Vec<&str> = schemes.iter().filter_map(|s| s["type"].as_str()).collect();
    assert_eq!(kinds, ["oauthbearertoken", "oauth2"]);
    let jwt = schemes[1]["description"].as_str().unwrap();
    assert!(jwt.contains(ISSUER) && jwt.contains(AUDIENCE), "{jwt}");
    assert_eq!(schemes[0]["primary"], json!(true));
    env.teardown().await;
}

#[tokio::test]
async fn a_rotated_key_is_fetched_and_unknown_keys_do_not_hammer_the_issuer() {
    let env = TestEnv::new().await;
    env.bus().await;
    let old = crate::support::signing_key();
    let jwks = jwks_server(old.jwks()).await;
    let router = ingress(&env, &jwks.url).await;
    let r = get_users(&router, &sign(&old, &claims("scim:read", |_| {}))).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 1);

    // The issuer rotates a new key in.
    let new = ec_key();
    let mut both = old.jwks();
    let new_key = new.jwks()["keys"][0].clone();
    both["keys"].as_array_mut().unwrap().push(new_key);
    *jwks.keys.lock().unwrap() = both;
    let token = sign(&new, &claims("scim:read", |_| {}));
    // Right after a fetch, an unknown key does not fetch again, however
    // many tokens name one.
    for _ in 0..20 {
        let r = get_users(&router, &token).await;
        assert_invalid(&r, "no key", "unknown kid within the refresh bound");
    }
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 1);
    // Once the bound has passed, the next such token fetches, and works.
    eventually(
        "the new key is fetched",
        Duration::from_secs(10),
        || async {
            match get_users(&router, &token).await.status {
                StatusCode::OK => Ok(()),
                s => Err(s.to_string()),
            }
        },
    )
    .await;
    assert_eq!(jwks.fetches.load(Ordering::SeqCst), 2);
    env.teardown().await;
}
