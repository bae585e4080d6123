//! `scimbus-ingress`: see the crate docs.

use std::sync::Arc;

use anyhow::Context;
use scimbus_ingress::{Ingress, IngressConfig};

/// mimalloc: the services allocate many small JSON values per request, and
/// glibc malloc/free showed as a fifth of their profiles.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    scimbus_runtime::init_logging();
    let cfg = IngressConfig::from_env().context("configuration")?;
    let registry = Arc::new(scimbus_scim::Registry::standard().context("SCIM schemas")?);
    let ingress = Ingress::build(cfg, registry).await.context("starting")?;
    tracing::info!(addr = %ingress.local_addr()?, "scimbus-ingress listening");
    ingress
        .run_until(scimbus_runtime::shutdown::signal())
        .await?;
    Ok(())
}
