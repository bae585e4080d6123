//! The inbox of HR events (`hr_events`). The ingress writes a request's
//! events in one transaction before it answers 202; the store applies each
//! at its due time and sets its status in the same transaction as the
//! change it makes, which is what makes the effect happen once.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::{PgConnection, PgExecutor, QueryBuilder};
use uuid::Uuid;

/// Where an event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Accepted, due now: being applied.
    Received,
    /// Accepted, due later (a future effective time).
    Scheduled,
    Applied,
    /// Could not be applied (its `error` says why); nothing changed.
    Rejected,
    /// Cancelled by an operator (or a rehire, for a pending deletion).
    Cancelled,
}

impl Status {
    pub const ALL: [Status; 5] = [
        Status::Received,
        Status::Scheduled,
        Status::Applied,
        Status::Rejected,
        Status::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Received => "received",
            Status::Scheduled => "scheduled",
            Status::Applied => "applied",
            Status::Rejected => "rejected",
            Status::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// Whether it is still to be applied.
    pub fn pending(self) -> bool {
        matches!(self, Status::Received | Status::Scheduled)
    }
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub id: Uuid,
    pub source: String,
    pub event_id: String,
    pub employee_id: String,
    pub kind: String,
    pub effective_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub raw: Value,
    pub user_doc: Value,
    pub manager_id: Option<String>,
    pub manager_said: bool,
    pub delete_after_days: Option<i32>,
    pub new_user_id: Uuid,
}

/// What recording one event did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub event_id: String,
    /// Our id of the event (of the first copy, for a duplicate).
    pub id: Uuid,
    /// False: the source sent this event id before; nothing was recorded.
    pub new: bool,
    pub status: String,
    pub due_at: DateTime<Utc>,
}

/// Records the events of one request (in the caller's transaction). An
/// event id the source sent before is not recorded again: its first
/// copy is answered. `now` is the receipt time.
pub async fn insert(
    conn: &mut PgConnection,
    tenant: &str,
    events: &[NewEvent],
    now: DateTime<Utc>,
) -> sqlx::Result<Vec<Accepted>> {
    let mut out = Vec::with_capacity(events.len());
    for e in events {
        let status = if e.due_at > now {
            Status::Scheduled
        } else {
            Status::Received
        };
        // The ingress publishes the command of a due event itself, right
        // after the commit: marked published now, so the store's sweep
        // only takes it up if that publish got lost.
        let published = (status == Status::Received).then_some(now);
        let inserted: Option<(Uuid, String, DateTime<Utc>)> = sqlx::query_as(
            "insert into hr_events (tenant, id, source, event_id, employee_id, kind,
                 effective_at, due_at, received_at, raw, user_doc, manager_id, manager_said,
                 delete_after, new_user_id, status, published_at)
             values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13,
                 make_interval(days => $14), $15, $16, $17)
             on conflict (tenant, source, event_id) do nothing
             returning id, status, due_at",
        )
        .bind(tenant)
        .bind(e.id)
        .bind(&e.source)
        .bind(&e.event_id)
        .bind(&e.employee_id)
        .bind(&e.kind)
        .bind(e.effective_at)
        .bind(e.due_at)
        .bind(now)
        .bind(&e.raw)
        .bind(&e.user_doc)
        .bind(&e.manager_id)
        .bind(e.manager_said)
        .bind(e.delete_after_days)
        .bind(e.new_user_id)
        .bind(status.as_str())
        .bind(published)
        .fetch_optional(&mut *conn)
        .await?;
        let (id, status, due_at, new) = match inserted {
            Some((id, status, due_at)) => (id, status, due_at, true),
            None => {
                let (id, status, due_at): (Uuid, String, DateTime<Utc>) = sqlx::query_as(
                    "select id, status, due_at from hr_events
                     where tenant = $1 and source = $2 and event_id = $3",
                )
                .bind(tenant)
                .bind(&e.source)
                .bind(&e.event_id)
                .fetch_one(&mut *conn)
                .await?;
                (id, status, due_at, false)
            }
        };
        out.push(Accepted {
            event_id: e.event_id.clone(),
            id,
            new,
            status,
            due_at,
        });
    }
    Ok(out)
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EventRow {
    pub id: Uuid,
    pub source: String,
    pub event_id: String,
    pub employee_id: String,
    pub kind: String,
    pub effective_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub raw: Value,
    pub user_doc: Value,
    pub manager_id: Option<String>,
    pub manager_said: bool,
    /// The grace before a terminated user is deleted, in days.
    pub delete_after_days: Option<i32>,
    pub new_user_id: Uuid,
    pub status: String,
    pub detail: Option<String>,
    pub error: Option<Value>,
    pub user_id: Option<Uuid>,
    pub change_id: Option<Uuid>,
    pub applied_at: Option<DateTime<Utc>>,
}

