//! A replica holds all its partitions on one Postgres session, and one
//! transaction takes the commands waiting on any of them: spreading a
//! tenant over partitions does not cut the store's batches into smaller
//! transactions (services/store/src/partition.rs).

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use scimbus_e2e::eventually;
use scimbus_events::v1::command_result::Outcome;
use scimbus_events::v1::{Command, CommandResult};
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

/// Creates of tenant `acme`, `per` on each of `partitions` partitions.
fn creates_on(partitions: u32, per: &[usize]) -> Vec<Vec<Command>> {
    let mut by_partition: Vec<Vec<Command>> = vec![Vec::new(); partitions as usize];
    let mut n = 0;
    while by_partition.iter().zip(per).any(|(v, &k)| v.len() < k) {
        let (_, cmd) = create_user("acme", &format!("u{n}"));
        n += 1;
        let p = partition("acme", &cmd.resource_id, partitions) as usize;
        if by_partition[p].len() < per[p] {
            by_partition[p].push(cmd);
        }
    }
    by_partition
}

/// Publishes `first`, holds the store's transaction of it at its end (the
/// test holds the tenant's sequence row: its first change was made
/// before), publishes `then` meanwhile and waits until JetStream has
/// delivered every one of them to the store, then lets the transaction go
/// on and waits until all are applied. The store pulls `batch` commands
/// of a partition at a time.
async fn while_the_store_waits(h: &Harness, batch: u64, first: &Command, then: &[&Command]) {
    let mut blocker = sqlx::PgConnection::connect(&h.env.database_url)
        .await
        .unwrap();
    let mut tx = blocker.begin().await.unwrap();
    sqlx::query("select last_seq from tenant_sequences where tenant = 'acme' for update")
        .execute(&mut *tx)
        .await
        .unwrap();
    let inbox = h.client.new_inbox();
    let mut sub = h.client.subscribe(format!("{inbox}.*")).await.unwrap();
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
    for cmd in then {
        h.publish(cmd, Some(format!("{inbox}.{}", cmd.id))).await;
    }
    // Every one of them is in the store's hands while it waits (the
    // waiting one too: it is acknowledged after its commit) — as many as
    // the store pulls at once, `batch`, of a partition with more.
    let mut want = vec![0u64; PARTITIONS as usize];
    for cmd in std::iter::once(first).chain(then.iter().copied()) {
        want[partition("acme", &cmd.resource_id, PARTITIONS) as usize] += 1;
    }
    for (p, want) in want.into_iter().enumerate() {
        eventually(
            "the commands reach the store",
            Duration::from_secs(20),
            || async {
                match in_hand(h, p as u32).await {
                    n if n >= want.min(batch) => Ok(()),
                    n => Err(format!("partition {p}: {n} in hand of {want}")),
                }
            },
        )
        .await;
    }
    tx.rollback().await.unwrap();
    for _ in 0..=then.len() {
        let m = tokio::time::timeout(Duration::from_secs(20), sub.next())
            .await
            .expect("the store answers")
            .unwrap();
        let r = CommandResult::decode(m.payload.as_ref()).unwrap();
        assert_eq!(r.outcome, Outcome::Applied as i32, "{r:?}");
    }
}

/// The tenant's change sequence, in order.
async fn sequence(h: &Harness) -> Vec<i64> {
    sqlx::query_scalar("select seq from changes where tenant = 'acme' order by seq")
        .fetch_all(&h.env.pool)
        .await
        .unwrap()
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

    let warm = h.send(&create_user("acme", "warm").1).await;
    assert_eq!(warm.outcome, Outcome::Applied as i32, "{warm:?}");
    // Two creates on each partition; the first one's transaction waits.
    let by_partition = creates_on(PARTITIONS, &[2; PARTITIONS as usize]);
    let first = &by_partition[0][0];
    let rest: Vec<&Command> = by_partition
        .iter()
        .flatten()
        .filter(|c| c.id != first.id)
        .collect();
    while_the_store_waits(&h, 256, first, &rest).await;

    // The waiting command committed alone; the seven that came while it
    // waited, from all four partitions, in one transaction after it.
    let ids: Vec<uuid::Uuid> = rest
        .iter()
        .map(|c| c.resource_id.parse().unwrap())
        .collect();
    let transactions: Vec<String> =
        sqlx::query_scalar("select distinct xmin::text from resources where id = any($1)")
            .bind(&ids)
            .fetch_all(&h.env.pool)
            .await
            .unwrap();
    assert_eq!(transactions.len(), 1, "{transactions:?}");
    assert_eq!(sequence(&h).await, (1..=9).collect::<Vec<i64>>());
    h.teardown().await;
}

#[tokio::test]
async fn a_partition_with_much_waiting_does_not_keep_the_others_out_of_a_batch() {
    let mut h = Harness::on(scimbus_testkit::TestEnv::new().await).await;
    h.store = Some(
        store(&h.env, &["acme"])
            .settings(|s| s.batch_max = 4)
            .start()
            .await,
    );
    let warm = h.send(&create_user("acme", "warm").1).await;
    assert_eq!(warm.outcome, Outcome::Applied as i32, "{warm:?}");
    // While the store waits: twelve creates on partition 0, two on
    // partition 3. Batches of at most four.
    let by_partition = creates_on(PARTITIONS, &[13, 0, 0, 2]);
    let first = &by_partition[0][0];
    let rest: Vec<&Command> = by_partition[0][1..]
        .iter()
        .chain(&by_partition[3])
        .collect();
    while_the_store_waits(&h, 4, first, &rest).await;
    // Sequence 1 is the warm-up's, 2 the waiting command's: both of
    // partition 3's are in the next batch (3 to 6), beside partition 0's.
    for cmd in &by_partition[3] {
        let seq: i64 = sqlx::query_scalar("select seq from changes where resource_id = $1::uuid")
            .bind(&cmd.resource_id)
            .fetch_one(&h.env.pool)
            .await
            .unwrap();
        assert!((3..=6).contains(&seq), "partition 3's command at {seq}");
    }
    assert_eq!(sequence(&h).await, (1..=16).collect::<Vec<i64>>());
    h.teardown().await;
}
