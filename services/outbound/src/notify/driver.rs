//! A subscription's driver: holds the subscription's Postgres advisory
//! lock (one replica drives it at a time) and, while it does, follows the
//! change stream from the subscription's position, serving what operators
//! ask between stretches: pause (and a 410's disable) until resumed,
//! replay from a change sequence or a time (the position moves back to
//! just before it), and the delivery of parked events marked for replay.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use scimbus_db::lease;
use scimbus_db::subscriptions::parked;
use scimbus_db::subscriptions::progress::{self, Advance, ReplayFrom};
use scimbus_events::Message;
use scimbus_events::v1::Change;
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;

use super::catalog::Active;
use super::error::DriverError;
use super::follow::{End, follow};
use super::handle::{Ctx, Handled, handle};
use super::shared::{NotifyShared, since};

/// Keeps trying to drive the subscription, and drives it while it holds
/// the lock, until `stop`.
pub(crate) async fn run(shared: NotifyShared, active: Arc<Active>, stop: CancellationToken) {
    let key = active.key();
    let mut shared = shared;
    loop {
        match scimbus_bus::connect_with(
            &shared.nats_url,
            "scimbus-outbound-notify",
            &shared.nats_auth,
        )
        .await
        {
            Ok((_, js)) => {
                shared.js = js;
                break;
            }
            Err(e) => tracing::warn!(tenant = %key.tenant, subscription = %key.name,
                error = %e, "cannot reach NATS"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(shared.lease_retry) => {}
        }
    }
    loop {
        match lease::try_take(
            &shared.pg,
            lease::NOTIFY_SUBSCRIPTION,
            lease::key(key.tenant, key.name),
        )
        .await
        {
            Ok(Some(mut conn)) => {
                tracing::info!(tenant = %key.tenant, subscription = %key.name, "subscription taken");
                let driven = match lease::relax_commits(&mut conn).await {
                    Ok(()) => drive(&shared, &active, &mut conn, &stop).await,
                    Err(e) => Err(e.into()),
                };
                match driven {
                    Ok(()) | Err(DriverError::Stopping) => return,
                    Err(e) => tracing::warn!(tenant = %key.tenant, subscription = %key.name,
                        error = %e, "subscription released"),
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(error = %e, "cannot reach Postgres"),
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(shared.lease_retry) => {}
        }
    }
}

async fn drive(
    shared: &NotifyShared,
    active: &Active,
    lock: &mut PgConnection,
    stop: &CancellationToken,
) -> Result<(), DriverError> {
    let key = active.key();
    let parked_set = Mutex::new(
        parked::resources(&mut *lock, key)
            .await?
            .into_iter()
            .collect::<HashSet<_>>(),
    );
    loop {
        if stop.is_cancelled() {
            return Err(DriverError::Stopping);
        }
        let control = progress::control(&mut *lock, key).await?;
        if control.holding() {
            if control.paused {
                progress::acknowledge_pause(&mut *lock, key).await?;
            }
            tokio::select! {
                () = stop.cancelled() => return Err(DriverError::Stopping),
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            continue;
        }
        if let Some(from) = control.replay {
            anchor(shared, active, lock, from, stop).await?;
            continue;
        }
        if control.parked_replay {
            replay_parked(shared, active, lock, &parked_set, stop).await?;
            continue;
        }
        match follow(shared, active, lock, &parked_set, stop).await? {
            End::Control => {}
            End::Gone(why) => {
                tracing::warn!(tenant = %key.tenant, subscription = %key.name, %why,
                    "subscription disabled");
                progress::disable(&mut *lock, key, &why).await?;
            }
        }
    }
}

/// Serves a replay: moves the position back to just before the first
/// change of the tenant from `from` on that the stream holds, with the
/// change sequence handled set just below the first one asked for (so a
/// change of the range the stream lost is filled from Postgres). The
/// stream is read from a minute before that change's commit time (the
/// clocks of Postgres and NATS may differ a little).
async fn anchor(
    shared: &NotifyShared,
    active: &Active,
    lock: &mut PgConnection,
    from: ReplayFrom,
    stop: &CancellationToken,
) -> Result<(), DriverError> {
    let key = active.key();
    let first = match from {
        ReplayFrom::Sequence(n) => Some(n),
        ReplayFrom::Since(t) => {
            scimbus_db::changes::first_since(&shared.pool, key.tenant, t).await?
        }
    };
    let start = match first {
        Some(n) => scimbus_db::changes::committed_at(&shared.pool, key.tenant, n)
            .await?
            .map(|t| (n, t - chrono::Duration::seconds(60))),
        None => None,
    };
    let now = progress::take(&mut *lock, key).await?;
    let found = match start {
        Some((n, at)) => first_from(shared, active, n, at, stop)
            .await?
            .map(|stream_seq| (stream_seq, n)),
        None => None,
    };
    let a = match found {
        Some((stream_seq, n)) => Advance {
            stream_seq: Some(i64::try_from(stream_seq.saturating_sub(1)).unwrap_or(i64::MAX)),
            change_seq: n.saturating_sub(1),
            replay_anchored: true,
            ..Advance::default()
        },
        None => {
            // Nothing to replay: the request is done, the position stays.
            let why = "replay: no change of the stream is at or after the one asked for";
            progress::count_failure(&mut *lock, key, why).await?;
            Advance {
                stream_seq: now.stream_seq,
                change_seq: now.change_seq,
                replay_anchored: true,
                ..Advance::default()
            }
        }
    };
    tracing::info!(tenant = %key.tenant, subscription = %key.name, ?from, position = ?a.stream_seq,
        "replay anchored");
    progress::advance(&mut *lock, key, &a).await?;
    Ok(())
}

/// The stream sequence of the first change of the tenant with a change
/// sequence of at least `n`, reading from `start`.
async fn first_from(
    shared: &NotifyShared,
    active: &Active,
    n: i64,
    start: chrono::DateTime<chrono::Utc>,
    stop: &CancellationToken,
) -> Result<Option<u64>, DriverError> {
    let js_err = |e: &dyn std::fmt::Display| DriverError::JetStream(e.to_string());
    let mut messages = shared.tenant_changes(&active.tenant, since(start)?).await?;
    loop {
        let next = tokio::select! {
            () = stop.cancelled() => return Err(DriverError::Stopping),
            // The stream's end: nothing more is there now.
            n = tokio::time::timeout(Duration::from_secs(2), messages.next()) => n,
        };
        let Ok(Some(m)) = next else {
            return Ok(None);
        };
        let m = m.map_err(|e| js_err(&e))?;
        let info = m.info().map_err(|e| js_err(&e))?;
        let (stream_seq, pending) = (info.stream_sequence, info.pending);
        if let Ok(c) = Change::decode(m.payload.as_ref())
            && i64::try_from(c.sequence).unwrap_or(i64::MAX) >= n
        {
            return Ok(Some(stream_seq));
        }
        if pending == 0 {
            return Ok(None);
        }
    }
}

/// Delivers the parked events marked for replay, in change order; one
/// that fails again is parked again (with the later ones of its resource
/// behind it).
async fn replay_parked(
    shared: &NotifyShared,
    active: &Active,
    lock: &mut PgConnection,
    parked_set: &Mutex<HashSet<uuid::Uuid>>,
    stop: &CancellationToken,
) -> Result<(), DriverError> {
    let key = active.key();
    let interrupt = stop.child_token();
    let ctx = Ctx {
        shared,
        active,
        parked: parked_set,
        interrupt: &interrupt,
    };
    let due = parked::due(&mut *lock, key).await?;
    let mut released = HashSet::new();
    let mut delivered = 0;
    for p in due {
        if released.insert(p.resource_id)
            && let Ok(mut set) = parked_set.lock()
        {
            set.remove(&p.resource_id);
        }
        let Ok(change) = Change::decode(p.payload.as_slice()) else {
            continue;
        };
        match handle(&ctx, &change).await {
            Ok(Handled::Delivered | Handled::Skipped) => {
                parked::unpark(&mut *lock, key, p.change_seq).await?;
                delivered += 1;
            }
            Ok(Handled::Parked) => {}
            Ok(Handled::Gone(why)) => {
                progress::disable(&mut *lock, key, &why).await?;
                break;
            }
            Err(DriverError::Interrupted) => return Err(DriverError::Stopping),
            Err(e) => return Err(e),
        }
    }
    let now_parked = parked::resources(&mut *lock, key).await?;
    if let Ok(mut set) = parked_set.lock() {
        *set = now_parked.into_iter().collect();
    }
    progress::advance(
        &mut *lock,
        key,
        &Advance {
            delivered,
            succeeded: delivered > 0,
            ..Advance::default()
        },
    )
    .await?;
    Ok(())
}
