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
    /// `Retry-After` seconds, for 503s.
    pub retry_after: Option<u32>,
}

impl From<ScimError> for ApiError {
    fn from(error: ScimError) -> Self {
        ApiError {
            error,
            retry_after: None,
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
        }
    }

    pub fn status(status: u16, detail: impl Into<String>) -> ApiError {
        ScimError::new(status, None, detail).into()
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
        let h = res.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(SCIM_JSON));
        if let Some(s) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(s));
        }
        if status == StatusCode::UNAUTHORIZED {
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
