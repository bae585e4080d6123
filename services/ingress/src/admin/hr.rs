//! `/admin/v1/tenants/{tenant}/hr-sources` and `…/hr-events`: the HR
//! systems a tenant takes webhooks from (from the configuration file;
//! never a secret, not even a reference), and the inbox of their events —
//! what each did or will do, and when — with the pending ones cancellable.
//! The checks and the views are [`scimbus_runtime::hr_events`] and
//! [`scimbus_runtime::hr_sources::view`], shared with the CLI (`scimbus
//! hr-sources`, `scimbus hr-events`). An unknown tenant is a 404 on every
//! route; so is another tenant's event, or an id that is not one.
//!
//! ```text
//! GET  /admin/v1/tenants/{tenant}/hr-sources          {"sources": [source, …]}
//! GET  /admin/v1/tenants/{tenant}/hr-sources/{name}   source
//! GET  /admin/v1/tenants/{tenant}/hr-events           {"events": [event, …], "nextCursor": id | null}
//!        ?source=S &employeeId=E &userId=U
//!        &status=received|scheduled|applied|rejected|cancelled|pending
//!        &count=N (1 to 500, default 50) &cursor=<nextCursor of the page before>
//! GET  /admin/v1/tenants/{tenant}/hr-events/{id}      event with raw and user
//! POST /admin/v1/tenants/{tenant}/hr-events/{id}/cancel   {"reason": "…"} (optional)
//!        200 the event, cancelled; 409 when it is no longer pending
//! ```
//!
//! A source is its spec as written, camelCase, defaults filled in, its
//! secrets only counted (`auth.secretCount`), with `tenant` and
//! `endpoint` (`<public URL>/hr/v1/{tenant}/{name}`). An event is `id`,
//! `source`, `eventId` (the HR system's), `employeeId`, `kind` (hire,
//! update, terminate, rehire, delete), `effectiveAt`, `dueAt`,
//! `receivedAt`, `status`, `detail`, `error` (the SCIM error of a
//! rejection), `userId`, `changeId`, `appliedAt`: RFC 3339 times, null
//! when unset. Events are listed newest first; `pending` is received and
//! scheduled; `userId` lists the events of the person that user is. An
//! unknown or repeated parameter, or a bad value, is a 400 naming it.

use axum::extract::{Path, RawQuery, Request, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use scimbus_runtime::hr_events::{self, HrEventError, ListParams};
use scimbus_scim::ScimError;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tenants/{tenant}/hr-sources", get(sources))
        .route("/tenants/{tenant}/hr-sources/{name}", get(source))
        .route("/tenants/{tenant}/hr-events", get(list))
        .route("/tenants/{tenant}/hr-events/{id}", get(show))
        .route("/tenants/{tenant}/hr-events/{id}/cancel", post(cancel))
}

impl From<HrEventError> for ApiError {
    fn from(e: HrEventError) -> Self {
        match e {
            HrEventError::UnknownTenant(_) | HrEventError::Unknown { .. } => {
                ScimError::not_found(e.to_string()).into()
            }
            HrEventError::Invalid { .. } => ScimError::invalid_value(e.to_string()).into(),
            HrEventError::NotPending(_) => ApiError::status(409, e.to_string()),
            HrEventError::Db(e) => ApiError::from(e),
        }
    }
}

/// A tenant's sources, by name.
fn tenant_sources(state: &AppState, tenant: &str) -> Vec<Value> {
    let mut specs: Vec<&scimbus_hr::SourceSpec> = state
        .hr_sources
        .0
        .iter()
        .filter(|(t, _)| t == tenant)
        .map(|(_, s)| s.spec())
        .collect();
    specs.sort_by(|a, b| a.name.cmp(&b.name));
    specs
        .into_iter()
        .map(|s| scimbus_runtime::hr_sources::view(tenant, s, &state.public_url))
        .collect()
}

async fn sources(State(state): State<AppState>, Path(tenant): Path<String>) -> ApiResult<Response> {
    hr_events::tenant_exists(&state.admin_db, &tenant).await?;
    Ok(Json(json!({"sources": tenant_sources(&state, &tenant)})).into_response())
}

async fn source(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    hr_events::tenant_exists(&state.admin_db, &tenant).await?;
    let Some(src) = state.hr_source(&tenant, &name) else {
        return Err(ScimError::not_found(format!("no HR source {name} of tenant {tenant}")).into());
    };
    let view = scimbus_runtime::hr_sources::view(&tenant, src.spec(), &state.public_url);
    Ok(Json(view).into_response())
}

async fn list(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let pairs = super::query_pairs(query.as_deref())?;
    let p = ListParams::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let page = hr_events::list(&state.admin_db, &tenant, &p).await?;
    Ok(Json(page.view()).into_response())
}

async fn show(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let e = hr_events::show(&state.admin_db, &tenant, &id).await?;
    Ok(Json(hr_events::view(&e, true)).into_response())
}

async fn cancel(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
    req: Request,
) -> ApiResult<Response> {
    let body = optional_body(&state, req).await?;
    let reason = reason(body.as_ref())?;
    let e = hr_events::cancel(&state.admin_db, &tenant, &id, reason).await?;
    Ok(Json(hr_events::view(&e, false)).into_response())
}

/// The body of a cancel, which may be left out: none without a
/// `Content-Type` (a body without one is a 415), or an empty one.
async fn optional_body(state: &AppState, req: Request) -> ApiResult<Option<Value>> {
    if req.headers().contains_key(header::CONTENT_TYPE) {
        let bytes = crate::body::read(req, state.limits.max_payload).await?;
        if bytes.is_empty() {
            return Ok(None);
        }
        return Ok(Some(scimbus_scim::input::parse(&bytes)?));
    }
    let limited = http_body_util::Limited::new(req.into_body(), state.limits.max_payload);
    let bytes = limited
        .collect()
        .await
        .map_err(|e| ScimError::invalid_syntax(format!("reading the body failed: {e}")))?
        .to_bytes();
    if bytes.is_empty() {
        Ok(None)
    } else {
        Err(ApiError::status(
            415,
            "Content-Type must be application/scim+json or application/json",
        ))
    }
}

/// `{"reason": "…"}`: the reason, if given; nothing else is taken.
fn reason(body: Option<&Value>) -> ApiResult<Option<&str>> {
    let Some(body) = body else {
        return Ok(None);
    };
    let Some(fields) = body.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object").into());
    };
    if let Some(unknown) = fields.keys().find(|k| *k != "reason") {
        return Err(ScimError::invalid_value(format!(
            "{unknown}: unknown; the body takes \"reason\""
        ))
        .into());
    }
    match fields.get("reason") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(r)) => Ok(Some(r)),
        Some(_) => Err(ScimError::invalid_value("reason: must be a string").into()),
    }
}
