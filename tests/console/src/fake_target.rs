//! A downstream SCIM application for the console's tests: it takes Users
//! and Groups (kept by id, answered back with the id it gave), finds none
//! by filter (so every user is created, not adopted), does not offer
//! PATCH, and answers every write with a chosen status while told to fail.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU16, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

#[derive(Default)]
struct Shared {
    /// 0: answer normally; else every write gets this status.
    failing: AtomicU16,
    next_id: AtomicU64,
    resources: Mutex<HashMap<String, Value>>,
}

/// A running fake target (served until dropped with its runtime).
#[derive(Clone)]
pub struct FakeTarget {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for FakeTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeTarget")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeTarget {
    pub async fn start() -> FakeTarget {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/scim/v2/ServiceProviderConfig", get(spc))
            .route("/scim/v2/{endpoint}", get(list).post(create))
            .route(
                "/scim/v2/{endpoint}/{id}",
                get(read).put(replace).patch(replace).delete(delete),
            )
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the fake target");
        let addr = listener.local_addr().expect("its address");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTarget { addr, shared }
    }

    /// Its SCIM base URL.
    pub fn url(&self) -> String {
        format!("http://{}/scim/v2", self.addr)
    }

    /// Every write is answered `status` from now on.
    pub fn fail_with(&self, status: u16) {
        self.shared.failing.store(status, Ordering::SeqCst);
    }

    /// Writes are served again.
    pub fn recover(&self) {
        self.shared.failing.store(0, Ordering::SeqCst);
    }

    /// The resources it holds.
    pub fn held(&self) -> Vec<Value> {
        self.shared
            .resources
            .lock()
            .map(|r| r.values().cloned().collect())
            .unwrap_or_default()
    }
}

fn failing(s: &Shared) -> Option<Response> {
    let status = s.failing.load(Ordering::SeqCst);
    (status != 0).then(|| {
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        (
            code,
            Json(json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": status.to_string(),
                "detail": "the application is down for maintenance",
            })),
        )
            .into_response()
    })
}

async fn spc() -> Json<Value> {
    Json(json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": {"supported": false},
        "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
        "filter": {"supported": true, "maxResults": 100},
        "changePassword": {"supported": false},
        "sort": {"supported": false},
        "etag": {"supported": false},
        "authenticationSchemes": [],
    }))
}

async fn list() -> Json<Value> {
    Json(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": 0, "startIndex": 1, "itemsPerPage": 0, "Resources": [],
    }))
}

async fn create(
    State(s): State<Arc<Shared>>,
    Path(endpoint): Path<String>,
    Json(mut body): Json<Value>,
) -> Response {
    if let Some(r) = failing(&s) {
        return r;
    }
    let id = format!(
        "{}-{}",
        endpoint.to_lowercase(),
        s.next_id.fetch_add(1, Ordering::SeqCst) + 1
    );
    body["id"] = json!(id);
    if let Ok(mut r) = s.resources.lock() {
        r.insert(id, body.clone());
    }
    (StatusCode::CREATED, Json(body)).into_response()
}

async fn read(State(s): State<Arc<Shared>>, Path((_, id)): Path<(String, String)>) -> Response {
    match s.resources.lock().ok().and_then(|r| r.get(&id).cloned()) {
        Some(v) => Json(v).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn replace(
    State(s): State<Arc<Shared>>,
    Path((_, id)): Path<(String, String)>,
    Json(mut body): Json<Value>,
) -> Response {
    if let Some(r) = failing(&s) {
        return r;
    }
    body["id"] = json!(id);
    if let Ok(mut r) = s.resources.lock() {
        r.insert(id, body.clone());
    }
    Json(body).into_response()
}

async fn delete(State(s): State<Arc<Shared>>, Path((_, id)): Path<(String, String)>) -> Response {
    if let Some(r) = failing(&s) {
        return r;
    }
    if let Ok(mut r) = s.resources.lock() {
        r.remove(&id);
    }
    StatusCode::NO_CONTENT.into_response()
}
