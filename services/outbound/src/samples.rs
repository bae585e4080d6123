//! The minute-by-minute samples of every target's and subscription's
//! counters that the operator console charts (`progress_samples`). Every
//! outbound replica tries every 15 seconds; a minute already taken stays as
//! it was (the first try of a minute takes it), so more replicas take
//! nothing twice, a target that appears mid-minute is sampled within 15
//! seconds, and a replica killed leaves at most a minute missing.

use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How long samples are kept.
const KEEP_HOURS: i32 = 24;

/// How often a sample is tried.
const EVERY: Duration = Duration::from_secs(15);

/// Takes this minute's samples every [`EVERY`] until `shutdown`.
pub async fn run(pool: sqlx::PgPool, shutdown: CancellationToken) {
    loop {
        if let Err(e) = scimbus_db::console::take_samples(&pool, KEEP_HOURS).await {
            // The next minute tries again; a chart shows the gap.
            tracing::warn!(error = %e, "taking the console's samples failed");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(EVERY.min(until_next_minute())) => {}
        }
    }
}

/// From now to a second past the next full minute (so a minute's first
/// try is early in it).
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
