//! Applying one command inside the batch's transaction: SCIM semantics on
//! top of the rows of `scimbus-db`.
//!
//! A command that is wrong (bad JSON, a schema violation, a taken userName,
//! a stale If-Match, an unknown id) is *answered*, not failed: its outcome
//! and SCIM error go back to the client and into the idempotency record.
//! Only database errors and broken invariants come back as `Err`: the
//! batch is retried, one command at a time, and a command that still fails
//! is parked.

mod change;
mod create;
mod hr;
mod members;
mod patch;
mod patch_users;
mod replace;
mod scim;

use chrono::{DateTime, Utc};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::Row;
use scimbus_db::{members as db_members, resources};
use scimbus_events::v1::{Command, CommandResult, command, command_result};
use scimbus_scim::{Registry, ResourceType, ScimError};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

pub use change::{Change, Operation};
pub use create::{Prepared, finish as finish_create, prepare as prepare_create};
pub use hr::{DEFAULT_HR_OWNS, Owners};
pub use patch_users::patch_users;
pub use scim::{outcome_of, pb_error};

/// What a batch needs to know while applying.
#[derive(Debug, Clone, Copy)]
pub struct Ctx<'a> {
    pub registry: &'a Registry,
    /// The transaction's time, in microseconds (what Postgres keeps).
    pub now: DateTime<Utc>,
    /// What HR owns of each tenant's users.
    pub owners: &'a Owners,
}

/// A command being applied: the protobuf as it came off the bus, and its
/// id as the UUID `partition::decode` checked it is — so the changes it
/// makes carry the id without parsing it again.
#[derive(Debug, Clone, Copy)]
pub struct Cmd<'a> {
    pub id: Uuid,
    pub wire: &'a Command,
}

/// The effect of one command: the answer, and the change to record (its
/// sequence is assigned when the batch commits).
#[derive(Debug, Clone)]
pub struct Applied {
    pub result: CommandResult,
    pub change: Option<Change>,
    /// Changes the command made to other resources (the groups a deleted
    /// member leaves), after `change`.
    pub others: Vec<Change>,
}

impl Applied {
    pub(crate) fn refused(cmd: Cmd<'_>, e: ScimError) -> Applied {
        Applied {
            result: CommandResult {
                command_id: cmd.wire.id.clone(),
                outcome: outcome_of(&e) as i32,
                error: Some(pb_error(&e)),
                ..Default::default()
            },
            change: None,
            others: Vec::new(),
        }
    }
}

/// Why a command could not be applied — as opposed to refused, which is an
/// answer. Nothing of its batch is committed.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("broken invariant: {0}")]
    Broken(#[from] Broken),
}

/// Something the store wrote or built is not what it must be: a bug, or a
/// row changed behind the store's back. Applying again cannot help, so the
/// command is parked at once; no value is made up in its place (a made-up
/// change id would even defeat the change stream's deduplication).
#[derive(Debug, thiserror::Error)]
pub enum Broken {
    #[error("a stored version is negative ({0})")]
    Version(i64),
    #[error("the recorded result of command {id} does not decode: {reason}")]
    Record { id: Uuid, reason: String },
    #[error("no change sequence was reserved for tenant {0}")]
    Unnumbered(String),
    #[error("the change sequence {0} is negative")]
    Sequence(i64),
    #[error("the registry has no resource type {0}")]
    ResourceType(String),
    #[error("a resource does not serialise: {0}")]
    Encode(String),
}

/// A stored version as the events carry it.
pub(crate) fn version(v: i64) -> Result<u64, Broken> {
    u64::try_from(v).map_err(|_| Broken::Version(v))
}

/// A resource as the bytes a result or a change carries.
fn encode(resource: &Value) -> Result<Vec<u8>, Broken> {
    serde_json::to_vec(resource).map_err(|e| Broken::Encode(e.to_string()))
}

/// The outcome of a step that may refuse the command.
type Step<T> = Result<Result<T, ScimError>, ApplyError>;

