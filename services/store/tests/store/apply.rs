//! What each kind of command does to the rows, the answer and the change.

use scimbus_events::v1::{change, command, command_result::Outcome};
use serde_json::json;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn a_create_is_stored_answered_and_published() {
    let h = Harness::new(&["acme"]).await;
    let (id, cmd) = create_user("acme", "bjensen");
    let r = h.send(&cmd).await;
    assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    assert_eq!(r.command_id, cmd.id);
    assert_eq!(r.version, 1);
    assert!(!r.replayed);
    let res = resource(&r);
    assert_eq!(res["id"], id.to_string());
    assert_eq!(res["userName"], "bjensen");
    assert_eq!(res["meta"]["resourceType"], "User");
    assert_eq!(res["meta"]["version"], "W/\"1\"");
    assert_eq!(res["meta"]["created"], res["meta"]["lastModified"]);

    let (user_name, emails, version): (String, Vec<String>, i64) = sqlx::query_as(
        "select user_name, emails, version from resources where tenant = 'acme' and id = $1",
    )
    .bind(id)
    .fetch_one(&h.env.pool)
    .await
    .unwrap();
    assert_eq!((user_name.as_str(), version), ("bjensen", 1));
    assert_eq!(emails, vec!["bjensen@example.com"]);

    let changes = h.changes(1).await;
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(c.sequence, 1);
    assert_eq!(c.operation, change::Operation::Created as i32);
    assert_eq!(c.resource_id, id.to_string());
    assert_eq!(c.command_id, cmd.id);
    assert_eq!(c.version, 1);
    assert!(
        c.changed_attributes.contains(&"userName".to_string()),
        "{:?}",
        c.changed_attributes
    );
    // The Nats-Msg-Id of the change is the change id.
    let msgs = h.stream_messages(&h.env.subjects.change_stream()).await;
    let msg_id = msgs[0]
        .headers
        .get("Nats-Msg-Id")
        .unwrap()
        .as_str()
        .to_string();
    assert_eq!(msg_id, c.id);
    h.teardown().await;
}

