//! A downstream SCIM application for tests: Users and Groups in memory,
//! validated and patched with `scimbus-scim` (strict like a real service
//! provider: unique userName / displayName → 409), and told to fail on
//! demand — 5xx, 429 with `Retry-After`, slow answers, a refused
//! connection (server down), a connection cut in the middle of an answer,
//! a lookup that finds nothing.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use scimbus_scim::patch::{self, PatchRequest};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use scimbus_scim::{Registry, ScimError};
use serde_json::{Value, json};

/// What the next matching request gets instead of a normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status with a SCIM error body.
    Status(u16),
    /// 429 with `Retry-After: <secs>`.
    TooMany(u64),
    /// The normal answer, this much later.
    Slow(Duration),
    /// A list answer with no resources (a lookup that misses).
    Miss,
    /// The request is carried out, then the connection is cut in the middle
    /// of the answer: the status line and half the body arrive, the rest
    /// never does (the client cannot know whether it took effect).
    Cut,
}

/// A request the target got: method, path (with query).
pub type Logged = (Method, String, Option<Value>);

#[derive(Default)]
struct Data {
    /// id → resource (with `id` and `meta`), per endpoint ("Users", "Groups").
    resources: BTreeMap<String, BTreeMap<String, Value>>,
    next_id: u64,
    /// (method filter, path substring, fault), consumed in order.
    faults: VecDeque<(Option<Method>, String, Fault)>,
    log: Vec<Logged>,
}

struct Shared {
    registry: Registry,
    data: Mutex<Data>,
    token: Option<String>,
    patch: bool,
    oauth: Option<OAuth>,
}

/// OAuth 2.0 client credentials: the token endpoint's client, and the
/// tokens it issued with when they expire.
struct OAuth {
    client_id: String,
    secret: String,
    lifetime: Duration,
    issued: Mutex<std::collections::HashMap<String, std::time::Instant>>,
    count: Mutex<u64>,
}

/// A running fake target.
pub struct FakeTarget {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl FakeTarget {
    /// Starts one; `token` is the bearer token it wants (none: no auth),
    /// `patch` whether its ServiceProviderConfig offers PATCH.
    pub async fn start(token: Option<&str>, patch: bool) -> FakeTarget {
        Self::start_with(token, patch, None).await
    }

    /// One that wants OAuth 2.0 client-credentials tokens from its
    /// `/oauth/token`, valid for `lifetime`.
    pub async fn start_oauth(client_id: &str, secret: &str, lifetime: Duration) -> FakeTarget {
        Self::start_with(
            None,
            true,
            Some(OAuth {
                client_id: client_id.into(),
                secret: secret.into(),
                lifetime,
                issued: Mutex::default(),
                count: Mutex::new(0),
            }),
        )
        .await
    }

