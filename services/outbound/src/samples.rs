//! The minute-by-minute samples of every target's and subscription's
//! counters that the operator console charts (`progress_samples`). Every
//! outbound replica takes them; a minute already taken stays as it was, so
//! more replicas take nothing twice, and a replica killed between two
//! minutes leaves at most a minute missing.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How long samples are kept.
const KEEP_HOURS: i32 = 24;

/// Takes a sample at the start of every minute until `shutdown`.
pub async fn run(pool: sqlx::PgPool, shutdown: CancellationToken) {
    loop {
        if let Err(e) = scimbus_db::console::take_samples(&pool, KEEP_HOURS).await {
            // The next minute tries again; a chart shows the gap.
            tracing::warn!(error = %e, "taking the console's samples failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(until_next_minute()) => {}
        }
    }
}

/// From now to a second past the next full minute.
fn until_next_minute() -> Duration {
    let now = chrono::Utc::now().timestamp_millis();
    let into = now.rem_euclid(60_000);
    Duration::from_millis(u64::try_from(60_000 - into + 1_000).unwrap_or(60_000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_at_most_a_minute_and_a_second() {
        let d = until_next_minute();
        assert!(
            d > Duration::from_secs(1) && d <= Duration::from_secs(61),
            "{d:?}"
        );
    }
}
