//! The operator console's state in Postgres: signed-in sessions
//! (`console_sessions`) and the minute-by-minute counters its charts draw
//! (`progress_samples`). Both survive a restart of any process and are the
//! same for every ingress replica.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A signed-in browser, found by the hash of its cookie's session id.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Session {
    /// The SHA-256 of the admin token it signed in with.
    pub token_hash: Vec<u8>,
    /// What its forms carry back.
    pub csrf: String,
    pub expires_at: DateTime<Utc>,
}

/// Records a session that lasts until `expires_at` (expired ones go with it).
pub async fn create_session<'e>(
    db: impl PgExecutor<'e>,
    id_hash: &[u8],
    session: &Session,
) -> sqlx::Result<()> {
    sqlx::query(
        "with gone as (delete from console_sessions where expires_at < now())
         insert into console_sessions (id_hash, token_hash, csrf, expires_at)
         values ($1, $2, $3, $4)",
    )
    .bind(id_hash)
    .bind(&session.token_hash)
    .bind(&session.csrf)
    .bind(session.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// The session whose id hashes to `id_hash`, if it has not expired.
pub async fn find_session<'e>(
    db: impl PgExecutor<'e>,
    id_hash: &[u8],
) -> sqlx::Result<Option<Session>> {
    sqlx::query_as(
        "select token_hash, csrf, expires_at from console_sessions
         where id_hash = $1 and expires_at > now()",
    )
    .bind(id_hash)
    .fetch_optional(db)
    .await
}

/// Ends a session (signing out).
pub async fn delete_session<'e>(db: impl PgExecutor<'e>, id_hash: &[u8]) -> sqlx::Result<()> {
    sqlx::query("delete from console_sessions where id_hash = $1")
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Whose counters a sample holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SampleKind {
    Target,
    Subscription,
}

impl SampleKind {
    fn as_str(self) -> &'static str {
        match self {
            SampleKind::Target => "target",
            SampleKind::Subscription => "subscription",
        }
    }
}

/// One minute of a target's or subscription's counters: `pushed`,
/// `skipped` and `failed` are running totals, `parked` and `lag` as they
/// were then.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub pushed: i64,
    pub skipped: i64,
    pub failed: i64,
    pub parked: i64,
    pub lag: i64,
}

/// Takes this minute's sample of every target and subscription (a minute
/// already taken, by this process or another, is left as it is), and
/// forgets samples older than `keep_hours`. Returns how many were taken.
pub async fn take_samples<'e>(db: impl PgExecutor<'e>, keep_hours: i32) -> sqlx::Result<u64> {
    // A row already taken this minute is passed over before its parked
    // changes are counted: a replica's every try but the minute's first
    // costs next to nothing.
    let done = sqlx::query(
        "with gone as (
             delete from progress_samples where at < now() - make_interval(hours => $1)
         ), minute as (select date_trunc('minute', now()) as at)
         insert into progress_samples (kind, tenant, name, at, pushed, skipped, failed, parked, lag)
         select 'target', p.tenant, p.target, m.at, pushed, skipped, failed,
                (select count(*) from parked_changes c
                  where c.tenant = p.tenant and c.target = p.target),
                lag
           from target_progress p, minute m
          where not exists (select from progress_samples s where s.kind = 'target'
                              and s.tenant = p.tenant and s.name = p.target and s.at = m.at)
         union all
         select 'subscription', p.tenant, p.name, m.at, delivered, skipped, failed,
                (select count(*) from subscription_parked k
                  where k.tenant = p.tenant and k.name = p.name),
                lag
           from subscription_progress p, minute m
          where not exists (select from progress_samples s where s.kind = 'subscription'
                              and s.tenant = p.tenant and s.name = p.name and s.at = m.at)
         on conflict (kind, tenant, name, at) do nothing",
    )
    .bind(keep_hours)
    .execute(db)
    .await?;
    Ok(done.rows_affected())
}

/// A sample and whose it is.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct SampleOf {
    /// `target` or `subscription`.
    pub kind: String,
    pub tenant: String,
    pub name: String,
    #[sqlx(flatten)]
    pub sample: Sample,
}

/// The samples of every target and subscription since `since`, by kind,
/// tenant and name, each oldest first: one query for a page that charts
/// them all.
pub async fn all_samples<'e>(
    db: impl PgExecutor<'e>,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<SampleOf>> {
    sqlx::query_as(
        "select kind, tenant, name, at, pushed, skipped, failed, parked, lag
           from progress_samples where at >= $1
          order by kind, tenant, name, at",
    )
    .bind(since)
    .fetch_all(db)
    .await
}

/// The samples of one target or subscription since `since`, oldest first.
pub async fn samples<'e>(
    db: impl PgExecutor<'e>,
    kind: SampleKind,
    tenant: &str,
    name: &str,
    since: DateTime<Utc>,
) -> sqlx::Result<Vec<Sample>> {
    sqlx::query_as(
        "select at, pushed, skipped, failed, parked, lag from progress_samples
         where kind = $1 and tenant = $2 and name = $3 and at >= $4
         order by at",
    )
    .bind(kind.as_str())
    .bind(tenant)
    .bind(name)
    .bind(since)
    .fetch_all(db)
    .await
}
