//! What an operator does with the HR inbox, whether through the operator
//! API (`/admin/v1/tenants/{tenant}/hr-events`) or the CLI (`scimbus
//! hr-events`): list a tenant's events with filters, newest first, a page
//! at a time; show one with its raw body and mapped user; cancel one still
//! pending. The same parameter checks, the same errors and the same JSON,
//! so that both say the same thing.

use chrono::{DateTime, SecondsFormat, Utc};
use scimbus_db::hr::events::{self, Cancelled, EventRow, Filter, Status};
use serde_json::{Value, json};
use sqlx::PgPool;
use uuid::Uuid;

/// A page's size when none is asked for.
pub const DEFAULT_COUNT: i64 = 50;
/// The largest page.
pub const MAX_COUNT: i64 = 500;
/// The detail of an event cancelled without a reason.
pub const DEFAULT_REASON: &str = "cancelled by an operator";
/// The longest reason kept (it is the event's `detail`).
const MAX_REASON_CHARS: usize = 1000;

/// The list parameters, as the API's query string and the CLI's flags
/// name them.
pub const PARAMETERS: [&str; 6] = [
    "source",
    "employeeId",
    "userId",
    "status",
    "count",
    "cursor",
];

/// Why an operation on HR events cannot be done.
#[derive(Debug, thiserror::Error)]
pub enum HrEventError {
    #[error("no tenant {0}")]
    UnknownTenant(String),
    /// No such event of the tenant (or an id that is not one).
    #[error("no HR event {id} of tenant {tenant}")]
    Unknown { tenant: String, id: String },
    /// A parameter is wrong; `parameter` is its name in the API.
    #[error("{parameter}: {detail}")]
    Invalid { parameter: String, detail: String },
    /// A cancel came too late (or twice): the event's status.
    #[error("the event is {0}, not pending")]
    NotPending(String),
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
}

impl HrEventError {
    fn invalid(parameter: &str, detail: impl Into<String>) -> HrEventError {
        HrEventError::Invalid {
            parameter: parameter.to_string(),
            detail: detail.into(),
        }
    }
}

/// What to list: the filters, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub source: Option<String>,
    pub employee_id: Option<String>,
    pub user_id: Option<Uuid>,
    /// Empty: any status; `pending` is received and scheduled.
    pub statuses: Vec<Status>,
    pub count: i64,
    /// The last event of the previous page.
    pub cursor: Option<Uuid>,
}

impl ListParams {
    /// Reads `(name, value)` pairs (the API's query string; the CLI makes
    /// the same pairs of its flags). An unknown or repeated parameter is
    /// refused rather than ignored: a misspelt filter would otherwise
    /// list everything.
    pub fn parse<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<ListParams, HrEventError> {
        let mut p = ListParams {
            source: None,
            employee_id: None,
            user_id: None,
            statuses: Vec::new(),
            count: DEFAULT_COUNT,
            cursor: None,
        };
        let mut seen: Vec<&str> = Vec::new();
        for (name, value) in pairs {
            let Some(known) = PARAMETERS.iter().find(|k| **k == name) else {
                return Err(HrEventError::invalid(
                    name,
                    format!(
                        "unknown parameter; the filters are {}",
                        PARAMETERS.join(", ")
                    ),
                ));
            };
            if seen.contains(known) {
                return Err(HrEventError::invalid(name, "given more than once"));
            }
            seen.push(known);
            match name {
                "source" => p.source = Some(text(name, value)?),
                "employeeId" => p.employee_id = Some(text(name, value)?),
                "userId" => p.user_id = Some(uuid(name, value)?),
                "status" => p.statuses = statuses(value)?,
                "count" => p.count = count(value)?,
                _ => p.cursor = Some(uuid(name, value)?),
            }
        }
        Ok(p)
    }

    fn filter(&self) -> Filter<'_> {
        Filter {
            source: self.source.as_deref(),
            employee_id: self.employee_id.as_deref(),
            user_id: self.user_id,
            statuses: self.statuses.clone(),
            before: self.cursor,
            // One more than a page: whether there is a next page.
            limit: self.count + 1,
        }
    }
}

fn text(name: &str, value: &str) -> Result<String, HrEventError> {
    if value.is_empty() {
        return Err(HrEventError::invalid(name, "must not be empty"));
    }
    Ok(value.to_string())
}

fn uuid(name: &str, value: &str) -> Result<Uuid, HrEventError> {
    Uuid::parse_str(value)
        .map_err(|_| HrEventError::invalid(name, format!("\"{value}\" is not an id (a UUID)")))
}

fn statuses(value: &str) -> Result<Vec<Status>, HrEventError> {
    if value == "pending" {
        return Ok(vec![Status::Received, Status::Scheduled]);
    }
    Status::parse(value).map(|s| vec![s]).ok_or_else(|| {
        let names: Vec<&str> = Status::ALL.iter().map(|s| s.as_str()).collect();
        HrEventError::invalid(
            "status",
            format!("\"{value}\" is not one of {}, pending", names.join(", ")),
        )
    })
}