#[tokio::test]
async fn a_taken_user_name_is_a_conflict_case_insensitively_and_per_tenant() {
    let h = Harness::new(&["acme", "other"]).await;
    assert_eq!(
        h.send(&create_user("acme", "BJensen").1).await.outcome,
        Outcome::Applied as i32
    );
    let r = h.send(&create_user("acme", "bjensen").1).await;
    assert_eq!(r.outcome, Outcome::Conflict as i32);
    let e = r.error.unwrap();
    assert_eq!((e.status, e.scim_type.as_str()), (409, "uniqueness"));
    assert!(e.detail.contains("bjensen"), "{}", e.detail);
    // Another tenant: no clash.
    assert_eq!(
        h.send(&create_user("other", "bjensen").1).await.outcome,
        Outcome::Applied as i32
    );
    // A rename onto a taken name is a conflict too, and leaves the row alone.
    let (id, cmd) = create_user("acme", "second");
    h.send(&cmd).await;
    let r = h
        .send(&patch(
            "acme",
            "User",
            id,
            json!([{"op": "replace", "path": "userName", "value": "BJENSEN"}]),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Conflict as i32, "{r:?}");
    let n: String = sqlx::query_scalar("select user_name from resources where id = $1")
        .bind(id)
        .fetch_one(&h.env.pool)
        .await
        .unwrap();
    assert_eq!(n, "second");
    // Only the three applied writes made changes.
    assert_eq!(h.count("select count(*) from changes").await, 3);
    h.teardown().await;
}

#[tokio::test]
async fn replace_patch_and_delete_bump_versions_and_honour_if_match() {
    let h = Harness::new(&["acme"]).await;
    let (id, cmd) = create_user("acme", "bjensen");
    h.send(&cmd).await;

    let mut put = command(
        "acme",
        command::Operation::Replace,
        "User",
        id,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen", "title": "Tour Guide", "active": true}),
    );
    put.if_match = "W/\"1\"".into();
    let r = h.send(&put).await;
    assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    assert_eq!(r.version, 2);
    let res = resource(&r);
    assert_eq!(res["title"], "Tour Guide");
    assert!(res.get("name").is_none(), "PUT replaces: name is gone");

    // A stale If-Match: 412, nothing changes.
    let mut stale = patch(
        "acme",
        "User",
        id,
        json!([{"op": "replace", "path": "title", "value": "x"}]),
    );
    stale.if_match = "W/\"1\"".into();
    let r = h.send(&stale).await;
    assert_eq!(r.outcome, Outcome::PreconditionFailed as i32);
    assert_eq!(r.error.unwrap().status, 412);

    // Deactivation is classified as such.
    let r = h
        .send(&patch(
            "acme",
            "User",
            id,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    assert_eq!(r.version, 3);
    assert_eq!(resource(&r)["active"], false);

    // A PATCH that changes nothing: no new version, no change.
    let r = h
        .send(&patch(
            "acme",
            "User",
            id,
            json!([{"op": "replace", "path": "active", "value": false}]),
        ))
        .await;
    assert_eq!(r.version, 3);

    let r = h
        .send(&command(
            "acme",
            command::Operation::Delete,
            "User",
            id,
            json!(null),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::Applied as i32);
    let r = h
        .send(&command(
            "acme",
            command::Operation::Delete,
            "User",
            id,
            json!(null),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::NotFound as i32);
    assert_eq!(r.error.unwrap().status, 404);

    let changes = h.changes(4).await;
    let ops: Vec<i32> = changes.iter().map(|c| c.operation).collect();
    use change::Operation as O;
    assert_eq!(
        ops,
        vec![
            O::Created as i32,
            O::Updated as i32,
            O::Deactivated as i32,
            O::Deleted as i32
        ]
    );
    let seqs: Vec<u64> = changes.iter().map(|c| c.sequence).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4]);
    assert!(changes[1].changed_attributes.iter().any(|a| a == "name"));
    h.teardown().await;
}

#[tokio::test]
async fn invalid_writes_are_answered_with_scim_errors() {
    let h = Harness::new(&["acme"]).await;
    let id = Uuid::now_v7();
    let mut cmd = command("acme", command::Operation::Create, "User", id, json!({}));
    cmd.payload = b"{not json".to_vec();
    let e = h.send(&cmd).await.error.unwrap();
    assert_eq!((e.status, e.scim_type.as_str()), (400, "invalidSyntax"));
    let e = h
        .send(&command(
            "acme",
            command::Operation::Create,
            "User",
            id,
            json!({"displayName": "no userName"}),
        ))
        .await
        .error
        .unwrap();
    assert_eq!(e.status, 400);
    assert!(e.detail.contains("userName"), "{}", e.detail);
    let e = h
        .send(&patch(
            "acme",
            "User",
            Uuid::now_v7(),
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        ))
        .await
        .error
        .unwrap();
    assert_eq!(e.status, 404);
    assert_eq!(h.count("select count(*) from resources").await, 0);
    assert_eq!(h.count("select count(*) from changes").await, 0);
    h.teardown().await;
}

/// Creates waiting together are inserted in one statement; a clash inside
/// that statement is still a 409 for the later one, as one by one.
#[tokio::test]
async fn creates_applied_together_keep_one_by_one_answers() {
    use futures_util::StreamExt;
    use scimbus_events::Message;
    let mut h = Harness::new(&["acme"]).await;
    h.store.take().unwrap().stop().await.unwrap();
    let inbox = h.client.new_inbox();
    let mut sub = h.client.subscribe(format!("{inbox}.*")).await.unwrap();
    let (_, a) = create_user("acme", "Same");
    let (_, b) = create_user("acme", "other");
    let (_, c) = create_user("acme", "SAME");
    let mut bad = create_user("acme", "x").1;
    bad.payload = b"[]".to_vec();
    let (_, d) = create_user("acme", "last");
    let cmds = [&a, &b, &c, &bad, &d];
    // One partition, so that all five wait in one queue, in this order.
    for (i, cmd) in cmds.iter().enumerate() {
        h.publish_partitioned(cmd, Some(format!("{inbox}.{i}")), 1)
            .await;
    }
    h.store = Some(start_single_partition_store(&h.env, &["acme"]).await);
    let mut outcomes = std::collections::HashMap::new();
    while outcomes.len() < cmds.len() {
        let m = tokio::time::timeout(std::time::Duration::from_secs(20), sub.next())
            .await
            .unwrap()
            .unwrap();
        let r = scimbus_events::v1::CommandResult::decode(m.payload.as_ref()).unwrap();
        outcomes.insert(r.command_id.clone(), r);
    }
    assert_eq!(outcomes[&a.id].outcome, Outcome::Applied as i32);
    assert_eq!(outcomes[&b.id].outcome, Outcome::Applied as i32);
    assert_eq!(
        outcomes[&c.id].outcome,
        Outcome::Conflict as i32,
        "{:?}",
        outcomes[&c.id]
    );
    assert_eq!(outcomes[&bad.id].outcome, Outcome::Invalid as i32);
    assert_eq!(outcomes[&d.id].outcome, Outcome::Applied as i32);
    assert_eq!(h.count("select count(*) from resources").await, 3);
    let (emails, user_name): (Vec<String>, String) =
        sqlx::query_as("select emails, user_name from resources where lower(user_name) = 'same'")
            .fetch_one(&h.env.pool)
            .await
            .unwrap();
    assert_eq!(
        (emails, user_name.as_str()),
        (vec!["same@example.com".to_string()], "Same")
    );
    // One change each for the three applied, in order.
    let changes = h.changes(3).await;
    let ids: Vec<&str> = changes.iter().map(|c| c.command_id.as_str()).collect();
    assert_eq!(ids, vec![a.id.as_str(), b.id.as_str(), d.id.as_str()]);
    assert_eq!(
        changes.iter().map(|c| c.sequence).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    h.teardown().await;
}

/// An ingress that names a batch subject gets the results of the commands
/// applied together in one message, in their order; a command naming only
/// its own subject (an older ingress) still gets its own.
#[tokio::test]
async fn results_of_a_batch_come_together_in_order() {
    use futures_util::StreamExt;
    use scimbus_events::Message;
    use scimbus_events::v1::{CommandResult, CommandResults};
    let mut h = Harness::new(&["acme"]).await;
    h.store.take().unwrap().stop().await.unwrap();
    let inbox = h.client.new_inbox();
    let mut sub = h.client.subscribe(format!("{inbox}.*")).await.unwrap();
    let cmds: Vec<_> = (0..6)
        .map(|i| create_user("acme", &format!("u{i}")).1)
        .collect();
    let results_subject = format!("{inbox}.results");
    for (i, cmd) in cmds.iter().enumerate() {
        let own = format!("{inbox}.{}", cmd.id);
        if i == 3 {
            h.publish_partitioned(cmd, Some(own), 1).await;
        } else {
            h.publish_batch_reply(cmd, own, results_subject.clone(), 1)
                .await;
        }
    }
    h.store = Some(start_single_partition_store(&h.env, &["acme"]).await);
    let mut batched = Vec::new();
    let mut own = Vec::new();
    while batched.len() + own.len() < cmds.len() {
        let m = tokio::time::timeout(std::time::Duration::from_secs(20), sub.next())
            .await
            .unwrap()
            .unwrap();
        if m.subject.as_str() == results_subject {
            let rs = CommandResults::decode(m.payload.as_ref()).unwrap();
            assert!(!rs.results.is_empty());
            batched.extend(rs.results);
        } else {
            let r = CommandResult::decode(m.payload.as_ref()).unwrap();
            assert_eq!(m.subject.as_str(), format!("{inbox}.{}", r.command_id));
            own.push(r);
        }
    }
    let ids: Vec<&str> = batched.iter().map(|r| r.command_id.as_str()).collect();
    let expected: Vec<&str> = cmds
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != 3)
        .map(|(_, c)| c.id.as_str())
        .collect();
    assert_eq!(ids, expected, "the batch subject's results, in order");
    assert_eq!(own.len(), 1);
    assert_eq!(own[0].command_id, cmds[3].id);
    assert!(
        batched
            .iter()
            .chain(&own)
            .all(|r| r.outcome == Outcome::Applied as i32)
    );
    // Every command was acknowledged: the work queue is empty.
    let stream = h.env.subjects.command_stream();
    scimbus_e2e::eventually(
        "the command queue is empty",
        std::time::Duration::from_secs(20),
        || async {
            let mut s = h.js.get_stream(&stream).await.unwrap();
            match s.info().await.unwrap().state.messages {
                0 => Ok(()),
                n => Err(format!("{n} commands left")),
            }
        },
    )
    .await;
    assert_eq!(h.count("select count(*) from resources").await, 6);
    h.teardown().await;
}
