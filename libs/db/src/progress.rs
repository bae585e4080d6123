//! How far an outbound target's worker has come in the change stream, its
//! status (counts, lag, circuit, last error, clean stop, pause held), and
//! what operators asked of it (pause, replay, sync, reconcile).

use sqlx::PgExecutor;

use crate::target_key::TargetKey;

mod reports;
use reports::ReportColumns;
pub use reports::{ReconcileCounts, SyncCounts};

/// The columns of a [`Progress`] of `target_progress p`; `parked` is how
/// many changes are parked now. The reports are read from their counts
/// (migration 0008), not from the prose of `last_sync`/`last_reconcile`.
macro_rules! progress_columns {
    () => {
        "stream_seq, pushed, skipped,
         (select count(*) from parked_changes c
          where c.tenant = p.tenant and c.target = p.target) as parked,
         failed, lag, circuit, last_error, last_error_at, last_pushed_at, paused, pause_acknowledged, synced_at,
         last_sync_at, reconciled_at,
         last_sync_dry_run, last_sync_created, last_sync_adopted, last_sync_updated,
         last_sync_deprovisioned, last_sync_skipped, last_sync_failures, last_sync_failed,
         last_sync_took_ms, last_reconcile_applied, last_reconcile_missing,
         last_reconcile_extra, last_reconcile_different, last_reconcile_fixed,
         last_reconcile_failures, last_reconcile_details, last_reconcile_took_ms,
         last_reconcile_error"
    };
}

/// A target's position and counters (`parked`: how many changes are
/// parked now).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Progress {
    pub stream_seq: i64,
    pub pushed: i64,
    pub skipped: i64,
    pub parked: i64,
    pub failed: i64,
    pub lag: i64,
    pub circuit: String,
    pub last_error: Option<String>,
    /// When the last attempt failed.
    pub last_error_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When a change last got through (a last error newer than this: the
    /// target is failing now).
    pub last_pushed_at: Option<chrono::DateTime<chrono::Utc>>,
    pub paused: bool,
    /// The worker has seen the pause: nothing is in flight and nothing
    /// more is pushed until a resume.
    pub pause_acknowledged: bool,
    /// When the last real (not dry) full sync finished.
    pub synced_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What the last full sync or dry run did.
    pub last_sync: Option<SyncCounts>,
    /// When it finished (a dry run too).
    pub last_sync_at: Option<chrono::DateTime<chrono::Utc>>,
    pub reconciled_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What the last reconcile found (`None` for one recorded before its
    /// counts had columns).
    pub last_reconcile: Option<ReconcileCounts>,
}

/// The columns of a [`Progress`] as they come.
#[derive(sqlx::FromRow)]
struct ProgressRow {
    stream_seq: i64,
    pushed: i64,
    skipped: i64,
    parked: i64,
    failed: i64,
    lag: i64,
    circuit: String,
    last_error: Option<String>,
    last_error_at: Option<chrono::DateTime<chrono::Utc>>,
    last_pushed_at: Option<chrono::DateTime<chrono::Utc>>,
    paused: bool,
    pause_acknowledged: bool,
    synced_at: Option<chrono::DateTime<chrono::Utc>>,
    last_sync_at: Option<chrono::DateTime<chrono::Utc>>,
    reconciled_at: Option<chrono::DateTime<chrono::Utc>>,
    #[sqlx(flatten)]
    reports: ReportColumns,
}

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for Progress {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        let r: ProgressRow = sqlx::FromRow::from_row(row)?;
        Ok(Progress {
            last_sync: r.reports.sync(),
            last_reconcile: r.reports.reconcile(),
            stream_seq: r.stream_seq,
            pushed: r.pushed,
            skipped: r.skipped,
            parked: r.parked,
            failed: r.failed,
            lag: r.lag,
            circuit: r.circuit,
            last_error: r.last_error,
            last_error_at: r.last_error_at,
            last_pushed_at: r.last_pushed_at,
            paused: r.paused,
            pause_acknowledged: r.pause_acknowledged,
            synced_at: r.synced_at,
            last_sync_at: r.last_sync_at,
            reconciled_at: r.reconciled_at,
        })
    }
}

/// A target's progress (a fresh row for a new target).
pub async fn progress<'e>(db: impl PgExecutor<'e>, t: TargetKey<'_>) -> sqlx::Result<Progress> {
    sqlx::query_as(concat!(
        "insert into target_progress as p (tenant, target) values ($1, $2)
         on conflict (tenant, target) do update set tenant = excluded.tenant
         returning ",
        progress_columns!()
    ))
    .bind(t.tenant)
    .bind(t.target)
    .fetch_one(db)
    .await
}

