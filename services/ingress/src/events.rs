//! `/events/v1`: change events for applications that cannot take pushes.
//!
//! ```text
//! POST /events/v1/{tenant}/subscriptions/{name}/poll     RFC 8936 polling (tenant bearer token)
//! GET  /events/v1/jwks.json                              the public key that signs event tokens
//! ```
//!
//! A poll takes `ack` (the `jti`s the application has processed),
//! `setErrs` (those it could not: they are not handed out again either,
//! and are logged), `maxEvents` (default 100, at most 1000; 0 only
//! acknowledges) and `returnImmediately` (default false: with nothing
//! pending it waits up to `SCIMBUS_POLL_WAIT_MS` for events). It answers
//! `sets` (`jti` → signed Security Event Token) and `moreAvailable`. An
//! event stays pending until acknowledged: a poll whose answer is lost
//! gets the same events again. Errors are RFC 8935's `{"err",
//! "description"}` with 400.

use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::middleware::from_fn_with_state;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use scimbus_db::subscriptions::{self, SubscriptionKey, polled};
use scimbus_notify::{DeliverySpec, SubscriptionSpec};
use serde_json::{Map, Value, json};

use crate::body::ScimBody;
use crate::error::ApiResult;
use crate::state::AppState;

/// The most events one poll hands out.
const MAX_EVENTS: i64 = 1000;
const DEFAULT_EVENTS: i64 = 100;

pub fn routes(state: AppState) -> Router<AppState> {
    let polled = Router::new()
        .route("/{tenant}/subscriptions/{name}/poll", post(poll))
        .route_layer(from_fn_with_state(state, crate::auth::require_token));
    Router::new().route("/jwks.json", get(jwks)).merge(polled)
}

/// The signing key's public half (`{"keys": []}` without one).
async fn jwks(State(state): State<AppState>) -> Response {
    let body = match &state.signing_key {
        Some(k) => k.jwks(),
        None => json!({"keys": []}),
    };
    ([(header::CACHE_CONTROL, "max-age=300")], Json(body)).into_response()
}

/// An RFC 8935 §2.3 error.
fn refused(err: &str, description: impl Into<String>) -> Response {
    (
        StatusCode::BAD_REQUEST,
        Json(json!({"err": err, "description": description.into()})),
    )
        .into_response()
}

/// Whether `name` is a poll subscription of `tenant` (the file's or the
/// API's).
async fn is_poll(state: &AppState, tenant: &str, name: &str) -> ApiResult<bool> {
    let poll = |s: &SubscriptionSpec| matches!(s.delivery, DeliverySpec::Poll { .. });
    if let Some((_, s)) = state
        .subscriptions
        .iter()
        .find(|(t, s)| t == tenant && s.name.as_deref() == Some(name))
    {
        return Ok(poll(s));
    }
    let stored = subscriptions::get(&state.admin_db, SubscriptionKey { tenant, name }).await?;
    Ok(stored
        .and_then(|s| serde_json::from_value::<SubscriptionSpec>(s.spec).ok())
        .is_some_and(|s| poll(&s)))
}

/// The request's fields, checked.
struct PollRequest {
    ack: Vec<String>,
    max: i64,
    wait: bool,
}

/// The request's fields, or why not (an `invalid_request`).
fn parse(body: &Value) -> Result<PollRequest, String> {
    let Some(fields) = body.as_object() else {
        return Err("the body must be a JSON object".into());
    };
    let jtis = |v: &Value, field: &str| -> Result<Vec<String>, String> {
        v.as_array()
            .and_then(|a| a.iter().map(|j| j.as_str().map(str::to_string)).collect())
            .ok_or_else(|| format!("{field} must be a list of jti strings"))
    };
    let mut ack = match fields.get("ack") {
        None => Vec::new(),
        Some(v) => jtis(v, "ack")?,
    };
    if let Some(errs) = fields.get("setErrs") {
        let Some(errs) = errs.as_object() else {
            return Err("setErrs must be an object of jti → error".to_string());
        };
        for (jti, e) in errs {
            tracing::info!(jti, error = %e, "a polling application could not process an event");
            ack.push(jti.clone());
        }
    }
    let max = match fields.get("maxEvents") {
        None => DEFAULT_EVENTS,
        Some(v) => v
            .as_i64()
            .filter(|n| (0..=MAX_EVENTS).contains(n))
            .ok_or_else(|| format!("maxEvents must be an integer from 0 to {MAX_EVENTS}"))?,
    };
    let wait = match fields.get("returnImmediately") {
        None => true,
        Some(Value::Bool(b)) => !b,
        Some(_) => {
            return Err("returnImmediately must be true or false".to_string());
        }
    };
    if let Some(k) = fields
        .keys()
        .find(|k| !["ack", "setErrs", "maxEvents", "returnImmediately"].contains(&k.as_str()))
    {
        return Err(format!("unknown member {k}"));
    }
    Ok(PollRequest { ack, max, wait })
}

async fn poll(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    body: ScimBody,
) -> ApiResult<Response> {
    if !is_poll(&state, &tenant, &name).await? {
        return Err(scimbus_scim::ScimError::not_found(format!(
            "no poll subscription {name} of tenant {tenant}"
        ))
        .into());
    }
    let req = match parse(&body.value) {
        Ok(r) => r,
        Err(why) => return Ok(refused("invalid_request", why)),
    };
    let key = SubscriptionKey {
        tenant: &tenant,
        name: &name,
    };
    polled::acknowledge(&state.admin_db, key, &req.ack).await?;
    let deadline = Instant::now()
        + if req.wait && req.max > 0 {
            state.poll_wait
        } else {
            Duration::ZERO
        };
    let (sets, more) = loop {
        let (sets, more) = if req.max == 0 {
            (
                Vec::new(),
                polled::pending(&state.admin_db, key, 0).await?.1,
            )
        } else {
            polled::pending(&state.admin_db, key, req.max).await?
        };
        if !sets.is_empty() || Instant::now() >= deadline {
            break (sets, more);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let sets: Map<String, Value> = sets
        .into_iter()
        .map(|(jti, token)| (jti, Value::String(token)))
        .collect();
    Ok(Json(json!({"sets": sets, "moreAvailable": more})).into_response())
}
