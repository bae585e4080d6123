//! Parked changes: a change a target could not take (a permanent error, or
//! transient ones past the attempt limit) goes to Postgres (listing,
//! replay; the resource's later changes park behind it) and to
//! `SCIMBUS_DLQ`; an operator's replay pushes them again in order.

use scimbus_db::links::{self, Parked};
use scimbus_events::Message;
use scimbus_events::v1::{Change, DeadLetter};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use crate::client::PushError;
use crate::item::{Counts, Item};
use crate::lifecycle::Mode;
use crate::retry::{failure, push_with_retries};
use crate::shared::{Shared, WorkerError};
use crate::target::Target;

/// Whether a resource has a parked change for this target (from memory,
/// loaded from Postgres the first time).
pub(crate) async fn has_parked(target: &Target, resource: Uuid) -> Result<bool, WorkerError> {
    if let Some(set) = target
        .parked
        .lock()
        .ok()
        .and_then(|p| p.as_ref().map(|s| s.contains(&resource)))
    {
        return Ok(set);
    }
    let all = links::parked_resources(&target.pool, target.key()).await?;
    let has = all.contains(&resource);
    if let Ok(mut p) = target.parked.lock() {
        *p = Some(all.into_iter().collect());
    }
    Ok(has)
}

/// Forgets what is known of parked resources (after a replay).
pub(crate) fn reload_parked(target: &Target) {
    if let Ok(mut p) = target.parked.lock() {
        *p = None;
    }
}

/// Parks a change: in Postgres (for listing and replay, and so the
/// resource's later changes wait behind it) and on `SCIMBUS_DLQ`.
pub(crate) async fn park(
    shared: &Shared,
    target: &Target,
    item: &Item,
    change: &Change,
    reason: &str,
    error: Option<&PushError>,
    attempts: u32,
) -> Result<(), WorkerError> {
    let exchange = error.map(|e| e.exchange().clone()).unwrap_or_default();
    if let Ok(mut p) = target.parked.lock()
        && let Some(set) = p.as_mut()
    {
        set.insert(item.resource);
    }
    links::park(
        &target.pool,
        target.key(),
        &Parked {
            seq: i64::try_from(change.sequence).map_err(|_| {
                WorkerError::Invariant(format!("change sequence {} out of range", change.sequence))
            })?,
            resource_type: change.resource_type.clone(),
            resource_id: item.resource,
            payload: change.encode_to_vec(),
            reason: reason.to_string(),
            request: (!exchange.request.is_empty()).then(|| exchange.request.clone()),
            response: exchange.response.clone(),
            attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
        },
    )
    .await?;
    park_letter(shared, target, item, error, reason, attempts).await
}

/// The dead letter on `SCIMBUS_DLQ` (`scimbus.dlq.target:<name>.<tenant>`).
pub(crate) async fn park_letter(
    shared: &Shared,
    target: &Target,
    item: &Item,
    error: Option<&PushError>,
    reason: &str,
    attempts: u32,
) -> Result<(), WorkerError> {
    let origin = format!("target:{}", target.cfg.name);
    let exchange = error.map(|e| e.exchange().clone()).unwrap_or_default();
    let letter = DeadLetter {
        origin: origin.clone(),
        tenant: target.tenant.clone(),
        subject: item.subject.clone(),
        message_id: item.msg_id.clone(),
        payload: item.raw.to_vec(),
        reason: reason.to_string(),
        attempts,
        parked_at_unix_micros: chrono::Utc::now().timestamp_micros(),
        request: exchange.request,
        response: exchange.response.unwrap_or_default(),
    };
    // One letter per (target, stream position): a re-park after a crash is
    // deduplicated.
    let msg_id = format!("{origin}/{}/{}", target.tenant, item.stream_seq);
    scimbus_bus::dead_letter(&shared.js, &shared.subjects, &letter, msg_id)
        .await
        .map_err(|e| WorkerError::JetStream(e.to_string()))
}

/// Pushes again the parked changes an operator asked to replay, resource by
/// resource in change order; a change that succeeds leaves the parked
/// list, one that fails again keeps its place (and the resource's later
/// ones theirs).
pub(crate) async fn replay(
    shared: &Shared,
    target: &Target,
    shutdown: &CancellationToken,
) -> Result<Counts, WorkerError> {
    let mut counts = Counts::default();
    let due = links::replay_due(&target.pool, target.key(), 1000).await?;
    let mut failed: std::collections::HashSet<Uuid> = std::collections::HashSet::new();
    for p in due {
        if failed.contains(&p.resource_id) {
            continue;
        }
        let change = match Change::decode(p.payload.as_slice()) {
            Ok(c) => c,
            Err(e) => {
                failed.insert(p.resource_id);
                let again = Parked {
                    reason: format!("not a scimbus.v1.Change: {e}"),
                    attempts: 1,
                    ..p
                };
                links::replay_failed(&target.pool, target.key(), &again).await?;
                continue;
            }
        };
        match push_with_retries(shared, target, &change, Mode::Change, shutdown, &mut counts)
            .await?
        {
            Ok(what) => {
                tracing::info!(target = %target.cfg.name, resource = %change.resource_id, seq = p.seq, ?what, "parked change replayed");
                links::unpark(&target.pool, target.key(), p.seq).await?;
                counts.pushed += 1;
            }
            Err((e, attempts)) => {
                let reason = failure(&e, attempts);
                tracing::warn!(target = %target.cfg.name, resource = %change.resource_id, seq = p.seq, %reason, "replay failed; still parked");
                failed.insert(p.resource_id);
                let exchange = e.exchange().clone();
                let again = Parked {
                    reason: reason.clone(),
                    request: (!exchange.request.is_empty()).then_some(exchange.request),
                    response: exchange.response,
                    attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
                    ..p
                };
                links::replay_failed(&target.pool, target.key(), &again).await?;
                counts.last_error = Some(reason);
            }
        }
    }
    Ok(counts)
}
