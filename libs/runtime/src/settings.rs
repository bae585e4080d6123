//! The settings every service reads the same way: where NATS and Postgres
//! are, the bus prefix, the address it serves on and how long it may take
//! to stop.

use std::net::SocketAddr;
use std::time::Duration;

use crate::env::{self, Lookup, SettingError};

/// How long a stop may take by default: under Kubernetes' 30 s grace
/// period, so the process reports a stop it could not finish before it is
/// killed.
pub const DEFAULT_DRAIN: Duration = Duration::from_secs(25);

/// What every service needs to start, read the same way by each.
#[derive(Debug, Clone)]
pub struct ServiceSettings {
    /// `SCIMBUS_NATS_URL` (nats://127.0.0.1:4222).
    pub nats_url: String,
    /// `SCIMBUS_DATABASE_URL` (required).
    pub database_url: String,
    /// `SCIMBUS_BUS_PREFIX`: prefix of stream and subject names (empty by
    /// default; docs/design.md §3).
    pub bus_prefix: String,
    /// Where the service listens (its API, if it has one, and `/livez`,
    /// `/readyz`).
    pub addr: SocketAddr,
    /// The variable `addr` came from, for messages.
    pub addr_setting: &'static str,
    /// `SCIMBUS_DRAIN_SECS` (25): how long a stop may take, from the signal
    /// to the last piece of work in hand finished.
    pub drain: Duration,
    /// `SCIMBUS_NATS_CREDS_FILE`, `SCIMBUS_NATS_USER` and
    /// `SCIMBUS_NATS_PASSWORD`: credentials beyond the URL's.
    pub nats_auth: scimbus_bus::NatsAuth,
    /// `SCIMBUS_STREAM_REPLICAS` (1): how many copies of each stream a
    /// JetStream cluster keeps (3 on a production cluster). Applied when a
    /// stream is created or updated at start.
    pub stream_replicas: usize,
}

impl ServiceSettings {
    /// Reads the settings above; `addr_setting` names the service's own
    /// address variable and `addr_default` its default. The URLs are
    /// checked for form here, so a typo is a setting error, not a failure
    /// to connect.
    pub fn from_lookup(
        e: &impl Lookup,
        addr_setting: &'static str,
        addr_default: &str,
    ) -> Result<ServiceSettings, SettingError> {
        let database_url = env::required(
            e,
            "SCIMBUS_DATABASE_URL",
            "postgres://user:password@host:5432/scimbus",
        )?;
        postgres_url("SCIMBUS_DATABASE_URL", &database_url)?;
        let nats_url = env::text(e, "SCIMBUS_NATS_URL", "nats://127.0.0.1:4222");
        for server in nats_url.split(',') {
            server
                .trim()
                .parse::<async_nats::ServerAddr>()
                .map_err(|err| {
                    SettingError::new(
                        "SCIMBUS_NATS_URL",
                        format!("\"{server}\" is not a NATS URL: {err}"),
                    )
                })?;
        }
        let drain_secs: u64 =
            env::number(e, "SCIMBUS_DRAIN_SECS", DEFAULT_DRAIN.as_secs(), 1..=3600)?;
        let stream_replicas: usize = env::number(e, "SCIMBUS_STREAM_REPLICAS", 1, 1..=5)?;
        Ok(ServiceSettings {
            nats_auth: nats_auth(e)?,
            stream_replicas,
            nats_url,
            database_url,
            bus_prefix: env::bus_prefix(e)?,
            addr: env::addr(e, addr_setting, addr_default)?,
            addr_setting,
            drain: Duration::from_secs(drain_secs),
        })
    }

    /// Settings for a service started in-process (tests, tools): any free
    /// port on 127.0.0.1, the default drain.
    pub fn local(
        nats_url: impl Into<String>,
        database_url: impl Into<String>,
        bus_prefix: impl Into<String>,
    ) -> ServiceSettings {
        ServiceSettings {
            nats_url: nats_url.into(),
            database_url: database_url.into(),
            bus_prefix: bus_prefix.into(),
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            addr_setting: "addr",
            drain: DEFAULT_DRAIN,
            nats_auth: scimbus_bus::NatsAuth::default(),
            stream_replicas: 1,
        }
    }
}

/// The NATS credentials of the environment: a creds file must exist (a
/// typo is a setting error, not a refused connection), and a user comes
/// with a password.
fn nats_auth(e: &impl Lookup) -> Result<scimbus_bus::NatsAuth, SettingError> {
    let set = |name: &str| e.get(name).filter(|v| !v.trim().is_empty());
    let creds_file = match set("SCIMBUS_NATS_CREDS_FILE") {
        None => None,
        Some(path) => {
            let path = std::path::PathBuf::from(path);
            if !path.is_file() {
                return Err(SettingError::new(
                    "SCIMBUS_NATS_CREDS_FILE",
                    format!("{} is not a readable file", path.display()),
                ));
            }
            Some(path)
        }
    };
    let user_password = match (set("SCIMBUS_NATS_USER"), set("SCIMBUS_NATS_PASSWORD")) {
        (None, None) => None,
        (Some(user), Some(password)) => Some((user, password)),
        (Some(_), None) => {
            return Err(SettingError::new(
                "SCIMBUS_NATS_PASSWORD",
                "is required with SCIMBUS_NATS_USER",
            ));
        }
        (None, Some(_)) => {
            return Err(SettingError::new(
                "SCIMBUS_NATS_USER",
                "is required with SCIMBUS_NATS_PASSWORD",
            ));
        }
    };
    Ok(scimbus_bus::NatsAuth {
        creds_file,
        user_password,
    })
}

