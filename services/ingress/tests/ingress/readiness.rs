//! `/readyz` says whether the ingress can do its work: the NATS connection
//! and the command stream its writes go to, and the read pool.

use axum::body::Body;
use axum::http::{Request, StatusCode};

use crate::support::*;

async fn readyz(api: &Api) -> Reply {
    api.raw(Request::get("/readyz").body(Body::empty()).unwrap())
        .await
}

#[tokio::test]
async fn an_ingress_whose_command_stream_is_gone_is_not_ready() {
    let api = Api::without_store(std::time::Duration::from_secs(5)).await;
    assert_eq!(readyz(&api).await.status, StatusCode::OK);

    let (_client, js) = api.env.bus().await;
    js.delete_stream(api.env.subjects.command_stream())
        .await
        .unwrap();
    let r = readyz(&api).await;
    assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE, "{}", r.body);
    let why = r.body.as_str().unwrap_or_default();
    assert!(
        why.contains("NATS") && why.contains(&api.env.subjects.command_stream()),
        "{why}"
    );
    api.teardown().await;
}

#[tokio::test]
async fn an_ingress_whose_postgres_goes_away_is_not_ready_until_it_is_back() {
    use scimbus_testkit::proxy::{TcpProxy, postgres_addr};

    let env = scimbus_testkit::TestEnv::new().await;
    env.bus().await;
    let mut proxy = TcpProxy::start(postgres_addr(&env.database_url)).await;
    let mut cfg = scimbus_e2e::IngressBuilder::new(&env)
        .tenants(["acme"])
        .config();
    let url = proxy.postgres_url(&env.database_url);
    cfg.service.database_url = url.clone();
    cfg.read_database_url = url;
    let ingress = scimbus_ingress::Ingress::build(cfg, scimbus_e2e::registry())
        .await
        .unwrap()
        .spawn()
        .unwrap();
    until(&ingress, None, "ready through the proxy").await;
    proxy.cut().await;
    until(&ingress, Some("Postgres"), "not ready: Postgres is away").await;
    proxy.restore().await;
    until(&ingress, None, "ready: Postgres is back").await;
    ingress.stop().await.unwrap();
    env.teardown().await;
}

#[tokio::test]
async fn an_ingress_without_nats_is_not_ready_until_it_is_back() {
    let mut nats = scimbus_testkit::PrivateNats::start().await;
    let env = scimbus_testkit::TestEnv::with_nats(&nats.url).await;
    env.bus().await;
    let ingress = scimbus_e2e::IngressBuilder::new(&env)
        .tenants(["acme"])
        .start()
        .await;
    until(&ingress, None, "ready").await;
    nats.kill().await;
    until(&ingress, Some("NATS"), "not ready: NATS is down").await;
    nats.restart().await;
    until(&ingress, None, "ready: NATS is back").await;
    ingress.stop().await.unwrap();
    env.teardown().await;
}

/// Waits (up to 30 s) until the ingress is ready (`None`), or not ready
/// for a reason that starts with `why`.
async fn until(
    ingress: &scimbus_runtime::Running<scimbus_ingress::Ingress>,
    why: Option<&str>,
    what: &str,
) {
    use scimbus_runtime::Service;
    let service = ingress.service().clone();
    scimbus_e2e::eventually(what, std::time::Duration::from_secs(30), || {
        let service = service.clone();
        async move {
            match (service.ready().await, why) {
                (Ok(()), None) => Ok(()),
                (Err(e), Some(w)) if e.to_string().starts_with(w) => Ok(()),
                (other, _) => Err(format!("{other:?}")),
            }
        }
    })
    .await;
}
