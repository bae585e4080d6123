//! `/admin/tenants/{t}/subscriptions/{name}`: one application notified of
//! the tenant's changes — its status, settings (secrets only counted),
//! deliveries over the last hour, parked events — and its actions: pause,
//! resume, replay the parked events (one and its resource's later ones, or
//! all).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::{Value, json};

use super::api::{Console, enc};
use super::follower::{
    Fetched, PageQuery, button, fetch, last_hour, more_parked, notice, pause_or_resume, perform,
    refusal, settings,
};
use super::session::{check_form, field, fields_of};
use super::view::{badge, health, num, text, time_of, when};
use super::{Signed, layout};

pub(crate) async fn page(
    State(console): State<Console>,
    signed: Signed,
    Path((tenant, name)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let status_of = |s: &Value| s.get("status").cloned().unwrap_or(Value::Null);
    let fetched = fetch(
        &console,
        &signed,
        "subscriptions",
        (&tenant, &name),
        status_of,
        "delivered",
    )
    .await;
    let Fetched {
        main: sub,
        parked,
        minutes,
    } = match fetched {
        Ok(f) => f,
        Err(page) => return page,
    };
    let status = status_of(&sub);
    let mut config = sub.clone();
    if let Some(m) = config.as_object_mut() {
        m.remove("status");
    }
    let action = |what: &str| {
        format!(
            "/admin/tenants/{}/subscriptions/{}/{what}",
            enc(&tenant),
            enc(&name)
        )
    };
    let state = text(&status, "state");
    let body = html! {
        section.summary {
            p { "State: " (badge(health(&status, "lastSuccessAt"))) " (" (state) ")" }
            table.facts { tbody {
                tr { th { "Change sequence" } td { (num(&status, "changeSequence")) } th { "Lag" } td { (num(&status, "lag")) } }
                tr { th { "Delivered" } td { (num(&status, "delivered")) } th { "Skipped" } td { (num(&status, "skipped")) } }
                tr { th { "Failed attempts" } td { (num(&status, "failed")) } th { "Parked now" } td { (num(&status, "parked")) } }
                tr { th { "Waiting to be polled" } td { (num(&status, "queued")) } th { "Last success" } td { (when(time_of(&status, "lastSuccessAt"))) } }
                tr { th { "Last error" } td colspan="3" {
                    span.error { (text(&status, "lastError")) } " " (when(time_of(&status, "lastErrorAt")))
                } }
                @if let Some(why) = status.get("disabledReason").and_then(Value::as_str) {
                    tr { th { "Disabled" } td colspan="3" { span.error { (why) } } }
                }
            } }
        }
        (last_hour(&minutes, "delivered"))
        @if signed.writes {
            section.actions {
                h2 { "Actions" }
                (pause_or_resume(&signed, &state, &action))
                @if !parked.is_empty() {
                    (button(&signed, &action("replay"), "Replay all parked", &[("all", "true")]))
                }
            }
        }
        section.parked {
            h2 { "Parked events" }
            (more_parked(&status, parked.len()))
            @if parked.is_empty() {
                p.empty { "None." }
            } @else {
                table #parked { thead { tr {
                    th.num { "Change" } th { "Resource" } th { "Reason" } th.num { "Attempts" } th { "Response" } th {}
                } } tbody {
                    @for p in &parked {
                        tr {
                            td.num { (num(p, "changeSequence")) }
                            td { (text(p, "resourceType")) " "
                                a href={ "/admin/tenants/" (enc(&tenant)) "/people/" (enc(&text(p, "resourceId"))) } { (text(p, "resourceId")) } }
                            td.error { (text(p, "reason")) }
                            td.num { (num(p, "attempts")) }
                            td { pre { (text(p, "response")) } }
                            td { @if signed.writes {
                                (button(&signed, &action("replay"), "Replay", &[("seq", &num(p, "changeSequence").to_string())]))
                            } }
                        }
                    }
                } }
            }
        }
        section.settings { h2 { "Settings" } (settings(&config)) }
    };
    let title = format!("Subscription {name}");
    layout::page(
        &title,
        &signed,
        Some(&tenant),
        notice(q.done.as_deref()),
        body,
    )
    .into_response()
}

/// `POST /admin/tenants/{t}/subscriptions/{name}/{action}`.
pub(crate) async fn act(
    State(console): State<Console>,
    signed: Signed,
    Path((tenant, name, action)): Path<(String, String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fields = fields_of(&body);
    if !check_form(&signed, &headers, &fields) {
        return layout::forged();
    }
    let body = match action.as_str() {
        "pause" | "resume" => json!({}),
        "replay" => match field(&fields, "seq").map(str::parse::<i64>) {
            Some(Ok(seq)) => json!({"parked": seq}),
            None if field(&fields, "all") == Some("true") => json!({"parked": true}),
            _ => {
                return refusal(400, "replay which event? (seq, or all)");
            }
        },
        _ => {
            return refusal(404, format!("no action {action}"));
        }
    };
    perform(
        &console,
        &signed,
        ("subscriptions", &tenant, &name),
        &action,
        &body,
        &action,
    )
    .await
}
