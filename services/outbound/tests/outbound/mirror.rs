//! Whether a target holds exactly the scoped state of the tenant: every
//! user in scope there (same attributes, through its link), every user out
//! of scope absent or deactivated, every group with its in-scope members
//! translated to the target's ids, and nothing else (no duplicates).

use std::collections::{BTreeMap, BTreeSet};

use reqwest::Method;
use serde_json::Value;

use crate::fake_target::FakeTarget;
use crate::scim2_server::Scim2Server;
use crate::support::Hub;

/// A target whose contents a test can read.
pub enum Remote<'a> {
    Fake(&'a FakeTarget),
    Scim2(&'a Scim2Server),
}

impl Remote<'_> {
    async fn resources(&self, endpoint: &str) -> BTreeMap<String, Value> {
        match self {
            Remote::Fake(f) => f.resources(endpoint),
            Remote::Scim2(s) => s.resources(endpoint).await,
        }
    }
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The attributes compared between our copy and the target's.
fn user_view(u: &Value) -> Value {
    serde_json::json!({
        "userName": u["userName"],
        "externalId": u["externalId"],
        "name": u["name"],
        "emails": u["emails"],
        "active": u.get("active").cloned().unwrap_or(Value::Bool(true)),
        "title": u.get("title").cloned().unwrap_or(Value::Null),
        "department": u[ENTERPRISE]["department"],
    })
}

/// `Ok` when `fake` mirrors the tenant for target `name`, where `in_scope`
/// says which of our users the target should have.
pub async fn mirrors(
    hub: &Hub,
    remote: Remote<'_>,
    name: &str,
    in_scope: impl Fn(&Value) -> bool,
) -> Result<(), String> {
    let (_, users) = hub.call(Method::GET, "/Users?count=1000", None).await;
    let (_, groups) = hub.call(Method::GET, "/Groups?count=1000", None).await;
    let remote_users = remote.resources("Users").await;
    let remote_groups = remote.resources("Groups").await;
    let mut remote_of: BTreeMap<String, String> = BTreeMap::new();
    let mut expected_remote_users = BTreeSet::new();
    for u in users["Resources"].as_array().cloned().unwrap_or_default() {
        let id = u["id"].as_str().unwrap_or_default().to_string();
        let link = hub.link(name, &id).await;
        if in_scope(&u) {
            let Some((remote, _, true)) = link else {
                return Err(format!(
                    "{} is in scope and not linked: {link:?}",
                    u["userName"]
                ));
            };
            let Some(theirs) = remote_users.get(&remote) else {
                return Err(format!(
                    "{} is linked to {remote}, which the target lacks",
                    u["userName"]
                ));
            };
            if user_view(&u) != user_view(theirs) {
                return Err(format!(
                    "{}: ours {} theirs {}",
                    u["userName"],
                    user_view(&u),
                    user_view(theirs)
                ));
            }
            remote_of.insert(id, remote.clone());
            expected_remote_users.insert(remote);
        } else if let Some((_, _, true)) = link {
            return Err(format!(
                "{} is out of scope but linked in scope",
                u["userName"]
            ));
        }
    }
    // Users deprovisioned by deactivation (out of scope, or deleted here)
    // stay there, inactive.
    let kept: Vec<String> = sqlx::query_scalar(
        "select remote_id from target_links
         where tenant = 'acme' and target = $1 and resource_type = 'User' and not in_scope",
    )
    .bind(name)
    .fetch_all(&hub.env.pool)
    .await
    .map_err(|e| e.to_string())?;
    for remote in kept {
        if let Some(theirs) = remote_users.get(&remote) {
            if theirs["active"] != Value::Bool(false) {
                return Err(format!(
                    "{} was deprovisioned and is still active there",
                    theirs["userName"]
                ));
            }
            expected_remote_users.insert(remote);
        }
    }
    let have: BTreeSet<String> = remote_users.keys().cloned().collect();
    if have != expected_remote_users {
        return Err(format!(
            "the target's users {have:?} are not the expected {expected_remote_users:?}"
        ));
    }
    let mut expected_groups = BTreeSet::new();
    for g in groups["Resources"].as_array().cloned().unwrap_or_default() {
        let id = g["id"].as_str().unwrap_or_default().to_string();
        let Some((remote, _, true)) = hub.link(name, &id).await else {
            return Err(format!("group {} is not linked", g["displayName"]));
        };
        let Some(theirs) = remote_groups.get(&remote) else {
            return Err(format!(
                "group {} is linked to {remote}, which the target lacks",
                g["displayName"]
            ));
        };
        if theirs["displayName"] != g["displayName"] {
            return Err(format!(
                "group {} is called {} there",
                g["displayName"], theirs["displayName"]
            ));
        }
        let ours: BTreeSet<String> = g["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["value"].as_str())
            .filter_map(|m| remote_of.get(m).cloned())
            .collect();
        let their_members: BTreeSet<String> = theirs["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|m| m["value"].as_str().map(str::to_string))
            .collect();
        if ours != their_members {
            return Err(format!(
                "group {}: members there {their_members:?}, expected {ours:?}",
                g["displayName"]
            ));
        }
        expected_groups.insert(remote);
    }
    let have: BTreeSet<String> = remote_groups.keys().cloned().collect();
    if have != expected_groups {
        return Err(format!(
            "the target's groups {have:?} are not the expected {expected_groups:?}"
        ));
    }
    Ok(())
}

pub fn department(u: &Value) -> &str {
    u[ENTERPRISE]["department"].as_str().unwrap_or_default()
}
