//! What the store counts: commands by outcome, batch sizes, how long a
//! batch takes to apply, and how far behind each partition it owns is.

use scimbus_events::v1::{CommandResult, command_result::Outcome};
use scimbus_runtime::metrics::{Counter, Gauge, Histogram, LATENCY_BUCKETS, Registry};

/// The store's families.
#[derive(Debug, Clone)]
pub struct StoreMetrics {
    commands: Counter,
    batch_size: Histogram,
    apply_seconds: Histogram,
    pending: Gauge,
    ack_pending: Gauge,
}

/// Bucket bounds of batch sizes (commands).
const SIZE_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0];

impl StoreMetrics {
    /// Registers the families in `registry`.
    pub fn new(registry: &Registry) -> StoreMetrics {
        StoreMetrics {
            commands: registry.counter(
                "scimbus_store_commands_total",
                "Commands the store answered, by outcome (applied, conflict, not_found, precondition_failed, invalid, parked).",
                &["outcome"],
            ),
            batch_size: registry.histogram(
                "scimbus_store_batch_size",
                "Commands taken from a partition and applied together.",
                &[],
                SIZE_BUCKETS,
            ),
            apply_seconds: registry.histogram(
                "scimbus_store_apply_seconds",
                "Time to apply a batch of commands in Postgres, commit included.",
                &[],
                LATENCY_BUCKETS,
            ),
            pending: registry.gauge(
                "scimbus_jetstream_consumer_pending",
                "Messages of the stream the consumer has not been delivered yet (its lag), for the consumers this replica works.",
                &["stream", "consumer"],
            ),
            ack_pending: registry.gauge(
                "scimbus_jetstream_consumer_ack_pending",
                "Messages delivered to the consumer and not acknowledged yet.",
                &["stream", "consumer"],
            ),
        }
    }

    /// A batch of `size` commands applied in `seconds`.
    pub fn batch(&self, size: usize, seconds: f64) {
        self.batch_size.observe(&[], size as f64);
        self.apply_seconds.observe(&[], seconds);
    }

    /// The answers given to a batch's commands.
    pub fn answered<'a>(&self, results: impl IntoIterator<Item = &'a CommandResult>) {
        for r in results {
            self.commands.inc(&[outcome_label(r)]);
        }
    }

    /// Commands that could not be decoded, parked on the dead-letter stream.
    pub fn parked(&self, n: usize) {
        if n > 0 {
            self.commands.add(&["parked"], n as u64);
        }
    }

    /// The consumer's lag, as JetStream last reported it.
    pub fn consumer(&self, stream: &str, consumer: &str, pending: u64, ack_pending: usize) {
        self.pending.set(&[stream, consumer], pending as f64);
        self.ack_pending
            .set(&[stream, consumer], ack_pending as f64);
    }

    /// The replica no longer works the consumer: its lag is another's to report.
    pub fn consumer_released(&self, stream: &str, consumer: &str) {
        self.pending.remove(&[stream, consumer]);
        self.ack_pending.remove(&[stream, consumer]);
    }
}

fn outcome_label(r: &CommandResult) -> &'static str {
    // A command that kept failing is answered 500 and parked.
    if r.error.as_ref().is_some_and(|e| e.status == 500) {
        return "parked";
    }
    match Outcome::try_from(r.outcome).unwrap_or(Outcome::Unspecified) {
        Outcome::Applied => "applied",
        Outcome::Conflict => "conflict",
        Outcome::NotFound => "not_found",
        Outcome::PreconditionFailed => "precondition_failed",
        Outcome::Invalid => "invalid",
        Outcome::Unspecified => "unspecified",
    }
}
