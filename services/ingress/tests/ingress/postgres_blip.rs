//! Reads across a Postgres restart: the read pool does not test a
//! connection before lending it, so the connections that sat idle through
//! a restart are dead; a read that meets one is read again on a live
//! connection instead of answering 500.

use axum::http::{Method, StatusCode};
use futures_util::future::join_all;
use serde_json::json;

use crate::support::*;

const DB_TOKEN: &str = "a-token-of-the-database";

#[tokio::test]
async fn reads_on_connections_killed_by_a_restart_are_answered() {
    let api = Api::new().await;
    let r = api.post(USERS, user("blip")).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let user_id = r.body["id"].as_str().unwrap().to_string();
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "blippers",
        "members": [{"value": user_id}]
    });
    let r = api.post(GROUPS, group).await;
    assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
    let group_id = r.body["id"].as_str().unwrap().to_string();
    // A token of the database (`scimbus token create`), first used after
    // the restart: its lookup reads through a dead connection too.
    sqlx::query("insert into api_tokens (id, tenant, token_hash) values ($1, 'acme', $2)")
        .bind(uuid::Uuid::now_v7())
        .bind(scimbus_runtime::token_hash(DB_TOKEN).as_slice())
        .execute(&api.env.pool)
        .await
        .unwrap();
    let paths = [
        format!("{USERS}/{user_id}"),
        format!("{GROUPS}/{group_id}"),
        format!("{USERS}?filter=userName%20eq%20%22blip%22"),
        format!("{GROUPS}?startIndex=1&count=5"),
    ];
    // Several reads at once leave several idle connections in the pool.
    let warm = join_all((0..16).map(|i| api.get(&paths[i % paths.len()]))).await;
    for r in &warm {
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    }

    let killed =
        scimbus_testkit::terminate_sessions(&api.env.database, scimbus_testkit::Sessions::All)
            .await;
    assert!(killed >= 4, "only {killed} sessions to terminate");

    let after = join_all((0..16).map(|i| api.get(&paths[i % paths.len()]))).await;
    for (i, r) in after.iter().enumerate() {
        assert_eq!(
            r.status,
            StatusCode::OK,
            "{} after the restart: {}",
            paths[i % paths.len()],
            r.body
        );
    }
    let r = api.call(Method::GET, &paths[0], DB_TOKEN, None).await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "with a database token: {}",
        r.body
    );
    // A group read renders its members, read in a query of their own.
    let r = api.get(&paths[1]).await;
    assert_eq!(r.body["members"][0]["value"], user_id.as_str());
    api.teardown().await;
}
