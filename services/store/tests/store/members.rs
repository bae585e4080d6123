//! Groups: members live in their own table, and the member operations IdPs
//! send touch only the members they name.

use scimbus_events::v1::{change, command, command_result::Outcome};
use serde_json::json;
use uuid::Uuid;

use crate::support::*;

async fn users(h: &Harness, n: usize) -> Vec<Uuid> {
    let mut ids = Vec::new();
    for i in 0..n {
        let (id, cmd) = create_user("acme", &format!("member{i}"));
        assert_eq!(h.send(&cmd).await.outcome, Outcome::Applied as i32);
        ids.push(id);
    }
    ids
}

fn member(id: Uuid) -> serde_json::Value {
    json!({"value": id.to_string(), "$ref": null})
}

#[tokio::test]
async fn group_members_are_added_and_removed_one_row_at_a_time() {
    let h = Harness::new(&["acme"]).await;
    let u = users(&h, 4).await;
    let g = Uuid::now_v7();
    let create = command(
        "acme",
        command::Operation::Create,
        "Group",
        g,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops", "members": [member(u[0]), member(u[1])]}),
    );
    let r = h.send(&create).await;
    assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    assert_eq!(resource(&r)["members"].as_array().unwrap().len(), 2);

    // Entra: add a list, remove a list by value; Okta: remove by filter.
    let r = h
        .send(&patch(
            "acme",
            "Group",
            g,
            json!([
                {"op": "Add", "path": "members", "value": [member(u[2]), member(u[3])]},
                {"op": "Remove", "path": "members", "value": [member(u[0])]},
                {"op": "remove", "path": format!("members[value eq \"{}\"]", u[1])},
            ]),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    assert_eq!(r.version, 2);
    let rows: Vec<Uuid> = sqlx::query_scalar(
        "select member_id from group_members where group_id = $1 order by member_id",
    )
    .bind(g)
    .fetch_all(&h.env.pool)
    .await
    .unwrap();
    let mut want = vec![u[2], u[3]];
    want.sort();
    assert_eq!(rows, want);

    let changes = h.changes(6).await;
    let last = changes.last().unwrap();
    assert_eq!(last.operation, change::Operation::MembershipChanged as i32);
    let mut added = last.members_added.clone();
    added.sort();
    let mut want_added = vec![u[2].to_string(), u[3].to_string()];
    want_added.sort();
    assert_eq!(added, want_added);
    assert_eq!(last.members_removed.len(), 2);
    assert_eq!(last.changed_attributes, vec!["members".to_string()]);
    // The change does not carry the member list.
    let doc: serde_json::Value = serde_json::from_slice(&last.resource).unwrap();
    assert!(doc.get("members").is_none());

    // A user's groups are derived from the table.
    let r = h
        .send(&patch(
            "acme",
            "User",
            u[2],
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        ))
        .await;
    assert_eq!(resource(&r)["groups"][0]["value"], g.to_string());
    assert_eq!(resource(&r)["groups"][0]["display"], "Ops");

    // An unknown member is refused and nothing changes.
    let r = h
        .send(&patch(
            "acme",
            "Group",
            g,
            json!([
                {"op": "add", "path": "members", "value": [member(u[0]), member(Uuid::now_v7())]},
            ]),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Invalid as i32);
    assert_eq!(r.error.unwrap().scim_type, "invalidValue");
    assert_eq!(h.count("select count(*) from group_members").await, 2);

    // A filter the fast path does not take still works.
    let r = h
        .send(&patch(
            "acme",
            "Group",
            g,
            json!([
                {"op": "remove", "path": "members[type eq \"User\"]"},
            ]),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    assert_eq!(h.count("select count(*) from group_members").await, 0);

    // Deleting a user takes it out of its groups.
    h.send(&patch(
        "acme",
        "Group",
        g,
        json!([{"op": "add", "path": "members", "value": [member(u[0])]}]),
    ))
    .await;
    h.send(&command(
        "acme",
        command::Operation::Delete,
        "User",
        u[0],
        json!(null),
    ))
    .await;
    assert_eq!(h.count("select count(*) from group_members").await, 0);
    h.teardown().await;
}

#[tokio::test]
async fn a_group_display_name_is_unique_per_tenant() {
    let h = Harness::new(&["acme"]).await;
    let body =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Sales"});
    let r = h
        .send(&command(
            "acme",
            command::Operation::Create,
            "Group",
            Uuid::now_v7(),
            body,
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Applied as i32);
    let body =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "SALES"});
    let r = h
        .send(&command(
            "acme",
            command::Operation::Create,
            "Group",
            Uuid::now_v7(),
            body,
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Conflict as i32);
    assert!(r.error.unwrap().detail.contains("displayName"));
    h.teardown().await;
}

// A deleted user leaves its groups: each of them gets a new version and a
// membership change naming the member removed, in the same transaction, so
// targets and subscribers that mirror groups hear of it.
#[tokio::test]
async fn deleting_a_member_changes_its_groups() {
    let h = Harness::new(&["acme"]).await;
    let u = users(&h, 2).await;
    let mut groups = Vec::new();
    for name in ["Ops", "Dev"] {
        let g = Uuid::now_v7();
        let r = h
            .send(&command(
                "acme",
                command::Operation::Create,
                "Group",
                g,
                json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": name, "members": [member(u[0]), member(u[1])]}),
            ))
            .await;
        assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
        groups.push(g);
    }
    let r = h
        .send(&command(
            "acme",
            command::Operation::Delete,
            "User",
            u[0],
            json!(null),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    // 2 user creates, 2 group creates, the delete, 2 membership changes.
    let changes = h.changes(7).await;
    assert_eq!(changes.len(), 7);
    let tail = &changes[4..];
    assert_eq!(tail[0].operation, change::Operation::Deleted as i32);
    assert_eq!(tail[0].resource_id, u[0].to_string());
    let mut touched: Vec<String> = Vec::new();
    for c in &tail[1..] {
        assert_eq!(c.operation, change::Operation::MembershipChanged as i32);
        assert_eq!(c.resource_type, "Group");
        assert_eq!(c.members_removed, vec![u[0].to_string()]);
        assert!(c.members_added.is_empty());
        assert_eq!(c.version, 2, "the group has a new version");
        // One transaction: consecutive sequence numbers after the delete.
        assert_eq!(c.sequence, tail[0].sequence + touched.len() as u64 + 1);
        touched.push(c.resource_id.clone());
    }
    touched.sort();
    let mut want: Vec<String> = groups.iter().map(Uuid::to_string).collect();
    want.sort();
    assert_eq!(touched, want);
    let left: i64 = h
        .count(
            "select count(*) from group_members where member_id not in (select id from resources)",
        )
        .await;
    assert_eq!(left, 0);
    h.teardown().await;
}
