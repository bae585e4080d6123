//! Receivers that fail: one that answers 500 for a while gets everything
//! once it recovers (and holds up no other subscription), and one that
//! answers 410 disables its subscription until an operator resumes it.
//! (One that refuses an event: `notify_parked`.)

use scimbus_db::subscriptions::{parked, progress};
use serde_json::json;

use crate::notify_support::{
    SECRET, WITHIN, assert_in_order_per_resource, assert_once_each, committed, ids, key, progress,
    set_title, start_notifier, wait_caught_up, webhook,
};
use crate::receiver::{Answer, Got, Receiver};
use crate::support::{Hub, eventually};

#[tokio::test]
async fn a_failing_receiver_gets_everything_once_it_recovers_and_holds_up_nobody() {
    let mut hub = Hub::new().await;
    let sick = Receiver::start(SECRET).await;
    sick.answer(Answer::Refuse(500, "down for maintenance"));
    let well = Receiver::start(SECRET).await;
    start_notifier(
        &mut hub,
        vec![
            webhook("sick", &sick, json!({})),
            webhook("well", &well, json!({})),
        ],
    )
    .await;
    let mut users = Vec::new();
    for name in ["uma", "vic", "wes"] {
        users.push(hub.create_user(name, "Sales").await);
    }
    for round in 0..2 {
        for u in &users {
            set_title(&hub, u, &format!("t{round}")).await;
        }
    }
    let want = ids(&committed(&hub).await);

    // The healthy subscription has everything while the other still fails.
    well.wait_took(want.len(), WITHIN).await;
    assert!(sick.took().is_empty(), "the sick receiver took nothing yet");
    assert!(!sick.refused().is_empty(), "it was tried");
    let p = progress(&hub, "sick").await;
    assert!(p.failed > 0, "{p:?}");
    assert!(
        p.last_error.as_deref().unwrap_or("").contains("500"),
        "{p:?}"
    );

    sick.answer(Answer::Take);
    sick.wait_took(want.len(), WITHIN).await;
    wait_caught_up(&hub, "sick").await;
    let got = sick.took();
    assert_once_each(&got);
    assert_in_order_per_resource(&got);
    let mut got_ids: Vec<String> = got.iter().map(|g| g.id.clone()).collect();
    got_ids.sort();
    let mut want_sorted = want.clone();
    want_sorted.sort();
    assert_eq!(got_ids, want_sorted, "everything, after it recovered");
    assert!(
        parked::list(&hub.env.pool, key("sick"), 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing was parked"
    );
    sick.assert_all_signed();
    sick.assert_one_at_a_time_per_resource();
    well.assert_all_signed();
    hub.teardown().await;
}

#[tokio::test]
async fn gone_disables_the_subscription_until_it_is_resumed() {
    let mut hub = Hub::new().await;
    let r = Receiver::start(SECRET).await;
    r.answer(Answer::Refuse(410, "no longer wanted"));
    let witness = Receiver::start(SECRET).await;
    start_notifier(
        &mut hub,
        vec![
            webhook("gone", &r, json!({})),
            webhook("witness", &witness, json!({})),
        ],
    )
    .await;
    let id = hub.create_user("gil", "Sales").await;
    let p = eventually("the subscription is disabled", WITHIN, || async {
        let p = progress(&hub, "gone").await;
        match &p.disabled_reason {
            Some(_) => Ok(p),
            None => Err(format!("{p:?}")),
        }
    })
    .await;
    assert!(p.disabled_reason.unwrap().contains("410"));
    assert!(p.disabled_at.is_some());

    // Nothing more is delivered: the next change reaches the witness, and
    // the disabled subscription neither tries it nor moves past the event
    // it holds.
    set_title(&hub, &id, "Held").await;
    witness.wait_took(2, WITHIN).await;
    wait_caught_up(&hub, "witness").await;
    assert_eq!(r.refused().len(), 1, "tried once: {:?}", r.refused());
    assert!(r.took().is_empty());
    assert_eq!(progress(&hub, "gone").await.change_seq, 0);

    // Resumed, it is enabled again and the held event arrives, then the next.
    r.answer(Answer::Take);
    progress::set_paused(&hub.env.pool, key("gone"), false)
        .await
        .unwrap();
    let got = r.wait_took(2, WITHIN).await;
    wait_caught_up(&hub, "gone").await;
    assert_eq!(
        got.iter().map(Got::kind).collect::<Vec<_>>(),
        ["user.created", "user.updated"]
    );
    assert_eq!(r.took().len(), 2);
    let p = progress(&hub, "gone").await;
    assert_eq!(p.disabled_reason, None, "{p:?}");
    r.assert_all_signed();
    r.assert_one_at_a_time_per_resource();
    hub.teardown().await;
}
