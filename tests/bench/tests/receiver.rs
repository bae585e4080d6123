//! The bench's webhook receiver: what it records of the events it is sent.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{Request, StatusCode};
use scimbus_bench::receiver::app;
use scimbus_bench::target::now_micros;
use serde_json::{Value, json};
use tower::ServiceExt;

fn event(kind: &str, user: &str, time: &str) -> String {
    json!({
        "specversion": "1.0", "id": format!("id-{user}-{kind}"), "source": "/scim/v2/prop",
        "type": kind, "subject": "s", "time": time, "datacontenttype": "application/json",
        "sequence": "00000000000000000001",
        "data": {"resource": {"userName": user, "active": true}, "changed": ["userName"]}
    })
    .to_string()
}

fn post(body: String, signed: bool) -> Request<Body> {
    let mut r = Request::post("/events").header("content-type", "application/cloudevents+json");
    if signed {
        r = r
            .header("webhook-id", "id")
            .header("webhook-timestamp", "1")
            .header("webhook-signature", "v1,x");
    }
    r.body(Body::from(body)).unwrap()
}

async fn send(app: &Router, req: Request<Body>) -> StatusCode {
    app.clone().oneshot(req).await.unwrap().status()
}

async fn get(app: &Router, path: &str) -> Value {
    let res = app
        .clone()
        .oneshot(Request::get(path).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    serde_json::from_slice(&to_bytes(res.into_body(), 1 << 20).await.unwrap()).unwrap()
}

#[tokio::test]
async fn a_created_users_arrival_and_commit_time_are_recorded_once() {
    let app = app(false);
    let before = now_micros();
    let created = event(
        "dev.scimbus.user.created",
        "p1-0",
        "2026-12-05T22:00:00.123456Z",
    );
    assert_eq!(
        send(&app, post(created.clone(), true)).await,
        StatusCode::NO_CONTENT
    );
    let after = now_micros();
    // A redelivery keeps the first arrival and is counted.
    assert_eq!(
        send(&app, post(created, true)).await,
        StatusCode::NO_CONTENT
    );

    let at = get(&app, "/_arrivals").await["p1-0"].as_u64().unwrap();
    assert!(
        (before..=after).contains(&at),
        "{before} <= {at} <= {after}"
    );
    assert_eq!(
        get(&app, "/_commits").await["p1-0"].as_u64(),
        Some(1_796_508_000_123_456)
    );
    assert_eq!(get(&app, "/_count").await, json!(1));
    let stats = get(&app, "/_stats").await;
    assert_eq!(stats["requests"], 2);
    assert_eq!(stats["duplicates"], 1);
    assert_eq!(stats["unsigned"], 0);
    assert_eq!(stats["fail"], false);
}

#[tokio::test]
async fn only_user_created_events_count() {
    let app = app(false);
    for kind in [
        "dev.scimbus.user.updated",
        "dev.scimbus.user.deactivated",
        "dev.scimbus.group.created",
    ] {
        let e = event(kind, "p1-1", "2026-12-05T22:00:00Z");
        assert_eq!(send(&app, post(e, true)).await, StatusCode::NO_CONTENT);
    }
    assert_eq!(get(&app, "/_arrivals").await, json!({}));
    assert_eq!(get(&app, "/_stats").await["requests"], 3);
}

#[tokio::test]
async fn a_request_without_the_webhook_headers_is_counted() {
    let app = app(false);
    let e = event("dev.scimbus.user.created", "p1-2", "2026-12-05T22:00:00Z");
    assert_eq!(send(&app, post(e, false)).await, StatusCode::NO_CONTENT);
    assert_eq!(get(&app, "/_stats").await["unsigned"], 1);
}

#[tokio::test]
async fn a_failing_receiver_answers_500_and_counts_what_it_was_sent() {
    let app = app(true);
    for i in 0..3 {
        let e = event(
            "dev.scimbus.user.created",
            &format!("p1-{i}"),
            "2026-12-05T22:00:00Z",
        );
        assert_eq!(
            send(&app, post(e, true)).await,
            StatusCode::INTERNAL_SERVER_ERROR
        );
    }
    let stats = get(&app, "/_stats").await;
    assert_eq!(stats["fail"], true);
    assert_eq!(stats["requests"], 3);
    assert_eq!(get(&app, "/_arrivals").await, json!({}));
}
