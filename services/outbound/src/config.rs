//! The outbound service's settings, read from the environment before
//! anything starts; a bad value stops it with a message naming the variable.

use std::time::Duration;

use scimbus_runtime::env::{self, Lookup, ProcessEnv, SettingError};
use std::sync::Arc;

use scimbus_notify::{SigningKey, SubscriptionSpec};
use scimbus_runtime::{ServiceSettings, TargetConfig};

/// Everything the outbound service needs to start.
#[derive(Debug, Clone)]
pub struct OutboundConfig {
    /// Where NATS and Postgres are, the bus prefix, where `/livez` and
    /// `/readyz` are served (`SCIMBUS_OUTBOUND_ADDR`), the drain bound.
    pub service: ServiceSettings,
    /// The targets of every tenant, from `SCIMBUS_CONFIG`.
    pub targets: Vec<(String, TargetConfig)>,
    /// The first retry delay of a transient failure (doubles).
    pub backoff: Duration,
    /// How often a replica tries to take a target someone else drives.
    pub lease_retry: Duration,
    /// The subscriptions of every tenant, from `SCIMBUS_CONFIG`.
    pub subscriptions: Vec<(String, SubscriptionSpec)>,
    /// The ingress's base URL (`SCIMBUS_PUBLIC_URL`): the issuer of event
    /// tokens.
    pub public_url: String,
    /// The key that signs event tokens (`SCIMBUS_EVENTS_SIGNING_KEY`).
    pub signing_key: Option<Arc<SigningKey>>,
    /// The first retry delay of a failed delivery (doubles up to an hour).
    pub notify_backoff: Duration,
    /// How often the subscriptions are read again.
    pub notify_reload: Duration,
    /// `[passwords]`: the keys that open the passwords sealed for targets
    /// with `send_passwords`.
    pub passwords: Option<Arc<scimbus_runtime::passwords::PasswordKeys>>,
}

impl OutboundConfig {
    /// Reads the [`ServiceSettings`] (`SCIMBUS_OUTBOUND_ADDR`,
    /// 127.0.0.1:8082), the targets and subscriptions of `SCIMBUS_CONFIG`,
    /// `SCIMBUS_OUTBOUND_BACKOFF_MS` (the first retry delay of a push, 500),
    /// `SCIMBUS_NOTIFY_BACKOFF_MS` (of a delivery, 1000),
    /// `SCIMBUS_NOTIFY_RELOAD_MS` (1000), `SCIMBUS_PUBLIC_URL` and
    /// `SCIMBUS_EVENTS_SIGNING_KEY` (a reference to a PKCS#8 PEM key).
    pub fn from_env() -> Result<OutboundConfig, SettingError> {
        Self::from_lookup(&ProcessEnv)
    }

    /// As [`Self::from_env`], from any lookup (tests).
    pub fn from_lookup(e: &impl Lookup) -> Result<OutboundConfig, SettingError> {
        let (targets, subscriptions, passwords) = match e.get("SCIMBUS_CONFIG") {
            Some(path) => {
                let file = scimbus_runtime::FileConfig::load(&path)
                    .map_err(|err| SettingError::new("SCIMBUS_CONFIG", err.to_string()))?;
                let passwords = file
                    .resolve_passwords()
                    .map_err(|err| SettingError::new("SCIMBUS_CONFIG", format!("{path}: {err}")))?;
                (file.targets(), file.subscriptions(), passwords)
            }
            None => (Vec::new(), Vec::new(), None),
        };
        let backoff_ms: u64 = env::number(e, "SCIMBUS_OUTBOUND_BACKOFF_MS", 500, 1..=600_000)?;
        Ok(OutboundConfig {
            service: ServiceSettings::from_lookup(e, "SCIMBUS_OUTBOUND_ADDR", "127.0.0.1:8082")?,
            targets,
            backoff: Duration::from_millis(backoff_ms),
            lease_retry: Duration::from_secs(2),
            subscriptions,
            public_url: scimbus_runtime::settings::public_url(e, "http://127.0.0.1:8080")?,
            signing_key: scimbus_runtime::settings::signing_key(e)?,
            notify_backoff: Duration::from_millis(env::number(
                e,
                "SCIMBUS_NOTIFY_BACKOFF_MS",
                1000,
                1..=600_000,
            )?),
            notify_reload: Duration::from_millis(env::number(
                e,
                "SCIMBUS_NOTIFY_RELOAD_MS",
                1000,
                50..=60_000,
            )?),
            passwords,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimbus_runtime::env::Pairs;

    fn cfg(pairs: &[(&str, &str)]) -> Result<OutboundConfig, SettingError> {
        OutboundConfig::from_lookup(&Pairs::new(pairs))
    }

    #[test]
    fn defaults_and_errors_name_the_setting() {
        let c = cfg(&[("SCIMBUS_DATABASE_URL", "postgres://x/y")]).unwrap();
        assert_eq!(c.service.addr.to_string(), "127.0.0.1:8082");
        assert_eq!(c.service.nats_url, "nats://127.0.0.1:4222");
        assert_eq!(cfg(&[]).unwrap_err().name, "SCIMBUS_DATABASE_URL");
        let e = cfg(&[
            ("SCIMBUS_DATABASE_URL", "postgres://x/y"),
            ("SCIMBUS_OUTBOUND_ADDR", "nowhere"),
        ])
        .unwrap_err();
        assert_eq!(e.name, "SCIMBUS_OUTBOUND_ADDR");
        let e = cfg(&[
            ("SCIMBUS_DATABASE_URL", "postgres://x/y"),
            ("SCIMBUS_BUS_PREFIX", "a.b"),
        ])
        .unwrap_err();
        assert_eq!(e.name, "SCIMBUS_BUS_PREFIX");
    }
}
