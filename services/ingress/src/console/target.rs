//! `/admin/tenants/{t}/targets/{name}`: one outbound target — its status,
//! settings (never secrets), pushes over the last hour, parked changes
//! with their request, response and reason, the last full sync and
//! reconcile — and its actions: pause, resume, replay one or all, full
//! sync (or a dry run of one), reconcile (report, or correct the drift).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{Markup, html};
use serde_json::{Value, json};

use super::api::{Console, enc};
use super::session::{check_form, field, fields_of};
use super::view::{badge, health, num, text, time_of, when};
use super::{Signed, chart, layout};

/// The most parked changes a page lists (the oldest; "Replay all" takes
/// every one).
pub(crate) const PARKED_SHOWN: usize = 100;

#[derive(Debug, serde::Deserialize)]
pub(crate) struct PageQuery {
    pub done: Option<String>,
}

/// What an action did, said on the page it returns to.
pub(crate) fn notice(done: Option<&str>) -> Option<&'static str> {
    Some(match done? {
        "pause" => "Pause requested: the worker finishes what is in flight, then stops.",
        "resume" => "Resumed.",
        "replay" => "Replay requested: the worker pushes the parked change(s) again, in order.",
        "sync" => "Full sync requested.",
        "dry-run" => "Dry run of a full sync requested: its report appears below when done.",
        "reconcile" => "Reconcile requested: its drift report appears below when done.",
        "reconcile-apply" => "Reconcile with corrections requested.",
        _ => return None,
    })
}

pub(crate) async fn page(
    State(console): State<Console>,
    signed: Signed,
    Path((tenant, name)): Path<(String, String)>,
    Query(q): Query<PageQuery>,
) -> Response {
    let base = format!("/tenants/{}/targets/{}", enc(&tenant), enc(&name));
    let (status, parked, history) = tokio::join!(
        console.get(&signed, &base),
        console.get(&signed, format!("{base}/parked?count={PARKED_SHOWN}")),
        console.get(&signed, format!("{base}/history?minutes=60")),
    );
    let (status, parked, history) = match (status, parked, history) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return layout::refused(&e),
    };
    let minutes = chart::per_minute(&history, chart::now(&status, "pushed"));
    let lags: Vec<i64> = minutes.iter().map(|m| m.lag).collect();
    let action = |what: &str| {
        format!(
            "/admin/tenants/{}/targets/{}/{what}",
            enc(&tenant),
            enc(&name)
        )
    };
    let parked = parked
        .get("parked")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
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
        section.charts {
            h2 { "Last hour" }
            figure { (chart::outcomes("pushes per minute", &minutes)) figcaption {
                "Per minute: " span.key.pushed { "pushed" } " " span.key.skipped { "skipped" } " " span.key.failed { "failed" }
            } }
            figure { (chart::line("lag", &lags)) figcaption { "Lag (changes not yet handled)" } }
        }
        @if signed.writes {
            section.actions {
                h2 { "Actions" }
                @if state == "paused" || state == "pausing" {
                    (button(&signed, &action("resume"), "Resume", &[]))
                } @else {
                    (button(&signed, &action("pause"), "Pause", &[]))
                }
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
            @if usize::try_from(num(&status, "parked")).unwrap_or(0) > parked.len() {
                p.more { "The oldest " (parked.len()) " of " (num(&status, "parked")) " are listed; “Replay all parked” replays every one." }
            }
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

/// A form with one button posting `fields` and the CSRF token to `action`.
pub(crate) fn button(
    signed: &Signed,
    action: &str,
    label: &str,
    fields: &[(&str, &str)],
) -> Markup {
    html! {
        form.action method="post" action=(action) {
            input type="hidden" name="csrf" value=(signed.csrf);
            @for (k, v) in fields { input type="hidden" name=(k) value=(v); }
            button type="submit" { (label) }
        }
    }
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

/// A configuration as a list of its settings (the API never shows secrets).
pub(crate) fn settings(config: &Value) -> Markup {
    let Some(map) = config.as_object() else {
        return html! { p.empty { "–" } };
    };
    html! {
        dl.settings {
            @for (k, v) in map {
                dt { (k) }
                dd { @match v {
                    Value::String(s) => (s),
                    Value::Null => "–",
                    other => code { (other.to_string()) },
                } }
            }
        }
    }
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
            Some(Err(_)) => return layout::refused(&bad("\"seq\" must be a whole number")),
            None if flag("all") => ("replay", json!({"all": true}), "replay".into()),
            None => return layout::refused(&bad("replay which change? (seq, or all)")),
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
            return layout::refused(&super::api::Refused {
                status: 404,
                detail: format!("no action {action}"),
            });
        }
    };
    let base = format!("/tenants/{}/targets/{}", enc(&tenant), enc(&name));
    match console
        .api(
            &signed,
            Method::POST,
            &format!("{base}/{path}"),
            Some(&body),
        )
        .await
    {
        Ok(_) => Redirect::to(&format!("/admin{base}?done={done}")).into_response(),
        Err(e) => layout::refused(&e),
    }
}

fn bad(detail: &str) -> super::api::Refused {
    super::api::Refused {
        status: 400,
        detail: detail.into(),
    }
}
