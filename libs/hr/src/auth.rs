//! Checking that a request comes from the HR system: HMAC-SHA256 as the
//! source's vendor writes it (a named header, hex or base64, an optional
//! prefix, an optional timestamp header and what is signed), or Standard
//! Webhooks. Any of the source's secrets (two while one is rotated) may
//! have signed; signatures are compared in constant time (`ring::hmac::
//! verify`); a timestamp more than the tolerance away from now, in either
//! direction, is refused so that a captured request cannot be replayed.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use http::{HeaderMap, HeaderName};
use ring::hmac;

use crate::spec::{AuthSpec, Encoding, SpecError};

/// Why a request is not accepted as the source's (a 401).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The request lacks this header.
    #[error("no {0} header")]
    Missing(String),
    /// A header is there but not of the expected form.
    #[error("{0}")]
    Malformed(String),
    /// No secret of the source made this signature.
    #[error("the signature does not match")]
    Mismatch,
    /// The signed timestamp is this many seconds before now (negative:
    /// after now), beyond the tolerance.
    #[error("the timestamp is {age_secs} s from now, beyond the tolerance")]
    Stale { age_secs: i64 },
}

/// A piece of what an HMAC source signs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Text(String),
    Body,
    Timestamp,
}

/// A source's authentication, compiled: header names, the signed template,
/// the keys.
pub(crate) enum Verifier {
    Hmac {
        header: HeaderName,
        encoding: Encoding,
        prefix: Option<String>,
        timestamp: Option<(HeaderName, u64)>,
        signed: Vec<Part>,
        keys: Vec<hmac::Key>,
    },
    StandardWebhooks {
        tolerance_secs: u64,
        keys: Vec<hmac::Key>,
    },
    /// Proved by a bearer token, which the ingress checks: no signature
    /// holds.
    Bearer,
}

impl std::fmt::Debug for Verifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verifier::Hmac { header, keys, .. } => f
                .debug_struct("Hmac")
                .field("header", header)
                .field("keys", &format_args!("{} hidden", keys.len()))
                .finish(),
            Verifier::StandardWebhooks { keys, .. } => f
                .debug_struct("StandardWebhooks")
                .field("keys", &format_args!("{} hidden", keys.len()))
                .finish(),
            Verifier::Bearer => f.write_str("Bearer"),
        }
    }
}

const WEBHOOK_ID: &str = "webhook-id";
const WEBHOOK_TIMESTAMP: &str = "webhook-timestamp";
const WEBHOOK_SIGNATURE: &str = "webhook-signature";

/// A header name of the spec, or the error naming its field.
pub(crate) fn header_name(field: &str, name: &str) -> Result<HeaderName, SpecError> {
    HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| SpecError::new(field, format!("\"{name}\" is not an HTTP header name")))
}

/// What `signed` says is signed; the error names the field.
fn template(signed: &str, has_timestamp: bool) -> Result<Vec<Part>, SpecError> {
    let bad = |d: &str| SpecError::new("auth.signed", d);
    let mut parts = Vec::new();
    let mut rest = signed;
    while let Some(open) = rest.find('{') {
        if open > 0 {
            parts.push(Part::Text(rest[..open].to_string()));
        }
        let after = &rest[open..];
        if let Some(r) = after.strip_prefix("{body}") {
            parts.push(Part::Body);
            rest = r;
        } else if let Some(r) = after.strip_prefix("{timestamp}") {
            if !has_timestamp {
                return Err(bad("{timestamp} needs a timestamp_header"));
            }
            parts.push(Part::Timestamp);
            rest = r;
        } else {
            return Err(bad("only {body} and {timestamp} can be filled in"));
        }
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest.to_string()));
    }
    if !parts.contains(&Part::Body) {
        return Err(bad("must contain {body}"));
    }
    Ok(parts)
}

/// The bytes of a `whsec_<base64>` secret. Any length is taken: the HR
/// system chose the secret, and HMAC takes keys of every length.
fn whsec(field: &str, secret: &[u8]) -> Result<Vec<u8>, SpecError> {
    let bad = || SpecError::new(field, "is not a whsec_<base64> secret");
    let text = std::str::from_utf8(secret).map_err(|_| bad())?;
    let b64 = text.trim().strip_prefix("whsec_").ok_or_else(bad)?;
    match STANDARD.decode(b64) {
        Ok(bytes) if !bytes.is_empty() => Ok(bytes),
        _ => Err(bad()),
    }
}

/// The most secrets a source has at once: the current one and the next.
pub const MAX_SECRETS: usize = 2;

