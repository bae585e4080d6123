//! A webhook subscriber for the outbound bench's notification latency: takes
//! the CloudEvents scimbus POSTs and records, for each
//! `dev.scimbus.user.created`, when it arrived (unix µs, the clock of
//! [`now_micros`]) and the commit time the event carries (`time`), by the
//! created user's `userName`. `--fail` answers 500 to every POST: the
//! subscriber that never recovers, which must not hold up the others.
//!
//! It does not verify signatures (the bench measures scimbus, not HMAC): it
//! only counts requests lacking one of the three `webhook-*` headers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::json;

use crate::target::now_micros;

/// The created-user event type, the only one counted.
pub const USER_CREATED: &str = "dev.scimbus.user.created";

#[derive(Default)]
struct Received {
    /// userName → first arrival (unix µs)
    arrivals: HashMap<String, u64>,
    /// userName → the event's `time` (unix µs), when it parsed
    commits: HashMap<String, u64>,
    /// every POST, answered or failed
    requests: u64,
    /// POSTs without one of `webhook-id`, `webhook-timestamp`, `webhook-signature`
    unsigned: u64,
    /// created events for a userName already received (redeliveries)
    duplicates: u64,
    /// bodies that are not a CloudEvent with a `type`
    malformed: u64,
}

struct Shared {
    fail: bool,
    received: Mutex<Received>,
}

/// Just what is read of an event; the rest is skipped unparsed.
#[derive(Deserialize)]
struct Event<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    #[serde(default, borrow)]
    time: Option<&'a str>,
    #[serde(default, borrow)]
    data: Option<Data<'a>>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(default, borrow)]
    resource: Option<Resource<'a>>,
}

#[derive(Deserialize)]
struct Resource<'a> {
    #[serde(rename = "userName", borrow)]
    user_name: Option<std::borrow::Cow<'a, str>>,
}

/// The router: POST anywhere takes an event; `GET /_arrivals`,
/// `/_commits` (userName → unix µs), `/_count` and `/_stats` report.
pub fn app(fail: bool) -> Router {
    let shared = Arc::new(Shared {
        fail,
        received: Mutex::new(Received::default()),
    });
    Router::new()
        .route("/_arrivals", get(arrivals))
        .route("/_commits", get(commits))
        .route("/_count", get(count))
        .route("/_stats", get(stats))
        .fallback(receive)
        .with_state(shared)
}

/// Serves one receiver on `addr` until the process ends.
pub async fn serve(addr: SocketAddr, fail: bool) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(addr).await?;
    axum::serve(listener, app(fail)).await?;
    Ok(())
}

/// RFC 3339 to unix µs.
fn micros(rfc3339: &str) -> Option<u64> {
    chrono::DateTime::parse_from_rfc3339(rfc3339)
        .ok()
        .and_then(|t| u64::try_from(t.timestamp_micros()).ok())
}

async fn receive(State(s): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let at = now_micros();
    let signed = ["webhook-id", "webhook-timestamp", "webhook-signature"]
        .iter()
        .all(|h| headers.contains_key(*h));
    let event = serde_json::from_slice::<Event<'_>>(&body).ok();
    let mut r = s.received.lock().unwrap_or_else(PoisonError::into_inner);
    r.requests += 1;
    if !signed {
        r.unsigned += 1;
    }
    if s.fail {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let Some(event) = event else {
        r.malformed += 1;
        return StatusCode::NO_CONTENT.into_response();
    };
    if event.kind != USER_CREATED {
        return StatusCode::NO_CONTENT.into_response();
    }
    let Some(user) = event
        .data
        .and_then(|d| d.resource)
        .and_then(|r| r.user_name)
    else {
        r.malformed += 1;
        return StatusCode::NO_CONTENT.into_response();
    };
    if r.arrivals.contains_key(user.as_ref()) {
        r.duplicates += 1;
    } else {
        r.arrivals.insert(user.to_string(), at);
        if let Some(t) = event.time.and_then(micros) {
            r.commits.insert(user.into_owned(), t);
        }
    }
    StatusCode::NO_CONTENT.into_response()
}

fn report(s: &Shared, f: impl FnOnce(&Received) -> serde_json::Value) -> Response {
    let r = s.received.lock().unwrap_or_else(PoisonError::into_inner);
    ([("content-type", "application/json")], f(&r).to_string()).into_response()
}

async fn arrivals(State(s): State<Arc<Shared>>) -> Response {
    report(&s, |r| json!(r.arrivals))
}

async fn commits(State(s): State<Arc<Shared>>) -> Response {
    report(&s, |r| json!(r.commits))
}

/// How many users arrived (cheap to poll).
async fn count(State(s): State<Arc<Shared>>) -> Response {
    report(&s, |r| json!(r.arrivals.len()))
}

async fn stats(State(s): State<Arc<Shared>>) -> Response {
    report(&s, |r| {
        json!({
            "fail": s.fail,
            "requests": r.requests,
            "unsigned": r.unsigned,
            "duplicates": r.duplicates,
            "malformed": r.malformed,
            "users": r.arrivals.len(),
        })
    })
}
