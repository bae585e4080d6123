//! `POST /hr/v1/{tenant}/{source}`: joiner / mover / leaver webhooks from
//! HR systems.
//!
//! The request is authenticated by the source's signature scheme (401 for
//! a bad or stale signature, an unknown tenant or source: nothing is
//! recorded) or, for a source of scheme `bearer`, by a bearer token of the
//! tenant with the scope `hr:<source>` (401 without a good one, 403
//! without the scope), its events are found and mapped (400 naming the event for
//! one that cannot be: a batch is all or nothing), and all of them are
//! written to the inbox in Postgres in one transaction. Then the answer is
//! 202 with the accepted event ids: from here on, the events are applied
//! across crashes of any service, NATS included (the store takes up what
//! the ingress could not publish). An event id the source sent before is
//! answered as accepted again (`"duplicate": true`) and has no second
//! effect.

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::{DateTime, SubsecRound, Utc};
use scimbus_bus::Outgoing;
use scimbus_db::hr::{Accepted, NewEvent, Status};
use scimbus_events::hr_command;
use scimbus_hr::{HrEvent, Source};
use scimbus_scim::ScimError;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new().route("/{tenant}/{source}", post(receive))
}

/// The 401 for anything that does not prove its source: the same answer
/// whether the tenant, the source or the signature is wrong, so that a
/// caller cannot map what exists.
fn unauthorized(detail: &str) -> ApiError {
    ApiError::status(401, detail)
}

async fn receive(
    State(state): State<AppState>,
    Path((tenant, source)): Path<(String, String)>,
    mut req: Request,
) -> ApiResult<Response> {
    let Some(src) = state.hr_source(&tenant, &source) else {
        return Err(unauthorized("unknown HR source"));
    };
    let addr = crate::auth::peer(&state, &req);
    // Who the trail names for a refusal once the sender is proved.
    let actor = crate::audit::Actor {
        tenant: tenant.clone(),
        kind: "hr",
        id: source.clone(),
        name: source.clone(),
        address: Some(addr),
        request_id: crate::auth::request_id(&req),
    };
    if src.takes_bearer() {
        let client = crate::auth::authenticate_request(&state, &tenant, &mut req).await?;
        if !client.scopes.can_post_hr(&source) {
            let e = ApiError::insufficient_scope(&format!("hr:{source}"));
            refused(&state, &crate::audit::scim_actor(&client), &e).await;
            return Err(e);
        }
        state.rates.admit(&client).map_err(ApiError::rate_limited)?;
    }
    let headers = req.headers().clone();
    let body = crate::body::read(req, state.limits.max_payload).await?;
    let now = Utc::now().trunc_subsecs(6);
    // A bearer source was proved above.
    if !src.takes_bearer()
        && let Err(e) = src.verify(&headers, &body, now)
    {
        tracing::info!(tenant, source, reason = %e, "HR request refused");
        return Err(unauthorized(&format!(
            "the request's signature does not hold: {e}"
        )));
    }
    // Read strictly, as a SCIM body is: text Postgres cannot keep (U+0000),
    // a member named twice, an integer beyond 64 bits are refused here.
    let mapped = scimbus_scim::input::parse(&body)
        .map_err(ApiError::from)
        .and_then(|value| {
            src.events_of(&value, now)
                .map_err(|e| ApiError::from(ScimError::invalid_value(e.to_string())))
        });
    let events = match mapped {
        Ok(events) => events,
        Err(e) => {
            refused(&state, &actor, &e).await;
            return Err(e);
        }
    };
    let rows: Vec<NewEvent> = events.iter().map(|e| row(&src, e, now)).collect();
    let accepted = record(&state, &tenant, &rows, now).await?;
    publish(&state, &tenant, &source, &accepted, &rows).await;
    Ok(answer(&accepted))
}

