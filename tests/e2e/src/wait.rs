//! Waiting for what a test expects to become true, with a deadline: a
//! test proves a condition by seeing it, never by sleeping.

use std::future::Future;
use std::time::{Duration, Instant};

/// How often [`eventually`] checks again.
const POLL: Duration = Duration::from_millis(50);

/// Waits until `check` gives `Ok` (checked every 50 ms), up to `within`,
/// and returns what it gave; panics with `what` and the last `Err`
/// otherwise, so a failure says how far it got.
pub async fn eventually<T, F, Fut>(what: &str, within: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, String>>,
{
    let start = Instant::now();
    loop {
        match check().await {
            Ok(v) => return v,
            Err(last) if start.elapsed() > within => {
                panic!("{what}: not so after {within:?}; last: {last}")
            }
            Err(_) => tokio::time::sleep(POLL).await,
        }
    }
}
