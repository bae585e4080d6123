//! The tracing bench's trace receiver (`tests/bench/tracing.sh`): an
//! OTLP/HTTP endpoint that takes `POST /v1/traces`, decodes each
//! `ExportTraceServiceRequest` (protobuf, as the services export it) in
//! full, so that the cost of a real receiver is paid on the machine the
//! services share, and counts the spans, by service, kind and name. It
//! answers 200 with an empty `ExportTraceServiceResponse`.
//!
//! `GET /count` reports what was received, as `key value` lines (the first
//! ones fixed, then one `span <service> <kind> <count> <name>` line per
//! kind of span); the totals are printed again when the process stops.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, PoisonError};

use anyhow::Context;
use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;

/// What was received since the sink started.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Counts {
    /// export requests decoded
    pub requests: u64,
    /// bytes of the bodies decoded
    pub bytes: u64,
    /// every span
    pub spans: u64,
    /// spans of kind server (one per HTTP request served)
    pub server_spans: u64,
    /// bodies refused: not an export request, or compressed
    pub malformed: u64,
    /// (service.name, kind, span name) → spans
    pub by_name: BTreeMap<(String, &'static str, String), u64>,
}

impl Counts {
    /// Adds the spans of one decoded export request.
    pub fn add(&mut self, req: &ExportTraceServiceRequest, bytes: usize) {
        self.requests += 1;
        self.bytes += bytes as u64;
        for rs in &req.resource_spans {
            let service = rs
                .resource
                .as_ref()
                .and_then(|r| r.attributes.iter().find(|kv| kv.key == "service.name"))
                .and_then(|kv| match kv.value.as_ref()?.value.as_ref()? {
                    any_value::Value::StringValue(s) => Some(s.as_str()),
                    _ => None,
                })
                .unwrap_or("-");
            for ss in &rs.scope_spans {
                for s in &ss.spans {
                    self.spans += 1;
                    let kind = SpanKind::try_from(s.kind).unwrap_or(SpanKind::Unspecified);
                    if kind == SpanKind::Server {
                        self.server_spans += 1;
                    }
                    let kind = match kind {
                        SpanKind::Unspecified => "unspecified",
                        SpanKind::Internal => "internal",
                        SpanKind::Server => "server",
                        SpanKind::Client => "client",
                        SpanKind::Producer => "producer",
                        SpanKind::Consumer => "consumer",
                    };
                    *self
                        .by_name
                        .entry((service.to_string(), kind, s.name.clone()))
                        .or_default() += 1;
                }
            }
        }
    }

    /// The `GET /count` text: `requests`, `bytes`, `spans`,
    /// `server_spans`, `malformed` as `key value` lines, then
    /// `span <service> <kind> <count> <name>` (the name last: it holds
    /// spaces, e.g. `GET /scim/v2/{tenant}/Users`).
    pub fn render(&self) -> String {
        let mut out = format!(
            "requests {}\nbytes {}\nspans {}\nserver_spans {}\nmalformed {}\n",
            self.requests, self.bytes, self.spans, self.server_spans, self.malformed
        );
        for ((service, kind, name), n) in &self.by_name {
            let _ = writeln!(out, "span {service} {kind} {n} {name}");
        }
        out
    }
}

type Shared = Arc<Mutex<Counts>>;

/// The router: `POST /v1/traces` takes an export, `GET /count` reports.
pub fn app(counts: Shared) -> Router {
    Router::new()
        .route("/v1/traces", post(export))
        .route("/count", get(count))
        .with_state(counts)
}

async fn export(State(counts): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    // The exporter compresses only when told to (OTEL_EXPORTER_OTLP_COMPRESSION);
    // the bench does not, and a body this sink cannot read is refused.
    let decoded = if headers.contains_key(header::CONTENT_ENCODING) {
        None
    } else {
        ExportTraceServiceRequest::decode(body.as_ref()).ok()
    };
    let mut c = counts.lock().unwrap_or_else(PoisonError::into_inner);
    match decoded {
        Some(req) => {
            c.add(&req, body.len());
            drop(c);
            // An empty ExportTraceServiceResponse: zero bytes of protobuf.
            (
                [(header::CONTENT_TYPE, "application/x-protobuf")],
                Vec::<u8>::new(),
            )
                .into_response()
        }
        None => {
            c.malformed += 1;
            StatusCode::BAD_REQUEST.into_response()
        }
    }
}

async fn count(State(counts): State<Shared>) -> String {
    counts
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .render()
}

/// Serves the sink on `addr` until SIGTERM or SIGINT, then prints what it
/// received on stdout.
pub async fn serve(addr: SocketAddr) -> anyhow::Result<()> {
    let counts: Shared = Arc::default();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("installing a SIGTERM handler")?;
    axum::serve(listener, app(counts.clone()))
        .with_graceful_shutdown(stopped(term))
        .await
        .context("serving")?;
    print!(
        "{}",
        counts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .render()
    );
    Ok(())
}

async fn stopped(mut term: tokio::signal::unix::Signal) {
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
}

#[cfg(test)]
mod tests {
    use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue};
    use opentelemetry_proto::tonic::resource::v1::Resource;
    use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span};

    use super::*;

    fn export_of(service: &str, spans: &[(&str, SpanKind)]) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![ResourceSpans {
                resource: Some(Resource {
                    attributes: vec![KeyValue {
                        key: "service.name".into(),
                        key_strindex: 0,
                        value: Some(AnyValue {
                            value: Some(any_value::Value::StringValue(service.into())),
                        }),
                    }],
                    ..Default::default()
                }),
                scope_spans: vec![ScopeSpans {
                    spans: spans
                        .iter()
                        .map(|(name, kind)| Span {
                            name: (*name).into(),
                            kind: *kind as i32,
                            ..Default::default()
                        })
                        .collect(),
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
    }

    #[test]
    fn spans_are_counted_by_service_kind_and_name() {
        let mut c = Counts::default();
        let req = export_of(
            "scimbus-ingress",
            &[
                ("POST /scim/v2/{tenant}/Users", SpanKind::Server),
                ("send scimbus-commands", SpanKind::Producer),
                ("POST /scim/v2/{tenant}/Users", SpanKind::Server),
            ],
        );
        c.add(&req, 10);
        assert_eq!(
            (c.requests, c.spans, c.server_spans, c.bytes),
            (1, 3, 2, 10)
        );
        let text = c.render();
        assert!(text.contains("span scimbus-ingress server 2 POST /scim/v2/{tenant}/Users\n"));
        assert!(text.contains("span scimbus-ingress producer 1 send scimbus-commands\n"));
        assert!(text.starts_with("requests 1\nbytes 10\nspans 3\nserver_spans 2\nmalformed 0\n"));
    }

    #[tokio::test]
    async fn an_export_is_answered_200_with_an_empty_body_and_counted() {
        use tower::ServiceExt;
        let counts: Shared = Arc::default();
        let body = export_of("scimbus-store", &[("process x", SpanKind::Consumer)]).encode_to_vec();
        let res = app(counts.clone())
            .oneshot(
                axum::http::Request::post("/v1/traces")
                    .header("content-type", "application/x-protobuf")
                    .body(axum::body::Body::from(body))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        assert!(bytes.is_empty());
        assert_eq!(counts.lock().unwrap().spans, 1);

        let res = app(counts.clone())
            .oneshot(
                axum::http::Request::post("/v1/traces")
                    .body(axum::body::Body::from("not protobuf \u{1}\u{2}\u{3}"))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(counts.lock().unwrap().malformed, 1);
    }
}
