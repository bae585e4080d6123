//! `/admin/v1`: the operator API (docs/design.md §6), behind its own bearer
//! tokens (`[admin] tokens` in the configuration file; a tenant's SCIM
//! token is not one). For now: the outbound targets — status, pause and
//! resume, parked changes, replay, full sync, reconcile — the same rows the
//! `scimbus targets` commands write and the workers read. Subscriptions
//! are in `admin/subscriptions.rs`, HR sources and events in `admin/hr.rs`.
//!
//! ```text
//! GET  /admin/v1/tenants                                     {"tenants": ["name", …]}
//! GET  /admin/v1/targets[?tenant=T]
//! GET  /admin/v1/tenants/{tenant}/targets/{name}
//! POST /admin/v1/tenants/{tenant}/targets/{name}/pause | /resume
//! GET  /admin/v1/tenants/{tenant}/targets/{name}/parked[?count=N]
//! POST /admin/v1/tenants/{tenant}/targets/{name}/replay     {"seq": N} or {"all": true}
//! POST /admin/v1/tenants/{tenant}/targets/{name}/sync       {"dryRun": bool}
//! POST /admin/v1/tenants/{tenant}/targets/{name}/reconcile  {"apply": bool}
//! ```
//!
//! A target's status (`GET …/targets` lists them as `{"targets": [...]}`):
//!
//! ```text
//! {"tenant", "target", "state": "running" | "pausing" | "paused" | "not started",
//!  "position", "lag", "pushed", "skipped", "failed", "parked", "circuit",
//!  "lastError", "lastErrorAt", "lastPushedAt", "syncedAt", "reconciledAt",
//!  "configured", "config",
//!  "lastSync": null | {"dryRun": bool, "created", "adopted", "updated",
//!      "deprovisioned", "skipped", "failures": n, "failed": ["why", …first 20],
//!      "tookMs", "at": RFC 3339},
//!  "lastReconcile": null | {"applied": bool, "missing", "extra", "different",
//!      "fixed", "failures", "details": ["drift", …first 20], "tookMs",
//!      "error": null | "why it stopped", "at": RFC 3339}}
//! ```
//!
//! Counts are numbers. A dry run counts what it would create or adopt as
//! `created` (`adopted` 0); `fixed` and `failures` of a reconcile are 0
//! unless it was applied; one that could not finish has `error` and counts
//! of 0. `syncedAt` is the last real sync, `lastSync.at` the last sync or
//! dry run.

use axum::extract::{Path, Query, RawQuery, Request, State};
use axum::http::StatusCode;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use scimbus_db::links::{self, Progress, ReconcileCounts, SyncCounts, TargetKey};
use scimbus_runtime::{AuthConfig, TargetConfig, token_hash};
use scimbus_scim::ScimError;
use serde_json::{Value, json};

mod audit;
mod history;
mod hr;
mod people;
mod query;
mod subscriptions;
mod tokens;

use crate::body::ScimBody;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use query::{parked_count, query_pairs};

pub fn routes(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/tenants", get(tenants))
        .route("/targets", get(list))
        .route("/tenants/{tenant}/targets/{name}", get(show))
        .route("/tenants/{tenant}/targets/{name}/pause", post(pause))
        .route("/tenants/{tenant}/targets/{name}/resume", post(resume))
        .route("/tenants/{tenant}/targets/{name}/parked", get(parked))
        .route("/tenants/{tenant}/targets/{name}/replay", post(replay))
        .route("/tenants/{tenant}/targets/{name}/sync", post(sync))
        .route(
            "/tenants/{tenant}/targets/{name}/reconcile",
            post(reconcile),
        )
        .merge(subscriptions::routes())
        .merge(hr::routes())
        .merge(tokens::routes())
        .merge(audit::routes())
        .merge(history::routes())
        .merge(people::routes())
        .route_layer(from_fn_with_state(state.clone(), require_admin))
        .route_layer(from_fn_with_state(state, crate::audit::admin_actions))
}

