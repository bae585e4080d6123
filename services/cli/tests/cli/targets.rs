//! `scimbus targets list | pause | resume | parked | replay`, as an
//! operator runs them.

use scimbus_testkit::TestEnv;

use crate::support::*;

#[tokio::test]
async fn targets_are_listed_paused_resumed_and_replayed() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;
    let o = scimbus(&env, &["targets", "list"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "no targets have run yet\n");

    let o = scimbus(&env, &["targets", "pause", "--tenant", "acme", "crm"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "paused crm (tenant acme)\n");
    let o = scimbus(&env, &["targets", "list"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("TENANT  TARGET  STATE"), "{out}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        &header[5..10],
        ["PUSHED", "SKIPPED", "FAILED", "PARKED", "CIRCUIT"],
        "{out}"
    );
    let cells: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        &cells[..10],
        [
            // No worker runs here to take the pause up: asked, not yet held.
            "acme", "crm", "pausing", "0", "0", "0", "0", "0", "0", "closed"
        ]
    );

    let o = scimbus(&env, &["targets", "resume", "--tenant", "acme", "crm"]);
    assert_exit(&o, 0);
    let paused: bool =
        sqlx::query_scalar("select paused from target_progress where target = 'crm'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(!paused);

    let o = scimbus(&env, &["targets", "parked", "--tenant", "acme", "crm"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "nothing parked\n");
    // Nothing to replay is an error; --seq or --all is required.
    let o = scimbus(
        &env,
        &["targets", "replay", "--tenant", "acme", "crm", "--all"],
    );
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("nothing parked for crm"),
        "{}",
        stderr(&o)
    );
    let o = scimbus(&env, &["targets", "replay", "--tenant", "acme", "crm"]);
    assert_exit(&o, 2);
    env.teardown().await;
}
