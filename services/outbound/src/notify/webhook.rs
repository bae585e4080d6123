//! Webhooks: one POST per event, signed per Standard Webhooks
//! (`webhook-id`, `webhook-timestamp`, `webhook-signature`), with a timeout;
//! TLS verified. Only the answer's status counts; at most the first
//! [`KEPT`] bytes of its body are read, to show with a parked event.

use scimbus_runtime::telemetry;
use std::time::Duration;
use tracing::Instrument;

use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use scimbus_notify::{SECEVENT_JWT, WebhookSecret, webhook_signature};

use super::deliver::Failure;
use super::render::Rendered;

/// How much of a receiver's answer is kept (never logged beyond it).
const KEPT: usize = 256;
/// The longest `Retry-After` honoured.
const LONGEST_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// A subscription's receiver: its own connection pool, so that a slow one
/// holds up nobody else.
#[derive(Debug)]
pub(crate) struct Webhook {
    http: reqwest::Client,
    url: String,
}

impl Webhook {
    pub(crate) fn new(url: &str, timeout: Duration) -> Result<Webhook, reqwest::Error> {
        // An error means a provider is installed already: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("scimbus/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Webhook {
            http,
            url: url.to_string(),
        })
    }

    /// Posts one event.
    pub(crate) async fn post(
        &self,
        event: &Rendered,
        secrets: &[WebhookSecret],
    ) -> Result<(), Failure> {
        let timestamp = chrono::Utc::now().timestamp();
        let signature = webhook_signature(secrets, &event.id, timestamp, &event.body);
        let mut req = self
            .http
            .post(&self.url)
            .header(CONTENT_TYPE, event.content_type)
            .header("webhook-id", &event.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(event.body.clone());
        if event.content_type == SECEVENT_JWT {
            // RFC 8935 §2: the receiver answers 202, or 400 with a JSON error.
            req = req.header(ACCEPT, "application/json");
        }
        let (span, trace) = telemetry::http::client("POST", &self.url);
        let req = telemetry::http::with_trace(req, &trace);
        let mut res = req.send().instrument(span.clone()).await.map_err(|e| {
            telemetry::http::answered(&span, None);
            Failure::Transient {
                detail: transport(&e),
                retry_after: None,
                response: None,
            }
        })?;
        let status = res.status();
        telemetry::http::answered(&span, Some(status.as_u16()));
        if status.is_success() {
            return Ok(());
        }
        let retry_after = res
            .headers()
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after)
            .map(|d| d.min(LONGEST_RETRY_AFTER));
        let response = Some(format!("{} {}", status.as_u16(), prefix(&mut res).await));
        let detail = format!("the receiver answered {status}");
        Err(match status {
            StatusCode::GONE => Failure::Gone {
                detail: "the receiver answered 410 Gone".into(),
            },
            s if s.is_server_error()
                || s == StatusCode::REQUEST_TIMEOUT
                || s == StatusCode::TOO_EARLY
                || s == StatusCode::TOO_MANY_REQUESTS =>
            {
                Failure::Transient {
                    detail,
                    retry_after,
                    response,
                }
            }
            _ => Failure::Permanent { detail, response },
        })
    }
}

/// The first [`KEPT`] bytes of an answer's body, as text.
async fn prefix(res: &mut reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < KEPT {
        match res.chunk().await {
            Ok(Some(c)) => kept.extend_from_slice(&c[..c.len().min(KEPT - kept.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&kept).into_owned()
}

/// Why no answer came (never the URL's query, which may carry a token).
fn transport(e: &reqwest::Error) -> String {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    let mut detail = format!("the request {what}");
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        detail = format!("{detail}: {s}");
        source = s.source();
    }
    detail
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(v: &str) -> Option<Duration> {
    if let Ok(secs) = v.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v.trim()).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past: at once"
        );
        assert_eq!(retry_after("soon"), None);
    }
}
