//! Prometheus metrics: one [`Registry`] per service instance (so services
//! started in one process, as the tests do, keep their numbers apart),
//! served as the text exposition format at `/metrics` by the skeleton.
//!
//! Families have fixed label names and bounded label values (route
//! templates, target and subscription names from the configuration,
//! outcomes): never a user id, a path with ids in it, or an error text.
//! Names follow Prometheus conventions: `scimbus_` prefix, base units
//! (`_seconds`), counters end in `_total`.

mod encode;
mod family;
pub mod http;
pub mod pool;

use std::sync::{Arc, Mutex, PoisonError};

pub use family::{Counter, Gauge, Histogram};

/// Bucket bounds (seconds) for request and apply latencies: 1 ms to 10 s.
pub const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

type Collector = Box<dyn Fn() + Send + Sync>;

/// The metric families of one service, and what refreshes sampled values
/// just before they are read.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    families: Mutex<Vec<Arc<dyn family::Encode>>>,
    collectors: Mutex<Vec<Collector>>,
}

impl std::fmt::Debug for Registry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Registry {
        Registry::default()
    }

    /// A counter family: `name` ends in `_total`.
    pub fn counter(&self, name: &str, help: &str, labels: &[&str]) -> Counter {
        let c = Counter::new(name, help, labels);
        self.add(c.family());
        c
    }

    /// A gauge family.
    pub fn gauge(&self, name: &str, help: &str, labels: &[&str]) -> Gauge {
        let g = Gauge::new(name, help, labels);
        self.add(g.family());
        g
    }

    /// A histogram family with the given upper bucket bounds (ascending).
    pub fn histogram(&self, name: &str, help: &str, labels: &[&str], buckets: &[f64]) -> Histogram {
        let h = Histogram::new(name, help, labels, buckets);
        self.add(h.family());
        h
    }

    /// Runs `collect` before every read of the registry, to sample values
    /// kept elsewhere (a pool's connection counts).
    pub fn on_scrape(&self, collect: impl Fn() + Send + Sync + 'static) {
        self.inner
            .collectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Box::new(collect));
    }

    /// Every family in the text exposition format (version 0.0.4).
    pub fn encode(&self) -> String {
        for collect in self
            .inner
            .collectors
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            collect();
        }
        let families = self
            .inner
            .families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let mut out = String::new();
        for f in families {
            f.encode(&mut out);
        }
        out
    }

    fn add(&self, family: Arc<dyn family::Encode>) {
        self.inner
            .families
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(family);
    }
}

/// The content type of [`Registry::encode`]'s output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
