//! Invariants 1 and 4 across a crash of NATS itself (SIGKILL of a private
//! nats-server in the middle of a load): every write a client saw applied
//! is in Postgres once, and every committed change ends up on the change
//! stream — JetStream acknowledges before it syncs, so the store publishes
//! again whatever the stream is missing.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use scimbus_events::Message;
use scimbus_events::v1::{Command, CommandResult, command_result::Outcome};
use scimbus_testkit::{PrivateNats, TestEnv};

use crate::support::*;

/// What an IdP does: send, and on no answer send the same command again.
async fn send_until_answered(h: &Harness, cmd: &Command) -> CommandResult {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        assert!(
            Instant::now() < deadline,
            "no answer for {} in 90 s",
            cmd.id
        );
        let attempt = async {
            let inbox = h.client.new_inbox();
            let mut sub = h.client.subscribe(inbox.clone()).await.ok()?;
            let publish = h.publish_checked(cmd, Some(inbox));
            publish.await.ok()?;
            let msg = sub.next().await?;
            CommandResult::decode(msg.payload.as_ref()).ok()
        };
        if let Ok(Some(r)) = tokio::time::timeout(Duration::from_secs(3), attempt).await {
            return r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_nats_crash_loses_no_applied_write_and_no_change() {
    let mut nats = PrivateNats::start().await;
    let mut h = Harness::on(TestEnv::with_nats(&nats.url).await).await;
    h.store = Some(start_store(&h.env, &["acme"]).await);
    let h = Arc::new(h);

    const CLIENTS: usize = 4;
    const EACH: usize = 120;
    let mut tasks = Vec::new();
    for c in 0..CLIENTS {
        let h = h.clone();
        tasks.push(tokio::spawn(async move {
            let mut answered = Vec::new();
            for i in 0..EACH {
                let (_, cmd) = create_user("acme", &format!("c{c}-{i}"));
                let r = send_until_answered(&h, &cmd).await;
                assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
                answered.push(cmd.id.clone());
            }
            answered
        }));
    }
    // Crash NATS once a good part of the load is in.
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.count("select count(*) from applied_commands").await < 150 {
        assert!(Instant::now() < deadline, "the load did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    nats.kill().await;
    let at_kill = h.count("select count(*) from applied_commands").await;
    assert!(
        at_kill < (CLIENTS * EACH) as i64,
        "the crash came before the end of the load ({at_kill} applied)"
    );
    // Down for a moment (how long is no proof of anything: the checks
    // below wait for what they need).
    tokio::time::sleep(Duration::from_millis(800)).await;
    nats.restart().await;

    let mut answered = HashSet::new();
    for t in tasks {
        answered.extend(t.await.unwrap());
    }
    let n = CLIENTS * EACH;
    assert_eq!(answered.len(), n);
    // Each answered write is in Postgres, once.
    assert_eq!(h.count("select count(*) from resources").await, n as i64);
    assert_eq!(
        h.count("select count(*) from applied_commands").await,
        n as i64
    );
    let in_db: HashSet<String> =
        sqlx::query_scalar::<_, uuid::Uuid>("select command_id from applied_commands")
            .fetch_all(&h.env.pool)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.to_string())
            .collect();
    assert_eq!(in_db, answered);
    // Every change reaches the stream (the sweeper runs every 500 ms).
    let deadline = Instant::now() + Duration::from_secs(60);
    let ids = loop {
        let changes = h.changes(0).await;
        let ids: HashSet<String> = changes.iter().map(|c| c.id.clone()).collect();
        let mut seqs: Vec<u64> = changes.iter().map(|c| c.sequence).collect();
        seqs.sort_unstable();
        seqs.dedup();
        if ids.len() == n && seqs == (1..=n as u64).collect::<Vec<_>>() {
            break ids;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {n} changes on the stream",
            ids.len()
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let in_db: HashSet<String> = sqlx::query_scalar::<_, uuid::Uuid>("select id from changes")
        .fetch_all(&h.env.pool)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.to_string())
        .collect();
    assert_eq!(ids, in_db);
    let h = Arc::try_unwrap(h).ok().expect("the clients are done");
    h.teardown().await;
    drop(nats);
}
