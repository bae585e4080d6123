//! Writes as commands: published to `SCIMBUS_CMD` (with `Nats-Msg-Id` =
//! command id, so a republish is dropped by JetStream), answered by the
//! store on this ingress's inbox — the results of the commands a store
//! applied together in one message (`Scimbus-Reply-Batch`). The HTTP
//! answer waits for the store's result, so it is the real one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_nats::jetstream;
use futures_util::StreamExt;
use scimbus_bus::Outgoing;
use scimbus_events::v1::{Command, CommandResult, CommandResults};
use scimbus_events::{Message, Subjects};
use tokio::sync::oneshot;
use tracing::Instrument;

/// Why a write got no answer.
#[derive(Debug, thiserror::Error)]
pub enum DispatchError {
    #[error("the command could not be published: {0}")]
    Publish(#[from] scimbus_bus::BusError),
    #[error("JetStream did not acknowledge the command: {0}")]
    Ack(String),
    #[error("the result route closed (the ingress is stopping)")]
    Closed,
    /// A command id that is not a UUID: the ingress makes them, so a bug.
    #[error("command id {0:?} is not a UUID")]
    Id(String),
    #[error("reading the recorded result: {0}")]
    Db(#[from] sqlx::Error),
    #[error("the recorded result does not decode: {0}")]
    Decode(#[from] scimbus_events::DecodeError),
    #[error("the store did not answer within {0:?}")]
    Timeout(Duration),
}

/// The suffix of the inbox subject the store sends a batch's results to
/// (`headers::REPLY_BATCH`); a command id, a UUID, never ends so.
const RESULTS: &str = ".results";

type Pending = Arc<Mutex<HashMap<String, oneshot::Sender<CommandResult>>>>;

/// The waiters. A panic while the lock was held cannot have left the map
/// half-changed (each use is one insert or remove), so a poisoned lock is
/// used as it is rather than dropping every later answer.
fn lock(pending: &Pending) -> MutexGuard<'_, HashMap<String, oneshot::Sender<CommandResult>>> {
    pending.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Publishes commands and routes the store's results back to the waiting
/// requests.
#[derive(Debug, Clone)]
pub struct Dispatcher {
    client: async_nats::Client,
    js: jetstream::Context,
    subjects: Subjects,
    partitions: u32,
    inbox: String,
    pending: Pending,
    timeout: Duration,
    /// Where a duplicate's recorded result is read.
    read: scimbus_db::ReadPool,
}

impl Dispatcher {
    /// Subscribes to this ingress's result inbox.
    pub async fn start(
        client: async_nats::Client,
        js: jetstream::Context,
        subjects: Subjects,
        partitions: u32,
        timeout: Duration,
        read: scimbus_db::ReadPool,
    ) -> Result<Dispatcher, async_nats::SubscribeError> {
        let inbox = client.new_inbox();
        let nats = client.clone();
        let mut sub = client.subscribe(format!("{inbox}.*")).await?;
        let pending: Pending = Arc::default();
        let routes = pending.clone();
        tokio::spawn(async move {
            while let Some(msg) = sub.next().await {
                // The results of a batch on `{inbox}.results`; one result on
                // `{inbox}.{command id}` (a store that does not batch).
                let results = if msg.subject.ends_with(RESULTS) {
                    CommandResults::decode(msg.payload.as_ref()).map(|r| r.results)
                } else {
                    CommandResult::decode(msg.payload.as_ref()).map(|r| vec![r])
                };
                let Ok(results) = results else {
                    tracing::warn!(subject = %msg.subject, "undecodable command result");
                    continue;
                };
                let mut routes = lock(&routes);
                let waiters: Vec<_> = results
                    .into_iter()
                    .filter_map(|r| Some((routes.remove(&r.command_id)?, r)))
                    .collect();
                drop(routes);
                for (tx, result) in waiters {
                    // Fails only if the request stopped waiting (timed out,
                    // or its client went away): nobody to tell.
                    let _ = tx.send(result);
                }
            }
        });
        Ok(Dispatcher {
            client: nats,
            js,
            subjects,
            partitions,
            inbox,
            pending,
            timeout,
            read,
        })
    }

    /// Publishes `cmd` and waits for its result.
    pub async fn send(&self, cmd: &Command) -> Result<CommandResult, DispatchError> {
        self.send_many(std::slice::from_ref(cmd))
            .await
            .pop()
            .unwrap_or(Err(DispatchError::Closed))
    }

    /// Publishes `cmds` one after the other, in their order (the store
    /// applies a partition's commands in the order the bus has them), then
    /// waits for all their results at once, within one write timeout: many
    /// writes cost about one round trip to the store instead of one each.
    /// One result per command, in order.
    pub async fn send_many(&self, cmds: &[Command]) -> Vec<Result<CommandResult, DispatchError>> {
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut waits = Vec::with_capacity(cmds.len());
        let mut guards = Vec::with_capacity(cmds.len());
        for cmd in cmds {
            let (tx, rx) = oneshot::channel();
            lock(&self.pending).insert(cmd.id.clone(), tx);
            guards.push(Forget {
                pending: &self.pending,
                id: &cmd.id,
            });
            let mut out = Outgoing::command(
                &self.subjects,
                self.partitions,
                cmd,
                Some(format!("{}.{}", self.inbox, cmd.id)),
            );
            out.reply_batch = Some(format!("{}{RESULTS}", self.inbox));
            let (span, trace) = scimbus_runtime::telemetry::messaging::producer(
                &self.subjects.command_stream(),
                &out.subject,
                &cmd.id,
            );
            out.traceparent = trace.traceparent;
            out.tracestate = trace.tracestate;
            let published = tokio::time::timeout_at(
                deadline,
                scimbus_bus::publish(&self.js, &out).instrument(span.clone()),
            )
            .await;
            waits.push(match published {
                Ok(Ok(ack)) => Ok((ack, rx, span)),
                Ok(Err(e)) => Err(DispatchError::from(e)),
                Err(_) => Err(DispatchError::Timeout(self.timeout)),
            });
        }
        let answers = waits.into_iter().zip(cmds).map(|(w, cmd)| async move {
            let (ack, rx, span) = w?;
            let wait = async {
                let ack = ack.await.map_err(|e| DispatchError::Ack(e.to_string()))?;
                if ack.duplicate {
                    // The same command was published before (a client retry
                    // with the same Idempotency-Key): JetStream dropped this
                    // copy, so no result comes; read the recorded one.
                    return self.recorded(&cmd.id).await;
                }
                rx.await.map_err(|_| DispatchError::Closed)
            };
            tokio::time::timeout_at(deadline, wait)
                .instrument(span)
                .await
                .map_err(|_| DispatchError::Timeout(self.timeout))?
        });
        let results = futures_util::future::join_all(answers).await;
        drop(guards);
        results
    }
}

impl Dispatcher {
    /// The command partitions.
    pub fn partitions(&self) -> u32 {
        self.partitions
    }

    pub fn subjects(&self) -> &Subjects {
        &self.subjects
    }

    pub fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Whether writes can be published (for `/readyz`): the NATS
    /// connection is up and the command stream answers.
    pub async fn ready(&self) -> Result<(), scimbus_bus::BusError> {
        scimbus_bus::ready(&self.client, &self.js, &[self.subjects.command_stream()]).await
    }

    /// Waits for the recorded result of a command applied (or being
    /// applied) through an earlier publish.
    async fn recorded(&self, id: &str) -> Result<CommandResult, DispatchError> {
        let uuid = uuid::Uuid::parse_str(id).map_err(|_| DispatchError::Id(id.to_string()))?;
        loop {
            let row: Option<Vec<u8>> = self
                .read
                .read(|mut c| async move {
                    let r = scimbus_db::commands::result_of(&mut c, uuid).await;
                    (c, r)
                })
                .await?;
            if let Some(bytes) = row {
                let mut r = CommandResult::decode(bytes.as_slice())?;
                r.replayed = true;
                return Ok(r);
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Removes a waiter that will not be answered (timeout, error, dropped
/// request).
struct Forget<'a> {
    pending: &'a Pending,
    id: &'a str,
}

impl Drop for Forget<'_> {
    fn drop(&mut self) {
        lock(self.pending).remove(self.id);
    }
}
