//! One HR source as an operator writes it: a `[[tenants.hr_sources]]`
//! entry of the TOML file. How requests are authenticated, where the
//! events are in a body, the time zone of dates, and the CEL mapping of an
//! event to a SCIM user. `check_form` (in `check.rs`) checks it; secrets
//! are references (`env:NAME`, `file:/path`) that the caller resolves.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

/// A source as written (snake_case keys, unknown keys refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// `[a-z0-9_-]{1,64}`: the last segment of `POST /hr/v1/{tenant}/{source}`.
    pub name: String,
    pub auth: AuthSpec,
    /// The dotted path of the array of events in a body (`employees`);
    /// none: the body is one event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<String>,
    /// The IANA zone a date-only effective time is read in (00:00 there).
    #[serde(default = "defaults::time_zone")]
    pub time_zone: String,
    /// Days after a termination's effective time when the user is deleted;
    /// none: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delete_after_days: Option<u32>,
    pub mapping: MappingSpec,
}

/// How a source's requests prove where they come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "scheme", rename_all = "kebab-case", deny_unknown_fields)]
pub enum AuthSpec {
    /// HMAC-SHA256 of what `signed` says, in the header `header`.
    Hmac {
        header: String,
        #[serde(default)]
        encoding: Encoding,
        /// Stripped before decoding (`sha256=`); required when set.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        prefix: Option<String>,
        /// A header with the request's time in unix seconds; with it,
        /// requests beyond `tolerance_secs` of now are refused.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        timestamp_header: Option<String>,
        /// What is signed: a template over `{body}` (the raw body) and
        /// `{timestamp}` (the timestamp header as sent).
        #[serde(default = "defaults::signed")]
        signed: String,
        #[serde(default = "defaults::tolerance_secs")]
        tolerance_secs: u64,
        /// One or two references (two while a secret is rotated).
        secrets: Vec<String>,
    },
    /// Standard Webhooks (`webhook-id`, `webhook-timestamp`,
    /// `webhook-signature`), `whsec_` secrets.
    StandardWebhooks {
        #[serde(default = "defaults::tolerance_secs")]
        tolerance_secs: u64,
        secrets: Vec<String>,
    },
    /// No signature: the request carries a bearer token of the tenant (an
    /// API token or a JWT) with the scope `hr:<source>`, for integration
    /// platforms that call out with OAuth 2.0 tokens rather than sign.
    Bearer {},
}

/// How an HMAC signature is written in its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Encoding {
    #[default]
    Hex,
    Base64,
}

impl Encoding {
    pub fn as_str(self) -> &'static str {
        match self {
            Encoding::Hex => "hex",
            Encoding::Base64 => "base64",
        }
    }
}

/// The mapping of one event: every value is a CEL expression over `event`
/// (the event) and `body` (the whole request body). See the crate docs for
/// what a missing key and `null` mean.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingSpec {
    /// The HR employee id (string or int): the user's `externalId`.
    pub employee_id: String,
    /// `"hire"`, `"update"`, `"terminate"` or `"rehire"`.
    pub kind: String,
    /// `"YYYY-MM-DD"`, an RFC 3339 date-time, or null (on receipt).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub effective: Option<String>,
    /// None: `sha256:` of the event's canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<String>,
    /// None: the primary, else work, else first email of the mapped user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_name: Option<String>,
    /// The manager's HR employee id, or null (the event clears it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manager: Option<String>,
    /// SCIM attribute path -> CEL, as `set` of an outbound mapping.
    #[serde(default)]
    pub set: BTreeMap<String, String>,
}

/// A field that is wrong: `field` is its path in the source
/// (`mapping.set.title`, `auth.secrets[1]`), `detail` says what is wrong
/// in words an operator understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct SpecError {
    pub field: String,
    pub detail: String,
}

impl SpecError {
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> SpecError {
        SpecError {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// The defaults serde fills in.
pub(crate) mod defaults {
    pub fn time_zone() -> String {
        "UTC".into()
    }
    pub fn signed() -> String {
        "{body}".into()
    }
    pub fn tolerance_secs() -> u64 {
        300
    }
}

impl AuthSpec {
    /// The secret references, newest first.
    pub fn secrets(&self) -> &[String] {
        match self {
            AuthSpec::Hmac { secrets, .. } | AuthSpec::StandardWebhooks { secrets, .. } => secrets,
            AuthSpec::Bearer {} => &[],
        }
    }

    pub fn scheme(&self) -> &'static str {
        match self {
            AuthSpec::Hmac { .. } => "hmac",
            AuthSpec::StandardWebhooks { .. } => "standard-webhooks",
            AuthSpec::Bearer {} => "bearer",
        }
    }

    /// How far a signed timestamp may be from now (none without one).
    pub fn tolerance_secs(&self) -> Option<u64> {
        match self {
            AuthSpec::Hmac { tolerance_secs, .. }
            | AuthSpec::StandardWebhooks { tolerance_secs, .. } => Some(*tolerance_secs),
            AuthSpec::Bearer {} => None,
        }
    }
}

impl SourceSpec {
    /// As the operator API shows it: camelCase JSON with the defaults
    /// filled in. Secrets are never shown, not even their references (a
    /// `file:` path says where a secret lies), only how many there are
    /// (`auth.secretCount`), so an operator can see a rotation in progress.
    pub fn shown(&self) -> Value {
        let auth = match &self.auth {
            AuthSpec::Hmac {
                header,
                encoding,
                prefix,
                timestamp_header,
                signed,
                tolerance_secs,
                secrets,
            } => json!({
                "scheme": self.auth.scheme(),
                "header": header,
                "encoding": encoding.as_str(),
                "prefix": prefix,
                "timestampHeader": timestamp_header,
                "signed": signed,
                // Without a timestamp nothing is checked against the clock.
                "toleranceSecs": timestamp_header.as_ref().map(|_| tolerance_secs),
                "secretCount": secrets.len(),
            }),
            AuthSpec::StandardWebhooks {
                tolerance_secs,
                secrets,
            } => json!({
                "scheme": self.auth.scheme(),
                "toleranceSecs": tolerance_secs,
                "secretCount": secrets.len(),
            }),
            AuthSpec::Bearer {} => json!({
                "scheme": self.auth.scheme(),
                "scope": format!("hr:{}", self.name),
            }),
        };
        let m = &self.mapping;
        let set: Map<String, Value> = m
            .set
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        json!({
            "name": self.name,
            "auth": auth,
            "events": self.events,
            "timeZone": self.time_zone,
            "deleteAfterDays": self.delete_after_days,
            "mapping": {
                "employeeId": m.employee_id,
                "kind": m.kind,
                "effective": m.effective,
                "eventId": m.event_id,
                "userName": m.user_name,
                "manager": m.manager,
                "set": set,
            },
        })
    }
}
