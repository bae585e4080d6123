//! An HR event from the inbox, applied to its person's user: hire creates
//! (or, for someone the identity provider made first, takes over), update
//! changes the attributes it carries, terminate deactivates, rehire
//! re-activates the same user, and a deletion scheduled after a
//! termination deletes. The event's status is set in this transaction, so
//! applying it twice (a command published again) changes nothing.
//!
//! What lands is decided per attribute ([`merge`]): a value that took
//! effect later than this event stays, and so does one the identity
//! provider owns and has set.

mod manager;
mod merge;
mod owners;
mod write;

use scimbus_db::hr::{self, EventRow, Outcome, Status, Worker};
use scimbus_db::resources::{self, Row};
use scimbus_events::v1::{CommandResult, command_result};
use scimbus_scim::{ResourceType, ScimError};
use serde_json::{Value, json};
use sqlx::PgConnection;
use uuid::Uuid;

pub use owners::{DEFAULT_HR_OWNS, Owners};

use super::{Applied, ApplyError, Broken, Cmd, Ctx};
use merge::{Precedence, Stamp};

/// How much earlier than its due time a command may apply an event: the
/// store's clock may be a little behind the ingress's that stamped it.
const CLOCK_SKEW: chrono::Duration = chrono::Duration::seconds(2);

/// Applies the HR event the command names.
pub async fn apply(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
) -> Result<Applied, ApplyError> {
    let tenant = cmd.wire.tenant.as_str();
    let Some(event_id) = std::str::from_utf8(&cmd.wire.payload)
        .ok()
        .and_then(|s| Uuid::parse_str(s.trim()).ok())
    else {
        return Ok(Applied::refused(
            cmd,
            ScimError::invalid_value("an HR command carries the id of an HR event"),
        ));
    };
    let Some(ev) = hr::events::lock(conn, tenant, event_id).await? else {
        return Ok(Applied::refused(
            cmd,
            ScimError::not_found(format!("HR event {event_id} not found")),
        ));
    };
    let status = ev.status();
    // Applied, rejected or cancelled before: a command published again.
    // Scheduled and not due yet: published too early; the sweep publishes
    // it again when it is due.
    let not_yet = status == Some(Status::Scheduled) && ev.due_at > ctx.now + CLOCK_SKEW;
    if !status.is_some_and(Status::pending) || not_yet {
        return Ok(nothing(cmd, None));
    }
    let rt = ctx
        .registry
        .resource_type("User")
        .ok_or_else(|| Broken::ResourceType("User".into()))?;
    let mut worker = hr::workers::lock(conn, tenant, &ev.employee_id).await?;
    let linked = worker.user_id;
    let user = current_user(conn, tenant, &mut worker).await?;
    let step = if ev.kind == "delete" {
        write::delete(conn, ctx, cmd, rt, &mut worker, user).await?
    } else {
        change(conn, ctx, cmd, rt, &ev, &mut worker, user).await?
    };
    let mut step = step;
    // A person who got a user only now (made by this event, or the
    // identity provider's taken over): those who report to them get
    // their manager.
    if let Step::Done {
        applied,
        user_id: Some(uid),
        ..
    } = &mut step
        && linked != Some(*uid)
        && ev.kind != "delete"
    {
        worker.user_id = Some(*uid);
        let others = manager::fill_reports(conn, ctx, cmd, &ev.employee_id, *uid).await?;
        applied.others.extend(others);
    }
    if matches!(step, Step::Done { .. }) {
        after_done(conn, ctx, tenant, &ev).await?;
    }
    hr::workers::save(conn, tenant, &worker).await?;
    let (applied, status, detail, error, user_id) = match step {
        Step::Done {
            applied,
            detail,
            user_id,
        } => (*applied, Status::Applied, detail, None, user_id),
        Step::Refused(e) => {
            let (detail, error) = (e.detail.clone(), Some(e.to_json()));
            (
                Applied::refused(cmd, e),
                Status::Rejected,
                detail,
                error,
                worker.user_id,
            )
        }
        Step::Postponed => return Ok(nothing(cmd, None)),
        Step::Cancelled(why) => (nothing(cmd, None), Status::Cancelled, why, None, None),
    };
    let outcome = Outcome {
        detail: Some(&detail),
        error,
        user_id,
        change_id: applied.change.as_ref().map(|c| c.id),
    };
    hr::events::finish(conn, tenant, ev.id, status, outcome, ctx.now).await?;
    Ok(applied)
}

/// How an event ended.
enum Step {
    Done {
        applied: Box<Applied>,
        detail: String,
        user_id: Option<Uuid>,
    },
    Refused(ScimError),
    /// Left pending, to be applied later.
    Postponed,
    Cancelled(String),
}

/// Precedence on a SCIM write to a user: when HR manages the user, what
/// HR owns and has set keeps its value, and what the identity provider
/// owns and writes is recorded as its own. Whether the document changed.
pub async fn guard(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    tenant: &str,
    id: Uuid,
    existing: &Value,
    new: &mut Value,
) -> Result<bool, ApplyError> {
    let Some(mut worker) = hr::workers::by_user(conn, tenant, id).await? else {
        return Ok(false);
    };
    let times = worker.attributes.as_object().cloned().unwrap_or_default();
    let owns = |a: &str| ctx.owners.hr_owns(tenant, a);
    let before = worker.idp_set.len();
    let kept = merge::guard(existing, new, &times, &owns, &mut worker.idp_set);
    if worker.idp_set.len() != before {
        let added = &worker.idp_set[before..];
        hr::workers::add_idp_set(conn, tenant, &worker.employee_id, added).await?;
    }
    Ok(!kept.is_empty())
}

