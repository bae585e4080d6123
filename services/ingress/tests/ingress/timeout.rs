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

/// A setting whose value is not UTF-8 is not taken for unset (which would
/// run with its default without a word), and a `RUST_LOG` that does not
/// parse is reported.
#[cfg(unix)]
#[test]
fn a_setting_that_is_not_utf8_is_refused_not_defaulted() {
    use std::os::unix::ffi::OsStrExt;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_scimbus-ingress"))
        .env_clear()
        .env("SCIMBUS_DATABASE_URL", "postgres://x@127.0.0.1:1/x")
        .env("SCIMBUS_PARTITIONS", std::ffi::OsStr::from_bytes(b"4\xff"))
        // Read after SCIMBUS_PARTITIONS: stops the ingress before it
        // connects to anything even if that were skipped.
        .env("SCIMBUS_WRITE_TIMEOUT_MS", "soon")
        .env("RUST_LOG", "scimbus=nonsense=more")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SCIMBUS_PARTITIONS"), "{err}");
    assert!(err.contains("RUST_LOG does not parse"), "{err}");
}
