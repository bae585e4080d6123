//! Reconcile: read what a target holds (its Users and Groups, paged) and
//! compare it with the tenant through the links: *missing* (in scope here,
//! not there), *extra* (there, not ours), *different* (ours, but not as we
//! have it; a deprovisioned user still active there). A report only by
//! default; with apply, missing and different resources get their current
//! state pushed, and extra users are deprovisioned by the target's policy
//! (extra groups are deleted only under the delete policy, otherwise
//! reported).

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use scimbus_db::links::{self, Link, ReconcileCounts};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources;
use scimbus_runtime::Deprovision;
use serde_json::Value;
use uuid::Uuid;

use crate::client::PushError;
use crate::listing::read_all;
use crate::requests::outgoing;
use crate::sync::{count, millis};
use crate::target::{Target, db};

/// What a reconcile found (and, applied, fixed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReconcileReport {
    pub applied: bool,
    pub missing: u64,
    pub extra: u64,
    pub different: u64,
    pub fixed: u64,
    pub failures: u64,
    /// Examples, the first 20.
    pub details: Vec<String>,
    pub took: Duration,
}

impl ReconcileReport {
    fn note(&mut self, what: String) {
        if self.details.len() < 20 {
            self.details.push(what);
        }
    }

    /// Whether the target matched the tenant.
    pub fn clean(&self) -> bool {
        self.missing == 0 && self.extra == 0 && self.different == 0
    }
}

impl From<&ReconcileReport> for ReconcileCounts {
    fn from(r: &ReconcileReport) -> Self {
        ReconcileCounts {
            applied: r.applied,
            missing: count(r.missing),
            extra: count(r.extra),
            different: count(r.different),
            fixed: count(r.fixed),
            failures: count(r.failures),
            details: r.details.clone(),
            took_ms: millis(r.took),
            error: None,
        }
    }
}

/// The summary the status shows ([`ReconcileCounts`]'s).
impl fmt::Display for ReconcileReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        ReconcileCounts::from(self).fmt(f)
    }
}