/// An answer that applied nothing.
fn nothing(cmd: Cmd<'_>, version: Option<u64>) -> Applied {
    Applied {
        result: CommandResult {
            command_id: cmd.wire.id.clone(),
            outcome: command_result::Outcome::Applied as i32,
            version: version.unwrap_or_default(),
            ..Default::default()
        },
        change: None,
        others: Vec::new(),
    }
}

/// The person's user, locked: the one linked, else the one whose
/// externalId is their employee id (made by the identity provider before
/// HR knew of them: what it set is taken as its own).
async fn current_user(
    conn: &mut PgConnection,
    tenant: &str,
    worker: &mut Worker,
) -> Result<Option<Row>, ApplyError> {
    if let Some(id) = worker.user_id {
        if let Some(row) = resources::lock(conn, tenant, "User", id).await? {
            return Ok(Some(row));
        }
        // Deleted since (by the identity provider, or after a grace).
        worker.user_id = None;
    }
    let Some(id) = hr::workers::user_by_external_id(conn, tenant, &worker.employee_id).await?
    else {
        return Ok(None);
    };
    let row = resources::lock(conn, tenant, "User", id).await?;
    if let Some(r) = &row {
        worker.user_id = Some(r.id);
        worker.idp_set = merge::names(&r.doc.0);
    }
    Ok(row)
}

/// Hire, update, terminate, rehire.
async fn change(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    ev: &EventRow,
    worker: &mut Worker,
    user: Option<Row>,
) -> Result<Step, ApplyError> {
    let tenant = cmd.wire.tenant.as_str();
    if user.is_none() && !matches!(ev.kind.as_str(), "hire" | "rehire") {
        // Someone whose hire is still to come: this waits for it.
        if let Some(due) = hr::events::pending_hire(conn, tenant, &ev.employee_id, ctx.now).await? {
            let why = "waits for the person's hire, due later";
            hr::events::postpone(conn, tenant, ev.id, due, why).await?;
            return Ok(Step::Postponed);
        }
        if ev.kind == "terminate" {
            return Ok(Step::Refused(ScimError::not_found(format!(
                "no user has externalId \"{}\": nothing to deactivate",
                ev.employee_id
            ))));
        }
    }
    let mut attrs = ev.user_doc.clone();
    if let Some(obj) = attrs.as_object_mut() {
        match ev.kind.as_str() {
            "hire" | "rehire" => {
                obj.insert("active".into(), Value::Bool(true));
            }
            "terminate" => {
                obj.insert("active".into(), Value::Bool(false));
            }
            _ => {}
        }
    }
    let stamp = Stamp {
        effective: ev.effective(),
        event: ev.id,
    };
    // The manager as this event says it, resolved to a user (or left out
    // until that user exists).
    let manager = if ev.manager_said {
        let said = manager::said(conn, tenant, ev.manager_id.as_deref()).await?;
        Some(said)
    } else {
        None
    };
    if let Some(m) = &manager {
        manager::put(&mut attrs, m);
    }
    let mut times = worker.attributes.as_object().cloned().unwrap_or_default();
    let owns = |a: &str| ctx.owners.hr_owns(tenant, a);
    let precedence = Precedence {
        hr_owns: &owns,
        idp_set: &worker.idp_set,
    };
    let existing = user.as_ref().map(|r| r.doc.0.clone()).unwrap_or(json!({}));
    let merged = merge::merge(&existing, &attrs, stamp, &mut times, &precedence);
    let detail = describe(&merged);
    let step = match user {
        None => write::create(conn, ctx, cmd, rt, ev, merged.doc, &detail).await?,
        Some(row) => write::update(conn, ctx, cmd, rt, row, merged.doc, &detail).await?,
    };
    if matches!(step, Step::Done { .. }) {
        worker.attributes = Value::Object(times);
        if manager.is_some() && merged.taken.iter().any(|a| manager::is_path(a)) {
            worker.manager_id = ev.manager_id.clone();
        }
    }
    Ok(step)
}

/// After an event took effect: a termination with a grace period
/// schedules the deletion; a hire or rehire cancels one still pending.
async fn after_done(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    tenant: &str,
    ev: &EventRow,
) -> Result<(), ApplyError> {
    match ev.kind.as_str() {
        "terminate" => {
            if let Some(days) = ev.delete_after_days {
                let due = ev.effective() + chrono::Duration::days(i64::from(days));
                hr::events::schedule_delete(conn, tenant, ev, due, ctx.now).await?;
            }
        }
        "hire" | "rehire" => {
            let why = format!("cancelled by {} {}", ev.kind, ev.event_id);
            hr::events::cancel_deletes(conn, tenant, &ev.employee_id, &why, ctx.now).await?;
        }
        _ => {}
    }
    Ok(())
}

/// What merging did, for the event's status.
fn describe(m: &merge::Merged) -> String {
    let mut parts = Vec::new();
    if !m.taken.is_empty() {
        parts.push(format!("set {}", m.taken.join(", ")));
    }
    if !m.older.is_empty() {
        parts.push(format!(
            "kept {} (changed by a later-effective event)",
            m.older.join(", ")
        ));
    }
    if !m.idp_owned.is_empty() {
        parts.push(format!(
            "kept {} (owned by the identity provider)",
            m.idp_owned.join(", ")
        ));
    }
    if parts.is_empty() {
        "the event carries no attribute".into()
    } else {
        parts.join("; ")
    }
}
