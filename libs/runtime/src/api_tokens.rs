//! API bearer tokens of tenants in `api_tokens`, made, listed and revoked
//! by `scimbus token …` and the operator API alike.
//!
//! A token is 32 bytes from the operating system's random source, base64url
//! encoded behind the prefix `scimbus_` (so secret scanners can recognise
//! it). Only its SHA-256 ([`scimbus_runtime::token_hash`]) is stored; the
//! token itself is handed to the caller once and is gone after that.

use chrono::{DateTime, Utc};
use scimbus_db::{tenants, tokens};
use sqlx::PgPool;
use uuid::Uuid;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::scope::{Scopes, UnknownScope};
use crate::token_hash;

/// Why a token could not be made, revoked or listed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("tenant \"{0}\" does not exist")]
    UnknownTenant(String),
    #[error("no API token with id {0}")]
    UnknownToken(Uuid),
    #[error(transparent)]
    Scope(#[from] UnknownScope),
    #[error("a token needs at least one scope")]
    NoScopes,
    #[error("{0}")]
    Expiry(String),
    #[error("the operating system's random source failed: {0}")]
    Random(getrandom::Error),
    #[error("Postgres: {0}")]
    Sql(#[from] sqlx::Error),
}

/// What every generated token starts with.
pub const TOKEN_PREFIX: &str = "scimbus_";

/// A token just created: the only time its plain text exists.
#[derive(Clone)]
pub struct NewToken {
    pub id: Uuid,
    pub tenant: String,
    pub label: String,
    pub scopes: Scopes,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
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
            .field("scopes", &self.scopes)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
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
pub fn generate() -> Result<String, TokenError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(TokenError::Random)?;
    Ok(format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)))
}

/// What a new token is: its tenant, a note on who uses it, its scopes and
/// when it expires (never, if `None`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec<'a> {
    pub tenant: &'a str,
    pub label: &'a str,
    pub scopes: Scopes,
    pub expires_at: Option<DateTime<Utc>>,
}

/// Creates a token for an existing tenant with the default scopes
/// (`scim:read scim:write events:poll`) and no expiry.
pub async fn create(pool: &PgPool, tenant: &str, label: &str) -> Result<NewToken, TokenError> {
    create_with(
        pool,
        &TokenSpec {
            tenant,
            label,
            scopes: Scopes::tenant_default(),
            expires_at: None,
        },
    )
    .await
}

/// Creates a token for an existing tenant and stores its hash.
pub async fn create_with(pool: &PgPool, spec: &TokenSpec<'_>) -> Result<NewToken, TokenError> {
    if spec.scopes.is_empty() {
        return Err(TokenError::NoScopes);
    }
    if let Some(at) = spec.expires_at
        && at <= Utc::now()
    {
        return Err(TokenError::Expiry(format!("{at} is not in the future")));
    }
    let token = generate()?;
    let id = Uuid::now_v7();
    let hash = token_hash(&token);
    let scopes = spec.scopes.names();
    let row = tokens::NewRow {
        id,
        tenant: spec.tenant,
        hash: hash.as_slice(),
        prefix: prefix_of(&token),
        label: spec.label,
        scopes: &scopes,
        expires_at: spec.expires_at,
    };
    // One statement, so a tenant that does not exist inserts nothing.
    match tokens::insert(pool, &row).await? {
        Some(created_at) => Ok(NewToken {
            id,
            tenant: spec.tenant.to_string(),
            label: spec.label.to_string(),
            scopes: spec.scopes.clone(),
            created_at,
            expires_at: spec.expires_at,
            token,
        }),
        None => Err(TokenError::UnknownTenant(spec.tenant.to_string())),
    }
}

/// What a listing shows of a secret: `scimbus_` and four more characters
/// (24 bits of the 256: enough to tell tokens apart, nothing to guess
/// from).
pub fn prefix_of(token: &str) -> &str {
    let end = token
        .char_indices()
        .nth(TOKEN_PREFIX.len() + 4)
        .map_or(token.len(), |(i, _)| i);
    &token[..end]
}

/// A lifetime as an operator writes it: a whole number and a unit (`s`,
/// `m`, `h`, `d`), e.g. `90d` or `12h`.
pub fn lifetime(text: &str) -> Result<chrono::Duration, TokenError> {
    let bad = || {
        TokenError::Expiry(format!(
            "\"{text}\" is not a lifetime such as 90d, 12h, 30m or 45s"
        ))
    };
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (n, unit) = text.split_at(split);
    let n: i64 = n.parse().map_err(|_| bad())?;
    let d = match unit {
        "s" => chrono::Duration::try_seconds(n),
        "m" => chrono::Duration::try_minutes(n),
        "h" => chrono::Duration::try_hours(n),
        "d" => chrono::Duration::try_days(n),
        _ => None,
    }
    .ok_or_else(bad)?;
    if d <= chrono::Duration::zero() {
        return Err(bad());
    }
    Ok(d)
}

/// Revokes a token (again is fine: the first revocation time stays).
pub async fn revoke(pool: &PgPool, id: Uuid) -> Result<Revoked, TokenError> {
    let (tenant, revoked_at, already) = tokens::revoke(pool, id)
        .await?
        .ok_or(TokenError::UnknownToken(id))?;
    Ok(Revoked {
        id,
        tenant,
        revoked_at,
        already,
    })
}

/// The tokens, of one tenant or of all, oldest first.
pub async fn list(pool: &PgPool, tenant: Option<&str>) -> Result<Vec<TokenInfo>, TokenError> {
    if let Some(t) = tenant
        && !tenants::exists(pool, t).await?
    {
        return Err(TokenError::UnknownTenant(t.to_string()));
    }
    Ok(tokens::list(pool, tenant).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_the_marker_and_four_characters() {
        let t = generate().unwrap();
        assert_eq!(prefix_of(&t).len(), 12);
        assert!(t.starts_with(prefix_of(&t)) && prefix_of(&t).starts_with(TOKEN_PREFIX));
        assert_eq!(prefix_of("short"), "short");
    }

    #[test]
    fn lifetimes_are_a_number_and_a_unit() {
        assert_eq!(lifetime("90d").unwrap(), chrono::Duration::days(90));
        assert_eq!(lifetime("12h").unwrap(), chrono::Duration::hours(12));
        assert_eq!(lifetime("30m").unwrap(), chrono::Duration::minutes(30));
        assert_eq!(lifetime("45s").unwrap(), chrono::Duration::seconds(45));
        for bad in [
            "",
            "d",
            "0d",
            "12",
            "1w",
            "-1d",
            "1.5h",
            "99999999999999999d",
        ] {
            assert!(lifetime(bad).is_err(), "{bad}");
        }
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
