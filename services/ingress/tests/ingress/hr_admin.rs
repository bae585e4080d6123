//! `/admin/v1/tenants/{tenant}/hr-sources` and `…/hr-events`: the
//! configured sources without a secret, the inbox listed with each filter
//! and paged, an event shown only to its tenant, pending events cancelled
//! once and others not at all (in `cancel`). The events are written to
//! the inbox as the HR endpoint and the store write them (no store runs
//! here).

use axum::Router;
use axum::http::Method;
use chrono::{DateTime, Duration, SubsecRound, Utc};
use scimbus_db::hr::events::{self, NewEvent, Outcome, Status};
use scimbus_e2e::http::{request, send};
use scimbus_e2e::{IngressBuilder, TestEnv};
use scimbus_hr::{Source, SourceSpec};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::support::*;

mod cancel;

const EVENTS: &str = "/admin/v1/tenants/acme/hr-events";

/// A source whose secrets are references that must never be shown.
fn workday() -> SourceSpec {
    serde_json::from_value(json!({
        "name": "workday",
        "auth": {
            "scheme": "hmac",
            "header": "x-workday-signature",
            "prefix": "sha256=",
            "secrets": ["env:WORKDAY_HR_SECRET", "file:/run/secrets/workday-previous"]
        },
        "events": "events",
        "time_zone": "Europe/Berlin",
        "delete_after_days": 30,
        "mapping": {
            "employee_id": "event.workerId",
            "kind": "event.kind",
            "effective": "event.effectiveDate",
            "event_id": "event.eventId",
            "set": {"title": "event.title"}
        }
    }))
    .unwrap()
}

fn personio() -> SourceSpec {
    serde_json::from_value(json!({
        "name": "personio",
        "auth": {"scheme": "standard-webhooks", "secrets": ["env:PERSONIO_WHSEC"]},
        "mapping": {"employee_id": "event.id", "kind": "event.type"}
    }))
    .unwrap()
}

fn compiled(spec: &SourceSpec) -> Source {
    let secrets = match spec.auth.scheme() {
        "standard-webhooks" => vec![b"whsec_c2VjcmV0LWJ5dGVz".to_vec()],
        _ => vec![b"s".to_vec(); spec.auth.secrets().len()],
    };
    Source::compile(spec, secrets).unwrap()
}

/// An ingress (no store) with HR sources for acme and other.
struct Admin {
    env: TestEnv,
    router: Router,
}

impl Admin {
    async fn new() -> Admin {
        let env = TestEnv::new().await;
        env.bus().await;
        let mut other = personio();
        other.name = "bamboohr".into();
        let router = IngressBuilder::new(&env)
            .hr_source("acme", compiled(&workday()))
            .hr_source("acme", compiled(&personio()))
            .hr_source("other", compiled(&other))
            .router()
            .await;
        Admin { env, router }
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        send(
            &self.router,
            request(method, path, ADMIN, body.as_ref(), &[]),
        )
        .await
    }

    async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, None).await
    }

    /// Records one event as the HR endpoint does; due `due_in` from now
    /// (in the future: scheduled, else received).
    async fn record(&self, tenant: &str, source: &str, employee: &str, due_in: Duration) -> Uuid {
        let now = Utc::now().trunc_subsecs(6);
        let id = Uuid::now_v7();
        let e = NewEvent {
            id,
            source: source.into(),
            event_id: format!("evt-{id}"),
            employee_id: employee.into(),
            kind: "update".into(),
            effective_at: (due_in > Duration::zero()).then(|| now + due_in),
            due_at: now + due_in,
            raw: json!({"workerId": employee, "eventId": format!("evt-{id}")}),
            user_doc: json!({"externalId": employee, "title": "Engineer"}),
            manager_id: None,
            manager_said: false,
            delete_after_days: None,
            new_user_id: Uuid::now_v7(),
        };
        let mut conn = self.env.pool.acquire().await.unwrap();
        let accepted = events::insert(&mut conn, tenant, &[e], now).await.unwrap();
        assert!(accepted[0].new);
        id
    }

    /// Sets an event's final status, as the store does.
    async fn finish(&self, tenant: &str, id: Uuid, status: Status, o: Outcome<'_>) {
        let mut conn = self.env.pool.acquire().await.unwrap();
        events::finish(&mut conn, tenant, id, status, o, Utc::now())
            .await
            .unwrap();
    }

    async fn status_of(&self, tenant: &str, id: Uuid) -> String {
        events::get(&self.env.pool, tenant, id)
            .await
            .unwrap()
            .unwrap()
            .status
    }
}

