//! `/scim/v2/{tenant}/…`: the SCIM 2.0 endpoints (RFC 7644 §3), behind the
//! tenant's bearer tokens, for clients that accept JSON (406 otherwise).
//! Unknown routes and methods answer SCIM errors.

mod bulk;
mod discovery;
mod list;
mod params;
mod payload;
mod resources;
mod respond;

use axum::Router;
use axum::http::{Method, Uri};
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use scimbus_scim::{ResourceType, ScimError};

use crate::error::ApiError;
use crate::state::AppState;
use crate::{accept, auth};

pub fn routes(state: AppState) -> Router {
    let tenant = Router::new()
        .route(
            "/ServiceProviderConfig",
            get(discovery::service_provider_config),
        )
        .route("/ResourceTypes", get(discovery::resource_types))
        .route("/ResourceTypes/{name}", get(discovery::resource_type))
        .route("/Schemas", get(discovery::schemas))
        .route("/Schemas/{id}", get(discovery::schema))
        .route("/.search", post(list::search_root))
        .route("/Bulk", post(bulk::bulk))
        .route("/{rtype}", get(list::list).post(resources::create))
        .route("/{rtype}/.search", post(list::search))
        .route(
            "/{rtype}/{id}",
            get(resources::get)
                .put(resources::replace)
                .patch(resources::patch)
                .delete(resources::delete),
        )
        .method_not_allowed_fallback(method_not_allowed)
        // After authentication: a stranger learns nothing, not even a 406.
        .route_layer(from_fn(accept::require_json))
        .route_layer(from_fn_with_state(state.clone(), auth::require_token))
        // Outside authentication, to learn who a refused write was.
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::audit::scim_refusals,
        ));
    Router::new()
        .nest("/scim/v2/{tenant}", tenant)
        .nest("/admin/v1", crate::admin::routes(state.clone()))
        .nest("/events/v1", crate::events::routes(state.clone()))
        .nest("/hr/v1", crate::hr::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .merge(crate::console::routes(state))
}

async fn not_found(uri: Uri) -> ApiError {
    ScimError::not_found(format!("no such endpoint: {}", uri.path())).into()
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::status(405, format!("{method} is not allowed on {}", uri.path()))
}

/// The resource type of an endpoint segment (`Users`, `Groups`).
fn resource_type<'a>(state: &'a AppState, segment: &str) -> Result<&'a ResourceType, ApiError> {
    state
        .registry
        .resource_type_by_endpoint(segment)
        .ok_or_else(|| ScimError::not_found(format!("no such endpoint: /{segment}")).into())
}
