//! The audit trail of SCIM writes: each write the store applies or refuses
//! has exactly one entry, written in the transaction of its effect — who
//! (the token's id and label), what (operation, resource, the attribute
//! paths that changed, never a value), how it ended (status, SCIM error
//! type), from where — and a retried write (same `Idempotency-Key`) has
//! none of its own. Entries are listed newest first, by filter and cursor.

use axum::http::Method;
use scimbus_db::audit::{self, Query};
use scimbus_runtime::api_tokens::{self, TokenSpec};
use scimbus_runtime::scope::Scopes;
use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn each_scim_write_has_one_audit_entry_naming_its_token() {
    let api = Api::new().await;
    api.env.tenants(&["acme"]).await;
    let spec = TokenSpec {
        tenant: "acme",
        label: "okta provisioning",
        scopes: Scopes::tenant_default(),
        expires_at: None,
    };
    let t = api_tokens::create_with(&api.env.pool, &spec).await.unwrap();
    let keyed = [
        ("idempotency-key", "audit-1"),
        ("x-request-id", "req-audit-1"),
    ];
    let r = api
        .call_with(Method::POST, USERS, &t.token, Some(user("audited")), &keyed)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.body["id"].as_str().unwrap().to_string();
    // The client's retry: answered again, applied (and audited) once.
    let again = api
        .call_with(Method::POST, USERS, &t.token, Some(user("audited")), &keyed)
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body["id"], r.body["id"]);
    let path = format!("{USERS}/{id}");
    let password = "S3cret-audit-pw";
    let body = ops(json!([
        {"op": "replace", "path": "displayName", "value": "Audited"},
        {"op": "replace", "path": "password", "value": password}
    ]));
    let r = api.call(Method::PATCH, &path, &t.token, Some(body)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = api
        .call(Method::POST, USERS, &t.token, Some(user("audited")))
        .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = api.call(Method::DELETE, &path, &t.token, None).await;
    assert_eq!(r.status, 204, "{}", r.body);
    // Another client's write, to filter by.
    assert_eq!(api.post(USERS, user("someone-else")).await.status, 201);

    let list = |q: Query| {
        let pool = api.env.pool.clone();
        async move { audit::list(&pool, "acme", &q).await.unwrap() }
    };
    let all = list(Query {
        limit: 100,
        ..Query::default()
    })
    .await;
    let mine: Vec<&audit::Entry> = all
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e.actor == t.id.to_string())
        .collect();
    let got: Vec<(&str, i32, Option<&str>)> = mine
        .iter()
        .map(|e| (e.action.as_str(), e.status, e.scim_type.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("delete", 204, None),
            ("create", 409, Some("uniqueness")),
            ("patch", 200, None),
            ("create", 201, None),
        ],
        "newest first, the retry not among them"
    );
    let uid = uuid::Uuid::parse_str(&id).unwrap();
    for e in &mine {
        assert_eq!(e.actor_kind, "scim");
        assert_eq!(e.actor_name, "okta provisioning");
        assert_eq!(e.resource_type.as_deref(), Some("User"));
        assert!(e.client_address.is_some(), "{e:?}");
        assert!(e.command_id.is_some());
    }
    assert_eq!(mine[3].request_id.as_deref(), Some("req-audit-1"));
    assert_eq!(mine[0].resource_id, Some(uid));
    assert_eq!(mine[2].resource_id, Some(uid));
    assert_eq!(mine[2].attributes, ["displayName", "password"]);
    assert!(mine[1].attributes.is_empty(), "a refusal changed nothing");
    assert!(
        mine[3].attributes.contains(&"userName".to_string()),
        "{:?}",
        mine[3].attributes
    );
    assert_eq!(all.len(), 5, "{all:?}");
    let text: i64 =
        sqlx::query_scalar("select count(*) from audit_log a where strpos(a::text, $1) > 0")
            .bind(password)
            .fetch_one(&api.env.pool)
            .await
            .unwrap();
    assert_eq!(text, 0, "no value is kept");

    // Filters and the cursor.
    let by = |q: Query| Query { limit: 100, ..q };
    let failed = list(by(Query {
        failed: Some(true),
        ..Query::default()
    }))
    .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].1.status, 409);
    let of_user = list(by(Query {
        resource_id: Some(uid),
        ..Query::default()
    }))
    .await;
    assert_eq!(of_user.len(), 3, "created, patched, deleted");
    let patches = list(by(Query {
        action: Some("patch".into()),
        ..Query::default()
    }))
    .await;
    assert_eq!(patches.len(), 1);
    let others = list(by(Query {
        actor: Some(mine[0].actor.clone()),
        ..Query::default()
    }))
    .await;
    assert_eq!(others.len(), 4);
    let first = list(Query {
        limit: 2,
        ..Query::default()
    })
    .await;
    let rest = list(Query {
        limit: 100,
        before_id: Some(first[1].0),
        ..Query::default()
    })
    .await;
    let paged: Vec<i64> = first.iter().chain(&rest).map(|(id, _)| *id).collect();
    let whole: Vec<i64> = all.iter().map(|(id, _)| *id).collect();
    assert_eq!(paged, whole, "two pages are the whole list, once each");
    api.teardown().await;
}

/// The entries of tenant acme, newest first.
async fn trail(pool: &sqlx::PgPool) -> Vec<audit::Entry> {
    let q = Query {
        limit: 100,
        ..Query::default()
    };
    let rows = audit::list(pool, "acme", &q).await.unwrap();
    rows.into_iter().map(|(_, e)| e).collect()
}

