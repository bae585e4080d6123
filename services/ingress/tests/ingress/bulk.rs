//! `/Bulk` (RFC 7644 §3.7) end to end: the RFC's examples, `bulkId`
//! references (forward, circular, in paths), PATCH, PUT and DELETE, and
//! retries; errors and limits are in `failures`.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

mod failures;
mod together;

const BULK: &str = "/scim/v2/acme/Bulk";
const BULK_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:BulkRequest";
const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

fn request(ops: Value) -> Value {
    json!({"schemas": [BULK_REQUEST], "Operations": ops})
}

fn group(name: &str, members: &[&str]) -> Value {
    let members: Vec<Value> = members.iter().map(|m| json!({"value": m})).collect();
    json!({"schemas": [GROUP], "displayName": name, "members": members})
}

fn post(path: &str, bulk_id: &str, data: Value) -> Value {
    json!({"method": "POST", "path": path, "bulkId": bulk_id, "data": data})
}

/// Sends a bulk request that must be answered 200; its results.
async fn bulk(api: &Api, body: Value) -> Vec<Value> {
    let r = api.post(BULK, body).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/scim+json"));
    assert_eq!(
        r.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:BulkResponse"])
    );
    r.body["Operations"].as_array().unwrap().clone()
}

/// The id at the end of a result's location.
fn id_of(result: &Value) -> String {
    let location = result["location"]
        .as_str()
        .unwrap_or_else(|| panic!("no location: {result}"));
    location.rsplit('/').next().unwrap().to_string()
}

/// A failed result: its status (a string) and the SCIM error in `response`.
fn assert_failed(result: &Value, status: u16, scim_type: Option<&str>) {
    assert_eq!(result["status"], status.to_string(), "{result}");
    let e = &result["response"];
    assert_eq!(
        e["schemas"][0], "urn:ietf:params:scim:api:messages:2.0:Error",
        "{result}"
    );
    assert_eq!(e["status"], status.to_string(), "{result}");
    assert_eq!(e["scimType"].as_str(), scim_type, "{result}");
    assert!(
        e["detail"].as_str().is_some_and(|d| !d.is_empty()),
        "{result}"
    );
}

async fn member_ids(api: &Api, group_id: &str) -> Vec<String> {
    let g = api.get(&format!("{GROUPS}/{group_id}")).await.body;
    let members = g["members"].as_array().cloned().unwrap_or_default();
    members
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect()
}

async fn count(api: &Api) -> i64 {
    sqlx::query_scalar("select count(*) from resources")
        .fetch_one(&api.env.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn rfc_example_a_user_and_a_group_that_refers_to_it() {
    // RFC 7644 §3.7.2.
    let api = Api::new().await;
    let mut alice = user("Alice");
    alice["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:User"]);
    let tour_guides = json!({"schemas": [GROUP], "displayName": "Tour Guides", "members": [{"type": "User", "value": "bulkId:qwerty"}]});
    let res = bulk(
        &api,
        request(json!([
            post("/Users", "qwerty", alice),
            post("/Groups", "ytrewq", tour_guides)
        ])),
    )
    .await;
    assert_eq!(res.len(), 2);
    for (r, bulk_id, endpoint) in [(&res[0], "qwerty", "Users"), (&res[1], "ytrewq", "Groups")] {
        assert_eq!(r["method"], "POST");
        assert_eq!(r["bulkId"], bulk_id);
        assert_eq!(r["status"], "201", "status is a string: {r}");
        assert_eq!(r["version"], "W/\"1\"");
        assert!(
            r["location"]
                .as_str()
                .unwrap()
                .starts_with(&format!("http://scim.test/scim/v2/acme/{endpoint}/"))
        );
        assert!(r.get("response").is_none(), "no body for a success: {r}");
    }
    let (alice, guides) = (id_of(&res[0]), id_of(&res[1]));
    assert_eq!(member_ids(&api, &guides).await, vec![alice.clone()]);
    let u = api.get(&format!("{USERS}/{alice}")).await.body;
    assert_eq!(u["groups"][0]["value"], guides);
    assert_eq!(u["groups"][0]["display"], "Tour Guides");
    api.teardown().await;
}

#[tokio::test]
async fn a_forward_reference_runs_its_post_first() {
    let api = Api::new().await;
    let res = bulk(
        &api,
        request(json!([
            post("/Groups", "g", group("Early", &["bulkId:u"])),
            {"method": "patch", "path": "/Users/bulkId:u", "data": ops(json!([{"op": "replace", "path": "title", "value": "Guide"}]))},
            post("/Users", "u", user("late")),
        ])),
    )
    .await;
    let statuses: Vec<&str> = res.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, vec!["201", "200", "201"], "{res:?}");
    assert_eq!(
        res[1]["method"], "PATCH",
        "the method is echoed in upper case"
    );
    let u = id_of(&res[2]);
    assert_eq!(id_of(&res[1]), u);
    assert_eq!(res[1]["version"], "W/\"2\"");
    assert_eq!(member_ids(&api, &id_of(&res[0])).await, vec![u.clone()]);
    assert_eq!(
        api.get(&format!("{USERS}/{u}")).await.body["title"],
        "Guide"
    );
    api.teardown().await;
}

