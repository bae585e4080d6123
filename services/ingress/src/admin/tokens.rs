//! `/admin/v1/tenants/{tenant}/tokens`: a tenant's API tokens, made, listed
//! and revoked (the same as `scimbus token …`, through
//! [`scimbus_runtime::api_tokens`]). A token's secret is in the answer to
//! its creation only; a listing shows each token's id, name, scopes and
//! times, never its secret or its hash. A revocation reaches every ingress
//! replica at once.
//!
//! ```text
//! GET    /admin/v1/tenants/{tenant}/tokens
//! POST   /admin/v1/tenants/{tenant}/tokens        {"name", "scopes": [..], "expiresAt" | "expiresIn"}  201
//! GET    /admin/v1/tenants/{tenant}/tokens/{id}
//! DELETE /admin/v1/tenants/{tenant}/tokens/{id}   revokes it (again is fine)
//! ```

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use scimbus_runtime::api_tokens::{self, TokenError, TokenInfo, TokenSpec};
use scimbus_runtime::scope::Scopes;
use scimbus_scim::ScimError;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::body::ScimBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tenants/{tenant}/tokens", get(list).post(create))
        .route("/tenants/{tenant}/tokens/{id}", get(show).delete(revoke))
}

impl From<TokenError> for ApiError {
    fn from(e: TokenError) -> Self {
        match e {
            TokenError::UnknownTenant(_) | TokenError::UnknownToken(_) => {
                ScimError::not_found(e.to_string()).into()
            }
            TokenError::Scope(_) | TokenError::NoScopes | TokenError::Expiry(_) => {
                ScimError::invalid_value(e.to_string()).into()
            }
            TokenError::Random(e) => ApiError::internal("making a token", &e),
            TokenError::Sql(e) => ApiError::from(e),
        }
    }
}

fn view(t: &TokenInfo) -> Value {
    json!({
        "id": t.id,
        "tenant": t.tenant,
        "name": t.label,
        "prefix": t.prefix,
        "scopes": t.scopes,
        "createdAt": t.created_at,
        "expiresAt": t.expires_at,
        "lastUsedAt": t.last_used_at,
        "revokedAt": t.revoked_at,
    })
}

/// The tenant, if this ingress serves it (404 otherwise).
fn tenant_of(state: &AppState, tenant: &str) -> ApiResult<()> {
    if state.tokens.knows_tenant(tenant) {
        Ok(())
    } else {
        Err(ScimError::not_found(format!("tenant \"{tenant}\" does not exist")).into())
    }
}

async fn list(State(state): State<AppState>, Path(tenant): Path<String>) -> ApiResult<Response> {
    tenant_of(&state, &tenant)?;
    let tokens = api_tokens::list(&state.admin_db, Some(&tenant)).await?;
    let list: Vec<Value> = tokens.iter().map(view).collect();
    Ok(Json(json!({"tokens": list})).into_response())
}

/// The token `id` of `tenant`, or 404.
async fn one(state: &AppState, tenant: &str, id: &str) -> ApiResult<TokenInfo> {
    tenant_of(state, tenant)?;
    let missing = || {
        ApiError::from(ScimError::not_found(format!(
            "no token {id} in tenant {tenant}"
        )))
    };
    let id = Uuid::parse_str(id).map_err(|_| missing())?;
    scimbus_db::tokens::get(&state.admin_db, tenant, id)
        .await?
        .ok_or_else(missing)
}

async fn show(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(Json(view(&one(&state, &tenant, &id).await?)).into_response())
}

async fn revoke(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let t = one(&state, &tenant, &id).await?;
    let r = api_tokens::revoke(&state.admin_db, t.id).await?;
    let revoked = TokenInfo {
        revoked_at: Some(r.revoked_at),
        ..t
    };
    Ok(Json(view(&revoked)).into_response())
}

/// What a creation asks for.
struct Wanted {
    name: String,
    scopes: Scopes,
    expires_at: Option<DateTime<Utc>>,
}

fn wanted(body: &Value) -> Result<Wanted, ScimError> {
    let bad = |detail: String| ScimError::invalid_value(detail);
    let Some(o) = body.as_object() else {
        return Err(bad("the body must be a JSON object".into()));
    };
    if let Some(k) = o
        .keys()
        .find(|k| !["name", "scopes", "expiresAt", "expiresIn"].contains(&k.as_str()))
    {
        return Err(bad(format!(
            "\"{k}\" is not a field of a token (name, scopes, expiresAt, expiresIn)"
        )));
    }
    let name = match o.get("name") {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(bad("\"name\" must be a string".into())),
    };
    let scopes = match o.get("scopes") {
        None => Scopes::tenant_default(),
        Some(Value::Array(a)) => {
            let names = a
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad("\"scopes\" must be an array of strings".into()))?;
            Scopes::parse(&names).map_err(|e| bad(format!("scopes: {e}")))?
        }
        Some(_) => return Err(bad("\"scopes\" must be an array of strings".into())),
    };
    let expires_at = match (o.get("expiresAt"), o.get("expiresIn")) {
        (Some(_), Some(_)) => {
            return Err(bad("give \"expiresAt\" or \"expiresIn\", not both".into()));
        }
        (Some(Value::String(at)), None) => Some(
            DateTime::parse_from_rfc3339(at)
                .map_err(|e| bad(format!("expiresAt: \"{at}\" is not an RFC 3339 time ({e})")))?
                .with_timezone(&Utc),
        ),
        (None, Some(Value::String(l))) => {
            Some(Utc::now() + api_tokens::lifetime(l).map_err(|e| bad(format!("expiresIn: {e}")))?)
        }
        (None, None) => None,
        _ => return Err(bad("\"expiresAt\" and \"expiresIn\" are strings".into())),
    };
    Ok(Wanted {
        name,
        scopes,
        expires_at,
    })
}

async fn create(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    body: ScimBody,
) -> ApiResult<Response> {
    tenant_of(&state, &tenant)?;
    let w = wanted(&body.value)?;
    let spec = TokenSpec {
        tenant: &tenant,
        label: &w.name,
        scopes: w.scopes,
        expires_at: w.expires_at,
    };
    let t = api_tokens::create_with(&state.admin_db, &spec).await?;
    let body = json!({
        "id": t.id,
        "tenant": t.tenant,
        "name": t.label,
        "scopes": t.scopes.names(),
        "createdAt": t.created_at,
        "expiresAt": t.expires_at,
        // Shown this once: only its SHA-256 is kept.
        "token": t.token,
    });
    Ok((StatusCode::CREATED, Json(body)).into_response())
}
