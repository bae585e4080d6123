//! A subscription with a filter and attributes gets exactly what it asked
//! for: changes of the attributes it names while the resource matches the
//! filter, one last event (`left`) when it stops matching, nothing while it
//! does not match, and an event when it matches again; a replay of such a
//! subscription delivers again what it delivered, nothing more.

use reqwest::Method;
use scimbus_db::subscriptions::progress::{ReplayFrom, request_replay};
use scimbus_notify::SubscriptionSpec;
use serde_json::{Value, json};

use crate::notify_support::{
    SECRET, WITHIN, assert_once_each, committed, key, progress, set_title, start_notifier,
    wait_caught_up, webhook,
};
use crate::receiver::{Got, Receiver, kinds};
use crate::support::{Hub, eventually, user};

/// Users that are active, told of changes of `active` and `title`.
fn narrow_spec(r: &Receiver) -> SubscriptionSpec {
    webhook(
        "narrow",
        r,
        json!({
            "resource_types": ["User"],
            "filter": "active eq true",
            "attributes": ["active", "title"],
        }),
    )
}

async fn set_active(hub: &Hub, id: &str, active: bool) {
    hub.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "active", "value": active}]),
    )
    .await;
}

async fn add_phone(hub: &Hub, id: &str, number: &str) {
    hub.patch(
        &format!("/Users/{id}"),
        json!([{"op": "add", "path": "phoneNumbers", "value": [{"value": number, "type": "work"}]}]),
    )
    .await;
}

#[tokio::test]
async fn a_filter_and_attributes_deliver_exactly_what_was_asked_for() {
    let mut hub = Hub::new().await;
    let narrow = Receiver::start(SECRET).await;
    let witness = Receiver::start(SECRET).await;
    start_notifier(
        &mut hub,
        vec![narrow_spec(&narrow), webhook("all", &witness, json!({}))],
    )
    .await;

    let id = hub.create_user("fay", "Sales").await; // delivered: created
    add_phone(&hub, &id, "+1 555 0100").await; // not asked for
    set_title(&hub, &id, "Lead").await; // delivered: updated
    set_active(&hub, &id, false).await; // delivered: deactivated, left
    set_title(&hub, &id, "Away").await; // outside the filter
    add_phone(&hub, &id, "+1 555 0101").await; // outside the filter
    set_active(&hub, &id, true).await; // delivered: activated, entered
    add_phone(&hub, &id, "+1 555 0102").await; // not asked for
    // Created outside the filter: nothing until it enters.
    let mut body = user("gus", "Sales");
    body["active"] = json!(false);
    let (s, b) = hub.call(Method::POST, "/Users", Some(body)).await;
    assert_eq!(s, 201, "{b}");
    let gus = b["id"].as_str().unwrap().to_string();
    set_title(&hub, &gus, "Temp").await;
    set_active(&hub, &gus, true).await; // delivered: activated, entered
    hub.create_group("ops", &[&id]).await; // not a User

    let all = committed(&hub).await.len();
    witness.wait_took(all, WITHIN).await;
    wait_caught_up(&hub, "narrow").await;
    let mut got = narrow.took();
    assert_once_each(&got);
    // Each resource's events in its order; two resources' events side by
    // side (the subscription's concurrency): fay's, then gus's.
    got.sort_by_key(|g| g.subject() == gus);
    let seen: Vec<(String, String)> = kinds(&got);
    assert_eq!(
        seen,
        [
            (id.clone(), "user.created".to_string()),
            (id.clone(), "user.updated".to_string()),
            (id.clone(), "user.deactivated".to_string()),
            (id.clone(), "user.activated".to_string()),
            (gus.clone(), "user.activated".to_string()),
        ],
        "{:#?}",
        got.iter().map(|g| &g.event["data"]).collect::<Vec<_>>()
    );
    let left: Vec<Option<&Value>> = got.iter().map(|g| g.event["data"].get("left")).collect();
    assert_eq!(
        left,
        [None, None, Some(&json!(true)), None, None],
        "only the deactivation says the user left"
    );
    let data = |g: &Got| g.event["data"].clone();
    assert_eq!(data(&got[1])["resource"]["title"], "Lead");
    assert_eq!(data(&got[1])["changed"], json!(["title"]));
    assert_eq!(data(&got[2])["resource"]["active"], false);
    assert_eq!(data(&got[3])["resource"]["title"], "Away");
    assert_eq!(data(&got[4])["resource"]["title"], "Temp");
    narrow.assert_all_signed();
    narrow.assert_one_at_a_time_per_resource();
    hub.teardown().await;
}

/// A replayed change is judged against the scope as it was before that
/// change, not as it is now (inside again, at a later version): judged by
/// today's, each change made while the user was outside would count as
/// leaving and be delivered again.
#[tokio::test]
async fn a_replay_of_a_filtered_subscription_delivers_again_only_what_it_delivered() {
    let mut hub = Hub::new().await;
    let narrow = Receiver::start(SECRET).await;
    start_notifier(&mut hub, vec![narrow_spec(&narrow)]).await;
    let id = hub.create_user("fay", "Sales").await; // delivered: created
    set_title(&hub, &id, "Lead").await; // delivered: updated
    set_active(&hub, &id, false).await; // delivered: deactivated, left
    set_title(&hub, &id, "Away").await; // outside the filter
    add_phone(&hub, &id, "+1 555 0101").await; // outside the filter
    set_active(&hub, &id, true).await; // delivered: activated, entered
    wait_caught_up(&hub, "narrow").await;
    let first = narrow.took();
    assert_eq!(first.len(), 4, "{:?}", kinds(&first));

    // Replayed from the title change: that, the deactivation and the
    // reactivation again; not the changes made while it was outside.
    let rows = committed(&hub).await;
    let from = rows[1].seq;
    request_replay(&hub.env.pool, key("narrow"), ReplayFrom::Sequence(from))
        .await
        .unwrap();
    let last = rows.last().unwrap().seq;
    eventually("the replay is done", WITHIN, || async {
        let p = progress(&hub, "narrow").await;
        match (p.replay_from_seq, p.change_seq) {
            (None, c) if c >= last => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let again: Vec<(i64, String, Option<Value>)> = narrow.took()[first.len()..]
        .iter()
        .map(|g| {
            let left = g.event["data"].get("left").cloned();
            (g.sequence(), g.kind().to_string(), left)
        })
        .collect();
    let want: Vec<(i64, String, Option<Value>)> = first[1..]
        .iter()
        .map(|g| {
            let left = g.event["data"].get("left").cloned();
            (g.sequence(), g.kind().to_string(), left)
        })
        .collect();
    assert_eq!(again, want, "the replay delivers what was delivered");
    narrow.assert_all_signed();
    hub.teardown().await;
}
