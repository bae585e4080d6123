//! A run of PATCHes of distinct users of one tenant (what an IdP's updates
//! are, most of the time), applied with one read and one write for the whole
//! run instead of four round trips each: the users are read and locked
//! together, with which of them HR manages and the groups of each, then
//! patched in memory, and their new versions written in one statement.
//!
//! What the general path ([`super::patch::patch`]) does differently is left
//! to it: a user HR manages (its attributes' precedence) is patched there.
//! A new userName is written at once, in its savepoint (it may be taken); no
//! other user of the run changes a unique key, so writing theirs last is
//! what writing them in order would have done.

use std::collections::HashMap;

use scimbus_db::hr::workers as hr_workers;
use scimbus_db::members as db_members;
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};
use scimbus_scim::ScimError;
use scimbus_scim::patch::{self, PatchRequest};
use scimbus_scim::resource::Leniency;
use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

use super::replace::store;
use super::{
    Applied, ApplyError, Broken, Cmd, Ctx, Rewritten, body, matched, members, rewritten, unchanged,
};

/// The lower-cased userName: the users' unique key.
fn user_name(doc: &Value) -> Option<String> {
    doc.get("userName")
        .and_then(Value::as_str)
        .map(str::to_lowercase)
}

/// Applies `run` (each command with its user's id; the ids distinct, the
/// tenant one), answering each in order.
pub async fn patch_users(
    conn: &mut PgConnection,
    ctx: Ctx<'_>,
    run: &[(Cmd<'_>, Uuid)],
) -> Result<Vec<Applied>, ApplyError> {
    let Some((first, _)) = run.first() else {
        return Ok(Vec::new());
    };
    let tenant = first.wire.tenant.as_str();
    let rt = ctx
        .registry
        .resource_type("User")
        .ok_or_else(|| Broken::ResourceType("User".into()))?;
    let ids: Vec<Uuid> = run.iter().map(|(_, id)| *id).collect();
    let mut rows: HashMap<Uuid, Row> = resources::lock_many(conn, tenant, &rt.name, &ids)
        .await?
        .into_iter()
        .map(|r| (r.id, r))
        .collect();
    let managed = hr_workers::managed(conn, tenant, &ids).await?;
    let mut groups = db_members::groups_of_many(&mut *conn, tenant, &ids).await?;
    let mut out = Vec::with_capacity(run.len());
    let mut last: Vec<Row> = Vec::new();
    for &(cmd, id) in run {
        if managed.contains(&id) {
            out.push(match super::patch::patch(conn, ctx, cmd, rt, id).await? {
                Ok(a) => a,
                Err(e) => Applied::refused(cmd, e),
            });
            continue;
        }
        let refused = |e: ScimError| Applied::refused(cmd, e);
        let existing = match matched(cmd, rt, id, rows.remove(&id))? {
            Ok(row) => row,
            Err(e) => {
                out.push(refused(e));
                continue;
            }
        };
        let patched = body(cmd)
            .and_then(|b| PatchRequest::parse(&b))
            .and_then(|r| patch::apply(ctx.registry, rt, &existing.doc.0, &r, Leniency::default()));
        let p = match patched {
            Ok(p) => p,
            Err(e) => {
                out.push(refused(e));
                continue;
            }
        };
        let doc = scimbus_scim::projection::strip_never(ctx.registry, rt, p.resource);
        let its_groups = groups.remove(&id).unwrap_or_default();
        let relations = Relations {
            members: None,
            groups: Some(&its_groups),
        };
        if p.changed.is_empty() {
            out.push(unchanged(
                cmd,
                &existing,
                &render::resource(&existing, relations),
            )?);
            continue;
        }
        let row = Row {
            version: existing.version + 1,
            last_modified: ctx.now,
            doc: sqlx::types::Json(doc),
            ..existing.clone()
        };
        if user_name(&existing.doc) == user_name(&row.doc) {
            last.push(row.clone());
        } else if let Err(e) = store(conn, tenant, rt, &existing, &row).await? {
            out.push(refused(e));
            continue;
        }
        out.push(rewritten(
            ctx,
            cmd,
            rt,
            Rewritten {
                before: &existing,
                row: &row,
                relations,
                changed: p.changed,
                delta: members::Delta::default(),
            },
        )?);
    }
    let last: Vec<&Row> = last.iter().collect();
    resources::update_many(conn, tenant, &last).await?;
    Ok(out)
}
