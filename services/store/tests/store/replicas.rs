//! Store replicas share the partitions (services/store/src/replicas.rs):
//! a second replica takes half of them from the first while commands keep
//! coming, and per-resource order and the contiguous per-tenant change
//! sequence hold through the handover; when it stops, the first takes
//! them all back.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use scimbus_e2e::eventually;

use crate::support::*;

/// How many partitions each replica holds, fewest first.
async fn shares(h: &Harness) -> Vec<usize> {
    let mut by_replica: BTreeMap<String, usize> = BTreeMap::new();
    for replica in partition_holders(h).await.into_values() {
        *by_replica.entry(replica).or_default() += 1;
    }
    let mut v: Vec<usize> = by_replica.into_values().collect();
    v.sort_unstable();
    v
}

async fn until_shared_as(h: &Harness, want: &[usize]) {
    let what = format!("the partitions held {want:?}");
    eventually(&what, Duration::from_secs(20), || async {
        let got = shares(h).await;
        if got == want {
            Ok(())
        } else {
            Err(format!("held {got:?}"))
        }
    })
    .await;
}

#[tokio::test]
async fn a_second_replica_takes_half_the_partitions_under_load_and_order_holds() {
    let h = Harness::new(&["acme"]).await;
    until_shared_as(&h, &[PARTITIONS as usize]).await;
    const USERS: usize = 40;
    const STEPS: usize = 12;
    let mut ids = Vec::new();
    for i in 0..USERS {
        let (id, cmd) = create_user("acme", &format!("r{i}"));
        h.publish(&cmd, None).await;
        ids.push(id);
    }
    let step = |s: usize, id: uuid::Uuid| title_step("acme", s, id);
    // The second replica starts while the first third of the steps is
    // being published, and takes its share while the rest come.
    let mut second = None;
    for s in 0..STEPS {
        if s == STEPS / 3 {
            second = Some(start_store(&h.env, &["acme"]).await);
        }
        for id in &ids {
            h.publish(&step(s, *id), None).await;
        }
    }
    let half = PARTITIONS as usize / 2;
    until_shared_as(&h, &[half, half]).await;
    // More after the handover: both replicas apply.
    for id in &ids {
        h.publish(&step(STEPS, *id), None).await;
    }

    let expected = USERS * (STEPS + 2);
    let changes = h.changes(expected).await;
    assert_eq!(changes.len(), expected, "one change per command, no more");
    let mut by_resource: HashMap<String, Vec<u64>> = HashMap::new();
    let mut titles: HashMap<String, Vec<String>> = HashMap::new();
    for c in &changes {
        by_resource
            .entry(c.resource_id.clone())
            .or_default()
            .push(c.version);
        let doc: serde_json::Value = serde_json::from_slice(&c.resource).unwrap();
        if let Some(t) = doc["title"].as_str() {
            titles
                .entry(c.resource_id.clone())
                .or_default()
                .push(t.to_string());
        }
    }
    let want: Vec<String> = (0..=STEPS).map(|s| format!("step {s}")).collect();
    for id in &ids {
        let id = id.to_string();
        assert_eq!(
            by_resource[&id],
            (1..=(STEPS as u64 + 2)).collect::<Vec<_>>(),
            "versions of {id}, in order"
        );
        assert_eq!(titles[&id], want, "the steps of {id}, in order");
    }
    let mut seqs: Vec<u64> = changes.iter().map(|c| c.sequence).collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=expected as u64).collect::<Vec<_>>(),
        "the per-tenant sequence is contiguous"
    );

    // The second stops: the first holds every partition again, and applies.
    second.take().unwrap().stop().await.unwrap();
    until_shared_as(&h, &[PARTITIONS as usize]).await;
    for id in &ids {
        h.publish(&step(STEPS + 1, *id), None).await;
    }
    assert_eq!(h.changes(expected + USERS).await.len(), expected + USERS);
    h.teardown().await;
}