/// Applies `cmd`; see the module docs for what is an error.
pub async fn apply(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
) -> Result<Applied, ApplyError> {
    let refused = |e| Ok(Applied::refused(cmd, e));
    if cmd.wire.operation == command::Operation::HrEvent as i32 {
        return hr::apply(conn, ctx, cmd).await;
    }
    let Some(rt) = ctx.registry.resource_type(&cmd.wire.resource_type) else {
        return refused(ScimError::invalid_value(format!(
            "unknown resource type \"{}\"",
            cmd.wire.resource_type
        )));
    };
    let Ok(id) = Uuid::parse_str(&cmd.wire.resource_id) else {
        return refused(ScimError::not_found(format!(
            "{} {} not found",
            rt.name, cmd.wire.resource_id
        )));
    };
    let step = match command::Operation::try_from(cmd.wire.operation) {
        Ok(command::Operation::Create) => create::create(conn, ctx, cmd, rt, id).await?,
        Ok(command::Operation::Replace) => replace::replace(conn, ctx, cmd, rt, id).await?,
        Ok(command::Operation::Patch) => patch::patch(conn, ctx, cmd, rt, id).await?,
        Ok(command::Operation::Delete) => delete(conn, ctx, cmd, rt, id).await?,
        _ => Err(ScimError::invalid_value(format!(
            "operation {} is not applied by the store",
            cmd.wire.operation
        ))),
    };
    match step {
        Ok(applied) => Ok(applied),
        Err(e) => refused(e),
    }
}

/// Parses the JSON payload of a command.
fn body(cmd: Cmd<'_>) -> Result<Value, ScimError> {
    serde_json::from_slice(&cmd.wire.payload)
        .map_err(|e| ScimError::invalid_syntax(format!("the body is not valid JSON: {e}")))
}

/// Reads and locks the resource a command targets, checking If-Match.
async fn locked(conn: &mut PgConnection, cmd: Cmd<'_>, rt: &ResourceType, id: Uuid) -> Step<Row> {
    let row = resources::lock(conn, &cmd.wire.tenant, &rt.name, id).await?;
    Ok(matched(cmd, rt, id, row)?)
}

/// The resource a command targets, as read (and locked), if it is there
/// and matches the command's If-Match.
fn matched(
    cmd: Cmd<'_>,
    rt: &ResourceType,
    id: Uuid,
    row: Option<Row>,
) -> Result<Result<Row, ScimError>, Broken> {
    let current = match &row {
        Some(r) => Some(scimbus_scim::Version(version(r.version)?)),
        None => None,
    };
    let if_match = (!cmd.wire.if_match.is_empty()).then_some(cmd.wire.if_match.as_str());
    if let Err(e) = scimbus_scim::version::check_if_match(if_match, current) {
        // A missing resource is a 404 whatever If-Match said.
        if row.is_some() {
            return Ok(Err(e));
        }
    }
    Ok(row.ok_or_else(|| ScimError::not_found(format!("{} {id} not found", rt.name))))
}

async fn delete(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    id: Uuid,
) -> Step<Applied> {
    let row = match locked(conn, cmd, rt, id).await? {
        Ok(row) => row,
        Err(e) => return Ok(Err(e)),
    };
    // The groups it was a member of change too: their members are part of
    // them, and targets and subscribers must hear of it.
    let groups = db_members::groups_of(&mut *conn, &cmd.wire.tenant, id).await?;
    let mut others = Vec::with_capacity(groups.len());
    for (gid, _) in groups {
        let group_rt = ctx
            .registry
            .resource_type("Group")
            .ok_or_else(|| Broken::ResourceType("Group".into()))?;
        let Some(group) = resources::lock(conn, &cmd.wire.tenant, "Group", gid).await? else {
            continue;
        };
        let touched = Row {
            version: group.version + 1,
            last_modified: ctx.now,
            ..group
        };
        resources::touch(conn, &cmd.wire.tenant, gid, touched.version, ctx.now).await?;
        others.push(Change {
            resource: encode(&render::resource(&touched, Relations::default()))?,
            changed_attributes: vec!["members".into()],
            members_removed: vec![id],
            ..change_for(
                ctx,
                cmd,
                group_rt,
                gid,
                Operation::MembershipChanged,
                version(touched.version)?,
            )
        });
    }
    resources::delete(conn, &cmd.wire.tenant, id).await?;
    let change = change_for(
        ctx,
        cmd,
        rt,
        id,
        Operation::Deleted,
        version(row.version + 1)?,
    );
    Ok(Ok(Applied {
        result: CommandResult {
            command_id: cmd.wire.id.clone(),
            outcome: command_result::Outcome::Applied as i32,
            version: change.version,
            ..Default::default()
        },
        change: Some(change),
        others,
    }))
}

