//! Each transition of a resource on a scoped target (docs/design.md invariant
//! 3): users entering the scope bring their group memberships, users
//! leaving it by deletion take them away, deactivated users come back with
//! the memberships they gained meanwhile.

use std::collections::BTreeSet;

use scimbus_runtime::Deprovision;
use serde_json::json;

use crate::fake_target::FakeTarget;
use crate::support::{Hub, eventually, target};

const SETTLE: std::time::Duration = std::time::Duration::from_secs(30);
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// The userNames of a group's members on the fake target (none when the
/// group is not there), dangling references shown as `?<id>`.
fn members_there(t: &FakeTarget, group: &str) -> Option<BTreeSet<String>> {
    let groups = t.resources("Groups");
    let (gid, _) = groups
        .iter()
        .find(|(_, g)| g["displayName"] == json!(group))?;
    let users = t.resources("Users");
    Some(
        t.members(gid)
            .into_iter()
            .map(|m| match users.get(&m) {
                Some(u) => u["userName"].as_str().unwrap_or("").to_string(),
                None => format!("?{m}"),
            })
            .collect(),
    )
}

fn user_there(t: &FakeTarget, user_name: &str) -> Option<serde_json::Value> {
    t.resources("Users")
        .into_values()
        .find(|u| u["userName"] == json!(user_name))
}

async fn set_department(hub: &Hub, id: &str, department: &str) {
    hub.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": department}]),
    )
    .await;
}

