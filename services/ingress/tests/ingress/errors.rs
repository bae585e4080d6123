//! Every error is a SCIM error body with the right status and scimType;
//! tenants are walls.

use axum::body::Body;
use axum::http::{Method, Request, header};
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn tokens_are_bound_to_their_tenant() {
    let api = Api::new().await;
    let r = api
        .raw(Request::get(USERS).body(Body::empty()).unwrap())
        .await;
    r.assert_error(401, None);
    assert!(r.header("www-authenticate").is_some());
    api.call(Method::GET, USERS, "nonsense", None)
        .await
        .assert_error(401, None);
    // other's token on acme's URL.
    api.call(Method::GET, USERS, OTHER, None)
        .await
        .assert_error(401, None);
    // An unknown tenant looks like a wrong token.
    api.call(Method::GET, "/scim/v2/nobody/Users", ACME, None)
        .await
        .assert_error(401, None);

    // An id of another tenant is 404, for reads and writes alike.
    let id = api.post(USERS, user("walled")).await.body["id"]
        .as_str()
        .unwrap()
        .to_string();
    let theirs = format!("/scim/v2/other/Users/{id}");
    api.call(Method::GET, &theirs, OTHER, None)
        .await
        .assert_error(404, None);
    api.call(
        Method::PATCH,
        &theirs,
        OTHER,
        Some(ops(
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        )),
    )
    .await
    .assert_error(404, None);
    api.call(Method::DELETE, &theirs, OTHER, None)
        .await
        .assert_error(404, None);
    let r = api
        .call(
            Method::GET,
            "/scim/v2/other/Users?filter=userName%20eq%20%22walled%22",
            OTHER,
            None,
        )
        .await;
    assert_eq!(r.body["totalResults"], 0);
    assert_eq!(
        api.get(&format!("{USERS}/{id}")).await.body["title"],
        serde_json::Value::Null
    );
    api.teardown().await;
}

#[tokio::test]
async fn bad_requests_get_precise_scim_errors() {
    let api = Api::with_limits(|l| l.max_payload = 4096).await;
    api.get("/scim/v2/acme/Nothing")
        .await
        .assert_error(404, None);
    api.get("/nowhere").await.assert_error(404, None);
    api.call(Method::PUT, USERS, ACME, Some(user("x")))
        .await
        .assert_error(405, None);
    api.get(&format!("{USERS}/not-a-uuid"))
        .await
        .assert_error(404, None);

    let raw = |body: &'static str, ct: &str| {
        Request::post(USERS)
            .header(header::AUTHORIZATION, format!("Bearer {ACME}"))
            .header(header::CONTENT_TYPE, ct)
            .body(Body::from(body))
            .unwrap()
    };
    api.raw(raw("{\"userName\": ", "application/scim+json"))
        .await
        .assert_error(400, Some("invalidSyntax"));
    api.raw(raw("{}", "text/plain"))
        .await
        .assert_error(415, None);
    // application/json with a charset is fine (a 400 for the missing userName).
    let r = api
        .raw(raw(
            "{\"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\"]}",
            "application/json; charset=utf-8",
        ))
        .await;
    r.assert_error(400, Some("invalidValue"));
    let big = format!("{{\"userName\": \"{}\"}}", "x".repeat(5000));
    let req = Request::post(USERS)
        .header(header::AUTHORIZATION, format!("Bearer {ACME}"))
        .header(header::CONTENT_TYPE, "application/scim+json")
        .body(Body::from(big))
        .unwrap();
    api.raw(req).await.assert_error(413, None);

    let r = api.get(&format!("{USERS}?filter=userName%20eq")).await;
    r.assert_error(400, Some("invalidFilter"));
    api.get(&format!("{USERS}?filter=nosuch%20eq%20%22x%22"))
        .await
        .assert_error(400, Some("invalidFilter"));
    api.get(&format!("{USERS}?sortBy=nosuch"))
        .await
        .assert_error(400, Some("invalidValue"));
    api.get(&format!("{USERS}?count=abc"))
        .await
        .assert_error(400, Some("invalidValue"));
    api.get(&format!("{USERS}?cursor=zzzz"))
        .await
        .assert_error(400, Some("invalidCursor"));
    api.patch(
        &format!("{USERS}/{}", uuid::Uuid::now_v7()),
        json!({"Operations": "x"}),
    )
    .await
    .assert_error(400, Some("invalidSyntax"));
    // None of that wrote anything.
    let n: i64 = sqlx::query_scalar("select count(*) from resources")
        .fetch_one(&api.env.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
    api.teardown().await;
}
