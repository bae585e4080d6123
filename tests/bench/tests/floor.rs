//! The GET's floor (`scimbus-bench get-floor`) against the real Postgres of
//! the test run: it must answer what the ingress answers for the same
//! user, or its rate would be the rate of something else.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{DurationRound, TimeDelta, Utc};
use scimbus_db::render::{self, Relations};
use scimbus_db::resources::{self, Row};
use serde_json::{Value, json};
use tower::ServiceExt;

async fn get(app: &axum::Router, uri: &str) -> (StatusCode, Vec<u8>) {
    let res = app
        .clone()
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let body = axum::body::to_bytes(res.into_body(), 1 << 20)
        .await
        .unwrap();
    (status, body.to_vec())
}

#[tokio::test]
async fn the_floor_answers_a_user_name_filter_with_the_users_resource_as_the_ingress_renders_it() {
    let env = scimbus_testkit::TestEnv::new().await;
    env.tenants(&["acme", "other"]).await;
    let now = Utc::now()
        .duration_trunc(TimeDelta::microseconds(1))
        .unwrap();
    let user = |name: &str| Row {
        id: uuid::Uuid::now_v7(),
        resource_type: "User".into(),
        version: 3,
        created: now,
        last_modified: now,
        doc: sqlx::types::Json(json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name,
            "name": {"givenName": "Alice", "familyName": "Liddell"},
            "emails": [{"value": "alice@example.com", "type": "work", "primary": true}],
            "active": true,
        })),
    };
    let alice = user("Alice");
    let mut conn = env.pool.acquire().await.unwrap();
    assert!(resources::insert(&mut conn, "acme", &alice).await.unwrap());
    // Another tenant's user of the same name is not acme's.
    assert!(
        resources::insert(&mut conn, "other", &user("Alice"))
            .await
            .unwrap()
    );
    drop(conn);

    let base = "http://floor.test/scim/v2/acme".to_string();
    let app = scimbus_bench::floor::router(&env.database_url, "acme", base.clone(), 2)
        .await
        .unwrap();

    // userName is matched without case, as the ingress's query does.
    let (status, body) = get(&app, "/Users?filter=userName%20eq%20%22ALICE%22").await;
    assert_eq!(status, StatusCode::OK);
    let got: Value = serde_json::from_slice(&body).unwrap();
    let mut expected = render::resource(&alice, Relations::default());
    expected["meta"]["location"] = json!(format!("{base}/Users/{}", alice.id));
    assert_eq!(got["totalResults"], 1);
    assert_eq!(got["itemsPerPage"], 1);
    assert_eq!(got["Resources"], json!([expected]));

    let (status, body) = get(&app, "/Users?filter=userName%20eq%20%22bob%22").await;
    assert_eq!(status, StatusCode::OK);
    let got: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(got["totalResults"], 0);
    assert_eq!(got["Resources"], json!([]));

    let (status, _) = get(&app, "/Users?filter=displayName%20eq%20%22Alice%22").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    env.teardown().await;
}
