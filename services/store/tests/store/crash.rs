//! Invariant 1 and 2 under a crash: the store binary is killed (SIGKILL)
//! in the middle of a load and started again; every command is applied
//! exactly once and every change is published.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use scimbus_testkit::TestEnv;
use tokio::process::Child;

use crate::support::*;

fn spawn_store(env: &TestEnv) -> Child {
    scimbus_e2e::binary::command(env!("CARGO_BIN_EXE_scimbus-store"), env)
        .env("SCIMBUS_TENANTS", "acme")
        .env("SCIMBUS_PARTITIONS", PARTITIONS.to_string())
        .env("SCIMBUS_STORE_ADDR", "127.0.0.1:0")
        .env("SCIMBUS_STORE_BATCH", "50")
        .spawn()
        .expect("start scimbus-store")
}

#[tokio::test]
async fn a_killed_store_loses_nothing_and_applies_nothing_twice() {
    let h = Harness::on(TestEnv::new().await).await;
    let mut store = spawn_store(&h.env);

    const N: usize = 1500;
    let mut ids = HashSet::new();
    let mut cmds = Vec::new();
    for i in 0..N {
        let (id, cmd) = create_user("acme", &format!("crash{i}"));
        ids.insert(id);
        cmds.push(cmd);
    }
    // Publish everything; kill the store once it has applied some of it.
    for cmd in &cmds {
        h.publish(cmd, None).await;
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let applied: i64 = sqlx::query_scalar("select count(*) from applied_commands")
            .fetch_one(&h.env.pool)
            .await
            .unwrap_or(0);
        if applied > 100 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "only {applied} commands applied in 60 s: the load never got going"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    store.start_kill().unwrap();
    store.wait().await.unwrap();
    let at_kill: i64 = h.count("select count(*) from applied_commands").await;
    assert!(
        at_kill < N as i64,
        "the kill came before the end ({at_kill} applied)"
    );

    // Some commands are delivered again after the restart: the ones the
    // dead store had applied but not acknowledged. Send a few applied ones
    // again on purpose, too.
    for cmd in cmds.iter().take(20) {
        h.publish(cmd, None).await;
    }
    let mut store = spawn_store(&h.env);
    let changes = h.changes(N).await;
    store.start_kill().unwrap();
    store.wait().await.unwrap();

    assert_eq!(h.count("select count(*) from resources").await, N as i64);
    assert_eq!(
        h.count("select count(*) from applied_commands").await,
        N as i64
    );
    assert_eq!(h.count("select count(*) from changes").await, N as i64);
    // The audit trail is written with the effect: one entry per command,
    // whatever was killed or delivered again.
    assert_eq!(
        h.count("select count(distinct command_id) from audit_log where status = 201")
            .await,
        N as i64
    );
    assert_eq!(h.count("select count(*) from audit_log").await, N as i64);
    assert_eq!(
        changes.len(),
        N,
        "every change published once (JetStream dropped republished duplicates)"
    );
    let published: HashSet<uuid::Uuid> = changes
        .iter()
        .map(|c| c.resource_id.parse().unwrap())
        .collect();
    assert_eq!(published, ids);
    let mut seqs: Vec<u64> = changes.iter().map(|c| c.sequence).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=N as u64).collect::<Vec<_>>(),
        "a contiguous sequence"
    );
    // The work queue is empty: everything was acknowledged.
    let mut s =
        h.js.get_stream(h.env.subjects.command_stream())
            .await
            .unwrap();
    assert_eq!(s.info().await.unwrap().state.messages, 0);
    h.teardown().await;
}
