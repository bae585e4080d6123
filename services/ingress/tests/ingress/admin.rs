//! `/admin/v1`: the operator API's own tokens, and the outbound targets'
//! controls writing what the workers read.

use axum::http::Method;
use scimbus_db::links::{self, ReconcileCounts, SyncCounts, TargetKey};
use serde_json::json;

use crate::support::*;

async fn target_ran(api: &Api, tenant: &str, name: &str) {
    sqlx::query(
        "insert into target_progress (tenant, target, stream_seq, pushed) values ($1, $2, 42, 7)",
    )
    .bind(tenant)
    .bind(name)
    .execute(&api.env.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn only_admin_tokens_open_the_admin_api() {
    let api = Api::new().await;
    let r = api.call(Method::GET, "/admin/v1/targets", "", None).await;
    r.assert_error(401, None);
    // A tenant's SCIM token is not an admin token.
    let r = api.call(Method::GET, "/admin/v1/targets", ACME, None).await;
    r.assert_error(401, None);
    let r = api
        .call(Method::GET, "/admin/v1/targets", ADMIN, None)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The configured target, not started yet, without its secret.
    let t = &r.body["targets"][0];
    assert_eq!(t["state"], "not started", "{}", r.body);
    assert_eq!(t["configured"], true);
    assert_eq!(t["config"]["url"], "https://crm.example.com/scim/v2");
    assert_eq!(t["config"]["auth"], json!({"type": "bearer"}));
    assert_eq!(t["config"]["filter"], "active eq true");
    assert_eq!(t["config"]["deprovision"], "delete");
    assert!(!r.body.to_string().contains("CRM_TOKEN"));
    // And an admin token is not a SCIM token.
    let r = api.call(Method::GET, USERS, ADMIN, None).await;
    r.assert_error(401, None);
    api.teardown().await;
}

#[tokio::test]
async fn targets_are_listed_paused_resumed_synced_reconciled_and_replayed() {
    let api = Api::new().await;
    target_ran(&api, "acme", "crm").await;
    let r = api
        .call(Method::GET, "/admin/v1/targets?tenant=acme", ADMIN, None)
        .await;
    assert_eq!(r.status, 200);
    let t = &r.body["targets"][0];
    assert_eq!(
        (t["tenant"].as_str(), t["target"].as_str()),
        (Some("acme"), Some("crm"))
    );
    assert_eq!(
        (t["position"].as_i64(), t["pushed"].as_i64()),
        (Some(42), Some(7))
    );
    assert_eq!(t["state"], "running");
    assert_eq!(t["config"]["concurrency"], 2);

    let base = "/admin/v1/tenants/acme/targets/crm";
    let r = api
        .call(Method::POST, &format!("{base}/pause"), ADMIN, None)
        .await;
    // No outbound worker runs in this test: the pause is asked for, and
    // shown as "pausing" until a worker holds it.
    assert_eq!(r.body["state"], "pausing", "{}", r.body);
    let paused: bool =
        sqlx::query_scalar("select paused from target_progress where target = 'crm'")
            .fetch_one(&api.env.pool)
            .await
            .unwrap();
    assert!(paused);
    let r = api
        .call(Method::POST, &format!("{base}/resume"), ADMIN, None)
        .await;
    assert_eq!(r.body["state"], "running");

    let r = api
        .call(
            Method::POST,
            &format!("{base}/sync"),
            ADMIN,
            Some(json!({"dryRun": true})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let r = api
        .call(
            Method::POST,
            &format!("{base}/reconcile"),
            ADMIN,
            Some(json!({"apply": true})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let (sync, dry, rec, apply): (bool, bool, bool, bool) = sqlx::query_as(
        "select sync_requested, sync_dry_run, reconcile_requested, reconcile_apply
         from target_progress where target = 'crm'",
    )
    .fetch_one(&api.env.pool)
    .await
    .unwrap();
    assert!(sync && dry && rec && apply);

    // Replay: nothing parked is a 404; a bad body a 400; a parked change is
    // marked.
    let r = api
        .call(
            Method::POST,
            &format!("{base}/replay"),
            ADMIN,
            Some(json!({"all": true})),
        )
        .await;
    r.assert_error(404, None);
    let r = api
        .call(
            Method::POST,
            &format!("{base}/replay"),
            ADMIN,
            Some(json!({"all": "yes"})),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    let r = api
        .call(
            Method::POST,
            &format!("{base}/replay"),
            ADMIN,
            Some(json!({})),
        )
        .await;
    r.assert_error(400, Some("invalidValue"));
    sqlx::query(
        "insert into parked_changes (tenant, target, seq, resource_type, resource_id, payload, reason, attempts)
         values ('acme', 'crm', 5, 'User', gen_random_uuid(), '\\x00', 'the target answered 400', 1)",
    )
    .execute(&api.env.pool)
    .await
    .unwrap();
    let r = api
        .call(Method::GET, &format!("{base}/parked"), ADMIN, None)
        .await;
    assert_eq!(r.body["parked"][0]["seq"], 5, "{}", r.body);
    assert_eq!(r.body["parked"][0]["reason"], "the target answered 400");
    let r = api
        .call(
            Method::POST,
            &format!("{base}/replay"),
            ADMIN,
            Some(json!({"seq": 5})),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.body["marked"].as_i64()),
        (202, Some(1)),
        "{}",
        r.body
    );

    // A target that never ran: 404.
    let r = api
        .call(
            Method::GET,
            "/admin/v1/tenants/acme/targets/nope",
            ADMIN,
            None,
        )
        .await;
    r.assert_error(404, None);
    api.teardown().await;
}

#[tokio::test]
async fn the_last_sync_and_reconcile_are_objects_of_counts() {
    let api = Api::new().await;
    target_ran(&api, "acme", "crm").await;
    let base = "/admin/v1/tenants/acme/targets/crm";
    let r = api.call(Method::GET, base, ADMIN, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        (&r.body["lastSync"], &r.body["lastReconcile"]),
        (&json!(null), &json!(null))
    );

    let crm = TargetKey {
        tenant: "acme",
        target: "crm",
    };
    let sync = SyncCounts {
        dry_run: true,
        created: 28,
        updated: 5,
        deprovisioned: 2,
        skipped: 1,
        failures: 1,
        failed: vec!["User 7: the target answered 400".into()],
        took_ms: 1500,
        ..SyncCounts::default()
    };
    links::synced(&api.env.pool, crm, &sync, None)
        .await
        .unwrap();
    let reconcile = ReconcileCounts {
        applied: true,
        missing: 1,
        extra: 2,
        different: 3,
        fixed: 6,
        details: vec!["missing: User 1 (a)".into()],
        took_ms: 20,
        ..ReconcileCounts::default()
    };
    links::reconciled(&api.env.pool, crm, &reconcile)
        .await
        .unwrap();

    let r = api.call(Method::GET, base, ADMIN, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let mut last_sync = r.body["lastSync"].clone();
    // A dry run: its own time, not the time of a real sync.
    assert!(last_sync["at"].is_string(), "{}", r.body);
    assert_eq!(r.body["syncedAt"], json!(null));
    last_sync["at"] = json!(null);
    assert_eq!(
        last_sync,
        json!({"dryRun": true, "created": 28, "adopted": 0, "updated": 5,
               "deprovisioned": 2, "skipped": 1, "failures": 1,
               "failed": ["User 7: the target answered 400"], "tookMs": 1500, "at": null})
    );
    let mut last_reconcile = r.body["lastReconcile"].clone();
    assert_eq!(last_reconcile["at"], r.body["reconciledAt"]);
    assert!(last_reconcile["at"].is_string(), "{}", r.body);
    last_reconcile["at"] = json!(null);
    assert_eq!(
        last_reconcile,
        json!({"applied": true, "missing": 1, "extra": 2, "different": 3, "fixed": 6,
               "failures": 0, "details": ["missing: User 1 (a)"], "tookMs": 20,
               "error": null, "at": null})
    );
    // The list shows the same.
    let r = api
        .call(Method::GET, "/admin/v1/targets?tenant=acme", ADMIN, None)
        .await;
    assert_eq!(
        r.body["targets"][0]["lastSync"]["created"], 28,
        "{}",
        r.body
    );
    assert_eq!(r.body["targets"][0]["lastReconcile"]["different"], 3);
    // A reconcile that could not finish says why, and counts nothing.
    let stopped = ReconcileCounts {
        error: Some("listing the target's resources: the target answered 500".into()),
        ..ReconcileCounts::default()
    };
    links::reconciled(&api.env.pool, crm, &stopped)
        .await
        .unwrap();
    let r = api.call(Method::GET, base, ADMIN, None).await;
    let last = &r.body["lastReconcile"];
    assert_eq!(
        last["error"], "listing the target's resources: the target answered 500",
        "{}",
        r.body
    );
    assert_eq!(
        (
            last["missing"].as_i64(),
            last["details"].as_array().map(Vec::len)
        ),
        (Some(0), Some(0))
    );
    api.teardown().await;
}
