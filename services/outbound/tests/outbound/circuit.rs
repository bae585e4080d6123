//! A target that fails: the circuit breaker asks again when the target
//! says (`Retry-After`), and every failed attempt is counted when it
//! happens.

use std::time::{Duration, Instant};

use scimbus_runtime::CircuitConfig;

use crate::fake_target::{FakeTarget, Fault};
use crate::support::{Hub, TENANT, eventually, target};

async fn failed(hub: &Hub, name: &str) -> i64 {
    sqlx::query_scalar("select failed from target_progress where tenant = $1 and target = $2")
        .bind(TENANT)
        .bind(name)
        .fetch_one(&hub.env.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn a_target_that_says_retry_after_is_asked_again_then_not_later() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let mut cfg = target("t", &t.url());
    cfg.max_attempts = 15;
    // The defaults: trips after 5 failures, 2 s doubling up to 30 s.
    cfg.circuit = CircuitConfig::default();
    hub.start_outbound(vec![cfg]).await;
    // Nine answers of 429 with Retry-After: 1. The circuit opens after the
    // fifth; then it must wait 1 s each time (about 9 s in all), not 2, 4,
    // 8, 16 s (over 30 s).
    for _ in 0..9 {
        t.fail(None, "/Users", Fault::TooMany(1));
    }
    let started = Instant::now();
    hub.create_user("patient", "Sales").await;
    eventually(
        "the user arrives soon after the target's last Retry-After",
        Duration::from_secs(25),
        || async {
            if t.resources("Users").len() == 1 {
                Ok(())
            } else {
                Err(format!("{} faults left", t.faults_left()))
            }
        },
    )
    .await;
    assert_eq!(t.faults_left(), 0);
    // It did wait as told: nine pauses of about a second.
    assert!(
        started.elapsed() >= Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(failed(&hub, "t").await, 9);
    hub.teardown().await;
}

#[tokio::test]
async fn failed_attempts_are_counted_as_they_happen_once_each() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let mut cfg = target("t", &t.url());
    cfg.max_attempts = 20;
    cfg.circuit.trip_after = 5;
    cfg.circuit.open_ms = 300;
    cfg.circuit.growth = 2.0;
    cfg.circuit.max_open_ms = 2_000;
    hub.start_outbound(vec![cfg]).await;
    for _ in 0..8 {
        t.fail(None, "/Users", Fault::Status(503));
    }
    hub.create_user("unlucky", "Sales").await;
    // Counted while the change is still failing (a crash now would not
    // lose them), not when it finally gets through.
    eventually(
        "three failures counted",
        Duration::from_secs(20),
        || async {
            match failed(&hub, "t").await {
                n if n >= 3 => Ok(()),
                n => Err(format!("{n}")),
            }
        },
    )
    .await;
    assert!(
        t.faults_left() > 0,
        "the failures were counted only once the change got through"
    );
    eventually("the user arrives", Duration::from_secs(30), || async {
        if t.resources("Users").len() == 1 {
            Ok(())
        } else {
            Err(format!("{} faults left", t.faults_left()))
        }
    })
    .await;
    // Once each: eight failed attempts, eight counted.
    eventually("eight failures counted", Duration::from_secs(5), || async {
        match failed(&hub, "t").await {
            8 => Ok(()),
            n => Err(format!("{n}")),
        }
    })
    .await;
    hub.teardown().await;
}