impl EventRow {
    pub fn status(&self) -> Option<Status> {
        Status::parse(&self.status)
    }

    /// The time its attribute values hold from: the effective time, or the
    /// receipt.
    pub fn effective(&self) -> DateTime<Utc> {
        self.effective_at.unwrap_or(self.received_at)
    }
}

/// `select <the columns of an EventRow> from hr_events <rest>`.
macro_rules! select_event {
    ($rest:literal) => {
        concat!(
            "select id, source, event_id, employee_id, kind, effective_at, due_at, received_at,
                raw, user_doc, manager_id, manager_said,
                extract(day from delete_after)::int4 as delete_after_days, new_user_id, status,
                detail, error, user_id, change_id, applied_at
             from hr_events ",
            $rest
        )
    };
}

/// Reads an event and locks it for the rest of the transaction.
pub async fn lock(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
) -> sqlx::Result<Option<EventRow>> {
    sqlx::query_as(select_event!("where tenant = $1 and id = $2 for update"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(conn)
        .await
}

/// Reads an event.
pub async fn get<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    id: Uuid,
) -> sqlx::Result<Option<EventRow>> {
    sqlx::query_as(select_event!("where tenant = $1 and id = $2"))
        .bind(tenant)
        .bind(id)
        .fetch_optional(db)
        .await
}

/// How applying an event ended.
#[derive(Debug, Clone, Default)]
pub struct Outcome<'a> {
    pub detail: Option<&'a str>,
    pub error: Option<Value>,
    pub user_id: Option<Uuid>,
    pub change_id: Option<Uuid>,
}

