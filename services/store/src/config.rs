//! The store's settings, read from the environment before anything starts;
//! a bad value stops the store with a message naming the variable.

use std::time::Duration;

use scimbus_runtime::env::{self, Lookup, ProcessEnv};

/// A setting that cannot be used (named in the message).
pub use scimbus_runtime::SettingError as ConfigError;

/// How the store works its partitions.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Command partitions; must equal the ingress's `SCIMBUS_PARTITIONS`.
    pub partitions: u32,
    /// The most commands applied in one transaction.
    pub batch_max: usize,
    /// Attempts at a command that keeps failing before it is parked.
    pub max_attempts: u32,
    /// How often a replica tries to take a partition someone else holds.
    pub lease_retry: Duration,
    /// How often unpublished changes are looked for.
    pub sweep_interval: Duration,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            // One partition per installation until the per-tenant change
            // sequence stops serialising commits across partitions: more
            // partitions only split batches (measured: 1 partition applies
            // ~16 commands per transaction and twice the creates/s of 8).
            partitions: 1,
            batch_max: 256,
            max_attempts: 5,
            lease_retry: Duration::from_secs(2),
            sweep_interval: Duration::from_secs(5),
        }
    }
}

/// Everything the store needs to start.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub nats_url: String,
    pub database_url: String,
    /// Prefix of stream and subject names (docs/design.md §3); empty by default.
    pub bus_prefix: String,
    /// Tenants the configuration declares.
    pub tenants: Vec<String>,
    /// Where `/livez` and `/readyz` are served.
    pub health_addr: std::net::SocketAddr,
    pub settings: Settings,
}

impl StoreConfig {
    /// Reads `SCIMBUS_NATS_URL`, `SCIMBUS_DATABASE_URL`, `SCIMBUS_BUS_PREFIX`,
    /// the tenants of `SCIMBUS_CONFIG` (or `SCIMBUS_TENANTS`,
    /// comma-separated), `SCIMBUS_PARTITIONS`, `SCIMBUS_STORE_BATCH`,
    /// `SCIMBUS_STORE_MAX_ATTEMPTS`, `SCIMBUS_STORE_ADDR`.
    pub fn from_env() -> Result<StoreConfig, ConfigError> {
        Self::from_lookup(&ProcessEnv)
    }

    /// As [`Self::from_env`], from any lookup (tests).
    pub fn from_lookup(e: &impl Lookup) -> Result<StoreConfig, ConfigError> {
        let d = Settings::default();
        let settings = Settings {
            partitions: env::number(e, "SCIMBUS_PARTITIONS", d.partitions, 1..=1024)?,
            batch_max: env::number(e, "SCIMBUS_STORE_BATCH", d.batch_max, 1..=10_000)?,
            max_attempts: env::number(e, "SCIMBUS_STORE_MAX_ATTEMPTS", d.max_attempts, 1..=100)?,
            ..d
        };
        let tenants: Vec<String> = match e.get("SCIMBUS_CONFIG") {
            Some(path) => scimbus_runtime::FileConfig::load(&path)
                .map_err(|err| ConfigError::new("SCIMBUS_CONFIG", err.to_string()))?
                .tenant_names(),
            None => e
                .get("SCIMBUS_TENANTS")
                .unwrap_or_else(|| "demo,demo2".into())
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        };
        let health_addr = env::addr(e, "SCIMBUS_STORE_ADDR", "127.0.0.1:8081")?;
        if let Some(bad) = tenants.iter().find(|t| !scimbus_events::valid_tenant(t)) {
            return Err(ConfigError::new(
                "SCIMBUS_TENANTS",
                scimbus_events::TenantError(bad.clone()).to_string(),
            ));
        }
        let bus_prefix = env::bus_prefix(e)?;
        Ok(StoreConfig {
            nats_url: env::text(e, "SCIMBUS_NATS_URL", "nats://127.0.0.1:4222"),
            database_url: env::required(
                e,
                "SCIMBUS_DATABASE_URL",
                "postgres://user:password@host:port/database",
            )?,
            bus_prefix,
            tenants,
            health_addr,
            settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Result<StoreConfig, ConfigError> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        StoreConfig::from_lookup(&|k: &str| m.get(k).cloned())
    }

    #[test]
    fn defaults_and_errors_name_the_setting() {
        let c = cfg(&[("SCIMBUS_DATABASE_URL", "postgres://x/y")]).unwrap();
        assert_eq!(c.settings.partitions, 1);
        assert_eq!(c.tenants, vec!["demo", "demo2"]);
        let e = cfg(&[]).unwrap_err();
        assert_eq!(e.name, "SCIMBUS_DATABASE_URL");
        let e = cfg(&[("SCIMBUS_DATABASE_URL", "p"), ("SCIMBUS_PARTITIONS", "0")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "SCIMBUS_PARTITIONS: \"0\" is not a number from 1 to 1024"
        );
        let e = cfg(&[
            ("SCIMBUS_DATABASE_URL", "p"),
            ("SCIMBUS_TENANTS", "ok,Bad!"),
        ])
        .unwrap_err();
        assert_eq!(e.name, "SCIMBUS_TENANTS");
        let e = cfg(&[("SCIMBUS_DATABASE_URL", "p"), ("SCIMBUS_BUS_PREFIX", "a.b")]).unwrap_err();
        assert_eq!(e.name, "SCIMBUS_BUS_PREFIX");
    }
}
