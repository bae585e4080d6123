//! The operator API the console reads through: the people search, a
//! resource's per-target view, the history of a target's counters — and
//! the console's pages saying the same, escaped.

use axum::http::Method;
use scimbus_e2e::http::send;
use serde_json::{Value, json};

use crate::console::{Console, READER, html};
use crate::support::{ADMIN, Reply};

async fn create(c: &Console, body: Value) -> String {
    create_in(c, "Users", body).await
}

async fn create_in(c: &Console, endpoint: &str, body: Value) -> String {
    let req = scimbus_e2e::http::request(
        Method::POST,
        &format!("/scim/v2/acme/{endpoint}"),
        scimbus_e2e::ACME_TOKEN,
        Some(&body),
        &[],
    );
    let r = send(&c.router, req).await;
    assert_eq!(r.status, 201, "{}", r.body);
    r.body["id"].as_str().unwrap().to_string()
}

/// The target crm holds user `id` at `version`, as `remote`.
async fn held_by_crm(c: &Console, id: &str, remote: &str, version: i64) {
    sqlx::query(
        "insert into target_links (tenant, target, resource_id, resource_type, remote_id, version, in_scope)
         values ('acme', 'crm', $1::uuid, 'User', $2, $3, true)",
    )
    .bind(id)
    .bind(remote)
    .bind(version)
    .execute(&c.env.pool)
    .await
    .unwrap();
}

/// The target crm parked change `seq` of user `id`, for `reason`.
async fn parked_by_crm(c: &Console, id: &str, seq: i64, reason: &str) {
    sqlx::query(
        "insert into parked_changes (tenant, target, seq, resource_type, resource_id, payload, reason, attempts)
         values ('acme', 'crm', $2, 'User', $1::uuid, '', $3, 3)",
    )
    .bind(id)
    .bind(seq)
    .bind(reason)
    .execute(&c.env.pool)
    .await
    .unwrap();
}

async fn admin(c: &Console, path: &str) -> Reply {
    let req = scimbus_e2e::http::request(Method::GET, path, ADMIN, None, &[]);
    send(&c.router, req).await
}

#[tokio::test]
async fn a_person_is_found_by_what_an_operator_knows_and_shown_per_target() {
    let c = Console::new().await;
    let id = create(
        &c,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "Ada.Lovelace", "externalId": "E-1815", "active": false,
               "displayName": "<script>alert(1)</script>",
               "emails": [{"value": "Ada@Example.com", "primary": true}]}),
    )
    .await;
    for q in ["ada.lovelace", "ada@example.com", "E-1815", id.as_str()] {
        let r = admin(
            &c,
            &format!("/admin/v1/tenants/acme/resources?q={}", urlenc(q)),
        )
        .await;
        assert_eq!(r.status, 200, "{q}: {}", r.body);
        let ids: Vec<&str> = r.body["resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, [id.as_str()], "{q}");
    }
    // externalId is case-exact; nothing else matches.
    let r = admin(&c, "/admin/v1/tenants/acme/resources?q=e-1815").await;
    assert_eq!(r.body["resources"], json!([]));
    admin(&c, "/admin/v1/tenants/acme/resources?q=")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/resources?q=a&count=0")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/resources?q=a&x=1")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/nope/resources?q=a")
        .await
        .assert_error(404, None);

    // Inactive, and crm takes only active users: not in scope.
    let base = format!("/admin/v1/tenants/acme/resources/{id}");
    let r = admin(&c, &base).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["resource"]["userName"], "Ada.Lovelace");
    let crm = &r.body["targets"][0];
    assert_eq!(crm["target"], "crm");
    assert_eq!(crm["takes"], true);
    assert_eq!(crm["inScopeNow"], false);
    assert_eq!(crm["filter"], "active eq true");
    assert_eq!(crm["outcome"], "not in scope");
    assert_eq!(r.body["changes"][0]["operation"], "created");
    assert_eq!(r.body["changes"][0]["version"], 1);
    // The target holds an older version: behind; then a parked change.
    held_by_crm(&c, &id, "r-77", 0).await;
    let r = admin(&c, &base).await;
    assert_eq!(r.body["targets"][0]["outcome"], "behind");
    assert_eq!(r.body["targets"][0]["remoteId"], "r-77");
    parked_by_crm(&c, &id, 9, "the target said 400: bad email").await;
    let r = admin(&c, &base).await;
    assert_eq!(r.body["targets"][0]["outcome"], "parked");
    assert_eq!(
        r.body["targets"][0]["parked"][0]["reason"],
        "the target said 400: bad email"
    );
    // The parked list, at most `count` of it.
    let r = admin(&c, "/admin/v1/tenants/acme/targets/crm/parked?count=1").await;
    assert_eq!(r.body["parked"].as_array().unwrap().len(), 1, "{}", r.body);
    admin(&c, "/admin/v1/tenants/acme/targets/crm/parked?count=0")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/targets/crm/parked?limit=1")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/resources/not-a-uuid")
        .await
        .assert_error(404, None);

    // The console's pages say the same, escaped.
    let (cookie, _) = c.sign_in(READER).await;
    let page = c
        .get("/admin/tenants/acme/people?q=ADA.LOVELACE", Some(&cookie))
        .await;
    assert!(
        html(&page).contains(&format!("/admin/tenants/acme/people/{id}")),
        "{}",
        page.body
    );
    let page = c
        .get(&format!("/admin/tenants/acme/people/{id}"), Some(&cookie))
        .await;
    assert_eq!(page.status, 200);
    let text = html(&page);
    assert!(text.contains("the target said 400: bad email"), "{text}");
    assert!(!text.contains("<script>alert(1)"), "escaped: {text}");
    assert!(text.contains("&lt;script&gt;alert(1)"), "{text}");
    c.teardown().await;
}

