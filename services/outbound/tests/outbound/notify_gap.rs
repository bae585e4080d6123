//! A change missing from the change stream (a message lost or deleted) is
//! not skipped: the notifier sees the gap in the tenant's change sequence
//! and delivers the missing change from Postgres, in its place.

use async_nats::jetstream::consumer;
use futures_util::StreamExt;
use scimbus_db::subscriptions::progress;
use scimbus_events::Message;
use scimbus_events::v1::Change;
use serde_json::json;

use crate::notify_support::{
    SECRET, WITHIN, assert_in_order_per_resource, assert_once_each, committed, ids, key, progress,
    set_title, start_notifier, wait_caught_up, webhook,
};
use crate::receiver::Receiver;
use crate::support::{Hub, TENANT, eventually};

#[tokio::test]
async fn a_change_deleted_from_the_stream_is_delivered_from_postgres_in_order() {
    let mut hub = Hub::new().await;
    let r = Receiver::start(SECRET).await;
    start_notifier(&mut hub, vec![webhook("hook", &r, json!({}))]).await;
    let id = hub.create_user("hal", "Sales").await;
    r.wait_took(1, WITHIN).await;
    wait_caught_up(&hub, "hook").await;

    progress::set_paused(&hub.env.pool, key("hook"), true)
        .await
        .unwrap();
    eventually("the pause holds", WITHIN, || async {
        let p = progress(&hub, "hook").await;
        if p.pause_acknowledged {
            Ok(())
        } else {
            Err(format!("{p:?}"))
        }
    })
    .await;
    for t in ["one", "two", "three"] {
        set_title(&hub, &id, t).await;
    }
    let rows = committed(&hub).await;
    let lost = &rows[2];

    // The message of change `lost` is deleted from the change stream.
    let client = async_nats::connect(&hub.env.nats_url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let stream = js
        .get_stream(hub.env.subjects.change_stream())
        .await
        .unwrap();
    let mut messages = stream
        .create_consumer(consumer::pull::OrderedConfig {
            filter_subject: hub.env.subjects.tenant_changes(TENANT),
            ..Default::default()
        })
        .await
        .unwrap()
        .messages()
        .await
        .unwrap();
    let stream_seq = loop {
        let m = tokio::time::timeout(WITHIN, messages.next())
            .await
            .expect("the lost change is on the stream")
            .unwrap()
            .unwrap();
        let c = Change::decode(m.payload.as_ref()).unwrap();
        if c.id == lost.id.to_string() {
            break m.info().unwrap().stream_sequence;
        }
    };
    assert!(stream.delete_message(stream_seq).await.unwrap());
    assert!(stream.get_raw_message(stream_seq).await.is_err());

    progress::set_paused(&hub.env.pool, key("hook"), false)
        .await
        .unwrap();
    r.wait_took(rows.len(), WITHIN).await;
    wait_caught_up(&hub, "hook").await;
    let got = r.took();
    assert_once_each(&got);
    assert_in_order_per_resource(&got);
    assert_eq!(
        got.iter().map(|g| g.id.clone()).collect::<Vec<_>>(),
        ids(&rows),
        "every change, the lost one in its place"
    );
    assert_eq!(got[2].event["data"]["resource"]["title"], "two");
    r.assert_all_signed();
    r.assert_one_at_a_time_per_resource();
    hub.teardown().await;
}