#[tokio::test]
async fn writes_refused_at_the_door_and_operator_actions_are_audited() {
    let env = scimbus_e2e::TestEnv::new().await;
    env.bus().await;
    env.tenants(&["acme"]).await;
    // No store: nothing here becomes a command.
    let router = scimbus_e2e::IngressBuilder::new(&env)
        .admin_tokens(&["admin-writer"])
        .admin_read_tokens(&["admin-reader"])
        .targets(vec![("acme".into(), crm_target())])
        .router()
        .await;
    let call = |m: Method, path: &str, token: &str, body: Option<serde_json::Value>| {
        let (router, path, token) = (router.clone(), path.to_string(), token.to_string());
        async move {
            scimbus_e2e::http::send(
                &router,
                scimbus_e2e::http::request(m, &path, &token, body.as_ref(), &[]),
            )
            .await
        }
    };
    let token = |scopes: &'static str| {
        let pool = env.pool.clone();
        async move {
            let spec = TokenSpec {
                tenant: "acme",
                label: scopes,
                scopes: Scopes::parse(&[scopes]).unwrap(),
                expires_at: None,
            };
            api_tokens::create_with(&pool, &spec).await.unwrap()
        }
    };
    let reader = token("scim:read").await;
    let r = call(Method::POST, USERS, &reader.token, Some(user("nope"))).await;
    assert_eq!(r.status, 403, "{}", r.body);
    let bad = json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": 7});
    let r = call(Method::POST, USERS, ACME, Some(bad)).await;
    assert_eq!(r.status, 400, "{}", r.body);
    let r = call(
        Method::PATCH,
        &format!("{USERS}/not-an-id"),
        ACME,
        Some(ops(
            json!([{"op": "replace", "path": "title", "value": "t"}]),
        )),
    )
    .await;
    assert_eq!(r.status, 404, "{}", r.body);
    // No token: nobody to name, nothing recorded.
    let r = call(Method::POST, USERS, "", Some(user("anon"))).await;
    assert_eq!(r.status, 401);
    // A Bulk operation refused on its own.
    let users_only = token("users:write").await;
    let bulk = json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],
        "Operations": [{"method": "POST", "path": "/Groups", "bulkId": "g",
                        "data": {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                                 "displayName": "g"}}]});
    let r = call(
        Method::POST,
        "/scim/v2/acme/Bulk",
        &users_only.token,
        Some(bulk),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["Operations"][0]["status"], "403");
    // The operator API: an action done, one refused to a read-only token.
    let pause = "/admin/v1/tenants/acme/targets/crm/pause";
    let r = scimbus_e2e::http::send(
        &router,
        scimbus_e2e::http::request(
            Method::POST,
            pause,
            "admin-writer",
            None,
            &[("x-request-id", "req-pause")],
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = call(Method::POST, pause, "admin-reader", None).await;
    assert_eq!(r.status, 403, "{}", r.body);

    let got: Vec<(String, String, i32, Option<String>)> = trail(&env.pool)
        .await
        .into_iter()
        .map(|e| (e.actor_name, e.action, e.status, e.resource_type))
        .collect();
    let route = Some("POST /admin/v1/tenants/{tenant}/targets/{name}/pause".to_string());
    let user_type = Some("User".to_string());
    let config = "configuration file, tenant acme, token 0";
    assert_eq!(
        got,
        [
            (
                "admin (read-only)".into(),
                "admin".into(),
                403,
                route.clone()
            ),
            ("admin".into(), "admin".into(), 200, route),
            (
                "users:write".into(),
                "create".into(),
                403,
                Some("Group".into())
            ),
            (config.into(), "patch".into(), 404, user_type.clone()),
            (config.into(), "create".into(), 400, user_type.clone()),
            ("scim:read".into(), "create".into(), 403, user_type),
        ]
    );
    let entries = trail(&env.pool).await;
    assert_eq!(entries[0].actor_kind, "operator");
    assert_eq!(entries[1].attributes, ["name=crm"]);
    assert!(entries[0].actor.starts_with("admin:"));
    assert_eq!(entries[2].actor, users_only.id.to_string());
    assert_eq!(entries[5].actor, reader.id.to_string());
    assert_eq!(entries[4].scim_type.as_deref(), Some("invalidValue"));
    assert!(entries.iter().all(|e| e.command_id.is_none()));
    assert_eq!(entries[1].request_id.as_deref(), Some("req-pause"));

    // The trail through the operator API: filters, errors; reading it
    // is not an action.
    let r = call(
        Method::GET,
        "/admin/v1/tenants/acme/audit?action=admin&outcome=failure",
        "admin-reader",
        None,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let listed = r.body["entries"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{}", r.body);
    assert_eq!(listed[0]["actor"]["name"], "admin (read-only)");
    assert_eq!(listed[0]["status"], 403);
    assert_eq!(r.body["nextCursor"], serde_json::Value::Null);
    let r = call(
        Method::GET,
        "/admin/v1/tenants/acme/audit?count=2",
        "admin-writer",
        None,
    )
    .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 2);
    let cursor = r.body["nextCursor"].as_str().unwrap().to_string();
    let r = call(
        Method::GET,
        &format!("/admin/v1/tenants/acme/audit?count=10&cursor={cursor}"),
        "admin-writer",
        None,
    )
    .await;
    assert_eq!(r.body["entries"].as_array().unwrap().len(), 4, "{}", r.body);
    let r = call(
        Method::GET,
        "/admin/v1/tenants/acme/audit?who=me",
        "admin-writer",
        None,
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(
        r.body["detail"].as_str().unwrap().contains("who"),
        "{}",
        r.body
    );
    let r = call(
        Method::GET,
        "/admin/v1/tenants/nope/audit",
        "admin-writer",
        None,
    )
    .await;
    assert_eq!(r.status, 404);
    assert_eq!(trail(&env.pool).await.len(), 6);
    env.teardown().await;
}
