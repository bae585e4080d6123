//! Standard Webhooks signatures (standardwebhooks.com, spec 1.0.0): the
//! symmetric `v1` scheme, HMAC-SHA256 over `{id}.{timestamp}.{body}` with a
//! `whsec_` secret, one signature per secret so a secret can be rotated
//! without a gap.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

/// The prefix that marks a Standard Webhooks symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";
/// The fewest secret bytes the spec allows (192 bits).
pub const MIN_SECRET_BYTES: usize = 24;
/// The most secret bytes scimbus accepts: longer keys add nothing to
/// HMAC-SHA256, whose block is 64 bytes.
pub const MAX_SECRET_BYTES: usize = 64;

/// Why a string is not a `whsec_` secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretFormError {
    #[error("a webhook secret starts with \"whsec_\" (or is an env:NAME or file:/path reference)")]
    Prefix,
    #[error("the part after \"whsec_\" is not standard base64")]
    Base64,
    #[error("the secret is {0} bytes; it must be {MIN_SECRET_BYTES} to {MAX_SECRET_BYTES} bytes")]
    Length(usize),
}

/// A decoded `whsec_` secret. Its `Debug` never shows the bytes, so a
/// secret cannot leak through a log line that prints a config.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "WebhookSecret({} bytes)", self.0.len())
    }
}

impl WebhookSecret {
    /// Reads `whsec_<standard base64>` decoding to 24..=64 bytes.
    pub fn parse(s: &str) -> Result<WebhookSecret, SecretFormError> {
        let b64 = s
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretFormError::Prefix)?;
        let bytes = STANDARD.decode(b64).map_err(|_| SecretFormError::Base64)?;
        if !(MIN_SECRET_BYTES..=MAX_SECRET_BYTES).contains(&bytes.len()) {
            return Err(SecretFormError::Length(bytes.len()));
        }
        Ok(WebhookSecret(bytes))
    }

    /// The key bytes (also the HS256 key of SETs signed with this secret).
    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// The `webhook-signature` header value: `v1,<base64 HMAC-SHA256(secret,
/// "{id}.{timestamp}.{body}")>` once per secret, in the order given (newest
/// first), space-separated. The receiver accepts the message if any
/// signature verifies with a secret it holds.
pub fn webhook_signature(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: i64,
    body: &[u8],
) -> String {
    let mut out = String::new();
    for secret in secrets {
        let key = hmac::Key::new(hmac::HMAC_SHA256, secret.bytes());
        let mut ctx = hmac::Context::with_key(&key);
        ctx.update(id.as_bytes());
        ctx.update(b".");
        ctx.update(timestamp.to_string().as_bytes());
        ctx.update(b".");
        ctx.update(body);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str("v1,");
        out.push_str(&STANDARD.encode(ctx.sign().as_ref()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_must_be_prefixed_base64_of_a_sane_length() {
        let ok = format!("whsec_{}", STANDARD.encode([7u8; 32]));
        assert_eq!(WebhookSecret::parse(&ok).unwrap().bytes(), &[7u8; 32]);
        let raw = STANDARD.encode([7u8; 32]);
        assert_eq!(WebhookSecret::parse(&raw), Err(SecretFormError::Prefix));
        assert_eq!(
            WebhookSecret::parse("whsec_not base64!"),
            Err(SecretFormError::Base64)
        );
        let short = format!("whsec_{}", STANDARD.encode([7u8; 23]));
        assert_eq!(
            WebhookSecret::parse(&short),
            Err(SecretFormError::Length(23))
        );
        let long = format!("whsec_{}", STANDARD.encode([7u8; 65]));
        assert_eq!(
            WebhookSecret::parse(&long),
            Err(SecretFormError::Length(65))
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = WebhookSecret::parse(&format!("whsec_{}", STANDARD.encode([0xabu8; 24]))).unwrap();
        let shown = format!("{s:?}");
        assert_eq!(shown, "WebhookSecret(24 bytes)");
        assert!(!shown.contains(&STANDARD.encode([0xabu8; 24])));
    }
}