/// Sets the final status of an event (in the transaction that applied it).
pub async fn finish(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    status: Status,
    o: Outcome<'_>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "update hr_events set status = $3, detail = $4, error = $5, user_id = $6,
             change_id = $7, applied_at = $8
         where tenant = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(status.as_str())
    .bind(o.detail)
    .bind(o.error)
    .bind(o.user_id)
    .bind(o.change_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves a pending event's due time (an update waiting for its person's
/// hire), keeping it pending.
pub async fn postpone(
    conn: &mut PgConnection,
    tenant: &str,
    id: Uuid,
    due_at: DateTime<Utc>,
    detail: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "update hr_events set due_at = $3, status = 'scheduled', detail = $4, published_at = null
         where tenant = $1 and id = $2",
    )
    .bind(tenant)
    .bind(id)
    .bind(due_at)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

/// The earliest pending hire or rehire of a person due after `now`.
pub async fn pending_hire(
    conn: &mut PgConnection,
    tenant: &str,
    employee_id: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<Option<DateTime<Utc>>> {
    sqlx::query_scalar(
        "select min(due_at) from hr_events
         where tenant = $1 and employee_id = $2 and kind in ('hire', 'rehire')
           and status in ('received', 'scheduled') and due_at > $3",
    )
    .bind(tenant)
    .bind(employee_id)
    .bind(now)
    .fetch_one(conn)
    .await
}

/// Schedules the deletion of a terminated person's user.
pub async fn schedule_delete(
    conn: &mut PgConnection,
    tenant: &str,
    of: &EventRow,
    due_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into hr_events (tenant, id, source, event_id, employee_id, kind, effective_at,
             due_at, received_at, raw, user_doc, new_user_id, status, detail)
         values ($1, $2, $3, $4, $5, 'delete', $6, $6, $7, $8, '{}', $9, 'scheduled', $10)
         on conflict (tenant, source, event_id) do nothing",
    )
    .bind(tenant)
    .bind(Uuid::now_v7())
    .bind(&of.source)
    .bind(format!("{}#delete", of.event_id))
    .bind(&of.employee_id)
    .bind(due_at)
    .bind(now)
    .bind(serde_json::json!({ "terminatedBy": of.event_id }))
    .bind(of.new_user_id)
    .bind(format!(
        "deletes the user {} days after the termination {}",
        of.delete_after_days.unwrap_or_default(),
        of.event_id
    ))
    .execute(conn)
    .await?;
    Ok(())
}

/// Cancels a person's pending deletions (a rehire); how many.
pub async fn cancel_deletes(
    conn: &mut PgConnection,
    tenant: &str,
    employee_id: &str,
    why: &str,
    now: DateTime<Utc>,
) -> sqlx::Result<u64> {
    let r = sqlx::query(
        "update hr_events set status = 'cancelled', detail = $3, applied_at = $4
         where tenant = $1 and employee_id = $2 and kind = 'delete'
           and status in ('received', 'scheduled')",
    )
    .bind(tenant)
    .bind(employee_id)
    .bind(why)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(r.rows_affected())
}

/// What an operator's cancel found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    Done,
    NotFound,
    /// It is no longer pending; its status.
    NotPending(String),
}

/// Cancels a pending event (operator API).
pub async fn cancel<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    id: Uuid,
    why: &str,
) -> sqlx::Result<Cancelled> {
    // One statement: the row lock orders it with a store applying the
    // event, so exactly one of them wins.
    let row: Option<(String, bool)> = sqlx::query_as(
        "with target as (
             select id, status from hr_events where tenant = $1 and id = $2 for update
         ), done as (
             update hr_events e set status = 'cancelled', detail = $3, applied_at = now()
             from target t
             where e.tenant = $1 and e.id = t.id and t.status in ('received', 'scheduled')
             returning e.id
         )
         select t.status, exists (select 1 from done) from target t",
    )
    .bind(tenant)
    .bind(id)
    .bind(why)
    .fetch_optional(db)
    .await?;
    Ok(match row {
        None => Cancelled::NotFound,
        Some((_, true)) => Cancelled::Done,
        Some((status, false)) => Cancelled::NotPending(status),
    })
}

/// What the operator lists.
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    pub source: Option<&'a str>,
    pub employee_id: Option<&'a str>,
    pub user_id: Option<Uuid>,
    /// Any of these statuses (empty: any status).
    pub statuses: Vec<Status>,
    /// The page after this event id (newest first).
    pub before: Option<Uuid>,
    pub limit: i64,
}

/// A tenant's events, newest first.
pub async fn list<'e>(
    db: impl PgExecutor<'e>,
    tenant: &str,
    f: &Filter<'_>,
) -> sqlx::Result<Vec<EventRow>> {
    let mut q = QueryBuilder::new(select_event!("where tenant = "));
    q.push_bind(tenant);
    if let Some(s) = f.source {
        q.push(" and source = ").push_bind(s);
    }
    if let Some(e) = f.employee_id {
        q.push(" and employee_id = ").push_bind(e);
    }
    if let Some(u) = f.user_id {
        q.push(" and employee_id in (select employee_id from hr_workers where tenant = ")
            .push_bind(tenant)
            .push(" and user_id = ")
            .push_bind(u)
            .push(")");
    }
    if !f.statuses.is_empty() {
        let statuses: Vec<&str> = f.statuses.iter().map(|s| s.as_str()).collect();
        q.push(" and status = any(").push_bind(statuses).push(")");
    }
    if let Some(b) = f.before {
        q.push(" and id < ").push_bind(b);
    }
    q.push(" order by id desc limit ").push_bind(f.limit);
    q.build_query_as().fetch_all(db).await
}
