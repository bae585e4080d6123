//! Bearer tokens. Each token belongs to one tenant; only its SHA-256 is
//! kept — in the configuration file (`sha256:` or resolved `env:`/`file:`
//! references) or in `api_tokens` (made by `scimbus token create`). A
//! token used on another tenant's URL is as good as no token: 401.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::{Path, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::Response;
use scimbus_db::ReadPool;
use scimbus_runtime::config::Tenant;
use scimbus_runtime::token_hash;
use scimbus_scim::ScimError;

use crate::error::ApiError;
use crate::state::AppState;

/// Who is calling: the tenant and the token's id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub tenant: String,
    pub client_id: String,
}

/// How long a token found in the database is trusted before it is looked
/// up again (so a revocation takes effect within this time).
const CACHE_TTL: Duration = Duration::from_secs(30);

/// The tokens of every tenant.
#[derive(Debug)]
pub struct Tokens {
    configured: HashMap<[u8; 32], Client>,
    tenants: Vec<String>,
    cache: RwLock<HashMap<[u8; 32], (Client, Instant)>>,
    /// Token lookups only read: one that meets a connection a Postgres
    /// restart killed is read again.
    pool: ReadPool,
}

impl Tokens {
    pub fn new(tenants: &[Tenant], pool: ReadPool) -> Tokens {
        let mut configured = HashMap::new();
        for t in tenants {
            for (i, h) in t.token_hashes.iter().enumerate() {
                configured.insert(
                    *h,
                    Client {
                        tenant: t.name.clone(),
                        client_id: format!("config:{}:{i}", t.name),
                    },
                );
            }
        }
        Tokens {
            configured,
            tenants: tenants.iter().map(|t| t.name.clone()).collect(),
            cache: RwLock::new(HashMap::new()),
            pool,
        }
    }

    pub fn knows_tenant(&self, tenant: &str) -> bool {
        self.tenants.iter().any(|t| t == tenant)
    }

    /// The client a token belongs to, if any.
    pub async fn lookup(&self, token: &str) -> Result<Option<Client>, sqlx::Error> {
        let hash = token_hash(token);
        if let Some(c) = self.configured.get(&hash) {
            return Ok(Some(c.clone()));
        }
        // A poisoned cache is skipped: it only saves a query.
        if let Ok(cache) = self.cache.read()
            && let Some((c, at)) = cache.get(&hash)
            && at.elapsed() < CACHE_TTL
        {
            return Ok(Some(c.clone()));
        }
        let row: Option<(uuid::Uuid, String)> = self
            .pool
            .read(|pool| async move { scimbus_db::tokens::find(&pool, hash.as_slice()).await })
            .await?;
        let client = row.map(|(id, tenant)| Client {
            tenant,
            client_id: id.to_string(),
        });
        if let (Some(c), Ok(mut cache)) = (&client, self.cache.write()) {
            cache.insert(hash, (c.clone(), Instant::now()));
        }
        Ok(client)
    }
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.trim().split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
}

/// Middleware on `/scim/v2/{tenant}/…`: the bearer token must belong to
/// `{tenant}`.
pub async fn require_token(
    State(state): State<AppState>,
    Path(params): Path<HashMap<String, String>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ApiError> {
    // Only routes with a {tenant} segment have this middleware.
    let Some(tenant) = params.get("tenant").cloned() else {
        return Err(ApiError::internal(
            "checking a bearer token",
            &"a route without a {tenant} segment",
        ));
    };
    let Some(token) = bearer(req.headers()).map(str::to_string) else {
        return Err(ScimError::unauthorized("a bearer token is required").into());
    };
    let client = state
        .tokens
        .lookup(&token)
        .await
        .map_err(|e| ApiError::internal("looking up a token failed", &e))?;
    match client {
        Some(c) if c.tenant == tenant => {
            req.extensions_mut().insert(c);
            Ok(next.run(req).await)
        }
        _ => Err(ScimError::unauthorized("the bearer token is not valid for this tenant").into()),
    }
}
