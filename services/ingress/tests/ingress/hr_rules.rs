//! HR webhooks, the rules of applying: effective dating (an older event
//! does not overwrite, a pending termination is not lost), managers who
//! arrive late, rehires, clashes, precedence with the identity provider,
//! deletion after a grace period.

use axum::http::Method;
use serde_json::{Value, json};

use crate::hr_support::{ENT, Hr, hire, in_secs, job_change, our_id, termination};

#[tokio::test]
async fn an_older_event_arriving_late_does_not_overwrite_a_newer_one() {
    let hr = Hr::new().await;
    hr.accepted(
        "workday",
        &hire("wd-1", "500200", "Tomás", "Ruiz", "2026-01-05"),
    )
    .await;
    let e = hr
        .accepted(
            "workday",
            &job_change("wd-377", "500200", "2026-06-01", "Senior"),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    // Sent before, arriving after: effective a month earlier.
    let late = json!({
        "eventId": "wd-376", "eventType": "JOB_CHANGE", "effectiveDate": "2026-05-01",
        "worker": {"workerId": "500200", "businessTitle": "Engineer II",
                   "costCenter": "CC-9"}
    });
    let e = hr.accepted("workday", &late).await;
    let detail = hr.settled(&our_id(&e), "applied").await.unwrap();
    assert!(detail.contains("kept title"), "{detail}");
    let u = hr.user("500200").await.unwrap();
    assert_eq!(u["title"], "Senior");
    assert_eq!(u[ENT]["department"], "Senior dept");
    // What no later event changed is taken.
    assert_eq!(u[ENT]["costCenter"], "CC-9");
    hr.teardown().await;
}

#[tokio::test]
async fn a_pending_termination_is_not_lost_when_an_update_comes_in_between() {
    let hr = Hr::new().await;
    hr.accepted(
        "workday",
        &hire("wd-1", "500300", "Lena", "Vogel", "2026-01-05"),
    )
    .await;
    let t = hr
        .accepted("workday", &termination("wd-2", "500300", &in_secs(3)))
        .await;
    let u = hr
        .accepted(
            "workday",
            &job_change("wd-3", "500300", &in_secs(0), "Manager"),
        )
        .await;
    hr.settled(&our_id(&u), "applied").await;
    assert_eq!(hr.status(&our_id(&t)).await.0, "scheduled");
    hr.settled(&our_id(&t), "applied").await;
    let user = hr.user("500300").await.unwrap();
    assert_eq!(
        (user["active"].clone(), user["title"].clone()),
        (json!(false), json!("Manager"))
    );
    hr.teardown().await;
}

#[tokio::test]
async fn a_manager_who_arrives_after_the_report_is_filled_in_then() {
    let hr = Hr::new().await;
    let e = hr
        .accepted(
            "workday",
            &hire("wd-1", "500600", "Rep", "Ort", "2026-01-05"),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    let report = hr.user("500600").await.unwrap();
    assert!(report[ENT].get("manager").is_none());
    let mut boss = hire("wd-2", "900001", "Big", "Boss", "2026-01-01");
    boss["worker"].as_object_mut().unwrap().remove("manager");
    let e = hr.accepted("workday", &boss).await;
    hr.settled(&our_id(&e), "applied").await;
    let boss = hr.user("900001").await.unwrap();
    let report = hr
        .user_where("500600", "manager filled in", |u| {
            !u[ENT]["manager"].is_null()
        })
        .await;
    assert_eq!(
        report[ENT]["manager"],
        json!({"value": boss["id"], "displayName": "Big Boss"})
    );
    // A later report of a known manager gets it at once.
    let e = hr
        .accepted(
            "workday",
            &hire("wd-3", "500601", "New", "Hire", "2026-02-01"),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    assert_eq!(
        hr.user("500601").await.unwrap()[ENT]["manager"]["value"],
        boss["id"]
    );
    hr.teardown().await;
}

#[tokio::test]
async fn a_rehire_reactivates_the_same_user() {
    let hr = Hr::new().await;
    hr.accepted(
        "workday",
        &hire("wd-1", "500700", "Re", "Hired", "2026-01-05"),
    )
    .await;
    let e = hr
        .accepted("workday", &termination("wd-2", "500700", "2026-02-01"))
        .await;
    hr.settled(&our_id(&e), "applied").await;
    let gone = hr.user("500700").await.unwrap();
    assert_eq!(gone["active"], false);
    let mut rehire = hire("wd-3", "500700", "Re", "Hired", "2026-03-01");
    rehire["eventType"] = json!("REHIRE");
    rehire["worker"]["businessTitle"] = json!("Returner");
    let e = hr.accepted("workday", &rehire).await;
    hr.settled(&our_id(&e), "applied").await;
    let back = hr.user("500700").await.unwrap();
    assert_eq!(back["id"], gone["id"]);
    assert_eq!(
        (back["active"].clone(), back["title"].clone()),
        (json!(true), json!("Returner"))
    );
    let n: i64 = sqlx::query_scalar(
        "select count(*) from resources where tenant = 'acme' and external_id = '500700'",
    )
    .fetch_one(&hr.env.pool)
    .await
    .unwrap();
    assert_eq!(n, 1, "never a second user");
    hr.teardown().await;
}

#[tokio::test]
async fn a_taken_user_name_is_reported_in_the_events_status() {
    let hr = Hr::new().await;
    let a = hr
        .accepted(
            "workday",
            &hire("wd-1", "500800", "Sam", "Same", "2026-01-05"),
        )
        .await;
    hr.settled(&our_id(&a), "applied").await;
    // Another person with the same work email.
    let b = hr
        .accepted(
            "workday",
            &hire("wd-2", "500801", "Sam", "Same", "2026-01-05"),
        )
        .await;
    hr.settled(&our_id(&b), "rejected").await;
    let (_, detail, error) = hr.status(&our_id(&b)).await;
    let error = error.unwrap();
    assert_eq!(error["status"], "409", "{error}");
    assert_eq!(error["scimType"], "uniqueness");
    assert!(detail.unwrap().contains("sam.same@example.org"));
    assert!(hr.user("500801").await.is_none());
    hr.teardown().await;
}

#[tokio::test]
async fn hr_and_the_identity_provider_each_keep_what_they_own() {
    let hr = Hr::new().await;
    // The IdP made the user first, with its own email and title.
    let r = hr
        .scim(
            Method::POST,
            "/scim/v2/acme/Users",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": "pat@idp.example", "externalId": "500900",
                "emails": [{"value": "pat@idp.example", "type": "work", "primary": true}],
                "title": "IdP title", "nickName": "pat"
            }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let e = hr
        .accepted(
            "workday",
            &hire("wd-1", "500900", "Pat", "Doe", "2026-01-05"),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    let u = hr.user("500900").await.unwrap();
    assert_eq!(u["id"], id.as_str(), "HR took over the IdP's user");
    // HR owns the title and the name; the IdP owns emails and userName,
    // and set them.
    assert_eq!(u["title"], "Analyst");
    assert_eq!(u["displayName"], "Pat Doe");
    assert_eq!(u["userName"], "pat@idp.example");
    assert_eq!(u["emails"][0]["value"], "pat@idp.example");
    // The IdP changes the title (HR's: kept) and the nickname (its own).
    let r = hr.scim(
        Method::PATCH,
        &format!("/scim/v2/acme/Users/{id}"),
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
               "Operations": [{"op": "replace", "value": {"title": "IdP again", "nickName": "p"}}]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["title"], "Analyst");
    assert_eq!(r.body["nickName"], "p");
    // A PUT is held to the same rule.
    let mut whole = r.body.clone();
    whole["title"] = json!("IdP by PUT");
    whole[ENT]["department"] = json!("IdP dept");
    whole["emails"] = json!([{"value": "pat.new@idp.example", "type": "work"}]);
    let r = hr
        .scim(Method::PUT, &format!("/scim/v2/acme/Users/{id}"), whole)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["title"], "Analyst");
    assert_eq!(r.body[ENT]["department"], "Finance");
    assert_eq!(r.body["emails"][0]["value"], "pat.new@idp.example");
    // And HR does not overwrite the emails the IdP set, even later.
    let mut again = hire("wd-2", "500900", "Pat", "Doe", "2026-03-01");
    again["eventType"] = json!("JOB_CHANGE");
    again["worker"]["businessTitle"] = json!("Senior Analyst");
    let e = hr.accepted("workday", &again).await;
    let detail = hr.settled(&our_id(&e), "applied").await.unwrap();
    assert!(
        detail.contains("owned by the identity provider"),
        "{detail}"
    );
    let u = hr.user("500900").await.unwrap();
    assert_eq!(u["title"], "Senior Analyst");
    assert_eq!(u["emails"][0]["value"], "pat.new@idp.example");
    hr.teardown().await;
}

/// The workday demo source as `workday-grace`, deleting a terminated user
/// a day after the termination takes effect.
fn with_grace(b: scimbus_e2e::IngressBuilder<'_>) -> scimbus_e2e::IngressBuilder<'_> {
    let mut spec = crate::hr_support::demo_sources()
        .into_iter()
        .find(|s| s.name == "workday")
        .unwrap();
    spec.name = "workday-grace".into();
    spec.delete_after_days = Some(1);
    b.hr_source("acme", crate::hr_support::compile(&spec))
}

async fn accepted_to(hr: &Hr, source: &str, body: &Value) -> Vec<Value> {
    let r = hr.post_to(source, "workday", body).await;
    assert_eq!(r.status, 202, "{}", r.body);
    r.body["events"].as_array().unwrap().clone()
}

async fn pending_deletes(hr: &Hr, employee: &str) -> Vec<(String, String)> {
    sqlx::query_as(
        "select status, coalesce(detail, '') from hr_events
         where tenant = 'acme' and employee_id = $1 and kind = 'delete' order by id",
    )
    .bind(employee)
    .fetch_all(&hr.env.pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn a_terminated_user_is_deleted_after_the_grace_period_unless_rehired() {
    let hr = Hr::with(with_grace, |s| s).await;
    // Terminated three days ago: the grace of a day is over.
    for (i, worker) in ["501100", "501101"].into_iter().enumerate() {
        let e = accepted_to(
            &hr,
            "workday-grace",
            &hire(
                &format!("wd-h{i}"),
                worker,
                "Gra",
                &format!("Ce{i}"),
                "2026-01-05",
            ),
        )
        .await;
        hr.settled(&our_id(&e), "applied").await;
    }
    let old = (chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let e = accepted_to(&hr, "workday-grace", &termination("wd-t0", "501100", &old)).await;
    hr.settled(&our_id(&e), "applied").await;
    eventually_gone(&hr, "501100").await;
    assert_eq!(pending_deletes(&hr, "501100").await[0].0, "applied");

    // Terminated now: the deletion waits a day; a rehire cancels it.
    let e = accepted_to(
        &hr,
        "workday-grace",
        &termination("wd-t1", "501101", &in_secs(0)),
    )
    .await;
    hr.settled(&our_id(&e), "applied").await;
    assert_eq!(hr.user("501101").await.unwrap()["active"], false);
    assert_eq!(pending_deletes(&hr, "501101").await[0].0, "scheduled");
    let mut rehire = hire("wd-r1", "501101", "Gra", "Ce1", &in_secs(0));
    rehire["eventType"] = json!("REHIRE");
    let e = accepted_to(&hr, "workday-grace", &rehire).await;
    hr.settled(&our_id(&e), "applied").await;
    let deletes = pending_deletes(&hr, "501101").await;
    assert_eq!(deletes[0].0, "cancelled", "{deletes:?}");
    assert!(deletes[0].1.contains("rehire wd-r1"), "{deletes:?}");
    assert_eq!(hr.user("501101").await.unwrap()["active"], true);
    hr.teardown().await;
}

async fn eventually_gone(hr: &Hr, employee: &str) {
    scimbus_e2e::eventually(
        "the user is deleted",
        std::time::Duration::from_secs(20),
        || async {
            match hr.user(employee).await {
                None => Ok(()),
                Some(u) => Err(format!("{u}")),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_manager_the_identity_provider_made_is_resolved_by_employee_id() {
    let hr = Hr::new().await;
    let r = hr
        .scim(
            Method::POST,
            "/scim/v2/acme/Users",
            json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                   "userName": "boss@idp.example", "externalId": "900001",
                   "displayName": "The Boss"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let e = hr
        .accepted(
            "workday",
            &hire("wd-1", "501300", "Rep", "Ort", "2026-01-05"),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    assert_eq!(
        hr.user("501300").await.unwrap()[ENT]["manager"],
        json!({"value": r.body["id"], "displayName": "The Boss"})
    );
    hr.teardown().await;
}

#[tokio::test]
async fn a_rehire_after_the_deletion_makes_the_person_a_new_user() {
    let hr = Hr::with(with_grace, |s| s).await;
    let e = accepted_to(
        &hr,
        "workday-grace",
        &hire("wd-h", "501400", "Re", "Turner", "2026-01-05"),
    )
    .await;
    hr.settled(&our_id(&e), "applied").await;
    let first = hr.user("501400").await.unwrap();
    let old = (chrono::Utc::now() - chrono::Duration::days(3)).to_rfc3339();
    let e = accepted_to(&hr, "workday-grace", &termination("wd-t", "501400", &old)).await;
    hr.settled(&our_id(&e), "applied").await;
    eventually_gone(&hr, "501400").await;
    let mut rehire = hire("wd-r", "501400", "Re", "Turner", &in_secs(0));
    rehire["eventType"] = json!("REHIRE");
    let e = accepted_to(&hr, "workday-grace", &rehire).await;
    hr.settled(&our_id(&e), "applied").await;
    let again = hr.user("501400").await.unwrap();
    assert_ne!(again["id"], first["id"], "the deleted user stays deleted");
    assert_eq!(again["active"], true);
    assert_eq!(again["userName"], first["userName"]);
    let (_, detail, _) = hr.status(&our_id(&e)).await;
    assert!(detail.unwrap().starts_with("created the user"));
    hr.teardown().await;
}
