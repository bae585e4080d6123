//! Users and Groups through HTTP: the full write/read cycle.

use axum::body::Body;
use axum::http::{HeaderValue, Method, Request, StatusCode, header};
use serde_json::{Value, json};

use crate::support::*;

#[tokio::test]
async fn a_user_lives_and_dies() {
    let api = Api::new().await;
    let r = api.post(USERS, user("bjensen")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    let location = format!("http://scim.test/scim/v2/acme/Users/{id}");
    assert_eq!(r.header("location"), Some(location.as_str()));
    assert_eq!(r.body["meta"]["location"], location);
    assert_eq!(r.header("etag"), Some("W/\"1\""));
    assert_eq!(r.body["meta"]["version"], "W/\"1\"");
    assert_eq!(r.header("content-type"), Some("application/scim+json"));

    let path = format!("{USERS}/{id}");
    let r = api.get(&path).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.body["userName"], "bjensen");
    assert_eq!(r.body["name"]["familyName"], "Jensen");
    // If-None-Match with the current version: 304.
    let r = api
        .call_with(
            Method::GET,
            &path,
            ACME,
            None,
            &[("if-none-match", "W/\"1\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_MODIFIED);

    // Filter by userName, case-insensitively.
    let r = api
        .get(&format!("{USERS}?filter=userName%20eq%20%22BJENSEN%22"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["id"], id);

    // PATCH as Entra sends it: 200 with the resource.
    let r = api
        .patch(
            &path,
            ops(json!([{"op": "Replace", "path": "active", "value": "False"}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["active"], false);
    assert_eq!(r.header("etag"), Some("W/\"2\""));

    // A stale If-Match: 412.
    let r = api
        .call_with(
            Method::PATCH,
            &path,
            ACME,
            Some(ops(
                json!([{"op": "replace", "path": "title", "value": "x"}]),
            )),
            &[("if-match", "W/\"1\"")],
        )
        .await;
    r.assert_error(412, None);

    // PUT replaces.
    let r = api
        .call_with(Method::PUT, &path, ACME, Some(json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "bjensen", "title": "Tour Guide"})), &[("if-match", "W/\"2\"")])
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["title"], "Tour Guide");
    assert!(r.body.get("name").is_none());

    // A second bjensen: 409 uniqueness.
    api.post(USERS, user("BJensen"))
        .await
        .assert_error(409, Some("uniqueness"));

    let r = api.call(Method::DELETE, &path, ACME, None).await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    api.get(&path).await.assert_error(404, None);
    api.teardown().await;
}

#[tokio::test]
async fn passwords_are_accepted_but_never_stored_or_returned() {
    let api = Api::new().await;
    let mut u = user("pw");
    u["password"] = json!("t1meMa$heen");
    let r = api.post(USERS, u).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    assert!(r.body.get("password").is_none());
    let n: i64 = sqlx::query_scalar("select count(*) from resources where doc ? 'password'")
        .fetch_one(&api.env.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    api.teardown().await;
}

#[tokio::test]
async fn groups_members_and_derived_groups() {
    let api = Api::new().await;
    let a = api.post(USERS, user("alice")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = api.post(USERS, user("bob")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .post(GROUPS, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Ops", "members": [{"value": a}]}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let g = r.body["id"].as_str().unwrap().to_string();
    assert_eq!(r.body["members"][0]["value"], a);
    let gpath = format!("{GROUPS}/{g}");

    // Entra's member PATCH: 200 with the entire resource …
    let r = api
        .patch(
            &gpath,
            ops(json!([{"op": "Add", "path": "members", "value": [{"value": b}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 2, "{}", r.body);
    // … or without the member list, when the client says so.
    let r = api
        .patch(
            &format!("{gpath}?excludedAttributes=members"),
            ops(json!([{"op": "add", "path": "members", "value": [{"value": b}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert!(r.body.get("members").is_none(), "{}", r.body);
    // … unless asked for.
    let r = api
        .patch(
            &format!("{gpath}?attributes=members"),
            ops(json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}])),
        )
        .await;
    assert_eq!(r.body["members"].as_array().unwrap().len(), 1, "{}", r.body);

    let r = api.get(&gpath).await;
    assert_eq!(r.body["members"][0]["value"], b);
    let r = api
        .get(&format!("{gpath}?excludedAttributes=members"))
        .await;
    assert!(r.body.get("members").is_none());
    assert_eq!(r.body["displayName"], "Ops");

    // A user's groups are derived.
    let r = api.get(&format!("{USERS}/{b}")).await;
    assert_eq!(r.body["groups"][0]["value"], g);
    assert_eq!(r.body["groups"][0]["display"], "Ops");
    // Filtering groups by member.
    let r = api
        .get(&format!("{GROUPS}?filter=members.value%20eq%20%22{b}%22"))
        .await;
    assert_eq!(r.body["totalResults"], 1, "{}", r.body);
    // Group displayName is unique per tenant.
    api.post(
        GROUPS,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "OPS"}),
    )
    .await
    .assert_error(409, Some("uniqueness"));
    api.teardown().await;
}

/// `Prefer: return=minimal` (RFC 7240): a PATCH or PUT is applied and
/// answered 204 with the new version's ETag and no body — how a client
/// changing one member of a large group avoids reading every member back.
#[tokio::test]
async fn a_write_preferring_a_minimal_answer_gets_204_with_its_etag() {
    let api = Api::new().await;
    let a = api.post(USERS, user("min-a")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = api
        .post(GROUPS, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Min"}))
        .await;
    let gpath = format!("{GROUPS}/{}", r.body["id"].as_str().unwrap());
    let minimal = [("prefer", "return=minimal")];

    let r = api
        .call_with(
            Method::PATCH,
            &gpath,
            ACME,
            Some(ops(
                json!([{"op": "add", "path": "members", "value": [{"value": a}]}]),
            )),
            &minimal,
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.body, Value::Null, "no body");
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    assert_eq!(r.header("preference-applied"), Some("return=minimal"));
    let g = api.get(&gpath).await;
    assert_eq!(g.body["members"][0]["value"], a, "applied: {}", g.body);

    let upath = format!("{USERS}/{a}");
    let mut put = user("min-a");
    put["title"] = json!("Put minimal");
    let r = api
        .call_with(
            Method::PUT,
            &upath,
            ACME,
            Some(put),
            &[("prefer", "wait=1, return=\"minimal\"")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.header("etag"), Some("W/\"2\""));
    assert_eq!(api.get(&upath).await.body["title"], "Put minimal");

    // A refused write is the same error, whatever the preference.
    api.call_with(
        Method::PATCH,
        &upath,
        ACME,
        Some(ops(
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        )),
        &[("prefer", "return=minimal"), ("if-match", "W/\"1\"")],
    )
    .await
    .assert_error(412, None);
    // Any other preference: the whole resource, as before.
    let r = api
        .call_with(
            Method::PATCH,
            &upath,
            ACME,
            Some(ops(
                json!([{"op": "replace", "path": "title", "value": "Rep"}]),
            )),
            &[("prefer", "return=representation")],
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["title"], "Rep");
    api.teardown().await;
}

/// A PATCH of a group with more members than
/// `SCIMBUS_PATCH_ANSWER_MAX_MEMBERS` is answered 204 unless the client
/// names `members` in `attributes`; a group at the limit still gets the
/// whole resource.
#[tokio::test]
async fn a_large_groups_patch_is_answered_without_its_members() {
    let api = Api::with_limits(|l| l.patch_answer_max_members = 3).await;
    let mut ids = Vec::new();
    for i in 0..4 {
        let r = api.post(USERS, user(&format!("big-{i}"))).await;
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    let members: Vec<Value> = ids[..3].iter().map(|i| json!({"value": i})).collect();
    let r = api
        .post(GROUPS, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Big", "members": members}))
        .await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let gpath = format!("{GROUPS}/{}", r.body["id"].as_str().unwrap());
    let rename = |name: &str| ops(json!([{"op": "replace", "path": "displayName", "value": name}]));

    // At the limit: the whole resource.
    let r = api.patch(&gpath, rename("Big 1")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 3, "{}", r.body);

    // Past it: 204 with the new version, and the change applied.
    let r = api
        .patch(
            &gpath,
            ops(json!([{"op": "add", "path": "members", "value": [{"value": ids[3]}]}])),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT, "{}", r.body);
    assert_eq!(r.header("etag"), Some("W/\"3\""));
    assert_eq!(r.header("preference-applied"), None);
    let g = api.get(&gpath).await;
    assert_eq!(g.body["members"].as_array().unwrap().len(), 4, "{}", g.body);

    // Asked for by name: every member; excluded: the rest of the resource.
    let r = api
        .patch(&format!("{gpath}?attributes=members"), rename("Big 2"))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["members"].as_array().unwrap().len(), 4, "{}", r.body);
    let r = api
        .patch(
            &format!("{gpath}?excludedAttributes=members"),
            rename("Big 3"),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["displayName"], "Big 3");
    assert!(r.body.get("members").is_none(), "{}", r.body);

    // An empty group is within any limit.
    let r = api
        .post(GROUPS, json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "Empty"}))
        .await;
    let epath = format!("{GROUPS}/{}", r.body["id"].as_str().unwrap());
    let r = api.patch(&epath, rename("Still empty")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["displayName"], "Still empty");
    api.teardown().await;
}

#[tokio::test]
async fn a_retry_with_the_same_idempotency_key_is_one_write() {
    let api = Api::new().await;
    let h = [("idempotency-key", "k-1")];
    let first = api
        .call_with(Method::POST, USERS, ACME, Some(user("idem")), &h)
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    let again = api
        .call_with(Method::POST, USERS, ACME, Some(user("idem")), &h)
        .await;
    assert_eq!(
        again.status,
        StatusCode::CREATED,
        "the recorded answer: {}",
        again.body
    );
    assert_eq!(again.body["id"], first.body["id"]);
    let n: i64 = sqlx::query_scalar("select count(*) from resources")
        .fetch_one(&api.env.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    api.teardown().await;
}

/// An If-Match or Idempotency-Key that is not text is refused, not taken
/// for absent: that would make a conditional write unconditional, or a
/// keyed one repeatable.
#[tokio::test]
async fn unreadable_if_match_and_idempotency_key_are_refused() {
    let api = Api::new().await;
    let r = api.post(USERS, user("strict")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let path = format!("{USERS}/{}", r.body["id"].as_str().unwrap());
    for (name, method, target, body) in [
        (
            "if-match",
            Method::PATCH,
            path.as_str(),
            ops(json!([{"op": "replace", "path": "title", "value": "Boss"}])),
        ),
        ("idempotency-key", Method::POST, USERS, user("strict2")),
    ] {
        let req = Request::builder()
            .method(method)
            .uri(target)
            .header(header::AUTHORIZATION, format!("Bearer {ACME}"))
            .header(header::CONTENT_TYPE, "application/scim+json")
            .header(name, HeaderValue::from_bytes(b"W/\"1\xff\"").unwrap())
            .body(Body::from(body.to_string()))
            .unwrap();
        let r = api.raw(req).await;
        r.assert_error(400, Some("invalidSyntax"));
        assert!(
            r.body["detail"].as_str().unwrap().contains(name),
            "{}",
            r.body
        );
    }
    let r = api.get(&path).await;
    assert_eq!(
        r.body["meta"]["version"], "W/\"1\"",
        "not written: {}",
        r.body
    );
    assert_eq!(
        api.get(&format!("{USERS}?filter=userName%20eq%20%22strict2%22"))
            .await
            .body["totalResults"],
        0
    );
    api.teardown().await;
}