/// The ids of a list's events, in order.
fn ids(r: &Reply) -> Vec<String> {
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events in {}", r.body))
        .iter()
        .map(|e| e["id"].as_str().unwrap().to_string())
        .collect()
}

/// Newest first: ids in descending order.
fn newest_first(mut v: Vec<Uuid>) -> Vec<String> {
    v.sort();
    v.reverse();
    v.iter().map(Uuid::to_string).collect()
}

#[tokio::test]
async fn hr_sources_are_listed_with_their_endpoint_and_never_a_secret() {
    let api = Admin::new().await;
    let r = api.get("/admin/v1/tenants/acme/hr-sources").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sources = r.body["sources"].as_array().unwrap();
    let names: Vec<&str> = sources
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["personio", "workday"], "by name, acme's only");
    let w = &sources[1];
    assert_eq!(w["endpoint"], "http://scim.test/hr/v1/acme/workday");
    assert_eq!(w["tenant"], "acme");
    assert_eq!(w["auth"]["scheme"], "hmac");
    assert_eq!(w["auth"]["header"], "x-workday-signature");
    assert_eq!(w["auth"]["secretCount"], 2, "a rotation is visible");
    assert_eq!(w["timeZone"], "Europe/Berlin");
    assert_eq!(w["deleteAfterDays"], 30);
    assert_eq!(w["mapping"]["employeeId"], "event.workerId");
    assert_eq!(w["mapping"]["set"]["title"], "event.title");
    assert_eq!(sources[0]["auth"]["secretCount"], 1);
    let text = r.body.to_string();
    for secret in [
        "WORKDAY_HR_SECRET",
        "/run/secrets",
        "PERSONIO_WHSEC",
        "env:",
        "file:",
    ] {
        assert!(!text.contains(secret), "{secret} shown in {text}");
    }
    assert!(w["auth"].get("secrets").is_none(), "{w}");

    let r = api.get("/admin/v1/tenants/acme/hr-sources/workday").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(&r.body, w, "one source as the list shows it");
    assert!(!r.body.to_string().contains("WORKDAY_HR_SECRET"));

    // Another tenant's source, an unknown one, an unknown tenant.
    for path in [
        "/admin/v1/tenants/acme/hr-sources/bamboohr",
        "/admin/v1/tenants/acme/hr-sources/sap",
        "/admin/v1/tenants/nobody/hr-sources",
        "/admin/v1/tenants/nobody/hr-sources/workday",
    ] {
        api.get(path).await.assert_error(404, None);
    }
    let r = api.get("/admin/v1/tenants/other/hr-sources").await;
    assert_eq!(r.body["sources"][0]["name"], "bamboohr", "{}", r.body);
    // Only with an admin token.
    let r = send(
        &api.router,
        request(
            Method::GET,
            "/admin/v1/tenants/acme/hr-sources",
            ACME,
            None,
            &[],
        ),
    )
    .await;
    r.assert_error(401, None);
    api.env.teardown().await;
}

