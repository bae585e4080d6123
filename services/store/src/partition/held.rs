//! The partitions a replica's session holds: their leases (on the
//! session), their consumers, and the commands waiting on them.

use std::future::poll_fn;
use std::task::Poll;
use std::time::Duration;

use async_nats::jetstream::stream::ConsumerErrorKind;
use async_nats::jetstream::{self, ErrorCode, consumer};
use futures_util::{FutureExt, StreamExt};
use scimbus_db::lease;
use sqlx::PgConnection;

use super::lag::sample;
use super::{LOCK_CLASS, PartitionError};
use crate::Shared;

/// A partition held: its consumer and the stream of its commands.
struct Partition {
    number: u32,
    /// The consumer's name, `store-p<number>`.
    name: String,
    consumer: consumer::PullConsumer,
    messages: consumer::pull::Stream,
}

/// The partitions a session holds, in the order they were taken.
pub(super) struct Held<'a> {
    shared: &'a Shared,
    partitions: Vec<Partition>,
    /// Where the next wait for a command starts looking, so that no
    /// partition is always looked at last.
    next: usize,
}

impl<'a> Held<'a> {
    pub(super) fn new(shared: &'a Shared) -> Held<'a> {
        Held {
            shared,
            partitions: Vec::new(),
            next: 0,
        }
    }

    /// Takes, on `conn`, every partition nobody holds, up to this
    /// replica's share. A partition whose consumer cannot be made is let
    /// go again (a later round tries it again); a failing `conn` ends the
    /// session.
    pub(super) async fn take_free(
        &mut self,
        conn: &mut PgConnection,
    ) -> Result<(), PartitionError> {
        for p in 0..self.shared.settings.partitions {
            if self.partitions.len() >= self.share() {
                return Ok(());
            }
            if self.partitions.iter().any(|h| h.number == p) {
                continue;
            }
            let key = lock_key(p)?;
            if !lease::try_lock(conn, LOCK_CLASS, key).await? {
                continue;
            }
            match open(self.shared, p).await {
                Ok(mut partition) => {
                    tracing::info!(partition = p, "partition taken");
                    sample(self.shared, &partition.name, &mut partition.consumer).await;
                    self.partitions.push(partition);
                }
                Err(e) => {
                    tracing::warn!(partition = p, error = %e, "cannot consume the partition");
                    lease::unlock(conn, LOCK_CLASS, key).await?;
                }
            }
        }
        Ok(())
    }

    /// Lets go of the partitions over this replica's share (another replica
    /// started): the last taken first. Called between batches, so nothing
    /// of them is in hand.
    pub(super) async fn yield_excess(
        &mut self,
        conn: &mut PgConnection,
    ) -> Result<(), PartitionError> {
        while self.partitions.len() > self.share() {
            let Some(p) = self.partitions.pop() else {
                break;
            };
            self.forget(&p);
            let number = p.number;
            drop(p);
            lease::unlock(conn, LOCK_CLASS, lock_key(number)?).await?;
            tracing::info!(partition = number, "partition left to another replica");
        }
        Ok(())
    }

    /// How many partitions this replica may hold.
    fn share(&self) -> usize {
        self.shared.balance.share() as usize
    }

    /// The next command of any partition held (none held: waits forever).
    pub(super) async fn next(&mut self) -> Result<jetstream::Message, PartitionError> {
        poll_fn(|cx| {
            let n = self.partitions.len();
            for k in 0..n {
                let i = (self.next + k) % n;
                if let Poll::Ready(m) = self.partitions[i].messages.poll_next_unpin(cx) {
                    self.next = (i + 1) % n;
                    return Poll::Ready(received(m));
                }
            }
            Poll::Pending
        })
        .await
    }

    /// Adds to `batch` the commands already here, of every partition held,
    /// each partition's in their order, up to `max` in all: first up to an
    /// even share of `max` from each, then what room is left, so that a
    /// partition with much waiting does not keep the others' out.
    pub(super) fn gather(
        &mut self,
        batch: &mut Vec<jetstream::Message>,
        max: usize,
    ) -> Result<(), PartitionError> {
        let n = self.partitions.len();
        let share = max.div_ceil(n.max(1));
        for room in [share, max] {
            for k in 0..n {
                let p = &mut self.partitions[(self.next + k) % n];
                let mut taken = 0;
                while taken < room && batch.len() < max {
                    match p.messages.next().now_or_never() {
                        Some(Some(m)) => batch.push(received(Some(m))?),
                        // Ended: the next wait reports it.
                        Some(None) | None => break,
                    }
                    taken += 1;
                }
            }
        }
        Ok(())
    }

    /// Reports each held partition's consumer lag.
    pub(super) async fn sample(&mut self) {
        for p in &mut self.partitions {
            sample(self.shared, &p.name, &mut p.consumer).await;
        }
    }

    /// Forgets every partition held: the session is over, and its leases
    /// went (or go now) with its connection.
    pub(super) fn release_all(&mut self) {
        for p in std::mem::take(&mut self.partitions) {
            self.forget(&p);
        }
    }

    fn forget(&self, p: &Partition) {
        self.shared
            .metrics
            .consumer_released(&self.shared.subjects.command_stream(), &p.name);
    }
}

/// The second key of partition `p`'s lease (partitions are at most 1024).
fn lock_key(p: u32) -> Result<i32, PartitionError> {
    i32::try_from(p).map_err(|_| PartitionError::Setting(format!("partition {p}")))
}

type Received = Option<Result<jetstream::Message, consumer::pull::MessagesError>>;

fn received(m: Received) -> Result<jetstream::Message, PartitionError> {
    m.ok_or_else(|| PartitionError::JetStream("a consumer's message stream ended".into()))?
        .map_err(|e| PartitionError::JetStream(e.to_string()))
}

/// Partition `p`'s consumer, created afresh so that it starts at the
/// oldest command not yet acknowledged, and the stream of its commands.
async fn open(shared: &Shared, p: u32) -> Result<Partition, PartitionError> {
    let js_err = |e: &dyn std::fmt::Display| PartitionError::JetStream(e.to_string());
    let stream = shared
        .js
        .get_stream(shared.subjects.command_stream())
        .await
        .map_err(|e| js_err(&e))?;
    let name = format!("store-p{p}");
    match stream.delete_consumer(&name).await {
        Ok(_) => {}
        // Not found is fine: this is the first owner.
        Err(e)
            if matches!(e.kind(), ConsumerErrorKind::JetStream(j)
                if j.error_code() == ErrorCode::CONSUMER_NOT_FOUND) => {}
        // Anything else: the old consumer may still be there, and a new
        // owner would not start at the oldest unacknowledged command.
        Err(e) => return Err(js_err(&e)),
    }
    let max_ack_pending = i64::try_from(shared.settings.batch_max.saturating_mul(4))
        .map_err(|_| PartitionError::Setting(format!("batch {}", shared.settings.batch_max)))?;
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some(name.clone()),
            filter_subject: shared.subjects.command_partition(p),
            ack_policy: consumer::AckPolicy::Explicit,
            ack_wait: Duration::from_secs(30),
            deliver_policy: consumer::DeliverPolicy::All,
            max_ack_pending,
            ..Default::default()
        })
        .await
        .map_err(|e| js_err(&e))?;
    let messages = consumer
        .clone()
        .stream()
        .max_messages_per_batch(shared.settings.batch_max)
        .heartbeat(Duration::from_secs(5))
        .expires(Duration::from_secs(30))
        .messages()
        .await
        .map_err(|e| js_err(&e))?;
    Ok(Partition {
        number: p,
        name,
        consumer,
        messages,
    })
}
