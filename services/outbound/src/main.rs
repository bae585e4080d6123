//! `scimbus-outbound`: see the crate docs.

use std::sync::Arc;

use anyhow::Context;
use scimbus_outbound::{Outbound, OutboundConfig};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scimbus_runtime::init_logging();
    let cfg = OutboundConfig::from_env().context("configuration")?;
    let listener = tokio::net::TcpListener::bind(cfg.health_addr)
        .await
        .with_context(|| format!("SCIMBUS_OUTBOUND_ADDR {}", cfg.health_addr))?;
    let registry = Arc::new(scimbus_scim::Registry::standard().context("SCIM schemas")?);
    let outbound = Arc::new(Outbound::start(&cfg, registry).await.context("starting")?);
    let probe = outbound.clone();
    let ready: scimbus_runtime::health::ReadyCheck = Arc::new(move || {
        let o = probe.clone();
        Box::pin(async move { o.ready().await })
    });
    let health =
        tokio::spawn(
            async move { axum::serve(listener, scimbus_runtime::health::routes(ready)).await },
        );
    tracing::info!(targets = outbound.targets.len(), "scimbus-outbound running");
    scimbus_runtime::shutdown::signal().await;
    tracing::info!("stopping");
    health.abort();
    outbound.stop().await;
    Ok(())
}
