//! Counter, gauge and histogram families: a fixed list of label names, one
//! series per distinct list of label values.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use super::encode;

/// What the registry asks of a family: its lines of the exposition format.
pub(super) trait Encode: Send + Sync {
    fn encode(&self, out: &mut String);
}

/// A float kept in an atomic (its bits), added to without a lock.
#[derive(Debug, Default)]
struct AtomicF64(AtomicU64);

impl AtomicF64 {
    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }
    fn set(&self, v: f64) {
        self.0.store(v.to_bits(), Ordering::Relaxed);
    }
    fn add(&self, v: f64) {
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + v).to_bits())
            });
    }
}

/// The series of one family, by label values.
struct Series<T> {
    name: String,
    help: String,
    labels: Vec<String>,
    series: RwLock<BTreeMap<Vec<String>, Arc<T>>>,
}

impl<T> Series<T> {
    fn new(name: &str, help: &str, labels: &[&str]) -> Series<T> {
        Series {
            name: name.to_string(),
            help: help.to_string(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            series: RwLock::new(BTreeMap::new()),
        }
    }

    /// The series of `values`, made on first use. A wrong number of values
    /// is a programming error; it is padded or cut rather than panicking.
    fn get(&self, values: &[&str], make: impl FnOnce() -> T) -> Arc<T> {
        let mut key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        key.resize(self.labels.len(), String::new());
        if let Some(s) = self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return s.clone();
        }
        self.series
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .entry(key)
            .or_insert_with(|| Arc::new(make()))
            .clone()
    }

    fn remove(&self, values: &[&str]) {
        let mut key: Vec<String> = values.iter().map(|v| v.to_string()).collect();
        key.resize(self.labels.len(), String::new());
        self.series
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&key);
    }

    fn each(&self, mut f: impl FnMut(&[String], &T)) {
        for (k, v) in self
            .series
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
        {
            f(k, v);
        }
    }
}

/// A monotonic count.
#[derive(Clone)]
pub struct Counter(Arc<Series<AtomicU64>>);

impl Counter {
    pub(super) fn new(name: &str, help: &str, labels: &[&str]) -> Counter {
        Counter(Arc::new(Series::new(name, help, labels)))
    }
    pub(super) fn family(&self) -> Arc<dyn Encode> {
        self.0.clone()
    }
    /// Adds one to the series of `labels`.
    pub fn inc(&self, labels: &[&str]) {
        self.add(labels, 1);
    }
    /// Adds `n` to the series of `labels`.
    pub fn add(&self, labels: &[&str], n: u64) {
        self.0
            .get(labels, AtomicU64::default)
            .fetch_add(n, Ordering::Relaxed);
    }
    /// The value of the series of `labels` (0 when it has none).
    pub fn get(&self, labels: &[&str]) -> u64 {
        self.0
            .get(labels, AtomicU64::default)
            .load(Ordering::Relaxed)
    }
}

impl Encode for Series<AtomicU64> {
    fn encode(&self, out: &mut String) {
        encode::header(out, &self.name, &self.help, "counter");
        self.each(|values, v| {
            encode::sample(
                out,
                &self.name,
                "",
                &self.labels,
                values,
                None,
                v.load(Ordering::Relaxed) as f64,
            );
        });
    }
}

/// A value that goes up and down.
#[derive(Clone)]
pub struct Gauge(Arc<Series<AtomicF64>>);

impl Gauge {
    pub(super) fn new(name: &str, help: &str, labels: &[&str]) -> Gauge {
        Gauge(Arc::new(Series::new(name, help, labels)))
    }
    pub(super) fn family(&self) -> Arc<dyn Encode> {
        self.0.clone()
    }
    /// Sets the series of `labels` to `v`.
    pub fn set(&self, labels: &[&str], v: f64) {
        self.0.get(labels, AtomicF64::default).set(v);
    }
    /// Adds `v` (may be negative) to the series of `labels`.
    pub fn add(&self, labels: &[&str], v: f64) {
        self.0.get(labels, AtomicF64::default).add(v);
    }
    /// The value of the series of `labels` (0 when it has none).
    pub fn get(&self, labels: &[&str]) -> f64 {
        self.0.get(labels, AtomicF64::default).get()
    }
    /// Drops the series of `labels` (a target that no longer exists).
    pub fn remove(&self, labels: &[&str]) {
        self.0.remove(labels);
    }
}

impl Encode for Series<AtomicF64> {
    fn encode(&self, out: &mut String) {
        encode::header(out, &self.name, &self.help, "gauge");
        self.each(|values, v| {
            encode::sample(out, &self.name, "", &self.labels, values, None, v.get());
        });
    }
}

/// Counts of observations by upper bound, with their sum.
struct Buckets {
    counts: Vec<AtomicU64>,
    count: AtomicU64,
    sum: AtomicF64,
}

/// A distribution (latencies, sizes).
#[derive(Clone)]
pub struct Histogram(Arc<HistogramFamily>);

struct HistogramFamily {
    bounds: Vec<f64>,
    series: Series<Buckets>,
}

impl Histogram {
    pub(super) fn new(name: &str, help: &str, labels: &[&str], bounds: &[f64]) -> Histogram {
        Histogram(Arc::new(HistogramFamily {
            bounds: bounds.to_vec(),
            series: Series::new(name, help, labels),
        }))
    }
    pub(super) fn family(&self) -> Arc<dyn Encode> {
        self.0.clone()
    }
    /// Records `v` in the series of `labels`.
    pub fn observe(&self, labels: &[&str], v: f64) {
        let n = self.0.bounds.len();
        let b = self.0.series.get(labels, || Buckets {
            counts: (0..n).map(|_| AtomicU64::default()).collect(),
            count: AtomicU64::default(),
            sum: AtomicF64::default(),
        });
        if let Some(i) = self.0.bounds.iter().position(|bound| v <= *bound)
            && let Some(c) = b.counts.get(i)
        {
            c.fetch_add(1, Ordering::Relaxed);
        }
        b.count.fetch_add(1, Ordering::Relaxed);
        b.sum.add(v);
    }
    /// How many observations the series of `labels` has, and their sum.
    pub fn count_and_sum(&self, labels: &[&str]) -> (u64, f64) {
        let mut found = (0, 0.0);
        let mut key: Vec<String> = labels.iter().map(|v| v.to_string()).collect();
        key.resize(self.0.series.labels.len(), String::new());
        self.0.series.each(|values, b| {
            if values == key.as_slice() {
                found = (b.count.load(Ordering::Relaxed), b.sum.get());
            }
        });
        found
    }
}

impl Encode for HistogramFamily {
    fn encode(&self, out: &mut String) {
        let s = &self.series;
        encode::header(out, &s.name, &s.help, "histogram");
        s.each(|values, b| {
            let mut cumulative = 0u64;
            for (bound, c) in self.bounds.iter().zip(&b.counts) {
                cumulative += c.load(Ordering::Relaxed);
                encode::sample(
                    out,
                    &s.name,
                    "_bucket",
                    &s.labels,
                    values,
                    Some(*bound),
                    cumulative as f64,
                );
            }
            let count = b.count.load(Ordering::Relaxed);
            encode::sample(
                out,
                &s.name,
                "_bucket",
                &s.labels,
                values,
                Some(f64::INFINITY),
                count as f64,
            );
            encode::sample(out, &s.name, "_sum", &s.labels, values, None, b.sum.get());
            encode::sample(
                out,
                &s.name,
                "_count",
                &s.labels,
                values,
                None,
                count as f64,
            );
        });
    }
}
