//! Operations that name no bulkId are sent together, in the order of the
//! request, when there is one command partition: each is answered as if it
//! ran alone, in its place, and the store applies them in that order (of
//! two creates of one userName, the first wins). With several partitions
//! they run one after the other, with the same answers.

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
