//! HR events in the inbox are the store's to apply, whatever happened to
//! their commands: a future-dated termination survives a killed store and
//! fires once; an event whose command never reached the bus (NATS lost it
//! after the ingress's 202) is published again and applied.

use std::time::Duration;

use chrono::{DateTime, Utc};
use scimbus_db::hr::NewEvent;
use scimbus_e2e::eventually;
use scimbus_testkit::TestEnv;
use serde_json::{Value, json};
use tokio::process::Child;
use uuid::Uuid;

use crate::support::*;

fn spawn_store(env: &TestEnv) -> Child {
    scimbus_e2e::binary::command(env!("CARGO_BIN_EXE_scimbus-store"), env)
        .env("SCIMBUS_TENANTS", "acme")
        .env("SCIMBUS_PARTITIONS", PARTITIONS.to_string())
        .env("SCIMBUS_STORE_ADDR", "127.0.0.1:0")
        .env("SCIMBUS_HR_INTERVAL_MS", "100")
        .spawn()
        .expect("start scimbus-store")
}

/// An event as the ingress records it.
fn event(event_id: &str, kind: &str, effective: DateTime<Utc>, user: Value) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        source: "people".into(),
        event_id: event_id.into(),
        employee_id: "e-1".into(),
        kind: kind.into(),
        effective_at: Some(effective),
        due_at: effective,
        raw: json!({"id": event_id}),
        user_doc: user,
        manager_id: None,
        manager_said: false,
        delete_after_days: None,
        new_user_id: Uuid::now_v7(),
    }
}

/// Records `e` as accepted at `accepted_at` (whose command, if it was
/// due, the ingress then failed to publish).
async fn record(env: &TestEnv, e: &NewEvent, accepted_at: DateTime<Utc>) -> Uuid {
    let mut tx = env.pool.begin().await.unwrap();
    let a = scimbus_db::hr::events::insert(&mut tx, "acme", std::slice::from_ref(e), accepted_at)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    a[0].id
}

async fn status(env: &TestEnv, id: Uuid) -> String {
    sqlx::query_scalar("select status from hr_events where tenant = 'acme' and id = $1")
        .bind(id)
        .fetch_one(&env.pool)
        .await
        .unwrap()
}

async fn applied(env: &TestEnv, id: Uuid) {
    eventually(
        &format!("HR event {id} applied"),
        Duration::from_secs(30),
        || async {
            match status(env, id).await.as_str() {
                "applied" => Ok(()),
                other => Err(other.to_string()),
            }
        },
    )
    .await;
}

/// The user's (active, changes recorded: operation numbers in order).
async fn user_state(env: &TestEnv) -> Option<(Option<bool>, Vec<i32>)> {
    let id: Option<Uuid> = sqlx::query_scalar(
        "select id from resources where tenant = 'acme' and external_id = 'e-1'",
    )
    .fetch_optional(&env.pool)
    .await
    .unwrap();
    let id = id?;
    let active: Option<bool> = sqlx::query_scalar("select active from resources where id = $1")
        .bind(id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    let payloads: Vec<Vec<u8>> = sqlx::query_scalar(
        "select payload from changes where tenant = 'acme' and resource_id = $1 order by seq",
    )
    .bind(id)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let ops = payloads
        .iter()
        .map(|p| {
            use scimbus_events::Message;
            scimbus_events::v1::Change::decode(p.as_slice())
                .unwrap()
                .operation
        })
        .collect();
    Some((active, ops))
}

fn hire_doc() -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
           "externalId": "e-1", "userName": "e1@example.org", "title": "Clerk"})
}

#[tokio::test]
async fn a_scheduled_termination_survives_a_killed_store_and_fires_once() {
    let h = Harness::on(TestEnv::new().await).await;
    h.env.tenants(&["acme"]).await;
    let mut store = spawn_store(&h.env);
    let now = Utc::now();
    // Accepted a moment ago, due now: its command was never published.
    let hire = record(
        &h.env,
        &event(
            "hire-1",
            "hire",
            now - chrono::Duration::days(30),
            hire_doc(),
        ),
        now - chrono::Duration::hours(1),
    )
    .await;
    applied(&h.env, hire).await;
    assert_eq!(user_state(&h.env).await.unwrap().0, Some(true));

    let due = Utc::now() + chrono::Duration::seconds(2);
    let term = record(
        &h.env,
        &event("term-1", "terminate", due, json!({})),
        Utc::now(),
    )
    .await;
    assert_eq!(status(&h.env, term).await, "scheduled");
    store.start_kill().unwrap();
    store.wait().await.unwrap();
    // Its time passes with no store running.
    tokio::time::sleep_until(
        tokio::time::Instant::now()
            + (due - Utc::now()).to_std().unwrap_or_default()
            + Duration::from_millis(500),
    )
    .await;
    assert_eq!(status(&h.env, term).await, "scheduled");
    assert_eq!(user_state(&h.env).await.unwrap().0, Some(true));

    let mut store = spawn_store(&h.env);
    applied(&h.env, term).await;
    // Give a second publish (the sweep runs every 100 ms) every chance.
    tokio::time::sleep(Duration::from_millis(600)).await;
    store.start_kill().unwrap();
    store.wait().await.unwrap();
    let (active, ops) = user_state(&h.env).await.unwrap();
    assert_eq!(active, Some(false));
    use scimbus_events::v1::change::Operation;
    assert_eq!(
        ops,
        [Operation::Created as i32, Operation::Deactivated as i32],
        "created once, deactivated once"
    );
    h.teardown().await;
}

#[tokio::test]
async fn an_event_whose_command_was_lost_is_applied_by_the_store() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;
    let now = Utc::now();
    // Recorded and marked published by an ingress whose publish NATS then
    // lost: nothing is on the bus.
    let id = record(&env, &event("hire-1", "hire", now, hire_doc()), now).await;
    sqlx::query("update hr_events set published_at = now() - interval '1 hour'")
        .execute(&env.pool)
        .await
        .unwrap();
    let store = start_store(&env, &["acme"]).await;
    applied(&env, id).await;
    assert_eq!(user_state(&env).await.unwrap().0, Some(true));
    store.stop().await.unwrap();
    env.teardown().await;
}
