//! `scimbus-store`: see the crate docs.

use std::sync::Arc;

use anyhow::Context;
use scimbus_store::{Store, StoreConfig};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let cfg = StoreConfig::from_env().context("configuration")?;
    let registry = Arc::new(scimbus_scim::Registry::standard().context("SCIM schemas")?);
    let store = Store::start(cfg, registry).await.context("starting")?;
    tracing::info!("scimbus-store running");
    shutdown_signal().await;
    tracing::info!("stopping");
    store.stop().await;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
