//! How far a subscription's driver has come in the change stream, its
//! counters and state, and what operators asked of it (pause, resume,
//! replay). The driver reads and writes it on the connection that holds
//! the subscription's lease.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

use super::SubscriptionKey;

/// The columns a [`Progress`] is read from (of `subscription_progress p`).
macro_rules! progress_columns {
    () => {
        "p.tenant, p.name, stream_seq, change_seq, started_at, delivered, skipped, failed,
         (select count(*) from subscription_parked k
          where k.tenant = p.tenant and k.name = p.name) as parked,
         (select count(*) from subscription_polled q
          where q.tenant = p.tenant and q.name = p.name) as queued,
         lag, last_error, last_error_at, last_success_at, paused, pause_acknowledged,
         disabled_reason, disabled_at, replay_from_seq, replay_since, p.updated_at"
    };
}

/// A subscription's position, counters and state.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Progress {
    pub tenant: String,
    pub name: String,
    /// The change stream's sequence below which everything is handled;
    /// `None` until the driver has handled anything (it starts with the
    /// changes published from `started_at`).
    pub stream_seq: Option<i64>,
    /// The tenant's change sequence handled at `stream_seq` (0: none yet).
    pub change_seq: i64,
    pub started_at: DateTime<Utc>,
    pub delivered: i64,
    pub skipped: i64,
    pub failed: i64,
    /// Events parked now.
    pub parked: i64,
    /// Events waiting for a polling application now.
    pub queued: i64,
    pub lag: i64,
    pub last_error: Option<String>,
    pub last_error_at: Option<DateTime<Utc>>,
    pub last_success_at: Option<DateTime<Utc>>,
    pub paused: bool,
    pub pause_acknowledged: bool,
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub replay_from_seq: Option<i64>,
    pub replay_since: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

/// A fresh progress row (nothing if there is one).
pub async fn create<'e>(db: impl PgExecutor<'e>, k: SubscriptionKey<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "insert into subscription_progress (tenant, name) values ($1, $2)
         on conflict (tenant, name) do nothing",
    )
    .bind(k.tenant)
    .bind(k.name)
    .execute(db)
    .await?;
    Ok(())
}

/// A subscription's progress (a fresh row for one never driven).
pub async fn take(conn: &mut sqlx::PgConnection, k: SubscriptionKey<'_>) -> sqlx::Result<Progress> {
    create(&mut *conn, k).await?;
    sqlx::query_as(concat!(
        "select ",
        progress_columns!(),
        " from subscription_progress p where p.tenant = $1 and p.name = $2"
    ))
    .bind(k.tenant)
    .bind(k.name)
    .fetch_one(conn)
    .await
}

/// One subscription's progress, if it has any.
pub async fn find<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
) -> sqlx::Result<Option<Progress>> {
    sqlx::query_as(concat!(
        "select ",
        progress_columns!(),
        " from subscription_progress p where p.tenant = $1 and p.name = $2"
    ))
    .bind(k.tenant)
    .bind(k.name)
    .fetch_optional(db)
    .await
}

/// Every subscription's progress (of one tenant, if given).
pub async fn all<'e>(db: impl PgExecutor<'e>, tenant: Option<&str>) -> sqlx::Result<Vec<Progress>> {
    sqlx::query_as(concat!(
        "select ",
        progress_columns!(),
        " from subscription_progress p where $1::text is null or p.tenant = $1
         order by p.tenant, p.name"
    ))
    .bind(tenant)
    .fetch_all(db)
    .await
}

/// What the driver did since it last wrote: the position it reached (and
/// the change sequence handled there), the counts, the lag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advance {
    pub stream_seq: Option<i64>,
    pub change_seq: i64,
    pub delivered: i64,
    pub skipped: i64,
    pub lag: Option<i64>,
    /// Whether the last delivery got through (the time is now).
    pub succeeded: bool,
    /// A replay was anchored at this position: the request is done.
    pub replay_anchored: bool,
}

