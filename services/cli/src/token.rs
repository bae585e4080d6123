//! `scimbus token …`: API bearer tokens in `api_tokens`, through
//! [`scimbus_runtime::api_tokens`] (which the operator API uses too); its
//! errors become the CLI's, an unknown tenant with the tenants there are.

use scimbus_db::tenants;
use scimbus_runtime::api_tokens as api;
pub use scimbus_runtime::api_tokens::{
    NewToken, Revoked, TOKEN_PREFIX, TokenError, TokenInfo, TokenSpec, generate, lifetime,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::CliError;

/// Creates a token for an existing tenant with the default scopes and no
/// expiry.
pub async fn create(pool: &PgPool, tenant: &str, label: &str) -> Result<NewToken, CliError> {
    match api::create(pool, tenant, label).await {
        Ok(t) => Ok(t),
        Err(e) => Err(cli_error(pool, e).await),
    }
}

/// Creates a token as `spec` says.
pub async fn create_with(pool: &PgPool, spec: &TokenSpec<'_>) -> Result<NewToken, CliError> {
    match api::create_with(pool, spec).await {
        Ok(t) => Ok(t),
        Err(e) => Err(cli_error(pool, e).await),
    }
}

/// Revokes a token (again is fine: the first revocation time stays).
pub async fn revoke(pool: &PgPool, id: Uuid) -> Result<Revoked, CliError> {
    match api::revoke(pool, id).await {
        Ok(r) => Ok(r),
        Err(e) => Err(cli_error(pool, e).await),
    }
}

/// The tokens, of one tenant or of all, oldest first.
pub async fn list(pool: &PgPool, tenant: Option<&str>) -> Result<Vec<TokenInfo>, CliError> {
    match api::list(pool, tenant).await {
        Ok(t) => Ok(t),
        Err(e) => Err(cli_error(pool, e).await),
    }
}

/// The CLI's error for `e`: an unknown tenant lists those that exist.
async fn cli_error(pool: &PgPool, e: TokenError) -> CliError {
    match e {
        TokenError::UnknownTenant(tenant) => match tenants::names(pool).await {
            Ok(known) => CliError::UnknownTenant { tenant, known },
            Err(e) => e.into(),
        },
        TokenError::UnknownToken(id) => CliError::UnknownToken(id),
        TokenError::Scope(e) => CliError::Scope(e),
        TokenError::NoScopes => CliError::NoScopes,
        TokenError::Expiry(e) => CliError::Expiry(e),
        TokenError::Random(e) => CliError::Random(e),
        TokenError::Sql(e) => e.into(),
    }
}
