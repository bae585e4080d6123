//! Following the change stream for one subscription: each change in its
//! own future, a resource's later changes queued behind its current one,
//! different resources side by side up to the subscription's concurrency;
//! a gap in the tenant's change sequence filled from Postgres; the
//! position written every 200 ms on the lock's connection; operator
//! requests looked at every second.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use async_nats::jetstream::consumer;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use scimbus_db::subscriptions::progress::{self, Advance};
use scimbus_events::Message;
use scimbus_events::v1::{Change, DeadLetter};
use sqlx::PgConnection;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::catalog::Active;
use super::error::DriverError;
use super::handle::{Ctx, Handled, handle};
use super::shared::{NotifyShared, since};
use super::tally::Tally;
use scimbus_runtime::telemetry::messaging;
use tracing::Instrument;

/// The largest gap filled from Postgres at once.
const MOST_HEALED: i64 = 50_000;

/// Why following stopped (the driver serves it and follows again).
#[derive(Debug)]
pub(crate) enum End {
    /// An operator asked for something.
    Control,
    /// The receiver answered 410 Gone.
    Gone(String),
}

/// Follows the tenant's changes from the subscription's position until an
/// operator asks for something, the receiver is gone, or the service
/// stops (`Err(Stopping)`, after writing what finished).
pub(crate) async fn follow(
    shared: &NotifyShared,
    active: &Active,
    lock: &mut PgConnection,
    parked: &Mutex<HashSet<Uuid>>,
    stop: &CancellationToken,
) -> Result<End, DriverError> {
    let js_err = |e: &dyn std::fmt::Display| DriverError::JetStream(e.to_string());
    let key = active.key();
    let at = progress::take(&mut *lock, key).await?;
    let deliver_policy = match at.stream_seq {
        Some(p) => consumer::DeliverPolicy::ByStartSequence {
            start_sequence: u64::try_from(p).unwrap_or(0) + 1,
        },
        // A new subscription: the changes published since it was made.
        None => since(at.started_at)?,
    };
    let mut messages = shared
        .tenant_changes(&active.tenant, deliver_policy)
        .await?;
    let change_seq = u64::try_from(at.change_seq).unwrap_or(0);
    let mut tally = Tally::at(
        at.stream_seq
            .and_then(|p| u64::try_from(p).ok())
            .unwrap_or(0),
        change_seq,
    );
    let positioned = at.stream_seq.is_some();
    // The next change sequence expected (unknown until the first change of
    // a new subscription).
    let mut expected = (change_seq > 0).then_some(change_seq + 1);
    let interrupt = stop.child_token();
    let ctx = Ctx {
        shared,
        active,
        parked,
        interrupt: &interrupt,
    };
    let stream = shared.subjects.change_stream();
    let concurrency = active.sub.concurrency.max(1);
    // Changes in hand waiting behind their resource's current one: past
    // this many, nothing more is taken from the stream until some finish.
    let most_waiting = concurrency * 256;
    let mut waiting = 0usize;
    let mut inflight = FuturesUnordered::new();
    let mut queued: HashMap<Uuid, VecDeque<(u64, Change, tracing::Span)>> = HashMap::new();
    let start = |seq: u64, change: Change, span: tracing::Span| {
        let ctx = &ctx;
        async move {
            let rid = Uuid::parse_str(&change.resource_id).unwrap_or_default();
            let handled = handle(ctx, &change).instrument(span).await;
            if let Ok(h) = &handled {
                let outcome = match h {
                    Handled::Delivered => "delivered",
                    Handled::Skipped => "skipped",
                    Handled::Parked => "parked",
                    Handled::Gone(_) => "gone",
                };
                shared
                    .deliveries
                    .inc(&[&active.tenant, &active.sub.name, outcome]);
            }
            (rid, seq, handled)
        }
    };
    let mut flushed = Instant::now();
    let mut looked = Instant::now();
    let mut received_any = false;
    let end: Result<End, DriverError> = loop {
        tokio::select! {
            () = stop.cancelled() => break Err(DriverError::Stopping),
            Some((rid, seq, result)) = inflight.next(), if !inflight.is_empty() => {
                match result {
                    Ok(Handled::Delivered) => {
                        tally.delivered += 1;
                        tally.succeeded = true;
                    }
                    Ok(Handled::Skipped) => tally.skipped += 1,
                    Ok(Handled::Parked) => {}
                    Ok(Handled::Gone(why)) => break Ok(End::Gone(why)),
                    Err(e) => break Err(e),
                }
                tally.finished(seq);
                match queued.get_mut(&rid).and_then(VecDeque::pop_front) {
                    Some((s, c, span)) => {
                        waiting -= 1;
                        inflight.push(start(s, c, span));
                    }
                    None => {
                        queued.remove(&rid);
                    }
                }
            }
            m = messages.next(), if inflight.len() < concurrency && waiting < most_waiting => {
                let Some(m) = m else {
                    break Err(DriverError::JetStream("the change stream ended".into()));
                };
                let m = m.map_err(|e| js_err(&e))?;
                let info = m.info().map_err(|e| js_err(&e))?;
                let (seq, lag) = (info.stream_sequence, i64::try_from(info.pending).ok());
                received_any = true;
                // The span of delivering it: a child of the change's publish.
                let span = messaging::consumer(
                    &stream,
                    &m.subject,
                    m.headers
                        .as_ref()
                        .and_then(|h| h.get(scimbus_events::headers::MSG_ID))
                        .map_or("", |v| v.as_str()),
                    "deliver",
                    m.headers.as_ref(),
                );
                span.record("scimbus.subscription", active.sub.name.as_str());
                let change = match Change::decode(m.payload.as_ref()) {
                    Ok(c) => c,
                    Err(e) => {
                        dead_letter(shared, active, &m, &e.to_string()).await?;
                        tally.received(seq, 0, expected.map_or(0, |e| e - 1), lag);
                        continue;
                    }
                };
                let s = change.sequence;
                let mut changes = Vec::new();
                match expected {
                    // Seen already (a republish, or healed into a gap).
                    Some(e) if s < e => {}
                    Some(e) if s > e => {
                        changes = heal(shared, &active.tenant, e, s).await?;
                        changes.push(change);
                    }
                    _ => changes.push(change),
                }
                if !changes.is_empty() {
                    expected = Some(s + 1);
                }
                tally.received(seq, changes.len(), expected.map_or(0, |e| e - 1), lag);
                for c in changes {
                    let rid = Uuid::parse_str(&c.resource_id).unwrap_or_default();
                    match queued.get_mut(&rid) {
                        Some(q) => {
                            waiting += 1;
                            q.push_back((seq, c, span.clone()));
                        }
                        None => {
                            queued.insert(rid, VecDeque::new());
                            inflight.push(start(seq, c, span.clone()));
                        }
                    }
                }
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {}
        }
        if flushed.elapsed() >= Duration::from_millis(200) {
            write(lock, active, &mut tally, positioned || received_any).await?;
            flushed = Instant::now();
        }
        if looked.elapsed() >= Duration::from_secs(1) {
            looked = Instant::now();
            if progress::control(&mut *lock, key).await?.wanted() {
                break Ok(End::Control);
            }
        }
    };
    // What is in flight finishes its current attempt (a retry's wait is
    // cut short); what finished is written, the rest is seen again.
    interrupt.cancel();
    while let Some((_, seq, result)) = inflight.next().await {
        match result {
            Ok(Handled::Delivered) => {
                tally.delivered += 1;
                tally.succeeded = true;
                tally.finished(seq);
            }
            Ok(Handled::Skipped) => {
                tally.skipped += 1;
                tally.finished(seq);
            }
            Ok(Handled::Parked) => tally.finished(seq),
            Ok(Handled::Gone(_)) | Err(_) => {}
        }
    }
    // Queued changes behind ones not done are not done either.
    write(lock, active, &mut tally, positioned || received_any).await?;
    end
}

/// Writes the position and the counts (nothing when nothing moved).
async fn write(
    lock: &mut PgConnection,
    active: &Active,
    tally: &mut Tally,
    positioned: bool,
) -> Result<(), DriverError> {
    if !tally.moved() {
        return Ok(());
    }
    let (pos, change_seq) = tally.position();
    let a = Advance {
        stream_seq: positioned.then(|| i64::try_from(pos).unwrap_or(i64::MAX)),
        change_seq: i64::try_from(change_seq).unwrap_or(i64::MAX),
        delivered: tally.delivered,
        skipped: tally.skipped,
        lag: tally.lag,
        succeeded: tally.succeeded,
        replay_anchored: false,
    };
    progress::advance(&mut *lock, active.key(), &a).await?;
    tally.written();
    Ok(())
}

/// The changes `from..to` of a tenant (a gap in what the stream gave),
/// from Postgres.
async fn heal(
    shared: &NotifyShared,
    tenant: &str,
    from: u64,
    to: u64,
) -> Result<Vec<Change>, DriverError> {
    let gap = || DriverError::Gap {
        tenant: tenant.to_string(),
        from,
        to: to - 1,
    };
    let after = i64::try_from(from).map_err(|_| gap())? - 1;
    let n = i64::try_from(to - from).map_err(|_| gap())?;
    if n > MOST_HEALED {
        // Not held in memory at once: the operator replays (the stream
        // lost more than a burst; its retention may have passed).
        return Err(gap());
    }
    let rows = scimbus_db::changes::after(
        &shared.pool,
        tenant,
        after,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        n,
    )
    .await?;
    let changes: Vec<Change> = rows
        .iter()
        .filter_map(|r| Change::decode(r.payload.as_slice()).ok())
        .collect();
    let contiguous = changes.len() as u64 == to - from
        && changes
            .iter()
            .zip(from..to)
            .all(|(c, want)| c.sequence == want);
    if !contiguous {
        return Err(gap());
    }
    tracing::info!(
        tenant,
        from,
        to = to - 1,
        "a gap in the change stream filled from Postgres"
    );
    Ok(changes)
}

/// A message of the change stream that is not a change: to the dead-letter
/// stream, with why, and passed over.
async fn dead_letter(
    shared: &NotifyShared,
    active: &Active,
    m: &async_nats::jetstream::Message,
    reason: &str,
) -> Result<(), DriverError> {
    let letter = DeadLetter {
        origin: "notify".into(),
        tenant: active.tenant.clone(),
        subject: m.subject.to_string(),
        message_id: m
            .headers
            .as_ref()
            .and_then(|h| h.get(scimbus_events::headers::MSG_ID))
            .map(|v| v.as_str().to_string())
            .unwrap_or_default(),
        payload: m.payload.to_vec(),
        reason: format!("not a scimbus.v1.Change: {reason}"),
        attempts: 1,
        parked_at_unix_micros: chrono::Utc::now().timestamp_micros(),
        request: String::new(),
        response: String::new(),
    };
    let id = format!("notify-{}-{}", active.sub.name, letter.message_id);
    scimbus_bus::dead_letter(&shared.js, &shared.subjects, &letter, id)
        .await
        .map_err(|e| DriverError::JetStream(e.to_string()))
}
