//! Retries of a push: the target's `Retry-After`, else exponential
//! backoff with jitter, up to the target's attempts; each failed attempt
//! counted in Postgres when it happens.

use std::time::Duration;

use scimbus_runtime::backoff::backoff;

use scimbus_db::links;
use scimbus_events::v1::Change;
use tokio_util::sync::CancellationToken;

use crate::client::PushError;
use crate::item::Counts;
use crate::lifecycle::Mode;
use crate::shared::{Shared, WorkerError};
use crate::target::{Pushed, Target};

/// The longest wait between two attempts without a `Retry-After`.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// Why a change parks: the error, and for a transient one the attempts.
pub(crate) fn failure(e: &PushError, attempts: u32) -> String {
    if e.is_transient() {
        format!("{e} (gave up after {attempts} attempts)")
    } else {
        e.to_string()
    }
}

/// Pushes a change, retrying transient failures with backoff (or the
/// target's `Retry-After`) up to the target's attempts. The inner `Err` is
/// the last failure and the attempts made.
pub(crate) async fn push_with_retries(
    shared: &Shared,
    target: &Target,
    change: &Change,
    mode: Mode,
    shutdown: &CancellationToken,
    counts: &mut Counts,
) -> Result<Result<Pushed, (PushError, u32)>, WorkerError> {
    let mut attempt = 1;
    loop {
        let pushed = target.push(change, mode).await;
        if let Err(e) = &pushed {
            // Counted now: a crash before the next flush must not lose it.
            let error = e.to_string();
            links::count_failure(&target.links_pool, target.key(), &error).await?;
            counts.last_error = Some(error);
        }
        let e = match pushed {
            Ok(p) => return Ok(Ok(p)),
            Err(e) => e,
        };
        let Some(wait) = retry_wait(target, shared.backoff, &e, attempt, change.sequence) else {
            return Ok(Err((e, attempt)));
        };
        tracing::info!(target = %target.cfg.name, resource = %change.resource_id,
            attempt, error = %e, ?wait, "push failed; retrying");
        tokio::select! {
            _ = shutdown.cancelled() => return Err(WorkerError::Stopping),
            _ = tokio::time::sleep(wait) => {}
        }
        attempt += 1;
    }
}

/// How long to wait before trying again after `e` at attempt `attempt`:
/// the target's `Retry-After`, else exponential backoff with jitter from
/// `first` up to a minute (the salt, the change's sequence, keeps resources
/// from retrying in lock step); `None` when it is not
/// tried again (a permanent error, or the target's attempts are spent).
pub(crate) fn retry_wait(
    target: &Target,
    first: Duration,
    e: &PushError,
    attempt: u32,
    salt: u64,
) -> Option<Duration> {
    match e {
        PushError::Transient { retry_after, .. } if attempt < target.cfg.max_attempts => {
            Some(retry_after.unwrap_or_else(|| backoff(first, LONGEST_WAIT, attempt, salt)))
        }
        _ => None,
    }
}
