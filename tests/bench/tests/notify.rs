//! The notification figures, measured from real receivers over HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use scimbus_bench::notify::measure;
use scimbus_bench::receiver::app;
use scimbus_bench::target::now_micros;
use serde_json::json;

async fn start(fail: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app(fail)).await });
    format!("http://{addr}")
}

/// A created-user event committed `ago_ms` before now.
async fn notify(http: &reqwest::Client, url: &str, user: &str, ago_ms: u64) -> u16 {
    let commit = now_micros() - ago_ms * 1000;
    let time = chrono::DateTime::from_timestamp_micros(commit as i64)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let body = json!({"specversion": "1.0", "id": user, "type": "dev.scimbus.user.created",
        "time": time, "data": {"resource": {"userName": user}}});
    http.post(format!("{url}/events"))
        .header("webhook-id", user)
        .header("webhook-timestamp", "1")
        .header("webhook-signature", "v1,x")
        .json(&body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

#[tokio::test]
async fn a_notification_never_received_is_missing_and_the_failing_receiver_is_counted_apart() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    let healthy = start(false).await;
    let failing = start(true).await;
    // Users 0, 1, 2 acknowledged; 3 was not (its create failed).
    let now = now_micros();
    let acks = [now, now, now, 0];
    assert_eq!(notify(&http, &healthy, "r-0", 5).await, 204);
    assert_eq!(notify(&http, &healthy, "r-1", 5).await, 204);
    assert_eq!(notify(&http, &healthy, "r-3", 5).await, 204);
    assert_eq!(notify(&http, &failing, "r-0", 5).await, 500);
    assert_eq!(notify(&http, &failing, "r-0", 5).await, 500);

    let deadline = Instant::now() + Duration::from_millis(500);
    let fig = measure(&http, &[healthy, failing], "r", &acks, deadline)
        .await
        .unwrap();
    assert_eq!((fig.receivers, fig.healthy), (2, 1));
    // r-2 never came to the healthy receiver; the failing one is not held
    // against it, and r-3 (not acknowledged) is not looked for.
    assert_eq!(fig.missing, 1);
    assert_eq!(fig.failing_requests, 2);
    assert_eq!(fig.from_commit.len(), 2);
    assert!(fig.from_commit.iter().all(|ms| *ms >= 5.0), "{fig:?}");
    assert_eq!((fig.untimed, fig.unsigned, fig.duplicates), (0, 0, 0));
    let line = fig.to_string();
    assert!(
        line.starts_with("BENCH notify receivers=2 healthy=1 "),
        "{line}"
    );
    assert!(line.contains(" notify_missing=1 "), "{line}");
    assert!(line.ends_with(" notify_failing_requests=2"), "{line}");
}
