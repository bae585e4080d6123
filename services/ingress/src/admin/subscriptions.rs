//! `/admin/v1/…/subscriptions`: the applications notified of a tenant's
//! changes — those of the configuration file and those made here, listed
//! together — with each one's status; made, replaced and deleted here
//! (the file's only in the file); paused, resumed, replayed. The outbound
//! service's notifier reads the same rows within a second.
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
//! GET    /admin/v1/tenants/{tenant}/subscriptions/{name}/parked
//! ```
//!
//! A subscription as shown: its effective settings (`delivery` with a
//! `secretCount`, never a secret), `tenant`, `name`, `source` ("config" or
//! "api") and `status`: `state` ("running", "pausing", "paused",
//! "disabled", "not started"), `position`, `changeSequence`, `lag`,
//! `delivered`, `skipped`, `failed`, `parked`, `queued` (poll),
//! `disabledReason`, `disabledAt`, `lastError`, `lastErrorAt`,
//! `lastSuccessAt`, `replay` (a replay asked for and not begun).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use scimbus_db::subscriptions::progress::{self, Progress, ReplayFrom};
use scimbus_db::subscriptions::{self, SubscriptionKey, parked};
use scimbus_notify::SubscriptionSpec;
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

/// Where a subscription comes from.
enum Source {
    Config,
    Api,
}

/// A subscription as the operator API shows it.
fn shown(
    tenant: &str,
    name: &str,
    spec: &SubscriptionSpec,
    source: Source,
    p: Option<&Progress>,
) -> Value {
    let mut named = spec.clone();
    named.name = Some(name.to_string());
    let mut out = named.shown();
    out["tenant"] = json!(tenant);
    out["name"] = json!(name);
    out["source"] = json!(match source {
        Source::Config => "config",
        Source::Api => "api",
    });
    out["status"] = status(p);
    out
}

fn status(p: Option<&Progress>) -> Value {
    let Some(p) = p else {
        return json!({"state": "not started"});
    };
    let state = if p.paused && p.pause_acknowledged {
        "paused"
    } else if p.paused {
        "pausing"
    } else if p.disabled_reason.is_some() {
        "disabled"
    } else {
        "running"
    };
    let at = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|t| t.to_rfc3339());
    let replay = match (p.replay_from_seq, p.replay_since) {
        (Some(s), _) => json!({"fromSequence": s}),
        (None, Some(t)) => json!({"since": t.to_rfc3339()}),
        (None, None) => Value::Null,
    };
    json!({
        "state": state,
        "position": p.stream_seq,
        "changeSequence": p.change_seq,
        "lag": p.lag,
        "delivered": p.delivered,
        "skipped": p.skipped,
        "failed": p.failed,
        "parked": p.parked,
        "queued": p.queued,
        "disabledReason": p.disabled_reason,
        "disabledAt": at(p.disabled_at),
        "lastError": p.last_error,
        "lastErrorAt": at(p.last_error_at),
        "lastSuccessAt": at(p.last_success_at),
        "startedAt": p.started_at.to_rfc3339(),
        "replay": replay,
    })
}

/// Every subscription (of one tenant, if given), the file's and the API's.
async fn listing(state: &AppState, tenant: Option<&str>) -> ApiResult<Value> {
    let stored = subscriptions::all(&state.admin_db, tenant).await?;
    let progress = progress::all(&state.admin_db, tenant).await?;
    let find = |t: &str, n: &str| progress.iter().find(|p| p.tenant == t && p.name == n);
    let mut out: Vec<(String, String, Value)> = Vec::new();
    for (t, spec) in state.subscriptions.iter() {
        if tenant.is_some_and(|w| w != t) {
            continue;
        }
        let name = spec.name.clone().unwrap_or_default();
        let v = shown(t, &name, spec, Source::Config, find(t, &name));
        out.push((t.clone(), name, v));
    }
    for s in stored {
        if out.iter().any(|(t, n, _)| *t == s.tenant && *n == s.name) {
            continue;
        }
        if let Ok(spec) = serde_json::from_value::<SubscriptionSpec>(s.spec.clone()) {
            let spec = spec.with_secrets(s.secrets.clone());
            let v = shown(
                &s.tenant,
                &s.name,
                &spec,
                Source::Api,
                find(&s.tenant, &s.name),
            );
            out.push((s.tenant, s.name, v));
        }
    }
    out.sort_by(|a, b| (&a.0, &a.1).cmp(&(&b.0, &b.1)));
    Ok(json!({"subscriptions": out.into_iter().map(|(_, _, v)| v).collect::<Vec<_>>()}))
}

