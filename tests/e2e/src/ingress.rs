//! The ingress's config on a [`TestEnv`], with test defaults.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use scimbus_ingress::{Ingress, IngressConfig, Limits};
use scimbus_notify::{SigningKey, SubscriptionSpec};
use scimbus_runtime::config::Tenant;
use scimbus_runtime::{Running, Server, TargetConfig, token_hash};
use scimbus_testkit::TestEnv;

/// The bearer token of tenant `acme` by default.
pub const ACME_TOKEN: &str = "acme-token";
/// The bearer token of tenant `other` by default.
pub const OTHER_TOKEN: &str = "other-token";
/// The operator API's bearer token by default.
pub const ADMIN_TOKEN: &str = "admin-token";

/// An ingress on a [`TestEnv`]. Defaults: public URL `http://scim.test`,
/// one partition (as the [`crate::StoreBuilder`]'s default store), a
/// write timeout of 15 s, tenants `acme` ([`ACME_TOKEN`]) and `other`
/// ([`OTHER_TOKEN`]), the admin token [`ADMIN_TOKEN`], the default
/// [`Limits`], no targets.
#[derive(Debug)]
pub struct IngressBuilder<'a> {
    env: &'a TestEnv,
    public_url: String,
    partitions: u32,
    write_timeout: Duration,
    tenants: Vec<Tenant>,
    admin_tokens: Vec<String>,
    admin_read_tokens: Vec<String>,
    trusted_proxies: scimbus_ingress::auth::proxies::TrustedProxies,
    limits: Limits,
    targets: Vec<(String, TargetConfig)>,
    subscriptions: Vec<(String, SubscriptionSpec)>,
    signing_key: Option<Arc<SigningKey>>,
    poll_wait: Duration,
    hr_sources: Vec<(String, Arc<scimbus_hr::Source>)>,
    passwords: Option<Arc<scimbus_runtime::passwords::PasswordKeys>>,
}

impl<'a> IngressBuilder<'a> {
    pub fn new(env: &'a TestEnv) -> IngressBuilder<'a> {
        IngressBuilder {
            env,
            public_url: "http://scim.test".into(),
            partitions: 1,
            write_timeout: Duration::from_secs(15),
            tenants: Vec::new(),
            admin_tokens: vec![ADMIN_TOKEN.into()],
            admin_read_tokens: Vec::new(),
            trusted_proxies: Default::default(),
            limits: Limits::default(),
            targets: Vec::new(),
            subscriptions: Vec::new(),
            signing_key: None,
            poll_wait: Duration::from_secs(2),
            hr_sources: Vec::new(),
            passwords: None,
        }
        .tenant("acme", &[ACME_TOKEN])
        .tenant("other", &[OTHER_TOKEN])
    }

    /// Replaces the tenants with these, each without a configured token
    /// (only tokens in `api_tokens` let a client in).
    pub fn tenants<I, T>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.tenants = names
            .into_iter()
            .map(|name| Tenant {
                name: name.into(),
                token_hashes: Vec::new(),
                rate_limit: Default::default(),
                jwt: None,
            })
            .collect();
        self
    }

    /// Lets these bearer tokens (only) in to tenant `name`, adding the
    /// tenant if it is not there.
    pub fn tenant(mut self, name: &str, tokens: &[&str]) -> Self {
        let token_hashes = tokens.iter().map(|t| token_hash(t)).collect();
        match self.tenants.iter_mut().find(|t| t.name == name) {
            Some(t) => t.token_hashes = token_hashes,
            None => self.tenants.push(Tenant {
                name: name.into(),
                token_hashes,
                rate_limit: Default::default(),
                jwt: None,
            }),
        }
        self
    }

    /// The request rates of tenant `name` (which must be there).
    pub fn rate_limit(mut self, name: &str, limit: scimbus_runtime::config::RateLimit) -> Self {
        if let Some(t) = self.tenants.iter_mut().find(|t| t.name == name) {
            t.rate_limit = limit;
        }
        self
    }

    /// JWT bearer tokens for tenant `name` (which must be there).
    pub fn jwt(mut self, name: &str, jwt: scimbus_runtime::config::JwtConfig) -> Self {
        if let Some(t) = self.tenants.iter_mut().find(|t| t.name == name) {
            t.jwt = Some(jwt);
        }
        self
    }

