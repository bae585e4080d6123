//! The whole hub on a fresh database and bus prefix: a store, an ingress
//! listening on a real port (the IdP's side), and the outbound service with
//! the targets a test gives it.

use std::time::Duration;

use reqwest::Method;
use scimbus_e2e::{IngressBuilder, OutboundBuilder, StoreBuilder, TestEnv};
use scimbus_ingress::Ingress;
use scimbus_outbound::Outbound;
use scimbus_runtime::{Running, TargetConfig};
use scimbus_store::Store;
use serde_json::{Value, json};

pub use scimbus_e2e::{eventually, target};

pub const TOKEN: &str = "acme-token";
pub const TENANT: &str = "acme";

pub struct Hub {
    pub env: TestEnv,
    store: Option<Running<Store>>,
    ingress: Option<Running<Ingress>>,
    pub outbound: Option<Running<Outbound>>,
    /// The keys the outbound service opens passwords with (none: no
    /// `[passwords]`).
    pub passwords: Option<std::sync::Arc<scimbus_runtime::passwords::PasswordKeys>>,
    /// The ingress's SCIM base URL of tenant `acme`.
    pub base: String,
    http: reqwest::Client,
}

impl Hub {
    pub async fn new() -> Hub {
        Self::with_ingress(|b| b).await
    }

