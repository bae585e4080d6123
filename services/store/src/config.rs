//! The store's settings, read from the environment before anything starts;
//! a bad value stops the store with a message naming the variable.

use std::time::Duration;

use scimbus_runtime::ServiceSettings;
use scimbus_runtime::env::{self, Lookup, ProcessEnv, SettingError};

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
    /// How often HR events that are due are looked for.
    pub hr_interval: Duration,
    /// How long after its command was published an HR event still pending
    /// is published again.
    pub hr_republish: Duration,
    /// How long audit entries are kept (none: for ever).
    pub audit_retention: Option<Duration>,
    /// How often audit entries past the retention, and sealed passwords
    /// past their expiry, are looked for.
    pub audit_prune_interval: Duration,
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
            hr_interval: Duration::from_secs(1),
            // Copies published within JetStream's duplicate window (2
            // minutes) are dropped; a backlog of due events costs no
            // second apply before then.
            hr_republish: Duration::from_secs(60),
            audit_retention: Some(Duration::from_secs(400 * 24 * 3600)),
            audit_prune_interval: Duration::from_secs(3600),
        }
    }
}

/// Everything the store needs to start.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Where NATS and Postgres are, the bus prefix, where `/livez` and
    /// `/readyz` are served (`SCIMBUS_STORE_ADDR`), the drain bound.
    pub service: ServiceSettings,
    /// Tenants the configuration declares.
    pub tenants: Vec<String>,
    /// Tenants whose configuration says which user attributes HR owns
    /// (`hr_owns`); the others keep the default.
    pub hr_owns: Vec<(String, Vec<String>)>,
    pub settings: Settings,
}

impl StoreConfig {
    /// Reads the [`ServiceSettings`] (`SCIMBUS_STORE_ADDR`, 127.0.0.1:8081),
    /// the tenants of `SCIMBUS_CONFIG` (or `SCIMBUS_TENANTS`,
    /// comma-separated), `SCIMBUS_PARTITIONS`, `SCIMBUS_STORE_BATCH`,
    /// `SCIMBUS_STORE_MAX_ATTEMPTS`, `SCIMBUS_HR_INTERVAL_MS`,
    /// `SCIMBUS_AUDIT_RETENTION_DAYS` (0: keep for ever).
    pub fn from_env() -> Result<StoreConfig, SettingError> {
        Self::from_lookup(&ProcessEnv)
    }

    /// As [`Self::from_env`], from any lookup (tests).
    pub fn from_lookup(e: &impl Lookup) -> Result<StoreConfig, SettingError> {
        let d = Settings::default();
        let settings = Settings {
            partitions: env::number(e, "SCIMBUS_PARTITIONS", d.partitions, 1..=1024)?,
            batch_max: env::number(e, "SCIMBUS_STORE_BATCH", d.batch_max, 1..=10_000)?,
            max_attempts: env::number(e, "SCIMBUS_STORE_MAX_ATTEMPTS", d.max_attempts, 1..=100)?,
            hr_interval: Duration::from_millis(env::number(
                e,
                "SCIMBUS_HR_INTERVAL_MS",
                1000,
                10..=60_000,
            )?),
            audit_retention: match env::number(
                e,
                "SCIMBUS_AUDIT_RETENTION_DAYS",
                400u64,
                0..=36_500,
            )? {
                0 => None,
                days => Some(Duration::from_secs(days * 24 * 3600)),
            },
            ..d
        };
        let file = e
            .get("SCIMBUS_CONFIG")
            .map(|path| scimbus_runtime::FileConfig::load(&path))
            .transpose()
            .map_err(|err| SettingError::new("SCIMBUS_CONFIG", err.to_string()))?;
        let hr_owns = file
            .as_ref()
            .map(scimbus_runtime::FileConfig::hr_owns)
            .unwrap_or_default();
        let tenants: Vec<String> = match &file {
            Some(f) => f.tenant_names(),
            None => e
                .get("SCIMBUS_TENANTS")
                .unwrap_or_else(|| "demo,demo2".into())
                .split(',')
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect(),
        };
        if let Some(bad) = tenants.iter().find(|t| !scimbus_events::valid_tenant(t)) {
            return Err(SettingError::new(
                "SCIMBUS_TENANTS",
                scimbus_events::TenantError(bad.clone()).to_string(),
            ));
        }
        Ok(StoreConfig {
            service: ServiceSettings::from_lookup(e, "SCIMBUS_STORE_ADDR", "127.0.0.1:8081")?,
            tenants,
            hr_owns,
            settings,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimbus_runtime::env::Pairs;

    fn cfg(pairs: &[(&str, &str)]) -> Result<StoreConfig, SettingError> {
        StoreConfig::from_lookup(&Pairs::new(pairs))
    }

    #[test]
    fn defaults_and_errors_name_the_setting() {
        let c = cfg(&[("SCIMBUS_DATABASE_URL", "postgres://x/y")]).unwrap();
        assert_eq!(c.settings.partitions, 1);
        assert_eq!(c.service.addr.to_string(), "127.0.0.1:8081");
        assert_eq!(c.tenants, vec!["demo", "demo2"]);
        let e = cfg(&[]).unwrap_err();
        assert_eq!(e.name, "SCIMBUS_DATABASE_URL");
        let e = cfg(&[
            ("SCIMBUS_DATABASE_URL", "postgres://x/y"),
            ("SCIMBUS_PARTITIONS", "0"),
        ])
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "SCIMBUS_PARTITIONS: \"0\" is not a number from 1 to 1024"
        );
        let e = cfg(&[
            ("SCIMBUS_DATABASE_URL", "postgres://x/y"),
            ("SCIMBUS_TENANTS", "ok,Bad!"),
        ])
        .unwrap_err();
        assert_eq!(e.name, "SCIMBUS_TENANTS");
        let e = cfg(&[
            ("SCIMBUS_DATABASE_URL", "postgres://x/y"),
            ("SCIMBUS_BUS_PREFIX", "a.b"),
        ])
        .unwrap_err();
        assert_eq!(e.name, "SCIMBUS_BUS_PREFIX");
    }

    #[test]
    fn the_audit_trail_is_kept_400_days_unless_told_otherwise() {
        let db = ("SCIMBUS_DATABASE_URL", "postgres://x/y");
        let day = Duration::from_secs(24 * 3600);
        let kept = |pairs: &[(&str, &str)]| cfg(pairs).unwrap().settings.audit_retention;
        assert_eq!(kept(&[db]), Some(day * 400));
        assert_eq!(
            kept(&[db, ("SCIMBUS_AUDIT_RETENTION_DAYS", "30")]),
            Some(day * 30)
        );
        assert_eq!(kept(&[db, ("SCIMBUS_AUDIT_RETENTION_DAYS", "0")]), None);
        let e = cfg(&[db, ("SCIMBUS_AUDIT_RETENTION_DAYS", "-1")]).unwrap_err();
        assert_eq!(e.name, "SCIMBUS_AUDIT_RETENTION_DAYS");
    }
}
