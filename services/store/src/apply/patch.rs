//! PATCH. Operations on a group's `members` in the shapes IdPs send (add a
//! list, remove a list, remove `members[value eq "…"]`, replace all) go
//! straight to the membership table, so adding one member to a 100 000-member
//! group costs what it costs for a 10-member one. Anything fancier on
//! `members` (a filter on `type`, a sub-attribute path) loads the members
//! and runs through the general PATCH engine.

use std::collections::HashSet;

use scimbus_db::members::{self as db_members, Member};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};
use scimbus_scim::filter::{CompValue, CompareOp, Filter};
use scimbus_scim::patch::{self, OpKind, PatchOp, PatchRequest};
use scimbus_scim::registry::GROUP_SCHEMA;
use scimbus_scim::resource::Leniency;
use scimbus_scim::{AttrPath, ResourceType, ScimError};
use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

use super::replace::store;
use super::{
    Applied, Cmd, Ctx, Rewritten, Step, body, groups_of, locked, members, rewritten, unchanged,
};

/// A change to a group's member list, applied to the table directly.
#[derive(Debug, Clone, PartialEq)]
enum MemberOp {
    Add(Vec<Uuid>),
    Remove(Vec<Uuid>),
    RemoveAll,
    Replace(Vec<Uuid>),
}

/// A PATCH split into document operations and member operations.
#[derive(Debug, Default)]
struct Plan {
    doc_ops: Vec<PatchOp>,
    member_ops: Vec<MemberOp>,
    /// Some operation needs the member list in the document.
    full: bool,
}

pub async fn patch(
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
    let request = match body(cmd).and_then(|b| PatchRequest::parse(&b)) {
        Ok(r) => r,
        Err(e) => return Ok(Err(e)),
    };
    let is_group = rt.name == "Group";
    let plan = if is_group {
        match split(&request) {
            Ok(plan) => plan,
            Err(e) => return Ok(Err(e)),
        }
    } else {
        Plan {
            doc_ops: request.operations.clone(),
            ..Plan::default()
        }
    };
    let (mut doc, mut changed, delta) = if plan.full {
        match with_members(conn, ctx, cmd, rt, &existing, &request).await? {
            Ok(r) => r,
            Err(e) => return Ok(Err(e)),
        }
    } else {
        let (doc, changed) = if plan.doc_ops.is_empty() {
            (existing.doc.0.clone(), Vec::new())
        } else {
            let req = PatchRequest {
                operations: plan.doc_ops,
            };
            match patch::apply(ctx.registry, rt, &existing.doc.0, &req, Leniency::default()) {
                Ok(p) => (
                    scimbus_scim::projection::strip_never(ctx.registry, rt, p.resource),
                    p.changed,
                ),
                Err(e) => return Ok(Err(e)),
            }
        };
        let delta = match member_ops(conn, cmd, id, &plan.member_ops).await? {
            Ok(d) => d,
            Err(e) => return Ok(Err(e)),
        };
        (doc, changed, delta)
    };
    if !is_group
        && super::hr::guard(conn, ctx, &cmd.wire.tenant, id, &existing.doc.0, &mut doc).await?
    {
        changed = scimbus_scim::diff::changed_paths(ctx.registry, rt, &existing.doc.0, &doc);
    }
    if !delta.is_empty() && !changed.iter().any(|c| c == "members") {
        changed.push("members".into());
    }
    let groups = groups_of(conn, &cmd.wire.tenant, rt, id).await?;
    // A group's members are not loaded for the answer (that is the point);
    // the ingress reads them if the client asked for them.
    let relations = Relations {
        members: None,
        groups: groups.as_deref(),
    };
    if changed.is_empty() {
        return Ok(Ok(unchanged(
            cmd,
            &existing,
            &render::resource(&existing, relations),
        )?));
    }
    let row = Row {
        version: existing.version + 1,
        last_modified: ctx.now,
        doc: sqlx::types::Json(doc),
        ..existing.clone()
    };
    if row.doc == existing.doc {
        resources::touch(conn, &cmd.wire.tenant, id, row.version, row.last_modified).await?;
    } else if let Err(e) = store(conn, &cmd.wire.tenant, rt, &existing, &row).await? {
        return Ok(Err(e));
    }
    Ok(Ok(rewritten(
        ctx,
        cmd,
        rt,
        Rewritten {
            before: &existing,
            row: &row,
            relations,
            changed,
            delta,
        },
    )?))
}

fn is_members(path: &AttrPath) -> bool {
    path.attr.eq_ignore_ascii_case("members")
        && path
            .uri
            .as_deref()
            .is_none_or(|u| u.eq_ignore_ascii_case(GROUP_SCHEMA))
}

