//! The outbound service's config on a [`TestEnv`], and its targets, with
//! test defaults.

use std::sync::Arc;
use std::time::Duration;

use scimbus_notify::{SigningKey, SubscriptionSpec};
use scimbus_outbound::{Outbound, OutboundConfig};
use scimbus_runtime::{Running, Server, TargetConfig};
use scimbus_testkit::TestEnv;

/// A target named `name` at `url` as the configuration file declares it
/// with nothing else said (every field its file default: a setting added
/// to the file is picked up here without a change), but for a 2 s request
/// timeout and 4 attempts, so a test of failures ends soon. A test changes
/// its fields as it needs.
pub fn target(name: &str, url: &str) -> TargetConfig {
    let mut t: TargetConfig = serde_json::from_value(serde_json::json!({
        "name": name,
        "url": url,
    }))
    .unwrap_or_else(|e| panic!("target {name}: {e}"));
    t.timeout_secs = 2;
    t.max_attempts = 4;
    t
}

/// The outbound service on a [`TestEnv`]. Defaults: no targets, a first
/// retry after 50 ms, a lease retry of 200 ms (a replica takes over a
/// target in well under a second).
#[derive(Debug)]
pub struct OutboundBuilder<'a> {
    env: &'a TestEnv,
    targets: Vec<(String, TargetConfig)>,
    subscriptions: Vec<(String, SubscriptionSpec)>,
    backoff: Duration,
    lease_retry: Duration,
    notify_backoff: Duration,
    signing_key: Option<Arc<SigningKey>>,
    passwords: Option<Arc<scimbus_runtime::passwords::PasswordKeys>>,
}

impl<'a> OutboundBuilder<'a> {
    pub fn new(env: &'a TestEnv) -> OutboundBuilder<'a> {
        OutboundBuilder {
            env,
            targets: Vec::new(),
            subscriptions: Vec::new(),
            backoff: Duration::from_millis(50),
            lease_retry: Duration::from_millis(200),
            notify_backoff: Duration::from_millis(50),
            signing_key: None,
            passwords: None,
        }
    }

    /// Adds subscriptions of `tenant` (as the configuration file declares
    /// them: each with its `name`).
    pub fn subscriptions(
        mut self,
        tenant: &str,
        subs: impl IntoIterator<Item = SubscriptionSpec>,
    ) -> Self {
        self.subscriptions
            .extend(subs.into_iter().map(|s| (tenant.to_string(), s)));
        self
    }

    /// The first retry delay of a failed delivery (doubles, up to an hour).
    pub fn notify_backoff(mut self, backoff: Duration) -> Self {
        self.notify_backoff = backoff;
        self
    }

    /// The key that signs event tokens of subscriptions with
    /// `signing = "key"`.
    pub fn signing_key(mut self, key: Arc<SigningKey>) -> Self {
        self.signing_key = Some(key);
        self
    }

    /// Adds targets of `tenant`.
    pub fn targets(
        mut self,
        tenant: &str,
        targets: impl IntoIterator<Item = TargetConfig>,
    ) -> Self {
        self.targets
            .extend(targets.into_iter().map(|t| (tenant.to_string(), t)));
        self
    }

    /// The keys that open the passwords of targets with `send_passwords`.
    pub fn passwords(mut self, keys: Arc<scimbus_runtime::passwords::PasswordKeys>) -> Self {
        self.passwords = Some(keys);
        self
    }

    /// The first retry delay of a transient failure.
    pub fn backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// How often a replica tries to take a target another one drives.
    pub fn lease_retry(mut self, lease_retry: Duration) -> Self {
        self.lease_retry = lease_retry;
        self
    }

    /// The config as it stands.
    pub fn config(&self) -> OutboundConfig {
        OutboundConfig {
            service: self.env.service_settings(),
            targets: self.targets.clone(),
            backoff: self.backoff,
            lease_retry: self.lease_retry,
            subscriptions: self.subscriptions.clone(),
            public_url: "http://127.0.0.1:8080".into(),
            signing_key: self.signing_key.clone(),
            notify_backoff: self.notify_backoff,
            notify_reload: Duration::from_millis(100),
            passwords: self.passwords.clone(),
        }
    }

    /// Built, not yet running.
    pub async fn build(self) -> Server<Outbound> {
        Outbound::build(self.config(), crate::registry())
            .await
            .unwrap_or_else(|e| panic!("the outbound service does not start: {e}"))
    }

    /// Running in the background; [`Running::stop`] drains it.
    pub async fn start(self) -> Running<Outbound> {
        self.build()
            .await
            .spawn()
            .unwrap_or_else(|e| panic!("the outbound service does not serve: {e}"))
    }
}
