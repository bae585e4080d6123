//! The tokens of every tenant and who each belongs to. Each token belongs
//! to one tenant; only its SHA-256 is kept — in the configuration file
//! (`sha256:` or resolved `env:`/`file:` references; such a token has the
//! default scopes) or in `api_tokens` (made by `scimbus token create` or the
//! operator API, with its scopes and expiry), looked up on the primary.
//!
//! Lookups are cached, good and unknown tokens alike, but only while this
//! replica listens to the channel on which Postgres announces every change
//! of a token ([`listen`]): a revocation, a new token, a change of scopes
//! reaches every replica at once and drops its cache entry. While the
//! listener is down (Postgres away, a restart) nothing is cached and every
//! request looks its token up. When tokens were last used is written behind
//! ([`used`]).

mod listen;
mod used;

use std::collections::HashMap;
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use scimbus_runtime::config::Tenant;
use scimbus_runtime::scope::Scopes;
use scimbus_runtime::token_hash;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

/// Who is calling: the tenant, the token's id and name, and its scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Client {
    pub tenant: String,
    pub client_id: String,
    /// The token's label (for a configured token, where it is configured).
    pub name: String,
    pub scopes: Scopes,
    /// Where this request came from and its id (set per request, never
    /// cached).
    pub address: Option<std::net::IpAddr>,
    pub request_id: Option<String>,
}

/// How long an unknown token is remembered as unknown (a token made
/// meanwhile is announced and forgotten at once).
const UNKNOWN_TTL: Duration = Duration::from_secs(60);
/// At most this many unknown tokens are remembered.
const UNKNOWN_MAX: usize = 10_000;
/// At most this many good tokens are cached.
const KNOWN_MAX: usize = 100_000;

/// What is cached: good tokens (with when they expire) and unknown ones.
#[derive(Debug, Default)]
struct Cache {
    known: HashMap<[u8; 32], (Client, Option<DateTime<Utc>>)>,
    unknown: HashMap<[u8; 32], Instant>,
}

/// The tokens of every tenant.
#[derive(Debug)]
pub struct Tokens {
    configured: HashMap<[u8; 32], Client>,
    tenants: Vec<String>,
    cache: RwLock<Cache>,
    /// The cache is used only while the listener is connected.
    listening: AtomicBool,
    /// Moves on with every announcement and every (dis)connection of the
    /// listener: a lookup that started before it does not cache its answer.
    generation: AtomicU64,
    used: used::Used,
    pool: PgPool,
    /// The same pool for lookups: a lookup that meets a connection a
    /// Postgres restart killed is read again.
    lookups: scimbus_db::ReadPool,
}

impl Tokens {
    /// The tokens; `pool` is the primary (a replica could still show a
    /// token its primary revoked).
    pub fn new(tenants: &[Tenant], pool: PgPool) -> Tokens {
        let mut configured = HashMap::new();
        for t in tenants {
            for (i, h) in t.token_hashes.iter().enumerate() {
                configured.insert(
                    *h,
                    Client {
                        tenant: t.name.clone(),
                        client_id: format!("config:{}:{i}", t.name),
                        name: format!("configuration file, tenant {}, token {i}", t.name),
                        scopes: Scopes::tenant_default(),
                        address: None,
                        request_id: None,
                    },
                );
            }
        }
        Tokens {
            configured,
            tenants: tenants.iter().map(|t| t.name.clone()).collect(),
            cache: RwLock::new(Cache::default()),
            listening: AtomicBool::new(false),
            generation: AtomicU64::new(0),
            used: used::Used::default(),
            lookups: scimbus_db::ReadPool::new(pool.clone()),
            pool,
        }
    }

    /// Starts listening for changes of tokens and writing when they were
    /// used, until `stop` (which writes the last uses).
    pub fn start(self: &std::sync::Arc<Self>, stop: CancellationToken) {
        tokio::spawn(listen::run(self.clone(), stop.clone()));
        tokio::spawn(used::run(self.clone(), stop));
    }

    /// Writes the uses not written yet (when the service stops).
    pub async fn flush_uses(&self) {
        used::flush(self).await;
    }

    /// Whether this replica hears of token changes (and so uses its cache).
    pub fn is_listening(&self) -> bool {
        self.listening.load(Ordering::SeqCst)
    }

