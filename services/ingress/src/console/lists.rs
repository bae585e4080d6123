//! `/admin/tenants/{t}/hr-events` and `/admin/tenants/{t}/audit`: the HR
//! inbox and the audit trail, newest first, with the operator API's filters
//! as a form and its cursor as the next page.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use scimbus_db::hr::events::Status;
use scimbus_runtime::{audit, hr_events};
use serde_json::Value;

use super::api::{Console, enc};
use super::view::{text, time_of, when};
use super::{Signed, layout};

/// The filters of a list that are given (not empty), among `known` (the
/// API's parameters; the console sets the page's size itself).
fn filters(query: Option<&str>, known: &[&str]) -> Vec<(String, String)> {
    serde_urlencoded::from_str::<Vec<(String, String)>>(query.unwrap_or(""))
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, v)| k != "count" && known.contains(&k.as_str()) && !v.trim().is_empty())
        .collect()
}

fn query_string(pairs: &[(String, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The filter form: a text field per filter (a select where `choices` are
/// given), keeping the values given.
fn filter_form(
    action: &str,
    given: &[(String, String)],
    fields: &[(&str, &str, &[&str])],
) -> Markup {
    let value = |k: &str| {
        given
            .iter()
            .find(|(g, _)| g == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    html! {
        form.filters method="get" action=(action) {
            @for (name, label, choices) in fields {
                label { (label) " "
                    @if choices.is_empty() {
                        input type="text" name=(name) value=(value(name));
                    } @else {
                        select name=(name) {
                            option value="" { "any" }
                            @for c in *choices {
                                option value=(c) selected[value(name) == *c] { (c) }
                            }
                        }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
    }
}

/// A link to the page after this one, if there is one.
fn next_link(action: &str, given: &[(String, String)], page: &Value) -> Markup {
    let Some(cursor) = page.get("nextCursor").filter(|c| !c.is_null()) else {
        return html! {};
    };
    let cursor = match cursor {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut pairs: Vec<(String, String)> = given
        .iter()
        .filter(|(k, _)| k != "cursor")
        .cloned()
        .collect();
    pairs.push(("cursor".into(), cursor));
    html! { p.paging { a rel="next" href={ (action) "?" (query_string(&pairs)) } { "Older →" } } }
}

/// A page of the operator API's list `/tenants/{tenant}/{list}` with the
/// filters given of `known` (50 a page): the filters, the page, and the
/// console's URL of the list.
async fn fetch(
    console: &Console,
    signed: &Signed,
    tenant: &str,
    list: &str,
    query: Option<&str>,
    known: &[&str],
) -> Result<(Vec<(String, String)>, Value, String), Response> {
    let given = filters(query, known);
    let mut api = given.clone();
    api.push(("count".into(), "50".into()));
    let path = format!("/tenants/{}/{list}?{}", enc(tenant), query_string(&api));
    let page = console
        .get(signed, &path)
        .await
        .map_err(|e| layout::refused(&e))?;
    Ok((
        given,
        page,
        format!("/admin/tenants/{}/{list}", enc(tenant)),
    ))
}

pub(crate) async fn hr_events(
    State(console): State<Console>,
    signed: Signed,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (given, page, action) = match fetch(
        &console,
        &signed,
        &tenant,
        "hr-events",
        query.as_deref(),
        &hr_events::PARAMETERS,
    )
    .await
    {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let events = page
        .get("events")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    // `pending` is received and scheduled.
    let statuses: Vec<&str> = std::iter::once("pending")
        .chain(Status::ALL.iter().map(|s| s.as_str()))
        .collect();
    let body = html! {
        (filter_form(&action, &given, &[
            ("source", "Source", &[]), ("employeeId", "Employee id", &[]),
            ("userId", "User id", &[]), ("status", "Status", &statuses),
        ]))
        @if events.is_empty() { p.empty { "No HR events match." } } @else {
            table #hr-events { thead { tr {
                th { "Received" } th { "Source" } th { "Employee" } th { "Kind" } th { "Status" }
                th { "Effective" } th { "Due" } th { "User" } th { "Detail" }
            } } tbody { @for e in &events { tr {
                td { (when(time_of(e, "receivedAt"))) } td { (text(e, "source")) } td { (text(e, "employeeId")) }
                td { (text(e, "kind")) } td { span class={ "status " (text(e, "status")) } { (text(e, "status")) } }
                td { (text(e, "effectiveAt")) } td { (text(e, "dueAt")) }
                td { @if let Some(u) = e.get("userId").and_then(Value::as_str) {
                    a href={ "/admin/tenants/" (enc(&tenant)) "/people/" (enc(u)) } { (u) } } @else { "–" } }
                td { (text(e, "detail")) @if let Some(err) = e.get("error").filter(|v| !v.is_null()) {
                    " " span.error { (err.get("detail").and_then(Value::as_str).unwrap_or("")) } } }
            } } } }
        }
        (next_link(&action, &given, &page))
    };
    layout::page("HR events", &signed, Some(&tenant), None, body).into_response()
}

pub(crate) async fn audit(
    State(console): State<Console>,
    signed: Signed,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let (given, page, action) = match fetch(
        &console,
        &signed,
        &tenant,
        "audit",
        query.as_deref(),
        &audit::PARAMETERS,
    )
    .await
    {
        Ok(f) => f,
        Err(refused) => return refused,
    };
    let entries = page
        .get("entries")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let body = html! {
        (filter_form(&action, &given, &[
            ("actor", "Actor", &[]), ("resourceId", "Resource id", &[]),
            ("action", "Action", &audit::ACTIONS), ("outcome", "Outcome", &["success", "failure"]),
            ("since", "Since (RFC 3339)", &[]), ("until", "Until", &[]),
        ]))
        (audit_table(&entries))
        (next_link(&action, &given, &page))
    };
    layout::page("Audit trail", &signed, Some(&tenant), None, body).into_response()
}

/// Audit entries as a table (shared with a resource's page).
pub(crate) fn audit_table(entries: &[Value]) -> Markup {
    html! {
        @if entries.is_empty() { p.empty { "No entries." } } @else {
            table.audit { thead { tr {
                th { "When" } th { "Who" } th { "Action" } th { "Resource" } th.num { "Status" } th { "Attributes" } th { "From" }
            } } tbody { @for e in entries { tr {
                td { (when(time_of(e, "at"))) }
                @let actor = e.get("actor").cloned().unwrap_or(Value::Null);
                td { (text(&actor, "name")) " " small { (text(&actor, "kind")) " " (text(&actor, "id")) } }
                td { (text(e, "action")) }
                td { (text(e, "resourceType")) " " small { (text(e, "resourceId")) } }
                td.num { (text(e, "status")) }
                td { @for a in e.get("attributes").and_then(Value::as_array).into_iter().flatten() {
                    code { (a.as_str().unwrap_or("")) } " " } }
                td { (text(e, "clientAddress")) }
            } } } }
        }
    }
}