fn urlenc(s: &str) -> String {
    serde_urlencoded::to_string([("q", s)]).unwrap()[2..].to_string()
}

#[tokio::test]
async fn history_is_the_minutes_the_outbound_sampled() {
    let c = Console::new().await;
    c.target_ran().await;
    let (cookie, _) = c.sign_in(READER).await;
    let overview = c.get("/admin/", Some(&cookie)).await;
    assert!(
        html(&overview).contains("no samples yet"),
        "{}",
        overview.body
    );
    let taken = scimbus_db::console::take_samples(&c.env.pool, 24)
        .await
        .unwrap();
    assert_eq!(taken, 1);
    // The same minute again takes nothing.
    assert_eq!(
        scimbus_db::console::take_samples(&c.env.pool, 24)
            .await
            .unwrap(),
        0
    );
    let r = admin(&c, "/admin/v1/tenants/acme/targets/crm/history").await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["samples"][0]["pushed"], 7);
    assert_eq!(r.body["samples"].as_array().unwrap().len(), 1);
    // Every history at once, as the overview reads them.
    let all = admin(&c, "/admin/v1/history?minutes=5").await;
    assert_eq!(all.status, 200, "{}", all.body);
    let histories = all.body["histories"].as_array().unwrap();
    let crm: Vec<&Value> = histories
        .iter()
        .filter(|h| h["kind"] == "target" && h["tenant"] == "acme" && h["name"] == "crm")
        .collect();
    assert_eq!(crm.len(), 1, "{}", all.body);
    assert_eq!(crm[0]["samples"], r.body["samples"]);
    admin(&c, "/admin/v1/history?minutes=1441")
        .await
        .assert_error(400, Some("invalidValue"));
    // The overview charts them from that one call.
    let overview = c.get("/admin/", Some(&cookie)).await;
    assert!(
        !html(&overview).contains("no samples yet"),
        "{}",
        overview.body
    );
    admin(&c, "/admin/v1/tenants/acme/targets/crm/history?minutes=0")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/targets/crm/history?hours=1")
        .await
        .assert_error(400, Some("invalidValue"));
    admin(&c, "/admin/v1/tenants/acme/targets/nope/history")
        .await
        .assert_error(404, None);
    admin(&c, "/admin/v1/tenants/acme/subscriptions/nope/history")
        .await
        .assert_error(404, None);
    // Samples older than what is kept go at the next sampling.
    sqlx::query("update progress_samples set at = at - interval '25 hours'")
        .execute(&c.env.pool)
        .await
        .unwrap();
    scimbus_db::console::take_samples(&c.env.pool, 24)
        .await
        .unwrap();
    let n: i64 = sqlx::query_scalar("select count(*) from progress_samples")
        .fetch_one(&c.env.pool)
        .await
        .unwrap();
    assert_eq!(n, 1);
    c.teardown().await;
}

