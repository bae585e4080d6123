//! What keeps a worker from hammering a target: a request rate limit and a
//! circuit breaker that stops sending for a while after a run of failures.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Consecutive transient failures that open the circuit.
const TRIP_AFTER: u32 = 5;
/// How long the circuit stays open at first; doubles while failures go on.
const FIRST_OPEN: Duration = Duration::from_secs(2);
const LONGEST_OPEN: Duration = Duration::from_secs(60);

/// The circuit's state, as the status reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Circuit {
    Closed,
    /// Requests wait until the instant.
    Open(Instant),
}

#[derive(Debug)]
struct State {
    /// The earliest instant the next request may go (rate limit).
    next_slot: Instant,
    failures: u32,
    open_until: Option<Instant>,
    open_for: Duration,
}

/// Rate limit and circuit breaker of one target.
#[derive(Debug)]
pub struct Throttle {
    interval: Option<Duration>,
    state: Mutex<State>,
}

impl Throttle {
    /// At most `rate_per_sec` requests per second (none: unlimited).
    pub fn new(rate_per_sec: Option<u32>) -> Throttle {
        Throttle {
            interval: rate_per_sec.map(|r| Duration::from_secs(1) / r.max(1)),
            state: Mutex::new(State {
                next_slot: Instant::now(),
                failures: 0,
                open_until: None,
                open_for: FIRST_OPEN,
            }),
        }
    }

    /// Waits until a request may go: the circuit is not open and the rate
    /// allows one more.
    pub async fn wait(&self) {
        enum Next {
            Go,
            /// The circuit is open: wait, then look again.
            Pause(Instant),
            /// A rate slot is reserved: wait for it, then go.
            Slot(Instant),
        }
        loop {
            let now = Instant::now();
            let next = {
                let Ok(mut s) = self.state.lock() else { return };
                match (s.open_until.filter(|t| *t > now), self.interval) {
                    (Some(t), _) => Next::Pause(t),
                    (None, None) => Next::Go,
                    (None, Some(step)) => {
                        let slot = s.next_slot.max(now);
                        s.next_slot = slot + step;
                        if slot <= now {
                            Next::Go
                        } else {
                            Next::Slot(slot)
                        }
                    }
                }
            };
            match next {
                Next::Go => return,
                Next::Pause(t) => tokio::time::sleep_until(t.into()).await,
                Next::Slot(t) => {
                    tokio::time::sleep_until(t.into()).await;
                    return;
                }
            }
        }
    }

    /// A request got an answer that was not a transient failure.
    pub fn succeeded(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.failures = 0;
            s.open_until = None;
            s.open_for = FIRST_OPEN;
        }
    }

    /// A request failed transiently; after a run of them the circuit opens.
    pub fn failed(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.failures += 1;
            if s.failures >= TRIP_AFTER {
                let open_for = s.open_for;
                s.open_until = Some(Instant::now() + open_for);
                s.open_for = (open_for * 2).min(LONGEST_OPEN);
                // One trial request after the pause; a failure reopens.
                s.failures = TRIP_AFTER - 1;
            }
        }
    }

    pub fn circuit(&self) -> Circuit {
        match self.state.lock() {
            Ok(s) => match s.open_until {
                Some(t) if t > Instant::now() => Circuit::Open(t),
                _ => Circuit::Closed,
            },
            Err(_) => Circuit::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_rate_is_kept() {
        let t = Throttle::new(Some(50));
        let start = Instant::now();
        for _ in 0..11 {
            t.wait().await;
        }
        // 11 requests at 50/s: the 11th goes 200 ms after the first.
        assert!(
            start.elapsed() >= Duration::from_millis(195),
            "{:?}",
            start.elapsed()
        );
    }

    #[tokio::test]
    async fn a_run_of_failures_opens_the_circuit_and_a_success_closes_it() {
        let t = Throttle::new(None);
        for _ in 0..TRIP_AFTER - 1 {
            t.failed();
        }
        assert_eq!(t.circuit(), Circuit::Closed);
        t.failed();
        let Circuit::Open(until) = t.circuit() else {
            panic!("the circuit should be open")
        };
        assert!(until > Instant::now() + FIRST_OPEN / 2);
        let start = Instant::now();
        t.wait().await;
        assert!(start.elapsed() >= FIRST_OPEN / 2);
        // The trial request failed: open again, for longer.
        t.failed();
        let Circuit::Open(again) = t.circuit() else {
            panic!("a failed trial reopens the circuit")
        };
        assert!(again > Instant::now() + FIRST_OPEN);
        t.succeeded();
        assert_eq!(t.circuit(), Circuit::Closed);
    }
}
