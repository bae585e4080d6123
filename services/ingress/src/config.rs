//! The ingress's settings, from the environment and the configuration
//! file; a bad one stops it before it binds, naming the setting.

use std::time::Duration;

use scimbus_runtime::ServiceSettings;
use scimbus_runtime::config::{FileConfig, Tenant};
use scimbus_runtime::env::{self, Lookup, SettingError};

/// Request limits, advertised in `/ServiceProviderConfig`.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The largest request body (and `/Bulk` `maxPayloadSize`).
    pub max_payload: usize,
    /// `/Bulk` `maxOperations`.
    pub bulk_max_operations: usize,
    /// The most members a PATCH of a group answers with unasked
    /// (`SCIMBUS_PATCH_ANSWER_MAX_MEMBERS`): a larger group's PATCH is
    /// answered 204, as RFC 7644 §3.5.2 allows.
    pub patch_answer_max_members: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_payload: 1 << 20,
            bulk_max_operations: 1000,
            patch_answer_max_members: 10_000,
        }
    }
}

/// Everything the ingress needs to start.
#[derive(Debug, Clone)]
pub struct IngressConfig {
    /// Where NATS and Postgres are, the bus prefix, where the API and
    /// health are served (`SCIMBUS_INGRESS_ADDR`), the drain bound.
    pub service: ServiceSettings,
    /// The base URL clients reach this ingress at (for `meta.location`).
    pub public_url: String,
    /// Reads may go to a replica.
    pub read_database_url: String,
    pub partitions: u32,
    pub write_timeout: Duration,
    /// How many ingress replicas share the request rates
    /// (`SCIMBUS_INGRESS_REPLICAS`).
    pub replicas: u32,
    /// Proxies whose `X-Forwarded-For` names the client
    /// (`SCIMBUS_TRUSTED_PROXIES`).
    pub trusted_proxies: crate::auth::proxies::TrustedProxies,
    pub tenants: Vec<Tenant>,
    pub limits: Limits,
    /// SHA-256 of the operator API's bearer tokens (none: `/admin/v1`
    /// answers 401 to everyone).
    pub admin_token_hashes: Vec<[u8; 32]>,
    /// The operator API's read-only tokens (`GET` only).
    pub admin_read_token_hashes: Vec<[u8; 32]>,
    /// The outbound targets the configuration declares, per tenant (shown
    /// by the operator API; the outbound service drives them).
    pub targets: Vec<(String, scimbus_runtime::TargetConfig)>,
    /// The subscriptions the configuration declares, per tenant (shown by
    /// the operator API, polled at `/events/v1`; the outbound service
    /// delivers them).
    pub subscriptions: Vec<(String, scimbus_notify::SubscriptionSpec)>,
    /// `SCIMBUS_EVENTS_SIGNING_KEY`: signs event tokens; its public half is
    /// served as a JWKS.
    pub signing_key: Option<std::sync::Arc<scimbus_notify::SigningKey>>,
    /// `SCIMBUS_POLL_WAIT_MS` (15 000): how long a poll that asks to wait
    /// for events waits at most.
    pub poll_wait: Duration,
    /// The HR sources the configuration declares, compiled, per tenant.
    pub hr_sources: Vec<(String, std::sync::Arc<scimbus_hr::Source>)>,
    /// `[passwords]`: the keys that seal passwords for the targets with
    /// `send_passwords` (none: no password is kept).
    pub passwords: Option<std::sync::Arc<scimbus_runtime::passwords::PasswordKeys>>,
}

impl IngressConfig {
    /// Reads the [`ServiceSettings`] (`SCIMBUS_INGRESS_ADDR`,
    /// 127.0.0.1:8080), `SCIMBUS_PUBLIC_URL`, `SCIMBUS_DATABASE_READ_URL`,
    /// `SCIMBUS_PARTITIONS`, `SCIMBUS_WRITE_TIMEOUT_MS`,
    /// `SCIMBUS_MAX_PAYLOAD`, `SCIMBUS_BULK_MAX_OPERATIONS`, and the tenants
    /// of `SCIMBUS_CONFIG`.
    pub fn from_env() -> Result<IngressConfig, SettingError> {
        Self::from_lookup(&env::ProcessEnv)
    }