/// A change of `cmd` to resource `id`, with no resource document, changed
/// attributes or members (the caller adds those it has).
fn change_for(
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    id: Uuid,
    operation: Operation,
    version: u64,
) -> Change {
    Change {
        id: Uuid::now_v7(),
        tenant: cmd.wire.tenant.clone(),
        resource_type: rt.name.clone(),
        resource_id: id,
        operation,
        version,
        resource: Vec::new(),
        changed_attributes: Vec::new(),
        command_id: cmd.id,
        source: cmd.wire.source.clone(),
        committed_at: ctx.now,
        members_added: Vec::new(),
        members_removed: Vec::new(),
    }
}

/// A write that stored a new version.
struct Written<'a> {
    row: &'a Row,
    /// What the client gets back.
    resource: &'a Value,
    operation: Operation,
    changed: Vec<String>,
    delta: members::Delta,
}

/// The answer and change of a write. The change carries the resource
/// without a group's members (`members_added` / `members_removed` say what
/// changed), so a huge group does not make a huge event.
fn written(
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    w: Written<'_>,
) -> Result<Applied, Broken> {
    let Written {
        row,
        resource,
        operation,
        changed,
        delta,
    } = w;
    let version = version(row.version)?;
    let bytes = encode(resource)?;
    let change_doc = if rt.name == "Group" {
        encode(&render::resource(row, Relations::default()))?
    } else {
        bytes.clone()
    };
    Ok(Applied {
        result: CommandResult {
            command_id: cmd.wire.id.clone(),
            outcome: command_result::Outcome::Applied as i32,
            resource: bytes,
            version,
            ..Default::default()
        },
        others: Vec::new(),
        change: Some(Change {
            resource: change_doc,
            changed_attributes: changed,
            members_added: delta.added,
            members_removed: delta.removed,
            ..change_for(ctx, cmd, rt, row.id, operation, version)
        }),
    })
}

/// A write that stored `row` in place of `before`.
struct Rewritten<'a> {
    before: &'a Row,
    row: &'a Row,
    /// The relations the client's resource carries.
    relations: Relations<'a>,
    changed: Vec<String>,
    delta: members::Delta,
}

/// The answer and change of a write that stored a new version: the
/// resource rendered with its relations, the change classified (updated,
/// activated, deactivated, membership) by what changed.
fn rewritten(
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    w: Rewritten<'_>,
) -> Result<Applied, Broken> {
    let resource = render::resource(w.row, w.relations);
    let operation = replace::classify(&w.before.doc.0, &w.row.doc.0, &w.changed);
    written(
        ctx,
        cmd,
        rt,
        Written {
            row: w.row,
            resource: &resource,
            operation,
            changed: w.changed,
            delta: w.delta,
        },
    )
}

/// The answer to a write that changed nothing: the resource as stored, no
/// change, no new version.
fn unchanged(cmd: Cmd<'_>, row: &Row, resource: &Value) -> Result<Applied, Broken> {
    Ok(Applied {
        result: CommandResult {
            command_id: cmd.wire.id.clone(),
            outcome: command_result::Outcome::Applied as i32,
            resource: encode(resource)?,
            version: version(row.version)?,
            ..Default::default()
        },
        change: None,
        others: Vec::new(),
    })
}

/// A user's groups, for the resource a write answers with.
async fn groups_of(
    conn: &mut PgConnection,
    tenant: &str,
    rt: &ResourceType,
    id: Uuid,
) -> sqlx::Result<Option<Vec<(Uuid, Option<String>)>>> {
    if rt.name == "User" {
        Ok(Some(db_members::groups_of(conn, tenant, id).await?))
    } else {
        Ok(None)
    }
}
