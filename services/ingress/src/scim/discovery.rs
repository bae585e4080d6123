//! `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`: generated from
//! the registry and the capabilities actually served.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use scimbus_scim::discovery;
use scimbus_scim::{ListResponse, ScimError};
use serde_json::Value;

use super::respond::scim_json;
use crate::error::ApiResult;
use crate::state::AppState;

pub async fn service_provider_config(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> Response {
    let base = state.base_url(&tenant);
    // A tenant that takes JWTs says so beside its API tokens.
    let doc = match state.jwt.of(&tenant) {
        Some(verifier) => {
            let mut caps = (*state.caps).clone();
            caps.authentication_schemes.push(verifier.scheme());
            discovery::service_provider_config(&caps, &base)
        }
        None => discovery::service_provider_config(&state.caps, &base),
    };
    scim_json(StatusCode::OK, &doc)
}

fn list(items: Vec<Value>) -> Value {
    let n = items.len() as u64;
    ListResponse {
        resources: items,
        total_results: n,
        start_index: Some(1),
        items_per_page: Some(n),
        ..Default::default()
    }
    .into_json()
}

pub async fn resource_types(State(state): State<AppState>, Path(tenant): Path<String>) -> Response {
    let items = discovery::resource_types(&state.registry, &state.base_url(&tenant));
    scim_json(StatusCode::OK, &list(items))
}

pub async fn resource_type(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let base = state.base_url(&tenant);
    discovery::resource_types(&state.registry, &base)
        .into_iter()
        .find(|d| d.get("id").and_then(Value::as_str) == Some(name.as_str()))
        .map(|d| scim_json(StatusCode::OK, &d))
        .ok_or_else(|| ScimError::not_found(format!("no resource type \"{name}\"")).into())
}

pub async fn schemas(State(state): State<AppState>, Path(tenant): Path<String>) -> Response {
    let items = discovery::schemas(&state.registry, &state.base_url(&tenant));
    scim_json(StatusCode::OK, &list(items))
}

pub async fn schema(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let base = state.base_url(&tenant);
    discovery::schemas(&state.registry, &base)
        .into_iter()
        .find(|d| d.get("id").and_then(Value::as_str) == Some(id.as_str()))
        .map(|d| scim_json(StatusCode::OK, &d))
        .ok_or_else(|| ScimError::not_found(format!("no schema \"{id}\"")).into())
}