/// The form of an authentication: one or two secret references
/// (`env:NAME`, `file:/path`; never a secret written inline), header
/// names, what is signed, a tolerance of at least a second.
pub(crate) fn check_form(spec: &AuthSpec) -> Result<(), SpecError> {
    if let AuthSpec::Bearer {} = spec {
        return Ok(());
    }
    let secrets = spec.secrets();
    if secrets.is_empty() || secrets.len() > MAX_SECRETS {
        return Err(SpecError::new(
            "auth.secrets",
            format!(
                "has {} secrets; a source has 1, or 2 while one is rotated",
                secrets.len()
            ),
        ));
    }
    for (i, r) in secrets.iter().enumerate() {
        let named = r
            .strip_prefix("env:")
            .or_else(|| r.strip_prefix("file:"))
            .is_some_and(|rest| !rest.is_empty());
        if !named {
            return Err(SpecError::new(
                format!("auth.secrets[{i}]"),
                "a secret is given by reference, env:NAME or file:/path, never inline",
            ));
        }
    }
    if spec.tolerance_secs() == Some(0) {
        return Err(SpecError::new(
            "auth.tolerance_secs",
            "must be at least 1 second",
        ));
    }
    if let AuthSpec::Hmac {
        header,
        timestamp_header,
        signed,
        prefix,
        ..
    } = spec
    {
        header_name("auth.header", header)?;
        if let Some(h) = timestamp_header {
            header_name("auth.timestamp_header", h)?;
        }
        if prefix.as_deref() == Some("") {
            return Err(SpecError::new("auth.prefix", "is empty; leave it out"));
        }
        template(signed, timestamp_header.is_some())?;
    }
    Ok(())
}

impl Verifier {
    /// Compiles `spec` with its resolved secrets (as many as references).
    pub(crate) fn compile(spec: &AuthSpec, secrets: Vec<Vec<u8>>) -> Result<Verifier, SpecError> {
        if secrets.len() != spec.secrets().len() {
            return Err(SpecError::new(
                "auth.secrets",
                format!(
                    "{} references but {} resolved secrets",
                    spec.secrets().len(),
                    secrets.len()
                ),
            ));
        }
        let mut keys = Vec::with_capacity(secrets.len());
        for (i, secret) in secrets.into_iter().enumerate() {
            let field = format!("auth.secrets[{i}]");
            let bytes = match spec {
                AuthSpec::Hmac { .. } => secret,
                AuthSpec::StandardWebhooks { .. } => whsec(&field, &secret)?,
                AuthSpec::Bearer {} => secret,
            };
            if bytes.is_empty() {
                return Err(SpecError::new(field, "is empty"));
            }
            keys.push(hmac::Key::new(hmac::HMAC_SHA256, &bytes));
        }
        Ok(match spec {
            AuthSpec::Hmac {
                header,
                encoding,
                prefix,
                timestamp_header,
                signed,
                tolerance_secs,
                ..
            } => Verifier::Hmac {
                header: header_name("auth.header", header)?,
                encoding: *encoding,
                prefix: prefix.clone(),
                timestamp: match timestamp_header {
                    None => None,
                    Some(h) => Some((header_name("auth.timestamp_header", h)?, *tolerance_secs)),
                },
                signed: template(signed, timestamp_header.is_some())?,
                keys,
            },
            AuthSpec::StandardWebhooks { tolerance_secs, .. } => Verifier::StandardWebhooks {
                tolerance_secs: *tolerance_secs,
                keys,
            },
            AuthSpec::Bearer {} => Verifier::Bearer,
        })
    }

