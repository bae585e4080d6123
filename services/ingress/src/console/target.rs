//! `/admin/tenants/{t}/targets/{name}`: one outbound target — its status,
//! settings (never secrets), pushes over the last hour, parked changes
//! with their request, response and reason, the last full sync and
//! reconcile — and its actions: pause, resume, replay one or all, full
//! sync (or a dry run of one), reconcile (report, or correct the drift).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
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
    let fetched = fetch(
        &console,
        &signed,
        "targets",
        (&tenant, &name),
        Value::clone,
        "pushed",
    )
    .await;
    let Fetched {
        main: status,
        parked,
        minutes,
    } = match fetched {
        Ok(f) => f,
        Err(page) => return page,
    };
    let action = |what: &str| {
        format!(
            "/admin/tenants/{}/targets/{}/{what}",
            enc(&tenant),
            enc(&name)
        )
    };
    let state = text(&status, "state");
    let body = html! {
        section.summary {
            p { "State: " (badge(health(&status, "lastPushedAt"))) " (" (state) ")" }
            table.facts { tbody {
                tr { th { "Position" } td { (num(&status, "position")) } th { "Lag" } td #lag { (num(&status, "lag")) } }
                tr { th { "Pushed" } td { (num(&status, "pushed")) } th { "Skipped" } td { (num(&status, "skipped")) } }
                tr { th { "Failed attempts" } td { (num(&status, "failed")) } th { "Parked now" } td #parked-count { (num(&status, "parked")) } }
                tr { th { "Circuit" } td { (text(&status, "circuit")) } th { "Last push" } td { (when(time_of(&status, "lastPushedAt"))) } }
                tr { th { "Last error" } td colspan="3" {
                    span.error { (text(&status, "lastError")) } " " (when(time_of(&status, "lastErrorAt")))
                } }
            } }
        }
        (last_hour(&minutes, "pushed"))
        @if signed.writes {
            section.actions {
                h2 { "Actions" }
                (pause_or_resume(&signed, &state, &action))
                @if !parked.is_empty() {
                    (button(&signed, &action("replay"), "Replay all parked", &[("all", "true")]))
                }
                (button(&signed, &action("sync"), "Preview a full sync (dry run)", &[("dryRun", "true")]))
                (button(&signed, &action("sync"), "Full sync", &[("dryRun", "false")]))
                (button(&signed, &action("reconcile"), "Reconcile: report drift", &[("apply", "false")]))
                (button(&signed, &action("reconcile"), "Reconcile and correct", &[("apply", "true")]))
            }
        }
        section.parked {
            h2 { "Parked changes" }
            (more_parked(&status, parked.len()))
            @if parked.is_empty() {
                p.empty { "None." }
            } @else {
                table #parked { thead { tr {
                    th.num { "Seq" } th { "Resource" } th { "Reason" } th.num { "Attempts" } th { "Request and response" } th {}
                } } tbody {
                    @for p in &parked {
                        tr data-seq=(num(p, "seq")) {
                            td.num { (num(p, "seq")) }
                            td { (text(p, "resourceType")) " "
                                a href={ "/admin/tenants/" (enc(&tenant)) "/people/" (enc(&text(p, "resourceId"))) } { (text(p, "resourceId")) } }
                            td.error { (text(p, "reason")) }
                            td.num { (num(p, "attempts")) }
                            td { details { summary { "show" }
                                h4 { "Request" } pre { (text(p, "request")) }
                                h4 { "Response" } pre { (text(p, "response")) } } }
                            td { @if signed.writes {
                                (button(&signed, &action("replay"), "Replay", &[("seq", &num(p, "seq").to_string())]))
                            } }
                        }
                    }
                } }
            }
        }
        (reports(&status))
        section.settings {
            h2 { "Settings" }
            @if status.get("configured") == Some(&Value::Bool(true)) {
                (settings(status.get("config").unwrap_or(&Value::Null)))
            } @else {
                p.empty { "Not in the configuration file (a target that ran before and was removed)." }
            }
        }
    };
    let title = format!("Target {name}");
    layout::page(
        &title,
        &signed,
        Some(&tenant),
        notice(q.done.as_deref()),
        body,
    )
    .into_response()
}

/// The last full sync (or dry run) and reconcile.
fn reports(status: &Value) -> Markup {
    let sync = status.get("lastSync").filter(|v| !v.is_null());
    let rec = status.get("lastReconcile").filter(|v| !v.is_null());
    html! {
        section.reports {
            h2 { "Full sync and reconcile" }
            @if let Some(s) = sync {
                h3 { @if s.get("dryRun") == Some(&Value::Bool(true)) { "Last dry run" } @else { "Last full sync" }
                     " " (when(time_of(s, "at"))) }
                p #last-sync {
                    @if s.get("dryRun") == Some(&Value::Bool(true)) { "Would create " } @else { "Created " }
                    (num(s, "created")) ", adopted " (num(s, "adopted")) ", updated " (num(s, "updated"))
                    ", deprovisioned " (num(s, "deprovisioned")) ", skipped " (num(s, "skipped"))
                    ", failures " (num(s, "failures")) " (" (num(s, "tookMs")) " ms)."
                }
                (list_of(s, "failed"))
            } @else { p.empty { "No full sync yet." } }
            @if let Some(r) = rec {
                h3 { "Last reconcile" @if r.get("applied") == Some(&Value::Bool(true)) { " (corrected)" } " " (when(time_of(r, "at"))) }
                p #last-reconcile {
                    "Missing " (num(r, "missing")) ", extra " (num(r, "extra")) ", different " (num(r, "different"))
                    ", fixed " (num(r, "fixed")) ", failures " (num(r, "failures")) "."
                    @if let Some(e) = r.get("error").and_then(Value::as_str) { " Stopped: " span.error { (e) } }
                }
                (list_of(r, "details"))
            } @else { p.empty { "No reconcile yet." } }
        }
    }
}

fn list_of(v: &Value, key: &str) -> Markup {
    let items = v
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    html! { @if !items.is_empty() { ul.drift { @for i in &items { li { (i.as_str().unwrap_or("")) } } } } }
}

/// `POST /admin/tenants/{t}/targets/{name}/{action}`: the action through
/// the operator API, then back to the target's page.
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
    let flag = |k: &str| field(&fields, k) == Some("true");
    let (path, body, done) = match action.as_str() {
        "pause" | "resume" => (action.as_str(), json!({}), action.clone()),
        "replay" => match field(&fields, "seq").map(str::parse::<i64>) {
            Some(Ok(seq)) => ("replay", json!({"seq": seq}), "replay".into()),
            Some(Err(_)) => return refusal(400, "\"seq\" must be a whole number"),
            None if flag("all") => ("replay", json!({"all": true}), "replay".into()),
            None => return refusal(400, "replay which change? (seq, or all)"),
        },
        "sync" => {
            let dry = flag("dryRun");
            (
                "sync",
                json!({"dryRun": dry}),
                if dry { "dry-run" } else { "sync" }.into(),
            )
        }
        "reconcile" => {
            let apply = flag("apply");
            let done = if apply {
                "reconcile-apply"
            } else {
                "reconcile"
            };
            ("reconcile", json!({"apply": apply}), done.into())
        }
        _ => {
            return refusal(404, format!("no action {action}"));
        }
    };
    perform(
        &console,
        &signed,
        ("targets", &tenant, &name),
        path,
        &body,
        &done,
    )
    .await
}