#[tokio::test]
async fn hr_events_are_listed_newest_first_by_each_filter() {
    let api = Admin::new().await;
    let past = -Duration::seconds(5);
    let later = Duration::days(3);
    let applied = api.record("acme", "workday", "E1", past).await;
    let rejected = api.record("acme", "workday", "E2", past).await;
    let cancelled = api.record("acme", "personio", "E1", later).await;
    let received = api.record("acme", "personio", "E3", past).await;
    let scheduled = api.record("acme", "workday", "E1", later).await;
    let elsewhere = api.record("other", "bamboohr", "E1", past).await;

    let user = Uuid::now_v7();
    let change = Uuid::now_v7();
    let detail = "applied: title";
    let outcome = Outcome {
        detail: Some(detail),
        user_id: Some(user),
        change_id: Some(change),
        ..Outcome::default()
    };
    api.finish("acme", applied, Status::Applied, outcome).await;
    let error = json!({"status": "409", "scimType": "uniqueness", "detail": "userName taken"});
    let outcome = Outcome {
        detail: Some("userName taken"),
        error: Some(error.clone()),
        ..Outcome::default()
    };
    api.finish("acme", rejected, Status::Rejected, outcome)
        .await;
    let outcome = Outcome {
        detail: Some("a rehire"),
        ..Outcome::default()
    };
    api.finish("acme", cancelled, Status::Cancelled, outcome)
        .await;
    // E1 is the person that user is.
    let mut tx = api.env.pool.begin().await.unwrap();
    let mut w = scimbus_db::hr::workers::lock(&mut tx, "acme", "E1")
        .await
        .unwrap();
    w.user_id = Some(user);
    scimbus_db::hr::workers::save(&mut tx, "acme", &w)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let all = [applied, rejected, cancelled, received, scheduled];
    let r = api.get(EVENTS).await;
    assert_eq!(ids(&r), newest_first(all.to_vec()), "acme's only");
    assert_eq!(r.body["nextCursor"], Value::Null, "one page");

    let cases: Vec<(String, Vec<Uuid>)> = vec![
        ("source=workday".into(), vec![applied, rejected, scheduled]),
        ("source=personio".into(), vec![cancelled, received]),
        ("employeeId=E1".into(), vec![applied, cancelled, scheduled]),
        (
            format!("userId={user}"),
            vec![applied, cancelled, scheduled],
        ),
        ("status=applied".into(), vec![applied]),
        ("status=rejected".into(), vec![rejected]),
        ("status=cancelled".into(), vec![cancelled]),
        ("status=received".into(), vec![received]),
        ("status=scheduled".into(), vec![scheduled]),
        ("status=pending".into(), vec![received, scheduled]),
        (
            "source=workday&employeeId=E1&status=pending".into(),
            vec![scheduled],
        ),
    ];
    for (query, want) in cases {
        let r = api.get(&format!("{EVENTS}?{query}")).await;
        assert_eq!(ids(&r), newest_first(want), "{query}");
    }
    let r = api
        .get(&format!("{EVENTS}?userId={}", Uuid::now_v7()))
        .await;
    assert_eq!(ids(&r), Vec::<String>::new(), "nobody's events");

    // The fields of an event.
    let r = api.get(&format!("{EVENTS}?status=applied")).await;
    let e = &r.body["events"][0];
    assert_eq!(e["source"], "workday");
    assert_eq!(e["eventId"], format!("evt-{applied}"));
    assert_eq!(e["employeeId"], "E1");
    assert_eq!(e["kind"], "update");
    assert_eq!(e["status"], "applied");
    assert_eq!(e["detail"], detail);
    assert_eq!(e["error"], Value::Null);
    assert_eq!(e["userId"], user.to_string());
    assert_eq!(e["changeId"], change.to_string());
    assert_eq!(e["effectiveAt"], Value::Null, "on receipt");
    for field in ["dueAt", "receivedAt", "appliedAt"] {
        let t = e[field].as_str().unwrap_or_else(|| panic!("{field}: {e}"));
        DateTime::parse_from_rfc3339(t).unwrap_or_else(|err| panic!("{field} {t}: {err}"));
    }
    assert!(e.get("raw").is_none() && e.get("user").is_none(), "{e}");
    let r = api.get(&format!("{EVENTS}?status=rejected")).await;
    assert_eq!(r.body["events"][0]["error"], error);
    assert_eq!(r.body["events"][0]["userId"], Value::Null);
    let r = api.get(&format!("{EVENTS}?status=scheduled")).await;
    let e = &r.body["events"][0];
    assert!(e["effectiveAt"].is_string(), "{e}");
    assert_eq!(e["appliedAt"], Value::Null);

    // And another tenant's list has only its own.
    let r = api.get("/admin/v1/tenants/other/hr-events").await;
    assert_eq!(ids(&r), [elsewhere.to_string()]);
    api.env.teardown().await;
}

