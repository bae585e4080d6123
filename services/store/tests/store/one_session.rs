//! A replica holds all its partitions on one Postgres session, and one
//! transaction takes the commands waiting on any of them: spreading a
//! tenant over partitions does not cut the store's batches into smaller
//! transactions (services/store/src/partition.rs).

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use scimbus_e2e::eventually;
use scimbus_events::v1::CommandResult;
use scimbus_events::v1::command_result::Outcome;
use scimbus_events::{Message, partition};
use sqlx::Connection;

use crate::support::*;

/// Commands of the command stream's consumer `store-p<p>` delivered to the
/// store and not yet acknowledged.
async fn in_hand(h: &Harness, p: u32) -> u64 {
    let stream = h.env.subjects.command_stream();
    let mut c: async_nats::jetstream::consumer::PullConsumer =
        h.js.get_stream(&stream)
            .await
            .unwrap()
            .get_consumer(&format!("store-p{p}"))
            .await
            .unwrap();
    c.info().await.unwrap().num_ack_pending as u64
}

#[tokio::test]
async fn the_commands_waiting_on_every_partition_of_a_replica_commit_in_one_transaction() {
    let h = Harness::new(&["acme"]).await;
    // All four partitions on one session of the one replica.
    eventually(
        "the partitions are taken",
        Duration::from_secs(20),
        || async {
            match partition_holders(&h).await.len() {
                n if n == PARTITIONS as usize => Ok(()),
                n => Err(format!("{n} held")),
            }
        },
    )
    .await;
    let pids: BTreeSet<i64> = sqlx::query_scalar(
        "select pid::bigint from pg_locks where locktype = 'advisory' and classid = $1::oid
           and objsubid = 2 and granted
           and database = (select oid from pg_database where datname = current_database())",
    )
    .bind(i64::from(scimbus_db::lease::STORE_PARTITION))
    .fetch_all(&h.env.pool)
    .await
    .unwrap()
    .into_iter()
    .collect();
    assert_eq!(
        pids.len(),
        1,
        "the partitions' leases are on sessions {pids:?}"
    );

    // The tenant's sequence exists; then the test holds it, so that the
    // store's next transaction waits at its end.
    let warm = h.send(&create_user("acme", "warm").1).await;
    assert_eq!(warm.outcome, Outcome::Applied as i32, "{warm:?}");
    let mut blocker = sqlx::PgConnection::connect(&h.env.database_url)
        .await
        .unwrap();
    let mut tx = blocker.begin().await.unwrap();
    sqlx::query("select last_seq from tenant_sequences where tenant = 'acme' for update")
        .execute(&mut *tx)
        .await
        .unwrap();

    // Two creates on each partition; the first one's transaction waits.
    let mut by_partition: Vec<Vec<_>> = vec![Vec::new(); PARTITIONS as usize];
    let mut n = 0;
    while by_partition.iter().any(|v| v.len() < 2) {
        let (_, cmd) = create_user("acme", &format!("u{n}"));
        n += 1;
        let p = partition("acme", &cmd.resource_id, PARTITIONS) as usize;
        if by_partition[p].len() < 2 {
            by_partition[p].push(cmd);
        }
    }
    let inbox = h.client.new_inbox();
    let mut sub = h.client.subscribe(format!("{inbox}.*")).await.unwrap();
    let first = &by_partition[0][0];
    h.publish(first, Some(format!("{inbox}.{}", first.id)))
        .await;
    eventually(
        "the store's transaction waits",
        Duration::from_secs(20),
        || async {
            let waiting: i64 = sqlx::query_scalar(
                "select count(*) from pg_stat_activity
              where datname = current_database() and wait_event_type = 'Lock'",
            )
            .fetch_one(&h.env.pool)
            .await
            .unwrap();
            if waiting == 1 {
                Ok(())
            } else {
                Err(format!("{waiting} waiting"))
            }
        },
    )
    .await;
    let rest: Vec<_> = by_partition
        .iter()
        .flatten()
        .filter(|c| c.id != first.id)
        .collect();
    for cmd in &rest {
        h.publish(cmd, Some(format!("{inbox}.{}", cmd.id))).await;
    }
    // Every one of them is in the store's hands while it waits (the
    // waiting one too: it is acknowledged after its commit).
    for p in 0..PARTITIONS {
        eventually(
            "the commands reach the store",
            Duration::from_secs(20),
            || async {
                match in_hand(&h, p).await {
                    n if n >= 2 => Ok(()),
                    n => Err(format!("partition {p}: {n} in hand")),
                }
            },
        )
        .await;
    }
    tx.rollback().await.unwrap();

    let mut answered = 0;
    while answered < rest.len() + 1 {
        let m = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("the store answers")
            .unwrap();
        let r = CommandResult::decode(m.payload.as_ref()).unwrap();
        assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
        answered += 1;
    }
    // The waiting command committed alone; the seven that came while it
    // waited, from all four partitions, in one transaction after it.
    let names: Vec<String> = rest
        .iter()
        .map(|c| {
            let v: serde_json::Value = serde_json::from_slice(&c.payload).unwrap();
            v["userName"].as_str().unwrap().to_lowercase()
        })
        .collect();
    let transactions: Vec<String> = sqlx::query_scalar(
        "select distinct xmin::text from resources where lower(user_name) = any($1)",
    )
    .bind(&names)
    .fetch_all(&h.env.pool)
    .await
    .unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    // The change sequence stays contiguous.
    let seqs: Vec<i64> =
        sqlx::query_scalar("select seq from changes where tenant = 'acme' order by seq")
            .fetch_all(&h.env.pool)
            .await
            .unwrap();
    assert_eq!(seqs, (1..=9).collect::<Vec<i64>>());
    h.teardown().await;
}
