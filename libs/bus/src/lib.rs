//! scimbus-bus: scimbus on NATS JetStream.
//!
//! Connecting (and refusing a server older than 2.10 or without JetStream),
//! declaring the streams of docs/design.md §3 under a configurable prefix, and
//! publishing with the headers every scimbus message carries (`Nats-Msg-Id`
//! for deduplication, `Scimbus-Tenant`, content type, trace context).
//!
//! It knows nothing of SCIM or Postgres; services decide what to publish.

mod connect;
mod dead_letter;
mod publish;
mod ready;
mod streams;

pub use connect::{
    BusError, MIN_SERVER_VERSION, NatsAuth, check_server, connect, connect_with, parse_version,
    servers,
};
pub use dead_letter::dead_letter;
pub use publish::{Outgoing, headers_for, publish};
pub use ready::ready;
pub use streams::{StreamSettings, ensure_streams};

pub use async_nats;
