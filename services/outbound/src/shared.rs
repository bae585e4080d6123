//! What the target workers of the service share, and why a worker lets
//! its target go.

use std::time::Duration;

use async_nats::jetstream;
use scimbus_events::Subjects;
use sqlx::postgres::PgConnectOptions;

/// What every target worker of the service shares: the JetStream context
/// and subjects, the Postgres options its lease connections open with, and
/// the lease and retry timings.
#[derive(Debug, Clone)]
pub struct Shared {
    pub js: jetstream::Context,
    pub subjects: Subjects,
    pub pg: PgConnectOptions,
    /// How often a replica tries to take a target someone else drives.
    pub lease_retry: Duration,
    /// The first retry delay of a transient failure (doubles, with jitter).
    pub backoff: Duration,
}

/// Why a worker let its target go (it will try to take it again).
#[derive(Debug, thiserror::Error)]
pub(crate) enum WorkerError {
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("JetStream: {0}")]
    JetStream(String),
    #[error("the target: {0}")]
    Target(String),
    /// Something that cannot be unless a bug broke an invariant.
    #[error("broken invariant: {0}")]
    Invariant(String),
    /// The service is shutting down: the worker lets its target go
    /// mid-work (a change waiting for its next attempt is not pushed; the
    /// position stays before it). Not a failure.
    #[error("the service is stopping")]
    Stopping,
}
