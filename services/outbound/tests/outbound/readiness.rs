//! `/readyz` of the outbound service says whether it can do its work: the
//! NATS connection with the change stream, and Postgres (links, positions,
//! leases). It flips when either goes away and back.

use std::time::Duration;

use scimbus_e2e::{OutboundBuilder, eventually};
use scimbus_runtime::{Running, Service};
use scimbus_testkit::proxy::{TcpProxy, postgres_addr};
use scimbus_testkit::{PrivateNats, TestEnv};

/// `/readyz` over HTTP: its status and body.
async fn readyz(outbound: &Running<scimbus_outbound::Outbound>) -> (u16, String) {
    let url = format!("http://{}/readyz", outbound.addr());
    let _ = rustls::crypto::ring::default_provider().install_default();
    match reqwest::get(&url).await {
        Ok(r) => (r.status().as_u16(), r.text().await.unwrap_or_default()),
        Err(e) => (0, e.to_string()),
    }
}

/// Waits (up to 20 s) for `/readyz` to answer `want`; the body it gave.
async fn until_readyz(
    outbound: &Running<scimbus_outbound::Outbound>,
    want: u16,
    why: &str,
) -> String {
    let what = format!("{why}: /readyz answers {want}");
    eventually(&what, Duration::from_secs(20), || async {
        match readyz(outbound).await {
            (status, body) if status == want => Ok(body),
            (status, body) => Err(format!("{status} {body}")),
        }
    })
    .await
}

#[tokio::test]
async fn an_outbound_service_without_nats_is_not_ready_until_it_is_back() {
    let mut nats = PrivateNats::start().await;
    let env = TestEnv::with_nats(&nats.url).await;
    env.bus().await;
    let outbound = OutboundBuilder::new(&env).start().await;
    until_readyz(&outbound, 200, "started").await;

    nats.kill().await;
    let body = until_readyz(&outbound, 503, "NATS is down").await;
    assert!(body.contains("NATS"), "{body}");
    let why = outbound.service().ready().await.unwrap_err().to_string();
    assert!(why.starts_with("NATS"), "{why}");

    nats.restart().await;
    until_readyz(&outbound, 200, "NATS is back").await;
    outbound.stop().await.unwrap();
    env.teardown().await;
}

#[tokio::test]
async fn an_outbound_service_whose_postgres_goes_away_is_not_ready_until_it_is_back() {
    let env = TestEnv::new().await;
    env.bus().await;
    let mut proxy = TcpProxy::start(postgres_addr(&env.database_url)).await;
    let mut cfg = OutboundBuilder::new(&env).config();
    cfg.service.database_url = proxy.postgres_url(&env.database_url);
    let outbound = scimbus_outbound::Outbound::build(cfg, scimbus_e2e::registry())
        .await
        .unwrap()
        .spawn()
        .unwrap();
    until_readyz(&outbound, 200, "started through the proxy").await;

    proxy.cut().await;
    let body = until_readyz(&outbound, 503, "Postgres is away").await;
    assert!(body.contains("Postgres"), "{body}");

    proxy.restore().await;
    until_readyz(&outbound, 200, "Postgres is back").await;
    outbound.stop().await.unwrap();
    env.teardown().await;
}
