//! The notifier delivering a tenant's changes as the IdP makes them: by
//! signed webhook and on the public events stream, each event once, in
//! order per resource, of the right type and shape; and a replay delivering
//! again exactly the range asked for.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use async_nats::jetstream::consumer;
use futures_util::StreamExt;
use scimbus_db::subscriptions::progress::{self, ReplayFrom};
use serde_json::{Value, json};

use crate::notify_support::{
    SECRET, WITHIN, assert_in_order_per_resource, assert_once_each, committed, delete, ids, key,
    progress, set_title, spec, start_notifier, wait_caught_up, webhook,
};
use crate::receiver::{Answer, Got, Receiver, kinds};
use crate::support::{Hub, TENANT, eventually};

/// The events of one resource, in arrival order: their kinds.
fn kinds_of(got: &[Got], subject: &str) -> Vec<String> {
    got.iter()
        .filter(|g| g.subject() == subject)
        .map(|g| g.kind().to_string())
        .collect()
}

/// The CloudEvents on the test's `…scimbus.events.>`, read from the events
/// stream until there are `n`: (subject, event).
async fn events_on_nats(hub: &Hub, n: usize) -> Vec<(String, Value)> {
    let client = async_nats::connect(&hub.env.nats_url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js
        .get_stream(hub.env.subjects.events_stream())
        .await
        .unwrap();
    let mut messages = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: hub.env.subjects.all_events(),
            ..Default::default()
        })
        .await
        .unwrap()
        .messages()
        .await
        .unwrap();
    let mut out = Vec::new();
    while out.len() < n {
        let m = tokio::time::timeout(WITHIN, messages.next())
            .await
            .unwrap_or_else(|_| panic!("{} of {n} events on NATS", out.len()))
            .unwrap()
            .unwrap();
        out.push((
            m.subject.to_string(),
            serde_json::from_slice(&m.payload).unwrap(),
        ));
    }
    out
}

