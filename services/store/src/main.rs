//! `scimbus-store`: see the crate docs.

use std::sync::Arc;

use anyhow::Context;
use scimbus_store::{Store, StoreConfig};

/// mimalloc: the services allocate many small JSON values per request, and
/// glibc malloc/free showed as a fifth of their profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scimbus_runtime::init_logging();
    let cfg = StoreConfig::from_env().context("configuration")?;
    let registry = Arc::new(scimbus_scim::Registry::standard().context("SCIM schemas")?);
    let listener = tokio::net::TcpListener::bind(cfg.health_addr)
        .await
        .with_context(|| format!("SCIMBUS_STORE_ADDR {}", cfg.health_addr))?;
    let store = Arc::new(Store::start(cfg, registry).await.context("starting")?);
    let routes = store.health_routes();
    let health = tokio::spawn(async move { axum::serve(listener, routes).await });
    tracing::info!("scimbus-store running");
    scimbus_runtime::shutdown::signal().await;
    tracing::info!("stopping");
    health.abort();
    store.stop().await;
    Ok(())
}
