//! An ingress and a store on a fresh database and bus prefix.

use std::time::Duration;

use axum::Router;
use axum::http::Method;
use scimbus_e2e::http::{request, send};
use scimbus_e2e::{IngressBuilder, StoreBuilder, TestEnv};
use scimbus_ingress::Limits;
use scimbus_runtime::Running;
use scimbus_runtime::{AuthConfig, Deprovision, TargetConfig};
use scimbus_store::Store;
use serde_json::Value;

pub use scimbus_e2e::http::Reply;
pub use scimbus_e2e::{ACME_TOKEN as ACME, ADMIN_TOKEN as ADMIN, OTHER_TOKEN as OTHER};

/// Command partitions of the ingress and its store.
const PARTITIONS: u32 = 4;

/// The target the test configuration declares for tenant acme.
pub fn crm_target() -> TargetConfig {
    let mut t = scimbus_e2e::target("crm", "https://crm.example.com/scim/v2");
    t.auth = AuthConfig::Bearer {
        token: "env:CRM_TOKEN".into(),
    };
    t.resource_types = vec!["User".into()];
    t.filter = Some("active eq true".into());
    t.deprovision = Deprovision::Delete;
    t.groups = false;
    t.member_chunk = 50;
    t.rate_per_sec = Some(10);
    t.concurrency = 2;
    t.timeout_secs = 5;
    t.max_attempts = 3;
    t
}

/// The subscription the test configuration declares for tenant acme: its
/// events on NATS.
pub fn bus_subscription() -> scimbus_notify::SubscriptionSpec {
    scimbus_notify::SubscriptionSpec::from_json(br#"{"name": "bus", "delivery": {"type": "nats"}}"#)
        .unwrap()
}

/// The test key that signs event tokens (RSA).
pub fn signing_key() -> std::sync::Arc<scimbus_notify::SigningKey> {
    let pem = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../libs/notify/tests/keys/rsa.pem"
    ))
    .unwrap();
    std::sync::Arc::new(scimbus_notify::SigningKey::from_pem(&pem).unwrap())
}

pub struct Api {
    pub env: TestEnv,
    store: Option<Running<Store>>,
    router: Router,
    partitions: u32,
}

impl Api {
    pub async fn new() -> Api {
        Self::with_limits(|_| {}).await
    }

    /// An ingress with other request limits.
    pub async fn with_limits(limits: impl FnOnce(&mut Limits)) -> Api {
        Self::build(limits, true, Duration::from_secs(15), PARTITIONS).await
    }

    /// An ingress and store on one command partition (the default of a
    /// deployment), where the store applies commands in the order they
    /// were published.
    pub async fn one_partition() -> Api {
        Self::build(|_| {}, true, Duration::from_secs(15), 1).await
    }

    /// An ingress whose store is not running (yet).
    pub async fn without_store(write_timeout: Duration) -> Api {
        Self::build(|_| {}, false, write_timeout, PARTITIONS).await
    }

    /// The same, on `partitions` command partitions.
    pub async fn without_store_on(write_timeout: Duration, partitions: u32) -> Api {
        Self::build(|_| {}, false, write_timeout, partitions).await
    }

    /// Starts the store.
    pub async fn start_store(&mut self) {
        let store = StoreBuilder::new(&self.env)
            .tenants(["acme", "other"])
            .partitions(self.partitions)
            .start()
            .await;
        self.store = Some(store);
    }

    async fn build(
        limits: impl FnOnce(&mut Limits),
        with_store: bool,
        write_timeout: Duration,
        partitions: u32,
    ) -> Api {
        let env = TestEnv::new().await;
        env.bus().await;
        let router = IngressBuilder::new(&env)
            .partitions(partitions)
            .write_timeout(write_timeout)
            .limits(limits)
            .targets(vec![("acme".into(), crm_target())])
            .subscriptions(vec![("acme".into(), bus_subscription())])
            .signing_key(signing_key())
            .poll_wait(Duration::from_millis(600))
            .router()
            .await;
        let mut api = Api {
            env,
            store: None,
            router,
            partitions,
        };
        if with_store {
            api.start_store().await;
        }
        api
    }

    pub async fn teardown(mut self) {
        if let Some(s) = self.store.take() {
            s.stop().await.unwrap();
        }
        self.env.teardown().await;
    }

    /// A raw request.
    pub async fn raw(&self, req: axum::http::Request<axum::body::Body>) -> Reply {
        send(&self.router, req).await
    }

    /// A request with a bearer token and an optional JSON body.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> Reply {
        self.call_with(method, path, token, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        self.raw(request(method, path, token, body.as_ref(), headers))
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call(Method::GET, path, ACME, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call(Method::POST, path, ACME, Some(body)).await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.call(Method::PATCH, path, ACME, Some(body)).await
    }
}

pub use scimbus_e2e::scim::{patch_op as ops, user};

pub const USERS: &str = "/scim/v2/acme/Users";
pub const GROUPS: &str = "/scim/v2/acme/Groups";