    /// With changes to the ingress (HR sources).
    pub async fn with_ingress(
        change: impl FnOnce(IngressBuilder<'_>) -> IngressBuilder<'_>,
    ) -> Hub {
        let env = TestEnv::new().await;
        env.bus().await;
        let store = StoreBuilder::new(&env)
            .tenants([TENANT])
            .settings(|s| s.hr_interval = Duration::from_millis(100))
            .start()
            .await;
        let ingress = change(
            IngressBuilder::new(&env)
                .tenants([TENANT])
                .tenant(TENANT, &[TOKEN])
                .admin_tokens(&[]),
        )
        .start()
        .await;
        let addr = ingress.addr();
        Hub {
            env,
            store: Some(store),
            ingress: Some(ingress),
            outbound: None,
            passwords: None,
            base: format!("http://{addr}/scim/v2/{TENANT}"),
            http: {
                let _ = rustls::crypto::ring::default_provider().install_default();
                reqwest::Client::new()
            },
        }
    }

    /// What each running service serves at `/metrics` (ingress, store,
    /// outbound).
    pub async fn metrics(&self) -> [String; 3] {
        let addrs = [
            self.ingress.as_ref().map(|r| r.addr()),
            self.store.as_ref().map(|r| r.addr()),
            self.outbound.as_ref().map(|r| r.addr()),
        ];
        let mut out: [String; 3] = Default::default();
        for (text, addr) in out.iter_mut().zip(addrs) {
            let Some(addr) = addr else { continue };
            let r = self
                .http
                .get(format!("http://{addr}/metrics"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let kind = r.headers()["content-type"].to_str().unwrap().to_string();
            assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
            *text = r.text().await.unwrap();
        }
        out
    }

    /// Starts the outbound service with these targets of tenant `acme`, and
    /// waits until each has done its initial sync (so later writes come to
    /// it through the stream).
    pub async fn start_outbound(&mut self, targets: Vec<TargetConfig>) {
        let names: Vec<String> = targets.iter().map(|t| t.name.clone()).collect();
        self.start_outbound_nowait(targets).await;
        for name in names {
            let pool = &self.env.pool;
            eventually("the initial sync is done", Duration::from_secs(30), || {
                let name = name.clone();
                async move {
                    let done: Option<bool> = sqlx::query_scalar(
                        "select synced_at is not null from target_progress
                         where tenant = $1 and target = $2",
                    )
                    .bind(TENANT)
                    .bind(&name)
                    .fetch_optional(pool)
                    .await
                    .map_err(|e| e.to_string())?;
                    if done == Some(true) {
                        Ok(())
                    } else {
                        Err(format!("{name}: {done:?}"))
                    }
                }
            })
            .await;
        }
    }

    /// Starts the outbound service without waiting for anything.
    pub async fn start_outbound_nowait(&mut self, targets: Vec<TargetConfig>) {
        let mut b = OutboundBuilder::new(&self.env).targets(TENANT, targets);
        if let Some(keys) = &self.passwords {
            b = b.passwords(keys.clone());
        }
        let o = b.start().await;
        self.outbound = Some(o);
    }

    pub async fn stop_outbound(&mut self) {
        if let Some(o) = self.outbound.take() {
            o.stop().await.unwrap();
        }
    }

    /// Someone writing to the ingress alongside the test (another IdP).
    pub fn idp(&self) -> Idp {
        Idp {
            http: self.http.clone(),
            base: self.base.clone(),
        }
    }

    /// A signed HR webhook to a demo source of tenant `acme`; the status
    /// and the JSON body.
    pub async fn hr(&self, source: &str, body: &Value) -> (u16, Value) {
        use scimbus_e2e::hr::{SECRET, now_unix, signed};
        let raw = serde_json::to_vec(body).unwrap();
        let url = self.base.replace("/scim/v2/", "/hr/v1/") + "/" + source;
        let mut req = self
            .http
            .post(url)
            .header("content-type", "application/json");
        for (k, v) in signed(source, SECRET, &raw, now_unix()) {
            req = req.header(k, v);
        }
        let r = req.body(raw).send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// An IdP request to the ingress; the status and the JSON body.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        if let Some(b) = body {
            req = req
                .header("content-type", "application/scim+json")
                .body(b.to_string());
        }
        let res = req.send().await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// Creates a user; its id.
    pub async fn create_user(&self, user_name: &str, department: &str) -> String {
        let (s, b) = self
            .call(Method::POST, "/Users", Some(user(user_name, department)))
            .await;
        assert_eq!(s, 201, "{b}");
        b["id"].as_str().unwrap().to_string()
    }

    pub async fn create_group(&self, name: &str, members: &[&str]) -> String {
        let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
        let (s, b) = self
            .call(
                Method::POST,
                "/Groups",
                Some(json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                    "displayName": name,
                    "members": members,
                })),
            )
            .await;
        assert_eq!(s, 201, "{b}");
        b["id"].as_str().unwrap().to_string()
    }

    pub async fn patch(&self, path: &str, operations: Value) -> Value {
        let (s, b) = self
            .call(
                Method::PATCH,
                path,
                Some(scimbus_e2e::scim::patch_op(operations)),
            )
            .await;
        assert_eq!(s, 200, "{b}");
        b
    }

    /// A target's link of one of our resources: (remote id, version, in scope).
    pub async fn link(&self, target: &str, id: &str) -> Option<(String, i64, bool)> {
        sqlx::query_as(
            "select remote_id, version, in_scope from target_links
             where tenant = $1 and target = $2 and resource_id = $3::uuid",
        )
        .bind(TENANT)
        .bind(target)
        .bind(id)
        .fetch_optional(&self.env.pool)
        .await
        .unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        scimbus_e2e::count(&self.env.pool, sql).await
    }

    pub async fn teardown(mut self) {
        self.stop_outbound().await;
        if let Some(i) = self.ingress.take() {
            i.stop().await.unwrap();
        }
        if let Some(s) = self.store.take() {
            s.stop().await.unwrap();
        }
        self.env.teardown().await;
    }
}

pub fn user(user_name: &str, department: &str) -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "userName": user_name,
        "externalId": format!("ext-{user_name}"),
        "name": {"givenName": "Barbara", "familyName": user_name},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
        "active": true,
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": department}
    })
}

/// An IdP client that can run in its own task.
#[derive(Clone)]
pub struct Idp {
    http: reqwest::Client,
    base: String,
}

impl Idp {
    pub async fn create_user(&self, user_name: &str, department: &str) -> String {
        let res = self
            .http
            .post(format!("{}/Users", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .body(user(user_name, department).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 201);
        let body: Value = res.json().await.unwrap();
        body["id"].as_str().unwrap().to_string()
    }

    pub async fn set_title(&self, id: &str, title: &str) {
        let res = self
            .http
            .patch(format!("{}/Users/{id}", self.base))
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .body(
                scimbus_e2e::scim::patch_op(
                    json!([{"op": "replace", "path": "title", "value": title}]),
                )
                .to_string(),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200);
    }
}
