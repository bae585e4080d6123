//! A receiver that refuses an event (400): the event is parked with the
//! receiver's answer, the later events of its resource park behind it,
//! other resources flow; a replay of parked events delivers them in order.

use scimbus_db::subscriptions::parked;
use serde_json::json;

use crate::notify_support::{
    SECRET, WITHIN, assert_in_order_per_resource, assert_once_each, committed, key, set_title,
    start_notifier, wait_caught_up, webhook,
};
use crate::receiver::{Answer, Got, Receiver};
use crate::support::{Hub, eventually};

/// The titles in the events of one resource, in arrival order.
fn titles(got: &[Got], subject: &str) -> Vec<String> {
    got.iter()
        .filter(|g| g.subject() == subject)
        .filter_map(|g| g.event["data"]["resource"]["title"].as_str())
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn a_refused_event_parks_the_later_ones_of_its_resource_until_replayed() {
    let mut hub = Hub::new().await;
    let r = Receiver::start(SECRET).await;
    start_notifier(&mut hub, vec![webhook("hook", &r, json!({}))]).await;
    let a = hub.create_user("ari", "Sales").await;
    let b = hub.create_user("bea", "Sales").await;
    r.wait_took(2, WITHIN).await;

    r.answer_for(&a, Some(Answer::Refuse(400, "ari is not known here")));
    for i in 1..=3 {
        set_title(&hub, &a, &format!("a{i}")).await;
        if i < 3 {
            set_title(&hub, &b, &format!("b{i}")).await;
        }
    }
    wait_caught_up(&hub, "hook").await;
    let rows = committed(&hub).await;
    let a_seqs: Vec<i64> = rows
        .iter()
        .filter(|c| c.resource_id.to_string() == a)
        .map(|c| c.seq)
        .skip(1)
        .collect();
    let p = parked::list(&hub.env.pool, key("hook"), 100).await.unwrap();
    let shown: Vec<_> = p
        .iter()
        .map(|p| (p.change_seq, &p.reason, &p.response, p.attempts))
        .collect();
    assert_eq!(
        p.iter().map(|p| p.change_seq).collect::<Vec<_>>(),
        a_seqs,
        "a's three events are parked: {shown:?}"
    );
    assert!(p.iter().all(|p| p.resource_id.to_string() == a));
    let first = &p[0];
    assert_eq!(first.attempts, 1, "a refusal is not retried: {shown:?}");
    assert_eq!(
        first.response.as_deref(),
        Some("400 ari is not known here"),
        "{shown:?}"
    );
    for later in &p[1..] {
        assert_eq!(later.attempts, 0, "{shown:?}");
        assert!(later.reason.contains("parked"), "{shown:?}");
    }
    assert_eq!(r.refused().len(), 1, "only the first was tried");
    // The other resource's events flowed past.
    assert_eq!(titles(&r.took(), &b), ["b1", "b2"]);
    assert!(titles(&r.took(), &a).is_empty());

    // The receiver fixed, a replay delivers them in order, and a's next
    // event follows them.
    r.answer_for(&a, None);
    let marked = parked::request_replay(&hub.env.pool, key("hook"), None)
        .await
        .unwrap();
    assert_eq!(marked, 3);
    eventually("the parked events are delivered", WITHIN, || async {
        let n = parked::list(&hub.env.pool, key("hook"), 100)
            .await
            .map_err(|e| e.to_string())?
            .len();
        if n == 0 { Ok(()) } else { Err(format!("{n}")) }
    })
    .await;
    assert_eq!(titles(&r.took(), &a), ["a1", "a2", "a3"]);
    set_title(&hub, &a, "a4").await;
    r.wait_took(2 + 2 + 4, WITHIN).await;
    wait_caught_up(&hub, "hook").await;
    let got = r.took();
    assert_eq!(titles(&got, &a), ["a1", "a2", "a3", "a4"]);
    assert_once_each(&got);
    assert_in_order_per_resource(&got);
    r.assert_all_signed();
    r.assert_one_at_a_time_per_resource();
    hub.teardown().await;
}

#[tokio::test]
async fn replaying_a_later_parked_event_delivers_the_earlier_ones_of_its_resource_first() {
    let mut hub = Hub::new().await;
    let r = Receiver::start(SECRET).await;
    start_notifier(&mut hub, vec![webhook("hook", &r, json!({}))]).await;
    let a = hub.create_user("ida", "Sales").await;
    r.wait_took(1, WITHIN).await;
    r.answer_for(&a, Some(Answer::Refuse(400, "not yet")));
    for t in ["a1", "a2", "a3"] {
        set_title(&hub, &a, t).await;
    }
    wait_caught_up(&hub, "hook").await;
    let p = parked::list(&hub.env.pool, key("hook"), 100).await.unwrap();
    assert_eq!(p.len(), 3, "a's three events are parked");

    // The operator replays the second: it cannot go before the first.
    r.answer_for(&a, None);
    let marked = parked::request_replay(&hub.env.pool, key("hook"), Some(p[1].change_seq))
        .await
        .unwrap();
    assert!(marked >= 1);
    eventually("a3 is delivered", WITHIN, || async {
        let t = titles(&r.took(), &a);
        if t.iter().any(|t| t == "a3") {
            Ok(())
        } else {
            Err(format!("{t:?}"))
        }
    })
    .await;
    let left = parked::list(&hub.env.pool, key("hook"), 100).await.unwrap();
    assert_eq!(
        titles(&r.took(), &a),
        ["a1", "a2", "a3"],
        "in change order; still parked: {:?}",
        left.iter().map(|p| p.change_seq).collect::<Vec<_>>()
    );
    assert!(left.is_empty());
    r.assert_all_signed();
    r.assert_one_at_a_time_per_resource();
    hub.teardown().await;
}
