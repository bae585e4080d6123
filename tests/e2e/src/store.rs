//! The store's config on a [`TestEnv`], with test defaults.

use std::time::Duration;

use scimbus_runtime::{Running, Server};
use scimbus_store::{Settings, Store, StoreConfig};
use scimbus_testkit::TestEnv;

/// A store on a [`TestEnv`]. Defaults: tenant `acme`, the production
/// [`Settings`] but for a lease retry of 200 ms and a sweep every 500 ms
/// (a test waits for a takeover or a sweep in well under a second).
#[derive(Debug)]
pub struct StoreBuilder<'a> {
    env: &'a TestEnv,
    tenants: Vec<String>,
    hr_owns: Vec<(String, Vec<String>)>,
    settings: Settings,
}

impl<'a> StoreBuilder<'a> {
    pub fn new(env: &'a TestEnv) -> StoreBuilder<'a> {
        StoreBuilder {
            env,
            tenants: vec!["acme".into()],
            hr_owns: Vec::new(),
            settings: Settings {
                lease_retry: Duration::from_millis(200),
                sweep_interval: Duration::from_millis(500),
                ..Settings::default()
            },
        }
    }

    /// The tenants it knows (replacing the default).
    pub fn tenants<I, T>(mut self, tenants: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: Into<String>,
    {
        self.tenants = tenants.into_iter().map(Into::into).collect();
        self
    }

    /// The user attributes HR owns in `tenant` (instead of the default).
    pub fn hr_owns(mut self, tenant: &str, attributes: &[&str]) -> Self {
        self.hr_owns.push((
            tenant.to_string(),
            attributes.iter().map(|a| a.to_string()).collect(),
        ));
        self
    }

    /// Command partitions (the ingress that writes to it must agree).
    pub fn partitions(mut self, n: u32) -> Self {
        self.settings.partitions = n;
        self
    }

    /// Any other setting.
    pub fn settings(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    /// The config as it stands.
    pub fn config(&self) -> StoreConfig {
        StoreConfig {
            service: self.env.service_settings(),
            tenants: self.tenants.clone(),
            hr_owns: self.hr_owns.clone(),
            settings: self.settings.clone(),
        }
    }

    /// Built, not yet running.
    pub async fn build(self) -> Server<Store> {
        Store::build(self.config(), crate::registry())
            .await
            .unwrap_or_else(|e| panic!("the store does not start: {e}"))
    }

    /// Running in the background; [`Running::stop`] drains it.
    pub async fn start(self) -> Running<Store> {
        self.build()
            .await
            .spawn()
            .unwrap_or_else(|e| panic!("the store does not serve: {e}"))
    }
}
