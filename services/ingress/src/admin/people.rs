//! `/admin/v1/tenants/{tenant}/resources`: a person or group found by what
//! an operator knows of it, and where it is provisioned.
//!
//! ```text
//! GET /admin/v1/tenants/{tenant}/resources?q=X &count=N (1 to 100, default 20)
//!     {"resources": [{"id", "resourceType", "userName", "displayName", "externalId",
//!                     "emails", "active", "version", "lastModified"}, …]}
//! GET /admin/v1/tenants/{tenant}/resources/{id}
//!     {"resource": SCIM JSON as stored (a group without its members) | null,
//!      "resourceType",
//!      deleted here: "deleted": {"seq", "version", "committedAt"} | null,
//!                    "lastStored": the resource as its last change left it | null,
//!      "memberCount": n, "memberCountCapped": bool (groups: counted up to 100 000),
//!      "targets": [{"target", "takes": bool, "filter": text | null,
//!                   "inScopeNow": bool | null, "remoteId", "pushedVersion",
//!                   "pushedAt", "inScopeWhenPushed", "outcome", "parked": [...]}, …],
//!      "changes": [{"seq", "operation", "version", "committedAt", "attributes",
//!                   "source", "client"}, …newest 20]}
//! ```
//!
//! `q` is matched against the id, userName, emails, externalId and
//! displayName (exactly; case-insensitive but for the id and externalId).
//! A target's `outcome` is `parked` (a change of the resource waits for an
//! operator; `parked` lists them), `pushed` (it holds the version we hold),
//! `behind` (it holds an older version: the newer one is on its way),
//! `not in scope` (nothing pushed, and the filter does not take it now),
//! `not taken` (the target does not take this type) or `not pushed`.
//! A resource deleted here is still shown while a target holds it, a
//! change of it is parked or its changes are kept: `behind` (the target
//! still holds it; the delete is on its way), `parked`, or `not held`.
//! HR events of a person and its audit trail are `hr-events?userId=` and
//! `audit?resourceId=`.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use scimbus_db::people::{self, Found, Held, ParkedFor};
use scimbus_events::Message;
use scimbus_events::v1::{Change, change::Operation, source::Kind};
use scimbus_scim::ScimError;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/tenants/{tenant}/resources", get(search))
        .route("/tenants/{tenant}/resources/{id}", get(show))
}

/// The most members counted for `memberCount`.
const MOST_COUNTED: i64 = 100_000;
/// The most recent changes shown.
const CHANGES_SHOWN: i64 = 20;

async fn tenant_known(state: &AppState, tenant: &str) -> ApiResult<()> {
    if scimbus_db::tenants::exists(&state.admin_db, tenant).await? {
        Ok(())
    } else {
        Err(ScimError::not_found(format!("no tenant {tenant}")).into())
    }
}

async fn search(
    State(state): State<AppState>,
    Path(tenant): Path<String>,
    RawQuery(query): RawQuery,
) -> ApiResult<Response> {
    let mut q = None;
    let mut count = 20;
    for (k, v) in super::query_pairs(query.as_deref())? {
        match k.as_str() {
            "q" if q.is_none() => q = Some(v),
            "count" => {
                count = v
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        ApiError::from(ScimError::invalid_value(format!(
                            "\"count\" must be a whole number from 1 to 100, not {v:?}"
                        )))
                    })?;
            }
            _ => {
                return Err(ScimError::invalid_value(format!(
                    "unknown or repeated parameter \"{k}\" (the parameters are q and count)"
                ))
                .into());
            }
        }
    }
    let q = q.map(|q| q.trim().to_string()).unwrap_or_default();
    if q.is_empty() || q.len() > 256 {
        return Err(ScimError::invalid_value(
            "\"q\" is what to look for: an id, userName, email, externalId or displayName (1 to 256 characters)",
        )
        .into());
    }
    tenant_known(&state, &tenant).await?;
    let found = people::search(&state.admin_db, &tenant, &q, count).await?;
    let list: Vec<Value> = found.iter().map(found_json).collect();
    Ok(Json(json!({"resources": list})).into_response())
}

fn found_json(f: &Found) -> Value {
    json!({
        "id": f.id.to_string(),
        "resourceType": f.resource_type,
        "userName": f.user_name,
        "displayName": f.display_name,
        "externalId": f.external_id,
        "emails": f.emails,
        "active": f.active,
        "version": f.version,
        "lastModified": scimbus_db::render::timestamp(f.last_modified),
    })
}

