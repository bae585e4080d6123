//! What every handler shares.

use std::ops::Deref;
use std::sync::Arc;

use scimbus_db::ReadPool;
use scimbus_scim::{Capabilities, Registry};
use sqlx::PgPool;

use crate::config::Limits;
use crate::dispatch::Dispatcher;
use crate::tokens::Tokens;

/// Cheap to clone (axum clones it for every request): one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState(Arc<Shared>);

impl AppState {
    pub fn new(shared: Shared) -> AppState {
        AppState(Arc::new(shared))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// What the handlers share.
#[derive(Debug)]
pub struct Shared {
    pub registry: Arc<Registry>,
    /// Read-only pool (may point at a replica); a read that meets a dead
    /// connection is read again.
    pub read: ReadPool,
    pub dispatcher: Dispatcher,
    pub tokens: Arc<Tokens>,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: crate::auth::proxies::TrustedProxies,
    /// Failed authentications per client address.
    pub failures: crate::auth::failures::Failures,
    /// Request rates per tenant and token.
    pub rates: crate::auth::rate::Rates,
    /// JWT bearer tokens of the tenants that take them.
    pub jwt: crate::jwt::Jwt,
    /// Base URL clients reach us at, without a trailing `/`.
    pub public_url: Arc<str>,
    pub limits: Arc<Limits>,
    pub caps: Arc<Capabilities>,
    /// The operator API's token hashes.
    pub admin_tokens: Vec<[u8; 32]>,
    /// Its read-only tokens (`admin:read`).
    pub admin_read_tokens: Vec<[u8; 32]>,
    /// Read-write: the operator API writes the outbound workers' requests
    /// (pause, replay, sync, reconcile), never identity data.
    pub admin_db: PgPool,
    /// The outbound targets of the configuration, per tenant.
    pub targets: Vec<(String, scimbus_runtime::TargetConfig)>,
    /// The subscriptions of the configuration, per tenant.
    pub subscriptions: Vec<(String, scimbus_notify::SubscriptionSpec)>,
    /// The key that signs event tokens (its public half is served at
    /// `/events/v1/jwks.json`).
    pub signing_key: Option<Arc<scimbus_notify::SigningKey>>,
    /// How long a poll that asks to wait for events waits at most.
    pub poll_wait: std::time::Duration,
    /// The HR sources of the configuration, compiled.
    pub hr_sources: Sources,
    /// Passwords sealed for the targets that receive them.
    pub passwords: Passwords,
}

impl Shared {
    /// A tenant's HR source.
    pub fn hr_source(&self, tenant: &str, name: &str) -> Option<Arc<scimbus_hr::Source>> {
        self.hr_sources.find(tenant, name)
    }

    /// The SCIM base URL of a tenant.
    pub fn base_url(&self, tenant: &str) -> String {
        format!("{}/scim/v2/{tenant}", self.public_url)
    }
}

/// The compiled HR sources, per tenant.
#[derive(Debug, Default)]
pub struct Sources(pub Vec<(String, Arc<scimbus_hr::Source>)>);

impl Sources {
    pub fn find(&self, tenant: &str, name: &str) -> Option<Arc<scimbus_hr::Source>> {
        self.0
            .iter()
            .find(|(t, s)| t == tenant && s.spec().name == name)
            .map(|(_, s)| s.clone())
    }
}

/// The targets that receive passwords (`send_passwords`), per tenant, and
/// the keys that seal passwords for them.
#[derive(Debug, Default)]
pub struct Passwords {
    keys: Option<Arc<scimbus_runtime::passwords::PasswordKeys>>,
    targets: std::collections::HashMap<String, Vec<String>>,
}

impl Passwords {
    pub fn new(
        keys: Option<Arc<scimbus_runtime::passwords::PasswordKeys>>,
        targets: &[(String, scimbus_runtime::TargetConfig)],
    ) -> Passwords {
        let mut by_tenant: std::collections::HashMap<String, Vec<String>> = Default::default();
        for (tenant, t) in targets.iter().filter(|(_, t)| t.send_passwords) {
            by_tenant
                .entry(tenant.clone())
                .or_default()
                .push(t.name.clone());
        }
        Passwords {
            keys,
            targets: by_tenant,
        }
    }

    /// `password`, sealed for the tenant's targets that receive passwords;
    /// none when no target of the tenant does (it is then not kept at
    /// all), or when the system's random source fails (logged: the write
    /// goes on, the targets do not get this password).
    pub fn seal(
        &self,
        tenant: &str,
        resource_id: &str,
        password: &str,
    ) -> Option<scimbus_events::v1::SealedPassword> {
        let targets = self.targets.get(tenant)?;
        let keys = self.keys.as_ref()?;
        let now = chrono::Utc::now().timestamp_micros();
        let sealed = keys.seal(tenant, resource_id, password, targets.clone(), now);
        if sealed.is_none() {
            tracing::error!(
                tenant,
                "a password could not be sealed: the random source failed"
            );
        }
        sealed
    }
}