/// Sorts a group PATCH's operations into member and document operations.
fn split(request: &PatchRequest) -> Result<Plan, ScimError> {
    let mut plan = Plan::default();
    for (i, op) in request.operations.iter().enumerate() {
        let at = |e: ScimError| e.at(format_args!("Operations[{i}]"));
        match &op.path {
            None => {
                // A value object with a `members` key (and maybe others).
                let Some(Value::Object(obj)) = &op.value else {
                    plan.doc_ops.push(op.clone());
                    continue;
                };
                let key = obj.keys().find(|k| {
                    AttrPath::parse(k).is_ok_and(|p| is_members(&p) && p.sub_attr.is_none())
                });
                let Some(key) = key.cloned() else {
                    plan.doc_ops.push(op.clone());
                    continue;
                };
                let ids = members::ids_of(&obj[&key], "members").map_err(at)?;
                plan.member_ops.push(match op.op {
                    OpKind::Replace => MemberOp::Replace(ids),
                    _ => MemberOp::Add(ids),
                });
                let rest: Map<String, Value> = obj
                    .iter()
                    .filter(|(k, _)| **k != key)
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                if !rest.is_empty() {
                    plan.doc_ops.push(PatchOp {
                        value: Some(Value::Object(rest)),
                        ..op.clone()
                    });
                }
            }
            Some(p) if is_members(&p.attr) => match member_op(op).map_err(at)? {
                Some(m) => plan.member_ops.push(m),
                None => plan.full = true,
            },
            Some(_) => plan.doc_ops.push(op.clone()),
        }
    }
    Ok(plan)
}

/// The table operation for an operation whose path is `members…`, if it
/// has one.
fn member_op(op: &PatchOp) -> Result<Option<MemberOp>, ScimError> {
    let Some(path) = &op.path else {
        return Ok(None);
    };
    if path.attr.sub_attr.is_some() || path.filter_sub.is_some() {
        return Ok(None);
    }
    let needs_value = || {
        op.value
            .as_ref()
            .ok_or_else(|| ScimError::invalid_value("\"value\" is required with add and replace"))
    };
    match (&path.filter, op.op) {
        (None, OpKind::Add) => Ok(Some(MemberOp::Add(members::ids_of(
            needs_value()?,
            "members",
        )?))),
        (None, OpKind::Replace) => Ok(Some(MemberOp::Replace(members::ids_of(
            needs_value()?,
            "members",
        )?))),
        (None, OpKind::Remove) => match &op.value {
            None | Some(Value::Null) => Ok(Some(MemberOp::RemoveAll)),
            Some(v) => Ok(Some(MemberOp::Remove(members::ids_of(v, "members")?))),
        },
        (Some(Filter::Compare(p, CompareOp::Eq, CompValue::Str(v))), OpKind::Remove)
            if p.uri.is_none() && p.sub_attr.is_none() && p.attr.eq_ignore_ascii_case("value") =>
        {
            // An id that is not a UUID names no member: nothing to remove.
            Ok(Some(MemberOp::Remove(
                Uuid::parse_str(v.trim()).into_iter().collect(),
            )))
        }
        _ => Ok(None),
    }
}

/// Applies member operations in order; returns the net change.
async fn member_ops(
    conn: &mut PgConnection,
    cmd: Cmd<'_>,
    group: Uuid,
    ops: &[MemberOp],
) -> Step<members::Delta> {
    // Check every named member exists before changing anything.
    let mut named: Vec<Uuid> = Vec::new();
    for op in ops {
        if let MemberOp::Add(ids) | MemberOp::Replace(ids) = op {
            named.extend(ids);
        }
    }
    named.sort_unstable();
    named.dedup();
    let known: Vec<Member> = match members::resolve(conn, &cmd.wire.tenant, group, &named).await? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let typed = |ids: &[Uuid]| -> Vec<Member> {
        ids.iter()
            .filter_map(|i| known.iter().find(|m| m.0 == *i).cloned())
            .collect()
    };
    let mut net = Net::default();
    for op in ops {
        match op {
            MemberOp::Add(ids) => {
                net.added(db_members::add(conn, &cmd.wire.tenant, group, &typed(ids)).await?)
            }
            MemberOp::Remove(ids) => {
                net.removed(db_members::remove(conn, &cmd.wire.tenant, group, ids).await?)
            }
            MemberOp::RemoveAll => {
                net.removed(db_members::remove_all(conn, &cmd.wire.tenant, group).await?)
            }
            MemberOp::Replace(ids) => {
                net.removed(db_members::remove_all(conn, &cmd.wire.tenant, group).await?);
                net.added(db_members::add(conn, &cmd.wire.tenant, group, &typed(ids)).await?);
            }
        }
    }
    Ok(Ok(net.delta))
}

/// The net effect of several member operations: a member removed and added
/// back is no change.
#[derive(Debug, Default)]
struct Net {
    delta: members::Delta,
}

impl Net {
    fn added(&mut self, ids: Vec<Uuid>) {
        for id in ids {
            if let Some(i) = self.delta.removed.iter().position(|r| *r == id) {
                self.delta.removed.swap_remove(i);
            } else {
                self.delta.added.push(id);
            }
        }
    }
    fn removed(&mut self, ids: Vec<Uuid>) {
        for id in ids {
            if let Some(i) = self.delta.added.iter().position(|r| *r == id) {
                self.delta.added.swap_remove(i);
            } else {
                self.delta.removed.push(id);
            }
        }
    }
}