/// Checks that `url` is a `postgres://` (or `postgresql://`) URL sqlx can
/// use; `name` is its setting.
pub fn postgres_url(name: &str, url: &str) -> Result<(), SettingError> {
    let scheme = url.split_once("://").map(|(s, _)| s);
    if !matches!(scheme, Some("postgres" | "postgresql")) {
        return Err(SettingError::new(
            name,
            "is not a postgres:// URL (for example postgres://user:password@host:5432/scimbus)",
        ));
    }
    url.parse::<sqlx::postgres::PgConnectOptions>()
        .map(drop)
        .map_err(|err| SettingError::new(name, format!("is not a Postgres URL: {err}")))
}

/// `SCIMBUS_PUBLIC_URL`: the base URL clients reach the ingress at
/// (default `default`), without a trailing `/`. It starts every
/// `Location` header and `$ref`, and is the issuer of event tokens, so it
/// must be visible ASCII.
pub fn public_url(e: &impl Lookup, default: &str) -> Result<String, SettingError> {
    let url = env::text(e, "SCIMBUS_PUBLIC_URL", default)
        .trim_end_matches('/')
        .to_string();
    if !url.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(SettingError::new(
            "SCIMBUS_PUBLIC_URL",
            format!("\"{url}\" must be visible ASCII (punycode and percent-encoding for the rest)"),
        ));
    }
    Ok(url)
}

/// `SCIMBUS_EVENTS_SIGNING_KEY`: a reference (`env:NAME`, `file:/path`)
/// to the PKCS#8 PEM private key (RSA or P-256) that signs the event
/// tokens of subscriptions with `signing = "key"`; its public half is
/// served as a JWKS. None: no such subscription can be made.
pub fn signing_key(
    e: &impl Lookup,
) -> Result<Option<std::sync::Arc<scimbus_notify::SigningKey>>, SettingError> {
    const NAME: &str = "SCIMBUS_EVENTS_SIGNING_KEY";
    let Some(reference) = e.get(NAME).filter(|r| !r.trim().is_empty()) else {
        return Ok(None);
    };
    let pem = match crate::Secret::resolve(&reference) {
        Ok(crate::Secret::Value(v)) => v,
        Ok(crate::Secret::Hash(_)) => {
            return Err(SettingError::new(NAME, "a key cannot be a sha256: hash"));
        }
        Err(err) => return Err(SettingError::new(NAME, err.to_string())),
    };
    scimbus_notify::SigningKey::from_pem(pem.as_bytes())
        .map(|k| Some(std::sync::Arc::new(k)))
        .map_err(|err| SettingError::new(NAME, err.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Pairs;

    fn read(pairs: &[(&str, &str)]) -> Result<ServiceSettings, SettingError> {
        ServiceSettings::from_lookup(&Pairs::new(pairs), "X_ADDR", "127.0.0.1:9")
    }

    #[test]
    fn defaults_and_each_bad_value_named() {
        let ok = read(&[("SCIMBUS_DATABASE_URL", "postgres://u@h/d")]).unwrap();
        assert_eq!(ok.nats_url, "nats://127.0.0.1:4222");
        assert_eq!(ok.addr.port(), 9);
        assert_eq!(ok.drain, DEFAULT_DRAIN);
        assert_eq!(read(&[]).unwrap_err().name, "SCIMBUS_DATABASE_URL");
        let db = ("SCIMBUS_DATABASE_URL", "postgres://u@h/d");
        for (name, value) in [
            ("SCIMBUS_DATABASE_URL", "mysql://u@h/d"),
            ("SCIMBUS_NATS_URL", "nats://127.0.0.1:notaport"),
            ("SCIMBUS_DRAIN_SECS", "0"),
            ("SCIMBUS_BUS_PREFIX", "a.b"),
            ("X_ADDR", "nowhere"),
            ("SCIMBUS_STREAM_REPLICAS", "0"),
            ("SCIMBUS_NATS_CREDS_FILE", "/surely/not/here.creds"),
        ] {
            let e = read(&[db, (name, value)]).unwrap_err();
            assert_eq!(e.name, name, "{value}: {e}");
        }
        let two = read(&[db, ("SCIMBUS_NATS_URL", "nats://a:4222, nats://b:4222")]);
        assert!(two.is_ok(), "{two:?}");
        let auth = read(&[
            db,
            ("SCIMBUS_NATS_USER", "scimbus"),
            ("SCIMBUS_NATS_PASSWORD", "secret"),
            ("SCIMBUS_STREAM_REPLICAS", "3"),
        ])
        .unwrap();
        assert_eq!(
            auth.nats_auth.user_password,
            Some(("scimbus".into(), "secret".into()))
        );
        assert_eq!(auth.stream_replicas, 3);
        let alone = read(&[db, ("SCIMBUS_NATS_USER", "scimbus")]).unwrap_err();
        assert_eq!(alone.name, "SCIMBUS_NATS_PASSWORD");
        let alone = read(&[db, ("SCIMBUS_NATS_PASSWORD", "secret")]).unwrap_err();
        assert_eq!(alone.name, "SCIMBUS_NATS_USER");
    }
}
