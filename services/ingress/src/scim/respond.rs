//! SCIM responses: `application/scim+json`, `meta.location`, `ETag`,
//! `Location` on creates, and the client's attribute projection.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scimbus_scim::{Projection, Registry, ResourceType};
use serde_json::Value;

use crate::error::SCIM_JSON;
use crate::state::AppState;

/// A JSON body as `application/scim+json`.
pub fn scim_json(status: StatusCode, body: &Value) -> Response {
    // Straight into bytes: `to_string` goes through `fmt::Write`, a
    // tenth of a GET's rendering. A `Value` always serializes (string keys,
    // finite numbers); were it ever to fail, `Display` writes the same text.
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| body.to_string().into_bytes());
    let mut res = (status, bytes).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
    res
}

/// Sets what depends on the URL a client used: `meta.location`, and the
/// `$ref` of a group's `members` and of a user's `groups`.
pub fn locate(state: &AppState, tenant: &str, rt: &ResourceType, resource: &mut Value) {
    locate_under(&state.registry, &state.base_url(tenant), rt, resource);
}

/// [`locate`] under a tenant's base URL. `$ref` is returned by default
/// (RFC 7643 §4.1.2, §4.2, §8.7.1); the store keeps a member as its id and
/// type, so the URI is made here, as `meta.location` is.
fn locate_under(registry: &Registry, base: &str, rt: &ResourceType, resource: &mut Value) {
    let endpoint = |t: &ResourceType| format!("{base}{}/", t.endpoint.trim_end_matches('/'));
    let Some(obj) = resource.as_object_mut() else {
        return;
    };
    let Some(id) = obj.get("id").and_then(Value::as_str).map(str::to_string) else {
        return;
    };
    if let Some(meta) = obj.get_mut("meta").and_then(Value::as_object_mut) {
        meta.insert(
            "location".into(),
            Value::String(format!("{}{id}", endpoint(rt))),
        );
    }
    // A member's type names its resource type; a user's groups are groups.
    let (attr, fixed_type) = match rt.name.as_str() {
        "Group" => ("members", None),
        "User" => ("groups", Some("Group")),
        _ => return,
    };
    let Some(list) = obj.get_mut(attr).and_then(Value::as_array_mut) else {
        return;
    };
    for item in list.iter_mut().filter_map(Value::as_object_mut) {
        let Some(value) = item.get("value").and_then(Value::as_str) else {
            continue;
        };
        let target = fixed_type
            .or_else(|| item.get("type").and_then(Value::as_str))
            .and_then(|name| registry.resource_type(name));
        if let Some(t) = target {
            let reference = Value::String(format!("{}{value}", endpoint(t)));
            item.insert("$ref".into(), reference);
        }
    }
}

/// One resource: located, projected, with its ETag (and `Location` for a
/// 201).
pub fn resource(
    state: &AppState,
    tenant: &str,
    rt: &ResourceType,
    status: StatusCode,
    mut resource: Value,
    projection: &Projection,
) -> Response {
    locate(state, tenant, rt, &mut resource);
    let etag = etag_of(&resource);
    let location = resource
        .pointer("/meta/location")
        .and_then(Value::as_str)
        .and_then(own_header);
    let body = projection.project(&state.registry, rt, resource);
    let mut res = scim_json(status, &body);
    if let Some(etag) = etag {
        res.headers_mut().insert(header::ETAG, etag);
    }
    if status == StatusCode::CREATED
        && let Some(location) = location
    {
        res.headers_mut().insert(header::LOCATION, location);
    }
    res
}

/// A write answered without a body: 204 with the new version's `ETag`.
pub fn no_content(resource: &Value) -> Response {
    let mut res = StatusCode::NO_CONTENT.into_response();
    if let Some(etag) = etag_of(resource) {
        res.headers_mut().insert(header::ETAG, etag);
    }
    res
}

/// A stored resource's `ETag`: its `meta.version`.
fn etag_of(resource: &Value) -> Option<HeaderValue> {
    resource
        .pointer("/meta/version")
        .and_then(Value::as_str)
        .and_then(own_header)
}

/// The answer to a write whose client prefers no body
/// (`Prefer: return=minimal`): [`no_content`], with `Preference-Applied`
/// (RFC 7240 §3).
pub fn minimal(resource: &Value) -> Response {
    let mut res = no_content(resource);
    res.headers_mut().insert(
        "preference-applied",
        HeaderValue::from_static("return=minimal"),
    );
    res
}

/// A header made of our own values — the public URL (checked when the
/// settings are read), tenant names, ids, versions — so one that is not a
/// valid header value is a bug: logged, and left out rather than losing
/// the answer.
fn own_header(value: &str) -> Option<HeaderValue> {
    HeaderValue::from_str(value)
        .map_err(|e| tracing::error!(error = %e, value, "not a header value"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn locations_and_references_follow_the_base_url() {
        let registry = Registry::standard().unwrap();
        let base = "https://id.example/scim/v2/acme";
        let group = registry.resource_type("Group").unwrap();
        let mut g = json!({
            "id": "g1",
            "members": [
                {"value": "u1", "type": "User"},
                {"value": "g2", "type": "Group", "$ref": "https://elsewhere/x"},
                {"value": "x", "type": "Robot"},
            ],
            "meta": {"resourceType": "Group"},
        });
        locate_under(&registry, base, group, &mut g);
        assert_eq!(g["meta"]["location"], format!("{base}/Groups/g1"));
        assert_eq!(g["members"][0]["$ref"], format!("{base}/Users/u1"));
        assert_eq!(g["members"][1]["$ref"], format!("{base}/Groups/g2"));
        assert!(g["members"][2].get("$ref").is_none());

        let user = registry.resource_type("User").unwrap();
        let mut u = json!({"id": "u1", "groups": [{"value": "g1", "type": "direct"}], "meta": {}});
        locate_under(&registry, base, user, &mut u);
        assert_eq!(u["meta"]["location"], format!("{base}/Users/u1"));
        assert_eq!(u["groups"][0]["$ref"], format!("{base}/Groups/g1"));
        assert_eq!(u["groups"][0]["type"], "direct");
    }
}
