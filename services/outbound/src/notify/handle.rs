//! One change for one subscription: is it an event the subscription asked
//! for (its resource types, events, attributes, and its filter — a resource
//! that leaves the filter gets one last event), and if so, delivered with
//! retries and backoff, or parked after the retry budget.

use std::collections::HashSet;
use std::sync::Mutex;
use std::time::Duration;

use scimbus_db::subscriptions::{parked, progress, scope};
use scimbus_events::Message;
use scimbus_events::v1::Change;
use scimbus_notify::Decision;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::catalog::Active;
use super::deliver::Failure;
use super::error::DriverError;
use super::render::{Whose, render};
use super::shared::NotifyShared;

/// The longest wait between two attempts (without a `Retry-After`).
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(3600);

/// What became of a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Handled {
    Delivered,
    /// Not an event this subscription asked for.
    Skipped,
    Parked,
    /// The receiver answered 410 Gone: the subscription is to be disabled
    /// (the event is not done: it is delivered after a resume).
    Gone(String),
}

/// What every change of a driver shares.
#[derive(Debug)]
pub(crate) struct Ctx<'a> {
    pub(crate) shared: &'a NotifyShared,
    pub(crate) active: &'a Active,
    /// Resources with a parked event: their later events park behind it.
    pub(crate) parked: &'a Mutex<HashSet<Uuid>>,
    /// Cut a retry's wait short (the service stops, an operator asks for
    /// something): the change is not done, and is seen again.
    pub(crate) interrupt: &'a CancellationToken,
}

impl Ctx<'_> {
    fn has_parked(&self, id: Uuid) -> bool {
        self.parked.lock().map(|p| p.contains(&id)).unwrap_or(true)
    }

    fn add_parked(&self, id: Uuid) {
        if let Ok(mut p) = self.parked.lock() {
            p.insert(id);
        }
    }
}

/// Handles one change: decides, delivers (retrying), parks.
pub(crate) async fn handle(ctx: &Ctx<'_>, change: &Change) -> Result<Handled, DriverError> {
    let key = ctx.active.key();
    let rid = Uuid::parse_str(&change.resource_id).unwrap_or_default();
    let selector = &ctx.active.sub.selector;
    let version = i64::try_from(change.version).unwrap_or(i64::MAX);
    let was_in =
        selector.has_filter() && scope::contains(&ctx.shared.pool, key, rid, version).await?;
    let (decision, now_in) = selector.decide(change, was_in);
    let (kind, left) = match decision {
        Decision::Skip => return Ok(Handled::Skipped),
        Decision::Deliver { kind, left } => (kind, left),
    };
    if ctx.has_parked(rid) {
        park(
            ctx,
            change,
            rid,
            "an earlier event of this resource is parked; this one waits behind it",
            None,
            0,
        )
        .await?;
        return Ok(Handled::Parked);
    }
    let whose = Whose {
        tenant: &ctx.active.tenant,
        sub: &ctx.active.sub,
        secrets: &ctx.active.secrets,
    };
    let event = match render(ctx.shared, whose, change, kind, left) {
        Ok(e) => e,
        Err(why) => {
            progress::count_failure(&ctx.shared.pool, key, &why).await?;
            park(ctx, change, rid, &why, None, 1).await?;
            return Ok(Handled::Parked);
        }
    };
    let mut attempt: u32 = 1;
    loop {
        let failure = match ctx
            .active
            .deliverer
            .deliver(key, change, &event, &ctx.active.secrets)
            .await
        {
            Ok(()) => {
                if selector.has_filter() && now_in != was_in {
                    scope::record(&ctx.shared.pool, key, rid, version, now_in).await?;
                }
                return Ok(Handled::Delivered);
            }
            Err(f) => f,
        };
        // Counted now: a crash before the next write must not lose it.
        progress::count_failure(&ctx.shared.pool, key, &failure.to_string()).await?;
        let wait = match &failure {
            Failure::Gone { detail } => return Ok(Handled::Gone(detail.clone())),
            Failure::Permanent { .. } => None,
            Failure::Transient { retry_after, .. } if attempt < ctx.active.sub.max_attempts => {
                Some(retry_after.unwrap_or_else(|| {
                    scimbus_runtime::backoff(
                        ctx.shared.backoff,
                        LONGEST_WAIT,
                        attempt,
                        change.sequence,
                    )
                }))
            }
            Failure::Transient { .. } => None,
        };
        let Some(wait) = wait else {
            let reason = match &failure {
                Failure::Transient { .. } => {
                    format!("{failure} (gave up after {attempt} attempts)")
                }
                _ => failure.to_string(),
            };
            tracing::warn!(tenant = %key.tenant, subscription = %key.name,
                resource = %change.resource_id, %reason, "event parked");
            park(ctx, change, rid, &reason, failure.response(), attempt).await?;
            return Ok(Handled::Parked);
        };
        tracing::info!(tenant = %key.tenant, subscription = %key.name,
            resource = %change.resource_id, attempt, error = %failure, ?wait,
            "delivery failed; retrying");
        tokio::select! {
            () = ctx.interrupt.cancelled() => return Err(DriverError::Interrupted),
            () = tokio::time::sleep(wait) => {}
        }
        attempt += 1;
    }
}

async fn park(
    ctx: &Ctx<'_>,
    change: &Change,
    rid: Uuid,
    reason: &str,
    response: Option<&str>,
    attempts: u32,
) -> Result<(), DriverError> {
    let p = parked::Parked {
        change_seq: i64::try_from(change.sequence).unwrap_or(i64::MAX),
        resource_type: change.resource_type.clone(),
        resource_id: rid,
        payload: change.encode_to_vec(),
        reason: reason.to_string(),
        response: response.map(str::to_string),
        attempts: i32::try_from(attempts).unwrap_or(i32::MAX),
        parked_at: chrono::Utc::now(),
    };
    parked::park(&ctx.shared.pool, ctx.active.key(), &p).await?;
    ctx.add_parked(rid);
    Ok(())
}
