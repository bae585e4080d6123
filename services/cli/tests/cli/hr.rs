//! `scimbus hr-sources list | show` (from the configuration file, never
//! a secret) and `scimbus hr-events list | show | cancel` (on Postgres),
//! as an operator runs them: the JSON the operator API answers.

use chrono::{Duration, SubsecRound, Utc};
use scimbus_db::hr::events::{self, NewEvent, Outcome, Status};
use scimbus_testkit::TestEnv;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

const CONFIG: &str = r#"
[[tenants]]
name = "acme"

[[tenants.hr_sources]]
name = "workday"
events = "events"
time_zone = "Europe/Berlin"
[tenants.hr_sources.auth]
scheme = "hmac"
header = "x-workday-signature"
secrets = ["env:WORKDAY_HR_SECRET", "file:/run/secrets/workday-previous"]
[tenants.hr_sources.mapping]
employee_id = "event.workerId"
kind = "event.kind"
[tenants.hr_sources.mapping.set]
title = "event.title"

[[tenants.hr_sources]]
name = "bamboohr"
[tenants.hr_sources.auth]
scheme = "hmac"
header = "x-bamboohr-signature"
encoding = "base64"
secrets = ["env:BAMBOO_HR_SECRET"]
[tenants.hr_sources.mapping]
employee_id = "event.employee.id"
kind = "event.type"

[[tenants]]
name = "other"

[[tenants.hr_sources]]
name = "personio"
[tenants.hr_sources.auth]
scheme = "standard-webhooks"
secrets = ["env:PERSONIO_WHSEC"]
[tenants.hr_sources.mapping]
employee_id = "event.id"
kind = "event.type"
"#;

