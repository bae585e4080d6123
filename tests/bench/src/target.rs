//! A fast downstream SCIM application for the outbound bench: Users and
//! Groups in memory, `userName eq` lookups by index, PATCH and PUT accepted
//! (and merged shallowly), and the time each user first arrived, by
//! `userName`, at `GET /_arrivals` (unix microseconds). An optional delay per
//! request stands in for a SaaS application's latency.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::{Value, json};

#[derive(Default)]
struct Store {
    next: u64,
    /// endpoint → id → resource
    resources: HashMap<String, HashMap<String, Value>>,
    /// endpoint → lower-cased userName / displayName → id
    names: HashMap<String, HashMap<String, String>>,
    /// userName → first arrival (unix µs)
    arrivals: HashMap<String, u64>,
}

struct Shared {
    store: Mutex<Store>,
    delay: Duration,
}

pub fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
}

/// Serves one target on `addr` until the process ends.
pub async fn serve(addr: SocketAddr, delay: Duration) -> anyhow::Result<()> {
    let shared = Arc::new(Shared {
        store: Mutex::new(Store::default()),
        delay,
    });
    let app = Router::new()
        .route("/_arrivals", get(arrivals))
        .route("/_count", get(count))
        .route("/_dump/{endpoint}", get(dump))
        .route("/scim/v2/ServiceProviderConfig", get(spc))
        .route("/scim/v2/{endpoint}", get(list).post(create))
        .route(
            "/scim/v2/{endpoint}/{id}",
            get(read).put(replace).patch(modify).delete(remove),
        )
        .with_state(shared);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app).await?;
    Ok(())
}