#[tokio::test]
async fn rfc_example_circular_references_are_resolved() {
    // RFC 7644 §3.7.1: Group A has member B, B has member A.
    let api = Api::new().await;
    let a = json!({"schemas": [GROUP], "displayName": "Group A", "members": [{"type": "Group", "value": "bulkId:ytrewq"}]});
    let b = json!({"schemas": [GROUP], "displayName": "Group B", "members": [{"type": "Group", "value": "bulkId:qwerty"}]});
    let res = bulk(
        &api,
        request(json!([
            post("/Groups", "qwerty", a),
            post("/Groups", "ytrewq", b)
        ])),
    )
    .await;
    assert_eq!(
        (res[0]["status"].as_str(), res[1]["status"].as_str()),
        (Some("201"), Some("201")),
        "{res:?}"
    );
    let (a, b) = (id_of(&res[0]), id_of(&res[1]));
    assert_eq!(member_ids(&api, &a).await, vec![b.clone()]);
    assert_eq!(member_ids(&api, &b).await, vec![a.clone()]);
    // The group created without its reference got it by a PATCH: its
    // reported version is the final one.
    let g = api.get(&format!("{GROUPS}/{b}")).await;
    assert_eq!(res[1]["version"], g.body["meta"]["version"]);
    let r = api
        .get(&format!("{GROUPS}?filter=displayName%20sw%20%22Group%22"))
        .await;
    assert_eq!(r.body["totalResults"], 2, "{}", r.body);

    // A reference to the operation's own bulkId: a user who is their own
    // manager gets their id; a group cannot be its own member, so that
    // group is created but the reference is refused.
    let mut me = user("self");
    me[ENTERPRISE] = json!({"manager": {"value": "bulkId:me"}});
    let res = bulk(
        &api,
        request(json!([
            post("/Users", "me", me),
            post("/Groups", "loop", group("Loop", &["bulkId:loop"]))
        ])),
    )
    .await;
    assert_eq!(res[0]["status"], "201", "{res:?}");
    let me = id_of(&res[0]);
    assert_eq!(
        api.get(&format!("{USERS}/{me}")).await.body[ENTERPRISE]["manager"]["value"],
        me
    );
    assert_failed(&res[1], 400, Some("invalidValue"));
    assert!(
        res[1]["location"].as_str().is_some(),
        "the group exists: {res:?}"
    );

    // One side of a cycle fails: the other is created, but says that its
    // reference could not be added (409, §3.7.1), with its location.
    let res = bulk(
        &api,
        request(json!([
            post("/Groups", "x", group("Group A", &["bulkId:y"])),
            post("/Groups", "y", group("Group C", &["bulkId:x"])),
        ])),
    )
    .await;
    assert_failed(&res[0], 409, Some("uniqueness"));
    assert_failed(&res[1], 409, None);
    let detail = res[1]["response"]["detail"].as_str().unwrap();
    assert!(detail.contains("bulkId:x"), "{detail}");
    assert!(member_ids(&api, &id_of(&res[1])).await.is_empty());
    // … and with failOnErrors 1, it says so too, though nothing more runs.
    let mut body = request(json!([
        post("/Groups", "x", group("Group A", &["bulkId:y"])),
        post("/Groups", "y", group("Group D", &["bulkId:x"])),
        post("/Users", "z", user("never")),
    ]));
    body["failOnErrors"] = json!(1);
    let res = bulk(&api, body).await;
    assert_eq!(res.len(), 2, "{res:?}");
    assert_failed(&res[0], 409, Some("uniqueness"));
    assert_failed(&res[1], 409, None);
    let r = api
        .get(&format!("{USERS}?filter=userName%20eq%20%22never%22"))
        .await;
    assert_eq!(r.body["totalResults"], 0, "{}", r.body);
    api.teardown().await;
}

