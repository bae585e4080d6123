//! `…/history`: a target's or subscription's counters minute by minute
//! (taken by the outbound service, kept 24 hours), for charts of lag and
//! throughput.
//!
//! ```text
//! GET /admin/v1/tenants/{tenant}/targets/{name}/history         ?minutes=N (1 to 1440, default 60)
//! GET /admin/v1/tenants/{tenant}/subscriptions/{name}/history   ?minutes=N
//!     {"samples": [{"at": RFC 3339, "pushed", "skipped", "failed", "parked", "lag"}, …]}
//! GET /admin/v1/history                                         ?minutes=N
//!     {"histories": [{"kind": "target" | "subscription", "tenant", "name",
//!                     "samples": [as above]}, …]}   every one with samples, in one query
//! ```
//!
//! Oldest first. The counters are running totals (a chart draws the
//! differences of consecutive samples); a subscription's `pushed` counts
//! deliveries and its `parked` is what was parked at that minute. A minute
//! no outbound replica ran is missing. An unknown target or subscription
//! is a 404, `minutes` out of range a 400.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use scimbus_db::console::{Sample, SampleKind, SampleOf};
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/history", get(all))
        .route("/tenants/{tenant}/targets/{name}/history", get(target))
        .route(
            "/tenants/{tenant}/subscriptions/{name}/history",
            get(subscription),
        )
}

/// `minutes` from the query string (1 to 1 440, default 60).
fn minutes(query: Option<&str>) -> ApiResult<i64> {
    super::query::only_number(query, "minutes", 1440, 60)
}

async fn target(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let minutes = minutes(q.as_deref())?;
    super::known(&state, &tenant, &name).await?;
    answer(&state, SampleKind::Target, &tenant, &name, minutes).await
}

async fn subscription(
    State(state): State<AppState>,
    Path((tenant, name)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult<Response> {
    let minutes = minutes(q.as_deref())?;
    super::subscriptions::subs(&state)
        .find(&tenant, &name)
        .await?;
    answer(&state, SampleKind::Subscription, &tenant, &name, minutes).await
}

async fn all(State(state): State<AppState>, RawQuery(q): RawQuery) -> ApiResult<Response> {
    let minutes = minutes(q.as_deref())?;
    let since = chrono::Utc::now() - chrono::Duration::minutes(minutes);
    let rows = scimbus_db::console::all_samples(&state.admin_db, since).await?;
    // Rows come by kind, tenant and name: one history per run of them.
    let histories: Vec<Value> = rows
        .chunk_by(|a, b| whose(a) == whose(b))
        .map(|run| {
            let samples: Vec<Value> = run.iter().map(|r| sample_json(&r.sample)).collect();
            let r = &run[0];
            json!({"kind": r.kind, "tenant": r.tenant, "name": r.name, "samples": samples})
        })
        .collect();
    Ok(Json(json!({"histories": histories})).into_response())
}

async fn answer(
    state: &AppState,
    kind: SampleKind,
    tenant: &str,
    name: &str,
    minutes: i64,
) -> ApiResult<Response> {
    let since = chrono::Utc::now() - chrono::Duration::minutes(minutes);
    let rows = scimbus_db::console::samples(&state.admin_db, kind, tenant, name, since).await?;
    let list: Vec<Value> = rows.iter().map(sample_json).collect();
    Ok(Json(json!({"samples": list})).into_response())
}

/// Whose a sample is: kind, tenant, name.
fn whose(r: &SampleOf) -> (&str, &str, &str) {
    (&r.kind, &r.tenant, &r.name)
}

fn sample_json(s: &Sample) -> Value {
    json!({
        "at": s.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "pushed": s.pushed,
        "skipped": s.skipped,
        "failed": s.failed,
        "parked": s.parked,
        "lag": s.lag,
    })
}
