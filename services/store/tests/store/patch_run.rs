//! PATCHes of many users in one batch are applied as one run (one read, one
//! write): each is answered as it would be alone — applied, unchanged, not
//! found, If-Match failed, invalid, userName taken, a rename, the same user
//! twice — and the rows, changes and audit entries are what applying them
//! one at a time makes.

use scimbus_events::v1::{Command, command_result::Outcome};
use serde_json::json;
use uuid::Uuid;

use crate::support::*;

async fn batch(h: &Harness, cmds: &[Command]) -> scimbus_store::Committed {
    let registry = scimbus_scim::Registry::standard().unwrap();
    let mut conn = h.env.pool.acquire().await.unwrap();
    let pairs: Vec<(Uuid, &Command)> = cmds.iter().map(|c| (c.id.parse().unwrap(), c)).collect();
    scimbus_store::apply_batch(
        &mut conn,
        &registry,
        &scimbus_store::Owners::default(),
        chrono::Utc::now(),
        &pairs,
    )
    .await
    .unwrap()
}

fn title(v: &str) -> serde_json::Value {
    json!([{"op": "replace", "path": "title", "value": v}])
}

#[tokio::test]
async fn a_run_of_user_patches_answers_each_as_alone() {
    let h = Harness::new(&["acme"]).await;
    let names = ["pa", "pb", "pc", "pd", "pe", "pf", "taken"];
    let creates: Vec<(Uuid, Command)> = names.iter().map(|n| create_user("acme", n)).collect();
    let created = batch(
        &h,
        &creates.iter().map(|(_, c)| c.clone()).collect::<Vec<_>>(),
    )
    .await;
    assert!(
        created
            .results
            .iter()
            .all(|r| r.outcome == Outcome::Applied as i32)
    );
    let id = |n: &str| creates[names.iter().position(|x| *x == n).unwrap()].0;
    let mut stale = patch("acme", "User", id("pb"), title("never"));
    stale.if_match = "W/\"9\"".into();
    let cmds = vec![
        patch("acme", "User", id("pa"), title("First")),
        stale,
        patch("acme", "User", Uuid::now_v7(), title("nobody")),
        patch(
            "acme",
            "User",
            id("pc"),
            json!([{"op": "replace", "path": "noSuchAttribute", "value": 1}]),
        ),
        patch(
            "acme",
            "User",
            id("pd"),
            json!([{"op": "replace", "path": "userName", "value": "TAKEN"}]),
        ),
        patch(
            "acme",
            "User",
            id("pe"),
            json!([{"op": "replace", "path": "userName", "value": "pe-renamed"}]),
        ),
        // What pf has already: no change, no version.
        patch(
            "acme",
            "User",
            id("pf"),
            json!([{"op": "replace", "path": "userName", "value": "pf"}]),
        ),
        // pa again: after its first PATCH, in the same transaction.
        patch("acme", "User", id("pa"), title("Second")),
    ];
    let done = batch(&h, &cmds).await;
    let got: Vec<(i32, u64, String)> = done
        .results
        .iter()
        .map(|r| {
            (
                r.outcome,
                r.version,
                r.error
                    .as_ref()
                    .map(|e| e.scim_type.clone())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            (Outcome::Applied as i32, 2, String::new()),
            (Outcome::PreconditionFailed as i32, 0, String::new()),
            (Outcome::NotFound as i32, 0, String::new()),
            (Outcome::Invalid as i32, 0, "invalidPath".into()),
            (Outcome::Conflict as i32, 0, "uniqueness".into()),
            (Outcome::Applied as i32, 2, String::new()),
            (Outcome::Applied as i32, 1, String::new()),
            (Outcome::Applied as i32, 3, String::new()),
        ],
        "{:#?}",
        done.results
    );
    // The answers carry the resource as it is after each write.
    assert_eq!(resource(&done.results[0])["title"], "First");
    assert_eq!(resource(&done.results[7])["title"], "Second");
    assert_eq!(resource(&done.results[5])["userName"], "pe-renamed");
    assert_eq!(resource(&done.results[6])["meta"]["version"], "W/\"1\"");
    // Rows: the columns kept in step with the documents.
    let rows: Vec<(String, i64, Option<String>)> = sqlx::query_as(
        "select user_name, version, doc->>'title' from resources
         where tenant = 'acme' and resource_type = 'User' order by user_name",
    )
    .fetch_all(&h.env.pool)
    .await
    .unwrap();
    let row = |n: &str| rows.iter().find(|r| r.0 == n).cloned();
    assert_eq!(row("pa"), Some(("pa".into(), 3, Some("Second".into()))));
    assert_eq!(row("pb").map(|r| r.1), Some(1));
    assert_eq!(row("pd").map(|r| r.1), Some(1), "the clash changed nothing");
    assert_eq!(row("pe-renamed").map(|r| r.1), Some(2));
    assert_eq!(row("pf").map(|r| r.1), Some(1));
    // One change per applied write that changed something: pa twice, pe.
    assert_eq!(done.changes.len(), 3);
    // One audit entry per command of the batch.
    let entries: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where tenant = 'acme' and action = 'patch'",
    )
    .fetch_one(&h.env.pool)
    .await
    .unwrap();
    assert_eq!(entries, 8);
    h.teardown().await;
}
