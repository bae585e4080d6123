//! Small pieces the console's pages share: reading the operator API's JSON,
//! a target's or subscription's health at a glance, times and badges.

use chrono::{DateTime, Utc};
use maud::{Markup, html};
use serde_json::Value;

/// A field as text ("–" when absent or null).
pub(crate) fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        None | Some(Value::Null) => "–".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// A field as a number (0 when absent).
pub(crate) fn num(v: &Value, key: &str) -> i64 {
    v.get(key).and_then(Value::as_i64).unwrap_or(0)
}

/// A field as a time, if it is one.
pub(crate) fn time_of(v: &Value, key: &str) -> Option<DateTime<Utc>> {
    v.get(key)
        .and_then(Value::as_str)
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// A time as operators read it, with how long ago.
pub(crate) fn when(t: Option<DateTime<Utc>>) -> Markup {
    match t {
        None => html! { "–" },
        Some(t) => {
            let ago = Utc::now().signed_duration_since(t).num_seconds().max(0);
            let rel = match ago {
                0..60 => format!("{ago} s ago"),
                60..3600 => format!("{} min ago", ago / 60),
                3600..86_400 => format!("{} h ago", ago / 3600),
                _ => format!("{} d ago", ago / 86_400),
            };
            html! { time datetime=(t.to_rfc3339()) title=(t.format("%Y-%m-%d %H:%M:%S UTC")) { (rel) } }
        }
    }
}

/// How a target or subscription is doing, in one word, most pressing
/// first: paused, disabled, circuit open, parked changes, failing (its
/// last attempt failed after its last success), lagging, in step — or not
/// started.
pub(crate) fn health(status: &Value, success_key: &str) -> &'static str {
    let state = status.get("state").and_then(Value::as_str).unwrap_or("");
    if state == "not started" {
        return "not started";
    }
    if state == "paused" || state == "pausing" {
        return "paused";
    }
    if state == "disabled" {
        return "disabled";
    }
    if status.get("circuit").and_then(Value::as_str) == Some("open") {
        return "circuit open";
    }
    if num(status, "parked") > 0 {
        return "parked changes";
    }
    let error = time_of(status, "lastErrorAt");
    let success = time_of(status, success_key);
    if error.is_some_and(|e| success.is_none_or(|s| e > s)) {
        return "failing";
    }
    if num(status, "lag") > 0 {
        return "lagging";
    }
    "in step"
}

/// A health word as a coloured badge.
pub(crate) fn badge(health: &str) -> Markup {
    let class = match health {
        "in step" | "not held" => "ok",
        "lagging" | "not started" | "paused" => "warn",
        _ => "bad",
    };
    html! { span class={ "badge " (class) } data-health=(health) { (health) } }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn the_most_pressing_state_wins() {
        let h = |v: Value| health(&v, "lastPushedAt");
        assert_eq!(h(json!({"state": "running", "lag": 0})), "in step");
        assert_eq!(h(json!({"state": "running", "lag": 3})), "lagging");
        let failing = json!({"state": "running", "lastErrorAt": "2026-12-06T10:00:05Z",
                             "lastPushedAt": "2026-12-06T10:00:00Z"});
        assert_eq!(h(failing.clone()), "failing");
        let recovered = json!({"state": "running", "lastErrorAt": "2026-12-06T10:00:05Z",
                               "lastPushedAt": "2026-12-06T10:00:06Z"});
        assert_eq!(h(recovered), "in step");
        let mut parked = failing.clone();
        parked["parked"] = json!(2);
        assert_eq!(h(parked.clone()), "parked changes");
        parked["circuit"] = json!("open");
        assert_eq!(h(parked.clone()), "circuit open");
        parked["state"] = json!("paused");
        assert_eq!(h(parked), "paused");
        assert_eq!(h(json!({"state": "not started"})), "not started");
    }
}
