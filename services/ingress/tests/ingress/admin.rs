//! `/admin/v1`: the operator API's own tokens, and the outbound targets'
//! controls writing what the workers read.

use axum::http::Method;
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