    /// The operator API's tokens (none: `/admin/v1` lets no one in).
    pub fn admin_tokens(mut self, tokens: &[&str]) -> Self {
        self.admin_tokens = tokens.iter().map(|t| t.to_string()).collect();
        self
    }

    /// Proxies whose `X-Forwarded-For` names the client (none by default).
    pub fn trusted_proxies(mut self, list: &str) -> Self {
        self.trusted_proxies =
            scimbus_ingress::auth::proxies::TrustedProxies::parse(list).expect("trusted proxies");
        self
    }

    /// The operator API's read-only tokens (none by default).
    pub fn admin_read_tokens(mut self, tokens: &[&str]) -> Self {
        self.admin_read_tokens = tokens.iter().map(|t| t.to_string()).collect();
        self
    }

    /// Command partitions (the store must agree).
    pub fn partitions(mut self, n: u32) -> Self {
        self.partitions = n;
        self
    }

    /// How long a write waits for the store's answer.
    pub fn write_timeout(mut self, timeout: Duration) -> Self {
        self.write_timeout = timeout;
        self
    }

    /// Changes the request limits.
    pub fn limits(mut self, change: impl FnOnce(&mut Limits)) -> Self {
        change(&mut self.limits);
        self
    }

    /// The targets the configuration declares, per tenant (the operator
    /// API shows them).
    pub fn targets(mut self, targets: Vec<(String, TargetConfig)>) -> Self {
        self.targets = targets;
        self
    }

    /// The subscriptions the configuration declares, per tenant.
    pub fn subscriptions(mut self, subs: Vec<(String, SubscriptionSpec)>) -> Self {
        self.subscriptions = subs;
        self
    }

    /// The key that signs event tokens (served as a JWKS).
    pub fn signing_key(mut self, key: Arc<SigningKey>) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// An HR source of `tenant`, compiled (its secrets given).
    pub fn hr_source(mut self, tenant: &str, source: scimbus_hr::Source) -> Self {
        self.hr_sources.push((tenant.to_string(), Arc::new(source)));
        self
    }

    /// The keys that seal passwords for the targets (given with
    /// [`Self::targets`]) that receive them.
    pub fn passwords(mut self, keys: Arc<scimbus_runtime::passwords::PasswordKeys>) -> Self {
        self.passwords = Some(keys);
        self
    }

    /// How long a poll asking to wait waits at most (2 s here).
    pub fn poll_wait(mut self, wait: Duration) -> Self {
        self.poll_wait = wait;
        self
    }

    /// The config as it stands.
    pub fn config(&self) -> IngressConfig {
        IngressConfig {
            service: self.env.service_settings(),
            public_url: self.public_url.clone(),
            read_database_url: self.env.database_url.clone(),
            partitions: self.partitions,
            write_timeout: self.write_timeout,
            replicas: 1,
            trusted_proxies: self.trusted_proxies.clone(),
            tenants: self.tenants.clone(),
            limits: self.limits.clone(),
            admin_token_hashes: self.admin_tokens.iter().map(|t| token_hash(t)).collect(),
            admin_read_token_hashes: self
                .admin_read_tokens
                .iter()
                .map(|t| token_hash(t))
                .collect(),
            targets: self.targets.clone(),
            subscriptions: self.subscriptions.clone(),
            signing_key: self.signing_key.clone(),
            poll_wait: self.poll_wait,
            hr_sources: self.hr_sources.clone(),
            passwords: self.passwords.clone(),
        }
    }

    /// Built, not yet serving.
    pub async fn build(self) -> Server<Ingress> {
        Ingress::build(self.config(), crate::registry())
            .await
            .unwrap_or_else(|e| panic!("the ingress does not start: {e}"))
    }

    /// Its routes, for requests in-process ([`crate::http::send`]); no
    /// port is served.
    pub async fn router(self) -> Router {
        scimbus_ingress::app(self.build().await.service())
    }

    /// Served on a free port ([`Running::addr`]); [`Running::stop`] drains
    /// it.
    pub async fn start(self) -> Running<Ingress> {
        self.build()
            .await
            .spawn()
            .unwrap_or_else(|e| panic!("the ingress does not serve: {e}"))
    }
}
