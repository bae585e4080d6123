//! `scimbus audit list`, and the entries the CLI's own changes leave (a
//! token made and revoked, a target paused): by `cli`, the system user as
//! its name; reads leave none.

use scimbus_testkit::TestEnv;
use serde_json::Value;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn token_commands_are_audited_and_the_trail_is_listed() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;
    let o = scimbus(
        &env,
        &["token", "create", "--tenant", "acme", "--label", "okta"],
    );
    assert_exit(&o, 0);
    let id: Uuid = field(&stdout(&o), "id").parse().unwrap();
    let o = scimbus(&env, &["token", "revoke", &id.to_string()]);
    assert_exit(&o, 0);
    // Revoked again: nothing changes, nothing is recorded.
    assert_exit(&scimbus(&env, &["token", "revoke", &id.to_string()]), 0);
    // Another operator change, and a read (not recorded).
    let pause = ["targets", "pause", "--tenant", "acme", "crm"];
    assert_exit(&scimbus(&env, &pause), 0);
    assert_exit(&scimbus(&env, &["targets", "list"]), 0);

    let o = scimbus(
        &env,
        &["audit", "list", "--tenant", "acme", "--actor", "cli"],
    );
    assert_exit(&o, 0);
    let page: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let entries = page["entries"].as_array().unwrap();
    let got: Vec<(&str, Option<&str>, i64)> = entries
        .iter()
        .map(|e| {
            (
                e["resourceType"].as_str().unwrap(),
                e["resourceId"].as_str(),
                e["status"].as_i64().unwrap(),
            )
        })
        .collect();
    let id = id.to_string();
    assert_eq!(
        got,
        [
            ("scimbus targets pause", None, 200),
            ("scimbus token revoke", Some(id.as_str()), 200),
            ("scimbus token create", Some(id.as_str()), 201),
        ]
    );
    assert_eq!(entries[0]["attributes"], serde_json::json!(["name=crm"]));
    assert_eq!(entries[0]["actor"]["kind"], "operator");
    assert_eq!(entries[0]["action"], "admin");
    assert_eq!(page["nextCursor"], Value::Null);

    // One a page: the cursor leads to the other.
    let o = scimbus(&env, &["audit", "list", "--tenant", "acme", "--count", "1"]);
    let first: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let cursor = first["nextCursor"].as_str().unwrap();
    let o = scimbus(
        &env,
        &["audit", "list", "--tenant", "acme", "--cursor", cursor],
    );
    let rest: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let rest: Vec<&str> = rest["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["resourceType"].as_str().unwrap())
        .collect();
    assert_eq!(rest, ["scimbus token revoke", "scimbus token create"]);

    // Errors name the flag; an unknown tenant is one.
    let o = scimbus(
        &env,
        &["audit", "list", "--tenant", "acme", "--outcome", "maybe"],
    );
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("--outcome"), "{}", stderr(&o));
    let o = scimbus(
        &env,
        &["audit", "list", "--tenant", "acme", "--resource", "x"],
    );
    assert!(stderr(&o).contains("--resource"), "{}", stderr(&o));
    let o = scimbus(&env, &["audit", "list", "--tenant", "nope"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("no tenant nope"), "{}", stderr(&o));
    env.teardown().await;
}