/// Records the refusal of a proved sender's request.
async fn refused(state: &AppState, actor: &crate::audit::Actor, e: &ApiError) {
    let what = crate::audit::What {
        action: "hr_event",
        resource_type: None,
        resource_id: None,
        attributes: Vec::new(),
        status: e.error.status,
        scim_type: e.error.scim_type.map(|t| t.as_str().to_string()),
    };
    crate::audit::record(state, actor, what).await;
}

/// The inbox row of a mapped event.
fn row(src: &Source, e: &HrEvent, now: DateTime<Utc>) -> NewEvent {
    let due_at = e.effective_at.map_or(now, |t| t.max(now));
    let (manager_said, manager_id) = match &e.manager_id {
        None => (false, None),
        Some(m) => (true, m.clone()),
    };
    NewEvent {
        id: Uuid::now_v7(),
        source: src.spec().name.clone(),
        event_id: e.event_id.clone(),
        employee_id: e.employee_id.clone(),
        kind: e.kind.as_str().to_string(),
        effective_at: e.effective_at,
        due_at,
        raw: e.raw.clone(),
        user_doc: e.user.clone(),
        manager_id,
        manager_said,
        delete_after_days: src
            .spec()
            .delete_after_days
            .map(|d| i32::try_from(d).unwrap_or(i32::MAX)),
        new_user_id: Uuid::now_v7(),
    }
}

/// Writes the events in one transaction: all of them are durable, or none.
async fn record(
    state: &AppState,
    tenant: &str,
    rows: &[NewEvent],
    now: DateTime<Utc>,
) -> ApiResult<Vec<Accepted>> {
    let mut tx = state.admin_db.begin().await?;
    let accepted = scimbus_db::hr::events::insert(&mut tx, tenant, rows, now).await?;
    tx.commit().await?;
    Ok(accepted)
}

/// Publishes the commands of the new events due now. A failure is logged,
/// not answered: the events are in the inbox, and the store publishes
/// them again when it sees them still pending.
async fn publish(
    state: &AppState,
    tenant: &str,
    source: &str,
    accepted: &[Accepted],
    rows: &[NewEvent],
) {
    let d = &state.dispatcher;
    let mut acks = Vec::new();
    for (a, r) in accepted.iter().zip(rows) {
        if !a.new || a.status != Status::Received.as_str() {
            continue;
        }
        let cmd = hr_command(
            tenant,
            source,
            a.id,
            a.due_at.timestamp_micros(),
            &r.employee_id,
            Utc::now().timestamp_micros(),
        );
        let mut out = Outgoing::command(d.subjects(), d.partitions(), &cmd, None);
        let (span, trace) = scimbus_runtime::telemetry::messaging::producer(
            &d.subjects().command_stream(),
            &out.subject,
            &cmd.id,
        );
        out.traceparent = trace.traceparent;
        out.tracestate = trace.tracestate;
        let published = {
            let _entered = span.enter();
            scimbus_bus::publish(d.jetstream(), &out)
        };
        match published.await {
            Ok(ack) => acks.push(ack),
            Err(e) => {
                tracing::warn!(tenant, source, error = %e, "publishing an HR command failed; the store will take it up");
                return;
            }
        }
    }
    for ack in acks {
        if let Err(e) = ack.await {
            tracing::warn!(tenant, source, error = %e, "an HR command was not acknowledged; the store will take it up");
            return;
        }
    }
}

/// The 202.
fn answer(accepted: &[Accepted]) -> Response {
    let events: Vec<Value> = accepted
        .iter()
        .map(|a| {
            json!({
                "eventId": a.event_id,
                "id": a.id.to_string(),
                "status": a.status,
                "dueAt": a.due_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                "duplicate": !a.new,
            })
        })
        .collect();
    let ids: Vec<&str> = accepted.iter().map(|a| a.event_id.as_str()).collect();
    (
        StatusCode::ACCEPTED,
        Json(json!({ "accepted": ids, "events": events })),
    )
        .into_response()
}
