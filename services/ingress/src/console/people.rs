//! `/admin/tenants/{t}/people`: find a person or group by userName, email,
//! externalId, displayName or id; and one resource — as stored, where it
//! is provisioned (per target: remote id, last pushed version, outcome, in
//! scope or not and by which filter), its recent changes, its HR events
//! (scheduled ones included) and its audit trail.

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use maud::html;
use serde_json::Value;

use super::api::{Console, enc};
use super::view::{badge, num, text, time_of, when};
use super::{Signed, layout};

#[derive(Debug, serde::Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
}

pub(crate) async fn search(
    State(console): State<Console>,
    signed: Signed,
    Path(tenant): Path<String>,
    Query(query): Query<SearchQuery>,
) -> Response {
    let q = query.q.unwrap_or_default();
    let q = q.trim();
    let found = if q.is_empty() {
        None
    } else {
        let path = format!("/tenants/{}/resources?q={}&count=50", enc(&tenant), enc(q));
        match console.get(&signed, &path).await {
            Ok(v) => Some(
                v.get("resources")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default(),
            ),
            Err(e) => return layout::refused(&e),
        }
    };
    let body = html! {
        form.search method="get" action={ "/admin/tenants/" (enc(&tenant)) "/people" } {
            label for="q" { "userName, email, externalId, displayName or id" }
            input #q type="search" name="q" value=(q) required;
            button type="submit" { "Search" }
        }
        @if let Some(list) = &found {
            @if list.is_empty() {
                p.empty #no-results { "Nothing matches " code { (q) } "." }
            } @else {
                table #results { thead { tr {
                    th { "Type" } th { "Name" } th { "Emails" } th { "External id" } th { "Active" } th.num { "Version" } th { "Modified" }
                } } tbody {
                    @for r in list {
                        @let label = r.get("userName").and_then(Value::as_str)
                            .or_else(|| r.get("displayName").and_then(Value::as_str)).unwrap_or("(no name)");
                        tr {
                            td { (text(r, "resourceType")) }
                            td { a href={ "/admin/tenants/" (enc(&tenant)) "/people/" (enc(&text(r, "id"))) } { (label) } }
                            td { @for e in r.get("emails").and_then(Value::as_array).into_iter().flatten() {
                                (e.as_str().unwrap_or("")) " " } }
                            td { (text(r, "externalId")) }
                            td { (text(r, "active")) }
                            td.num { (num(r, "version")) }
                            td { (when(time_of(r, "lastModified"))) }
                        }
                    }
                } }
            }
        }
    };
    layout::page("People and groups", &signed, Some(&tenant), None, body).into_response()
}

