//! What a target answered: one request and its answer, and the sorting of
//! failures into transient (retried) and permanent (parked).

use std::time::Duration;

use reqwest::StatusCode;
use serde_json::Value;

/// One request and what came back, for parked changes and logs (secrets
/// are never in it: headers are not recorded).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exchange {
    /// `METHOD URL` and the body sent, if any.
    pub request: String,
    /// `STATUS` and the body received, if an answer came.
    pub response: Option<String>,
}

/// Why a request did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PushError {
    /// Worth retrying: a timeout, a refused or dropped connection, 408,
    /// 429, 5xx. `retry_after` is the target's `Retry-After`, if it sent one.
    #[error("{reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
        exchange: Box<Exchange>,
    },
    /// Retrying cannot help: any other 4xx, an answer we cannot use, a
    /// configuration that cannot work.
    #[error("{reason}")]
    Permanent {
        reason: String,
        exchange: Box<Exchange>,
    },
}

impl PushError {
    pub fn permanent(reason: impl Into<String>, exchange: Exchange) -> Self {
        PushError::Permanent {
            reason: reason.into(),
            exchange: Box::new(exchange),
        }
    }

    pub fn exchange(&self) -> &Exchange {
        match self {
            PushError::Transient { exchange, .. } | PushError::Permanent { exchange, .. } => {
                exchange
            }
        }
    }

    pub fn is_transient(&self) -> bool {
        matches!(self, PushError::Transient { .. })
    }

    /// When the target said to try again (its `Retry-After`), if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PushError::Transient { retry_after, .. } => *retry_after,
            PushError::Permanent { .. } => None,
        }
    }
}

/// An answer from the target.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: StatusCode,
    /// The JSON body, or `Null` when there was none or it was not JSON.
    pub body: Value,
    pub exchange: Exchange,
}

impl Answer {
    pub fn ok(&self) -> bool {
        self.status.is_success()
    }

    /// The answer as an error: transient for 408, 429 and 5xx, permanent
    /// for the rest.
    pub fn into_error(self, what: &str, retry_after: Option<Duration>) -> PushError {
        let s = self.status.as_u16();
        let detail = self
            .body
            .get("detail")
            .and_then(Value::as_str)
            .map(|d| format!(": {d}"))
            .unwrap_or_default();
        let reason = format!("{what}: the target answered {s}{detail}");
        if s == 408 || s == 429 || self.status.is_server_error() {
            PushError::Transient {
                reason,
                retry_after,
                exchange: Box::new(self.exchange),
            }
        } else {
            PushError::Permanent {
                reason,
                exchange: Box::new(self.exchange),
            }
        }
    }
}