/// Moves the position and adds the counts. The position moves back only
/// when a replay is anchored.
pub async fn advance<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    a: &Advance,
) -> sqlx::Result<()> {
    sqlx::query(
        "update subscription_progress set
             stream_seq = case when $8 then $3 else greatest(stream_seq, $3) end,
             change_seq = case when $8 or $3 >= coalesce(stream_seq, 0) then $4
                               else change_seq end,
             delivered = delivered + $5, skipped = skipped + $6,
             lag = coalesce($7, lag),
             last_success_at = case when $9 then now() else last_success_at end,
             replay_from_seq = case when $8 then null else replay_from_seq end,
             replay_since = case when $8 then null else replay_since end,
             updated_at = now()
         where tenant = $1 and name = $2",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(a.stream_seq)
    .bind(a.change_seq)
    .bind(a.delivered)
    .bind(a.skipped)
    .bind(a.lag)
    .bind(a.replay_anchored)
    .bind(a.succeeded)
    .execute(db)
    .await?;
    Ok(())
}

/// A failed attempt, counted when it happens.
pub async fn count_failure<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update subscription_progress set failed = failed + 1, last_error = $3,
             last_error_at = now(), updated_at = now()
         where tenant = $1 and name = $2",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// Records why a subscription is not driven (it cannot be as it is
/// written: a secret that does not resolve, say), without counting an
/// attempt or disabling it: fixing it is enough.
pub async fn note_error<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    why: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into subscription_progress (tenant, name, last_error, last_error_at)
         values ($1, $2, $3, now())
         on conflict (tenant, name) do update
           set last_error = excluded.last_error, last_error_at = now(), updated_at = now()",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(why)
    .execute(db)
    .await?;
    Ok(())
}

/// The driver stops delivering until a resume: the receiver said 410 Gone,
/// or the subscription cannot work as it is.
pub async fn disable<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    why: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update subscription_progress set disabled_reason = $3, disabled_at = now(),
             last_error = $3, last_error_at = now(), updated_at = now()
         where tenant = $1 and name = $2",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(why)
    .execute(db)
    .await?;
    Ok(())
}

/// Pauses, or resumes (which also re-enables a disabled subscription).
pub async fn set_paused<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    paused: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into subscription_progress (tenant, name, paused) values ($1, $2, $3)
         on conflict (tenant, name) do update
           set paused = excluded.paused, pause_acknowledged = false,
               disabled_reason = case when excluded.paused
                                      then subscription_progress.disabled_reason end,
               disabled_at = case when excluded.paused
                                  then subscription_progress.disabled_at end,
               updated_at = now()",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(paused)
    .execute(db)
    .await?;
    Ok(())
}

/// The driver's word that a pause holds (nothing in flight, the position
/// written).
pub async fn acknowledge_pause<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update subscription_progress set pause_acknowledged = true
         where tenant = $1 and name = $2 and paused and not pause_acknowledged",
    )
    .bind(k.tenant)
    .bind(k.name)
    .execute(db)
    .await?;
    Ok(())
}

/// Where a replay starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplayFrom {
    /// From this change sequence of the tenant on.
    Sequence(i64),
    /// From the changes committed at or after this time.
    Since(DateTime<Utc>),
}

/// Asks the driver to deliver the events from `from` on again (and to
/// go on from there).
pub async fn request_replay<'e>(
    db: impl PgExecutor<'e>,
    k: SubscriptionKey<'_>,
    from: ReplayFrom,
) -> sqlx::Result<()> {
    let (seq, since) = match from {
        ReplayFrom::Sequence(s) => (Some(s), None),
        ReplayFrom::Since(t) => (None, Some(t)),
    };
    sqlx::query(
        "insert into subscription_progress (tenant, name, replay_from_seq, replay_since)
         values ($1, $2, $3, $4)
         on conflict (tenant, name) do update
           set replay_from_seq = excluded.replay_from_seq,
               replay_since = excluded.replay_since, updated_at = now()",
    )
    .bind(k.tenant)
    .bind(k.name)
    .bind(seq)
    .bind(since)
    .execute(db)
    .await?;
    Ok(())
}

/// What operators want of a driver now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Control {
    pub paused: bool,
    pub disabled: bool,
    pub replay: Option<ReplayFrom>,
    /// Parked events marked for delivery again.
    pub parked_replay: bool,
}

impl Control {
    /// Whether the driver must stop taking changes to serve it.
    pub fn wanted(&self) -> bool {
        self.paused || self.disabled || self.replay.is_some() || self.parked_replay
    }

    /// Whether the driver holds still (delivers nothing).
    pub fn holding(&self) -> bool {
        self.paused || self.disabled
    }
}

/// Everything [`Control`] holds, in one query (the driver asks every
/// second).
pub async fn control<'e>(db: impl PgExecutor<'e>, k: SubscriptionKey<'_>) -> sqlx::Result<Control> {
    type Row = (bool, bool, Option<i64>, Option<DateTime<Utc>>, bool);
    let row: Option<Row> = sqlx::query_as(
        "select paused, disabled_reason is not null, replay_from_seq, replay_since,
                exists (select 1 from subscription_parked k
                        where k.tenant = p.tenant and k.name = p.name and k.replay_requested)
         from subscription_progress p where tenant = $1 and name = $2",
    )
    .bind(k.tenant)
    .bind(k.name)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Control::default(),
        Some((paused, disabled, seq, since, parked_replay)) => Control {
            paused,
            disabled,
            replay: seq
                .map(ReplayFrom::Sequence)
                .or(since.map(ReplayFrom::Since)),
            parked_replay,
        },
    })
}
