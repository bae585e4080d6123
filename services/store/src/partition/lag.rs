//! A partition's consumer lag, reported while this replica works it.

use std::time::Duration;

use async_nats::jetstream::consumer;

use crate::Shared;

/// Reports a partition's consumer lag while this replica works it.
pub(super) struct Lag<'a> {
    pub(super) shared: &'a Shared,
    pub(super) stream: &'a str,
    pub(super) consumer: &'a str,
}

impl Lag<'_> {
    pub(super) async fn sample(&self, consumer: &mut consumer::PullConsumer) {
        // A failed read leaves the last value; the next tick tries again.
        if let Ok(info) = consumer.info().await {
            self.shared.metrics.consumer(
                self.stream,
                self.consumer,
                info.num_pending,
                info.num_ack_pending,
            );
        }
    }

    pub(super) fn released(&self) {
        self.shared
            .metrics
            .consumer_released(self.stream, self.consumer);
    }
}

/// How often a partition's consumer lag is read from JetStream.
pub(super) const LAG_EVERY: Duration = Duration::from_secs(5);