#[derive(Debug, serde::Deserialize)]
struct ListQuery {
    tenant: Option<String>,
}

async fn list_all(
    State(state): State<AppState>,
    Query(q): Query<ListQuery>,
) -> ApiResult<Response> {
    Ok(Json(listing(&state, q.tenant.as_deref()).await?).into_response())
}

async fn list_tenant(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
) -> ApiResult<Response> {
    tenant_exists(&state, &tenant).await?;
    Ok(Json(listing(&state, Some(&tenant)).await?).into_response())
}

async fn tenant_exists(state: &AppState, tenant: &str) -> ApiResult<()> {
    if scimbus_db::tenants::exists(&state.admin_db, tenant).await? {
        Ok(())
    } else {
        Err(ScimError::not_found(format!("no tenant {tenant}")).into())
    }
}

/// A subscription of the file or the API, with its source, or 404.
async fn find(state: &AppState, tenant: &str, name: &str) -> ApiResult<(SubscriptionSpec, Source)> {
    tenant_exists(state, tenant).await?;
    if let Some((_, spec)) = state
        .subscriptions
        .iter()
        .find(|(t, s)| t == tenant && s.name.as_deref() == Some(name))
    {
        return Ok((spec.clone(), Source::Config));
    }
    let key = SubscriptionKey { tenant, name };
    let stored = subscriptions::get(&state.admin_db, key)
        .await?
        .ok_or_else(|| {
            ApiError::from(ScimError::not_found(format!(
                "no subscription {name} of tenant {tenant}"
            )))
        })?;
    let spec = serde_json::from_value::<SubscriptionSpec>(stored.spec)
        .map_err(|e| ApiError::internal("a stored subscription does not read", &e))?;
    Ok((spec.with_secrets(stored.secrets), Source::Api))
}

async fn respond(
    state: &AppState,
    tenant: &str,
    name: &str,
    code: StatusCode,
) -> ApiResult<Response> {
    let (spec, source) = find(state, tenant, name).await?;
    let p = progress::find(&state.admin_db, SubscriptionKey { tenant, name }).await?;
    Ok((code, Json(shown(tenant, name, &spec, source, p.as_ref()))).into_response())
}

async fn show(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    respond(&state, &tenant, &name, StatusCode::OK).await
}

fn invalid(e: &scimbus_notify::SpecError) -> ApiError {
    ScimError::invalid_value(e.to_string()).into()
}

