//! `scimbus token …`: API bearer tokens in `api_tokens`, through
//! [`scimbus_runtime::api_tokens`] (which the operator API uses too); its
//! errors become the CLI's, an unknown tenant with the tenants there are.

use std::io::Write;

use anyhow::Context;
use scimbus_db::tenants;
use scimbus_runtime::api_tokens as api;
pub use scimbus_runtime::api_tokens::{
    NewToken, Revoked, TOKEN_PREFIX, TokenError, TokenInfo, TokenSpec, generate, lifetime,
};
use sqlx::PgPool;
use uuid::Uuid;

use crate::{CliError, CreateArgs, time};

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

/// `scimbus token create`: makes the token, records it in the audit trail,
/// prints it once.
pub async fn create_command(
    pool: &PgPool,
    args: &CreateArgs,
    config_tenants: &[String],
    out: &mut impl Write,
) -> anyhow::Result<()> {
    if !config_tenants.is_empty() {
        tenants::ensure(pool, config_tenants)
            .await
            .map_err(CliError::from)
            .context("adding the tenants of --config / SCIMBUS_CONFIG")?;
    }
    let scopes = if args.scopes.is_empty() {
        scimbus_runtime::scope::Scopes::tenant_default()
    } else {
        scimbus_runtime::scope::Scopes::parse(&args.scopes).map_err(CliError::from)?
    };
    let expires_at = match &args.expires_in {
        Some(l) => {
            Some(chrono::Utc::now() + lifetime(l).map_err(|e| CliError::Expiry(e.to_string()))?)
        }
        None => None,
    };
    let spec = TokenSpec {
        tenant: &args.tenant,
        label: &args.label,
        scopes,
        expires_at,
    };
    let t = create_with(pool, &spec).await?;
    crate::audit::operator_command(pool, &t.tenant, "scimbus token create", "", Some(t.id), 201)
        .await?;
    writeln!(out, "id:      {}", t.id)?;
    writeln!(out, "tenant:  {}", t.tenant)?;
    writeln!(out, "scopes:  {}", t.scopes)?;
    if let Some(at) = &t.expires_at {
        writeln!(out, "expires: {}", time(at))?;
    }
    writeln!(out, "token:   {}", t.token)?;
    eprintln!(
        "scimbus: copy the token now: it is shown only this once (scimbus keeps only its SHA-256)"
    );
    Ok(())
}

/// `scimbus token revoke`: revokes, records it in the audit trail.
pub async fn revoke_command(pool: &PgPool, id: Uuid, out: &mut impl Write) -> anyhow::Result<()> {
    let r = revoke(pool, id).await?;
    let at = time(&r.revoked_at);
    if r.already {
        writeln!(
            out,
            "token {} (tenant {}) was already revoked at {at}",
            r.id, r.tenant
        )?;
    } else {
        crate::audit::operator_command(
            pool,
            &r.tenant,
            "scimbus token revoke",
            "",
            Some(r.id),
            200,
        )
        .await?;
        writeln!(out, "revoked token {} (tenant {}) at {at}", r.id, r.tenant)?;
    }
    Ok(())
}
