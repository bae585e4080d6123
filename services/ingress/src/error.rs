//! Every error the ingress answers is a SCIM error body (RFC 7644 §3.12):
//! `schemas`, `status` (a string), `scimType` where one applies, `detail`.
//!
//! Error policy: client errors carry a precise detail; internal errors
//! (Postgres, NATS) are logged here, once, and the client gets an opaque
//! 500 or 503.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use scimbus_scim::ScimError;

/// `application/scim+json`, the media type of every SCIM body.
pub const SCIM_JSON: &str = "application/scim+json";

/// An error answered to a client.
#[derive(Debug)]
pub struct ApiError {
    pub error: ScimError,
    /// `Retry-After` seconds, for 503s and 429s.
    pub retry_after: Option<u32>,
    /// The `WWW-Authenticate` of a 401 or 403 (RFC 6750 §3), when it says
    /// more than `Bearer realm="scimbus"`.
    pub challenge: Option<String>,
    /// The store answered it, and so recorded it in the audit trail: the
    /// ingress does not record it again (`crate::audit`).
    pub recorded: bool,
}

impl From<ScimError> for ApiError {
    fn from(error: ScimError) -> Self {
        ApiError {
            error,
            retry_after: None,
            challenge: None,
            recorded: false,
        }
    }
}

impl ApiError {
    /// A failure of ours: logged once here, opaque to the client.
    pub fn internal(what: &str, e: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %e, "{what}");
        ScimError::internal("internal error").into()
    }

    /// The store did not answer in time, or the bus is unreachable.
    pub fn unavailable(detail: &str, retry_after: u32) -> ApiError {
        ApiError {
            error: ScimError::new(503, None, detail),
            retry_after: Some(retry_after),
            challenge: None,
            recorded: false,
        }
    }

    /// 403: the token is good but lacks `scope` (a scope name, or several
    /// alternatives joined by " or ").
    pub fn insufficient_scope(scope: &str) -> ApiError {
        ApiError {
            error: ScimError::new(403, None, format!("the token lacks the scope {scope}")),
            retry_after: None,
            challenge: Some(format!(
                "Bearer realm=\"scimbus\", error=\"insufficient_scope\", scope=\"{}\"",
                scope.split(" or ").collect::<Vec<_>>().join(" ")
            )),
            recorded: false,
        }
    }

    /// 401 for a JWT that does not hold: why, in the detail and in
    /// `WWW-Authenticate` (RFC 6750 §3.1 `invalid_token`).
    pub fn invalid_token(why: &str) -> ApiError {
        let description: String = why
            .chars()
            .map(|c| {
                if c == '"' || c == '\\' || c.is_control() {
                    '\''
                } else {
                    c
                }
            })
            .collect();
        ApiError {
            error: ScimError::unauthorized(format!("the bearer token is not valid: {why}")),
            retry_after: None,
            challenge: Some(format!(
                "Bearer realm=\"scimbus\", error=\"invalid_token\", error_description=\"{description}\""
            )),
            recorded: false,
        }
    }

    /// 429: the tenant or the token is over its request rate.
    pub fn rate_limited(retry_after: u32) -> ApiError {
        ApiError {
            error: ScimError::new(
                429,
                None,
                "too many requests for this tenant or token; try again after Retry-After seconds",
            ),
            retry_after: Some(retry_after),
            challenge: None,
            recorded: false,
        }
    }

    /// 429: too many failed authentications from this address.
    pub fn too_many_failures(retry_after: u32) -> ApiError {
        ApiError {
            error: ScimError::new(
                429,
                None,
                "too many requests with a missing or bad token from this address; try again later",
            ),
            retry_after: Some(retry_after),
            challenge: None,
            recorded: false,
        }
    }

    pub fn status(status: u16, detail: impl Into<String>) -> ApiError {
        ScimError::new(status, None, detail).into()
    }

    /// The store's refusal of a command, which it recorded itself.
    pub fn recorded_by_store(mut self) -> ApiError {
        self.recorded = true;
        self
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> Self {
        ApiError::internal("reading from Postgres failed", &e)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.error.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = self.error.to_json().to_string();
        let mut res = (status, body).into_response();
        res.extensions_mut().insert(crate::audit::Refusal {
            scim_type: self.error.scim_type.map(|t| t.as_str().to_string()),
            recorded: self.recorded,
        });
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if let Some(v) = self
            .challenge
            .as_deref()
            .and_then(|c| HeaderValue::from_str(c).ok())
        {
            h.insert(header::WWW_AUTHENTICATE, v);
        } else if status == StatusCode::UNAUTHORIZED {
            h.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"scimbus\""),
            );
        }
        res
    }
}

/// The result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
