//! What keeps a worker from hammering a target: a request rate limit and a
//! circuit breaker that stops sending for a while after a run of failures
//! (its settings: [`CircuitConfig`]). A target that says when to come back
//! (`Retry-After`) is asked again then, not later and not sooner.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use scimbus_runtime::CircuitConfig;

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
    /// How long the circuit opens next time (without a `Retry-After`).
    open_for: Duration,
}

/// Rate limit and circuit breaker of one target.
#[derive(Debug)]
pub struct Throttle {
    interval: Option<Duration>,
    circuit: CircuitConfig,
    state: Mutex<State>,
}

impl Throttle {
    /// At most `rate_per_sec` requests per second (none: unlimited).
    pub fn new(rate_per_sec: Option<u32>, circuit: CircuitConfig) -> Throttle {
        Throttle {
            interval: rate_per_sec.map(|r| Duration::from_secs(1) / r.max(1)),
            state: Mutex::new(State {
                next_slot: Instant::now(),
                failures: 0,
                open_until: None,
                open_for: Duration::from_millis(circuit.open_ms),
            }),
            circuit,
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
            s.open_for = Duration::from_millis(self.circuit.open_ms);
        }
    }

    /// A request failed transiently (`retry_after`: when the target said
    /// to come back); after a run of them the circuit opens.
    pub fn failed(&self, retry_after: Option<Duration>) {
        self.failed_at(Instant::now(), retry_after);
    }

    fn failed_at(&self, now: Instant, retry_after: Option<Duration>) {
        let Ok(mut s) = self.state.lock() else { return };
        s.failures += 1;
        let trip = self.circuit.trip_after.max(1);
        if s.failures < trip {
            return;
        }
        let max = Duration::from_millis(self.circuit.max_open_ms);
        let open_for = match retry_after {
            // The target said when: then, and the next pause starts over.
            Some(after) => after.min(max),
            None => {
                let open_for = s.open_for.min(max);
                s.open_for = open_for.mul_f64(self.circuit.growth.max(1.0)).min(max);
                open_for
            }
        };
        s.open_until = Some(now + open_for);
        // One trial request after the pause; a failure reopens.
        s.failures = trip - 1;
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

    impl Throttle {
        /// How long the circuit stays open from now (zero when closed).
        fn open_left(&self, now: Instant) -> Duration {
            match self.circuit() {
                Circuit::Open(t) => t.saturating_duration_since(now),
                Circuit::Closed => Duration::ZERO,
            }
        }
    }

    fn settings() -> CircuitConfig {
        CircuitConfig {
            trip_after: 3,
            open_ms: 1_000,
            growth: 2.0,
            max_open_ms: 5_000,
        }
    }

    #[tokio::test]
    async fn the_rate_is_kept() {
        let t = Throttle::new(Some(50), CircuitConfig::default());
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
        let t = Throttle::new(None, settings());
        t.failed(None);
        t.failed(None);
        assert_eq!(t.circuit(), Circuit::Closed);
        t.failed(None);
        let Circuit::Open(until) = t.circuit() else {
            panic!("the circuit should be open")
        };
        assert!(until > Instant::now() + Duration::from_millis(500));
        let start = Instant::now();
        t.wait().await;
        assert!(start.elapsed() >= Duration::from_millis(500));
        // The trial request failed: open again, for longer.
        t.failed(None);
        let Circuit::Open(again) = t.circuit() else {
            panic!("a failed trial reopens the circuit")
        };
        assert!(again > Instant::now() + Duration::from_millis(1_500));
        t.succeeded();
        assert_eq!(t.circuit(), Circuit::Closed);
    }

    #[test]
    fn the_pause_grows_by_the_setting_up_to_the_cap() {
        let t = Throttle::new(None, settings());
        let now = Instant::now();
        t.failed_at(now, None);
        t.failed_at(now, None);
        let mut seen = Vec::new();
        for _ in 0..6 {
            t.failed_at(now, None);
            seen.push(t.open_left(now).as_millis().div_ceil(100) * 100);
        }
        assert_eq!(seen, [1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
    }

    #[test]
    fn a_retry_after_is_when_the_trial_goes_however_long_the_outage() {
        let t = Throttle::new(None, settings());
        let now = Instant::now();
        t.failed_at(now, Some(Duration::from_secs(2)));
        t.failed_at(now, Some(Duration::from_secs(2)));
        // Twenty failed trials in a row (a long outage): each pause is what
        // the target said, never grown.
        for _ in 0..20 {
            t.failed_at(now, Some(Duration::from_secs(2)));
            let left = t.open_left(now);
            assert!(
                left > Duration::from_millis(1_900) && left <= Duration::from_secs(2),
                "{left:?}"
            );
        }
        // A Retry-After over the cap is held to it.
        t.failed_at(now, Some(Duration::from_secs(3_600)));
        assert!(t.open_left(now) <= Duration::from_secs(5));
        // Without one, the pause starts from the first again.
        t.failed_at(now, None);
        assert!(t.open_left(now) <= Duration::from_secs(1));
    }
}
