//! `/admin/v1/tenants/{tenant}/audit`: the audit trail of a tenant, newest
//! first (the checks and the JSON are [`scimbus_runtime::audit`], shared
//! with `scimbus audit`).
//!
//! ```text
//! GET /admin/v1/tenants/{tenant}/audit   {"entries": [entry, …], "nextCursor": c | null}
//!       ?actor=<client id> &resourceId=U
//!       &action=create|replace|patch|delete|bulk|hr_event|admin
//!       &outcome=success|failure &since=<RFC 3339> &until=<RFC 3339>
//!       &count=N (1 to 500, default 50) &cursor=<nextCursor of the page before>
//! ```
//!
//! An unknown tenant is a 404; an unknown or repeated parameter, or a bad
//! value, a 400 naming it.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use scimbus_runtime::audit::{self, AuditError, ListParams};
use scimbus_scim::ScimError;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/tenants/{tenant}/audit", get(list))
}

impl From<AuditError> for ApiError {
    fn from(e: AuditError) -> Self {
        match e {
            AuditError::UnknownTenant(_) => ScimError::not_found(e.to_string()).into(),
            AuditError::Invalid { .. } => ScimError::invalid_value(e.to_string()).into(),
            AuditError::Db(e) => ApiError::from(e),
        }
    }
}

async fn list(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let pairs = super::query_pairs(query.as_deref())?;
    let p = ListParams::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))?;
    let page = audit::list(&state.admin_db, &tenant, &p).await?;
    Ok(Json(page.view()).into_response())
}
