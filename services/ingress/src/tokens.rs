//! The tokens of every tenant and who each belongs to. Each token belongs
//! to one tenant; only its SHA-256 is kept — in the configuration file
//! (`sha256:` or resolved `env:`/`file:` references) or in `api_tokens`
//! (made by `scimbus token create`), looked up through the read pool and
//! cached briefly.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use scimbus_db::ReadPool;
use scimbus_runtime::config::Tenant;
use scimbus_runtime::token_hash;

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
