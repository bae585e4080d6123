//! `/livez` (the process runs), `/readyz` (its dependencies answer) and
//! `/metrics` (Prometheus), on every service (docs/design.md §6).

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;

use crate::service::Service;

/// The health routes of `service`.
pub fn routes<S: Service>(service: Arc<S>) -> Router {
    Router::new()
        .route("/livez", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz::<S>))
        .route("/metrics", get(metrics::<S>))
        .with_state(service)
}

async fn readyz<S: Service>(State(service): State<Arc<S>>) -> (StatusCode, String) {
    match service.ready().await {
        Ok(()) => (StatusCode::OK, "ok\n".into()),
        Err(why) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!("not ready: {why}\n"),
        ),
    }
}

async fn metrics<S: Service>(
    State(service): State<Arc<S>>,
) -> ([(axum::http::HeaderName, &'static str); 1], String) {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            crate::metrics::CONTENT_TYPE,
        )],
        service.metrics().encode(),
    )
}
