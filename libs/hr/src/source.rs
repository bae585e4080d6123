//! A compiled HR source: it checks a request's signature and turns its
//! body into mapped events.

use chrono::{DateTime, Utc};
use http::HeaderMap;
use serde_json::Value;

use crate::auth::{AuthError, Verifier};
use crate::event::{EventError, HrEvent};
use crate::map::EventMapping;
use crate::spec::{SourceSpec, SpecError};

/// A source ready to serve: its compiled CEL programs, time zone and
/// secret keys. `Debug` never shows a secret.
#[derive(Debug)]
pub struct Source {
    spec: SourceSpec,
    verifier: Verifier,
    mapping: EventMapping,
}

impl Source {
    /// `secrets[i]` is the resolved value of `spec.auth.secrets[i]` (the
    /// caller resolves `env:`/`file:` references); for Standard Webhooks
    /// the `whsec_` form is parsed here.
    pub fn compile(spec: &SourceSpec, secrets: Vec<Vec<u8>>) -> Result<Source, SpecError> {
        spec.check_form()?;
        Ok(Source {
            verifier: Verifier::compile(&spec.auth, secrets)?,
            mapping: EventMapping::compile(&spec.mapping, spec.zone()?)?,
            spec: spec.clone(),
        })
    }

    pub fn spec(&self) -> &SourceSpec {
        &self.spec
    }

    /// Whether requests prove themselves with a bearer token of the tenant
    /// that has the scope `hr:<source>` (checked by the caller), not with a
    /// signature.
    pub fn takes_bearer(&self) -> bool {
        matches!(self.verifier, Verifier::Bearer)
    }

    /// Checks the request's signature (any of the secrets) and, when the
    /// scheme has a timestamp, that it is within the tolerance of `now`
    /// (both directions). Header lookup is case-insensitive; signatures
    /// are compared in constant time.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        self.verifier.verify(headers, body, now)
    }

    /// Parses the body, finds the events (one, or the array at `events`),
    /// maps each. All or nothing: the first event that cannot be mapped is
    /// the error. `now` is the time of receipt, which the expressions can
    /// read as `now` (RFC 3339 text).
    pub fn events(&self, body: &[u8], now: DateTime<Utc>) -> Result<Vec<HrEvent>, EventError> {
        let body: Value = serde_json::from_slice(body)
            .map_err(|e| EventError::body(format!("the body is not JSON: {e}")))?;
        self.events_of(&body, now)
    }

    /// As [`Source::events`], of a body already parsed (the ingress reads
    /// bodies once, strictly).
    pub fn events_of(&self, body: &Value, now: DateTime<Utc>) -> Result<Vec<HrEvent>, EventError> {
        let scope = self.mapping.scope(body, now);
        let one = |index: Option<usize>, raw: &Value| {
            if !raw.is_object() {
                return Err(EventError {
                    index,
                    event_id: None,
                    reason: "the event is not a JSON object".into(),
                });
            }
            self.mapping
                .map(&scope, raw)
                .map_err(|(event_id, reason)| EventError {
                    index,
                    event_id,
                    reason,
                })
        };
        match &self.spec.events {
            None => Ok(vec![one(None, body)?]),
            Some(path) => {
                let list = path
                    .split('.')
                    .try_fold(body, |node, key| node.get(key))
                    .and_then(Value::as_array)
                    .ok_or_else(|| EventError::body(format!("\"{path}\" is not an array")))?;
                list.iter()
                    .enumerate()
                    .map(|(i, raw)| one(Some(i), raw))
                    .collect()
            }
        }
    }
}
