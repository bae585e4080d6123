//! Parked changes and events on a real Postgres: a change seen again after
//! a takeover is parked behind itself (no attempt); it keeps the reason
//! and answer of its own failure.
#![allow(clippy::unwrap_used, clippy::panic)]

use scimbus_db::links::{Parked, TargetKey};
use scimbus_db::subscriptions::{SubscriptionKey, parked};
use scimbus_testkit::TestEnv;
use uuid::Uuid;

const BEHIND: &str = "an earlier one of this resource is parked; this one waits behind it";

#[tokio::test]
async fn a_parked_event_seen_again_keeps_why_it_was_parked() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;
    let key = SubscriptionKey {
        tenant: "acme",
        name: "hooks",
    };
    let mut p = parked::Parked {
        change_seq: 7,
        resource_type: "User".into(),
        resource_id: Uuid::now_v7(),
        payload: vec![1, 2, 3],
        reason: "the receiver answered 400 Bad Request".into(),
        response: Some("400 no such user".into()),
        attempts: 1,
        parked_at: chrono::Utc::now(),
    };
    parked::park(&env.pool, key, &p).await.unwrap();
    p.reason = BEHIND.into();
    p.response = None;
    p.attempts = 0;
    parked::park(&env.pool, key, &p).await.unwrap();
    let rows = parked::list(&env.pool, key, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].reason, "the receiver answered 400 Bad Request");
    assert_eq!(rows[0].response.as_deref(), Some("400 no such user"));
    assert_eq!(rows[0].attempts, 1);
    // A replay that fails again says why this time.
    p.reason = "the receiver answered 409 Conflict".into();
    p.attempts = 2;
    parked::park(&env.pool, key, &p).await.unwrap();
    let rows = parked::list(&env.pool, key, 10).await.unwrap();
    assert_eq!(
        (rows[0].reason.as_str(), rows[0].attempts),
        ("the receiver answered 409 Conflict", 3)
    );
    env.teardown().await;
}

#[tokio::test]
async fn a_parked_change_seen_again_keeps_why_it_was_parked() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;
    let key = TargetKey {
        tenant: "acme",
        target: "crm",
    };
    let mut p = Parked {
        seq: 7,
        resource_type: "User".into(),
        resource_id: Uuid::now_v7(),
        payload: vec![1, 2, 3],
        reason: "the target answered 400".into(),
        request: Some("POST /Users".into()),
        response: Some("400 bad userName".into()),
        attempts: 1,
    };
    scimbus_db::links::park(&env.pool, key, &p).await.unwrap();
    p.reason = BEHIND.into();
    p.request = None;
    p.response = None;
    p.attempts = 0;
    scimbus_db::links::park(&env.pool, key, &p).await.unwrap();
    let rows = scimbus_db::links::parked(&env.pool, key, 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].reason, "the target answered 400");
    assert_eq!(rows[0].request.as_deref(), Some("POST /Users"));
    assert_eq!(rows[0].response.as_deref(), Some("400 bad userName"));
    assert_eq!(rows[0].attempts, 1);
    env.teardown().await;
}
