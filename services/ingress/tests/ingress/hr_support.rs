//! HR webhooks end to end: an ingress serving the demo HR sources of the
//! shipped configuration (`deploy/local/scimbus.toml`, tenant `demo`'s
//! `workday`, `bamboohr`, `personio`) under tenant `acme`, a store, a real
//! NATS and Postgres; requests signed here the way each source's sender
//! signs them.

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use scimbus_e2e::http::{Reply, send};
use scimbus_e2e::{IngressBuilder, StoreBuilder, TestEnv, eventually};
use scimbus_runtime::Running;
use scimbus_store::Store;
use serde_json::{Value, json};

pub use scimbus_e2e::hr::{ENT, SECRET, compile, demo_sources, in_secs, now_unix, signed};

pub struct Hr {
    pub env: TestEnv,
    store: Option<Running<Store>>,
    pub router: Router,
}

impl Hr {
    /// The demo sources under tenant acme, a store that looks for due
    /// events every 100 ms.
    pub async fn new() -> Hr {
        Self::with(|b| b, |s| s).await
    }

    /// With changes to the ingress and the store.
    pub async fn with(
        ingress: impl FnOnce(IngressBuilder<'_>) -> IngressBuilder<'_>,
        store: impl FnOnce(StoreBuilder<'_>) -> StoreBuilder<'_>,
    ) -> Hr {
        let env = TestEnv::new().await;
        env.bus().await;
        let mut b = IngressBuilder::new(&env).partitions(2);
        for spec in demo_sources() {
            b = b.hr_source("acme", compile(&spec));
        }
        let router = ingress(b).router().await;
        let s = store(
            StoreBuilder::new(&env)
                .tenants(["acme", "other"])
                .partitions(2)
                .settings(|s| s.hr_interval = Duration::from_millis(100)),
        )
        .start()
        .await;
        Hr {
            env,
            store: Some(s),
            router,
        }
    }

    pub async fn teardown(mut self) {
        if let Some(s) = self.store.take() {
            s.stop().await.unwrap();
        }
        self.env.teardown().await;
    }

    /// Posts `body` to a source of tenant acme, signed with the demo secret.
    pub async fn post(&self, source: &str, body: &Value) -> Reply {
        self.post_to(source, source, body).await
    }

    /// Posts `body` to source `source`, signed as demo source `like` signs.
    pub async fn post_to(&self, source: &str, like: &str, body: &Value) -> Reply {
        let raw = serde_json::to_vec(body).unwrap();
        let headers = signed(like, SECRET, &raw, now_unix());
        self.post_raw(&format!("/hr/v1/acme/{source}"), raw, &headers)
            .await
    }

    /// A SCIM request of tenant acme's identity provider.
    pub async fn scim(&self, method: axum::http::Method, path: &str, body: Value) -> Reply {
        self.scim_as(scimbus_e2e::ACME_TOKEN, method, path, body)
            .await
    }

    /// A SCIM request with `token` (no body for `null`).
    pub async fn scim_as(
        &self,
        token: &str,
        method: axum::http::Method,
        path: &str,
        body: Value,
    ) -> Reply {
        let body = (!body.is_null()).then_some(body);
        let req = scimbus_e2e::http::request(method, path, token, body.as_ref(), &[]);
        send(&self.router, req).await
    }

    /// Posts bytes with these headers.
    pub async fn post_raw(&self, path: &str, raw: Vec<u8>, headers: &[(String, String)]) -> Reply {
        let mut req = Request::builder()
            .method("POST")
            .uri(path)
            .header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        send(&self.router, req.body(Body::from(raw)).unwrap()).await
    }

    /// Posts and expects 202; the answer's events.
    pub async fn accepted(&self, source: &str, body: &Value) -> Vec<Value> {
        let r = self.post(source, body).await;
        assert_eq!(r.status, 202, "{}", r.body);
        r.body["events"].as_array().unwrap().clone()
    }

    /// The user whose externalId is `employee_id` (none: `None`).
    pub async fn user(&self, employee_id: &str) -> Option<Value> {
        let row: Option<(uuid::Uuid, sqlx::types::Json<Value>, i64)> = sqlx::query_as(
            "select id, doc, version from resources
             where tenant = 'acme' and resource_type = 'User' and external_id = $1",
        )
        .bind(employee_id)
        .fetch_optional(&self.env.pool)
        .await
        .unwrap();
        row.map(|(id, doc, version)| {
            let mut d = doc.0;
            d["id"] = Value::String(id.to_string());
            d["version"] = Value::from(version);
            d
        })
    }

    /// Waits for the user of `employee_id` to satisfy `check`.
    pub async fn user_where(
        &self,
        employee_id: &str,
        what: &str,
        check: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(what, Duration::from_secs(20), || async {
            match self.user(employee_id).await {
                Some(u) if check(&u) => Ok(u),
                other => Err(format!("{other:?}")),
            }
        })
        .await
    }

    /// An event's status row: (status, detail, error).
    pub async fn status(&self, id: &str) -> (String, Option<String>, Option<Value>) {
        sqlx::query_as(
            "select status, detail, error from hr_events where tenant = 'acme' and id = $1",
        )
        .bind(uuid::Uuid::parse_str(id).unwrap())
        .fetch_one(&self.env.pool)
        .await
        .unwrap()
    }

    /// Waits for an event (our id) to reach `status`; its detail.
    pub async fn settled(&self, id: &str, status: &str) -> Option<String> {
        eventually(
            &format!("HR event {id} {status}"),
            Duration::from_secs(20),
            || async {
                let (s, detail, error) = self.status(id).await;
                if s == status {
                    Ok(detail)
                } else {
                    Err(format!("{s}: {detail:?} {error:?}"))
                }
            },
        )
        .await
    }

    /// The changes recorded for a user, in order: (operation, changed
    /// attributes).
    pub async fn changes_of(&self, user_id: &str) -> Vec<(String, Vec<String>)> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "select payload from changes where tenant = 'acme' and resource_id = $1 order by seq",
        )
        .bind(uuid::Uuid::parse_str(user_id).unwrap())
        .fetch_all(&self.env.pool)
        .await
        .unwrap();
        rows.into_iter()
            .map(|(p,)| {
                use scimbus_events::Message;
                let c = scimbus_events::v1::Change::decode(p.as_slice()).unwrap();
                let op = scimbus_events::v1::change::Operation::try_from(c.operation)
                    .unwrap()
                    .as_str_name()
                    .to_string();
                (op, c.changed_attributes)
            })
            .collect()
    }

