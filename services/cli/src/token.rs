//! `scimbus token …`: API bearer tokens in `api_tokens`.
//!
//! A token is 32 bytes from the operating system's random source, base64url
//! encoded behind the prefix `scimbus_` (so secret scanners can recognise
//! it). Only its SHA-256 ([`scimbus_runtime::token_hash`]) is stored; the
//! token itself is handed to the caller once and is gone after that.

use chrono::{DateTime, Utc};
use scimbus_db::{tenants, tokens};
use scimbus_runtime::token_hash;
use sqlx::PgPool;
use uuid::Uuid;

use crate::CliError;

/// What every generated token starts with.
pub const TOKEN_PREFIX: &str = "scimbus_";

/// A token just created: the only time its plain text exists.
#[derive(Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub tenant: String,
    pub label: String,
    pub created_at: DateTime<Utc>,
    /// The bearer token itself.
    pub token: String,
}

impl std::fmt::Debug for NewToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token by accident.
        f.debug_struct("NewToken")
            .field("id", &self.id)
            .field("tenant", &self.tenant)
            .field("label", &self.label)
            .field("created_at", &self.created_at)
            .field("token", &"…")
            .finish()
    }
}

/// A stored token, as `token list` shows it (never its hash).
pub type TokenInfo = scimbus_db::tokens::Token;

/// A revocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    pub id: Uuid,
    pub tenant: String,
    pub revoked_at: DateTime<Utc>,
    /// It had been revoked before (`revoked_at` is that first time).
    pub already: bool,
}

/// A fresh random token.
pub fn generate() -> Result<String, CliError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(CliError::Random)?;
    Ok(format!("{TOKEN_PREFIX}{}", base64url(&bytes)))
}

/// Creates a token for an existing tenant and stores its hash.
pub async fn create(pool: &PgPool, tenant: &str, label: &str) -> Result<NewToken, CliError> {
    let token = generate()?;
    let id = Uuid::now_v7();
    // One statement, so a tenant that does not exist inserts nothing.
    let created_at = tokens::insert(pool, id, tenant, token_hash(&token).as_slice(), label).await?;
    match created_at {
        Some(created_at) => Ok(NewToken {
            id,
            tenant: tenant.to_string(),
            label: label.to_string(),
            created_at,
            token,
        }),
        None => Err(unknown_tenant(pool, tenant).await),
    }
}

/// Revokes a token (again is fine: the first revocation time stays).
pub async fn revoke(pool: &PgPool, id: Uuid) -> Result<Revoked, CliError> {
    let (tenant, revoked_at, already) = tokens::revoke(pool, id)
        .await?
        .ok_or(CliError::UnknownToken(id))?;
    Ok(Revoked {
        id,
        tenant,
        revoked_at,
        already,
    })
}

/// The tokens, of one tenant or of all, oldest first.
pub async fn list(pool: &PgPool, tenant: Option<&str>) -> Result<Vec<TokenInfo>, CliError> {
    if let Some(t) = tenant
        && !tenants::exists(pool, t).await?
    {
        return Err(unknown_tenant(pool, t).await);
    }
    Ok(tokens::list(pool, tenant).await?)
}

/// The error for a tenant that is not in `tenants`, listing those that are.
async fn unknown_tenant(pool: &PgPool, tenant: &str) -> CliError {
    let known = tenants::names(pool).await;
    match known {
        Ok(known) => CliError::UnknownTenant {
            tenant: tenant.to_string(),
            known,
        },
        Err(e) => e.into(),
    }
}

/// Base64url without padding (RFC 4648 §5).
fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[(n >> (18 - 6 * i)) as usize & 63]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_matches_rfc_4648() {
        for (input, want) in [
            ("", ""),
            ("f", "Zg"),
            ("fo", "Zm8"),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg"),
            ("fooba", "Zm9vYmE"),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64url(input.as_bytes()), want);
        }
        // The two characters that differ from standard base64.
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn tokens_are_prefixed_random_and_url_safe() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_ne!(a, b);
        let body = a.strip_prefix(TOKEN_PREFIX).unwrap();
        assert_eq!(body.len(), 43, "32 bytes in base64url without padding");
        assert!(
            body.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
    }
}