/// Compares `target` with the tenant; with `apply`, corrects the drift.
pub async fn reconcile(target: &Target, apply: bool) -> Result<ReconcileReport, PushError> {
    let started = Instant::now();
    let mut report = ReconcileReport {
        applied: apply,
        ..ReconcileReport::default()
    };
    let all_links = links::all(&target.pool, target.key()).await.map_err(db)?;
    let by_remote: HashMap<(String, String), Link> = all_links
        .iter()
        .map(|l| ((l.resource_type.clone(), l.remote_id.clone()), l.clone()))
        .collect();
    let by_ours: HashMap<Uuid, Link> = all_links
        .iter()
        .map(|l| (l.resource_id, l.clone()))
        .collect();
    for rt_name in ["User", "Group"] {
        if !target.wants(rt_name) {
            continue;
        }
        let Some(rt) = target.registry.resource_type(rt_name) else {
            continue;
        };
        let remote = read_all(target, &rt.endpoint).await?;
        // Ours, against theirs.
        let mut seen: HashSet<Uuid> = HashSet::new();
        let mut after = None;
        loop {
            let rows = resources::page(&target.pool, &target.tenant, rt_name, after, 500)
                .await
                .map_err(db)?;
            let Some(last) = rows.last() else { break };
            after = Some(last.id);
            for row in rows {
                seen.insert(row.id);
                let resource = render::resource(&row, Relations::default());
                let link = by_ours.get(&row.id).cloned();
                let in_scope = target.in_scope(rt, &resource);
                let theirs = link.as_ref().and_then(|l| remote.get(&l.remote_id));
                let name = label(&resource);
                let (drift, fix) = match (in_scope, &link, theirs) {
                    (true, _, None) => {
                        report.missing += 1;
                        (
                            format!("missing: {rt_name} {} ({name})", row.id),
                            Fix::Push(None),
                        )
                    }
                    (true, Some(l), Some(t)) => {
                        let mut ours = target.body_of(rt, &resource)?;
                        if rt_name == "Group" {
                            ours = target_members(target, row.id, &by_ours, ours).await?;
                        }
                        let why = if l.in_scope {
                            differs(&ours, t)
                        } else {
                            Some("in scope here, deprovisioned there".into())
                        };
                        let Some(why) = why else { continue };
                        report.different += 1;
                        (
                            format!("different: {rt_name} {} ({name}): {why}", row.id),
                            Fix::Push(link.clone()),
                        )
                    }
                    (false, Some(l), Some(t)) if rt_name == "User" && active(t) => {
                        report.different += 1;
                        (
                            format!(
                                "different: {rt_name} {} ({name}) is out of scope and active there",
                                row.id
                            ),
                            Fix::Deprovision(l.clone(), t.clone()),
                        )
                    }
                    _ => continue,
                };
                report.note(drift);
                if !apply {
                    continue;
                }
                let fixed = match fix {
                    Fix::Push(l) => target.sync_resource(&row, l).await.map(|_| ()),
                    Fix::Deprovision(l, t) => {
                        async {
                            remove_extra(target, rt, &l.remote_id, &t).await?;
                            let kept = Link {
                                in_scope: false,
                                ..l
                            };
                            links::put(&target.links_pool, target.key(), &kept)
                                .await
                                .map_err(db)
                        }
                        .await
                    }
                };
                match fixed {
                    Ok(()) => report.fixed += 1,
                    Err(e) => {
                        report.failures += 1;
                        report.note(format!("could not fix {}: {e}", row.id));
                    }
                }
            }
        }
        // Theirs that are not (or no longer) ours.
        for (id, theirs) in &remote {
            let drift = match by_remote.get(&(rt_name.to_string(), id.clone())) {
                // Ours: compared above.
                Some(l) if l.in_scope => continue,
                // Deprovisioned by deactivation: fine while inactive. If
                // ours still exists, an active one was counted above.
                Some(l) if !active(theirs) || seen.contains(&l.resource_id) => continue,
                Some(l) => {
                    report.different += 1;
                    format!(
                        "different: {rt_name} {} ({}) was deleted here and is active there",
                        l.resource_id,
                        label(theirs)
                    )
                }
                // Not ours; an inactive extra user is harmless under the
                // deactivate policy.
                None if rt_name == "User"
                    && target.cfg.deprovision == Deprovision::Deactivate
                    && !active(theirs) =>
                {
                    continue;
                }
                None => {
                    report.extra += 1;
                    format!("extra: {rt_name} {id} ({}) is not ours", label(theirs))
                }
            };
            report.note(drift);
            if apply {
                match remove_extra(target, rt, id, theirs).await {
                    Ok(true) => report.fixed += 1,
                    Ok(false) => {}
                    Err(e) => {
                        report.failures += 1;
                        report.note(format!("could not deprovision {id}: {e}"));
                    }
                }
            }
        }
    }
    report.took = started.elapsed();
    Ok(report)
}

/// How a drift of one of ours is corrected.
enum Fix {
    /// Its current state pushed (through its link, if the copy is there).
    Push(Option<Link>),
    /// The copy there deprovisioned by the target's policy.
    Deprovision(Link, Value),
}

/// A group as we would send it, with its members translated to the
/// target's ids (those it has).
async fn target_members(
    target: &Target,
    id: Uuid,
    by_ours: &HashMap<Uuid, Link>,
    mut body: Value,
) -> Result<Value, PushError> {
    let members = scimbus_db::members::list(&target.pool, &target.tenant, id)
        .await
        .map_err(db)?;
    let list: Vec<Value> = members
        .iter()
        .filter_map(|(m, _)| by_ours.get(m).filter(|l| l.in_scope))
        .map(|l| serde_json::json!({"value": l.remote_id}))
        .collect();
    if let Some(o) = body.as_object_mut() {
        o.insert("members".into(), Value::Array(list));
    }
    Ok(body)
}

