//! The three demo sources of the `make run` configuration (read from
//! deploy/local/scimbus.toml itself) map payloads of their HR systems'
//! shapes to exactly the expected SCIM users, kinds, effective times and
//! event ids.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{demo_source, demo_specs, fixture, utc};
use scimbus_hr::{CORE_USER, ENTERPRISE_USER as ENT, HrEvent, Kind};
use serde_json::json;

fn one(source: &str, file: &str) -> HrEvent {
    let mut events = demo_source(source)
        .events(&fixture(file), utc("2027-01-01T00:00:00Z"))
        .unwrap();
    assert_eq!(events.len(), 1);
    events.remove(0)
}

fn some(id: &str) -> Option<Option<String>> {
    Some(Some(id.to_string()))
}

#[test]
fn the_demo_tenant_has_the_three_sources_and_they_pass_the_form_checks() {
    let specs = demo_specs();
    let names: Vec<&str> = specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["workday", "bamboohr", "personio"]);
    for s in &specs {
        s.check_form().unwrap();
    }
    assert_eq!(specs[0].auth.secrets(), ["env:SCIMBUS_DEMO_HR_SECRET"]);
    assert_eq!(specs[1].auth.secrets(), ["env:SCIMBUS_DEMO_HR_SECRET"]);
    assert_eq!(specs[2].auth.secrets(), ["env:SCIMBUS_DEMO_HR_WHSEC"]);
}

#[test]
fn workday_hire_maps_to_the_whole_user_at_midnight_in_madrid() {
    let e = one("workday", "workday-hire.json");
    assert_eq!(e.event_id, "wd-7f3a-0001");
    assert_eq!(e.employee_id, "204711");
    assert_eq!(e.kind, Kind::Hire);
    // 2027-02-01 00:00 in Madrid (CET, +01:00).
    assert_eq!(e.effective_at, Some(utc("2027-01-31T23:00:00Z")));
    assert_eq!(e.manager_id, some("200098"));
    assert_eq!(
        e.user,
        json!({
            "schemas": [CORE_USER, ENT],
            "externalId": "204711",
            "userName": "itziar.goikoetxea@example.org",
            "name": {"givenName": "Itziar", "familyName": "Goikoetxea"},
            "displayName": "Itzi Goikoetxea",
            "title": "Solutions Architect",
            "emails": [{"value": "itziar.goikoetxea@example.org", "type": "work", "primary": true}],
            ENT: {
                "employeeNumber": "204711",
                "department": "Presales Iberia",
                "costCenter": "CC-5010",
                "organization": "Example Iberia SL"
            }
        })
    );
    assert_eq!(
        e.raw,
        serde_json::from_slice::<serde_json::Value>(&fixture("workday-hire.json")).unwrap()
    );
}

#[test]
fn workday_job_change_carries_only_what_changed() {
    let e = one("workday", "workday-job-change.json");
    assert_eq!(e.event_id, "wd-7f3a-0042");
    assert_eq!(e.kind, Kind::Update);
    // 2027-07-01 00:00 in Madrid (CEST, +02:00).
    assert_eq!(e.effective_at, Some(utc("2027-06-30T22:00:00Z")));
    assert_eq!(e.manager_id, some("200123"));
    assert_eq!(
        e.user,
        json!({
            "schemas": [CORE_USER, ENT],
            "externalId": "204711",
            "title": "Principal Solutions Architect",
            ENT: {"department": "Presales EMEA"}
        })
    );
}

#[test]
fn workday_termination_at_a_date_time_says_nothing_of_the_manager() {
    let e = one("workday", "workday-termination.json");
    assert_eq!(e.event_id, "wd-7f3a-0099");
    assert_eq!(e.kind, Kind::Terminate);
    assert_eq!(e.effective_at, Some(utc("2028-01-31T17:00:00Z")));
    assert_eq!(e.manager_id, None);
    assert_eq!(
        e.user,
        json!({"schemas": [CORE_USER], "externalId": "204711"})
    );
}