/// What the console puts on the requests it sends the operator API
/// in-process: the hash of the admin token its session signed in with.
/// Only code sets request extensions; no client can send one.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConsoleGrant(pub [u8; 32]);

/// Middleware: the bearer token (or the console session's token) must be
/// one of the operator API's; a read-only one only reads.
async fn require_admin(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let addr = crate::auth::peer(&state, &req);
    let (hash, via) = match req.extensions().get::<ConsoleGrant>() {
        Some(grant) => (grant.0, " via the console"),
        None => {
            state
                .failures
                .check(addr)
                .map_err(ApiError::too_many_failures)?;
            let Some(token) = crate::auth::bearer(req.headers()) else {
                state.failures.failed(addr);
                return Err(ScimError::unauthorized("an admin bearer token is required").into());
            };
            (token_hash(token), "")
        }
    };
    let writes = state.admin_tokens.contains(&hash);
    let reads = writes || state.admin_read_tokens.contains(&hash);
    if !reads {
        if via.is_empty() {
            state.failures.failed(addr);
        }
        return Err(ScimError::unauthorized("the bearer token is not an admin token").into());
    }
    crate::audit::Who::set_with(&req, || {
        // Which admin token, without its secret: the start of its hash.
        let id: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
        let name = if writes { "admin" } else { "admin (read-only)" };
        crate::audit::Actor {
            tenant: String::new(),
            kind: "operator",
            id: format!("admin:{id}"),
            name: format!("{name}{via}"),
            address: Some(addr),
            request_id: crate::auth::request_id(&req),
        }
    });
    // A read-only token reads.
    if !writes
        && req.method() != axum::http::Method::GET
        && req.method() != axum::http::Method::HEAD
    {
        return Err(ApiError::insufficient_scope("admin:write"));
    }
    Ok(next.run(req).await)
}

/// A configured target as the operator API shows it: everything but
/// secrets (the auth kind and its non-secret parts only).
fn config_json(t: &TargetConfig) -> Value {
    let auth = match &t.auth {
        AuthConfig::None => json!({"type": "none"}),
        AuthConfig::Bearer { .. } => json!({"type": "bearer"}),
        AuthConfig::Basic { username, .. } => json!({"type": "basic", "username": username}),
        AuthConfig::Oauth2 {
            token_url,
            client_id,
            scope,
            ..
        } => {
            json!({"type": "oauth2", "tokenUrl": token_url, "clientId": client_id, "scope": scope})
        }
    };
    json!({
        "url": t.url,
        "auth": auth,
        "resourceTypes": t.resource_types,
        "filter": t.filter,
        "deprovision": format!("{:?}", t.deprovision).to_lowercase(),
        "update": format!("{:?}", t.update).to_lowercase(),
        "groups": t.groups,
        "memberChunk": t.member_chunk,
        "ratePerSec": t.rate_per_sec,
        "concurrency": t.concurrency,
        "timeoutSecs": t.timeout_secs,
        "maxAttempts": t.max_attempts,
        "mapping": t.mapping.as_ref().map(mapping_json),
        "groupMapping": t.group_mapping.as_ref().map(mapping_json),
    })
}

fn mapping_json(m: &scimbus_runtime::MappingConfig) -> Value {
    json!({"keep": m.keep, "drop": m.drop, "set": m.set})
}

/// A target: its configuration (if the configuration file declares it)
/// and its worker's status (once it has run).
fn target_json(state: &AppState, tenant: &str, target: &str, progress: Option<&Progress>) -> Value {
    let cfg = configured(state, tenant, target).map(config_json);
    let mut out = match progress {
        Some(p) => status_json(tenant, target, p),
        None => json!({"tenant": tenant, "target": target, "state": "not started"}),
    };
    out["configured"] = json!(cfg.is_some());
    out["config"] = cfg.unwrap_or(Value::Null);
    out
}