/// Why the target's copy differs from ours: the first attribute we send
/// whose value is not the same there (multi-valued attributes compared as
/// sets; for members only their values).
fn differs(ours: &Value, theirs: &Value) -> Option<String> {
    for (k, v) in ours.as_object().into_iter().flatten() {
        if k == "schemas" {
            continue;
        }
        let t = theirs.get(k).unwrap_or(&Value::Null);
        let same = match (k.as_str(), v, t) {
            ("members", Value::Array(a), t) => {
                let mut x: Vec<&str> = a.iter().filter_map(|m| m["value"].as_str()).collect();
                let mut y: Vec<&str> = t
                    .as_array()
                    .map(|l| l.iter().filter_map(|m| m["value"].as_str()).collect())
                    .unwrap_or_default();
                x.sort_unstable();
                y.sort_unstable();
                x == y
            }
            (_, Value::Array(a), Value::Array(b)) => {
                a.len() == b.len() && a.iter().all(|e| b.iter().any(|f| subset(e, f)))
            }
            _ => subset(v, t),
        };
        if !same {
            return Some(format!("{k} is {t} there, {v} here"));
        }
    }
    None
}

/// Whether everything `a` says, `b` says too (`b` may carry more: the
/// target's defaults).
fn subset(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => x
            .iter()
            .all(|(k, v)| y.get(k).is_some_and(|w| subset(v, w)) || v.is_null()),
        (Value::String(x), Value::String(y)) => x == y,
        _ => a == b,
    }
}

fn active(resource: &Value) -> bool {
    resource
        .get("active")
        .and_then(Value::as_bool)
        .unwrap_or(true)
}

fn label(resource: &Value) -> String {
    resource
        .get("userName")
        .or_else(|| resource.get("displayName"))
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// Deprovisions an object the target has that is not ours: users by the
/// target's policy, groups only under the delete policy. Whether it acted.
async fn remove_extra(
    target: &Target,
    rt: &scimbus_scim::ResourceType,
    id: &str,
    theirs: &Value,
) -> Result<bool, PushError> {
    let path = format!("{}/{id}", rt.endpoint);
    let a = match (rt.name.as_str(), target.cfg.deprovision) {
        (_, Deprovision::Delete) => target.client.send(Method::DELETE, &path, None).await?,
        ("User", Deprovision::Deactivate) if target.use_patch() => {
            let body = serde_json::json!({
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                "Operations": [{"op": "replace", "path": "active", "value": false}]
            });
            target
                .client
                .send(Method::PATCH, &path, Some(&body))
                .await?
        }
        ("User", Deprovision::Deactivate) => {
            let mut body = outgoing(theirs);
            if let Some(o) = body.as_object_mut() {
                o.insert("active".into(), Value::Bool(false));
            }
            target.client.send(Method::PUT, &path, Some(&body)).await?
        }
        _ => return Ok(false),
    };
    if a.ok() || a.status == StatusCode::NOT_FOUND {
        Ok(true)
    } else {
        Err(a.into_error("deprovisioning an extra object", None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use serde_json::json;

    #[test]
    fn differences_ignore_order_and_target_defaults() {
        let ours = json!({"userName": "a", "emails": [{"value": "x"}, {"value": "y"}],
            "name": {"givenName": "A"}, "members": [{"value": "1"}, {"value": "2"}]});
        let theirs = json!({"userName": "a", "id": "9",
            "emails": [{"value": "y", "primary": false}, {"value": "x"}],
            "name": {"givenName": "A", "formatted": "A"},
            "members": [{"value": "2", "$ref": "u/2"}, {"value": "1"}]});
        assert_eq!(differs(&ours, &theirs), None);
        let drifted = json!({"userName": "a", "emails": [{"value": "x"}],
            "name": {"givenName": "A"}, "members": [{"value": "1"}, {"value": "2"}]});
        assert!(differs(&ours, &drifted).unwrap().starts_with("emails"));
        let renamed = json!({"userName": "b"});
        assert!(differs(&ours, &renamed).unwrap().starts_with("userName"));
    }
}