#[tokio::test]
async fn patch_put_and_delete_with_versions_and_bulk_id_paths() {
    let api = Api::new().await;
    let old = api.post(USERS, user("old")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = bulk(
        &api,
        request(json!([
            post("/Users", "u", user("new")),
            post("/Groups", "g", group("Team", &[])),
            {"method": "PATCH", "path": "/Groups/bulkId:g", "bulkId": "add-member", "data": ops(json!([{"op": "add", "path": "members", "value": [{"value": "bulkId:u"}, {"value": old}]}]))},
            {"method": "PUT", "path": "/Users/bulkId:u", "version": "W/\"1\"", "data": {"schemas": [USER], "userName": "new", "title": "Put"}},
            {"method": "PATCH", "path": "/Groups/bulkId:g", "data": ops(json!([{"op": "remove", "path": format!("members[value eq \"{old}\"]")}]))},
            {"method": "DELETE", "path": format!("/Users/{old}"), "version": "W/\"1\""},
        ])),
    )
    .await;
    let statuses: Vec<&str> = res.iter().map(|r| r["status"].as_str().unwrap()).collect();
    assert_eq!(
        statuses,
        vec!["201", "201", "200", "200", "200", "204"],
        "{res:?}"
    );
    let (u, g) = (id_of(&res[0]), id_of(&res[1]));
    assert_eq!(
        res[2]["location"],
        format!("http://scim.test/scim/v2/acme/Groups/{g}")
    );
    assert_eq!(
        res[2]["bulkId"], "add-member",
        "a bulkId on a PATCH is echoed"
    );
    assert_eq!(res[2]["version"], "W/\"2\"");
    assert_eq!(res[3]["version"], "W/\"2\"");
    assert_eq!(
        res[5]["location"],
        format!("http://scim.test/scim/v2/acme/Users/{old}")
    );
    assert!(res[5].get("version").is_none());
    assert_eq!(member_ids(&api, &g).await, vec![u.clone()]);
    assert_eq!(api.get(&format!("{USERS}/{u}")).await.body["title"], "Put");
    api.get(&format!("{USERS}/{old}"))
        .await
        .assert_error(404, None);
    api.teardown().await;
}

#[tokio::test]
async fn a_retried_bulk_with_an_idempotency_key_is_applied_once() {
    let api = Api::new().await;
    let body = request(json!([
        post("/Users", "u", user("once")),
        post("/Groups", "g", group("Once", &["bulkId:u"]))
    ]));
    let h = [("idempotency-key", "bulk-1")];
    let first = api
        .call_with(Method::POST, BULK, ACME, Some(body.clone()), &h)
        .await;
    let again = api
        .call_with(Method::POST, BULK, ACME, Some(body), &h)
        .await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body, first.body, "the recorded answers");
    assert_eq!(first.body["Operations"][1]["status"], "201");
    assert_eq!(count(&api).await, 2);
    api.teardown().await;
}
