//! `/admin/v1/…/subscriptions`: the applications notified of a tenant's
//! changes — those of the configuration file and those made here, listed
//! together — with each one's status; made, replaced and deleted here
//! (the file's only in the file); paused, resumed, replayed. The outbound
//! service's notifier reads the same rows within a second. The checks and
//! the view are [`scimbus_runtime::subscriptions`], shared with the CLI.
//!
//! ```text
//! GET    /admin/v1/subscriptions[?tenant=T]
//! GET    /admin/v1/tenants/{tenant}/subscriptions
//! PUT    /admin/v1/tenants/{tenant}/subscriptions/{name}     201 made, 200 replaced
//! GET    /admin/v1/tenants/{tenant}/subscriptions/{name}
//! DELETE /admin/v1/tenants/{tenant}/subscriptions/{name}     204
//! POST   /admin/v1/tenants/{tenant}/subscriptions/{name}/pause | /resume
//! POST   /admin/v1/tenants/{tenant}/subscriptions/{name}/replay
//!          {"from_sequence": N} | {"since": "<RFC 3339>"}      the events from there on again
//!          {"parked": true} | {"parked": N}                    parked events (all, or N and
//!                                                              its resource's later ones)
//! GET    /admin/v1/tenants/{tenant}/subscriptions/{name}/parked[?count=N]
//! ```

use axum::extract::{Path, Query, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use scimbus_db::subscriptions::progress::{self, ReplayFrom};
use scimbus_db::subscriptions::{SubscriptionKey, parked};
use scimbus_runtime::subscriptions::{SubscriptionError, Subscriptions};
use scimbus_scim::ScimError;
use serde_json::{Value, json};

use crate::body::ScimBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/subscriptions", get(list_all))
        .route("/tenants/{tenant}/subscriptions", get(list_tenant))
        .route(
            "/tenants/{tenant}/subscriptions/{name}",
            get(show).put(put).delete(delete),
        )
        .route("/tenants/{tenant}/subscriptions/{name}/pause", post(pause))
        .route(
            "/tenants/{tenant}/subscriptions/{name}/resume",
            post(resume),
        )
        .route(
            "/tenants/{tenant}/subscriptions/{name}/replay",
            post(replay),
        )
        .route(
            "/tenants/{tenant}/subscriptions/{name}/parked",
            get(parked_list),
        )
}

pub(super) fn subs(state: &AppState) -> Subscriptions<'_> {
    Subscriptions {
        pool: &state.admin_db,
        configured: &state.subscriptions,
    }
}

impl From<SubscriptionError> for ApiError {
    fn from(e: SubscriptionError) -> Self {
        match e {
            SubscriptionError::UnknownTenant(_) | SubscriptionError::Unknown { .. } => {
                ScimError::not_found(e.to_string()).into()
            }
            SubscriptionError::Configured(_) => ApiError::status(409, e.to_string()),
            SubscriptionError::Invalid(e) => ScimError::invalid_value(e.to_string()).into(),
            SubscriptionError::Db(e) => ApiError::from(e),
            SubscriptionError::Stored(e) => {
                ApiError::internal("a stored subscription does not read", &e)
            }
        }
    }
}

#[derive(Debug, serde::Deserialize)]
struct ListQuery {
    tenant: Option<String>,
}

async fn listing(state: &AppState, tenant: Option<&str>) -> ApiResult<Response> {
    let list: Vec<Value> = subs(state)
        .list(tenant)
        .await?
        .iter()
        .map(|l| l.view())
        .collect();
    Ok(Json(json!({"subscriptions": list})).into_response())
}

async fn list_all(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    listing(&state, q.tenant.as_deref()).await
}