    /// Checks a request (see [`crate::Source::verify`]).
    pub(crate) fn verify(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<(), AuthError> {
        match self {
            Verifier::Hmac {
                header,
                encoding,
                prefix,
                timestamp,
                signed,
                keys,
            } => {
                let stamp = match timestamp {
                    None => None,
                    Some((name, tolerance)) => {
                        let text = text(headers, name.as_str())?;
                        fresh(name.as_str(), text, *tolerance, now)?;
                        Some(text)
                    }
                };
                let sig = text(headers, header.as_str())?;
                let sig = match prefix {
                    None => sig,
                    Some(p) => strip_prefix(sig, p).ok_or_else(|| {
                        AuthError::Malformed(format!("{header} does not start with \"{p}\""))
                    })?,
                };
                let sig = decode(*encoding, sig)
                    .ok_or_else(|| AuthError::Malformed(format!("{header} is not {encoding:?}")))?;
                let mut message = Vec::with_capacity(body.len() + 32);
                for part in signed {
                    match part {
                        Part::Text(t) => message.extend_from_slice(t.as_bytes()),
                        Part::Body => message.extend_from_slice(body),
                        Part::Timestamp => {
                            message.extend_from_slice(stamp.unwrap_or_default().as_bytes())
                        }
                    }
                }
                any_key(keys, &message, &[sig])
            }
            Verifier::StandardWebhooks {
                tolerance_secs,
                keys,
            } => {
                let id = text(headers, WEBHOOK_ID)?;
                let stamp = text(headers, WEBHOOK_TIMESTAMP)?;
                fresh(WEBHOOK_TIMESTAMP, stamp, *tolerance_secs, now)?;
                let sigs: Vec<Vec<u8>> = text(headers, WEBHOOK_SIGNATURE)?
                    .split(' ')
                    .filter_map(|s| s.strip_prefix("v1,"))
                    .filter_map(|b64| STANDARD.decode(b64).ok())
                    .collect();
                if sigs.is_empty() {
                    return Err(AuthError::Malformed(format!(
                        "{WEBHOOK_SIGNATURE} has no v1,<base64> signature"
                    )));
                }
                let mut message = Vec::with_capacity(id.len() + stamp.len() + body.len() + 2);
                message.extend_from_slice(id.as_bytes());
                message.push(b'.');
                message.extend_from_slice(stamp.as_bytes());
                message.push(b'.');
                message.extend_from_slice(body);
                any_key(keys, &message, &sigs)
            }
            Verifier::Bearer => Err(AuthError::Malformed(
                "the source takes bearer tokens, not signatures".into(),
            )),
        }
    }
}

/// A header's value as text (header names are case-insensitive).
fn text<'h>(headers: &'h HeaderMap, name: &str) -> Result<&'h str, AuthError> {
    let value = headers
        .get(name)
        .ok_or_else(|| AuthError::Missing(name.to_string()))?;
    value
        .to_str()
        .map(str::trim)
        .map_err(|_| AuthError::Malformed(format!("{name} is not text")))
}

/// Whether the unix-seconds timestamp `text` is within `tolerance` of now.
fn fresh(name: &str, text: &str, tolerance: u64, now: DateTime<Utc>) -> Result<(), AuthError> {
    let at: i64 = text
        .parse()
        .map_err(|_| AuthError::Malformed(format!("{name} is not a number of seconds")))?;
    let age_secs = now.timestamp().saturating_sub(at);
    if age_secs.unsigned_abs() > tolerance {
        return Err(AuthError::Stale { age_secs });
    }
    Ok(())
}

/// `sig` without `prefix` (ASCII case aside: `SHA256=` is `sha256=`).
fn strip_prefix<'s>(sig: &'s str, prefix: &str) -> Option<&'s str> {
    let head = sig.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &sig[prefix.len()..])
}

fn decode(encoding: Encoding, text: &str) -> Option<Vec<u8>> {
    match encoding {
        Encoding::Base64 => STANDARD.decode(text).ok(),
        Encoding::Hex => {
            if !text.len().is_multiple_of(2) {
                return None;
            }
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
                .collect()
        }
    }
}

/// Ok when one of `sigs` is the HMAC of `message` under one of `keys`.
fn any_key(keys: &[hmac::Key], message: &[u8], sigs: &[Vec<u8>]) -> Result<(), AuthError> {
    let ok = keys
        .iter()
        .any(|k| sigs.iter().any(|s| hmac::verify(k, message, s).is_ok()));
    if ok { Ok(()) } else { Err(AuthError::Mismatch) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_need_the_body_and_a_timestamp_header_for_the_timestamp() {
        assert_eq!(
            template("{body}{timestamp}", true),
            Ok(vec![Part::Body, Part::Timestamp])
        );
        assert_eq!(
            template("v0:{timestamp}:{body}", true),
            Ok(vec![
                Part::Text("v0:".into()),
                Part::Timestamp,
                Part::Text(":".into()),
                Part::Body
            ])
        );
        assert!(template("{timestamp}", true).is_err());
        assert!(template("{body}{timestamp}", false).is_err());
        assert!(template("{body}{id}", true).is_err());
    }

    #[test]
    fn hex_is_read_in_either_case_and_odd_or_foreign_text_is_not_hex() {
        assert_eq!(decode(Encoding::Hex, "0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(decode(Encoding::Hex, "0aF"), None);
        assert_eq!(decode(Encoding::Hex, "zz"), None);
        assert_eq!(decode(Encoding::Hex, "éé"), None);
    }
}
