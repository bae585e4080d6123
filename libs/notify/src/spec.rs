//! One subscription as an operator writes it: a `[[tenants.subscriptions]]`
//! entry of the TOML file, or the JSON body of `PUT
//! /admin/v1/tenants/{t}/subscriptions/{name}`. Everything is optional but
//! the delivery; `check` (in `check.rs`) fills the defaults in.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

pub use crate::delivery::{DeliverySpec, Secrets};
use crate::kind::EventKind;

/// A subscription as written (snake_case keys, unknown keys refused).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSpec {
    /// Required in TOML; in the API the path names it (and a body that
    /// repeats it must agree).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub delivery: DeliverySpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub format: Option<Format>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_types: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<EventKind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing: Option<Signing>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// How an event is written: CloudEvents 1.0 JSON, or a SCIM Security Event
/// Token (RFC 9967).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Cloudevents,
    ScimSet,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Cloudevents => "cloudevents",
            Format::ScimSet => "scim-set",
        }
    }
}

/// What signs a SET: the subscription's first secret (HS256) or the
/// configured RS256/ES256 key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Signing {
    Secret,
    Key,
}

impl Signing {
    pub fn as_str(self) -> &'static str {
        match self {
            Signing::Secret => "secret",
            Signing::Key => "key",
        }
    }
}

/// A field that is wrong: `field` is the JSON/TOML path ("delivery.url",
/// "events[2]", "filter"), `detail` says what is wrong in words an operator
/// understands.
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

/// The defaults `check` fills in, shared with [`SubscriptionSpec::shown`].
pub(crate) mod defaults {
    pub const TIMEOUT_SECS: u64 = 10;
    pub const MAX_ATTEMPTS: u32 = 15;
    pub const CONCURRENCY: u32 = 8;
    pub const RESOURCE_TYPES: [&str; 2] = ["User", "Group"];
}