async fn put(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    tenant_exists(&state, &tenant).await?;
    if state
        .subscriptions
        .iter()
        .any(|(t, s)| *t == tenant && s.name.as_deref() == Some(name.as_str()))
    {
        return Err(ApiError::status(
            409,
            format!("subscription {name} is declared in the configuration file; change it there"),
        ));
    }
    let mut spec = SubscriptionSpec::from_json(&body.raw).map_err(|e| invalid(&e))?;
    if spec.name.as_deref().is_some_and(|n| n != name) {
        return Err(ScimError::invalid_value(format!(
            "name: \"{}\" differs from the name in the path, \"{name}\"",
            spec.name.as_deref().unwrap_or_default()
        ))
        .into());
    }
    spec.check(&name, &state.registry, state.signing_key.is_some())
        .map_err(|e| invalid(&e))?;
    spec.name = Some(name.clone());
    let secrets = spec.secrets();
    let stored = serde_json::to_value(spec.without_secrets())
        .map_err(|e| ApiError::internal("writing a subscription", &e))?;
    let mut conn = state.admin_db.begin().await?;
    let created = subscriptions::put(
        &mut conn,
        SubscriptionKey {
            tenant: &tenant,
            name: &name,
        },
        &stored,
        &secrets,
    )
    .await?;
    conn.commit().await?;
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
    let (_, source) = find(&state, &tenant, &name).await?;
    if matches!(source, Source::Config) {
        return Err(ApiError::status(
            409,
            format!("subscription {name} is declared in the configuration file; remove it there"),
        ));
    }
    let mut conn = state.admin_db.begin().await?;
    subscriptions::delete(
        &mut conn,
        SubscriptionKey {
            tenant: &tenant,
            name: &name,
        },
    )
    .await?;
    conn.commit().await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn set_paused(
    state: &AppState,
    tenant: &str,
    name: &str,
    paused: bool,
) -> ApiResult<Response> {
    find(state, tenant, name).await?;
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

async fn replay(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    find(&state, &tenant, &name).await?;
    let key = SubscriptionKey {
        tenant: &tenant,
        name: &name,
    };
    let Some(fields) = body.value.as_object() else {
        return Err(ScimError::invalid_syntax("the body must be a JSON object").into());
    };
    if let Some(unknown) = fields
        .keys()
        .find(|k| !["from_sequence", "since", "parked"].contains(&k.as_str()))
    {
        return Err(ScimError::invalid_value(format!(
            "{unknown}: unknown; give one of from_sequence, since, parked"
        ))
        .into());
    }
    if fields.len() != 1 {
        return Err(
            ScimError::invalid_value("give exactly one of from_sequence, since, parked").into(),
        );
    }
    let bad = |field: &str, why: &str| -> ApiError {
        ScimError::invalid_value(format!("{field}: {why}")).into()
    };
    if let Some(v) = fields.get("parked") {
        let seq = match v {
            Value::Bool(true) => None,
            Value::Number(n) => Some(
                n.as_i64()
                    .ok_or_else(|| bad("parked", "must be true or a change sequence"))?,
            ),
            _ => return Err(bad("parked", "must be true or a change sequence")),
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
        let n = v.as_i64().filter(|n| *n >= 1).ok_or_else(|| {
            bad(
                "from_sequence",
                "must be a change sequence (an integer from 1)",
            )
        })?;
        let last = scimbus_db::changes::last_seq(&state.admin_db, &tenant).await?;
        if n > last {
            return Err(bad(
                "from_sequence",
                &format!("tenant {tenant} has no change {n} yet (its last is {last})"),
            ));
        }
        ReplayFrom::Sequence(n)
    } else {
        let text = fields
            .get("since")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("since", "must be an RFC 3339 time"))?;
        let t = chrono::DateTime::parse_from_rfc3339(text)
            .map_err(|e| bad("since", &format!("\"{text}\" is not an RFC 3339 time: {e}")))?
            .with_timezone(&chrono::Utc);
        if t > chrono::Utc::now() {
            return Err(bad("since", "is in the future"));
        }
        ReplayFrom::Since(t)
    };
    progress::request_replay(&state.admin_db, key, from).await?;
    let asked = match from {
        ReplayFrom::Sequence(n) => json!({"requested": "replay", "fromSequence": n}),
        ReplayFrom::Since(t) => json!({"requested": "replay", "since": t.to_rfc3339()}),
    };
    Ok((StatusCode::ACCEPTED, Json(asked)).into_response())
}

async fn parked_list(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    find(&state, &tenant, &name).await?;
    let rows = parked::list(
        &state.admin_db,
        SubscriptionKey {
            tenant: &tenant,
            name: &name,
        },
        10_000,
    )
    .await?;
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
