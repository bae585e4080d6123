//! The fake target's HTTP side: the SCIM endpoints, the OAuth token
//! endpoint, the faults applied on the way in, and the answers.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use scimbus_scim::ScimError;
use scimbus_scim::patch::{self, PatchRequest};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

use super::{Data, Fault, Shared};

pub(super) fn error(status: u16, scim_type: Option<&str>, detail: &str) -> Response {
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

pub(super) fn scim_error(e: &ScimError) -> Response {
    let body = e.to_json();
    (
        StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST),
        [("content-type", "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

pub(super) fn ok(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/scim+json")],
        body.to_string(),
    )
        .into_response()
}

/// Logs the request, checks the token, applies a queued fault. `Some`
/// answers instead of the handler.
pub(super) async fn gate(
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
        let traceparent = headers.get("traceparent").and_then(|v| v.to_str().ok());
        d.traceparents.push((
            method.clone(),
            path.clone(),
            traceparent.map(str::to_string),
        ));
        // A miss is the list handler's to take, a cut the middleware's.
        let at = d.faults.iter().position(|(m, p, f)| {
            !matches!(f, Fault::Miss | Fault::Cut)
                && m.as_ref().is_none_or(|m| *m == method)
                && path.contains(p.as_str())
        });
        at.and_then(|i| d.faults.remove(i)).map(|(_, _, f)| f)
    };
    if method != Method::GET {
        let mut hold = s.hold.subscribe();
        if *hold.borrow_and_update() {
            s.held.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let _ = hold.wait_for(|held| !*held).await;
            s.held.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
        }
    }
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
pub(super) async fn cut(
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
pub(super) fn miss(s: &Shared, path: &str) -> bool {
    let mut d = s.data.lock().unwrap();
    let at = d
        .faults
        .iter()
        .position(|(_, p, f)| matches!(f, Fault::Miss) && path.contains(p.as_str()));
    at.and_then(|i| d.faults.remove(i)).is_some()
}

pub(super) async fn spc(State(s): State<Arc<Shared>>, uri: Uri, headers: HeaderMap) -> Response {
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

pub(super) fn rt_of<'r>(s: &'r Shared, endpoint: &str) -> Option<&'r scimbus_scim::ResourceType> {
    s.registry
        .resource_type_by_endpoint(&format!("/{endpoint}"))
}

/// The attribute whose value must be unique (case-insensitively).
pub(super) fn unique_key(endpoint: &str) -> &'static str {
    if endpoint == "Groups" {
        "displayName"
    } else {
        "userName"
    }
}

pub(super) fn clash(d: &Data, endpoint: &str, body: &Value, except: Option<&str>) -> bool {
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

pub(super) fn stored(id: &str, endpoint: &str, doc: &Value) -> Value {
    let mut r = doc.clone();
    r["id"] = json!(id);
    r["meta"] = json!({"resourceType": if endpoint == "Groups" { "Group" } else { "User" }});
    r
}

pub(super) async fn list(
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

pub(super) async fn read(
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

pub(super) fn parse_body(body: &Bytes) -> Result<Value, Box<Response>> {
    serde_json::from_slice(body)
        .map_err(|_| Box::new(error(400, Some("invalidSyntax"), "not JSON")))
}

pub(super) async fn create(
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

pub(super) async fn replace(
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

pub(super) async fn modify(
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

pub(super) async fn remove(
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

pub(super) fn percent_decode(s: &str) -> String {
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
