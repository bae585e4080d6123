//! A limit on failed authentications per client address: each request
//! without a good token takes one from its address's bucket (`BURST`,
//! refilled at one a second); an address whose bucket is empty gets 429
//! unless its token is known good without asking Postgres (configured, or
//! cached). Guessing tokens thus neither loads Postgres nor gets anywhere,
//! and a client whose good token is in use keeps working.
//! Kept per replica, in memory: a restart forgives.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

use super::rate::Bucket;

/// Failures an address may have in a row before it is refused.
pub const BURST: f64 = 100.0;
/// Failures forgiven per second.
pub const REFILL_PER_SEC: f64 = 1.0;
/// Addresses remembered at most (idle ones, whose bucket is full, are
/// dropped first).
const MAX_ADDRESSES: usize = 100_000;

#[derive(Debug, Default)]
pub struct Failures(Mutex<HashMap<IpAddr, Bucket>>);

impl Failures {
    /// `Err(seconds)` while `addr` may not try: how long until it may.
    pub fn check(&self, addr: IpAddr) -> Result<(), u32> {
        let Ok(mut m) = self.0.lock() else {
            return Ok(());
        };
        match m.get_mut(&addr) {
            Some(bucket) => bucket
                .refill(REFILL_PER_SEC, BURST, Instant::now())
                // Whole seconds until one failure is forgiven.
                .map_err(|wait| wait.ceil().max(1.0) as u32),
            None => Ok(()),
        }
    }

    /// `addr` failed to authenticate.
    pub fn failed(&self, addr: IpAddr) {
        let Ok(mut m) = self.0.lock() else {
            return;
        };
        let now = Instant::now();
        if m.len() >= MAX_ADDRESSES && !m.contains_key(&addr) {
            // Idle addresses (their bucket full again) go first.
            m.retain(|_, b| {
                let _ = b.refill(REFILL_PER_SEC, BURST, now);
                b.left < BURST
            });
            if m.len() >= MAX_ADDRESSES {
                return;
            }
        }
        let bucket = m.entry(addr).or_insert_with(|| Bucket::full(BURST));
        // Only its level matters here: a failure is counted even when the
        // bucket is empty.
        let _ = bucket.refill(REFILL_PER_SEC, BURST, now);
        bucket.left = (bucket.left - 1.0).max(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_refused_after_its_burst_and_others_are_not() {
        let f = Failures::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..(BURST as usize) {
            assert!(f.check(a).is_ok());
            f.failed(a);
        }
        let wait = f.check(a).unwrap_err();
        assert!((1..=2).contains(&wait), "{wait}");
        assert!(f.check(b).is_ok());
    }
}
