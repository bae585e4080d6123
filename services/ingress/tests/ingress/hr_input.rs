//! HR webhooks: what does not get in (forged, stale, unknown, malformed,
//! unmappable: 401 or 400, nothing recorded) and what gets in once (a
//! retried event).

use serde_json::json;

use crate::hr_support::{Hr, SECRET, hire, now_unix, our_id, signed};

#[tokio::test]
async fn a_retried_event_has_no_second_effect() {
    let hr = Hr::new().await;
    let body = hire("wd-1", "500400", "Kwame", "Mensah", "2026-01-05");
    let first = hr.accepted("workday", &body).await;
    hr.settled(&our_id(&first), "applied").await;
    // The same event again (a new request, a new signature).
    let again = hr.accepted("workday", &body).await;
    assert_eq!(again[0]["duplicate"], true);
    assert_eq!(again[0]["id"], first[0]["id"]);
    assert_eq!(again[0]["status"], "applied");
    let u = hr.user("500400").await.unwrap();
    assert_eq!(hr.changes_of(u["id"].as_str().unwrap()).await.len(), 1);
    assert_eq!(hr.recorded().await, 1);
    hr.teardown().await;
}

#[tokio::test]
async fn forged_stale_and_unknown_requests_get_401_and_change_nothing() {
    let hr = Hr::new().await;
    let body = serde_json::to_vec(&hire("wd-1", "500500", "Eve", "Forger", "2026-01-05")).unwrap();
    let good = signed("workday", SECRET, &body, now_unix());
    // A tampered body.
    let mut tampered = body.clone();
    let at = tampered.iter().position(|b| *b == b'E').unwrap();
    tampered[at] = b'A';
    let r = hr.post_raw("/hr/v1/acme/workday", tampered, &good).await;
    assert_eq!(r.status, 401, "{}", r.body);
    // A wrong secret.
    let wrong = signed("workday", "not-the-secret", &body, now_unix());
    let r = hr
        .post_raw("/hr/v1/acme/workday", body.clone(), &wrong)
        .await;
    assert_eq!(r.status, 401);
    // No signature.
    let r = hr.post_raw("/hr/v1/acme/workday", body.clone(), &[]).await;
    assert_eq!(r.status, 401);
    // A stale timestamp (bamboohr signs one), correctly signed.
    let batch = serde_json::to_vec(&json!({"timestamp": "2026-11-21T10:03:44+00:00",
        "employees": []}))
    .unwrap();
    let stale = signed("bamboohr", SECRET, &batch, now_unix() - 3600);
    let r = hr
        .post_raw("/hr/v1/acme/bamboohr", batch.clone(), &stale)
        .await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert!(
        r.body["detail"].as_str().unwrap().contains("old")
            || r.body["detail"].as_str().unwrap().contains("stale"),
        "{}",
        r.body
    );
    // An unknown source, another tenant's path.
    let r = hr.post_raw("/hr/v1/acme/nosuch", body.clone(), &good).await;
    assert_eq!(r.status, 401);
    let r = hr
        .post_raw("/hr/v1/other/workday", body.clone(), &good)
        .await;
    assert_eq!(r.status, 401);
    assert_eq!(hr.recorded().await, 0);
    assert!(hr.user("500500").await.is_none());
    // The good request still goes through.
    let r = hr.post_raw("/hr/v1/acme/workday", body, &good).await;
    assert_eq!(r.status, 202, "{}", r.body);
    hr.teardown().await;
}

#[tokio::test]
async fn an_event_that_cannot_be_mapped_is_named_and_a_batch_is_all_or_nothing() {
    let hr = Hr::new().await;
    let batch = json!({
        "timestamp": "2026-11-21T10:03:44+00:00",
        "employees": [
            {"id": "4087", "action": "Created", "changedFields": ["status"],
             "fields": {"firstName": "Kwame", "lastName": "Mensah", "workEmail": "k@example.org",
                        "status": "Active", "hireDate": "2026-11-24"}},
            {"id": "4088", "action": "Created", "changedFields": ["status"],
             "fields": {"firstName": "No", "lastName": "Date", "workEmail": "n@example.org",
                        "status": "Active", "hireDate": "the first of May"}}
        ]
    });
    let r = hr.post("bamboohr", &batch).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(detail.starts_with("event 1 (4088@"), "{detail}");
    assert_eq!(r.body["scimType"], "invalidValue");
    // Not JSON at all.
    let raw = b"{not json".to_vec();
    let headers = signed("workday", SECRET, &raw, now_unix());
    let r = hr.post_raw("/hr/v1/acme/workday", raw, &headers).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(hr.recorded().await, 0);
    assert!(hr.user("4087").await.is_none());
    hr.teardown().await;
}

#[tokio::test]
async fn text_postgres_cannot_keep_and_twice_named_members_are_refused_with_400() {
    let hr = Hr::new().await;
    for raw in [
        br#"{"eventId": "wd-1", "eventType": "HIRE", "effectiveDate": "2026-01-05", "worker": {"workerId": "501200", "workEmail": "a@example.org", "legalName": {"firstName": "N\u0000ul", "lastName": "L"}}}"#.to_vec(),
        br#"{"eventId": "wd-1", "eventId": "wd-2", "eventType": "HIRE", "worker": {"workerId": "501200"}}"#.to_vec(),
    ] {
        let headers = signed("workday", SECRET, &raw, now_unix());
        let r = hr.post_raw("/hr/v1/acme/workday", raw, &headers).await;
        assert_eq!(r.status, 400, "{}", r.body);
    }
    assert_eq!(hr.recorded().await, 0);
    hr.teardown().await;
}