#[tokio::test]
async fn every_change_arrives_once_in_order_as_its_event_by_webhook_and_on_nats() {
    let mut hub = Hub::new().await;
    let r = Receiver::start(SECRET).await;
    // Events sent side by side finish out of order at the receiver: only
    // the notifier keeps a resource's events in order. The receiver holds
    // them until every write is made, so each resource has several waiting.
    r.answer(Answer::Jitter(Duration::from_millis(40)));
    r.hold();
    start_notifier(
        &mut hub,
        vec![
            webhook("hook", &r, json!({})),
            spec(json!({"name": "bus", "delivery": {"type": "nats"}})),
        ],
    )
    .await;

    let ada = hub.create_user("ada", "Sales").await;
    let bob = hub.create_user("bob", "Sales").await;
    set_title(&hub, &ada, "Engineer").await;
    let eng = hub.create_group("eng", &[&ada]).await;
    let group = format!("/Groups/{eng}");
    hub.patch(
        &group,
        json!([{"op": "add", "path": "members", "value": [{"value": bob}]}]),
    )
    .await;
    hub.patch(
        &group,
        json!([{"op": "remove", "path": format!("members[value eq \"{ada}\"]")}]),
    )
    .await;
    hub.patch(
        &format!("/Users/{bob}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    delete(&hub, &format!("/Users/{ada}")).await;
    // bob is still a member: his group changes too.
    delete(&hub, &format!("/Users/{bob}")).await;

    eventually("an event of each resource is in hand", WITHIN, || async {
        match r.in_hand() {
            n if n >= 3 => Ok(()),
            n => Err(format!("{n}")),
        }
    })
    .await;
    r.release();
    let rows = committed(&hub).await;
    let want = ids(&rows);
    r.wait_took(want.len(), WITHIN).await;
    wait_caught_up(&hub, "hook").await;
    let got = r.took();
    r.assert_all_signed();
    r.assert_one_at_a_time_per_resource();
    assert_once_each(&got);
    assert_in_order_per_resource(&got);
    let got_ids: HashSet<&str> = got.iter().map(|g| g.id.as_str()).collect();
    assert_eq!(
        got_ids,
        want.iter().map(String::as_str).collect(),
        "every committed change, nothing else: {:?}",
        kinds(&got)
    );
    assert_eq!(
        kinds_of(&got, &ada),
        ["user.created", "user.updated", "user.deleted"]
    );
    assert_eq!(
        kinds_of(&got, &bob),
        ["user.created", "user.deactivated", "user.deleted"]
    );
    assert_eq!(
        kinds_of(&got, &eng),
        [
            "group.created",
            "group.membership",
            "group.membership",
            "group.membership"
        ]
    );
    let seq_of: HashMap<String, i64> = rows.iter().map(|r| (r.id.to_string(), r.seq)).collect();
    for g in &got {
        let e = &g.event;
        assert_eq!(g.sequence(), seq_of[&g.id], "{e}");
        assert_eq!(e["source"], format!("/scim/v2/{TENANT}"), "{e}");
        assert_eq!(e["specversion"], "1.0", "{e}");
        let resource = &e["data"]["resource"];
        if g.kind().ends_with(".deleted") {
            assert!(resource.is_null(), "{e}");
        } else {
            assert_eq!(resource["id"], g.subject(), "{e}");
            assert!(
                resource.get("members").is_none(),
                "the resource travels without its members: {e}"
            );
        }
        let members = &e["data"]["members"];
        if g.kind() == "group.membership" {
            assert!(members.is_object(), "{e}");
        } else if g.kind().starts_with("user.") {
            assert!(members.is_null(), "{e}");
        }
    }
    let group_events: Vec<&Value> = got
        .iter()
        .filter(|g| g.subject() == eng)
        .map(|g| &g.event["data"]["members"])
        .collect();
    assert_eq!(*group_events[0], json!({"added": [ada], "removed": []}));
    assert_eq!(*group_events[1], json!({"added": [bob], "removed": []}));
    assert_eq!(*group_events[2], json!({"added": [], "removed": [ada]}));
    assert_eq!(*group_events[3], json!({"added": [], "removed": [bob]}));
    let title = got.iter().find(|g| g.kind() == "user.updated").unwrap();
    assert_eq!(title.event["data"]["resource"]["title"], "Engineer");
    assert_eq!(title.event["data"]["changed"], json!(["title"]));

    // The same events, on the public stream, each on its subject.
    let on_nats = events_on_nats(&hub, want.len()).await;
    let nats_ids: Vec<&str> = on_nats
        .iter()
        .map(|(_, e)| e["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        nats_ids.iter().copied().collect::<HashSet<_>>(),
        got_ids,
        "the same event ids on NATS"
    );
    assert_eq!(nats_ids.len(), want.len(), "each once: {nats_ids:?}");
    for (subject, e) in &on_nats {
        let (rt, kind) = e["type"]
            .as_str()
            .unwrap()
            .strip_prefix("dev.scimbus.")
            .unwrap()
            .split_once('.')
            .unwrap();
        let rt = if rt == "user" { "User" } else { "Group" };
        assert_eq!(*subject, hub.env.subjects.event(TENANT, rt, kind), "{e}");
    }
    hub.teardown().await;
}

#[tokio::test]
async fn a_replay_from_a_sequence_delivers_exactly_that_range_again() {
    let mut hub = Hub::new().await;
    let r = Receiver::start(SECRET).await;
    start_notifier(&mut hub, vec![webhook("hook", &r, json!({}))]).await;
    let a = hub.create_user("ann", "Sales").await;
    let b = hub.create_user("ben", "Sales").await;
    for i in 0..3 {
        set_title(&hub, &a, &format!("a{i}")).await;
        set_title(&hub, &b, &format!("b{i}")).await;
    }
    let rows = committed(&hub).await;
    r.wait_took(rows.len(), WITHIN).await;
    wait_caught_up(&hub, "hook").await;
    let before = r.took().len();
    assert_eq!(before, rows.len());

    let from = rows[3].seq;
    progress::request_replay(&hub.env.pool, key("hook"), ReplayFrom::Sequence(from))
        .await
        .unwrap();
    let again: Vec<String> = ids(&rows[3..]);
    r.wait_took(before + again.len(), WITHIN).await;
    eventually("the replay is done", WITHIN, || async {
        let p = progress(&hub, "hook").await;
        match (p.replay_from_seq, p.change_seq) {
            (None, c) if c >= rows.last().unwrap().seq => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let got = r.took();
    let replayed: Vec<&Got> = got[before..].iter().collect();
    assert_eq!(
        replayed
            .iter()
            .map(|g| g.id.clone())
            .collect::<HashSet<_>>(),
        again.iter().cloned().collect::<HashSet<_>>(),
        "exactly the changes from {from} on, again: {:?}",
        replayed.iter().map(|g| g.sequence()).collect::<Vec<_>>()
    );
    assert_eq!(replayed.len(), again.len(), "each once");
    assert!(replayed.iter().all(|g| g.sequence() >= from));
    assert_in_order_per_resource(&got[before..]);

    // It goes on from there: a new change arrives once.
    set_title(&hub, &a, "after").await;
    let all = r.wait_took(before + again.len() + 1, WITHIN).await;
    wait_caught_up(&hub, "hook").await;
    assert_eq!(r.took().len(), all.len());
    assert_eq!(
        all.last().unwrap().event["data"]["resource"]["title"],
        "after"
    );
    r.assert_all_signed();
    r.assert_one_at_a_time_per_resource();
    hub.teardown().await;
}