#[test]
fn bamboohr_batch_maps_a_hire_a_termination_and_an_update() {
    let events = demo_source("bamboohr")
        .events(
            &fixture("bamboohr-changed.json"),
            utc("2027-03-04T09:30:20Z"),
        )
        .unwrap();
    let stamp = "2027-03-04T09:30:12+00:00";
    let ids: Vec<&str> = events.iter().map(|e| e.event_id.as_str()).collect();
    assert_eq!(
        ids,
        [
            format!("5120@{stamp}"),
            format!("4410@{stamp}"),
            format!("3987@{stamp}")
        ]
    );
    let kinds: Vec<Kind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [Kind::Hire, Kind::Terminate, Kind::Update]);
    let effective: Vec<_> = events.iter().map(|e| e.effective_at).collect();
    assert_eq!(
        effective,
        [
            Some(utc("2027-03-15T00:00:00Z")), // hireDate, Accra is UTC
            Some(utc("2027-03-31T00:00:00Z")), // terminationDate
            Some(utc("2027-03-04T09:30:12Z")), // the batch's timestamp
        ]
    );
    assert_eq!(
        events[0].user,
        json!({
            "schemas": [CORE_USER, ENT],
            "externalId": "5120",
            "userName": "abena.owusu@example.org",
            "name": {"givenName": "Abena", "familyName": "Owusu"},
            "displayName": "Abby Owusu",
            "title": "Payroll Specialist",
            "emails": [{"value": "abena.owusu@example.org", "type": "work", "primary": true}],
            ENT: {
                "employeeNumber": "B-5120",
                "department": "People Operations",
                "division": "Corporate",
                "costCenter": "CC-710",
                "organization": "Example West Africa Ltd"
            }
        })
    );
    assert_eq!(events[0].manager_id, some("5003"));
    assert_eq!(
        events[1].user,
        json!({
            "schemas": [CORE_USER, ENT],
            "externalId": "4410",
            "userName": "yaw.boateng@example.org",
            "name": {"givenName": "Yaw", "familyName": "Boateng"},
            "displayName": "Yaw Boateng",
            "emails": [{"value": "yaw.boateng@example.org", "type": "work", "primary": true}],
            ENT: {"employeeNumber": "B-4410"}
        })
    );
    assert_eq!(events[1].manager_id, None);
    // An empty employee number on an update leaves the stored one; an
    // empty supervisor clears the manager.
    assert_eq!(
        events[2].user,
        json!({
            "schemas": [CORE_USER],
            "externalId": "3987",
            "userName": "efua.mensah-addo@example.org",
            "name": {"givenName": "Efua", "familyName": "Mensah-Addo"},
            "displayName": "Efua Mensah-Addo",
            "emails": [{"value": "efua.mensah-addo@example.org", "type": "work", "primary": true}]
        })
    );
    assert_eq!(events[2].manager_id, Some(None));
}

#[test]
fn bamboohr_ids_tell_the_same_change_made_twice_apart_but_not_a_retry() {
    let source = demo_source("bamboohr");
    let now = utc("2027-03-04T09:30:20Z");
    let body = fixture("bamboohr-changed.json");
    let first = source.events(&body, now).unwrap();
    let retry = source.events(&body, now).unwrap();
    assert_eq!(first, retry);
    let text = String::from_utf8(body).unwrap();
    let later = text.replace("2027-03-04T09:30:12+00:00", "2027-09-01T08:00:00+00:00");
    let again = source.events(later.as_bytes(), now).unwrap();
    // The same entry, JSON for JSON, is another change at another time.
    assert_eq!(first[1].raw, again[1].raw);
    assert_ne!(first[1].event_id, again[1].event_id);
}

#[test]
fn personio_hire_reads_the_attribute_list_with_cel_macros() {
    let e = one("personio", "personio-created.json");
    assert_eq!(e.event_id, "evt_2K9QZ4TR8W1M");
    assert_eq!(e.employee_id, "81234");
    assert_eq!(e.kind, Kind::Hire);
    // hire_date 2027-06-01 00:00 in Berlin (CEST, +02:00).
    assert_eq!(e.effective_at, Some(utc("2027-05-31T22:00:00Z")));
    assert_eq!(e.manager_id, some("80017"));
    assert_eq!(
        e.user,
        json!({
            "schemas": [CORE_USER, ENT],
            "externalId": "81234",
            "userName": "johanna.brueckner@example.org",
            "name": {"givenName": "Johanna", "familyName": "Brückner"},
            "displayName": "Jo Brückner",
            "title": "Site Reliability Engineer",
            "emails": [{"value": "johanna.brueckner@example.org", "type": "work", "primary": true}],
            ENT: {
                "employeeNumber": "81234",
                "department": "Infrastructure",
                "costCenter": "Platform, Security",
                "organization": "Example Labs GmbH"
            }
        })
    );
}

#[test]
fn personio_update_without_a_supervisor_clears_the_manager() {
    let e = one("personio", "personio-updated.json");
    assert_eq!(e.event_id, "evt_2K9QZ4TR8W9X");
    assert_eq!(e.kind, Kind::Update);
    assert_eq!(e.effective_at, Some(utc("2027-09-10T11:05:00Z")));
    assert_eq!(e.manager_id, Some(None));
    assert_eq!(
        e.user,
        json!({
            "schemas": [CORE_USER],
            "externalId": "81234",
            "title": "Senior Site Reliability Engineer"
        })
    );
}

#[test]
fn personio_inactive_status_is_a_termination_at_its_date() {
    let e = one("personio", "personio-terminated.json");
    assert_eq!(e.event_id, "evt_2K9QZ4TRA0B1");
    assert_eq!(e.kind, Kind::Terminate);
    // termination_date 2028-03-31 00:00 in Berlin (CEST since 26 March).
    assert_eq!(e.effective_at, Some(utc("2028-03-30T22:00:00Z")));
    assert_eq!(e.manager_id, None);
    assert_eq!(
        e.user,
        json!({"schemas": [CORE_USER], "externalId": "81234"})
    );
}
