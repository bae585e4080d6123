//! Bearer tokens on requests: the `Authorization: Bearer …` header, and
//! the middleware that lets a request through only with a token of the
//! tenant in its URL (a token used on another tenant's URL is as good as
//! no token: 401). Who a token belongs to is in [`crate::tokens`].

use std::collections::HashMap;

use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use scimbus_scim::ScimError;

use crate::error::ApiError;
use crate::state::AppState;

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
}

/// Middleware on `/scim/v2/{tenant}/…`: the bearer token must belong to
/// `{tenant}`.
pub async fn require_token(
    State(state): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Only routes with a {tenant} segment have this middleware.
    let Some(tenant) = params.get("tenant").cloned() else {
        return Err(ApiError::internal(
            "checking a bearer token",
            &"a route without a {tenant} segment",
        ));
    };
    let Some(token) = bearer(req.headers()).map(str::to_string) else {
        return Err(ScimError::unauthorized("a bearer token is required").into());
    };
    let client = state
        .tokens
        .lookup(&token)
        .await
        .map_err(|e| ApiError::internal("looking up a token failed", &e))?;
    match client {
        Some(c) if c.tenant == tenant => {
            req.extensions_mut().insert(c);
            Ok(next.run(req).await)
        }
        _ => Err(ScimError::unauthorized("the bearer token is not valid for this tenant").into()),
    }
}