fn json_out(o: &std::process::Output) -> Value {
    assert_exit(o, 0);
    serde_json::from_str(&stdout(o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[tokio::test]
async fn hr_sources_are_listed_and_shown_from_the_file_without_a_secret() {
    let env = TestEnv::new().await;
    let file = TempFile::new(CONFIG);
    let o = scimbus(&env, &["hr-sources", "list", "--config", file.path()]);
    let all = json_out(&o);
    let names: Vec<(&str, &str)> = all["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["tenant"].as_str().unwrap(), s["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        names,
        [
            ("acme", "bamboohr"),
            ("acme", "workday"),
            ("other", "personio")
        ]
    );
    let text = stdout(&o);
    for secret in [
        "WORKDAY_HR_SECRET",
        "/run/secrets",
        "BAMBOO",
        "PERSONIO_WHSEC",
        "env:",
    ] {
        assert!(!text.contains(secret), "{secret} shown in {text}");
    }
    let w = &all["sources"][1];
    assert_eq!(w["auth"]["secretCount"], 2);
    assert_eq!(w["timeZone"], "Europe/Berlin");
    assert_eq!(w["mapping"]["set"]["title"], "event.title");
    assert_eq!(
        w["endpoint"], "http://127.0.0.1:8080/hr/v1/acme/workday",
        "the ingress's default address"
    );

    let o = scimbus(
        &env,
        &[
            "hr-sources",
            "list",
            "--tenant",
            "other",
            "--config",
            file.path(),
        ],
    );
    assert_eq!(json_out(&o)["sources"].as_array().unwrap().len(), 1);

    let o = scimbus(
        &env,
        &[
            "hr-sources",
            "show",
            "--tenant",
            "acme",
            "workday",
            "--config",
            file.path(),
            "--public-url",
            "https://scim.example.com/",
        ],
    );
    let shown = json_out(&o);
    assert_eq!(
        shown["endpoint"],
        "https://scim.example.com/hr/v1/acme/workday"
    );
    let mut listed = w.clone();
    listed["endpoint"] = shown["endpoint"].clone();
    assert_eq!(shown, listed, "as the list shows it");
    assert!(!stdout(&o).contains("WORKDAY_HR_SECRET"));

    for (tenant, name) in [("acme", "personio"), ("nobody", "workday")] {
        let o = scimbus(
            &env,
            &[
                "hr-sources",
                "show",
                "--tenant",
                tenant,
                name,
                "--config",
                file.path(),
            ],
        );
        assert_exit(&o, 1);
        assert!(stderr(&o).contains("no "), "{}", stderr(&o));
    }
    // The file is required.
    let o = scimbus(&env, &["hr-sources", "list"]);
    assert_exit(&o, 2);
    assert!(stderr(&o).contains("--config"), "{}", stderr(&o));
    env.teardown().await;
}

/// Records an event as the HR endpoint does; due `due_in` from now.
async fn record(env: &TestEnv, tenant: &str, employee: &str, due_in: Duration) -> Uuid {
    let now = Utc::now().trunc_subsecs(6);
    let id = Uuid::now_v7();
    let e = NewEvent {
        id,
        source: "workday".into(),
        event_id: format!("evt-{id}"),
        employee_id: employee.into(),
        kind: "update".into(),
        effective_at: (due_in > Duration::zero()).then(|| now + due_in),
        due_at: now + due_in,
        raw: json!({"workerId": employee}),
        user_doc: json!({"externalId": employee, "title": "Engineer"}),
        manager_id: None,
        manager_said: false,
        delete_after_days: None,
        new_user_id: Uuid::now_v7(),
    };
    let mut conn = env.pool.acquire().await.unwrap();
    events::insert(&mut conn, tenant, &[e], now).await.unwrap();
    id
}

fn ids(page: &Value) -> Vec<String> {
    page["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {page}"))
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn hr_events_are_listed_paged_shown_and_cancelled() {
    let env = TestEnv::new().await;
    env.tenants(&["acme", "other"]).await;
    let applied = record(&env, "acme", "E1", -Duration::seconds(1)).await;
    let mut conn = env.pool.acquire().await.unwrap();
    events::finish(
        &mut conn,
        "acme",
        applied,
        Status::Applied,
        Outcome::default(),
        Utc::now(),
    )
    .await
    .unwrap();
    drop(conn);
    let scheduled = record(&env, "acme", "E1", Duration::days(2)).await;
    let received = record(&env, "acme", "E2", -Duration::seconds(1)).await;
    let theirs = record(&env, "other", "E1", Duration::days(2)).await;
    let mut newest_first = [applied, scheduled, received];
    newest_first.sort();
    newest_first.reverse();
    let newest_first: Vec<String> = newest_first.iter().map(Uuid::to_string).collect();

    let list = |extra: &[&str]| {
        let mut args = vec!["hr-events", "list", "--tenant", "acme"];
        args.extend_from_slice(extra);
        json_out(&scimbus(&env, &args))
    };
    let page = list(&[]);
    assert_eq!(ids(&page), newest_first, "acme's, newest first");
    assert_eq!(page["nextCursor"], Value::Null);
    let page = list(&["--status", "pending", "--employee", "E1"]);
    assert_eq!(ids(&page), [scheduled.to_string()]);
    assert_eq!(page["events"][0]["status"], "scheduled");

    // A page at a time.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..3 {
        let page = match &cursor {
            Some(c) => list(&["--count", "1", "--cursor", c]),
            None => list(&["--count", "1"]),
        };
        seen.extend(ids(&page));
        cursor = page["nextCursor"].as_str().map(String::from);
    }
    assert_eq!(seen, newest_first, "three pages of one");
    assert_eq!(cursor, None, "the third is the last");

    for (flag, value) in [
        ("--count", "0"),
        ("--status", "done"),
        ("--user", "42"),
        ("--cursor", "x"),
    ] {
        let o = scimbus(
            &env,
            &["hr-events", "list", "--tenant", "acme", flag, value],
        );
        assert_exit(&o, 1);
        assert!(stderr(&o).contains(&format!("{flag}:")), "{}", stderr(&o));
    }

    let id = scheduled.to_string();
    let o = scimbus(&env, &["hr-events", "show", "--tenant", "acme", &id]);
    let shown = json_out(&o);
    assert_eq!(shown["id"], id.as_str());
    assert_eq!(shown["raw"]["workerId"], "E1");
    assert_eq!(shown["user"]["title"], "Engineer");
    // Tenants are walls.
    let o = scimbus(&env, &["hr-events", "show", "--tenant", "other", &id]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("no HR event"), "{}", stderr(&o));

    let cancel = |id: &str, extra: &[&str]| {
        let mut args = vec!["hr-events", "cancel", "--tenant", "acme", id];
        args.extend_from_slice(extra);
        scimbus(&env, &args)
    };
    let o = cancel(&id, &["--reason", "the move was called off"]);
    let e = json_out(&o);
    assert_eq!(e["status"], "cancelled");
    assert_eq!(e["detail"], "the move was called off");
    let stored = events::get(&env.pool, "acme", scheduled)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, "cancelled", "the row the store reads");
    let o = cancel(&id, &[]);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("the event is cancelled, not pending"),
        "{}",
        stderr(&o)
    );
    let o = cancel(&applied.to_string(), &[]);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("applied, not pending"),
        "{}",
        stderr(&o)
    );
    let e = json_out(&cancel(&received.to_string(), &[]));
    assert_eq!(e["detail"], "cancelled by an operator");
    let o = cancel(&theirs.to_string(), &[]);
    assert_exit(&o, 1);
    let stored = events::get(&env.pool, "other", theirs)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, "scheduled", "another tenant's is untouched");
    env.teardown().await;
}
