//! SCIM errors (RFC 7644 §3.12).
//!
//! Error policy: every failure this crate can report is a [`ScimError`] that
//! already carries the HTTP status, the `scimType` and a human-readable
//! `detail` meant for the client. Nothing here logs; the service boundary that
//! answers the request logs once. `detail` never contains internal state
//! beyond what the client sent.

use std::fmt;

use serde_json::{Value, json};

/// The URN of the SCIM error message schema.
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";

/// The `scimType` keywords of RFC 7644 Table 9, plus the cursor paging
/// keywords of RFC 9865 §2.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    InvalidFilter,
    TooMany,
    Uniqueness,
    Mutability,
    InvalidSyntax,
    InvalidPath,
    NoTarget,
    InvalidValue,
    InvalidVers,
    Sensitive,
    InvalidCursor,
    ExpiredCursor,
    InvalidCount,
}

impl ScimType {
    /// The keyword as it appears on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::TooMany => "tooMany",
            ScimType::Uniqueness => "uniqueness",
            ScimType::Mutability => "mutability",
            ScimType::InvalidSyntax => "invalidSyntax",
            ScimType::InvalidPath => "invalidPath",
            ScimType::NoTarget => "noTarget",
            ScimType::InvalidValue => "invalidValue",
            ScimType::InvalidVers => "invalidVers",
            ScimType::Sensitive => "sensitive",
            ScimType::InvalidCursor => "invalidCursor",
            ScimType::ExpiredCursor => "expiredCursor",
            ScimType::InvalidCount => "invalidCount",
        }
    }

    /// Parses a wire keyword (exact spelling).
    pub fn from_keyword(s: &str) -> Option<Self> {
        Some(match s {
            "invalidFilter" => ScimType::InvalidFilter,
            "tooMany" => ScimType::TooMany,
            "uniqueness" => ScimType::Uniqueness,
            "mutability" => ScimType::Mutability,
            "invalidSyntax" => ScimType::InvalidSyntax,
            "invalidPath" => ScimType::InvalidPath,
            "noTarget" => ScimType::NoTarget,
            "invalidValue" => ScimType::InvalidValue,
            "invalidVers" => ScimType::InvalidVers,
            "sensitive" => ScimType::Sensitive,
            "invalidCursor" => ScimType::InvalidCursor,
            "expiredCursor" => ScimType::ExpiredCursor,
            "invalidCount" => ScimType::InvalidCount,
            _ => return None,
        })
    }
}

impl fmt::Display for ScimType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A SCIM error: HTTP status, optional `scimType`, and detail for the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}{}: {detail}", scim_type.map(|t| format!(" {t}")).unwrap_or_default())]
pub struct ScimError {
    pub status: u16,
    pub scim_type: Option<ScimType>,
    pub detail: String,
}

impl ScimError {
    pub fn new(status: u16, scim_type: Option<ScimType>, detail: impl Into<String>) -> Self {
        ScimError {
            status,
            scim_type,
            detail: detail.into(),
        }
    }

    /// 400 with the given `scimType`.
    pub fn bad_request(scim_type: ScimType, detail: impl Into<String>) -> Self {
        Self::new(400, Some(scim_type), detail)
    }

    pub fn invalid_filter(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidFilter, detail)
    }

    pub fn invalid_syntax(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidSyntax, detail)
    }

    pub fn invalid_value(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidValue, detail)
    }

    pub fn invalid_path(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::InvalidPath, detail)
    }

    pub fn no_target(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::NoTarget, detail)
    }

    pub fn mutability(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::Mutability, detail)
    }

    pub fn too_many(detail: impl Into<String>) -> Self {
        Self::bad_request(ScimType::TooMany, detail)
    }

    /// 409 `uniqueness`.
    pub fn uniqueness(detail: impl Into<String>) -> Self {
        Self::new(409, Some(ScimType::Uniqueness), detail)
    }

    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(404, None, detail)
    }

    /// 412: the `If-Match` version does not match.
    pub fn precondition_failed(detail: impl Into<String>) -> Self {
        Self::new(412, None, detail)
    }

    /// 401, for a missing or rejected credential.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(401, None, detail)
    }

    /// 500; the detail must not reveal internals.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(500, None, detail)
    }

    /// Prefixes the detail with where the error occurred (an attribute path,
    /// a PATCH operation index …) to make it precise.
    pub fn at(mut self, location: impl fmt::Display) -> Self {
        self.detail = format!("{location}: {}", self.detail);
        self
    }

    /// The RFC 7644 §3.12 body: `status` is a string, `scimType` only when set.
    pub fn to_json(&self) -> Value {
        let mut body = json!({
            "schemas": [ERROR_SCHEMA],
            "status": self.status.to_string(),
            "detail": self.detail,
        });
        if let (Some(t), Some(obj)) = (self.scim_type, body.as_object_mut()) {
            obj.insert("scimType".into(), Value::String(t.as_str().into()));
        }
        body
    }

    /// Reads an error body as a SCIM peer sends it; `status` may be a string
    /// or (non-conforming but common) a number.
    pub fn from_json(body: &Value) -> Option<Self> {
        let status = match body.get("status")? {
            Value::String(s) => s.trim().parse().ok()?,
            Value::Number(n) => u16::try_from(n.as_u64()?).ok()?,
            _ => return None,
        };
        let scim_type = body
            .get("scimType")
            .and_then(Value::as_str)
            .and_then(ScimType::from_keyword);
        let detail = body
            .get("detail")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        Some(ScimError::new(status, scim_type, detail))
    }
}

/// Result alias for this crate.
pub type Result<T, E = ScimError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_follows_rfc7644_3_12() {
        let e = ScimError::uniqueness("userName \"bjensen\" is taken");
        assert_eq!(
            e.to_json(),
            json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                "status": "409",
                "scimType": "uniqueness",
                "detail": "userName \"bjensen\" is taken"
            })
        );
        let nf = ScimError::not_found("Resource 2819c223 not found").to_json();
        assert_eq!(nf["status"], "404");
        assert!(nf.get("scimType").is_none());
    }

    #[test]
    fn round_trips_through_json_and_accepts_numeric_status() {
        let e = ScimError::invalid_filter("bad").at("filter");
        assert_eq!(ScimError::from_json(&e.to_json()), Some(e.clone()));
        let peer = json!({"status": 400, "scimType": "invalidValue", "detail": "x"});
        let got = ScimError::from_json(&peer).unwrap();
        assert_eq!(got.status, 400);
        assert_eq!(got.scim_type, Some(ScimType::InvalidValue));
        assert_eq!(e.to_string(), "400 invalidFilter: filter: bad");
    }

    #[test]
    fn every_keyword_round_trips() {
        use ScimType::*;
        for t in [
            InvalidFilter,
            TooMany,
            Uniqueness,
            Mutability,
            InvalidSyntax,
            InvalidPath,
            NoTarget,
            InvalidValue,
            InvalidVers,
            Sensitive,
            InvalidCursor,
            ExpiredCursor,
            InvalidCount,
        ] {
            assert_eq!(ScimType::from_keyword(t.as_str()), Some(t));
        }
        assert_eq!(ScimType::from_keyword("InvalidFilter"), None);
    }
}
