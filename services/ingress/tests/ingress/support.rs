//! An ingress and a store on a fresh database and bus prefix.

use scimbus_runtime::Running;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use http_body_util::BodyExt;
use scimbus_ingress::{Ingress, IngressConfig, Limits};
use scimbus_runtime::config::Tenant;
use scimbus_runtime::token_hash;
use scimbus_scim::Registry;
use scimbus_store::{Settings, Store, StoreConfig};
use scimbus_testkit::TestEnv;
use serde_json::Value;
use tower::ServiceExt;

pub const ACME: &str = "acme-token";
pub const OTHER: &str = "other-token";
pub const ADMIN: &str = "admin-token";

/// The target the test configuration declares for tenant acme.
pub fn crm_target() -> scimbus_runtime::TargetConfig {
    scimbus_runtime::TargetConfig {
        name: "crm".into(),
        url: "https://crm.example.com/scim/v2".into(),
        auth: scimbus_runtime::AuthConfig::Bearer {
            token: "env:CRM_TOKEN".into(),
        },
        resource_types: vec!["User".into()],
        filter: Some("active eq true".into()),
        deprovision: scimbus_runtime::Deprovision::Delete,
        update: scimbus_runtime::UpdateStyle::Auto,
        groups: false,
        member_chunk: 50,
        rate_per_sec: Some(10),
        concurrency: 2,
        timeout_secs: 5,
        max_attempts: 3,
        reconcile_every_secs: None,
        mapping: None,
        group_mapping: None,
        circuit: Default::default(),
    }
}

pub struct Api {
    pub env: TestEnv,
    store: Option<Running<Store>>,
    router: Router,
}

pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts a SCIM error body with this status (and scimType).
    pub fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.body["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
            "{}",
            self.body
        );
        assert_eq!(
            self.body["status"],
            status.to_string(),
            "status is a string: {}",
            self.body
        );
        assert_eq!(self.body["scimType"].as_str(), scim_type, "{}", self.body);
        assert!(
            self.body["detail"].as_str().is_some_and(|d| !d.is_empty()),
            "{}",
            self.body
        );
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
    }
}

impl Api {
    pub async fn new() -> Api {
        Self::with_limits(Limits::default()).await
    }

    pub async fn with_limits(limits: Limits) -> Api {
        Self::build(limits, true, Duration::from_secs(15)).await
    }

    /// An ingress whose store is not running (yet).
    pub async fn without_store(write_timeout: Duration) -> Api {
        Self::build(Limits::default(), false, write_timeout).await
    }

    /// Starts the store.
    pub async fn start_store(&mut self) {
        let store = Store::build(
            StoreConfig {
                service: self.env.service_settings(),
                tenants: vec!["acme".into(), "other".into()],
                settings: Settings {
                    partitions: 4,
                    lease_retry: Duration::from_millis(200),
                    ..Settings::default()
                },
            },
            Arc::new(Registry::standard().unwrap()),
        )
        .await
        .unwrap()
        .spawn()
        .unwrap();
        self.store = Some(store);
    }

    async fn build(limits: Limits, with_store: bool, write_timeout: Duration) -> Api {
        let env = TestEnv::new().await;
        env.bus().await;
        let registry = Arc::new(Registry::standard().unwrap());
        let tenants = vec![
            Tenant {
                name: "acme".into(),
                token_hashes: vec![token_hash(ACME)],
            },
            Tenant {
                name: "other".into(),
                token_hashes: vec![token_hash(OTHER)],
            },
        ];
        let cfg = IngressConfig {
            public_url: "http://scim.test".into(),
            service: env.service_settings(),
            read_database_url: env.database_url.clone(),
            partitions: 4,
            write_timeout,
            tenants,
            limits,
            admin_token_hashes: vec![token_hash(ADMIN)],
            targets: vec![("acme".into(), crm_target())],
        };
        let ingress = Ingress::build(cfg, registry).await.unwrap();
        let router = scimbus_ingress::app(ingress.service());
        let mut api = Api {
            env,
            store: None,
            router,
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
    pub async fn raw(&self, req: Request<Body>) -> Reply {
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        Reply {
            status,
            headers,
            body,
        }
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
        let mut req = Request::builder()
            .method(method)
            .uri(path)
            .header(header::AUTHORIZATION, format!("Bearer {token}"));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = match body {
            Some(b) => req
                .header(header::CONTENT_TYPE, "application/scim+json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .unwrap();
        self.raw(req).await
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

pub fn user(user_name: &str) -> Value {
    serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
        "active": true
    })
}

pub fn ops(ops: Value) -> Value {
    serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
}

pub const USERS: &str = "/scim/v2/acme/Users";
pub const GROUPS: &str = "/scim/v2/acme/Groups";
