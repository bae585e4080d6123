//! What a replica does with a batch of its partitions' commands: decode,
//! apply in one transaction, answer, acknowledge, hand the changes on.

use std::time::{Duration, Instant};

use async_nats::jetstream::{self, AckKind};
use scimbus_db::changes::ChangeRow;
use scimbus_events::v1::{Command, CommandResult};
use sqlx::PgConnection;
use uuid::Uuid;

use super::PartitionError;
use super::answer::answer;
use crate::Shared;
use crate::apply::ApplyError;
use crate::batch::{apply_batch, now};
use crate::dead_letter::park;
use crate::message::{self, decode, failed};

/// Decodes, applies, answers, acknowledges and hands the changes on.
pub(super) async fn process(
    shared: &Shared,
    conn: &mut PgConnection,
    msgs: Vec<jetstream::Message>,
) -> Result<(), PartitionError> {
    // One span per command, child of the span that published it; they
    // end with the batch.
    let spans = message::spans(&shared.subjects.command_stream(), &msgs);
    let mut good: Vec<(usize, Uuid, Command)> = Vec::with_capacity(msgs.len());
    let mut refused: Vec<(usize, CommandResult)> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        match decode(m) {
            Ok((id, cmd)) => good.push((i, id, cmd)),
            Err(undecodable) => {
                let reason = undecodable.to_string();
                tracing::warn!(subject = %m.subject, %reason, "command parked");
                park(&shared.js, &shared.subjects, &m.message, &reason, 1).await?;
                refused.push((i, failed(String::new(), 400, &reason)));
            }
        }
    }
    let started = Instant::now();
    let (results, mut changes) = apply_all(shared, conn, &good, &msgs).await?;
    message::traced(&mut changes, &good, &spans);
    shared
        .metrics
        .batch(msgs.len(), started.elapsed().as_secs_f64());
    shared.metrics.answered(&results);
    shared.metrics.parked(refused.len());
    let answers = good
        .iter()
        .map(|(i, _, _)| *i)
        .zip(results)
        .chain(refused)
        .map(|(i, result)| (&msgs[i], result));
    answer(shared, answers).await;
    // One acknowledgement each: a work-queue stream allows no other
    // policy than explicit.
    for m in &msgs {
        m.ack()
            .await
            .map_err(|e| PartitionError::JetStream(format!("ack: {e}")))?;
    }
    if !changes.is_empty() && shared.outbox.send(changes).await.is_err() {
        tracing::warn!("the change publisher has stopped; the sweeper publishes the changes");
    }
    Ok(())
}

/// Applies the batch in one transaction; if that fails, one command at a
/// time with retries, parking a command that keeps failing.
async fn apply_all(
    shared: &Shared,
    conn: &mut PgConnection,
    good: &[(usize, Uuid, Command)],
    msgs: &[jetstream::Message],
) -> Result<(Vec<CommandResult>, Vec<ChangeRow>), PartitionError> {
    if good.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let registry = &shared.registry;
    let all: Vec<(Uuid, &Command)> = good.iter().map(|(_, id, c)| (*id, c)).collect();
    match apply_batch(conn, registry, &shared.owners, now(), &all).await {
        Ok(c) => return Ok((c.results, c.changes)),
        Err(e) if lost_connection(&e) => return Err(e.into()),
        Err(e) => {
            tracing::debug!(error = %e, size = all.len(), "batch failed; applying one at a time")
        }
    }
    let mut results = Vec::with_capacity(good.len());
    let mut changes = Vec::new();
    for (i, id, cmd) in good {
        let mut attempt = 1;
        loop {
            match apply_batch(conn, registry, &shared.owners, now(), &[(*id, cmd)]).await {
                Ok(c) => {
                    results.extend(c.results);
                    changes.extend(c.changes);
                    break;
                }
                Err(e) if lost_connection(&e) => return Err(e.into()),
                Err(e) if attempt >= shared.settings.max_attempts || deterministic(&e) => {
                    let reason = format!("applying failed {attempt} times: {e}");
                    tracing::error!(command = %id, %reason, "command parked");
                    park(
                        &shared.js,
                        &shared.subjects,
                        &msgs[*i].message,
                        &reason,
                        attempt,
                    )
                    .await?;
                    results.push(failed(
                        cmd.id.clone(),
                        500,
                        "the write could not be applied and was parked for an operator",
                    ));
                    break;
                }
                Err(e) => {
                    tracing::warn!(command = %id, attempt, error = %e, "applying failed; retrying");
                    // Keep JetStream from redelivering while we retry. If
                    // this fails, the command is delivered again after
                    // ack_wait: applied once all the same (its id is
                    // recorded), so the failure needs no handling here.
                    let _ = msgs[*i].ack_with(AckKind::Progress).await;
                    tokio::time::sleep(backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }
    Ok((results, changes))
}

fn backoff(attempt: u32) -> Duration {
    Duration::from_millis(100u64.saturating_mul(1 << attempt.min(6))).min(Duration::from_secs(5))
}

/// Errors after which this connection (and the lock on it) cannot be
/// trusted: give the partition up and take it again.
pub(super) fn lost_connection(e: &ApplyError) -> bool {
    let ApplyError::Db(e) = e else {
        return false;
    };
    match e {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(d) => d
            .code()
            .is_some_and(|c| c.starts_with("08") || c.starts_with("57P")),
        _ => false,
    }
}

/// Errors that come back every time (invalid data, a broken constraint
/// such as an undeclared tenant, a broken invariant): retrying cannot help.
fn deterministic(e: &ApplyError) -> bool {
    match e {
        ApplyError::Broken(_) => true,
        ApplyError::Db(e) => e
            .as_database_error()
            .and_then(|d| d.code())
            .is_some_and(|c| c.starts_with("22") || c.starts_with("23")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff(1), Duration::from_millis(200));
        assert_eq!(backoff(2), Duration::from_millis(400));
        assert_eq!(backoff(30), Duration::from_secs(5));
    }
}
