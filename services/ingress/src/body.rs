//! Request bodies: `application/scim+json` or `application/json`, at most
//! the configured size, valid JSON — otherwise a SCIM error with the right
//! status (415, 413, 400 invalidSyntax) — read once, strictly
//! ([`scimbus_scim::input::parse`]: no member name twice, no text or
//! integer the store cannot keep), so that nothing malformed goes further.

use axum::body::Body;
use axum::extract::{FromRef, FromRequest, Request};
use axum::http::header;
use http_body_util::BodyExt;
use scimbus_scim::ScimError;
use serde_json::Value;

use crate::error::ApiError;
use crate::state::AppState;

/// A JSON request body, parsed and as sent.
#[derive(Debug)]
pub struct ScimBody {
    pub value: Value,
    pub raw: bytes::Bytes,
}

impl<S> FromRequest<S> for ScimBody
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let limit = AppState::from_ref(state).limits.max_payload;
        let bytes = read(req, limit).await?;
        let value = scimbus_scim::input::parse(&bytes)?;
        Ok(ScimBody { value, raw: bytes })
    }
}

/// Checks the media type and reads the body up to `limit` bytes.
pub async fn read(req: Request, limit: usize) -> Result<bytes::Bytes, ApiError> {
    let ct = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/scim+json" && essence != "application/json" {
        return Err(ApiError::status(
            415,
            format!("Content-Type must be application/scim+json or application/json, not \"{ct}\""),
        ));
    }
    if let Some(len) = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        && len > limit
    {
        return Err(too_large(limit));
    }
    let body: Body = req.into_body();
    let limited = http_body_util::Limited::new(body, limit);
    match limited.collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(e) => Err(ScimError::invalid_syntax(format!("reading the body failed: {e}")).into()),
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::status(413, format!("the body is larger than {limit} bytes"))
}
