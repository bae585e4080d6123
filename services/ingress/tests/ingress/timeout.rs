//! When the store does not answer in time: 503 with Retry-After, nothing
//! lost, and the retry does not apply twice.

use std::time::Duration;

use axum::http::{Method, StatusCode};

use crate::support::*;

#[tokio::test]
async fn a_write_the_store_has_not_answered_is_503_and_safe_to_retry() {
    let mut api = Api::without_store(Duration::from_millis(500)).await;
    let key = [("idempotency-key", "retry-1")];
    let r = api
        .call_with(Method::POST, USERS, ACME, Some(user("late")), &key)
        .await;
    r.assert_error(503, None);
    assert_eq!(r.header("retry-after"), Some("1"));
    // The command waits in the stream; the store applies it when it comes.
    api.start_store().await;
    let mut applied = None;
    for _ in 0..100 {
        let r = api
            .call_with(Method::POST, USERS, ACME, Some(user("late")), &key)
            .await;
        if r.status == StatusCode::CREATED {
            applied = Some(r);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = applied.expect("the retry gets the recorded answer");
    assert_eq!(r.body["userName"], "late");
    let n: i64 = sqlx::query_scalar("select count(*) from resources")
        .fetch_one(&api.env.pool)
        .await
        .unwrap();
    assert_eq!(n, 1, "applied once");
    // Without a key, the retry of a create meets the first one: 409.
    api.post(USERS, user("late"))
        .await
        .assert_error(409, Some("uniqueness"));
    api.teardown().await;
}

#[test]
fn bad_config_stops_the_ingress_before_it_binds_naming_the_setting() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimbus-ingress"))
        .env_clear()
        .env("SCIMBUS_DATABASE_URL", "postgres://x@127.0.0.1:1/x")
        .env("SCIMBUS_PARTITIONS", "zero")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("SCIMBUS_PARTITIONS") && err.contains("\"zero\""),
        "{err}"
    );
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimbus-ingress"))
        .env_clear()
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SCIMBUS_DATABASE_URL"));
}