async fn list_tenant(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> ApiResult<Response> {
    subs(&state).tenant_exists(&tenant).await?;
    listing(&state, Some(&tenant)).await
}

async fn respond(
    state: &AppState,
    tenant: &str,
    name: &str,
    code: StatusCode,
) -> ApiResult<Response> {
    let found = subs(state).find(tenant, name).await?;
    Ok((code, Json(found.view())).into_response())
}

async fn show(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    respond(&state, &tenant, &name, StatusCode::OK).await
}

async fn put(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    let created = subs(&state)
        .put(
            &tenant,
            &name,
            &body.raw,
            &state.registry,
            state.signing_key.is_some(),
        )
        .await?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    respond(&state, &tenant, &name, code).await
}

async fn delete(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    subs(&state).delete(&tenant, &name).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_paused(
    state: &AppState,
    tenant: &str,
    name: &str,
    paused: bool,
) -> ApiResult<Response> {
    subs(state).find(tenant, name).await?;
    progress::set_paused(&state.admin_db, SubscriptionKey { tenant, name }, paused).await?;
    respond(state, tenant, name, StatusCode::OK).await
}

async fn pause(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    set_paused(&state, &tenant, &name, true).await
}

/// Resumes a paused subscription, and re-enables a disabled one.
async fn resume(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    set_paused(&state, &tenant, &name, false).await
}

fn bad(field: &str, why: &str) -> ApiError {
    ScimError::invalid_value(format!("{field}: {why}")).into()
}

async fn replay(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    subs(&state).find(&tenant, &name).await?;
    let Some(fields) = body.value.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object").into());
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !["from_sequence", "since", "parked"].contains(&k.as_str()))
    {
        return Err(bad(
            unknown,
            "unknown; give one of from_sequence, since, parked",
        ));
    }
    if fields.len() != 1 {
        return Err(
            ScimError::invalid_value("give exactly one of from_sequence, since, parked").into(),
        );
    }
    if let Some(v) = fields.get("parked") {
        let seq = match v {
            Value::Bool(true) => None,
            Value::Number(n) => Some(
                n.as_i64()
                    .ok_or_else(|| bad("parked", "must be true or a change sequence"))?,
            ),
            _ => return Err(bad("parked", "must be true or a change sequence")),
        };
        let key = SubscriptionKey {
            tenant: &tenant,
            name: &name,
        };
        let marked = parked::request_replay(&state.admin_db, key, seq).await?;
        if marked == 0 {
            return Err(ScimError::not_found("nothing parked matches").into());
        }
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({"requested": "replay", "parked": marked})),
        )
            .into_response());
    }
    let from = if let Some(v) = fields.get("from_sequence") {
        ReplayFrom::Sequence(
            v.as_i64()
                .ok_or_else(|| bad("from_sequence", "must be a change sequence (an integer)"))?,
        )
    } else {
        let text = fields
            .get("since")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("since", "must be an RFC 3339 time"))?;
        let t = chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|e| bad("since", &format!("\"{text}\" is not an RFC 3339 time: {e}")))?
            .with_timezone(&chrono::Utc);
        ReplayFrom::Since(t)
    };
    subs(&state).replay(&tenant, &name, from).await?;
    let asked = match from {
        ReplayFrom::Sequence(n) => json!({"requested": "replay", "fromSequence": n}),
        ReplayFrom::Since(t) => json!({"requested": "replay", "since": t.to_rfc3339()}),
    };
    Ok((StatusCode::ACCEPTED, Json(asked)).into_response())
}

async fn parked_list(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let count = super::parked_count(query.as_deref())?;
    subs(&state).find(&tenant, &name).await?;
    let key = SubscriptionKey {
        tenant: &tenant,
        name: &name,
    };
    let rows = parked::list(&state.admin_db, key, count).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|p| {
            json!({
                "changeSequence": p.change_seq,
                "resourceType": p.resource_type,
                "resourceId": p.resource_id,
                "reason": p.reason,
                "response": p.response,
                "attempts": p.attempts,
                "parkedAt": p.parked_at.to_rfc3339(),
            })
        })
        .collect();
    Ok(Json(json!({"parked": list})).into_response())
}
