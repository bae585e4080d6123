//! A partition's consumer lag, reported while this replica works it.

use std::time::Duration;

use async_nats::jetstream::consumer;

use crate::Shared;

/// Reports the lag of the consumer `name` of the command stream.
pub(super) async fn sample(shared: &Shared, name: &str, consumer: &mut consumer::PullConsumer) {
    // A failed read leaves the last value; the next tick tries again.
    if let Ok(info) = consumer.info().await {
        shared.metrics.consumer(
            &shared.subjects.command_stream(),
            name,
            info.num_pending,
            info.num_ack_pending,
        );
    }
}

/// How often a partition's consumer lag is read from JetStream.
pub(super) const LAG_EVERY: Duration = Duration::from_secs(5);
