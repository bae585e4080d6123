//! scimbus-runtime: what every scimbus service shares at run time.
//!
//! The service skeleton ([`server`], [`service`]: build → `local_addr` →
//! `run_until(shutdown)`, `/livez` and `/readyz`, a bounded drain; and
//! [`process::main`], which runs a service binary and exits 78 on a
//! configuration error), the settings every service reads alike
//! ([`settings`]), the startup prologue ([`start`]: connect to NATS and
//! Postgres, check the server, make sure the streams exist, migrate), the
//! configuration file (tenants and their tokens, targets with their scope,
//! mapping and circuit settings), secret references (`env:NAME`,
//! `file:/path`, `sha256:<hex>`), settings read from the environment with
//! errors that name the variable, logging, and the wait between retries.
//!
//! It knows no service: nothing here handles SCIM requests, applies
//! commands or pushes to targets.

pub mod api_tokens;
pub mod audit;
pub mod backoff;
pub mod config;
pub mod env;
pub mod health;
pub mod hr_events;
pub mod hr_sources;
pub mod metrics;
pub mod passwords;
pub mod probe;
pub mod process;
pub mod scope;
pub mod secret;
pub mod server;
pub mod service;
pub mod settings;
pub mod shutdown;
pub mod start;
pub mod subscriptions;
pub mod target;
pub mod telemetry;
pub mod workers;

pub use backoff::backoff;
pub use config::{FileConfig, TenantConfig};
pub use env::SettingError;
pub use probe::{NotReady, Probe};
pub use secret::{Secret, token_hash};
pub use server::{Listener, Running, Server};
pub use service::{RunError, Service};
pub use settings::ServiceSettings;
pub use start::{Connected, StartError};
pub use target::{
    AuthConfig, CircuitConfig, Deprovision, MappingConfig, TargetConfig, UpdateStyle,
};
pub use workers::Workers;

/// Logging to stderr, filtered by `RUST_LOG` (default `info`); JSON lines
/// when `SCIMBUS_LOG_FORMAT=json`; no traces (tools: the services use
/// [`telemetry::Telemetry`]). A `RUST_LOG` that does not parse is reported
/// (as the first line logged) and `info` used.
pub fn init_logging() {
    let (filter, bad) = telemetry::log_filter();
    use std::io::IsTerminal;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    if std::env::var("SCIMBUS_LOG_FORMAT").is_ok_and(|f| f == "json") {
        builder.json().init();
    } else {
        builder.init();
    }
    if let Some(e) = bad {
        tracing::warn!(error = %e, "RUST_LOG does not parse; logging at info");
    }
}
