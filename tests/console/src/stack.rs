//! The whole hub on a fresh [`TestEnv`]: store, ingress (served on a port,
//! so a browser reaches it), outbound with target `crm` (a [`FakeTarget`])
//! and subscription `bus` (events on NATS), for tenants `acme` and
//! `other`.

use std::time::Duration;

use scimbus_e2e::{ACME_TOKEN, IngressBuilder, OutboundBuilder, StoreBuilder, TestEnv};
use scimbus_ingress::Ingress;
use scimbus_outbound::Outbound;
use scimbus_runtime::{Running, TargetConfig};
use scimbus_store::Store;
use serde_json::{Value, json};

use crate::FakeTarget;

/// The read-only admin token of the stack.
pub const READER: &str = "console-reader-token";

pub struct Stack {
    pub env: TestEnv,
    pub fake: FakeTarget,
    store: Running<Store>,
    ingress: Running<Ingress>,
    outbound: Running<Outbound>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Stack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stack")
            .field("ingress", &self.ingress.addr())
            .finish()
    }
}

/// Target `crm` at `url`: Users only, three attempts a second and more
/// apart (so "failing" lasts long enough to be seen before a change
/// parks), a circuit that does not open before that.
fn crm(url: &str) -> TargetConfig {
    let mut t = scimbus_e2e::target("crm", url);
    t.resource_types = vec!["User".into()];
    t.groups = false;
    t.max_attempts = 3;
    t.circuit.trip_after = 50;
    t
}

fn bus() -> scimbus_notify::SubscriptionSpec {
    scimbus_notify::SubscriptionSpec::from_json(br#"{"name": "bus", "delivery": {"type": "nats"}}"#)
        .expect("the bus subscription")
}

impl Stack {
    pub async fn start() -> Stack {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let env = TestEnv::new().await;
        env.bus().await;
        let fake = FakeTarget::start().await;
        let store = StoreBuilder::new(&env)
            .tenants(["acme", "other"])
            .start()
            .await;
        let ingress = IngressBuilder::new(&env)
            .admin_read_tokens(&[READER])
            .targets(vec![("acme".into(), crm(&fake.url()))])
            .subscriptions(vec![("acme".into(), bus())])
            .start()
            .await;
        let outbound = OutboundBuilder::new(&env)
            .targets("acme", [crm(&fake.url())])
            .subscriptions("acme", [bus()])
            .backoff(Duration::from_millis(1500))
            .start()
            .await;
        Stack {
            env,
            fake,
            store,
            ingress,
            outbound,
            http: reqwest::Client::new(),
        }
    }

    /// The console's base URL (`http://127.0.0.1:<port>/admin/`).
    pub fn console(&self) -> String {
        format!("http://{}/admin/", self.ingress.addr())
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.ingress.addr())
    }

    /// Creates a user of tenant acme over SCIM; its id.
    pub async fn create_user(&self, user_name: &str, email: &str) -> String {
        let r = self
            .http
            .post(format!("{}/scim/v2/acme/Users", self.base()))
            .bearer_auth(ACME_TOKEN)
            .header("content-type", "application/scim+json")
            .body(
                json!({
                    "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                    "userName": user_name,
                    "active": true,
                    "name": {"givenName": "Grace", "familyName": "Hopper"},
                    "emails": [{"value": email, "primary": true}],
                })
                .to_string(),
            )
            .send()
            .await
            .expect("POST /Users");
        assert_eq!(r.status(), 201, "create {user_name}");
        let v: Value = r.json().await.expect("JSON");
        v["id"].as_str().expect("an id").to_string()
    }

    /// A raw form POST to the console with a cookie (what a forged page
    /// could make a browser send).
    pub async fn post_form(
        &self,
        path: &str,
        cookie: &str,
        form: &[(&str, &str)],
    ) -> (u16, String) {
        let r = self
            .http
            .post(format!("{}{path}", self.base()))
            .header("cookie", cookie)
            .form(form)
            .send()
            .await
            .expect("POST");
        let status = r.status().as_u16();
        (status, r.text().await.unwrap_or_default())
    }

    pub async fn stop(self) {
        let _ = self.outbound.stop().await;
        let _ = self.ingress.stop().await;
        let _ = self.store.stop().await;
        self.env.teardown().await;
    }
}
