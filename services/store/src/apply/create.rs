//! POST: a new User or Group.

use scimbus_db::members as db_members;
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use scimbus_scim::{ResourceType, ScimError};
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{Applied, Broken, Cmd, Ctx, Operation, Step, Written, body, members, written};

pub async fn create(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    id: Uuid,
) -> Step<Applied> {
    let (row, ids) = match validate(ctx, cmd, rt, id) {
        Ok(v) => v,
        Err(e) => return Ok(Err(e)),
    };
    let found = match members::resolve(conn, &cmd.wire.tenant, id, &ids).await? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    if !resources::insert(conn, &cmd.wire.tenant, &row).await? {
        return Ok(Err(taken(rt, &row.doc)));
    }
    let added = db_members::add(conn, &cmd.wire.tenant, id, &found).await?;
    // Members in the order the client gave them.
    let ordered: Vec<_> = ids
        .iter()
        .filter_map(|i| found.iter().find(|m| m.0 == *i).cloned())
        .collect();
    Ok(Ok(finish_inserted(ctx, cmd, rt, &row, &ordered, added)?))
}

/// Checks a create and builds its row, without touching the database;
/// also the ids of the members it names (checked later).
fn validate(
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    id: Uuid,
) -> Result<(Row, Vec<Uuid>), ScimError> {
    let doc = body(cmd)
        .and_then(|b| normalize(ctx.registry, rt, &b, Intent::Create, Leniency::default()))?;
    // Passwords are not kept: scimbus does not authenticate users, and a
    // `returned: never` attribute is nothing a reader could ever get back.
    let mut doc = scimbus_scim::projection::strip_never(ctx.registry, rt, doc);
    let ids = members::take(&mut doc)?;
    let row = Row {
        id,
        resource_type: rt.name.clone(),
        version: 1,
        created: ctx.now,
        last_modified: ctx.now,
        doc: sqlx::types::Json(doc),
    };
    Ok((row, ids))
}

/// The answer and change of a create whose row (and members) went in.
fn finish_inserted(
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    row: &Row,
    members: &[db_members::Member],
    added: Vec<Uuid>,
) -> Result<Applied, Broken> {
    let is_group = rt.name == "Group";
    let resource = render::resource(
        row,
        Relations {
            members: is_group.then_some(members),
            groups: (!is_group).then_some(&[]),
        },
    );
    let mut changed = scimbus_scim::diff::changed_paths(
        ctx.registry,
        rt,
        &Value::Object(Default::default()),
        &row.doc,
    );
    if !added.is_empty() {
        changed.push("members".into());
    }
    written(
        ctx,
        cmd,
        rt,
        Written {
            row,
            resource: &resource,
            operation: Operation::Created,
            changed,
            delta: members::Delta {
                added,
                removed: Vec::new(),
            },
        },
    )
}

/// The 409 for a unique key that is taken.
pub fn taken(rt: &ResourceType, doc: &Value) -> ScimError {
    let (attr, key) = if rt.name == "Group" {
        ("displayName", "displayName")
    } else {
        ("userName", "userName")
    };
    match doc.get(key).and_then(Value::as_str) {
        Some(v) => ScimError::uniqueness(format!(
            "{attr} \"{v}\" is already taken by another {} of this tenant",
            rt.name
        )),
        None => ScimError::uniqueness(format!("the {} already exists", rt.name)),
    }
}

/// A create looked at before the batch writes: most need nothing from the
/// database but their insert, and those are inserted together.
#[derive(Debug)]
pub enum Prepared {
    /// Valid; the row to insert.
    Ready(Row),
    /// Invalid: the answer is this error.
    Refused(ScimError),
    /// Needs the database first (a group with members): apply it alone.
    Complex,
}

/// Validates a create without touching the database.
pub fn prepare(ctx: Ctx<'_>, cmd: Cmd<'_>) -> Prepared {
    let (Some(rt), Ok(id)) = (
        ctx.registry.resource_type(&cmd.wire.resource_type),
        Uuid::parse_str(&cmd.wire.resource_id),
    ) else {
        return Prepared::Complex;
    };
    match validate(ctx, cmd, rt, id) {
        Ok((row, ids)) if ids.is_empty() => Prepared::Ready(row),
        Ok(_) => Prepared::Complex,
        Err(e) => Prepared::Refused(e),
    }
}

/// The answer and change of a prepared create, once the batch insert said
/// whether its row went in.
pub fn finish(ctx: Ctx<'_>, cmd: Cmd<'_>, row: &Row, inserted: bool) -> Result<Applied, Broken> {
    // The row's type came from the registry in `prepare`.
    let rt = ctx
        .registry
        .resource_type(&row.resource_type)
        .ok_or_else(|| Broken::ResourceType(row.resource_type.clone()))?;
    if !inserted {
        return Ok(Applied::refused(cmd, taken(rt, &row.doc)));
    }
    finish_inserted(ctx, cmd, rt, row, &[], Vec::new())
}
