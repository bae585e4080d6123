//! How long to wait before trying again after a failure: exponential, capped,
//! with jitter — so that a dependency that blinked is retried at once, one
//! that stays away is not hammered, and many callers that failed together
//! do not all come back in the same instant.

use std::time::Duration;

/// The wait before retry number `attempt` (1 for the first retry).
///
/// The ceiling doubles from `first` with each attempt and stops at `cap`;
/// the wait is the ceiling less up to half of it ("equal jitter"), the
/// amount taken from `salt` (callers pass something that differs between
/// them — a random number, a sequence number — so their retries spread).
/// The result is never more than `cap` and never less than half the
/// ceiling. Pure: the same arguments give the same wait.
pub fn backoff(first: Duration, cap: Duration, attempt: u32, salt: u64) -> Duration {
    let ceiling = first
        .saturating_mul(1 << attempt.saturating_sub(1).min(30))
        .min(cap);
    // A 64-bit mix (splitmix64's finaliser) of the salt and the attempt, so
    // that consecutive attempts of one caller get unrelated jitter too.
    let mut h = salt ^ u64::from(attempt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    h = (h ^ (h >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    h ^= h >> 31;
    // A fraction in [0, 1/2], in thousandths.
    let fraction = (h % 501) as f64 / 1000.0;
    ceiling.saturating_sub(ceiling.mul_f64(fraction))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Duration = Duration::from_millis(50);
    const CAP: Duration = Duration::from_secs(2);

    #[test]
    fn the_first_retry_is_prompt_and_the_wait_doubles() {
        for salt in 0..200 {
            for attempt in 1..=6 {
                let ceiling = FIRST * (1 << (attempt - 1));
                let d = backoff(FIRST, CAP, attempt, salt);
                assert!(
                    d <= ceiling && d >= ceiling / 2,
                    "attempt {attempt}, salt {salt}: {d:?} not in [{:?}, {ceiling:?}]",
                    ceiling / 2
                );
            }
        }
        assert!(backoff(FIRST, CAP, 1, 7) <= Duration::from_millis(50));
    }

    #[test]
    fn the_wait_never_exceeds_the_cap() {
        for salt in 0..200 {
            for attempt in [7, 8, 20, 31, 32, 1000, u32::MAX] {
                let d = backoff(FIRST, CAP, attempt, salt);
                assert!(d <= CAP && d >= CAP / 2, "attempt {attempt}: {d:?}");
            }
        }
        // Attempt 0 is treated as the first.
        assert!(backoff(FIRST, CAP, 0, 1) <= FIRST);
    }

    #[test]
    fn callers_with_different_salts_spread_out() {
        let waits: std::collections::HashSet<Duration> =
            (0..100).map(|salt| backoff(FIRST, CAP, 3, salt)).collect();
        assert!(waits.len() > 50, "only {} distinct waits", waits.len());
        // Jitter at the cap too: not everyone comes back at `cap`.
        let capped: std::collections::HashSet<Duration> =
            (0..100).map(|salt| backoff(FIRST, CAP, 40, salt)).collect();
        assert!(
            capped.len() > 50,
            "only {} distinct capped waits",
            capped.len()
        );
    }

    #[test]
    fn the_same_arguments_give_the_same_wait() {
        assert_eq!(backoff(FIRST, CAP, 4, 99), backoff(FIRST, CAP, 4, 99));
    }
}