/// The targets of a tenant: those the configuration declares and those
/// that have run.
async fn targets_of(state: &AppState, tenant: &str) -> ApiResult<Vec<String>> {
    let ran = scimbus_db::links::targets_ran(&state.admin_db, tenant).await?;
    let ran = ran.iter().map(|n| (tenant, n.as_str()));
    let names = super::target_names(state, Some(tenant), ran);
    Ok(names.into_iter().map(|(_, n)| n).collect())
}

async fn show(
    State(state): State<AppState>,
    Path((tenant, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    tenant_known(&state, &tenant).await?;
    let not_found = || ApiError::from(ScimError::not_found(format!("no resource {id}")));
    let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let db = &state.admin_db;
    let row = scimbus_db::resources::find(db, &tenant, id).await?;
    let names = targets_of(&state, &tenant).await?;
    let held = people::held(db, &tenant, &names, id).await?;
    let parked = people::parked_for(db, &tenant, &names, id).await?;
    let changes: Vec<(i64, Option<Change>)> = people::changes_of(db, &tenant, id, CHANGES_SHOWN)
        .await?
        .into_iter()
        .map(|(seq, p)| (seq, Change::decode(p.as_slice()).ok()))
        .collect();
    let (mut out, resource_type) = match &row {
        Some(row) => (
            stored_view(db, &tenant, row).await?,
            Some(row.resource_type.clone()),
        ),
        // Deleted here, but a target may still hold it or have parked its
        // delete: the links, parked changes and changes of the id tell.
        None if held.is_empty() && parked.is_empty() && changes.is_empty() => {
            return Err(not_found());
        }
        None => {
            let rt = type_of(&changes, &held, &parked);
            (deleted_view(&changes), rt)
        }
    };
    out["resourceType"] = json!(resource_type);
    let resource_type = resource_type.unwrap_or_default();
    let targets: Vec<Value> = names
        .iter()
        .map(|name| {
            let cfg = super::configured(&state, &tenant, name);
            let of_target = |t: &str| t == name.as_str();
            let outcome = Outcome {
                held: held.iter().find(|h| of_target(&h.target)),
                parked: parked.iter().filter(|p| of_target(&p.target)).collect(),
            };
            target_view(
                &state,
                name,
                cfg,
                &resource_type,
                row.as_ref().map(|r| (r, &out["resource"])),
                outcome,
            )
        })
        .collect();
    let changes: Vec<Value> = changes
        .iter()
        .map(|(seq, c)| change_json(*seq, c.as_ref()))
        .collect();
    out["targets"] = json!(targets);
    out["changes"] = json!(changes);
    Ok(Json(out).into_response())
}

/// A stored resource: as stored (a user with its groups, a group with its
/// members counted, not listed).
async fn stored_view(
    db: &sqlx::PgPool,
    tenant: &str,
    row: &scimbus_db::resources::Row,
) -> ApiResult<Value> {
    let (groups, members) = if row.resource_type == "Group" {
        let n = people::member_count(db, tenant, row.id, MOST_COUNTED).await?;
        (None, Some(n))
    } else {
        let groups = scimbus_db::members::groups_of(db, tenant, row.id).await?;
        (Some(groups), None)
    };
    let resource = scimbus_db::render::resource(
        row,
        scimbus_db::render::Relations {
            members: None,
            groups: groups.as_deref(),
        },
    );
    let mut out = json!({"resource": resource});
    if let Some(n) = members {
        out["memberCount"] = json!(n);
        out["memberCountCapped"] = json!(n >= MOST_COUNTED);
    }
    Ok(out)
}

/// The changes that decoded, newest first, with their sequence.
fn decoded(changes: &[(i64, Option<Change>)]) -> impl Iterator<Item = (i64, &Change)> {
    changes
        .iter()
        .filter_map(|(seq, c)| Some((*seq, c.as_ref()?)))
}

/// The type of a resource deleted here, as its changes, links or parked
/// changes name it.
fn type_of(
    changes: &[(i64, Option<Change>)],
    held: &[Held],
    parked: &[ParkedFor],
) -> Option<String> {
    decoded(changes)
        .map(|(_, c)| c.resource_type.as_str())
        .chain(held.iter().map(|h| h.resource_type.as_str()))
        .chain(parked.iter().map(|p| p.resource_type.as_str()))
        .find(|t| !t.is_empty())
        .map(str::to_string)
}

/// A resource deleted here: `resource` is null, `deleted` the change that
/// deleted it (when it is among the changes kept), `lastStored` the
/// resource as its last change before that left it.
fn deleted_view(changes: &[(i64, Option<Change>)]) -> Value {
    let deletion = decoded(changes).find(|(_, c)| c.operation == Operation::Deleted as i32);
    let last_stored = decoded(changes)
        .find(|(_, c)| !c.resource.is_empty())
        .and_then(|(_, c)| serde_json::from_slice::<Value>(&c.resource).ok());
    json!({
        "resource": null,
        "deleted": deletion.map(|(seq, c)| json!({
            "seq": seq,
            "version": c.version,
            "committedAt": committed_at(c),
        })),
        "lastStored": last_stored,
    })
}

/// What a target holds of the resource and what of it waits.
struct Outcome<'a> {
    held: Option<&'a Held>,
    parked: Vec<&'a ParkedFor>,
}

/// One target's view of the resource (shape and outcomes in the module
/// docs); `stored` is `None` when the resource is deleted here.
fn target_view(
    state: &AppState,
    name: &str,
    cfg: Option<&scimbus_runtime::TargetConfig>,
    rt: &str,
    stored: Option<(&scimbus_db::resources::Row, &Value)>,
    Outcome { held, parked }: Outcome<'_>,
) -> Value {
    let takes = cfg
        .is_some_and(|c| c.resource_types.iter().any(|t| t == rt) && (rt != "Group" || c.groups));
    let filter = cfg.and_then(|c| c.filter.clone());
    // The filter as the outbound applies it: to the types whose attributes
    // it names; a filter that does not fit this type takes everything.
    let in_scope_now = stored.and_then(|(_, resource)| {
        cfg.map(|_| match &filter {
            None => true,
            Some(text) => scimbus_scim::filter::parse(text)
                .ok()
                .and_then(|f| {
                    let rt = state.registry.resource_type(rt)?;
                    scimbus_scim::filter::matches(&state.registry, rt, resource, &f).ok()
                })
                .unwrap_or(true),
        })
    });
    let outcome = match (stored, held) {
        _ if !parked.is_empty() => "parked",
        (Some((row, _)), Some(h)) if h.version >= row.version => "pushed",
        // Deleted here and still held there: the delete is on its way.
        (_, Some(_)) => "behind",
        (None, None) => "not held",
        _ if cfg.is_some() && !takes => "not taken",
        _ if in_scope_now == Some(false) => "not in scope",
        _ => "not pushed",
    };
    let parked: Vec<Value> = parked
        .iter()
        .map(|p| {
            json!({
                "seq": p.seq,
                "reason": p.reason,
                "attempts": p.attempts,
                "parkedAt": scimbus_db::render::timestamp(p.parked_at),
                "replayRequested": p.replay_requested,
            })
        })
        .collect();
    json!({
        "target": name,
        "configured": cfg.is_some(),
        "takes": takes,
        "filter": filter,
        "inScopeNow": in_scope_now,
        "remoteId": held.map(|h| h.remote_id.clone()),
        "pushedVersion": held.map(|h| h.version),
        "pushedAt": held.map(|h| scimbus_db::render::timestamp(h.updated_at)),
        "inScopeWhenPushed": held.map(|h| h.in_scope),
        "outcome": outcome,
        "parked": parked,
    })
}

fn committed_at(c: &Change) -> Option<String> {
    chrono::DateTime::from_timestamp_micros(c.committed_at_unix_micros)
        .map(scimbus_db::render::timestamp)
}

/// A stored change as the operator sees it (its resource left out).
fn change_json(seq: i64, c: Option<&Change>) -> Value {
    let Some(c) = c else {
        return json!({"seq": seq, "operation": "unreadable"});
    };
    let operation = match Operation::try_from(c.operation) {
        Ok(Operation::Created) => "created",
        Ok(Operation::Updated) => "updated",
        Ok(Operation::Deleted) => "deleted",
        Ok(Operation::Activated) => "activated",
        Ok(Operation::Deactivated) => "deactivated",
        Ok(Operation::MembershipChanged) => "membership changed",
        _ => "unknown",
    };
    let source = c.source.as_ref().map(|s| {
        (
            match Kind::try_from(s.kind) {
                Ok(Kind::Scim) => "scim",
                Ok(Kind::Hr) => "hr",
                Ok(Kind::Operator) => "operator",
                _ => "unknown",
            },
            s.client_id.clone(),
        )
    });
    let committed = committed_at(c);
    json!({
        "seq": seq,
        "operation": operation,
        "version": c.version,
        "committedAt": committed,
        "attributes": c.changed_attributes,
        "membersAdded": c.members_added.len(),
        "membersRemoved": c.members_removed.len(),
        "source": source.as_ref().map(|s| s.0),
        "client": source.map(|s| s.1),
    })
}
