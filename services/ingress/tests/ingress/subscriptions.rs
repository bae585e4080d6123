//! `/admin/v1/…/subscriptions` and `/events/v1`: subscriptions made,
//! shown (never their secrets), replaced, deleted, checked field by field;
//! paused, resumed, replayed; RFC 8936 polling; the JWKS. No notifier runs
//! here: these are the rows it reads and the queue it fills.

use axum::http::Method;
use scimbus_db::subscriptions::{SubscriptionKey, polled, progress};
use serde_json::{Value, json};

use crate::support::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const HOOKS: &str = "/admin/v1/tenants/acme/subscriptions/hooks";
const REPLAY: &str = "/admin/v1/tenants/acme/subscriptions/hooks/replay";

fn webhook() -> Value {
    json!({
        "delivery": {"type": "webhook", "url": "https://app.example.com/hooks", "secret": SECRET},
        "events": ["created", "deactivated"],
        "filter": "active eq true",
        "attributes": ["active", "title"]
    })
}

#[tokio::test]
async fn subscriptions_are_made_shown_replaced_and_deleted_never_showing_a_secret() {
    let api = Api::new().await;
    let r = api.call(Method::PUT, HOOKS, ADMIN, Some(webhook())).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["name"], "hooks");
    assert_eq!(r.body["source"], "api");
    assert_eq!(r.body["delivery"]["url"], "https://app.example.com/hooks");
    assert_eq!(r.body["delivery"]["secretCount"], 1);
    assert_eq!(r.body["format"], "cloudevents", "the default format");
    assert_eq!(r.body["status"]["state"], "running", "{}", r.body);
    assert_eq!(r.body["status"]["position"], Value::Null, "not driven yet");
    assert!(!r.body.to_string().contains("whsec_"), "{}", r.body);

    // Listed with the file's own, which cannot be changed here.
    let r = api
        .call(
            Method::GET,
            "/admin/v1/tenants/acme/subscriptions",
            ADMIN,
            None,
        )
        .await;
    let names: Vec<(&str, &str)> = r.body["subscriptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["name"].as_str().unwrap(), s["source"].as_str().unwrap()))
        .collect();
    assert_eq!(names, [("bus", "config"), ("hooks", "api")], "{}", r.body);
    let r = api
        .call(
            Method::PUT,
            "/admin/v1/tenants/acme/subscriptions/bus",
            ADMIN,
            Some(webhook()),
        )
        .await;
    r.assert_error(409, None);
    let r = api
        .call(
            Method::DELETE,
            "/admin/v1/tenants/acme/subscriptions/bus",
            ADMIN,
            None,
        )
        .await;
    r.assert_error(409, None);
    // Another tenant's list does not have it.
    let r = api
        .call(
            Method::GET,
            "/admin/v1/subscriptions?tenant=other",
            ADMIN,
            None,
        )
        .await;
    assert_eq!(r.body["subscriptions"], json!([]), "{}", r.body);

    // Replaced: 200, a rotation shows two secrets.
    let mut body = webhook();
    body["delivery"]["secret"] = json!(["whsec_c2NpbWJ1cy1uZXctc2VjcmV0LTAxMjM0NTY3", SECRET]);
    body["format"] = json!("scim-set");
    let r = api.call(Method::PUT, HOOKS, ADMIN, Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["delivery"]["secretCount"], 2);
    assert_eq!(r.body["format"], "scim-set");
    let stored: Vec<String> =
        sqlx::query_scalar("select secrets from subscriptions where name = 'hooks'")
            .fetch_one(&api.env.pool)
            .await
            .unwrap();
    assert_eq!(stored.len(), 2, "the secrets are kept to sign with");
    let spec: Value = sqlx::query_scalar("select spec from subscriptions where name = 'hooks'")
        .fetch_one(&api.env.pool)
        .await
        .unwrap();
    assert!(!spec.to_string().contains("whsec_"), "kept apart: {spec}");

    let r = api.call(Method::DELETE, HOOKS, ADMIN, None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    api.call(Method::GET, HOOKS, ADMIN, None)
        .await
        .assert_error(404, None);
    let left: i64 =
        sqlx::query_scalar("select count(*) from subscription_progress where name = 'hooks'")
            .fetch_one(&api.env.pool)
            .await
            .unwrap();
    assert_eq!(left, 0, "its progress goes with it");
    // A tenant that does not exist, and a tenant's SCIM token.
    api.call(
        Method::PUT,
        "/admin/v1/tenants/nobody/subscriptions/hooks",
        ADMIN,
        Some(webhook()),
    )
    .await
    .assert_error(404, None);
    api.call(Method::PUT, HOOKS, ACME, Some(webhook()))
        .await
        .assert_error(401, None);
    api.teardown().await;
}

#[tokio::test]
async fn a_bad_subscription_is_refused_naming_its_field() {
    let api = Api::new().await;
    let cases = [
        (
            json!({"delivery": {"type": "webhook", "secret": SECRET}}),
            "delivery.url",
        ),
        (
            json!({"delivery": {"type": "webhook", "url": "ftp://x", "secret": SECRET}}),
            "delivery.url",
        ),
        (
            json!({"delivery": {"type": "webhook", "url": "https://x.example"}}),
            "delivery.secret",
        ),
        (
            json!({"delivery": {"type": "webhook", "url": "https://x.example", "secret": "hunter2"}}),
            "delivery.secret",
        ),
        (
            json!({"delivery": {"type": "poll"}, "format": "cloudevents"}),
            "format",
        ),
        (
            json!({"delivery": {"type": "nats"}, "events": ["renamed"]}),
            "events",
        ),
        (
            json!({"delivery": {"type": "nats"}, "filter": "userName eq"}),
            "filter",
        ),
        (
            json!({"delivery": {"type": "nats"}, "attributes": ["shoeSize"]}),
            "attributes",
        ),
        (
            json!({"delivery": {"type": "nats"}, "colour": "red"}),
            "colour",
        ),
        (
            json!({"delivery": {"type": "nats"}, "name": "other"}),
            "name",
        ),
    ];
    for (body, field) in cases {
        let r = api
            .call(Method::PUT, HOOKS, ADMIN, Some(body.clone()))
            .await;
        r.assert_error(400, Some("invalidValue"));
        let detail = r.body["detail"].as_str().unwrap_or_default();
        assert!(detail.starts_with(field), "{body} → {detail}");
    }
    let r = api
        .call(
            Method::PUT,
            "/admin/v1/tenants/acme/subscriptions/Bad!",
            ADMIN,
            Some(json!({"delivery": {"type": "nats"}})),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    let none: i64 = sqlx::query_scalar("select count(*) from subscriptions")
        .fetch_one(&api.env.pool)
        .await
        .unwrap();
    assert_eq!(none, 0, "nothing refused was stored");
    api.teardown().await;
}

#[tokio::test]
async fn subscriptions_are_paused_resumed_and_replayed() {
    let api = Api::new().await;
    api.call(Method::PUT, HOOKS, ADMIN, Some(webhook())).await;
    let r = api
        .call(Method::POST, &format!("{HOOKS}/pause"), ADMIN, None)
        .await;
    assert_eq!(r.body["status"]["state"], "pausing", "{}", r.body);
    let key = SubscriptionKey {
        tenant: "acme",
        name: "hooks",
    };
    // A 410 disabled it meanwhile: a resume re-enables it.
    progress::disable(&api.env.pool, key, "the receiver answered 410 Gone")
        .await
        .unwrap();
    let r = api
        .call(Method::POST, &format!("{HOOKS}/resume"), ADMIN, None)
        .await;
    assert_eq!(r.body["status"]["state"], "running", "{}", r.body);
    assert_eq!(r.body["status"]["disabledReason"], Value::Null);

    let replay = |body: Value| api.call(Method::POST, REPLAY, ADMIN, Some(body));
    replay(json!({"from_sequence": 1}))
        .await
        .assert_error(400, Some("invalidValue"));
    replay(json!({"since": "2999-01-01T00:00:00Z"}))
        .await
        .assert_error(400, Some("invalidValue"));
    replay(json!({"since": "yesterday"}))
        .await
        .assert_error(400, Some("invalidValue"));
    replay(json!({"since": "2026-01-01T00:00:00Z", "from_sequence": 1}))
        .await
        .assert_error(400, Some("invalidValue"));
    replay(json!({"parked": true}))
        .await
        .assert_error(404, None);
    // A change of the tenant: replay from it is taken.
    let r = api.post(USERS, user("replayed")).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = replay(json!({"from_sequence": 1})).await;
    assert_eq!(r.status, 202, "{}", r.body);
    let p = progress::find(&api.env.pool, key).await.unwrap().unwrap();
    assert_eq!(p.replay_from_seq, Some(1));
    let r = api.call(Method::GET, HOOKS, ADMIN, None).await;
    assert_eq!(r.body["status"]["replay"], json!({"fromSequence": 1}));
    let r = api
        .call(Method::GET, &format!("{HOOKS}/parked"), ADMIN, None)
        .await;
    assert_eq!(r.body, json!({"parked": []}));
    api.teardown().await;
}

#[tokio::test]
async fn polling_hands_out_queued_events_until_they_are_acknowledged() {
    let api = Api::new().await;
    let path = "/admin/v1/tenants/acme/subscriptions/poller";
    let r = api
        .call(
            Method::PUT,
            path,
            ADMIN,
            Some(json!({"delivery": {"type": "poll", "secret": SECRET}})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.body["format"], "scim-set");
    let key = SubscriptionKey {
        tenant: "acme",
        name: "poller",
    };
    for (jti, seq) in [("e1", 1), ("e2", 2), ("e3", 3)] {
        polled::queue(&api.env.pool, key, jti, seq, &format!("token-{jti}"))
            .await
            .unwrap();
    }
    let poll = "/events/v1/acme/subscriptions/poller/poll";
    let r = api
        .call(
            Method::POST,
            poll,
            ACME,
            Some(json!({"maxEvents": 2, "returnImmediately": true})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.body,
        json!({"sets": {"e1": "token-e1", "e2": "token-e2"}, "moreAvailable": true})
    );
    // Not acknowledged: handed out again. Acknowledged (or refused by the
    // application): never again.
    let r = api
        .call(
            Method::POST,
            poll,
            ACME,
            Some(json!({"ack": ["e1"], "setErrs": {"e2": {"err": "x", "description": "y"}}, "returnImmediately": true})),
        )
        .await;
    assert_eq!(
        r.body,
        json!({"sets": {"e3": "token-e3"}, "moreAvailable": false}),
        "{}",
        r.body
    );
    let r = api
        .call(
            Method::POST,
            poll,
            ACME,
            Some(json!({"ack": ["e3"], "maxEvents": 0})),
        )
        .await;
    assert_eq!(r.body, json!({"sets": {}, "moreAvailable": false}));
    // Nothing pending and asked to wait: an empty answer after the wait.
    let started = std::time::Instant::now();
    let r = api.call(Method::POST, poll, ACME, Some(json!({}))).await;
    assert_eq!(r.body, json!({"sets": {}, "moreAvailable": false}));
    assert!(started.elapsed() >= std::time::Duration::from_millis(500));

    let r = api
        .call(Method::POST, poll, ACME, Some(json!({"maxEvents": -1})))
        .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.body["err"], "invalid_request", "{}", r.body);
    api.call(Method::POST, poll, OTHER, Some(json!({})))
        .await
        .assert_error(401, None);
    api.call(
        Method::POST,
        "/events/v1/acme/subscriptions/bus/poll",
        ACME,
        Some(json!({})),
    )
    .await
    .assert_error(404, None);
    api.teardown().await;
}

#[tokio::test]
async fn the_jwks_serves_the_public_half_of_the_signing_key() {
    let api = Api::new().await;
    let r = api
        .call(Method::GET, "/events/v1/jwks.json", "", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let key = &r.body["keys"][0];
    assert_eq!(key["kty"], "RSA");
    assert_eq!(key["alg"], "RS256");
    assert_eq!(key["kid"], signing_key().kid());
    assert!(key.get("d").is_none(), "never the private part: {key}");
    // With a key, a subscription may sign with it.
    let r = api
        .call(
            Method::PUT,
            "/admin/v1/tenants/acme/subscriptions/keyed",
            ADMIN,
            Some(json!({"delivery": {"type": "poll"}, "signing": "key"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    api.teardown().await;
}
