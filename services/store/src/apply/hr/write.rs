//! The writes of an HR event: a user made, changed or deleted, with the
//! change targets and subscribers hear of.

use scimbus_db::hr::{EventRow, Worker};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};
use scimbus_scim::ResourceType;
use scimbus_scim::registry::ENTERPRISE_USER_SCHEMA;
use scimbus_scim::resource::{Intent, Leniency, normalize};
use serde_json::{Map, Value};
use sqlx::PgConnection;

use super::super::create::taken;
use super::super::replace::store;
use super::super::{
    ApplyError, Cmd, Ctx, Operation, Rewritten, Written, groups_of, rewritten, written,
};
use super::{Step, manager, nothing};

/// A user made by HR.
pub(super) async fn create(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    ev: &EventRow,
    mut doc: Value,
    detail: &str,
) -> Result<Step, ApplyError> {
    manager::drop_nulls(&mut doc);
    if let Some(o) = doc.as_object_mut() {
        o.insert("externalId".into(), Value::String(ev.employee_id.clone()));
        o.insert("schemas".into(), schemas(o));
    }
    let doc = match normalize(ctx.registry, rt, &doc, Intent::Create, Leniency::default()) {
        Ok(mut d) => {
            manager::keep_display_name(&doc, &mut d);
            d
        }
        Err(e) => return Ok(Step::Refused(e)),
    };
    let row = Row {
        id: ev.new_user_id,
        resource_type: rt.name.clone(),
        version: 1,
        created: ctx.now,
        last_modified: ctx.now,
        doc: sqlx::types::Json(doc),
    };
    if !resources::insert(conn, cmd.wire.tenant.as_str(), &row).await? {
        return Ok(Step::Refused(taken(rt, &row.doc)));
    }
    let resource = render::resource(
        &row,
        Relations {
            members: None,
            groups: Some(&[]),
        },
    );
    let changed =
        scimbus_scim::diff::changed_paths(ctx.registry, rt, &Value::Object(Map::new()), &row.doc);
    let applied = written(
        ctx,
        cmd,
        rt,
        Written {
            row: &row,
            resource: &resource,
            operation: Operation::Created,
            changed,
            delta: super::super::members::Delta::default(),
        },
    )?;
    Ok(Step::Done {
        applied: Box::new(applied),
        detail: format!("created the user: {detail}"),
        user_id: Some(row.id),
    })
}

/// The schemas a user with these attributes lists: the core schema, and
/// the enterprise extension when it has that extension's object.
pub(super) fn schemas(o: &Map<String, Value>) -> Value {
    let mut list = vec![Value::String(scimbus_scim::registry::USER_SCHEMA.into())];
    if o.keys()
        .any(|k| k.eq_ignore_ascii_case(ENTERPRISE_USER_SCHEMA))
    {
        list.push(Value::String(ENTERPRISE_USER_SCHEMA.into()));
    }
    Value::Array(list)
}

/// An existing user, changed.
pub(super) async fn update(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    existing: Row,
    mut doc: Value,
    detail: &str,
) -> Result<Step, ApplyError> {
    let tenant = cmd.wire.tenant.as_str();
    manager::drop_nulls(&mut doc);
    if let Some(o) = doc.as_object_mut() {
        let s = schemas(o);
        o.insert("schemas".into(), s);
    }
    let intent = Intent::Replace {
        existing: &existing.doc.0,
    };
    let doc = match normalize(ctx.registry, rt, &doc, intent, Leniency::default()) {
        Ok(mut d) => {
            manager::keep_display_name(&doc, &mut d);
            d
        }
        Err(e) => return Ok(Step::Refused(e)),
    };
    let changed = scimbus_scim::diff::changed_paths(ctx.registry, rt, &existing.doc.0, &doc);
    let user_id = Some(existing.id);
    if changed.is_empty() {
        let version = super::super::version(existing.version)?;
        return Ok(Step::Done {
            applied: Box::new(nothing(cmd, Some(version))),
            detail: format!("nothing changed: {detail}"),
            user_id,
        });
    }
    let row = Row {
        version: existing.version + 1,
        last_modified: ctx.now,
        doc: sqlx::types::Json(doc),
        ..existing.clone()
    };
    if let Err(e) = store(conn, tenant, rt, &existing, &row).await? {
        return Ok(Step::Refused(e));
    }
    let groups = groups_of(conn, tenant, rt, row.id).await?;
    let applied = rewritten(
        ctx,
        cmd,
        rt,
        Rewritten {
            before: &existing,
            row: &row,
            relations: Relations {
                members: None,
                groups: groups.as_deref(),
            },
            changed,
            delta: super::super::members::Delta::default(),
        },
    )?;
    Ok(Step::Done {
        applied: Box::new(applied),
        detail: detail.to_string(),
        user_id,
    })
}

/// The deletion of a user a termination's grace period ended for: only if
/// the user is still inactive (a rehire cancels it; this is the check for
/// a user re-activated some other way).
pub(super) async fn delete(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    worker: &mut Worker,
    user: Option<Row>,
) -> Result<Step, ApplyError> {
    let Some(row) = user else {
        return Ok(Step::Done {
            applied: Box::new(nothing(cmd, None)),
            detail: "the user was already deleted".into(),
            user_id: None,
        });
    };
    if row.doc.get("active").and_then(Value::as_bool) != Some(false) {
        return Ok(Step::Cancelled(format!(
            "the user {} is active again: not deleted",
            row.id
        )));
    }
    match super::super::delete(conn, ctx, cmd, rt, row.id).await? {
        Ok(applied) => {
            worker.user_id = None;
            Ok(Step::Done {
                applied: Box::new(applied),
                detail: "deleted the user at the end of the termination's grace period".into(),
                user_id: Some(row.id),
            })
        }
        Err(e) => Ok(Step::Refused(e)),
    }
}
