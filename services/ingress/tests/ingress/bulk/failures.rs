//! `/Bulk` failures: limits (413), `failOnErrors`, every kind of
//! per-operation error, malformed requests, and a store that does not
//! answer.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::*;

#[tokio::test]
async fn fail_on_errors_stops_and_leaves_out_what_did_not_run() {
    let api = Api::new().await;
    let no_name =
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "displayName": "Alice"});
    // RFC 7644 §3.7.3: failOnErrors 1 and a failing first operation.
    let mut body = request(json!([
        post("/Users", "qwerty", no_name.clone()),
        post("/Users", "two", user("two")),
    ]));
    body["failOnErrors"] = json!(1);
    let res = bulk(&api, body).await;
    assert_eq!(res.len(), 1, "{res:?}");
    assert_eq!(res[0]["bulkId"], "qwerty");
    assert_failed(&res[0], 400, Some("invalidValue"));
    assert!(
        res[0].get("location").is_none(),
        "a failed POST has no location"
    );
    assert_eq!(count(&api).await, 0);

    // failOnErrors 2: the second error stops it.
    let mut body = request(json!([
        post("/Users", "a", no_name.clone()),
        post("/Users", "b", user("b")),
        post("/Users", "c", no_name.clone()),
        post("/Users", "d", user("d")),
    ]));
    body["failOnErrors"] = json!(2);
    let res = bulk(&api, body).await;
    let statuses: Vec<&str> = res.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["400", "201", "400"]);
    assert_eq!(count(&api).await, 1);

    // Without failOnErrors everything runs.
    let res = bulk(
        &api,
        request(json!([
            post("/Users", "e", no_name),
            post("/Users", "f", user("f"))
        ])),
    )
    .await;
    assert_eq!(res.len(), 2);
    api.teardown().await;
}

#[tokio::test]
async fn max_operations_and_max_payload_size_are_413() {
    let api = Api::with_limits(|l| {
        l.bulk_max_operations = 2;
        l.max_payload = 4096;
    })
    .await;
    let spc = api.get("/scim/v2/acme/ServiceProviderConfig").await.body;
    assert_eq!(
        spc["bulk"],
        json!({"supported": true, "maxOperations": 2, "maxPayloadSize": 4096})
    );
    let three = request(json!([
        post("/Users", "a", user("a")),
        post("/Users", "b", user("b")),
        post("/Users", "c", user("c"))
    ]));
    let r = api.post(BULK, three).await;
    r.assert_error(413, None);
    assert!(
        r.body["detail"]
            .as_str()
            .unwrap()
            .contains("maxOperations (2)"),
        "{}",
        r.body
    );
    let mut big = user("big");
    big["title"] = json!("x".repeat(5000));
    api.post(BULK, request(json!([post("/Users", "big", big)])))
        .await
        .assert_error(413, None);
    assert_eq!(count(&api).await, 0, "nothing of a refused bulk is applied");
    // Two is fine.
    let res = bulk(
        &api,
        request(json!([
            post("/Users", "a", user("a")),
            post("/Users", "b", user("b"))
        ])),
    )
    .await;
    assert_eq!(res.len(), 2);
    api.teardown().await;
}