fn scim(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

fn key_of(endpoint: &str, r: &Value) -> Option<String> {
    let k = if endpoint == "Groups" {
        "displayName"
    } else {
        "userName"
    };
    r.get(k).and_then(Value::as_str).map(str::to_lowercase)
}

async fn pause(s: &Shared) {
    if !s.delay.is_zero() {
        tokio::time::sleep(s.delay).await;
    }
}

async fn arrivals(State(s): State<Arc<Shared>>) -> Response {
    let a = s
        .store
        .lock()
        .map(|st| json!(st.arrivals))
        .unwrap_or(Value::Null);
    scim(StatusCode::OK, &a)
}

/// How many users arrived (cheap to poll: the arrivals themselves are
/// fetched once, at the end).
async fn count(State(s): State<Arc<Shared>>) -> Response {
    let n = s.store.lock().map(|st| st.arrivals.len()).unwrap_or(0);
    scim(StatusCode::OK, &json!(n))
}

/// Every resource of an endpoint as the target holds it (what it was sent,
/// plus the `id` it gave), in the order they were created.
async fn dump(State(s): State<Arc<Shared>>, Path(endpoint): Path<String>) -> Response {
    let Ok(st) = s.store.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let mut all: Vec<&Value> = st
        .resources
        .get(&endpoint)
        .map(|m| m.values().collect())
        .unwrap_or_default();
    let seq = |r: &Value| {
        r["id"]
            .as_str()
            .and_then(|id| id.trim_start_matches('t').parse::<u64>().ok())
            .unwrap_or(0)
    };
    all.sort_by_key(|r| seq(r));
    scim(StatusCode::OK, &json!(all))
}

async fn spc(State(s): State<Arc<Shared>>) -> Response {
    pause(&s).await;
    scim(
        StatusCode::OK,
        &json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": true}, "filter": {"supported": true, "maxResults": 1000}}),
    )
}

async fn list(
    State(s): State<Arc<Shared>>,
    Path(endpoint): Path<String>,
    RawQuery(q): RawQuery,
) -> Response {
    pause(&s).await;
    let Ok(st) = s.store.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let q = q.unwrap_or_default();
    // `filter=<key> eq "<value>"`, percent-encoded: the value between the
    // encoded quotes.
    let wanted = q
        .split('&')
        .find_map(|kv| kv.strip_prefix("filter="))
        .and_then(|f| {
            let parts: Vec<&str> = f.split("%22").collect();
            parts.get(1).map(|v| v.replace("%40", "@").to_lowercase())
        });
    let all = st.resources.get(&endpoint);
    let found: Vec<Value> = match wanted {
        Some(v) if q.contains("userName") || q.contains("displayName") => st
            .names
            .get(&endpoint)
            .and_then(|n| n.get(&v))
            .and_then(|id| all.and_then(|a| a.get(id)))
            .cloned()
            .into_iter()
            .collect(),
        Some(_) => Vec::new(),
        None => {
            let start: usize = q
                .split('&')
                .find_map(|kv| kv.strip_prefix("startIndex="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(1);
            let count: usize = q
                .split('&')
                .find_map(|kv| kv.strip_prefix("count="))
                .and_then(|v| v.parse().ok())
                .unwrap_or(100);
            let mut ids: Vec<&String> = all.map(|a| a.keys().collect()).unwrap_or_default();
            ids.sort();
            ids.into_iter()
                .skip(start.saturating_sub(1))
                .take(count)
                .filter_map(|id| all.and_then(|a| a.get(id)).cloned())
                .collect()
        }
    };
    let total = if q.contains("filter=") {
        found.len()
    } else {
        all.map_or(0, HashMap::len)
    };
    scim(
        StatusCode::OK,
        &json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": total, "itemsPerPage": found.len(), "startIndex": 1, "Resources": found}),
    )
}

async fn read(
    State(s): State<Arc<Shared>>,
    Path((endpoint, id)): Path<(String, String)>,
) -> Response {
    pause(&s).await;
    let Ok(st) = s.store.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match st.resources.get(&endpoint).and_then(|m| m.get(&id)) {
        Some(r) => scim(StatusCode::OK, r),
        None => scim(StatusCode::NOT_FOUND, &json!({"status": "404"})),
    }
}

async fn create(
    State(s): State<Arc<Shared>>,
    Path(endpoint): Path<String>,
    body: Bytes,
) -> Response {
    pause(&s).await;
    let Ok(mut r) = serde_json::from_slice::<Value>(&body) else {
        return scim(StatusCode::BAD_REQUEST, &json!({"status": "400"}));
    };
    let Ok(mut st) = s.store.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let key = key_of(&endpoint, &r);
    if let Some(k) = &key
        && st.names.get(&endpoint).is_some_and(|n| n.contains_key(k))
    {
        return scim(
            StatusCode::CONFLICT,
            &json!({"status": "409", "scimType": "uniqueness"}),
        );
    }
    st.next += 1;
    let id = format!("t{}", st.next);
    r["id"] = json!(id);
    if let Some(u) = r.get("userName").and_then(Value::as_str) {
        let at = now_micros();
        st.arrivals.entry(u.to_string()).or_insert(at);
    }
    if let Some(k) = key {
        st.names
            .entry(endpoint.clone())
            .or_default()
            .insert(k, id.clone());
    }
    st.resources
        .entry(endpoint)
        .or_default()
        .insert(id, r.clone());
    scim(StatusCode::CREATED, &r)
}

async fn replace(
    State(s): State<Arc<Shared>>,
    Path((endpoint, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    pause(&s).await;
    let Ok(mut r) = serde_json::from_slice::<Value>(&body) else {
        return scim(StatusCode::BAD_REQUEST, &json!({"status": "400"}));
    };
    let Ok(mut st) = s.store.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(m) = st
        .resources
        .get_mut(&endpoint)
        .filter(|m| m.contains_key(&id))
    else {
        return scim(StatusCode::NOT_FOUND, &json!({"status": "404"}));
    };
    r["id"] = json!(id);
    m.insert(id, r.clone());
    scim(StatusCode::OK, &r)
}

async fn modify(
    State(s): State<Arc<Shared>>,
    Path((endpoint, id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    pause(&s).await;
    let Ok(req) = serde_json::from_slice::<Value>(&body) else {
        return scim(StatusCode::BAD_REQUEST, &json!({"status": "400"}));
    };
    let Ok(mut st) = s.store.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let Some(r) = st.resources.get_mut(&endpoint).and_then(|m| m.get_mut(&id)) else {
        return scim(StatusCode::NOT_FOUND, &json!({"status": "404"}));
    };
    // Enough for the bench: replaces without a path merge at the top level;
    // the rest is accepted as is.
    for op in req["Operations"].as_array().into_iter().flatten() {
        if op.get("path").is_none()
            && let (Some(o), Some(v)) = (r.as_object_mut(), op["value"].as_object())
        {
            for (k, v) in v {
                o.insert(k.clone(), v.clone());
            }
        }
    }
    scim(StatusCode::OK, r)
}

async fn remove(
    State(s): State<Arc<Shared>>,
    Path((endpoint, id)): Path<(String, String)>,
) -> Response {
    pause(&s).await;
    let Ok(mut st) = s.store.lock() else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    match st.resources.get_mut(&endpoint).and_then(|m| m.remove(&id)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => scim(StatusCode::NOT_FOUND, &json!({"status": "404"})),
    }
}