    pub fn from_lookup(e: &impl Lookup) -> Result<IngressConfig, SettingError> {
        let service = ServiceSettings::from_lookup(e, "SCIMBUS_INGRESS_ADDR", "127.0.0.1:8080")?;
        let (
            tenants,
            (admin_token_hashes, admin_read_token_hashes),
            targets,
            subscriptions,
            hr_sources,
            passwords,
        ) = match e.get("SCIMBUS_CONFIG") {
            Some(path) => {
                let file = FileConfig::load(&path)
                    .map_err(|err| SettingError::new("SCIMBUS_CONFIG", err.to_string()))?;
                let bad = |err: scimbus_runtime::config::SecretRefError| {
                    SettingError::new("SCIMBUS_CONFIG", format!("{path}: {err}"))
                };
                (
                    file.resolve_tenants().map_err(bad)?,
                    (
                        file.resolve_admin_tokens().map_err(bad)?,
                        file.resolve_admin_read_tokens().map_err(bad)?,
                    ),
                    file.targets(),
                    file.subscriptions(),
                    scimbus_runtime::hr_sources::compile(&file).map_err(|err| {
                        SettingError::new("SCIMBUS_CONFIG", format!("{path}: {err}"))
                    })?,
                    file.resolve_passwords().map_err(|err| {
                        SettingError::new("SCIMBUS_CONFIG", format!("{path}: {err}"))
                    })?,
                )
            }
            None => (
                Vec::new(),
                (Vec::new(), Vec::new()),
                Vec::new(),
                Vec::new(),
                Vec::new(),
                None,
            ),
        };
        let public_url =
            scimbus_runtime::settings::public_url(e, &format!("http://{}", service.addr))?;
        let d = Limits::default();
        // `SCIMBUS_READ_DATABASE_URL` is the name of earlier releases.
        let (name, read_database_url) = match (
            e.get("SCIMBUS_DATABASE_READ_URL"),
            e.get("SCIMBUS_READ_DATABASE_URL"),
        ) {
            (Some(url), _) => ("SCIMBUS_DATABASE_READ_URL", url),
            (None, Some(url)) => ("SCIMBUS_READ_DATABASE_URL", url),
            (None, None) => ("SCIMBUS_DATABASE_READ_URL", service.database_url.clone()),
        };
        scimbus_runtime::settings::postgres_url(name, &read_database_url)?;
        Ok(IngressConfig {
            service,
            public_url,
            read_database_url,
            partitions: env::number(e, "SCIMBUS_PARTITIONS", 1, 1..=1024)?,
            replicas: env::number(e, "SCIMBUS_INGRESS_REPLICAS", 1, 1..=1000)?,
            trusted_proxies: crate::auth::proxies::TrustedProxies::parse(&env::text(
                e,
                "SCIMBUS_TRUSTED_PROXIES",
                "",
            ))
            .map_err(|why| SettingError::new("SCIMBUS_TRUSTED_PROXIES", why))?,
            write_timeout: Duration::from_millis(env::number(
                e,
                "SCIMBUS_WRITE_TIMEOUT_MS",
                10_000,
                100..=600_000,
            )?),
            tenants,
            admin_token_hashes,
            admin_read_token_hashes,
            targets,
            subscriptions,
            hr_sources,
            passwords,
            signing_key: scimbus_runtime::settings::signing_key(e)?,
            poll_wait: Duration::from_millis(env::number(
                e,
                "SCIMBUS_POLL_WAIT_MS",
                15_000,
                0..=120_000,
            )?),
            limits: Limits {
                max_payload: env::number(
                    e,
                    "SCIMBUS_MAX_PAYLOAD",
                    d.max_payload,
                    1024..=(64 << 20),
                )?,
                bulk_max_operations: env::number(
                    e,
                    "SCIMBUS_BULK_MAX_OPERATIONS",
                    d.bulk_max_operations,
                    1..=100_000,
                )?,
                patch_answer_max_members: env::number(
                    e,
                    "SCIMBUS_PATCH_ANSWER_MAX_MEMBERS",
                    d.patch_answer_max_members,
                    0..=10_000_000,
                )?,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_public_url_that_cannot_start_a_header_is_refused() {
        let lookup = |url: &'static str| {
            move |k: &str| match k {
                "SCIMBUS_DATABASE_URL" => Some("postgres://x/y".to_string()),
                "SCIMBUS_PUBLIC_URL" => Some(url.to_string()),
                _ => None,
            }
        };
        let e = IngressConfig::from_lookup(&lookup("https://scïm.example")).unwrap_err();
        assert_eq!(e.name, "SCIMBUS_PUBLIC_URL");
        let c = IngressConfig::from_lookup(&lookup("https://xn--scm-ula.example/")).unwrap();
        assert_eq!(c.public_url, "https://xn--scm-ula.example");
    }
}