impl SubscriptionSpec {
    /// From a JSON body. A type error names its field by path
    /// (`delivery.url`, `events[2]`), and so does an unknown key
    /// (`delivery.color`), which serde alone reports without the key's
    /// place.
    pub fn from_json(body: &[u8]) -> Result<SubscriptionSpec, SpecError> {
        let mut de = serde_json::Deserializer::from_slice(body);
        let spec: SubscriptionSpec = serde_path_to_error::deserialize(&mut de).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner();
            let detail = inner.to_string();
            let at = if path == "." || path == "?" {
                String::new()
            } else {
                path
            };
            // The path reaches an unknown key itself where serde read it as
            // a field, and stops at its object where the key was refused
            // after the object was read (nats with a secret) or is missing.
            let field = match unknown_field(&detail) {
                Some(key) if at == key || at.ends_with(&format!(".{key}")) => at,
                Some(key) if at.is_empty() => key.to_string(),
                Some(key) => format!("{at}.{key}"),
                None if at.is_empty() => "body".to_string(),
                None => at,
            };
            SpecError::new(field, detail_of(&detail))
        })?;
        de.end().map_err(|e| {
            SpecError::new("body", format!("trailing data after the JSON object: {e}"))
        })?;
        Ok(spec)
    }

    /// The secret values or references, newest first (none for nats).
    pub fn secrets(&self) -> Vec<String> {
        match &self.delivery {
            DeliverySpec::Webhook { secret, .. } | DeliverySpec::Poll { secret } => match secret {
                None => Vec::new(),
                Some(Secrets::One(s)) => vec![s.clone()],
                Some(Secrets::Many(v)) => v.clone(),
            },
            DeliverySpec::Nats {} => Vec::new(),
        }
    }

    /// The same spec with every secret removed: what is stored beside the
    /// secrets (which are kept apart), and the basis of what is shown.
    pub fn without_secrets(&self) -> SubscriptionSpec {
        self.clone().with_secrets(Vec::new())
    }

    /// Puts secrets back into a stored spec (the inverse of
    /// [`Self::secrets`] + [`Self::without_secrets`]): one secret as a
    /// string, several as a list, none as no `secret` at all.
    pub fn with_secrets(mut self, secrets: Vec<String>) -> SubscriptionSpec {
        let value = match secrets.len() {
            0 => None,
            1 => secrets.into_iter().next().map(Secrets::One),
            _ => Some(Secrets::Many(secrets)),
        };
        match &mut self.delivery {
            DeliverySpec::Webhook { secret, .. } | DeliverySpec::Poll { secret } => *secret = value,
            DeliverySpec::Nats {} => {}
        }
        self
    }

    /// The format `check` uses: as written, else webhook and nats
    /// CloudEvents, poll SETs.
    pub fn effective_format(&self) -> Format {
        self.format.unwrap_or(match self.delivery {
            DeliverySpec::Webhook { .. } | DeliverySpec::Nats {} => Format::Cloudevents,
            DeliverySpec::Poll { .. } => Format::ScimSet,
        })
    }

    /// The signing `check` uses: as written, else the secret if there is
    /// one, else the configured key.
    pub fn effective_signing(&self) -> Signing {
        self.signing.unwrap_or(if self.secrets().is_empty() {
            Signing::Key
        } else {
            Signing::Secret
        })
    }

    /// The audience `check` uses: as written, else the webhook URL, else
    /// `scimbus:<name>` (`name` is the caller's when the spec has none).
    pub fn effective_audience(&self, name: Option<&str>) -> Option<String> {
        if let Some(a) = &self.audience {
            return Some(a.clone());
        }
        match (&self.delivery, self.name.as_deref().or(name)) {
            (DeliverySpec::Webhook { url, .. }, _) => Some(url.clone()),
            (_, Some(name)) => Some(format!("scimbus:{name}")),
            (_, None) => None,
        }
    }

    /// As the operator API shows it: camelCase JSON of the effective
    /// settings (defaults filled in). Secrets are never shown, only how many
    /// there are (`delivery.secretCount`), so an operator can see a
    /// rotation in progress. Without a name in the spec, `name` and a
    /// defaulted `audience` are left out (the API adds the path's name).
    pub fn shown(&self) -> Value {
        let secret_count = self.secrets().len();
        let delivery = match &self.delivery {
            DeliverySpec::Webhook { url, .. } => {
                json!({"type": "webhook", "url": url, "secretCount": secret_count})
            }
            DeliverySpec::Nats {} => json!({"type": "nats"}),
            DeliverySpec::Poll { .. } => json!({"type": "poll", "secretCount": secret_count}),
        };
        let resource_types: Vec<String> = match &self.resource_types {
            Some(v) => v.iter().map(|t| canonical_type(t)).collect(),
            None => defaults::RESOURCE_TYPES.map(String::from).to_vec(),
        };
        let events = self
            .events
            .clone()
            .unwrap_or_else(|| EventKind::ALL.to_vec());
        let mut out = Map::new();
        if let Some(name) = &self.name {
            out.insert("name".into(), name.clone().into());
        }
        out.insert("delivery".into(), delivery);
        out.insert("format".into(), self.effective_format().as_str().into());
        out.insert("resourceTypes".into(), json!(resource_types));
        out.insert("events".into(), json!(events));
        out.insert("filter".into(), json!(self.filter));
        out.insert("attributes".into(), json!(self.attributes));
        out.insert("signing".into(), self.effective_signing().as_str().into());
        if let Some(aud) = self.effective_audience(None) {
            out.insert("audience".into(), aud.into());
        }
        out.insert(
            "timeoutSecs".into(),
            self.timeout_secs.unwrap_or(defaults::TIMEOUT_SECS).into(),
        );
        out.insert(
            "maxAttempts".into(),
            self.max_attempts.unwrap_or(defaults::MAX_ATTEMPTS).into(),
        );
        out.insert(
            "concurrency".into(),
            self.concurrency.unwrap_or(defaults::CONCURRENCY).into(),
        );
        Value::Object(out)
    }
}

/// `User` or `Group` in their canonical spelling, whatever case was
/// written; anything else as written.
pub(crate) fn canonical_type(t: &str) -> String {
    defaults::RESOURCE_TYPES
        .iter()
        .find(|c| c.eq_ignore_ascii_case(t))
        .map_or_else(|| t.to_string(), |c| (*c).to_string())
}

/// The key of serde's "unknown field `x`, expected …" and "missing field
/// `x`" messages, which name the key only in words.
fn unknown_field(detail: &str) -> Option<&str> {
    let rest = detail
        .strip_prefix("unknown field `")
        .or_else(|| detail.strip_prefix("missing field `"))?;
    rest.split('`').next()
}

/// serde_json's message without its " at line 1 column 42" tail, which
/// means nothing to an operator who sent a one-line body.
fn detail_of(detail: &str) -> String {
    match detail.rfind(" at line ") {
        Some(i) if detail[i..].contains(" column ") => detail[..i].to_string(),
        _ => detail.to_string(),
    }
}