#[tokio::test]
async fn each_operation_fails_on_its_own() {
    let api = Api::new().await;
    let taken = api.post(USERS, user("taken")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let taken_path = format!("/Users/{taken}");
    let title = ops(json!([{"op": "replace", "path": "title", "value": "x"}]));
    let nobody = uuid::Uuid::now_v7();
    let res = bulk(
        &api,
        request(json!([
            post("/Users", "dup-name", user("TAKEN")),
            {"method": "PUT", "path": format!("/Users/{nobody}"), "data": user("nobody")},
            {"method": "PATCH", "path": taken_path, "version": "W/\"9\"", "data": title},
            {"method": "DELETE", "path": "/Users/not-a-uuid"},
            {"method": "GET", "path": taken_path},
            {"method": "POST", "path": "/Users", "data": user("no-bulk-id")},
            {"method": "PATCH", "path": "/Users/a/b", "data": title},
            post("/Nothing", "nothing", json!({})),
            post("/Users", "twice", user("twice-1")),
            post("/Users", "twice", user("twice-2")),
            post("/Groups", "refs-unknown", group("G1", &["bulkId:nosuch"])),
            post("/Groups", "refs-failed", group("G2", &["bulkId:dup-name"])),
            {"method": "PATCH", "path": "/Users/bulkId:dup-name", "data": title},
            "not an object",
            {"method": "PATCH", "path": taken_path, "data": {"Operations": "x"}},
        ])),
    )
    .await;
    assert_eq!(res.len(), 15, "every operation answered: {res:?}");
    assert_failed(&res[0], 409, Some("uniqueness"));
    assert!(res[0].get("location").is_none());
    assert_failed(&res[1], 404, None);
    assert_eq!(
        res[1]["location"],
        format!("http://scim.test/scim/v2/acme/Users/{nobody}")
    );
    assert_failed(&res[2], 412, None);
    assert_eq!(
        res[2]["location"],
        format!("http://scim.test/scim/v2/acme/Users/{taken}")
    );
    assert_failed(&res[3], 404, None);
    assert_failed(&res[4], 400, Some("invalidValue"));
    assert_eq!(res[4]["method"], "GET");
    assert_failed(&res[5], 400, Some("invalidValue"));
    assert_failed(&res[6], 400, Some("invalidValue"));
    assert_failed(&res[7], 404, None);
    assert_failed(&res[8], 400, Some("invalidValue"));
    assert_failed(&res[9], 400, Some("invalidValue"));
    assert_eq!(res[9]["bulkId"], "twice");
    assert_failed(&res[10], 400, Some("invalidValue"));
    assert!(
        res[10]["response"]["detail"]
            .as_str()
            .unwrap()
            .contains("bulkId:nosuch")
    );
    assert_failed(&res[11], 409, None);
    assert_failed(&res[12], 409, None);
    assert_failed(&res[13], 400, Some("invalidSyntax"));
    assert!(res[13].get("method").is_none());
    assert_failed(&res[14], 400, Some("invalidSyntax"));
    // Only the first user exists, unchanged.
    assert_eq!(count(&api).await, 1);
    let u = api.get(&format!("{USERS}/{taken}")).await.body;
    assert_eq!(
        (u["title"].clone(), u["meta"]["version"].clone()),
        (Value::Null, json!("W/\"1\""))
    );
    api.teardown().await;
}

#[tokio::test]
async fn a_malformed_bulk_request_is_refused_whole() {
    let api = Api::new().await;
    api.post(BULK, json!([]))
        .await
        .assert_error(400, Some("invalidSyntax"));
    api.post(BULK, json!({"schemas": [BULK_REQUEST]}))
        .await
        .assert_error(400, Some("invalidSyntax"));
    let wrong =
        json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": []});
    api.post(BULK, wrong)
        .await
        .assert_error(400, Some("invalidSyntax"));
    let mut zero = request(json!([post("/Users", "a", user("a"))]));
    zero["failOnErrors"] = json!(0);
    api.post(BULK, zero)
        .await
        .assert_error(400, Some("invalidValue"));
    api.call(Method::POST, BULK, OTHER, Some(request(json!([]))))
        .await
        .assert_error(401, None);
    // Lenient: no schemas, names in any case, an empty list.
    let r = api.post(BULK, json!({"operations": [{"METHOD": "Post", "PATH": "Users", "BulkId": "x", "Data": user("lenient")}]})).await;
    assert_eq!(r.body["Operations"][0]["status"], "201", "{}", r.body);
    assert_eq!(bulk(&api, request(json!([]))).await.len(), 0);
    assert_eq!(count(&api).await, 1);
    api.teardown().await;
}

#[tokio::test]
async fn a_store_that_does_not_answer_stops_the_bulk_and_a_retry_completes_it() {
    let mut api = Api::without_store_on(std::time::Duration::from_millis(500), 1).await;
    // Two creates that name no bulkId are sent together (one partition);
    // the group names the first one, so it waits for their answers.
    let body = request(json!([
        post("/Users", "a", user("a")),
        post("/Users", "b", user("b")),
        post("/Groups", "g", group("g", &["bulkId:a"]))
    ]));
    let h = [("idempotency-key", "bulk-503")];
    let r = api
        .call_with(Method::POST, BULK, ACME, Some(body.clone()), &h)
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let res = r.body["Operations"].as_array().unwrap();
    assert_eq!(
        res.len(),
        2,
        "each operation sent is answered, nothing runs after a 503: {res:?}"
    );
    assert_failed(&res[0], 503, None);
    assert_failed(&res[1], 503, None);
    api.start_store().await;
    let mut done = None;
    for _ in 0..100 {
        let r = api
            .call_with(Method::POST, BULK, ACME, Some(body.clone()), &h)
            .await;
        if r.body["Operations"]
            .as_array()
            .is_some_and(|l| l.len() == 3)
        {
            done = Some(r);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let r = done.expect("the retry completes the bulk");
    let statuses: Vec<Option<&str>> = (0..3)
        .map(|k| r.body["Operations"][k]["status"].as_str())
        .collect();
    assert_eq!(
        statuses,
        vec![Some("201"), Some("201"), Some("201")],
        "{}",
        r.body
    );
    assert_eq!(count(&api).await, 3, "each applied once");
    api.teardown().await;
}
