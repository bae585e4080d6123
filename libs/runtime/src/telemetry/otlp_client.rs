//! The OTLP exporter's HTTP client: the workspace's reqwest, so that traces
//! need no second HTTP stack. The batch processor exports from a thread of
//! its own; the request is sent by a task of the service's runtime, which
//! that thread waits for.

use bytes::Bytes;
use http::{Request, Response};
use opentelemetry_http::{HttpClient, HttpError};

/// Sends the exporter's requests with reqwest (plain HTTP, or HTTPS with
/// the ring provider the rest of the workspace uses).
#[derive(Debug, Clone)]
pub(super) struct OtlpClient {
    client: reqwest::Client,
    runtime: tokio::runtime::Handle,
}

impl OtlpClient {
    pub(super) fn new(runtime: tokio::runtime::Handle) -> Result<OtlpClient, reqwest::Error> {
        // rustls needs a process-wide crypto provider; ring is the one
        // async-nats already brings. An error means one is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .user_agent(concat!("scimbus/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(OtlpClient { client, runtime })
    }
}

#[async_trait::async_trait]
impl HttpClient for OtlpClient {
    async fn send_bytes(&self, request: Request<Bytes>) -> Result<Response<Bytes>, HttpError> {
        let client = self.client.clone();
        self.runtime.spawn(send(client, request)).await?
    }
}

async fn send(
    client: reqwest::Client,
    request: Request<Bytes>,
) -> Result<Response<Bytes>, HttpError> {
    let (parts, body) = request.into_parts();
    let url = parts.uri.to_string();
    let response = client
        .request(parts.method, url)
        .headers(parts.headers)
        .body(body)
        .send()
        .await?;
    let mut out = Response::builder().status(response.status());
    if let Some(h) = out.headers_mut() {
        *h = response.headers().clone();
    }
    let body = response.bytes().await?;
    Ok(out.body(body)?)
}
