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