    async fn start_with(token: Option<&str>, patch: bool, oauth: Option<OAuth>) -> FakeTarget {
        let shared = Arc::new(Shared {
            registry: Registry::standard().unwrap(),
            data: Mutex::new(Data::default()),
            token: token.map(str::to_string),
            patch,
            oauth,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let t = FakeTarget {
            addr,
            shared,
            server: Mutex::new(None),
        };
        t.serve(listener);
        t
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/oauth/token", axum::routing::post(token))
            .route("/scim/v2/ServiceProviderConfig", get(spc))
            .route("/scim/v2/{endpoint}", get(list).post(create))
            .route(
                "/scim/v2/{endpoint}/{id}",
                get(read).put(replace).patch(modify).delete(remove),
            )
            .layer(axum::middleware::from_fn_with_state(
                self.shared.clone(),
                cut,
            ))
            .with_state(self.shared.clone());
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *self.server.lock().unwrap() = Some(handle);
    }

    /// How many tokens the token endpoint issued.
    pub fn tokens_issued(&self) -> u64 {
        self.shared
            .oauth
            .as_ref()
            .map_or(0, |o| *o.count.lock().unwrap())
    }

    /// Forgets every token it issued (as a server does on a key rotation).
    pub fn revoke_tokens(&self) {
        if let Some(o) = &self.shared.oauth {
            o.issued.lock().unwrap().clear();
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/scim/v2", self.addr)
    }

    /// Stops answering: connections are refused until [`Self::up`].
    pub fn down(&self) {
        if let Some(h) = self.server.lock().unwrap().take() {
            h.abort();
        }
    }

    /// Answers again, on the same port.
    pub async fn up(&self) {
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    /// Queues a fault for the next request whose path contains `path` (and
    /// whose method is `method`, if given).
    pub fn fail(&self, method: Option<Method>, path: &str, fault: Fault) {
        self.shared
            .data
            .lock()
            .unwrap()
            .faults
            .push_back((method, path.to_string(), fault));
    }

    /// The member ids of one of its groups, sorted.
    pub fn members(&self, group: &str) -> Vec<String> {
        let mut m: Vec<String> = self.resources("Groups")[group]["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_string())
            .collect();
        m.sort();
        m
    }

    /// How many queued faults no request has met yet.
    pub fn faults_left(&self) -> usize {
        self.shared.data.lock().unwrap().faults.len()
    }

    /// The resources of an endpoint ("Users", "Groups"), by id.
    pub fn resources(&self, endpoint: &str) -> BTreeMap<String, Value> {
        self.shared
            .data
            .lock()
            .unwrap()
            .resources
            .get(endpoint)
            .cloned()
            .unwrap_or_default()
    }

    /// Puts a resource there directly (one the target had before us).
    pub fn seed(&self, endpoint: &str, body: Value) -> String {
        let mut d = self.shared.data.lock().unwrap();
        d.next_id += 1;
        let id = format!("pre-{}", d.next_id);
        let mut r = body;
        r["id"] = json!(id);
        d.resources
            .entry(endpoint.to_string())
            .or_default()
            .insert(id.clone(), r);
        id
    }

    /// Changes a resource behind our back (drift).
    pub fn edit(&self, endpoint: &str, id: &str, f: impl FnOnce(&mut Value)) {
        let mut d = self.shared.data.lock().unwrap();
        if let Some(r) = d.resources.get_mut(endpoint).and_then(|m| m.get_mut(id)) {
            f(r);
        }
    }

    /// Removes a resource behind our back (drift).
    pub fn forget(&self, endpoint: &str, id: &str) {
        let mut d = self.shared.data.lock().unwrap();
        if let Some(m) = d.resources.get_mut(endpoint) {
            m.remove(id);
        }
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.data.lock().unwrap().log.clone()
    }
}

fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Response {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.to_string(),
        "detail": detail,
    });
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    (
        StatusCode::from_u16(status).unwrap(),
        [("content-type", "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

fn scim_error(e: &ScimError) -> Response {
    let body = e.to_json();
    (
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        [("content-type", "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

fn ok(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

/// Logs the request, checks the token, applies a queued fault. `Some`
/// answers instead of the handler.
async fn gate(
    s: &Shared,
    method: Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Option<Value>,
) -> Option<Response> {
    let path = uri
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let fault = {
        let mut d = s.data.lock().unwrap();
        d.log.push((method.clone(), path.clone(), body));
        // A miss is the list handler's to take, a cut the middleware's.
        let at = d.faults.iter().position(|(m, p, f)| {
            !matches!(f, Fault::Miss | Fault::Cut)
                && m.as_ref().is_none_or(|m| *m == method)
                && path.contains(p.as_str())
        });
        at.and_then(|i| d.faults.remove(i)).map(|(_, _, f)| f)
    };
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if let Some(t) = &s.token {
        let want = format!("Bearer {t}");
        if auth != Some(want.as_str()) {
            return Some(error(401, None, "bad token"));
        }
    }
    if let Some(o) = &s.oauth {
        let valid = auth
            .and_then(|a| a.strip_prefix("Bearer "))
            .and_then(|t| o.issued.lock().unwrap().get(t).copied())
            .is_some_and(|until| until > std::time::Instant::now());
        if !valid {
            return Some(error(401, None, "no valid token"));
        }
    }
    match fault {
        None | Some(Fault::Miss | Fault::Cut) => None,
        Some(Fault::Status(code)) => Some(error(code, None, "told to fail")),
        Some(Fault::TooMany(secs)) => {
            let mut r = error(429, None, "slow down");
            r.headers_mut()
                .insert("retry-after", secs.to_string().parse().unwrap());
            Some(r)
        }
        Some(Fault::Slow(d)) => {
            tokio::time::sleep(d).await;
            None
        }
    }
}

/// Carries a request out, then cuts its answer if a `Cut` fault is queued
/// for it: the head and half the body are sent, then the connection drops.
async fn cut(
    State(s): State<Arc<Shared>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let path = req.uri().path().to_string();
    let method = req.method().clone();
    let queued = {
        let mut d = s.data.lock().unwrap();
        let at = d.faults.iter().position(|(m, p, f)| {
            matches!(f, Fault::Cut)
                && m.as_ref().is_none_or(|m| *m == method)
                && path.contains(p.as_str())
        });
        at.and_then(|i| d.faults.remove(i)).is_some()
    };
    let answer = next.run(req).await;
    if !queued {
        return answer;
    }
    let (parts, body) = answer.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let half = bytes.slice(..bytes.len() / 2);
    use futures_util::StreamExt;
    // The head and the first half go out; the rest fails a moment later.
    let rest = futures_util::stream::once(async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Err::<Bytes, _>(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "cut",
        ))
    });
    let body = futures_util::stream::once(async move { Ok(half) }).chain(rest);
    Response::from_parts(parts, axum::body::Body::from_stream(body))
}

/// Whether a `Miss` fault is queued for this path (consumed).
fn miss(s: &Shared, path: &str) -> bool {
    let mut d = s.data.lock().unwrap();
    let at = d
        .faults
        .iter()
        .position(|(_, p, f)| matches!(f, Fault::Miss) && path.contains(p.as_str()));
    at.and_then(|i| d.faults.remove(i)).is_some()
}

/// The token endpoint: client credentials in HTTP basic (RFC 6749 §2.3.1),
/// `grant_type=client_credentials` in the form.
async fn token(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(o) = &s.oauth else {
        return error(404, None, "no OAuth here");
    };
    let want = format!(
        "Basic {}",
        base64_encode(format!("{}:{}", o.client_id, o.secret).as_bytes())
    );
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some(want.as_str()) {
        return (StatusCode::UNAUTHORIZED, r#"{"error":"invalid_client"}"#).into_response();
    }
    if !String::from_utf8_lossy(&body).contains("grant_type=client_credentials") {
        return (
            StatusCode::BAD_REQUEST,
            r#"{"error":"unsupported_grant_type"}"#,
        )
            .into_response();
    }
    let n = {
        let mut c = o.count.lock().unwrap();
        *c += 1;
        *c
    };
    let token = format!("tok-{n}");
    o.issued
        .lock()
        .unwrap()
        .insert(token.clone(), std::time::Instant::now() + o.lifetime);
    ok(
        StatusCode::OK,
        &json!({"access_token": token, "token_type": "Bearer", "expires_in": o.lifetime.as_secs()}),
    )
}

fn base64_encode(input: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

async fn spc(State(s): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
    if let Some(r) = gate(&s, Method::GET, &uri, &headers, None).await {
        return r;
    }
    ok(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": {"supported": s.patch},
            "bulk": {"supported": false, "maxOperations": 0, "maxPayloadSize": 0},
            "filter": {"supported": true, "maxResults": 200},
            "changePassword": {"supported": false},
            "sort": {"supported": false},
            "etag": {"supported": false},
            "authenticationSchemes": []
        }),
    )
}

fn rt_of<'r>(s: &'r Shared, endpoint: &str) -> Option<&'r scimbus_scim::ResourceType> {
    s.registry
        .resource_type_by_endpoint(&format!("/{endpoint}"))
}

/// The attribute whose value must be unique (case-insensitively).
fn unique_key(endpoint: &str) -> &'static str {
    if endpoint == "Groups" {
        "displayName"
    } else {
        "userName"
    }
}

fn clash(d: &Data, endpoint: &str, body: &Value, except: Option<&str>) -> bool {
    let key = unique_key(endpoint);
    let Some(v) = body.get(key).and_then(Value::as_str) else {
        return false;
    };
    d.resources.get(endpoint).is_some_and(|m| {
        m.iter().any(|(id, r)| {
            Some(id.as_str()) != except
                && r.get(key)
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(v))
        })
    })
}

fn stored(id: &str, endpoint: &str, doc: &Value) -> Value {
    let mut r = doc.clone();
    r["id"] = json!(id);
    r["meta"] = json!({"resourceType": if endpoint == "Groups" { "Group" } else { "User" }});
    r
}

async fn list(
    State(s): State<Arc<Shared>>,
    Path(endpoint): Path<String>,
    RawQuery(q): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = gate(&s, Method::GET, &uri, &headers, None).await {
        return r;
    }
    let Some(rt) = rt_of(&s, &endpoint) else {
        return error(404, None, "no such endpoint");
    };
    let filter = q.as_deref().and_then(|q| {
        q.split('&')
            .find_map(|kv| kv.strip_prefix("filter="))
            .map(percent_decode)
    });
    let parsed = match filter
        .as_deref()
        .map(scimbus_scim::filter::parse)
        .transpose()
    {
        Ok(f) => f,
        Err(e) => return scim_error(&e),
    };
    let found: Vec<Value> = if miss(&s, uri.path()) {
        Vec::new()
    } else {
        let d = s.data.lock().unwrap();
        d.resources
            .get(&endpoint)
            .map(|m| {
                m.values()
                    .filter(|r| {
                        parsed.as_ref().is_none_or(|f| {
                            scimbus_scim::filter::matches(&s.registry, rt, r, f).unwrap_or(false)
                        })
                    })
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    };
    ok(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
            "totalResults": found.len(),
            "startIndex": 1,
            "itemsPerPage": found.len(),
            "Resources": found,
        }),
    )
}

async fn read(
    State(s): State<Arc<Shared>>,
    Path((endpoint, id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = gate(&s, Method::GET, &uri, &headers, None).await {
        return r;
    }
    let d = s.data.lock().unwrap();
    match d.resources.get(&endpoint).and_then(|m| m.get(&id)) {
        Some(r) => ok(StatusCode::OK, r),
        None => error(404, None, "no such resource"),
    }
}

fn parse_body(body: &Bytes) -> Result<Value, Box<Response>> {
    serde_json::from_slice(body)
        .map_err(|_| Box::new(error(400, Some("invalidSyntax"), "not JSON")))
}

async fn create(
    State(s): State<Arc<Shared>>,
    Path(endpoint): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Some(r) = gate(&s, Method::POST, &uri, &headers, Some(input.clone())).await {
        return r;
    }
    let Some(rt) = rt_of(&s, &endpoint) else {
        return error(404, None, "no such endpoint");
    };
    let mut doc = match normalize(&s.registry, rt, &input, Intent::Create, Leniency::default()) {
        Ok(d) => d,
        Err(e) => return scim_error(&e),
    };
    if let Some(m) = input.get("members") {
        doc["members"] = m.clone();
    }
    let mut d = s.data.lock().unwrap();
    if clash(&d, &endpoint, &doc, None) {
        return error(409, Some("uniqueness"), "taken");
    }
    d.next_id += 1;
    let id = format!("r{}", d.next_id);
    let r = stored(&id, &endpoint, &doc);
    d.resources
        .entry(endpoint)
        .or_default()
        .insert(id, r.clone());
    ok(StatusCode::CREATED, &r)
}

async fn replace(
    State(s): State<Arc<Shared>>,
    Path((endpoint, id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Some(r) = gate(&s, Method::PUT, &uri, &headers, Some(input.clone())).await {
        return r;
    }
    let Some(rt) = rt_of(&s, &endpoint) else {
        return error(404, None, "no such endpoint");
    };
    let mut d = s.data.lock().unwrap();
    let Some(existing) = d.resources.get(&endpoint).and_then(|m| m.get(&id)).cloned() else {
        return error(404, None, "no such resource");
    };
    let mut doc = match normalize(
        &s.registry,
        rt,
        &input,
        Intent::Replace {
            existing: &existing,
        },
        Leniency::default(),
    ) {
        Ok(d) => d,
        Err(e) => return scim_error(&e),
    };
    if let Some(m) = input.get("members") {
        doc["members"] = m.clone();
    }
    if clash(&d, &endpoint, &doc, Some(&id)) {
        return error(409, Some("uniqueness"), "taken");
    }
    let r = stored(&id, &endpoint, &doc);
    d.resources
        .entry(endpoint)
        .or_default()
        .insert(id, r.clone());
    ok(StatusCode::OK, &r)
}

async fn modify(
    State(s): State<Arc<Shared>>,
    Path((endpoint, id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let input = match parse_body(&body) {
        Ok(v) => v,
        Err(r) => return *r,
    };
    if let Some(r) = gate(&s, Method::PATCH, &uri, &headers, Some(input.clone())).await {
        return r;
    }
    if !s.patch {
        return error(501, None, "PATCH is not supported");
    }
    let Some(rt) = rt_of(&s, &endpoint) else {
        return error(404, None, "no such endpoint");
    };
    let req = match PatchRequest::parse(&input) {
        Ok(r) => r,
        Err(e) => return scim_error(&e),
    };
    let mut d = s.data.lock().unwrap();
    let Some(existing) = d.resources.get(&endpoint).and_then(|m| m.get(&id)).cloned() else {
        return error(404, None, "no such resource");
    };
    let patched = match patch::apply(&s.registry, rt, &existing, &req, Leniency::default()) {
        Ok(p) => p,
        Err(e) => return scim_error(&e),
    };
    if clash(&d, &endpoint, &patched.resource, Some(&id)) {
        return error(409, Some("uniqueness"), "taken");
    }
    let r = stored(&id, &endpoint, &patched.resource);
    d.resources
        .entry(endpoint)
        .or_default()
        .insert(id, r.clone());
    ok(StatusCode::OK, &r)
}

async fn remove(
    State(s): State<Arc<Shared>>,
    Path((endpoint, id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    if let Some(r) = gate(&s, Method::DELETE, &uri, &headers, None).await {
        return r;
    }
    let mut d = s.data.lock().unwrap();
    match d.resources.get_mut(&endpoint).and_then(|m| m.remove(&id)) {
        Some(_) => StatusCode::NO_CONTENT.into_response(),
        None => error(404, None, "no such resource"),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
