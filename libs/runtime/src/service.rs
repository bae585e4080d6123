//! What a service is to the skeleton: it can say whether it is ready and
//! it can stop. The skeleton that serves and drains it is the `server`
//! module.

use std::future::Future;
use std::time::Duration;

use crate::probe::NotReady;

/// What a service adds to the skeleton.
pub trait Service: Send + Sync + 'static {
    /// Whether it can do its work now (`/readyz`).
    fn ready(&self) -> impl Future<Output = Result<(), NotReady>> + Send;

    /// Stops taking new work and finishes (or hands back) what is in hand.
    /// Called once, after the HTTP side has drained.
    fn stop(&self) -> impl Future<Output = ()> + Send;

    /// Its metrics (`/metrics`).
    fn metrics(&self) -> &crate::metrics::Registry;
}

/// Why a service stopped other than cleanly.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("serving HTTP: {0}")]
    Serve(#[source] std::io::Error),
    /// The work in hand was not finished within the bound; what was not is
    /// redelivered (nothing is acknowledged before it is done).
    #[error("the drain did not finish within {0:?}")]
    Drain(Duration),
    #[error("the HTTP server task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}