#[tokio::test]
async fn a_group_is_found_by_its_name_and_shown_without_its_members() {
    let c = Console::new().await;
    let member = create(
        &c,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "m1"}),
    )
    .await;
    let group = create_in(
        &c,
        "Groups",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
               "displayName": "Tour Guides", "members": [{"value": member}]}),
    )
    .await;
    let r = admin(&c, "/admin/v1/tenants/acme/resources?q=tour%20guides").await;
    assert_eq!(r.body["resources"][0]["id"], group.as_str(), "{}", r.body);
    assert_eq!(r.body["resources"][0]["resourceType"], "Group");
    let r = admin(&c, &format!("/admin/v1/tenants/acme/resources/{group}")).await;
    assert_eq!(r.body["memberCount"], 1, "{}", r.body);
    assert_eq!(r.body["memberCountCapped"], false);
    assert!(r.body["resource"].get("members").is_none(), "{}", r.body);
    // crm takes Users only.
    assert_eq!(r.body["targets"][0]["takes"], false);
    assert_eq!(r.body["targets"][0]["outcome"], "not taken");
    // A user's page lists its groups; another tenant's resource is none.
    let r = admin(&c, &format!("/admin/v1/tenants/acme/resources/{member}")).await;
    assert_eq!(
        r.body["resource"]["groups"][0]["value"],
        group.as_str(),
        "{}",
        r.body
    );
    admin(&c, &format!("/admin/v1/tenants/other/resources/{member}"))
        .await
        .assert_error(404, None);
    let (cookie, _) = c.sign_in(READER).await;
    let page = c
        .get(
            &format!("/admin/tenants/acme/people/{group}"),
            Some(&cookie),
        )
        .await;
    assert!(
        html(&page).contains("1 member (not listed here)"),
        "{}",
        page.body
    );
    c.teardown().await;
}

#[tokio::test]
async fn a_deleted_person_is_shown_while_a_target_still_holds_it_or_parked_its_delete() {
    let c = Console::new().await;
    let id = create(
        &c,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
               "userName": "gone.soon", "active": true}),
    )
    .await;
    // crm holds version 1 of it.
    held_by_crm(&c, &id, "r-9", 1).await;
    let base = format!("/admin/v1/tenants/acme/resources/{id}");
    assert_eq!(
        admin(&c, &base).await.body["targets"][0]["outcome"],
        "pushed"
    );
    let req = scimbus_e2e::http::request(
        Method::DELETE,
        &format!("/scim/v2/acme/Users/{id}"),
        scimbus_e2e::ACME_TOKEN,
        None,
        &[],
    );
    assert_eq!(send(&c.router, req).await.status, 204);
    // Deleted here, still held there: the delete is on its way.
    let r = admin(&c, &base).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["resource"], Value::Null);
    assert_eq!(r.body["resourceType"], "User");
    assert_eq!(r.body["lastStored"]["userName"], "gone.soon", "{}", r.body);
    assert_eq!(r.body["deleted"]["version"], 2, "{}", r.body);
    assert_eq!(r.body["changes"][0]["operation"], "deleted");
    let crm = &r.body["targets"][0];
    assert_eq!(crm["outcome"], "behind", "{}", r.body);
    assert_eq!(crm["remoteId"], "r-9");
    assert_eq!(crm["inScopeNow"], Value::Null);
    // The target refused the delete: parked.
    let seq: i64 = r.body["deleted"]["seq"].as_i64().unwrap();
    parked_by_crm(&c, &id, seq, "the target said 409: user has open tickets").await;
    let r = admin(&c, &base).await;
    assert_eq!(r.body["targets"][0]["outcome"], "parked", "{}", r.body);
    let (cookie, _) = c.sign_in(READER).await;
    let page = c
        .get(&format!("/admin/tenants/acme/people/{id}"), Some(&cookie))
        .await;
    assert_eq!(page.status, 200);
    let text = html(&page);
    assert!(text.contains("gone.soon (deleted)"), "{text}");
    assert!(text.contains("user has open tickets"), "{text}");
    assert!(
        text.contains("As last stored, before it was deleted"),
        "{text}"
    );
    // Replayed and pushed: nothing held, nothing parked; the changes still
    // tell what it was.
    sqlx::query("delete from parked_changes where tenant = 'acme' and resource_id = $1::uuid")
        .bind(&id)
        .execute(&c.env.pool)
        .await
        .unwrap();
    sqlx::query("delete from target_links where tenant = 'acme' and resource_id = $1::uuid")
        .bind(&id)
        .execute(&c.env.pool)
        .await
        .unwrap();
    let r = admin(&c, &base).await;
    assert_eq!(r.body["targets"][0]["outcome"], "not held", "{}", r.body);
    assert_eq!(r.body["targets"][0]["remoteId"], Value::Null);
    // An id the tenant never had is none.
    admin(
        &c,
        "/admin/v1/tenants/acme/resources/0190f5e4-0000-7000-8000-000000000001",
    )
    .await
    .assert_error(404, None);
    c.teardown().await;
}