fn status_json(tenant: &str, target: &str, p: &Progress) -> Value {
    let time = |t: &Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    json!({
        "tenant": tenant,
        "target": target,
        // "pausing" until the worker has nothing in flight and stops.
        "state": match (p.paused, p.pause_acknowledged) {
            (true, true) => "paused",
            (true, false) => "pausing",
            (false, _) => "running",
        },
        "position": p.stream_seq,
        "lag": p.lag,
        "pushed": p.pushed,
        "skipped": p.skipped,
        "failed": p.failed,
        "parked": p.parked,
        "circuit": p.circuit,
        "lastError": p.last_error,
        "lastErrorAt": time(&p.last_error_at),
        "lastPushedAt": time(&p.last_pushed_at),
        "syncedAt": time(&p.synced_at),
        "lastSync": p.last_sync.as_ref().map(|s| sync_json(s, time(&p.last_sync_at))),
        "reconciledAt": time(&p.reconciled_at),
        "lastReconcile": p
            .last_reconcile
            .as_ref()
            .map(|r| reconcile_json(r, time(&p.reconciled_at))),
    })
}

/// A target's last full sync or dry run (shape in the module docs).
fn sync_json(s: &SyncCounts, at: Option<String>) -> Value {
    json!({
        "dryRun": s.dry_run,
        "created": s.created,
        "adopted": s.adopted,
        "updated": s.updated,
        "deprovisioned": s.deprovisioned,
        "skipped": s.skipped,
        "failures": s.failures,
        "failed": s.failed,
        "tookMs": s.took_ms,
        "at": at,
    })
}

/// A target's last reconcile (shape in the module docs).
fn reconcile_json(r: &ReconcileCounts, at: Option<String>) -> Value {
    json!({
        "applied": r.applied,
        "missing": r.missing,
        "extra": r.extra,
        "different": r.different,
        "fixed": r.fixed,
        "failures": r.failures,
        "details": r.details,
        "tookMs": r.took_ms,
        "error": r.error,
        "at": at,
    })
}

async fn tenants(State(state): State<AppState>) -> ApiResult<Response> {
    let names = scimbus_db::tenants::names(&state.admin_db).await?;
    Ok(Json(json!({"tenants": names})).into_response())
}

#[derive(Debug, serde::Deserialize)]
struct ListQuery {
    tenant: Option<String>,
}

/// The target `name` of `tenant` as the configuration file declares it.
pub(super) fn configured<'a>(
    state: &'a AppState,
    tenant: &str,
    name: &str,
) -> Option<&'a TargetConfig> {
    state
        .targets
        .iter()
        .find(|(t, c)| t == tenant && c.name == name)
        .map(|(_, c)| c)
}

/// The targets (of `tenant`, if given) the configuration declares and
/// those of `ran` (that have run), by tenant and name, once each.
pub(super) fn target_names<'a>(
    state: &AppState,
    tenant: Option<&str>,
    ran: impl Iterator<Item = (&'a str, &'a str)>,
) -> Vec<(String, String)> {
    let mut names: Vec<(String, String)> = state
        .targets
        .iter()
        .filter(|(t, _)| tenant.is_none_or(|w| w == t))
        .map(|(t, c)| (t.clone(), c.name.clone()))
        .chain(ran.map(|(t, n)| (t.to_string(), n.to_string())))
        .collect();
    names.sort();
    names.dedup();
    names
}

async fn list(State(state): State<AppState>, Query(q): Query<ListQuery>) -> ApiResult<Response> {
    let rows = links::all_progress(&state.admin_db, q.tenant.as_deref()).await?;
    let ran = rows.iter().map(|(t, n, _)| (t.as_str(), n.as_str()));
    let names = target_names(&state, q.tenant.as_deref(), ran);
    let list: Vec<Value> = names
        .iter()
        .map(|(tenant, target)| {
            let p = rows
                .iter()
                .find(|(t, n, _)| t == tenant && n == target)
                .map(|(_, _, p)| p);
            target_json(&state, tenant, target, p)
        })
        .collect();
    Ok(Json(json!({"targets": list})).into_response())
}

