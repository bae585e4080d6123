//! Logs and traces of a service.
//!
//! Logs go to stderr, filtered by `RUST_LOG` (default `info`), as JSON
//! lines with `SCIMBUS_LOG_FORMAT=json`; a line logged inside a request or
//! a message's processing carries that span's fields (route, request id,
//! trace id). Traces are OpenTelemetry, exported over OTLP/HTTP (protobuf)
//! when `OTEL_EXPORTER_OTLP_ENDPOINT` or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
//! is set, and off otherwise (or with `OTEL_SDK_DISABLED=true` or
//! `OTEL_TRACES_EXPORTER=none`); the other standard `OTEL_*` variables
//! (service name, resource attributes, headers, timeout, sampler) apply as
//! the OpenTelemetry SDK reads them. Across services one trace is carried
//! by W3C `traceparent`/`tracestate`, in HTTP and in NATS headers
//! ([`propagate`]).

pub mod http;
pub mod messaging;
mod otlp_client;
pub mod propagate;

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::env::{Lookup, SettingError};

/// What must be flushed when the service stops.
#[derive(Debug, Default)]
pub struct Telemetry {
    provider: Option<SdkTracerProvider>,
}

/// Whether the environment asks for traces to be exported, and the
/// protocol is one this build speaks.
pub fn tracing_wanted(e: &impl Lookup) -> Result<bool, SettingError> {
    let set = |name: &str| e.get(name).filter(|v| !v.trim().is_empty());
    // A protocol this build cannot speak is refused even while traces are
    // off: whoever set it expects them.
    for name in [
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ] {
        if let Some(p) = set(name)
            && p.trim() != "http/protobuf"
        {
            return Err(SettingError::new(
                name,
                format!("\"{p}\": scimbus exports OTLP over http/protobuf only"),
            ));
        }
    }
    if set("OTEL_SDK_DISABLED").is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        || set("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none"))
    {
        return Ok(false);
    }
    if set("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT").is_none()
        && set("OTEL_EXPORTER_OTLP_ENDPOINT").is_none()
    {
        return Ok(false);
    }
    Ok(true)
}

impl Telemetry {
    /// Installs the logger and, when wanted, the trace exporter of
    /// `service` (its `service.name` unless `OTEL_SERVICE_NAME` says
    /// otherwise). Must run inside a Tokio runtime: spans are exported by a
    /// task of it.
    pub fn init(service: &'static str) -> Result<Telemetry, SettingError> {
        let (filter, bad) = log_filter();
        let json = std::env::var("SCIMBUS_LOG_FORMAT").is_ok_and(|f| f == "json");
        let provider = if tracing_wanted(&crate::env::ProcessEnv)? {
            Some(provider(service)?)
        } else {
            None
        };
        let otel = provider.as_ref().map(|p| {
            // What a span costs is paid on every request: no source location,
            // thread or module attributes, no busy/idle timing on every poll,
            // and no OpenTelemetry context made current on every poll (the
            // context travels with the `tracing` span, see `propagate`).
            tracing_opentelemetry::layer()
                .with_location(false)
                .with_threads(false)
                .with_target(false)
                .with_tracked_inactivity(false)
                .with_context_activation(false)
                .with_tracer(p.tracer(service))
                .with_filter(tracing_subscriber::filter::LevelFilter::INFO)
        });
        use std::io::IsTerminal;
        let fmt = tracing_subscriber::fmt::layer()
            .with_ansi(std::io::stderr().is_terminal())
            .with_writer(std::io::stderr);
        let fmt = if json {
            fmt.json().with_filter(filter).boxed()
        } else {
            fmt.with_filter(filter).boxed()
        };
        // A second init (tests that start services in one process) keeps the first.
        let _ = tracing_subscriber::registry()
            .with(fmt)
            .with(otel)
            .try_init();
        if let Some(e) = bad {
            tracing::warn!(error = %e, "RUST_LOG does not parse; logging at info");
        }
        Ok(Telemetry { provider })
    }

    /// Exports the spans not exported yet (bounded by the exporter's
    /// timeout). Call it after the service stopped, inside the runtime.
    pub async fn shutdown(self) {
        if let Some(provider) = self.provider {
            let flushed = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            if let Ok(Err(e)) = flushed {
                tracing::warn!(error = %e, "exporting the last spans");
            }
        }
    }
}

/// `RUST_LOG`, or `info`; a `RUST_LOG` that does not parse is reported
/// (as the first line logged) and `info` used.
pub(crate) fn log_filter() -> (EnvFilter, Option<tracing_subscriber::filter::FromEnvError>) {
    match std::env::var_os("RUST_LOG") {
        None => (EnvFilter::new("info"), None),
        Some(_) => match EnvFilter::try_from_default_env() {
            Ok(f) => (f, None),
            Err(e) => (EnvFilter::new("info"), Some(e)),
        },
    }
}

fn provider(service: &'static str) -> Result<SdkTracerProvider, SettingError> {
    use opentelemetry_otlp::WithHttpConfig;
    let client = otlp_client::OtlpClient::new(tokio::runtime::Handle::current())
        .map_err(|e| SettingError::new("OTEL_EXPORTER_OTLP_ENDPOINT", e.to_string()))?;
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_http_client(client)
        .build()
        .map_err(|e| SettingError::new("OTEL_EXPORTER_OTLP_ENDPOINT", e.to_string()))?;
    let mut resource = opentelemetry_sdk::Resource::builder();
    if std::env::var_os("OTEL_SERVICE_NAME").is_none() {
        resource = resource.with_service_name(service);
    }
    // The batch processor of its own thread (queue, batch size and delay by
    // `OTEL_BSP_*`): ending a span is a queue push, and no task is woken per
    // span; the export itself runs on the runtime (see `OtlpClient`).
    Ok(SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(resource.build())
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Pairs;

    #[test]
    fn traces_are_off_unless_an_endpoint_is_set_and_the_protocol_is_ours() {
        let wanted = |pairs: &[(&str, &str)]| tracing_wanted(&Pairs::new(pairs));
        assert!(!wanted(&[]).unwrap());
        let ep = ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4318");
        assert!(wanted(&[ep]).unwrap());
        assert!(
            wanted(&[(
                "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
                "http://x:4318/v1/traces"
            )])
            .unwrap()
        );
        assert!(!wanted(&[ep, ("OTEL_SDK_DISABLED", "true")]).unwrap());
        assert!(!wanted(&[ep, ("OTEL_TRACES_EXPORTER", "none")]).unwrap());
        assert!(wanted(&[ep, ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")]).unwrap());
        let e = wanted(&[ep, ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")]).unwrap_err();
        assert_eq!(e.name, "OTEL_EXPORTER_OTLP_PROTOCOL");
    }
}