    /// How many HR events tenant acme has recorded.
    pub async fn recorded(&self) -> i64 {
        sqlx::query_scalar("select count(*) from hr_events where tenant = 'acme'")
            .fetch_one(&self.env.pool)
            .await
            .unwrap()
    }
}

pub fn hire(event_id: &str, worker: &str, first: &str, last: &str, effective: &str) -> Value {
    json!({
        "eventId": event_id, "eventType": "HIRE", "effectiveDate": effective,
        "sentAt": "2026-11-20T09:15:02Z",
        "worker": {
            "workerId": worker,
            "legalName": {"firstName": first, "lastName": last},
            "workEmail": format!("{}.{}@example.org", first.to_lowercase(), last.to_lowercase()),
            "businessTitle": "Analyst",
            "department": {"id": "D-1", "name": "Finance"},
            "costCenter": "CC-1",
            "company": "Example Org",
            "manager": {"workerId": "900001"}
        }
    })
}

pub fn job_change(event_id: &str, worker: &str, effective: &str, title: &str) -> Value {
    json!({
        "eventId": event_id, "eventType": "JOB_CHANGE", "effectiveDate": effective,
        "worker": {"workerId": worker, "businessTitle": title,
                   "department": {"id": "D-2", "name": format!("{title} dept")}}
    })
}

pub fn termination(event_id: &str, worker: &str, effective: &str) -> Value {
    json!({
        "eventId": event_id, "eventType": "TERMINATION", "effectiveDate": effective,
        "worker": {"workerId": worker}, "termination": {"reason": "VOLUNTARY"}
    })
}

pub fn our_id(events: &[Value]) -> String {
    events[0]["id"].as_str().unwrap().to_string()
}
