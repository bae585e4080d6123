//! A service's `main`: settings, logging, build, run until SIGTERM or
//! SIGINT, and an exit code that says what went wrong.

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;

use scimbus_scim::Registry;

use crate::env::SettingError;
use crate::server::Server;
use crate::service::Service;

/// A setting or the configuration file cannot work as given (sysexits'
/// `EX_CONFIG`): restarting will not help, changing the configuration will.
pub const EXIT_CONFIG: u8 = 78;
/// Anything else: a dependency that did not answer at start, a drain that
/// outlasted its bound, a server that failed.
pub const EXIT_FAILURE: u8 = 1;

/// A service's start error, told apart by the exit code.
pub trait StartFailure: std::error::Error {
    /// Whether the fault is in the configuration.
    fn is_configuration(&self) -> bool;
}

impl StartFailure for crate::start::StartError {
    fn is_configuration(&self) -> bool {
        crate::start::StartError::is_configuration(self)
    }
}

/// Runs a service binary: logging and traces, `settings()` (before
/// anything connects or binds), the standard SCIM registry, `build`, then
/// serving until a signal, draining, and exporting the last spans. Every
/// error is logged here, once.
pub fn main<C, S, E, B, Fut>(
    name: &'static str,
    settings: impl FnOnce() -> Result<C, SettingError>,
    build: B,
) -> ExitCode
where
    S: Service,
    E: StartFailure,
    B: FnOnce(C, Arc<Registry>) -> Fut,
    Fut: Future<Output = Result<Server<S>, E>>,
{
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            // Nothing logs yet: the logger needs the runtime for traces.
            eprintln!("{name}: starting the async runtime: {e}");
            return ExitCode::from(EXIT_FAILURE);
        }
    };
    let telemetry = {
        let _entered = runtime.enter();
        crate::telemetry::Telemetry::init(name)
    };
    let telemetry = match telemetry {
        Ok(t) => t,
        Err(e) => {
            crate::init_logging();
            tracing::error!(error = %e, "{name}: configuration");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let cfg = match settings() {
        Ok(cfg) => cfg,
        Err(e) => {
            tracing::error!(error = %e, "{name}: configuration");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    runtime.block_on(async move {
        let code = serve(name, build, cfg).await;
        telemetry.shutdown().await;
        code
    })
}

async fn serve<C, S, E, B, Fut>(name: &'static str, build: B, cfg: C) -> ExitCode
where
    S: Service,
    E: StartFailure,
    B: FnOnce(C, Arc<Registry>) -> Fut,
    Fut: Future<Output = Result<Server<S>, E>>,
{
    {
        let registry = match Registry::standard() {
            Ok(r) => Arc::new(r),
            Err(e) => {
                tracing::error!(error = %e.detail, "{name}: the built-in SCIM schemas");
                return ExitCode::from(EXIT_FAILURE);
            }
        };
        let server = match build(cfg, registry).await {
            Ok(server) => server,
            Err(e) => {
                tracing::error!(error = %e, "{name}: starting");
                return ExitCode::from(if e.is_configuration() {
                    EXIT_CONFIG
                } else {
                    EXIT_FAILURE
                });
            }
        };
        match server.local_addr() {
            Ok(addr) => tracing::info!(%addr, "{name} running"),
            Err(e) => tracing::warn!(error = %e, "{name} running; its address is unknown"),
        }
        match server.run_until(crate::shutdown::signal()).await {
            Ok(()) => {
                tracing::info!("{name} stopped");
                ExitCode::SUCCESS
            }
            Err(e) => {
                tracing::error!(error = %e, "{name}: stopping");
                ExitCode::from(EXIT_FAILURE)
            }
        }
    }
}
