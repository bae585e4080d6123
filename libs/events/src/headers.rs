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
