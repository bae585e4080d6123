//! The receiver against requests signed by the `standardwebhooks` crate,
//! as scimbus signs them (the same construction, another implementation).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scimbus_example_webhook_receiver::{Receiver, app};
use standardwebhooks::Webhook;
use tower::ServiceExt;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const EVENT_ID: &str = "01900000-0000-7000-8000-000000000001";

fn event() -> String {
    serde_json::json!({
        "specversion": "1.0",
        "id": EVENT_ID,
        "source": "/scim/v2/demo",
        "type": "dev.scimbus.user.created",
        "subject": "2819c223-7f76-453a-919d-413861904646",
        "time": "2026-12-05T22:00:00.123456Z",
        "datacontenttype": "application/json",
        "sequence": "00000000000000000007",
        "data": {"resource": {"userName": "bjensen"}, "changed": ["userName"]}
    })
    .to_string()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// A receiver whose printed lines the test reads back.
fn receiver() -> (axum::Router, Arc<Mutex<Vec<String>>>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    let r = Receiver::new(
        SECRET,
        Arc::new(move |l: &str| sink.lock().unwrap().push(l.to_string())),
    )
    .unwrap();
    (app(Arc::new(r)), lines)
}

fn request(id: &str, ts: i64, signature: &str, content_type: &str, body: &str) -> Request<Body> {
    Request::post("/events")
        .header("content-type", content_type)
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn signed(id: &str, ts: i64, body: &str) -> Request<Body> {
    let sig = Webhook::new(SECRET)
        .unwrap()
        .sign(id, ts, body.as_bytes())
        .unwrap();
    request(id, ts, &sig, "application/cloudevents+json", body)
}

async fn send(app: &axum::Router, req: Request<Body>) -> StatusCode {
    app.clone().oneshot(req).await.unwrap().status()
}

#[tokio::test]
async fn a_signed_event_is_accepted_and_printed_as_one_line() {
    let (app, lines) = receiver();
    assert_eq!(
        send(&app, signed(EVENT_ID, now(), &event())).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        *lines.lock().unwrap(),
        vec![
            "2026-12-05T22:00:00.123456Z dev.scimbus.user.created \
             2819c223-7f76-453a-919d-413861904646 seq=00000000000000000007"
        ]
    );
}

#[tokio::test]
async fn a_tampered_body_is_refused_and_not_printed() {
    let (app, lines) = receiver();
    let ts = now();
    let sig = Webhook::new(SECRET)
        .unwrap()
        .sign(EVENT_ID, ts, event().as_bytes())
        .unwrap();
    let tampered = event().replace("bjensen", "mallory");
    let req = request(
        EVENT_ID,
        ts,
        &sig,
        "application/cloudevents+json",
        &tampered,
    );
    assert_eq!(send(&app, req).await, StatusCode::UNAUTHORIZED);
    assert!(lines.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_signature_with_another_secret_or_none_is_refused() {
    let (app, lines) = receiver();
    let ts = now();
    let other = Webhook::new("whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
        .unwrap()
        .sign(EVENT_ID, ts, event().as_bytes())
        .unwrap();
    let req = request(
        EVENT_ID,
        ts,
        &other,
        "application/cloudevents+json",
        &event(),
    );
    assert_eq!(send(&app, req).await, StatusCode::UNAUTHORIZED);
    let unsigned = Request::post("/events")
        .header("content-type", "application/cloudevents+json")
        .body(Body::from(event()))
        .unwrap();
    assert_eq!(send(&app, unsigned).await, StatusCode::UNAUTHORIZED);
    assert!(lines.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_stale_signature_is_refused() {
    let (app, lines) = receiver();
    // Correctly signed, ten minutes ago: a replayed capture.
    assert_eq!(
        send(&app, signed(EVENT_ID, now() - 600, &event())).await,
        StatusCode::UNAUTHORIZED
    );
    assert!(lines.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_rotating_secret_is_accepted_by_either_signature() {
    let (app, lines) = receiver();
    let ts = now();
    let old = Webhook::new("whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldY")
        .unwrap()
        .sign(EVENT_ID, ts, event().as_bytes())
        .unwrap();
    let new = Webhook::new(SECRET)
        .unwrap()
        .sign(EVENT_ID, ts, event().as_bytes())
        .unwrap();
    let req = request(
        EVENT_ID,
        ts,
        &format!("{old} {new}"),
        "application/cloudevents+json",
        &event(),
    );
    assert_eq!(send(&app, req).await, StatusCode::NO_CONTENT);
    assert_eq!(lines.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_redelivered_event_is_printed_once() {
    let (app, lines) = receiver();
    for _ in 0..3 {
        // Each delivery attempt is signed anew, with its own timestamp.
        assert_eq!(
            send(&app, signed(EVENT_ID, now(), &event())).await,
            StatusCode::NO_CONTENT
        );
    }
    let other = event().replace("00000000000000000007", "00000000000000000008");
    assert_eq!(
        send(&app, signed("another-id", now(), &other)).await,
        StatusCode::NO_CONTENT
    );
    let lines = lines.lock().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].ends_with("seq=00000000000000000007"));
    assert!(lines[1].ends_with("seq=00000000000000000008"));
}

#[tokio::test]
async fn a_set_prints_its_jti_and_event_uris() {
    let (app, lines) = receiver();
    let claims = serde_json::json!({
        "iss": "https://scimbus.example/scim/v2/demo", "iat": now(), "jti": "set-42",
        "events": {"urn:ietf:params:scim:event:create": {"ref": "/Users/u-1"}}
    });
    let token = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"secevent+jwt"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let ts = now();
    let sig = Webhook::new(SECRET)
        .unwrap()
        .sign("set-42", ts, token.as_bytes())
        .unwrap();
    let req = request("set-42", ts, &sig, "application/secevent+jwt", &token);
    assert_eq!(send(&app, req).await, StatusCode::NO_CONTENT);
    assert_eq!(
        *lines.lock().unwrap(),
        vec!["SET jti=set-42 events=urn:ietf:params:scim:event:create"]
    );
}

#[tokio::test]
async fn a_signed_body_that_is_no_event_is_a_bad_request() {
    let (app, lines) = receiver();
    assert_eq!(
        send(&app, signed(EVENT_ID, now(), "not json")).await,
        StatusCode::BAD_REQUEST
    );
    assert!(lines.lock().unwrap().is_empty());
    // Not remembered either: the real event with that id is still printed.
    assert_eq!(
        send(&app, signed(EVENT_ID, now(), &event())).await,
        StatusCode::NO_CONTENT
    );
    assert_eq!(lines.lock().unwrap().len(), 1);
}
