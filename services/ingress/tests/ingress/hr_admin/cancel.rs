//! `POST …/hr-events/{id}/cancel`: a pending event is cancelled once,
//! with the reason given or the default; a finished one, another tenant's
//! or a malformed body changes nothing.

use axum::http::Method;
use chrono::Duration;
use scimbus_db::hr::events::{Outcome, Status};
use serde_json::json;
use uuid::Uuid;

use super::{Admin, EVENTS};

#[tokio::test]
async fn a_pending_hr_event_is_cancelled_once_and_a_finished_one_never() {
    let api = Admin::new().await;
    let scheduled = api.record("acme", "workday", "E1", Duration::days(1)).await;
    let received = api
        .record("acme", "workday", "E2", -Duration::seconds(1))
        .await;
    let applied = api
        .record("acme", "workday", "E3", -Duration::seconds(1))
        .await;
    api.finish("acme", applied, Status::Applied, Outcome::default())
        .await;
    let theirs = api
        .record("other", "bamboohr", "E1", Duration::days(1))
        .await;
    let cancel = |id: Uuid| format!("{EVENTS}/{id}/cancel");

    let why = json!({"reason": "the hire was called off"});
    let r = api
        .call(Method::POST, &cancel(scheduled), Some(why.clone()))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], scheduled.to_string());
    assert_eq!(r.body["status"], "cancelled");
    assert_eq!(r.body["detail"], "the hire was called off");
    assert!(r.body["appliedAt"].is_string(), "{}", r.body);
    assert_eq!(api.status_of("acme", scheduled).await, "cancelled");
    // Twice: no longer pending.
    let r = api.call(Method::POST, &cancel(scheduled), Some(why)).await;
    r.assert_error(409, None);
    assert_eq!(r.body["detail"], "the event is cancelled, not pending");

    // Without a body: the default reason.
    let r = api.call(Method::POST, &cancel(received), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["detail"], "cancelled by an operator");

    let r = api.call(Method::POST, &cancel(applied), None).await;
    r.assert_error(409, None);
    assert_eq!(r.body["detail"], "the event is applied, not pending");
    assert_eq!(api.status_of("acme", applied).await, "applied");

    // Another tenant's event is not found, and stays pending.
    let r = api.call(Method::POST, &cancel(theirs), None).await;
    r.assert_error(404, None);
    assert_eq!(api.status_of("other", theirs).await, "scheduled");
    api.call(Method::POST, &format!("{EVENTS}/nope/cancel"), None)
        .await
        .assert_error(404, None);

    // A body that is not the one taken.
    let pending = api.record("acme", "workday", "E4", Duration::days(1)).await;
    for body in [json!({"reason": 5}), json!({"why": "x"})] {
        let r = api.call(Method::POST, &cancel(pending), Some(body)).await;
        r.assert_error(400, Some("invalidValue"));
    }
    let r = api
        .call(Method::POST, &cancel(pending), Some(json!(["x"])))
        .await;
    r.assert_error(400, Some("invalidSyntax"));
    assert_eq!(api.status_of("acme", pending).await, "scheduled");
    api.env.teardown().await;
}
