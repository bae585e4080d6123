//! `/readyz` says whether the store can do its work: Postgres, and the NATS
//! connection with the streams it consumes from and publishes to.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use scimbus_e2e::eventually;
use scimbus_runtime::{Running, Service};
use scimbus_store::Store;
use scimbus_testkit::proxy::{TcpProxy, postgres_addr};
use scimbus_testkit::{PrivateNats, TestEnv};
use tower::ServiceExt;

use crate::support::*;

/// `/readyz` as the service skeleton serves it.
async fn readyz(store: &Running<Store>) -> StatusCode {
    scimbus_runtime::health::routes(store.service().clone())
        .oneshot(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
        .unwrap()
        .status()
}

/// Waits (up to 20 s) for `/readyz` to answer `want`.
async fn until_readyz(store: &Running<Store>, want: StatusCode, why: &str) {
    let what = format!("{why}: /readyz answers {want}");
    eventually(&what, Duration::from_secs(20), || async {
        match readyz(store).await {
            got if got == want => Ok(()),
            got => Err(format!("{got} ({:?})", store.service().ready().await)),
        }
    })
    .await
}

async fn start(env: &TestEnv) -> Running<Store> {
    start_store(env, &["acme"]).await
}

#[tokio::test]
async fn a_store_without_nats_is_not_ready() {
    let mut nats = PrivateNats::start().await;
    let env = TestEnv::with_nats(&nats.url).await;
    env.bus().await;
    let store = start(&env).await;
    assert_eq!(readyz(&store).await, StatusCode::OK);

    nats.kill().await;
    until_readyz(&store, StatusCode::SERVICE_UNAVAILABLE, "NATS is down").await;
    let why = store.service().ready().await.unwrap_err().to_string();
    assert!(why.starts_with("NATS"), "{why}");

    nats.restart().await;
    until_readyz(&store, StatusCode::OK, "NATS is back").await;
    store.stop().await.unwrap();
    env.teardown().await;
}

#[tokio::test]
async fn a_store_whose_streams_are_gone_is_not_ready() {
    let env = TestEnv::new().await;
    let (_client, js) = env.bus().await;
    let store = start(&env).await;
    assert_eq!(readyz(&store).await, StatusCode::OK);

    js.delete_stream(env.subjects.dlq_stream()).await.unwrap();
    assert_eq!(readyz(&store).await, StatusCode::SERVICE_UNAVAILABLE);
    let why = store.service().ready().await.unwrap_err().to_string();
    assert!(why.contains(&env.subjects.dlq_stream()), "{why}");
    store.stop().await.unwrap();
    env.teardown().await;
}

#[tokio::test]
async fn a_store_whose_postgres_goes_away_is_not_ready_until_it_is_back() {
    let env = TestEnv::new().await;
    env.bus().await;
    let mut proxy = TcpProxy::start(postgres_addr(&env.database_url)).await;
    let mut cfg = scimbus_e2e::StoreBuilder::new(&env)
        .tenants(["acme"])
        .config();
    cfg.service.database_url = proxy.postgres_url(&env.database_url);
    let store = Store::build(cfg, scimbus_e2e::registry())
        .await
        .unwrap()
        .spawn()
        .unwrap();
    until_readyz(&store, StatusCode::OK, "started through the proxy").await;

    proxy.cut().await;
    until_readyz(&store, StatusCode::SERVICE_UNAVAILABLE, "Postgres is away").await;
    let why = store.service().ready().await.unwrap_err().to_string();
    assert!(why.starts_with("Postgres"), "{why}");

    proxy.restore().await;
    until_readyz(&store, StatusCode::OK, "Postgres is back").await;
    store.stop().await.unwrap();
    env.teardown().await;
}

#[tokio::test]
async fn a_store_whose_database_lacks_a_migration_is_not_ready() {
    let env = TestEnv::new().await;
    env.bus().await;
    let store = start(&env).await;
    until_readyz(&store, StatusCode::OK, "started").await;
    // As if the database were restored from a backup older than the binary.
    sqlx::query(
        "delete from _sqlx_migrations where version = (select max(version) from _sqlx_migrations)",
    )
    .execute(&env.pool)
    .await
    .unwrap();
    until_readyz(
        &store,
        StatusCode::SERVICE_UNAVAILABLE,
        "a migration is missing",
    )
    .await;
    let why = store.service().ready().await.unwrap_err().to_string();
    assert!(why.contains("migration"), "{why}");
    store.stop().await.unwrap();
    env.teardown().await;
}
