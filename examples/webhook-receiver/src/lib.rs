//! An application receiving scimbus change notifications by webhook.
//!
//! scimbus POSTs one event per request, signed per Standard Webhooks
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`). This receiver
//! checks the signature with the `standardwebhooks` crate — an
//! implementation independent of scimbus's own signer — and refuses (401)
//! a request whose signature does not match the body, or whose timestamp
//! is more than five minutes off (a replayed capture). It then prints each
//! event once: scimbus redelivers an event whose answer it did not get,
//! with the same `webhook-id`, so ids already seen are answered 204 and not
//! printed again.
//!
//! Bodies: a CloudEvent (`application/cloudevents+json`, the default
//! format) prints `<time> <type> <subject> seq=<sequence>`; a Security
//! Event Token (`application/secevent+jwt`, format `scim-set`) prints its
//! `jti` and event URIs, without checking the token's own signature (see
//! [`line::set_line`]).

pub mod line;
pub mod seen;

use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use standardwebhooks::Webhook;

use crate::seen::Seen;

/// How many webhook ids are remembered for deduplication.
pub const SEEN_CAPACITY: usize = 100_000;

/// Where the event lines go: stdout in the binary, a list in the tests.
pub type Printer = Arc<dyn Fn(&str) + Send + Sync>;

/// A secret that is not `whsec_<base64>`.
#[derive(Debug, thiserror::Error)]
#[error("the webhook secret is not whsec_<base64>: {0}")]
pub struct SecretError(String);

/// The receiver's state: the verifier, the ids seen, the printer.
pub struct Receiver {
    webhook: Webhook,
    seen: Mutex<Seen>,
    print: Printer,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secret.
        f.debug_struct("Receiver").finish_non_exhaustive()
    }
}

impl Receiver {
    /// `secret`: `whsec_` and the standard base64 of the key scimbus signs with.
    pub fn new(secret: &str, print: Printer) -> Result<Self, SecretError> {
        let webhook = Webhook::new(secret.trim()).map_err(|e| SecretError(e.to_string()))?;
        Ok(Receiver {
            webhook,
            seen: Mutex::new(Seen::new(SEEN_CAPACITY)),
            print,
        })
    }
}

/// POST to any path: the webhook URL given to scimbus can be any path of
/// this server.
pub fn app(receiver: Arc<Receiver>) -> Router {
    Router::new()
        .route("/", post(receive))
        .route("/{*path}", post(receive))
        .with_state(receiver)
}

async fn receive(State(r): State<Arc<Receiver>>, headers: HeaderMap, body: Bytes) -> Response {
    // First the signature: nothing unverified reaches the dedup set or the
    // printer.
    if let Err(e) = r.webhook.verify(&body, &headers) {
        eprintln!("refused a request: {e}");
        return (StatusCode::UNAUTHORIZED, e.to_string()).into_response();
    }
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let is_set = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/secevent+jwt"));
    let line = if is_set {
        line::set_line(&body)
    } else {
        line::cloudevent_line(&body)
    };
    let line = match line {
        Ok(l) => l,
        Err(e) => {
            eprintln!("refused event {id}: {e}");
            return (StatusCode::BAD_REQUEST, e.to_string()).into_response();
        }
    };
    let first = r
        .seen
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .insert(&id);
    if first {
        (r.print)(&line);
    }
    StatusCode::NO_CONTENT.into_response()
}