/// A worker takes a target over: whether the one before it stopped
/// cleanly, and from now on not (until [`stopped_cleanly`]). Run it with a
/// synchronous commit: a takeover forgotten in a crash of Postgres would
/// make the next one believe the last stop clean.
pub async fn take_over(conn: &mut sqlx::PgConnection, t: TargetKey<'_>) -> sqlx::Result<bool> {
    // A target never driven before has nothing to doubt.
    sqlx::query(
        "insert into target_progress (tenant, target, clean_stop) values ($1, $2, true)
         on conflict (tenant, target) do nothing",
    )
    .bind(t.tenant)
    .bind(t.target)
    .execute(&mut *conn)
    .await?;
    // The value before this update comes from the self-join's snapshot.
    sqlx::query_scalar(
        "update target_progress p set clean_stop = false
         from target_progress old
         where p.tenant = $1 and p.target = $2
           and old.tenant = p.tenant and old.target = p.target
         returning old.clean_stop",
    )
    .bind(t.tenant)
    .bind(t.target)
    .fetch_one(&mut *conn)
    .await
}

/// The worker driving a target stops after writing everything it pushed.
pub async fn stopped_cleanly<'e>(db: impl PgExecutor<'e>, t: TargetKey<'_>) -> sqlx::Result<()> {
    sqlx::query("update target_progress set clean_stop = true where tenant = $1 and target = $2")
        .bind(t.tenant)
        .bind(t.target)
        .execute(db)
        .await?;
    Ok(())
}

/// A failed attempt at a change, counted when it happens (not with the
/// worker's next flush, which a crash would lose).
pub async fn count_failure<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    error: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update target_progress set failed = failed + 1, last_error = $3,
             last_error_at = now(), updated_at = now()
         where tenant = $1 and target = $2",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(error)
    .execute(db)
    .await?;
    Ok(())
}

/// What one batch did: the position moves to `stream_seq` and the counters
/// grow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Advance {
    pub stream_seq: i64,
    pub pushed: i64,
    pub skipped: i64,
    /// The last error of the batch, if any (failed attempts are counted
    /// when they happen: [`count_failure`]).
    pub last_error: Option<String>,
    /// Changes after the new position (`None`: as it was).
    pub lag: Option<i64>,
    /// "closed", or "open" while the circuit breaker holds requests back.
    pub circuit: String,
}

pub async fn advance<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    a: &Advance,
) -> sqlx::Result<()> {
    sqlx::query(
        "update target_progress set stream_seq = greatest(stream_seq, $3),
             pushed = pushed + $4, skipped = skipped + $5,
             last_pushed_at = case when $4 > 0 then now() else last_pushed_at end,
             last_error = coalesce($6, last_error),
             last_error_at = case when $6 is null then last_error_at else now() end,
             lag = coalesce($7, lag), circuit = $8, updated_at = now()
         where tenant = $1 and target = $2",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(a.stream_seq)
    .bind(a.pushed)
    .bind(a.skipped)
    .bind(&a.last_error)
    .bind(a.lag)
    .bind(&a.circuit)
    .execute(db)
    .await?;
    Ok(())
}

/// Pauses or resumes a target; either waits for the worker to
/// acknowledge it anew ([`acknowledge_pause`]).
pub async fn set_paused<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    paused: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into target_progress (tenant, target, paused) values ($1, $2, $3)
         on conflict (tenant, target) do update
           set paused = excluded.paused, pause_acknowledged = false, updated_at = now()",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(paused)
    .execute(db)
    .await?;
    Ok(())
}

/// The worker's word that a pause holds: it has nothing in flight and takes
/// nothing more. Only while the target is still paused (a resume in the
/// meantime is not acknowledged as a pause).
pub async fn acknowledge_pause<'e>(db: impl PgExecutor<'e>, t: TargetKey<'_>) -> sqlx::Result<()> {
    sqlx::query(
        "update target_progress set pause_acknowledged = true
         where tenant = $1 and target = $2 and paused and not pause_acknowledged",
    )
    .bind(t.tenant)
    .bind(t.target)
    .execute(db)
    .await?;
    Ok(())
}

/// One target's progress, if it has run or been asked for anything.
pub async fn find_progress<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
) -> sqlx::Result<Option<Progress>> {
    sqlx::query_as(concat!(
        "select ",
        progress_columns!(),
        " from target_progress p where tenant = $1 and target = $2"
    ))
    .bind(t.tenant)
    .bind(t.target)
    .fetch_optional(db)
    .await
}

/// Every target's progress (of one tenant, if given), by tenant and name.
pub async fn all_progress<'e>(
    db: impl PgExecutor<'e>,
    tenant: Option<&str>,
) -> sqlx::Result<Vec<(String, String, Progress)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        tenant: String,
        target: String,
        #[sqlx(flatten)]
        progress: Progress,
    }
    let rows: Vec<Row> = sqlx::query_as(concat!(
        "select tenant, target, ",
        progress_columns!(),
        " from target_progress p where $1::text is null or tenant = $1
         order by tenant, target"
    ))
    .bind(tenant)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.tenant, r.target, r.progress))
        .collect())
}

/// The names of a tenant's targets that have run (or been asked for
/// anything), without their status.
pub async fn targets_ran<'e>(db: impl PgExecutor<'e>, tenant: &str) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("select target from target_progress where tenant = $1 order by target")
        .bind(tenant)
        .fetch_all(db)
        .await
}