/// Follows `nextCursor` from the first page to the last.
async fn every_page(api: &Admin, query: &str) -> (Vec<String>, usize) {
    let mut seen = Vec::new();
    let mut pages = 0;
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("{EVENTS}?{query}&cursor={c}"),
            None => format!("{EVENTS}?{query}"),
        };
        let r = api.get(&path).await;
        let page = ids(&r);
        pages += 1;
        assert!(pages <= 10, "the cursor does not advance: {}", r.body);
        match r.body["nextCursor"].as_str() {
            Some(next) => {
                assert_eq!(page.last().map(String::as_str), Some(next), "{}", r.body);
                cursor = Some(next.to_string());
                seen.extend(page);
            }
            None => {
                seen.extend(page);
                return (seen, pages);
            }
        }
    }
}

#[tokio::test]
async fn hr_events_are_paged_without_duplicates_or_gaps() {
    let api = Admin::new().await;
    let mut all = Vec::new();
    let mut pending = Vec::new();
    for i in 0..7 {
        let id = api
            .record("acme", "workday", &format!("E{i}"), -Duration::seconds(1))
            .await;
        if i % 3 == 0 {
            api.finish("acme", id, Status::Applied, Outcome::default())
                .await;
        } else {
            pending.push(id);
        }
        all.push(id);
    }
    let (seen, pages) = every_page(&api, "count=3").await;
    assert_eq!(
        seen,
        newest_first(all.clone()),
        "every event once, in order"
    );
    assert_eq!(pages, 3);
    // A page that ends exactly at the last event says there is no next.
    let (seen, pages) = every_page(&api, "count=7").await;
    assert_eq!((seen.len(), pages), (7, 1));
    let (seen, pages) = every_page(&api, "count=3&status=pending").await;
    assert_eq!(seen, newest_first(pending), "a filter holds across pages");
    assert_eq!(pages, 2);
    // The default page has them all.
    let r = api.get(EVENTS).await;
    assert_eq!(ids(&r).len(), 7);
    api.env.teardown().await;
}

#[tokio::test]
async fn bad_hr_event_parameters_are_refused_naming_the_parameter() {
    let api = Admin::new().await;
    for (query, named) in [
        ("status=done", "status"),
        ("status=", "status"),
        ("count=0", "count"),
        ("count=501", "count"),
        ("count=ten", "count"),
        ("cursor=nope", "cursor"),
        ("userId=42", "userId"),
        ("employeeId=", "employeeId"),
        ("employee=E1", "employee"),
        ("status=applied&status=rejected", "status"),
    ] {
        let r = api.get(&format!("{EVENTS}?{query}")).await;
        r.assert_error(400, Some("invalidValue"));
        let detail = r.body["detail"].as_str().unwrap();
        assert!(
            detail.starts_with(&format!("{named}:")),
            "{query}: {detail}"
        );
    }
    let r = api.get(&format!("{EVENTS}?count=500")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    api.get("/admin/v1/tenants/nobody/hr-events")
        .await
        .assert_error(404, None);
    api.env.teardown().await;
}

#[tokio::test]
async fn an_hr_event_is_shown_in_full_to_its_tenant_only() {
    let api = Admin::new().await;
    let id = api
        .record("acme", "workday", "E7", -Duration::seconds(1))
        .await;
    let r = api.get(&format!("{EVENTS}/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["id"], id.to_string());
    assert_eq!(r.body["status"], "received");
    assert_eq!(r.body["raw"]["workerId"], "E7", "as the HR system sent it");
    assert_eq!(r.body["user"]["title"], "Engineer", "the mapped user");
    let listed = api.get(EVENTS).await;
    let mut short = r.body.clone();
    let obj = short.as_object_mut().unwrap();
    obj.remove("raw");
    obj.remove("user");
    assert_eq!(short, listed.body["events"][0], "the list's view and more");

    // Tenants are walls; an id that is not one is as unknown.
    for path in [
        format!("/admin/v1/tenants/other/hr-events/{id}"),
        format!("/admin/v1/tenants/nobody/hr-events/{id}"),
        format!("{EVENTS}/{}", Uuid::now_v7()),
        format!("{EVENTS}/not-an-id"),
    ] {
        api.get(&path).await.assert_error(404, None);
    }
    api.env.teardown().await;
}
