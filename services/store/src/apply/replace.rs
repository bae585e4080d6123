//! PUT: a new version of a whole resource; and what PUT and PATCH share:
//! writing the new row under the unique keys, classifying the change.

use std::collections::HashSet;

use scimbus_db::members::{self as db_members, Member};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};
use scimbus_scim::ResourceType;
use scimbus_scim::resource::{Intent, Leniency, normalize};
use serde_json::Value;
use sqlx::{Connection, PgConnection};
use uuid::Uuid;

use super::create::taken;
use super::{
    Applied, Cmd, Ctx, Operation, Rewritten, Step, body, groups_of, locked, members, rewritten,
    unchanged,
};

pub async fn replace(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    id: Uuid,
) -> Step<Applied> {
    let existing = match locked(conn, cmd, rt, id).await? {
        Ok(row) => row,
        Err(e) => return Ok(Err(e)),
    };
    let intent = Intent::Replace {
        existing: &existing.doc.0,
    };
    let mut doc = match body(cmd)
        .and_then(|b| normalize(ctx.registry, rt, &b, intent, Leniency::default()))
    {
        Ok(doc) => doc,
        Err(e) => return Ok(Err(e)),
    };
    let is_group = rt.name == "Group";
    // A never-returned attribute written (`password`) is a change of it, as
    // a PATCH of it is: a new version, the attribute named among those that
    // changed (its value is not kept, so no comparison can tell).
    let stripped = scimbus_scim::projection::strip_never(ctx.registry, rt, doc.clone());
    let secrets: Vec<String> = doc
        .as_object()
        .into_iter()
        .flat_map(|o| o.keys())
        .filter(|k| stripped.get(k.as_str()).is_none())
        .cloned()
        .collect();
    doc = stripped;
    let ids = match members::take(&mut doc) {
        Ok(ids) => ids,
        Err(e) => return Ok(Err(e)),
    };
    // PUT replaces the member list too: the members not named go.
    let (wanted, current) = if is_group {
        let wanted = match members::resolve(conn, &cmd.wire.tenant, id, &ids).await? {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        (
            wanted,
            db_members::list(&mut *conn, &cmd.wire.tenant, id).await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let current_ids: HashSet<Uuid> = current.iter().map(|m| m.0).collect();
    let wanted_ids: HashSet<Uuid> = wanted.iter().map(|m| m.0).collect();
    let to_add: Vec<Member> = wanted
        .iter()
        .filter(|m| !current_ids.contains(&m.0))
        .cloned()
        .collect();
    let to_remove: Vec<Uuid> = current
        .iter()
        .map(|m| m.0)
        .filter(|i| !wanted_ids.contains(i))
        .collect();

    if !is_group {
        super::hr::guard(conn, ctx, &cmd.wire.tenant, id, &existing.doc.0, &mut doc).await?;
    }
    let mut changed = scimbus_scim::diff::changed_paths(ctx.registry, rt, &existing.doc.0, &doc);
    changed.extend(secrets);
    let groups = groups_of(conn, &cmd.wire.tenant, rt, id).await?;
    let relations = |members: &[Member]| -> Vec<Member> {
        // Members in the order the client gave them.
        ids.iter()
            .filter_map(|i| members.iter().find(|m| m.0 == *i).cloned())
            .collect()
    };
    let ordered = relations(&wanted);
    if changed.is_empty() && to_add.is_empty() && to_remove.is_empty() {
        let resource = render::resource(
            &existing,
            Relations {
                members: is_group.then_some(ordered.as_slice()),
                groups: groups.as_deref(),
            },
        );
        return Ok(Ok(unchanged(cmd, &existing, &resource)?));
    }
    let row = Row {
        version: existing.version + 1,
        last_modified: ctx.now,
        doc: sqlx::types::Json(doc),
        ..existing.clone()
    };
    if let Err(e) = store(conn, &cmd.wire.tenant, rt, &existing, &row).await? {
        return Ok(Err(e));
    }
    let delta = members::Delta {
        added: db_members::add(conn, &cmd.wire.tenant, id, &to_add).await?,
        removed: db_members::remove(conn, &cmd.wire.tenant, id, &to_remove).await?,
    };
    if !delta.is_empty() {
        changed.push("members".into());
    }
    Ok(Ok(rewritten(
        ctx,
        cmd,
        rt,
        Rewritten {
            before: &existing,
            row: &row,
            relations: Relations {
                members: is_group.then_some(ordered.as_slice()),
                groups: groups.as_deref(),
            },
            changed,
            delta,
        },
    )?))
}

/// Writes the new version of a row. When a unique key (lower(userName), a
/// group's lower(displayName)) changes, the update runs under a savepoint so
/// that a clash answers 409 instead of aborting the whole batch.
pub async fn store(
    conn: &mut PgConnection,
    tenant: &str,
    rt: &ResourceType,
    before: &Row,
    after: &Row,
) -> Step<()> {
    let key = |r: &Row| {
        let k = resources::unique_attribute(&rt.name)?;
        r.doc.get(k).and_then(Value::as_str).map(str::to_lowercase)
    };
    if key(before) == key(after) {
        resources::update(conn, tenant, after).await?;
        return Ok(Ok(()));
    }
    let mut savepoint = conn.begin().await?;
    match resources::update(&mut savepoint, tenant, after).await {
        Ok(()) => {
            savepoint.commit().await?;
            Ok(Ok(()))
        }
        Err(e) if resources::is_unique_violation(&e) => {
            savepoint.rollback().await?;
            Ok(Err(taken(rt, &after.doc)))
        }
        Err(e) => Err(e.into()),
    }
}

/// What kind of change a write made: an `active` flip says activated or
/// deactivated, a change of members alone says membership changed.
pub fn classify(before: &Value, after: &Value, changed: &[String]) -> Operation {
    let active = |d: &Value| d.get("active").and_then(Value::as_bool);
    if changed.iter().any(|c| c == "active") {
        match (active(before), active(after)) {
            (Some(true), Some(false)) | (None, Some(false)) => return Operation::Deactivated,
            (Some(false) | None, Some(true)) => return Operation::Activated,
            _ => {}
        }
    }
    if changed.iter().all(|c| c == "members") && !changed.is_empty() {
        return Operation::MembershipChanged;
    }
    Operation::Updated
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn changes_are_classified() {
        let on = json!({"active": true});
        let off = json!({"active": false});
        let none = json!({});
        let c = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            classify(&on, &off, &c(&["active", "title"])),
            Operation::Deactivated
        );
        assert_eq!(classify(&off, &on, &c(&["active"])), Operation::Activated);
        assert_eq!(
            classify(&none, &off, &c(&["active"])),
            Operation::Deactivated
        );
        assert_eq!(classify(&on, &none, &c(&["active"])), Operation::Updated);
        assert_eq!(
            classify(&none, &none, &c(&["members"])),
            Operation::MembershipChanged
        );
        assert_eq!(
            classify(&none, &none, &c(&["members", "displayName"])),
            Operation::Updated
        );
    }
}
