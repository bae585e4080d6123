//! Header names carried by every scimbus message.

/// JetStream's deduplication id: the command id or change id.
pub const MSG_ID: &str = "Nats-Msg-Id";
/// The tenant, so consumers can filter and route without decoding.
pub const TENANT: &str = "Scimbus-Tenant";
/// `application/x-protobuf` for every scimbus message.
pub const CONTENT_TYPE: &str = "Content-Type";
pub const PROTOBUF: &str = "application/x-protobuf";
/// W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
pub const TRACESTATE: &str = "tracestate";
/// The subject an ingress waits on for a command's result.
pub const REPLY_TO: &str = "Scimbus-Reply-To";
/// Where an ingress takes the results of several commands in one message
/// (`CommandResults`); the store then answers there instead of on
/// [`REPLY_TO`]. A store that does not know it answers on `REPLY_TO`.
pub const REPLY_BATCH: &str = "Scimbus-Reply-Batch";