async fn wait_members(t: &FakeTarget, target: &str, group: &str, want: &[&str]) {
    let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
    eventually(
        &format!("{target}: {group} has exactly {want:?}"),
        SETTLE,
        || async {
            match members_there(t, group) {
                Some(m) if m == want => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await;
}

#[tokio::test]
async fn users_entering_and_leaving_scope_bring_and_take_their_memberships() {
    let mut hub = Hub::new().await;
    // The same scope on three targets: one deactivates who leaves it, the
    // others delete; one of those offers no PATCH (groups go whole).
    let keep = FakeTarget::start(None, true).await;
    let del = FakeTarget::start(None, true).await;
    let put = FakeTarget::start(None, false).await;
    let scope = format!("{ENTERPRISE}:department ne \"Contractors\"");
    let mut k = target("keep", &keep.url());
    k.filter = Some(scope.clone());
    let mut d = target("del", &del.url());
    d.filter = Some(scope.clone());
    d.deprovision = Deprovision::Delete;
    let mut p = target("put", &put.url());
    p.filter = Some(scope);
    p.deprovision = Deprovision::Delete;
    hub.start_outbound(vec![k, d, p]).await;

    // u1 starts out of scope, in two groups; u2 in scope.
    let u1 = hub.create_user("u1", "Contractors").await;
    let u2 = hub.create_user("u2", "Sales").await;
    hub.create_group("g1", &[&u1, &u2]).await;
    let g2 = hub.create_group("g2", &[&u2]).await;
    for (t, name) in [(&keep, "keep"), (&del, "del"), (&put, "put")] {
        wait_members(t, name, "g1", &["u2"]).await;
        wait_members(t, name, "g2", &["u2"]).await;
        assert!(user_there(t, "u1").is_none(), "{name}: u1 is out of scope");
    }

    // u1 enters the scope: created there, with its membership of g1.
    set_department(&hub, &u1, "Sales").await;
    for (t, name) in [(&keep, "keep"), (&del, "del"), (&put, "put")] {
        wait_members(t, name, "g1", &["u1", "u2"]).await;
    }

    // u1 leaves: deactivated on one (memberships kept), deleted on the
    // other after leaving its groups there (no dangling member).
    set_department(&hub, &u1, "Contractors").await;
    eventually("u1 deactivated on keep", SETTLE, || async {
        match user_there(&keep, "u1") {
            Some(u) if u["active"] == json!(false) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    for (t, name) in [(&del, "del"), (&put, "put")] {
        eventually(&format!("u1 deleted on {name}"), SETTLE, || async {
            match user_there(t, "u1") {
                None => Ok(()),
                Some(u) => Err(format!("{u}")),
            }
        })
        .await;
        wait_members(t, name, "g1", &["u2"]).await;
    }
    assert_eq!(
        members_there(&keep, "g1").unwrap(),
        BTreeSet::from(["u1".to_string(), "u2".to_string()]),
        "keep: a deactivated user keeps its memberships"
    );

    // While out of scope u1 joins g2 (not pushed: out of scope), then comes
    // back: active again on keep, created again on the others, in both
    // groups everywhere.
    hub.patch(
        &format!("/Groups/{g2}"),
        json!([{"op": "add", "path": "members", "value": [{"value": u1}]}]),
    )
    .await;
    set_department(&hub, &u1, "Engineering").await;
    for (t, name) in [(&keep, "keep"), (&del, "del"), (&put, "put")] {
        wait_members(t, name, "g1", &["u1", "u2"]).await;
        wait_members(t, name, "g2", &["u1", "u2"]).await;
        let u = user_there(t, "u1").unwrap();
        assert_eq!(u["active"], json!(true), "{name}: {u}");
    }
    hub.teardown().await;
}

#[tokio::test]
async fn members_entering_scope_right_after_their_group_was_created_join_it() {
    // The group's create and the member's entry go side by side (different
    // resources); whichever runs second must see what the first did.
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let mut cfg = target("t", &t.url());
    cfg.filter = Some(format!("{ENTERPRISE}:department ne \"Contractors\""));
    hub.start_outbound(vec![cfg]).await;
    let mut want = Vec::new();
    for i in 0..12 {
        let u = hub.create_user(&format!("r{i}"), "Contractors").await;
        hub.create_group(&format!("rg{i}"), &[&u]).await;
        set_department(&hub, &u, "Sales").await;
        want.push(i);
    }
    for i in want {
        wait_members(&t, "t", &format!("rg{i}"), &[&format!("r{i}")]).await;
    }
    hub.teardown().await;
}

#[tokio::test]
async fn a_member_placed_by_its_groups_push_still_joins_its_other_groups() {
    // One change at a time, in stream order: a group's change that finds
    // its new member unknown to the target places it; the member's own
    // change, next, must still bring its other memberships.
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let mut cfg = target("t", &t.url());
    cfg.filter = Some(format!("{ENTERPRISE}:department ne \"Contractors\""));
    cfg.deprovision = Deprovision::Delete;
    cfg.concurrency = 1;
    hub.start_outbound(vec![cfg]).await;
    let u1 = hub.create_user("u1", "Contractors").await;
    let u2 = hub.create_user("u2", "Sales").await;
    hub.create_group("g1", &[&u1, &u2]).await;
    let g2 = hub.create_group("g2", &[&u2]).await;
    wait_members(&t, "t", "g1", &["u2"]).await;
    wait_members(&t, "t", "g2", &["u2"]).await;
    // A slow change first, so that the next two are committed before the
    // worker gets to them: u1 joins g2, then enters the scope.
    t.fail(
        Some(reqwest::Method::PATCH),
        "/Users/",
        crate::fake_target::Fault::Slow(std::time::Duration::from_millis(1500)),
    );
    hub.patch(
        &format!("/Users/{u2}"),
        json!([{"op": "replace", "path": "title", "value": "slow"}]),
    )
    .await;
    hub.patch(
        &format!("/Groups/{g2}"),
        json!([{"op": "add", "path": "members", "value": [{"value": u1}]}]),
    )
    .await;
    set_department(&hub, &u1, "Sales").await;
    wait_members(&t, "t", "g2", &["u1", "u2"]).await;
    wait_members(&t, "t", "g1", &["u1", "u2"]).await;
    hub.teardown().await;
}
