//! The audit trail's retention: a store prunes the entries older than
//! `SCIMBUS_AUDIT_RETENTION_DAYS` and keeps the others.

use std::time::Duration;

use chrono::Utc;
use scimbus_db::audit::{self, Entry};
use scimbus_e2e::{TestEnv, eventually};

use crate::support::*;

fn entry(days_ago: i64, actor: &str) -> Entry {
    Entry {
        tenant: "acme".into(),
        at: Utc::now() - chrono::Duration::days(days_ago),
        actor_kind: "scim".into(),
        actor: actor.into(),
        actor_name: String::new(),
        action: "create".into(),
        resource_type: Some("User".into()),
        resource_id: Some(uuid::Uuid::now_v7()),
        attributes: vec!["userName".into()],
        status: 201,
        scim_type: None,
        command_id: Some(uuid::Uuid::now_v7()),
        client_address: None,
        request_id: None,
        trace_id: None,
    }
}

#[tokio::test]
async fn entries_past_the_retention_are_pruned_and_the_others_kept() {
    let h = Harness::on(TestEnv::new().await).await;
    h.env.tenants(&["acme"]).await;
    let mut conn = h.env.pool.acquire().await.unwrap();
    let entries: Vec<Entry> = (0..25)
        .map(|i| entry(40, &format!("old{i}")))
        .chain([entry(29, "recent"), entry(0, "today")])
        .collect();
    audit::insert(&mut conn, &entries).await.unwrap();
    drop(conn);
    let store = store(&h.env, &["acme"])
        .settings(|s| {
            s.audit_retention = Some(Duration::from_secs(30 * 24 * 3600));
            s.audit_prune_interval = Duration::from_millis(200);
        })
        .start()
        .await;
    eventually("old entries pruned", Duration::from_secs(20), || async {
        match h.count("select count(*) from audit_log").await {
            2 => Ok(()),
            n => Err(format!("{n} entries")),
        }
    })
    .await;
    let left: Vec<String> = sqlx::query_scalar("select actor from audit_log order by at")
        .fetch_all(&h.env.pool)
        .await
        .unwrap();
    assert_eq!(left, ["recent", "today"]);
    store.stop().await.unwrap();
    h.teardown().await;
}