/// The general path: the members go into the document, the whole request
/// runs through the PATCH engine, and the member list is written back as a
/// difference.
async fn with_members(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    cmd: Cmd<'_>,
    rt: &ResourceType,
    existing: &Row,
    request: &PatchRequest,
) -> Step<(Value, Vec<String>, members::Delta)> {
    let current = db_members::list(&mut *conn, &cmd.wire.tenant, existing.id).await?;
    let full = render::resource(
        &Row {
            doc: existing.doc.clone(),
            ..existing.clone()
        },
        Relations {
            members: Some(&current),
            groups: None,
        },
    );
    let mut before = existing.doc.0.clone();
    if let (Some(obj), Some(m)) = (before.as_object_mut(), full.get("members")) {
        obj.insert("members".into(), m.clone());
    }
    let patched = match patch::apply(ctx.registry, rt, &before, request, Leniency::default()) {
        Ok(p) => p,
        Err(e) => return Ok(Err(e)),
    };
    let mut doc = patched.resource;
    let ids = match members::take(&mut doc) {
        Ok(ids) => ids,
        Err(e) => return Ok(Err(e)),
    };
    let current_ids: HashSet<Uuid> = current.iter().map(|m| m.0).collect();
    let wanted: HashSet<Uuid> = ids.iter().copied().collect();
    let new: Vec<Uuid> = ids
        .iter()
        .copied()
        .filter(|i| !current_ids.contains(i))
        .collect();
    let found = match members::resolve(conn, &cmd.wire.tenant, existing.id, &new).await? {
        Ok(f) => f,
        Err(e) => return Ok(Err(e)),
    };
    let gone: Vec<Uuid> = current
        .iter()
        .map(|m| m.0)
        .filter(|i| !wanted.contains(i))
        .collect();
    let delta = members::Delta {
        added: db_members::add(conn, &cmd.wire.tenant, existing.id, &found).await?,
        removed: db_members::remove(conn, &cmd.wire.tenant, existing.id, &gone).await?,
    };
    let changed = patched
        .changed
        .into_iter()
        .filter(|c| c != "members")
        .collect();
    Ok(Ok((doc, changed, delta)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn plan(body: Value) -> Plan {
        split(&PatchRequest::parse(&body).unwrap()).unwrap()
    }

    #[test]
    fn member_operations_in_the_shapes_idps_send_go_to_the_table() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        // Entra: add a list; remove a list by value.
        let p = plan(json!({"Operations": [
            {"op": "Add", "path": "members", "value": [{"value": a.to_string()}]},
            {"op": "Remove", "path": "members", "value": [{"value": b.to_string()}]},
        ]}));
        assert!(!p.full);
        assert_eq!(
            p.member_ops,
            vec![MemberOp::Add(vec![a]), MemberOp::Remove(vec![b])]
        );
        // Okta: remove by filter; replace displayName and members without path.
        let p = plan(json!({"Operations": [
            {"op": "remove", "path": format!("members[value eq \"{a}\"]")},
            {"op": "replace", "value": {"displayName": "X", "members": [{"value": b.to_string()}]}},
        ]}));
        assert!(!p.full);
        assert_eq!(
            p.member_ops,
            vec![MemberOp::Remove(vec![a]), MemberOp::Replace(vec![b])]
        );
        assert_eq!(p.doc_ops.len(), 1);
        assert_eq!(p.doc_ops[0].value, Some(json!({"displayName": "X"})));
        // Remove all; URN-qualified path.
        let p = plan(json!({"Operations": [
            {"op": "remove", "path": "urn:ietf:params:scim:schemas:core:2.0:Group:members"},
        ]}));
        assert_eq!(p.member_ops, vec![MemberOp::RemoveAll]);
    }

    #[test]
    fn other_member_paths_take_the_general_path() {
        let p = plan(json!({"Operations": [
            {"op": "remove", "path": "members[type eq \"Group\"]"},
        ]}));
        assert!(p.full);
        let p = plan(json!({"Operations": [
            {"op": "replace", "path": "displayName", "value": "Y"},
        ]}));
        assert!(!p.full);
        assert!(p.member_ops.is_empty());
        assert_eq!(p.doc_ops.len(), 1);
    }

    #[test]
    fn add_without_value_is_refused() {
        let body = json!({"Operations": [{"op": "add", "path": "members"}]});
        let e = match PatchRequest::parse(&body) {
            Err(e) => e,
            Ok(r) => split(&r).unwrap_err(),
        };
        assert_eq!(e.status, 400);
    }

    #[test]
    fn net_member_changes() {
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let mut n = Net::default();
        n.added(vec![a, b]);
        n.removed(vec![a]);
        assert_eq!(n.delta.added, vec![b]);
        assert!(n.delta.removed.is_empty());
    }
}
