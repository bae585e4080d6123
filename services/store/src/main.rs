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
    let pool = scimbus_db::connect(&cfg.database_url, 1)
        .await
        .context("Postgres")?;
    let store = Store::start(cfg, registry).await.context("starting")?;
    let ready: scimbus_runtime::health::ReadyCheck = Arc::new(move || {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query("select 1")
                .execute(&pool)
                .await
                .map(drop)
                .map_err(|e| format!("Postgres: {e}"))
        })
    });
    let health =
        tokio::spawn(
            async move { axum::serve(listener, scimbus_runtime::health::routes(ready)).await },
        );
    tracing::info!("scimbus-store running");
    scimbus_runtime::shutdown::signal().await;
    tracing::info!("stopping");
    health.abort();
    store.stop().await;
    Ok(())
}
