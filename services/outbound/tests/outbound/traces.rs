//! One SCIM write is one trace across the three services: the binaries run
//! with `OTEL_EXPORTER_OTLP_ENDPOINT` pointing at an OTLP/HTTP receiver in
//! this test, and the spans they export chain through W3C trace context in
//! the NATS headers: the ingress's request → its command publish → the
//! store's apply → the store's change publish → the outbound's push → its
//! request to the target (which gets the context in `traceparent`).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, KeyValue, any_value};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use scimbus_e2e::TestEnv;
use tokio::process::Child;

use crate::fake_target::FakeTarget;
use crate::support::eventually;

/// A span as received, with the service that sent it.
#[derive(Debug, Clone)]
struct Got {
    service: String,
    name: String,
    kind: i32,
    trace: Vec<u8>,
    id: Vec<u8>,
    parent: Vec<u8>,
    attributes: HashMap<String, String>,
}

/// An OTLP/HTTP (protobuf) trace receiver on a free port.
async fn receiver() -> (SocketAddr, Arc<Mutex<Vec<Got>>>) {
    let got: Arc<Mutex<Vec<Got>>> = Arc::default();
    let keep = got.clone();
    let app = axum::Router::new().route(
        "/v1/traces",
        axum::routing::post(move |body: Bytes| {
            let keep = keep.clone();
            async move {
                let req = ExportTraceServiceRequest::decode(body).expect("an OTLP trace export");
                let mut spans = keep.lock().unwrap();
                for rs in req.resource_spans {
                    let attrs = rs.resource.map(|r| r.attributes).unwrap_or_default();
                    let service = text(&attrs, "service.name").unwrap_or_default();
                    for ss in rs.scope_spans {
                        for s in ss.spans {
                            spans.push(Got {
                                service: service.clone(),
                                name: s.name,
                                kind: s.kind,
                                trace: s.trace_id,
                                id: s.span_id,
                                parent: s.parent_span_id,
                                attributes: s
                                    .attributes
                                    .iter()
                                    .filter_map(|kv| {
                                        Some((kv.key.clone(), value(kv.value.as_ref()?)?))
                                    })
                                    .collect(),
                            });
                        }
                    }
                }
                // An empty ExportTraceServiceResponse.
                (
                    [("content-type", "application/x-protobuf")],
                    Vec::<u8>::new(),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, got)
}

fn value(v: &AnyValue) -> Option<String> {
    match v.value.as_ref()? {
        any_value::Value::StringValue(s) => Some(s.clone()),
        any_value::Value::IntValue(i) => Some(i.to_string()),
        any_value::Value::BoolValue(b) => Some(b.to_string()),
        _ => None,
    }
}

fn text(attrs: &[KeyValue], key: &str) -> Option<String> {
    attrs
        .iter()
        .find(|kv| kv.key == key)
        .and_then(|kv| value(kv.value.as_ref()?))
}

/// A service binary beside this package's own (`cargo test --workspace`
/// builds them all).
pub(crate) fn binary(name: &str) -> PathBuf {
    let path = std::path::Path::new(env!("CARGO_BIN_EXE_scimbus-outbound")).with_file_name(name);
    assert!(
        path.exists(),
        "{} is not built: run the tests with `cargo test --workspace` (make test)",
        path.display()
    );
    path
}

pub(crate) fn free_addr() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

fn spawn(
    env: &TestEnv,
    name: &str,
    addr_var: &str,
    addr: &str,
    config: &std::path::Path,
    otlp: SocketAddr,
) -> Child {
    scimbus_e2e::binary::command(binary(name).to_str().unwrap(), env)
        .env(addr_var, addr)
        .env("SCIMBUS_CONFIG", config)
        .env("TRACE_TEST_TOKEN", "trace-token")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{otlp}"))
        .env("OTEL_BSP_SCHEDULE_DELAY", "100")
        .env_remove("OTEL_SERVICE_NAME")
        .env_remove("OTEL_SDK_DISABLED")
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"))
}

pub(crate) async fn ready(http: &reqwest::Client, addr: &str) {
    eventually("the service is ready", Duration::from_secs(60), || async {
        match http.get(format!("http://{addr}/readyz")).send().await {
            Ok(r) if r.status() == 200 => Ok(()),
            Ok(r) => Err(r.status().to_string()),
            Err(e) => Err(e.to_string()),
        }
    })
    .await;
}

#[tokio::test]
async fn a_scim_write_is_one_trace_through_ingress_store_and_outbound() {
    let env = TestEnv::new().await;
    env.bus().await;
    let t = FakeTarget::start(None, true).await;
    let (otlp, got) = receiver().await;
    let dir = std::env::temp_dir().join(format!("scimbus-traces-{}", env.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("scimbus.toml");
    std::fs::write(
        &config,
        format!(
            "[[tenants]]\nname = \"acme\"\ntokens = [\"env:TRACE_TEST_TOKEN\"]\n\n\
             [[tenants.targets]]\nname = \"t\"\nurl = \"{}\"\n",
            t.url()
        ),
    )
    .unwrap();
    let (ia, sa, oa) = (free_addr(), free_addr(), free_addr());
    let _store = spawn(
        &env,
        "scimbus-store",
        "SCIMBUS_STORE_ADDR",
        &sa,
        &config,
        otlp,
    );
    let _ingress = spawn(
        &env,
        "scimbus-ingress",
        "SCIMBUS_INGRESS_ADDR",
        &ia,
        &config,
        otlp,
    );
    let _outbound = spawn(
        &env,
        "scimbus-outbound",
        "SCIMBUS_OUTBOUND_ADDR",
        &oa,
        &config,
        otlp,
    );
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    for a in [&ia, &sa, &oa] {
        ready(&http, a).await;
    }
    // The user is made after the target's initial sync, so that it reaches
    // the target through the change stream (a sync pushes what exists
    // without a trace of the write).
    eventually(
        "the initial sync is done",
        Duration::from_secs(60),
        || async {
            let done: Option<bool> = sqlx::query_scalar(
                "select synced_at is not null from target_progress
             where tenant = 'acme' and target = 't'",
            )
            .fetch_optional(&env.pool)
            .await
            .map_err(|e| e.to_string())?;
            match done {
                Some(true) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;

    let r = http
        .post(format!("http://{ia}/scim/v2/acme/Users"))
        .bearer_auth("trace-token")
        .header("content-type", "application/scim+json")
        .body(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"traced"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let request_id = r.headers()["x-request-id"].to_str().unwrap().to_string();
    assert!(!request_id.is_empty());

    // The root: the ingress's server span of the POST.
    let find = |pred: &dyn Fn(&Got) -> bool| got.lock().unwrap().iter().find(|s| pred(s)).cloned();
    let server = |s: &Got| {
        s.service == "scimbus-ingress"
            && s.kind == SpanKind::Server as i32
            && s.name == "POST /scim/v2/{tenant}/{rtype}"
    };
    eventually(
        "the whole trace is exported",
        Duration::from_secs(60),
        || async {
            let Some(root) = find(&server) else {
                return Err("no server span yet".to_string());
            };
            let spans: Vec<Got> = got
                .lock()
                .unwrap()
                .iter()
                .filter(|s| s.trace == root.trace)
                .cloned()
                .collect();
            // Each service exports in its own batches: the outbound's span
            // may come before the store's.
            let has = |service: &str, kind: SpanKind| {
                spans
                    .iter()
                    .any(|s| s.service == service && s.kind == kind as i32)
            };
            if has("scimbus-ingress", SpanKind::Producer)
                && has("scimbus-store", SpanKind::Consumer)
                && has("scimbus-store", SpanKind::Producer)
                && has("scimbus-outbound", SpanKind::Consumer)
            {
                Ok(())
            } else {
                Err(format!("{} spans of the trace so far", spans.len()))
            }
        },
    )
    .await;

    let root = find(&server).unwrap();
    assert!(
        root.parent.is_empty(),
        "the request span is the root: {root:?}"
    );
    assert_eq!(
        root.attributes.get("http.route").map(String::as_str),
        Some("/scim/v2/{tenant}/{rtype}")
    );
    assert_eq!(
        root.attributes
            .get("http.response.status_code")
            .map(String::as_str),
        Some("201")
    );
    assert_eq!(root.attributes.get("request_id"), Some(&request_id));
    let trace: Vec<Got> = got
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.trace == root.trace)
        .cloned()
        .collect();
    // Each step is the child of the one before, in the service that does it.
    let child = |parent: &Got, service: &str, kind: SpanKind| -> Got {
        trace
            .iter()
            .find(|s| s.parent == parent.id && s.service == service && s.kind == kind as i32)
            .cloned()
            .unwrap_or_else(|| panic!("no {kind:?} span of {service} under {parent:?}: {trace:#?}"))
    };
    let publish = child(&root, "scimbus-ingress", SpanKind::Producer);
    let apply = child(&publish, "scimbus-store", SpanKind::Consumer);
    let change = child(&apply, "scimbus-store", SpanKind::Producer);
    let push = child(&change, "scimbus-outbound", SpanKind::Consumer);
    for (span, stream) in [
        (&publish, "_SCIMBUS_CMD"),
        (&apply, "_SCIMBUS_CMD"),
        (&change, "_SCIMBUS_CHANGES"),
        (&push, "_SCIMBUS_CHANGES"),
    ] {
        assert_eq!(
            span.attributes.get("messaging.system").map(String::as_str),
            Some("nats"),
            "{span:?}"
        );
        let dest = span
            .attributes
            .get("messaging.destination.name")
            .cloned()
            .unwrap_or_default();
        assert!(dest.ends_with(stream), "{dest} for {span:?}");
        assert!(
            span.attributes.contains_key("messaging.message.id"),
            "{span:?}"
        );
    }
    assert_eq!(
        publish.attributes.get("messaging.message.id"),
        apply.attributes.get("messaging.message.id")
    );
    assert_eq!(
        change.attributes.get("messaging.message.id"),
        push.attributes.get("messaging.message.id")
    );
    assert_eq!(
        push.attributes.get("scimbus.target").map(String::as_str),
        Some("t")
    );
    // The push's request to the target is a client span under the push, and
    // the target got its context in `traceparent`.
    // (The push may look the user up first: a GET, another such span.)
    let request = trace
        .iter()
        .find(|s| {
            s.parent == push.id
                && s.kind == SpanKind::Client as i32
                && s.attributes.get("http.request.method").map(String::as_str) == Some("POST")
        })
        .cloned()
        .unwrap_or_else(|| panic!("no POST client span under {push:?}: {trace:#?}"));
    assert_eq!(request.service, "scimbus-outbound");
    assert_eq!(
        request
            .attributes
            .get("http.response.status_code")
            .map(String::as_str),
        Some("201"),
        "{request:?}"
    );
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let sent = format!("00-{}-{}-01", hex(&request.trace), hex(&request.id));
    let posts: Vec<Option<String>> = t
        .traceparents()
        .into_iter()
        .filter(|(m, p, _)| m == reqwest::Method::POST && p.ends_with("/Users"))
        .map(|(_, _, tp)| tp)
        .collect();
    assert_eq!(posts, vec![Some(sent)], "the user's POST to the target");
    // The write's audit entry names its trace and its request.
    let (trace_id, request): (Option<String>, Option<String>) = sqlx::query_as(
        "select trace_id, request_id from audit_log where tenant = 'acme' and action = 'create'",
    )
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(trace_id, Some(hex(&root.trace)));
    assert_eq!(request, Some(request_id));
    let _ = std::fs::remove_dir_all(&dir);
    env.teardown().await;
}
