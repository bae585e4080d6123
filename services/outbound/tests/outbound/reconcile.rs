//! Reconcile: drift between a target and the tenant is found (missing,
//! extra, different), reported without touching the target, and corrected
//! with apply.

use std::time::Duration;

use scimbus_db::links::ReconcileCounts;
use serde_json::json;

use crate::fake_target::FakeTarget;
use crate::mirror::{Remote, mirrors};
use crate::support::{Hub, TENANT, eventually, target};

const SETTLE: Duration = Duration::from_secs(30);

async fn reconcile_report(hub: &Hub, apply: bool) -> ReconcileCounts {
    let pool = &hub.env.pool;
    let before = scimbus_cli::target_status(pool, Some(TENANT))
        .await
        .unwrap()[0]
        .progress
        .reconciled_at;
    scimbus_cli::request_reconcile(pool, TENANT, "t", apply)
        .await
        .unwrap();
    let report = eventually("the reconcile reports", SETTLE, || async {
        let s = scimbus_cli::target_status(pool, Some(TENANT))
            .await
            .unwrap();
        let p = &s[0].progress;
        match (&p.last_reconcile, p.reconciled_at) {
            (Some(r), at) if at != before => Ok(r.clone()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    assert_eq!((report.applied, &report.error), (apply, &None), "{report}");
    report
}

/// What a reconcile found: missing, extra, different.
fn drift(r: &ReconcileCounts) -> (i64, i64, i64) {
    (r.missing, r.extra, r.different)
}

#[tokio::test]
async fn drift_is_reported_and_corrected_with_apply() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(hub.create_user(&format!("r{i}"), "Sales").await);
    }
    eventually("the target mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    assert_eq!(drift(&reconcile_report(&hub, false).await), (0, 0, 0));

    // Drift: one gone there, one changed there, one there that is not ours.
    let gone = hub.link("t", &ids[0]).await.unwrap().0;
    let changed = hub.link("t", &ids[1]).await.unwrap().0;
    t.forget("Users", &gone);
    t.edit("Users", &changed, |u| {
        u["name"]["givenName"] = json!("Tampered")
    });
    let stranger = t.seed(
        "Users",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "stranger", "active": true}),
    );
    let log_before = t.log().len();

    let report = reconcile_report(&hub, false).await;
    assert_eq!(drift(&report), (1, 1, 1), "{report}");
    assert!(
        report
            .details
            .contains(&format!("missing: User {} (r0)", ids[0])),
        "{report}"
    );
    assert!(
        report
            .details
            .iter()
            .any(|d| d.starts_with("different: User") && d.contains("name is")),
        "{report}"
    );
    assert!(
        report
            .details
            .iter()
            .any(|d| d.starts_with(&format!("extra: User {stranger} (stranger)"))),
        "{report}"
    );
    // Only reads: nothing was written to the target.
    assert!(
        t.log()[log_before..]
            .iter()
            .all(|(m, _, _)| *m == reqwest::Method::GET)
    );

    let report = reconcile_report(&hub, true).await;
    assert_eq!(drift(&report), (1, 1, 1), "{report}");
    assert_eq!((report.fixed, report.failures), (3, 0), "{report}");
    // Ours are as we have them; the stranger is deactivated (the policy),
    // and a new reconcile finds nothing.
    let users = t.resources("Users");
    assert_eq!(users[&stranger]["active"], false);
    assert_eq!(users[&changed]["name"]["givenName"], "Barbara");
    let report = reconcile_report(&hub, false).await;
    assert_eq!(drift(&report), (0, 0, 0), "{report}");
    hub.teardown().await;
}
