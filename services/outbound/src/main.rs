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
    let outbound = Arc::new(Outbound::start(&cfg).await.context("starting")?);
    let ready: scimbus_runtime::health::ReadyCheck = Arc::new(move || {
        let o = outbound.clone();
        Box::pin(async move { o.ready().await })
    });
    let health =
        tokio::spawn(
            async move { axum::serve(listener, scimbus_runtime::health::routes(ready)).await },
        );
    tracing::info!("scimbus-outbound running (no target workers yet)");
    scimbus_runtime::shutdown::signal().await;
    tracing::info!("stopping");
    health.abort();
    Ok(())
}
