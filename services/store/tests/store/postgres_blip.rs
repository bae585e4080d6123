//! A Postgres blip (a restart, a terminated session) costs the store a
//! prompt retry, not a fixed `lease_retry` pause of every write.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use scimbus_events::Message;
use scimbus_events::v1::CommandResult;
use scimbus_events::v1::command_result::Outcome;
use scimbus_testkit::TestEnv;

use crate::support::*;

/// Publishes a create to a one-partition store and waits up to `within`
/// for its result.
async fn create_within(h: &Harness, name: &str, within: Duration) -> Option<CommandResult> {
    let (_, cmd) = create_user("acme", name);
    let inbox = h.client.new_inbox();
    let mut sub = h.client.subscribe(inbox.clone()).await.unwrap();
    h.publish_partitioned(&cmd, Some(inbox), 1).await;
    let msg = tokio::time::timeout(within, sub.next()).await.ok()??;
    Some(CommandResult::decode(msg.payload.as_ref()).unwrap())
}

#[tokio::test]
async fn a_write_after_the_lease_session_dies_waits_far_less_than_lease_retry() {
    let mut h = Harness::on(TestEnv::new().await).await;
    let one_partition = store(&h.env, &["acme"])
        .partitions(1)
        // What a deployment runs with: a fixed wait of this long after
        // every Postgres blip is what must not happen.
        .settings(|s| s.lease_retry = Duration::from_secs(2))
        .start()
        .await;
    h.store = Some(one_partition);
    let r = create_within(&h, "before", Duration::from_secs(20))
        .await
        .expect("the store answers");
    assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");

    for round in 0..3 {
        // The partition's lease, and the replica's presence lease unless
        // it is still being taken again after the last round.
        let ended = scimbus_testkit::terminate_sessions(
            &h.env.database,
            scimbus_testkit::Sessions::LockHolders,
        )
        .await;
        assert!((1..=2).contains(&ended), "{ended} sessions ended");
        let started = Instant::now();
        let r = create_within(&h, &format!("after{round}"), Duration::from_millis(1500))
            .await
            .unwrap_or_else(|| {
                panic!(
                    "round {round}: no answer {:?} after the lease session died",
                    started.elapsed()
                )
            });
        assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    }
    h.teardown().await;
}
