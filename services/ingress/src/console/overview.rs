//! `GET /admin/`: every tenant's targets and subscriptions at a glance —
//! their health, lag and pushes over the last hour, and the most recent
//! errors.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde_json::Value;

use super::api::{Console, enc};
use super::view::{badge, health, num, text, time_of, when};
use super::{Signed, chart, layout};

/// One target or subscription as the overview lists it.
struct Row {
    tenant: String,
    name: String,
    kind: &'static str,
    status: Value,
    health: &'static str,
    history: Value,
}

pub(crate) async fn page(State(console): State<Console>, signed: Signed) -> Response {
    let (tenants, targets, subs, histories) = tokio::join!(
        console.get(&signed, "/tenants"),
        console.get(&signed, "/targets"),
        console.get(&signed, "/subscriptions"),
        // Every chart's samples in one call, however many there are.
        console.get(&signed, "/history?minutes=60"),
    );
    let (tenants, targets, subs) = match (tenants, targets, subs) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return layout::refused(&e),
    };
    let list = |v: &Value, key: &str| {
        v.get(key)
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let mut rows: Vec<Row> = Vec::new();
    for t in list(&targets, "targets") {
        rows.push(Row {
            tenant: text(&t, "tenant"),
            name: text(&t, "target"),
            kind: "targets",
            health: health(&t, "lastPushedAt"),
            status: t,
            history: Value::Null,
        });
    }
    for s in list(&subs, "subscriptions") {
        let status = s.get("status").cloned().unwrap_or(Value::Null);
        rows.push(Row {
            tenant: text(&s, "tenant"),
            name: text(&s, "name"),
            kind: "subscriptions",
            health: health(&status, "lastSuccessAt"),
            status,
            history: Value::Null,
        });
    }
    // Without history the charts are empty; the figures are still there.
    let histories = histories.map(|h| list(&h, "histories")).unwrap_or_default();
    for h in histories {
        let kind = match h.get("kind").and_then(Value::as_str) {
            Some("target") => "targets",
            Some("subscription") => "subscriptions",
            _ => continue,
        };
        let (tenant, name) = (text(&h, "tenant"), text(&h, "name"));
        if let Some(r) = rows
            .iter_mut()
            .find(|r| r.kind == kind && r.tenant == tenant && r.name == name)
        {
            r.history = h;
        }
    }
    let tenants: Vec<String> = list(&tenants, "tenants")
        .iter()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect();
    let body = html! {
        (errors(&rows))
        @for tenant in &tenants {
            section.tenant {
                h2 {
                    (tenant)
                    span.links {
                        a href={ "/admin/tenants/" (enc(tenant)) "/people" } { "People & groups" }
                        a href={ "/admin/tenants/" (enc(tenant)) "/hr-events" } { "HR events" }
                        a href={ "/admin/tenants/" (enc(tenant)) "/audit" } { "Audit trail" }
                    }
                }
                (table(tenant, "Targets", "targets", &rows))
                (table(tenant, "Subscriptions", "subscriptions", &rows))
            }
        }
    };
    layout::page("Overview", &signed, None, None, body).into_response()
}

fn table(tenant: &str, title: &str, kind: &str, rows: &[Row]) -> Markup {
    let mine: Vec<&Row> = rows
        .iter()
        .filter(|r| r.tenant == tenant && r.kind == kind)
        .collect();
    let (done, done_label) = if kind == "targets" {
        ("pushed", "Pushed")
    } else {
        ("delivered", "Delivered")
    };
    html! {
        h3 { (title) }
        @if mine.is_empty() {
            p.empty { "None." }
        } @else {
            table.status data-kind=(kind) {
                thead { tr {
                    th { "Name" } th { "State" } th.num { "Lag" } th.num { (done_label) }
                    th.num { "Failed" } th.num { "Parked" }
                    th { "Lag, last hour" } th { "Per minute, last hour" }
                } }
                tbody {
                    @for r in mine {
                        @let minutes = chart::per_minute(&r.history, chart::now(&r.status, done));
                        @let lags: Vec<i64> = minutes.iter().map(|m| m.lag).collect();
                        tr data-name=(r.name) {
                            td { a href={ "/admin/tenants/" (enc(tenant)) "/" (kind) "/" (enc(&r.name)) } { (r.name) } }
                            td { (badge(r.health)) }
                            td.num { (num(&r.status, "lag")) }
                            td.num { (num(&r.status, done)) }
                            td.num { (num(&r.status, "failed")) }
                            td.num { (num(&r.status, "parked")) }
                            td { (chart::line("lag", &lags)) }
                            td { (chart::outcomes("pushes per minute", &minutes)) }
                        }
                    }
                }
            }
        }
    }
}

/// The last errors of every target and subscription, newest first.
fn errors(rows: &[Row]) -> Markup {
    let mut errs: Vec<(&Row, chrono::DateTime<chrono::Utc>)> = rows
        .iter()
        .filter(|r| r.status.get("lastError").is_some_and(Value::is_string))
        .filter_map(|r| time_of(&r.status, "lastErrorAt").map(|t| (r, t)))
        .collect();
    errs.sort_by_key(|e| std::cmp::Reverse(e.1));
    errs.truncate(10);
    html! {
        section.errors {
            h2 { "Recent errors" }
            @if errs.is_empty() {
                p.empty { "None." }
            } @else {
                ul {
                    @for (r, at) in &errs {
                        li {
                            (when(Some(*at))) " · " (r.tenant) " · "
                            a href={ "/admin/tenants/" (enc(&r.tenant)) "/" (r.kind) "/" (enc(&r.name)) } { (r.name) }
                            ": " span.error { (text(&r.status, "lastError")) }
                        }
                    }
                }
            }
        }
    }
}