/// A target the configuration declares or that has run (its status, if
/// it has run), or 404.
pub(super) async fn known(
    state: &AppState,
    tenant: &str,
    name: &str,
) -> ApiResult<Option<Progress>> {
    let key = TargetKey {
        tenant,
        target: name,
    };
    let progress = links::find_progress(&state.admin_db, key).await?;
    if progress.is_none() && configured(state, tenant, name).is_none() {
        return Err(ScimError::not_found(format!("no target {name} of tenant {tenant}")).into());
    }
    Ok(progress)
}

async fn show(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    let p = known(&state, &tenant, &name).await?;
    Ok(Json(target_json(&state, &tenant, &name, p.as_ref())).into_response())
}

async fn set_paused(
    state: &AppState,
    tenant: &str,
    name: &str,
    paused: bool,
) -> ApiResult<Response> {
    known(state, tenant, name).await?;
    let key = TargetKey {
        tenant,
        target: name,
    };
    links::set_paused(&state.admin_db, key, paused).await?;
    let p = known(state, tenant, name).await?;
    Ok(Json(target_json(state, tenant, name, p.as_ref())).into_response())
}

async fn pause(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    set_paused(&state, &tenant, &name, true).await
}

async fn resume(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
) -> ApiResult<Response> {
    set_paused(&state, &tenant, &name, false).await
}

async fn parked(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let count = parked_count(query.as_deref())?;
    known(&state, &tenant, &name).await?;
    let key = TargetKey {
        tenant: &tenant,
        target: &name,
    };
    let rows = links::parked(&state.admin_db, key, count).await?;
    let list: Vec<Value> = rows
        .iter()
        .map(|p| {
            json!({
                "seq": p.seq,
                "resourceType": p.resource_type,
                "resourceId": p.resource_id,
                "reason": p.reason,
                "attempts": p.attempts,
                "request": p.request,
                "response": p.response,
            })
        })
        .collect();
    Ok(Json(json!({"parked": list})).into_response())
}

/// A JSON body's boolean field (absent: false); anything else is a 400.
fn flag(body: &Value, name: &str) -> ApiResult<bool> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(other) => Err(ScimError::invalid_value(format!(
            "\"{name}\" must be true or false, not {other}"
        ))
        .into()),
    }
}

async fn replay(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    known(&state, &tenant, &name).await?;
    let all = flag(&body.value, "all")?;
    let seq = match body.value.get("seq") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            ApiError::from(ScimError::invalid_value("\"seq\" must be an integer"))
        })?),
    };
    if all == seq.is_some() {
        return Err(ScimError::invalid_value("give either \"seq\" or \"all\": true").into());
    }
    let key = TargetKey {
        tenant: &tenant,
        target: &name,
    };
    let marked = links::request_replay(&state.admin_db, key, seq).await?;
    if marked == 0 {
        return Err(ScimError::not_found("nothing parked matches").into());
    }
    Ok((StatusCode::ACCEPTED, Json(json!({"marked": marked}))).into_response())
}

async fn sync(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    known(&state, &tenant, &name).await?;
    let dry_run = flag(&body.value, "dryRun")?;
    let key = TargetKey {
        tenant: &tenant,
        target: &name,
    };
    links::request_sync(&state.admin_db, key, dry_run).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"requested": "sync", "dryRun": dry_run})),
    )
        .into_response())
}

async fn reconcile(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    known(&state, &tenant, &name).await?;
    let apply = flag(&body.value, "apply")?;
    let key = TargetKey {
        tenant: &tenant,
        target: &name,
    };
    links::request_reconcile(&state.admin_db, key, apply).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"requested": "reconcile", "apply": apply})),
    )
        .into_response())
}
