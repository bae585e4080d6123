//! Invariant 6 on the outbound side: a message on the change stream that is
//! not a change parks with its bytes as they came, and the changes behind it
//! still reach the target.

use std::time::Duration;

use futures_util::StreamExt;
use scimbus_events::Message;
use scimbus_events::v1::DeadLetter;

use crate::fake_target::FakeTarget;
use crate::support::{Hub, TENANT, eventually, target};

#[tokio::test]
async fn a_message_that_is_not_a_change_parks_as_it_came_and_the_rest_flows() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;
    let client = async_nats::connect(&hub.env.nats_url).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let garbage: &[u8] = b"\xffnot a scimbus change";
    js.publish(hub.env.subjects.change(TENANT, "User"), garbage.into())
        .await
        .unwrap()
        .await
        .unwrap();
    hub.create_user("after", "Sales").await;
    eventually(
        "the user behind it arrives",
        Duration::from_secs(30),
        || async {
            match t.resources("Users").len() {
                1 => Ok(()),
                n => Err(format!("{n} users")),
            }
        },
    )
    .await;
    let stream = js.get_stream(hub.env.subjects.dlq_stream()).await.unwrap();
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .unwrap();
    let mut letters = consumer.messages().await.unwrap();
    let m = tokio::time::timeout(Duration::from_secs(10), letters.next())
        .await
        .expect("a dead letter")
        .unwrap()
        .unwrap();
    let letter = DeadLetter::decode(m.payload.as_ref()).unwrap();
    assert_eq!(letter.origin, "target:t");
    assert_eq!(
        letter.payload, garbage,
        "the letter carries the message as it came"
    );
    assert!(
        letter.reason.contains("not a scimbus.v1.Change"),
        "{}",
        letter.reason
    );
    hub.teardown().await;
}
