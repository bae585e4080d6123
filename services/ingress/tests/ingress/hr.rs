//! HR webhooks end to end, through the demo sources: each payload shape's
//! joiner → mover → future-dated leaver ends right at the right time, and
//! a future hire is held back until then.

use serde_json::{Value, json};

use crate::hr_support::{ENT, Hr, hire, in_secs, job_change, our_id, termination};

#[tokio::test]
async fn a_workday_hire_move_and_future_termination_end_right_at_the_right_time() {
    let hr = Hr::new().await;
    let e = hr
        .accepted(
            "workday",
            &hire("wd-1", "500100", "Ane", "Zubiri", "2026-01-05"),
        )
        .await;
    assert_eq!(e[0]["eventId"], "wd-1");
    assert_eq!(e[0]["duplicate"], false);
    hr.settled(&our_id(&e), "applied").await;
    let u = hr
        .user_where("500100", "hired", |u| u["active"] == true)
        .await;
    assert_eq!(u["userName"], "ane.zubiri@example.org");
    assert_eq!(u["externalId"], "500100");
    assert_eq!(
        u["name"],
        json!({"givenName": "Ane", "familyName": "Zubiri"})
    );
    assert_eq!(u["displayName"], "Ane Zubiri");
    assert_eq!(u["title"], "Analyst");
    assert_eq!(
        u["emails"],
        json!([{"value": "ane.zubiri@example.org", "type": "work", "primary": true}])
    );
    assert_eq!(u[ENT]["department"], "Finance");
    assert_eq!(u[ENT]["costCenter"], "CC-1");
    assert_eq!(u[ENT]["organization"], "Example Org");
    assert_eq!(u[ENT]["employeeNumber"], "500100");
    // The manager is nobody we know yet.
    assert!(u[ENT].get("manager").is_none(), "{u}");

    let e = hr
        .accepted(
            "workday",
            &job_change("wd-2", "500100", "2026-06-01", "Lead"),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    let u = hr
        .user_where("500100", "moved", |u| u["title"] == "Lead")
        .await;
    assert_eq!(u[ENT]["department"], "Lead dept");
    assert_eq!(
        u["displayName"], "Ane Zubiri",
        "a mover keeps what it does not carry"
    );

    // Effective in a few seconds: scheduled, not applied before its time.
    let due = in_secs(3);
    let e = hr
        .accepted("workday", &termination("wd-3", "500100", &due))
        .await;
    assert_eq!(e[0]["status"], "scheduled");
    let id = our_id(&e);
    assert_eq!(hr.status(&id).await.0, "scheduled");
    assert_eq!(hr.user("500100").await.unwrap()["active"], true);
    hr.settled(&id, "applied").await;
    let u = hr.user("500100").await.unwrap();
    assert_eq!(u["active"], false);
    assert!(
        chrono::Utc::now() >= chrono::DateTime::parse_from_rfc3339(&due).unwrap(),
        "applied before its effective time"
    );
    let ops: Vec<String> = hr
        .changes_of(u["id"].as_str().unwrap())
        .await
        .into_iter()
        .map(|(op, _)| op)
        .collect();
    assert_eq!(
        ops,
        [
            "OPERATION_CREATED",
            "OPERATION_UPDATED",
            "OPERATION_DEACTIVATED"
        ]
    );
    hr.teardown().await;
}

fn bamboo(timestamp: &str, employees: Value) -> Value {
    json!({"timestamp": timestamp, "employees": employees})
}

#[tokio::test]
async fn a_bamboohr_batch_hires_moves_and_terminates_at_the_right_time() {
    let hr = Hr::new().await;
    let e = hr
        .accepted(
            "bamboohr",
            &bamboo(
                "2026-11-21T10:03:44+00:00",
                json!([
                    {"id": "7001", "action": "Created",
                     "changedFields": ["firstName", "status"],
                     "fields": {"employeeNumber": "E-7001", "firstName": "Abena",
                                "lastName": "Owusu", "preferredName": "Abby",
                                "workEmail": "abena.owusu@example.org",
                                "jobTitle": "Analyst", "department": "Finance",
                                "supervisorEId": "7002", "status": "Active",
                                "hireDate": "2026-01-05"}},
                    {"id": "7002", "action": "Created",
                     "changedFields": ["firstName", "status"],
                     "fields": {"employeeNumber": "E-7002", "firstName": "Kofi",
                                "lastName": "Boateng", "workEmail": "kofi.boateng@example.org",
                                "jobTitle": "Head of Finance", "department": "Finance",
                                "status": "Active", "hireDate": "2025-03-01"}}
                ]),
            ),
        )
        .await;
    assert_eq!(e.len(), 2);
    assert_eq!(e[0]["eventId"], "7001@2026-11-21T10:03:44+00:00");
    for ev in &e {
        hr.settled(ev["id"].as_str().unwrap(), "applied").await;
    }
    let boss = hr.user("7002").await.unwrap();
    let u = hr
        .user_where("7001", "hired with a manager", |u| {
            !u[ENT]["manager"].is_null()
        })
        .await;
    assert_eq!(u["displayName"], "Abby Owusu");
    assert_eq!(
        u["name"],
        json!({"givenName": "Abena", "familyName": "Owusu"})
    );
    assert_eq!(u[ENT]["employeeNumber"], "E-7001");
    assert_eq!(u[ENT]["manager"]["value"], boss["id"]);
    // A mover, then a termination effective in a few seconds, in two
    // batches.
    let e = hr
        .accepted(
            "bamboohr",
            &bamboo(
                &in_secs(0),
                json!([{"id": "7001", "action": "Updated", "changedFields": ["jobTitle"],
                        "fields": {"jobTitle": "Senior Analyst"}}]),
            ),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    assert_eq!(hr.user("7001").await.unwrap()["title"], "Senior Analyst");
    let due = in_secs(3);
    let e = hr
        .accepted(
            "bamboohr",
            &bamboo(
                &in_secs(0),
                json!([{"id": "7001", "action": "Updated",
                        "changedFields": ["status", "terminationDate"],
                        "fields": {"status": "Inactive", "terminationDate": due}}]),
            ),
        )
        .await;
    assert_eq!(e[0]["status"], "scheduled");
    assert_eq!(hr.user("7001").await.unwrap()["active"], true);
    hr.settled(&our_id(&e), "applied").await;
    let u = hr.user("7001").await.unwrap();
    assert_eq!(
        (u["active"].clone(), u["title"].clone()),
        (json!(false), json!("Senior Analyst"))
    );
    hr.teardown().await;
}

fn personio(id: &str, kind: &str, employee: i64, occurred: &str, attributes: Value) -> Value {
    json!({"id": id, "type": kind, "occurred_at": occurred,
           "data": {"employee_id": employee, "attributes": attributes}})
}

#[tokio::test]
async fn a_personio_hire_move_and_future_termination_end_right_at_the_right_time() {
    let hr = Hr::new().await;
    let e = hr
        .accepted(
            "personio",
            &personio(
                "evt_1",
                "employee.created",
                81001,
                "2026-01-02T08:00:00Z",
                json!([
                    {"key": "first_name", "value": "Johanna"},
                    {"key": "last_name", "value": "Brückner"},
                    {"key": "email", "value": "johanna.brueckner@example.org"},
                    {"key": "position", "value": "SRE"},
                    {"key": "department", "value": {"id": 14, "name": "Infrastructure"}},
                    {"key": "company", "value": {"id": 2, "name": "Example Labs GmbH"}},
                    {"key": "cost_centers", "value": [{"id": 40, "name": "Platform", "percentage": 100}]},
                    {"key": "hire_date", "value": "2026-01-05"}
                ]),
            ),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    let u = hr.user("81001").await.unwrap();
    assert_eq!(u["displayName"], "Johanna Brückner");
    assert_eq!(u["userName"], "johanna.brueckner@example.org");
    assert_eq!(u[ENT]["department"], "Infrastructure");
    assert_eq!(u[ENT]["costCenter"], "Platform");
    assert_eq!(u[ENT]["organization"], "Example Labs GmbH");
    assert_eq!(u[ENT]["employeeNumber"], "81001");
    let e = hr
        .accepted(
            "personio",
            &personio(
                "evt_2",
                "employee.updated",
                81001,
                &in_secs(0),
                json!([{"key": "position", "value": "Staff SRE"}]),
            ),
        )
        .await;
    hr.settled(&our_id(&e), "applied").await;
    assert_eq!(hr.user("81001").await.unwrap()["title"], "Staff SRE");
    let e = hr
        .accepted(
            "personio",
            &personio(
                "evt_3",
                "employee.updated",
                81001,
                &in_secs(0),
                json!([{"key": "status", "value": "inactive"},
                       {"key": "termination_date", "value": in_secs(3)}]),
            ),
        )
        .await;
    assert_eq!(e[0]["status"], "scheduled");
    hr.settled(&our_id(&e), "applied").await;
    assert_eq!(hr.user("81001").await.unwrap()["active"], false);
    hr.teardown().await;
}

#[tokio::test]
async fn a_future_hire_is_held_back_and_an_update_before_it_waits_for_it() {
    let hr = Hr::new().await;
    let start = in_secs(3);
    let h = hr
        .accepted("workday", &hire("wd-1", "501000", "Fu", "Ture", &start))
        .await;
    assert_eq!(h[0]["status"], "scheduled");
    // A correction effective now, for someone not hired yet.
    let u = hr
        .accepted(
            "workday",
            &job_change("wd-2", "501000", &in_secs(0), "Corrected"),
        )
        .await;
    let detail = hr.settled(&our_id(&u), "scheduled").await.unwrap();
    assert!(detail.contains("waits for the person's hire"), "{detail}");
    assert!(
        hr.user("501000").await.is_none(),
        "held back until its time"
    );
    hr.settled(&our_id(&h), "applied").await;
    hr.settled(&our_id(&u), "applied").await;
    let user = hr.user("501000").await.unwrap();
    assert_eq!(user["active"], true);
    // The hire took effect later than the correction: its title stands.
    assert_eq!(user["title"], "Analyst");
    assert!(chrono::Utc::now() >= chrono::DateTime::parse_from_rfc3339(&start).unwrap());
    hr.teardown().await;
}