fn count(value: &str) -> Result<i64, HrEventError> {
    match value.parse::<i64>() {
        Ok(n) if (1..=MAX_COUNT).contains(&n) => Ok(n),
        _ => Err(HrEventError::invalid(
            "count",
            format!("\"{value}\" is not a number from 1 to {MAX_COUNT}"),
        )),
    }
}

/// One page of events, newest first.
#[derive(Debug, Clone)]
pub struct Page {
    pub events: Vec<EventRow>,
    /// The cursor of the next page; none on the last.
    pub next_cursor: Option<Uuid>,
}

impl Page {
    /// `{"events": [view, …], "nextCursor": "<id>" | null}`.
    pub fn view(&self) -> Value {
        let events: Vec<Value> = self.events.iter().map(|e| view(e, false)).collect();
        json!({
            "events": events,
            "nextCursor": self.next_cursor.map(|c| c.to_string()),
        })
    }
}

/// The time format of every event time: RFC 3339, UTC, microseconds (as
/// the HR endpoint's own answer).
fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// An event as an operator sees it: `id, source, eventId, employeeId,
/// kind, effectiveAt, dueAt, receivedAt, status, detail, error (the SCIM
/// error object of a rejection, or null), userId, changeId, appliedAt`
/// (null when unset); `full` adds `raw` (the event as the HR system sent
/// it) and `user` (the SCIM user it was mapped to).
pub fn view(e: &EventRow, full: bool) -> Value {
    let mut out = json!({
        "id": e.id.to_string(),
        "source": e.source,
        "eventId": e.event_id,
        "employeeId": e.employee_id,
        "kind": e.kind,
        "effectiveAt": e.effective_at.map(time),
        "dueAt": time(e.due_at),
        "receivedAt": time(e.received_at),
        "status": e.status,
        "detail": e.detail,
        "error": e.error,
        "userId": e.user_id.map(|u| u.to_string()),
        "changeId": e.change_id.map(|c| c.to_string()),
        "appliedAt": e.applied_at.map(time),
    });
    if full {
        out["raw"] = e.raw.clone();
        out["user"] = e.user_doc.clone();
    }
    out
}

/// Unknown tenant: an error, not an empty list.
pub async fn tenant_exists(pool: &PgPool, tenant: &str) -> Result<(), HrEventError> {
    if scimbus_db::tenants::exists(pool, tenant).await? {
        Ok(())
    } else {
        Err(HrEventError::UnknownTenant(tenant.to_string()))
    }
}

/// A page of a tenant's events.
pub async fn list(pool: &PgPool, tenant: &str, p: &ListParams) -> Result<Page, HrEventError> {
    tenant_exists(pool, tenant).await?;
    let mut rows = events::list(pool, tenant, &p.filter()).await?;
    let page = usize::try_from(p.count).unwrap_or(usize::MAX);
    let next_cursor = if rows.len() > page {
        rows.truncate(page);
        rows.last().map(|e| e.id)
    } else {
        None
    };
    Ok(Page {
        events: rows,
        next_cursor,
    })
}

/// One event of a tenant; an id that is not a UUID is as unknown as one
/// of another tenant.
pub async fn show(pool: &PgPool, tenant: &str, id: &str) -> Result<EventRow, HrEventError> {
    tenant_exists(pool, tenant).await?;
    let unknown = || HrEventError::Unknown {
        tenant: tenant.to_string(),
        id: id.to_string(),
    };
    let uuid = Uuid::parse_str(id).map_err(|_| unknown())?;
    events::get(pool, tenant, uuid).await?.ok_or_else(unknown)
}

/// Checks an operator's reason: none or blank is [`DEFAULT_REASON`].
pub fn reason(given: Option<&str>) -> Result<String, HrEventError> {
    let given = given.map(str::trim).filter(|r| !r.is_empty());
    match given {
        None => Ok(DEFAULT_REASON.to_string()),
        Some(r) if r.chars().count() > MAX_REASON_CHARS => Err(HrEventError::invalid(
            "reason",
            format!("is longer than {MAX_REASON_CHARS} characters"),
        )),
        Some(r) => Ok(r.to_string()),
    }
}

/// Cancels a pending event (received or scheduled) with a reason (its
/// `detail`), and gives it back cancelled. The store applying it at the
/// same moment and this exclude each other (one row lock): whichever is
/// second finds it no longer pending.
pub async fn cancel(
    pool: &PgPool,
    tenant: &str,
    id: &str,
    why: Option<&str>,
) -> Result<EventRow, HrEventError> {
    let why = reason(why)?;
    let row = show(pool, tenant, id).await?;
    match events::cancel(pool, tenant, row.id, &why).await? {
        Cancelled::Done => show(pool, tenant, id).await,
        Cancelled::NotFound => Err(HrEventError::Unknown {
            tenant: tenant.to_string(),
            id: id.to_string(),
        }),
        Cancelled::NotPending(status) => Err(HrEventError::NotPending(status)),
    }
}
