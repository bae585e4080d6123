//! What the pages of a target and of a subscription share: fetching the
//! thing, its parked list and its last hour in one go, the charts, the
//! pause/resume button, the action forms and the settings list.

use maud::{Markup, html};
use serde_json::Value;

use super::api::{Console, enc};
use super::chart::{self, Minute};
use super::view::num;
use super::{Signed, layout};

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

/// A target or subscription as the operator API gives it: itself, the
/// oldest of its parked list, and its last hour minute by minute (up to now;
/// `done` names its count of changes got through).
pub(crate) struct Fetched {
    pub main: Value,
    pub parked: Vec<Value>,
    pub minutes: Vec<Minute>,
}

/// Fetches `/tenants/{tenant}/{kind}/{name}` with its parked list and
/// history at once; what the API refused is the page.
pub(crate) async fn fetch(
    console: &Console,
    signed: &Signed,
    kind: &str,
    (tenant, name): (&str, &str),
    status_of: fn(&Value) -> Value,
    done: &str,
) -> Result<Fetched, axum::response::Response> {
    let base = format!("/tenants/{}/{kind}/{}", enc(tenant), enc(name));
    let (main, parked, history) = tokio::join!(
        console.get(signed, &base),
        console.get(signed, format!("{base}/parked?count={PARKED_SHOWN}")),
        console.get(signed, format!("{base}/history?minutes=60")),
    );
    let (main, parked, history) = match (main, parked, history) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Err(layout::refused(&e)),
    };
    let minutes = chart::per_minute(&history, chart::now(&status_of(&main), done));
    let parked = parked
        .get("parked")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Ok(Fetched {
        main,
        parked,
        minutes,
    })
}

/// The "Last hour" section: what got through, was skipped or failed each
/// minute (`done` says what getting through is), and the lag.
pub(crate) fn last_hour(minutes: &[Minute], done: &str) -> Markup {
    let lags: Vec<i64> = minutes.iter().map(|m| m.lag).collect();
    html! {
        section.charts {
            h2 { "Last hour" }
            figure { (chart::outcomes(&format!("{done} per minute"), minutes)) figcaption {
                "Per minute: " span.key.pushed { (done) } " " span.key.skipped { "skipped" } " " span.key.failed { "failed" }
            } }
            figure { (chart::line("lag", &lags)) figcaption { "Lag (changes not yet handled)" } }
        }
    }
}

/// Posts `body` to the operator API's `/tenants/{tenant}/{kind}/{name}/{path}`
/// as the operator, then back to the page saying `done`; what the API
/// refused is the page.
pub(crate) async fn perform(
    console: &Console,
    signed: &Signed,
    (kind, tenant, name): (&str, &str, &str),
    path: &str,
    body: &Value,
    done: &str,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let base = format!("/tenants/{}/{kind}/{}", enc(tenant), enc(name));
    let to = format!("{base}/{path}");
    match console
        .api(signed, axum::http::Method::POST, &to, Some(body))
        .await
    {
        Ok(_) => axum::response::Redirect::to(&format!("/admin{base}?done={done}")).into_response(),
        Err(e) => layout::refused(&e),
    }
}

/// A refusal of the console's own (an action it does not have, a field
/// that does not read).
pub(crate) fn refusal(status: u16, detail: impl Into<String>) -> axum::response::Response {
    layout::refused(&super::api::Refused {
        status,
        detail: detail.into(),
    })
}

/// Pause, or resume when it is paused (or pausing).
pub(crate) fn pause_or_resume(
    signed: &Signed,
    state: &str,
    action: &dyn Fn(&str) -> String,
) -> Markup {
    if state == "paused" || state == "pausing" {
        button(signed, &action("resume"), "Resume", &[])
    } else {
        button(signed, &action("pause"), "Pause", &[])
    }
}

/// Said when more are parked than the page lists.
pub(crate) fn more_parked(status: &Value, listed: usize) -> Markup {
    let parked = num(status, "parked");
    html! {
        @if usize::try_from(parked).unwrap_or(0) > listed {
            p.more { "The oldest " (listed) " of " (parked) " are listed; “Replay all parked” replays every one." }
        }
    }
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