pub(crate) async fn page(
    State(console): State<Console>,
    signed: Signed,
    Path((tenant, id)): Path<(String, String)>,
) -> Response {
    let t = enc(&tenant);
    let i = enc(&id);
    let (found, hr, audit) = tokio::join!(
        console.get(&signed, format!("/tenants/{t}/resources/{i}")),
        console.get(
            &signed,
            format!("/tenants/{t}/hr-events?userId={i}&count=20")
        ),
        console.get(
            &signed,
            format!("/tenants/{t}/audit?resourceId={i}&count=20")
        ),
    );
    let found = match found {
        Ok(f) => f,
        Err(e) => return layout::refused(&e),
    };
    let list = |v: &Result<Value, _>, key: &str| {
        v.as_ref()
            .ok()
            .and_then(|v: &Value| v.get(key).and_then(Value::as_array).cloned())
            .unwrap_or_default()
    };
    let hr = list(&hr, "events");
    let audit = list(&audit, "entries");
    // A resource deleted here is shown by what it was (`lastStored`) while
    // a target still holds it or its changes are kept.
    let deleted = found.get("resource").is_none_or(Value::is_null);
    let shown = if deleted { "lastStored" } else { "resource" };
    let resource = found.get(shown).cloned().unwrap_or(Value::Null);
    let version = resource
        .pointer("/meta/version")
        .and_then(Value::as_str)
        .unwrap_or("–")
        .to_string();
    let is_group = found.get("resourceType").and_then(Value::as_str) == Some("Group");
    let mut name = resource
        .get("userName")
        .or_else(|| resource.get("displayName"))
        .and_then(Value::as_str)
        .unwrap_or(&id)
        .to_string();
    if deleted {
        name.push_str(" (deleted)");
    }
    let deletion = found.get("deleted").filter(|d| !d.is_null());
    let targets = found
        .get("targets")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let changes = found
        .get("changes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let body = html! {
        section.provisioned {
            h2 { "Where it is provisioned" }
            @if deleted {
                p #deleted { "Deleted here"
                    @if let Some(d) = deletion { " by change #" (num(d, "seq")) ", " (when(time_of(d, "committedAt"))) }
                    ". A target that still holds it is " (badge("behind")) " until the delete reaches it." }
            } @else {
                p { "Version here: " code { (version) } }
            }
            @if targets.is_empty() {
                p.empty { "The tenant has no targets." }
            } @else {
                table #targets { thead { tr {
                    th { "Target" } th { "Outcome" } th { "In scope now" } th { "Remote id" }
                    th.num { "Pushed version" } th { "Pushed" } th { "Parked" }
                } } tbody {
                    @for tg in &targets {
                        @let outcome = tg.get("outcome").and_then(Value::as_str).unwrap_or("");
                        tr data-target=(text(tg, "target")) {
                            td { a href={ "/admin/tenants/" (t) "/targets/" (enc(&text(tg, "target"))) } { (text(tg, "target")) } }
                            td { (badge(match outcome { "pushed" => "in step", o => o })) }
                            td { @match tg.get("inScopeNow").and_then(Value::as_bool) {
                                Some(true) => "yes",
                                Some(false) => "no",
                                None => "–",
                            }
                            @if let Some(f) = tg.get("filter").and_then(Value::as_str) { " (filter " code { (f) } ")" }
                            @if tg.get("takes") == Some(&Value::Bool(false)) { " (does not take this type)" } }
                            td { code { (text(tg, "remoteId")) } }
                            td.num { (text(tg, "pushedVersion")) }
                            td { (when(time_of(tg, "pushedAt"))) }
                            td { @for p in tg.get("parked").and_then(Value::as_array).into_iter().flatten() {
                                div.error { "#" (num(p, "seq")) ": " (text(p, "reason")) } } }
                        }
                    }
                } }
            }
        }
        section.changes {
            h2 { "Recent changes" }
            @if changes.is_empty() { p.empty { "None." } } @else {
                table { thead { tr { th.num { "Seq" } th { "What" } th.num { "Version" } th { "When" } th { "By" } th { "Attributes" } } }
                tbody { @for c in &changes { tr {
                    td.num { (num(c, "seq")) } td { (text(c, "operation")) } td.num { (num(c, "version")) }
                    td { (when(time_of(c, "committedAt"))) } td { (text(c, "source")) " " (text(c, "client")) }
                    td { @for a in c.get("attributes").and_then(Value::as_array).into_iter().flatten() { code { (a.as_str().unwrap_or("")) } " " } }
                } } } }
            }
        }
        @if !is_group {
            section.hr {
                h2 { "HR events" }
                @if hr.is_empty() { p.empty { "None (not an HR-sourced person, or nothing received yet)." } } @else {
                    table { thead { tr { th { "Source" } th { "Kind" } th { "Status" } th { "Effective" } th { "Due" } th { "Received" } th { "Detail" } } }
                    tbody { @for e in &hr { tr {
                        td { (text(e, "source")) } td { (text(e, "kind")) }
                        td { span class={ "status " (text(e, "status")) } { (text(e, "status")) } }
                        td { (text(e, "effectiveAt")) } td { (text(e, "dueAt")) }
                        td { (when(time_of(e, "receivedAt"))) } td { (text(e, "detail")) }
                    } } } }
                }
            }
        }
        section.audit {
            h2 { "Audit trail" }
            (super::lists::audit_table(&audit))
        }
        section.stored {
            h2 { @if deleted { "As last stored, before it was deleted" } @else { "As stored" } }
            @if let Some(n) = found.get("memberCount").and_then(Value::as_i64) {
                p { (n) @if found.get("memberCountCapped") == Some(&Value::Bool(true)) { "+" } @if n == 1 { " member" } @else { " members" } " (not listed here)." }
            }
            pre #stored { (serde_json::to_string_pretty(&resource).unwrap_or_default()) }
        }
    };
    layout::page(&name, &signed, Some(&tenant), None, body).into_response()
}