    pub fn knows_tenant(&self, tenant: &str) -> bool {
        self.tenants.iter().any(|t| t == tenant)
    }

    /// The client a token belongs to, if it is good (stored, not revoked,
    /// not expired).
    pub async fn lookup(&self, token: &str) -> Result<Option<Client>, sqlx::Error> {
        let hash = token_hash(token);
        if let Some(known) = self.known(&hash) {
            return Ok(known);
        }
        let generation = self.generation.load(Ordering::SeqCst);
        let grant = self
            .lookups
            .read(|mut c| async move {
                let r = scimbus_db::tokens::find(&mut c, hash.as_slice()).await;
                (c, r)
            })
            .await?;
        let found = grant.map(|g| {
            let client = Client {
                tenant: g.tenant,
                client_id: g.id.to_string(),
                name: g.label,
                // A scope this build does not know grants nothing.
                scopes: Scopes::known(&g.scopes),
                address: None,
                request_id: None,
            };
            (client, g.expires_at)
        });
        if let Some((c, _)) = &found {
            self.used.record(&c.client_id);
        }
        self.remember(hash, found.clone(), generation);
        Ok(found.map(|(c, _)| c))
    }

    /// The client of a token known good without asking Postgres (a
    /// configured or cached one): what an address over its limit of failed
    /// authentications may still use.
    pub fn lookup_known(&self, token: &str) -> Option<Client> {
        self.known(&token_hash(token)).flatten()
    }

    /// What is known of `hash` without Postgres: a configured or cached
    /// client (its use noted), `Some(None)` for a token cached as unknown,
    /// `None` when only Postgres can say.
    fn known(&self, hash: &[u8; 32]) -> Option<Option<Client>> {
        if let Some(c) = self.configured.get(hash) {
            return Some(Some(c.clone()));
        }
        let cached = self.cached(hash)?;
        if let Some(c) = &cached {
            self.used.record(&c.client_id);
        }
        Some(cached)
    }

    /// The cached answer for `hash`: `Some(None)` for a token known to be
    /// unknown, `None` when the cache cannot say.
    fn cached(&self, hash: &[u8; 32]) -> Option<Option<Client>> {
        if !self.listening.load(Ordering::SeqCst) {
            return None;
        }
        // A poisoned cache is skipped: it only saves a query.
        let cache = self.cache.read().ok()?;
        if let Some((c, expires)) = cache.known.get(hash) {
            return match expires {
                Some(at) if *at <= Utc::now() => Some(None),
                _ => Some(Some(c.clone())),
            };
        }
        match cache.unknown.get(hash) {
            Some(at) if at.elapsed() < UNKNOWN_TTL => Some(None),
            _ => None,
        }
    }

    /// Caches a lookup's answer, unless a token changed (or the listener
    /// came or went) since it started.
    fn remember(
        &self,
        hash: [u8; 32],
        found: Option<(Client, Option<DateTime<Utc>>)>,
        generation: u64,
    ) {
        if !self.listening.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut cache) = self.cache.write() else {
            return;
        };
        // Checked under the lock that `forget` and `reset` take.
        if self.generation.load(Ordering::SeqCst) != generation {
            return;
        }
        match found {
            Some(entry) => {
                if cache.known.len() >= KNOWN_MAX {
                    cache.known.clear();
                }
                cache.known.insert(hash, entry);
            }
            None => {
                if cache.unknown.len() >= UNKNOWN_MAX {
                    cache.unknown.retain(|_, at| at.elapsed() < UNKNOWN_TTL);
                }
                if cache.unknown.len() < UNKNOWN_MAX {
                    cache.unknown.insert(hash, Instant::now());
                }
            }
        }
    }

    /// A token changed: its cache entries go.
    fn forget(&self, hash: &[u8; 32]) {
        if let Ok(mut cache) = self.cache.write() {
            self.generation.fetch_add(1, Ordering::SeqCst);
            cache.known.remove(hash);
            cache.unknown.remove(hash);
        } else {
            self.reset(false);
        }
    }

    /// The listener (dis)connected: what was cached may have missed
    /// announcements, so it all goes.
    fn reset(&self, listening: bool) {
        let mut cache = self
            .cache
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.generation.fetch_add(1, Ordering::SeqCst);
        *cache = Cache::default();
        self.listening.store(listening, Ordering::SeqCst);
    }
}
