//! Why a subscription's driver lets it go.

/// Why a driver let its subscription go (it tries to take it again).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DriverError {
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("JetStream: {0}")]
    JetStream(String),
    /// A gap in the tenant's change sequence that Postgres cannot fill.
    #[error("changes {from}..{to} of tenant {tenant} are neither in the stream nor in Postgres")]
    Gap { tenant: String, from: u64, to: u64 },
    /// A retry's wait was cut short: the change is not done.
    #[error("interrupted")]
    Interrupted,
    /// The service is stopping. Not a failure.
    #[error("the service is stopping")]
    Stopping,
}
