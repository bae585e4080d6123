//! Operations that name no bulkId are sent together, in the order of the
//! request: each is answered as if it ran alone, in its place. With one
//! command partition any such operations go together, and the store applies
//! them in that order (of two creates of one userName, the first wins).
//! With several, only creates of Users and Groups with distinct names do —
//! they come out the same in any order — and the rest run one after the
//! other, with the same answers.

use std::time::Duration;

use serde_json::json;

use super::*;

#[tokio::test]
async fn operations_sent_together_are_applied_in_order_and_answered_each() {
    for api in [Api::one_partition().await, Api::new().await] {
        run(api).await;
    }
}

async fn run(api: Api) {
    let mut ops: Vec<Value> = (0..60)
        .map(|k| post("/Users", &format!("u{k}"), user(&format!("together-{k}"))))
        .collect();
    // The same userName again (refused: the first was applied first), a
    // malformed operation among them, and one that names an earlier POST
    // (sent after their answers).
    ops.insert(30, post("/Users", "again", user("together-3")));
    ops.insert(
        31,
        json!({"method": "POST", "path": "/Users", "data": user("no-bulk-id")}),
    );
    ops.push(post("/Groups", "g", group("together-g", &["bulkId:u7"])));
    let res = bulk(&api, request(Value::Array(ops))).await;
    assert_eq!(res.len(), 63);
    for (k, r) in res.iter().enumerate() {
        match k {
            30 => assert_failed(r, 409, Some("uniqueness")),
            31 => assert_failed(r, 400, Some("invalidValue")),
            _ => assert_eq!(r["status"], "201", "operation {k}: {r}"),
        }
    }
    // In the order of the request: each result is its own operation's.
    assert_eq!(res[0]["bulkId"], "u0");
    assert_eq!(res[62]["bulkId"], "g");
    let users: i64 =
        sqlx::query_scalar("select count(*) from resources where resource_type = 'User'")
            .fetch_one(&api.env.pool)
            .await
            .unwrap();
    assert_eq!(users, 60);
    let group = api.get(&format!("{GROUPS}/{}", id_of(&res[62]))).await;
    assert_eq!(
        group.body["members"][0]["value"],
        id_of(&res[7]),
        "{}",
        group.body
    );
    api.teardown().await;
}

/// The operations of `ops` that were sent before the store, which is not
/// running, failed to answer the first within the write timeout: those
/// sent together (each answered 503; nothing runs after a 503), and the
/// commands the ingress published.
async fn sent_together(ops: Vec<Value>) -> (usize, u64) {
    let api = Api::without_store_on(Duration::from_millis(500), 4).await;
    let res = bulk(&api, request(Value::Array(ops))).await;
    for r in &res {
        assert_failed(r, 503, None);
    }
    let sent = crate::strict_input::commands_sent(&api).await;
    api.teardown().await;
    (res.len(), sent)
}

#[tokio::test]
async fn on_several_partitions_creates_of_distinct_names_go_together_and_nothing_else_does() {
    let id = "0190a000-0000-7000-8000-000000000001";
    // Creates of Users and Groups with distinct names: together, up to the
    // first create of a name the run already has (without case).
    let (answered, sent) = sent_together(vec![
        post("/Users", "a", user("alice")),
        post("/Groups", "g", group("alice", &[])),
        post("/Users", "b", user("bob")),
        post("/Users", "c", user("ALICE")),
    ])
    .await;
    assert_eq!((answered, sent), (3, 3), "the first three together");
    // A PATCH, a PUT or a DELETE runs alone: it could meet the effect of an
    // operation after it applied first.
    let patch = json!({"method": "PATCH", "path": format!("/Groups/{id}"), "data": {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{"op": "add", "path": "members", "value": [{"value": id}]}]}});
    let delete = json!({"method": "DELETE", "path": format!("/Users/{id}")});
    assert_eq!(
        sent_together(vec![patch, delete.clone()]).await,
        (1, 1),
        "a PATCH alone"
    );
    assert_eq!(
        sent_together(vec![post("/Users", "a", user("alice")), delete]).await,
        (1, 1),
        "a DELETE ends the run"
    );
    // A name that is not ASCII: alone (its case folding is the database's).
    assert_eq!(
        sent_together(vec![
            post("/Users", "z", user("zoë")),
            post("/Users", "a", user("alice"))
        ])
        .await,
        (1, 1),
        "a create named zoë alone"
    );
}