/// Asks a target's worker for a full sync (or a dry run of one).
pub async fn request_sync<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    dry_run: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into target_progress (tenant, target, sync_requested, sync_dry_run)
         values ($1, $2, true, $3)
         on conflict (tenant, target) do update
           set sync_requested = true, sync_dry_run = excluded.sync_dry_run, updated_at = now()",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(dry_run)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a finished full sync (or dry run): its counts and time; a real
/// one also as `synced_at` and, for the first sync of a new target, the
/// stream position taken before its snapshot. The summary goes to the old
/// `last_sync` text too, for whoever reads it there.
pub async fn synced<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    report: &SyncCounts,
    position: Option<i64>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update target_progress set sync_requested = false, last_sync = $3,
             synced_at = case when $4 then synced_at else now() end,
             stream_seq = greatest(stream_seq, coalesce($5, stream_seq)),
             last_sync_at = now(), last_sync_dry_run = $4, last_sync_created = $6,
             last_sync_adopted = $7, last_sync_updated = $8, last_sync_deprovisioned = $9,
             last_sync_skipped = $10, last_sync_failures = $11, last_sync_failed = $12,
             last_sync_took_ms = $13, updated_at = now()
         where tenant = $1 and target = $2",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(report.to_string())
    .bind(report.dry_run)
    .bind(position)
    .bind(report.created)
    .bind(report.adopted)
    .bind(report.updated)
    .bind(report.deprovisioned)
    .bind(report.skipped)
    .bind(report.failures)
    .bind(&report.failed)
    .bind(report.took_ms)
    .execute(db)
    .await?;
    Ok(())
}

/// Asks a target's worker to compare the target with the tenant (and, with
/// `apply`, to correct the drift).
pub async fn request_reconcile<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    apply: bool,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into target_progress (tenant, target, reconcile_requested, reconcile_apply)
         values ($1, $2, true, $3)
         on conflict (tenant, target) do update
           set reconcile_requested = true, reconcile_apply = excluded.reconcile_apply,
               updated_at = now()",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(apply)
    .execute(db)
    .await?;
    Ok(())
}

/// Records a finished (or failed) reconcile: its counts, and its summary
/// in the old `last_reconcile` text too.
pub async fn reconciled<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    report: &ReconcileCounts,
) -> sqlx::Result<()> {
    sqlx::query(
        "update target_progress set reconcile_requested = false, reconcile_apply = false,
             reconciled_at = now(), last_reconcile = $3, last_reconcile_applied = $4,
             last_reconcile_missing = $5, last_reconcile_extra = $6,
             last_reconcile_different = $7, last_reconcile_fixed = $8,
             last_reconcile_failures = $9, last_reconcile_details = $10,
             last_reconcile_took_ms = $11, last_reconcile_error = $12, updated_at = now()
         where tenant = $1 and target = $2",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(report.to_string())
    .bind(report.applied)
    .bind(report.missing)
    .bind(report.extra)
    .bind(report.different)
    .bind(report.fixed)
    .bind(report.failures)
    .bind(&report.details)
    .bind(report.took_ms)
    .bind(&report.error)
    .execute(db)
    .await?;
    Ok(())
}

/// What an operator (or a schedule) wants of a target's worker now.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Control {
    pub paused: bool,
    /// A full sync requested: `Some(dry_run)`.
    pub sync: Option<bool>,
    /// A reconcile due: `Some(apply)`.
    pub reconcile: Option<bool>,
    /// Parked changes marked for replay.
    pub replay: bool,
}

impl Control {
    /// Whether the worker must stop taking changes to serve it.
    pub fn wanted(&self) -> bool {
        self.paused || self.sync.is_some() || self.reconcile.is_some() || self.replay
    }
}

/// Everything [`Control`] holds, in one query (the worker asks every
/// second). `every`: the reconcile schedule, if any.
pub async fn control<'e>(
    db: impl PgExecutor<'e>,
    t: TargetKey<'_>,
    every: Option<std::time::Duration>,
) -> sqlx::Result<Control> {
    let every_secs = every.map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    let row: Option<(bool, bool, bool, bool, bool, bool)> = sqlx::query_as(
        "select paused, sync_requested, sync_dry_run,
                reconcile_requested
                  or ($3::bigint is not null
                      and coalesce(reconciled_at, synced_at, '-infinity')
                          < now() - make_interval(secs => $3::bigint)),
                reconcile_requested and reconcile_apply,
                exists (select 1 from parked_changes c
                        where c.tenant = p.tenant and c.target = p.target and c.replay_requested)
         from target_progress p where tenant = $1 and target = $2",
    )
    .bind(t.tenant)
    .bind(t.target)
    .bind(every_secs)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Control::default(),
        Some((paused, sync, dry, reconcile, apply, replay)) => Control {
            paused,
            sync: sync.then_some(dry),
            reconcile: reconcile.then_some(apply),
            replay,
        },
    })
}
