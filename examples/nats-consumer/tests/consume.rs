//! The consumer against the real NATS of the test run: a stream of a test
//! prefix of its own, created with scimbus's own settings, CloudEvents
//! published as scimbus publishes them.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use scimbus_events::Subjects;
use scimbus_example_nats_consumer::{
    EventConsumer, Options, Start, bind, consume, stream_name, tenant_filter,
};
use scimbus_testkit::TestEnv;
use tokio::sync::mpsc;

/// How long a line may take to be printed.
const WITHIN: Duration = Duration::from_secs(10);

fn event(seq: u64, kind: &str) -> String {
    serde_json::json!({
        "specversion": "1.0",
        "id": format!("01900000-0000-7000-8000-{seq:012}"),
        "source": "/scim/v2/demo",
        "type": format!("dev.scimbus.user.{kind}"),
        "subject": format!("user-{seq}"),
        "time": format!("2026-12-05T22:00:{seq:02}Z"),
        "datacontenttype": "application/json",
        "sequence": format!("{seq:020}"),
        "data": {"resource": {"userName": format!("u{seq}")}, "changed": []}
    })
    .to_string()
}

fn line(seq: u64, kind: &str) -> String {
    format!("2026-12-05T22:00:{seq:02}Z dev.scimbus.user.{kind} user-{seq} seq={seq:020}")
}

/// Publishes as scimbus does; returns the stream sequence.
async fn publish(js: &jetstream::Context, s: &Subjects, tenant: &str, seq: u64, kind: &str) -> u64 {
    let mut headers = HeaderMap::new();
    headers.insert("Content-Type", "application/cloudevents+json");
    headers.insert("Nats-Msg-Id", format!("{tenant}-{seq}").as_str());
    js.publish_with_headers(
        s.event(tenant, "User", kind),
        headers,
        event(seq, kind).into(),
    )
    .await
    .unwrap()
    .await
    .unwrap()
    .sequence
}

/// Consumes in a task; the lines come out of the receiver.
fn run(consumer: EventConsumer) -> (tokio::task::JoinHandle<()>, mpsc::UnboundedReceiver<String>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(async move {
        consume(&consumer, |l| {
            let _ = tx.send(l.to_string());
        })
        .await
        .unwrap();
    });
    (task, rx)
}

async fn next_line(rx: &mut mpsc::UnboundedReceiver<String>) -> String {
    tokio::time::timeout(WITHIN, rx.recv())
        .await
        .expect("a line within the deadline")
        .expect("the consumer is still running")
}

/// Waits until everything up to `stream_seq` is acknowledged.
async fn acked_through(consumer: &mut EventConsumer, stream_seq: u64) {
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let info = consumer.info().await.unwrap();
        if info.ack_floor.stream_sequence >= stream_seq && info.num_ack_pending == 0 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not acknowledged through {stream_seq}: {:?}",
            info.ack_floor
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn options(env: &TestEnv, start: Start) -> Options {
    Options {
        prefix: env.prefix.clone(),
        tenant: "demo".into(),
        durable: "example-app".into(),
        start,
    }
}

#[test]
fn stream_and_subjects_are_named_as_scimbus_names_them() {
    for prefix in ["", "t42", "bout-2201-77"] {
        let s = Subjects::new(prefix).unwrap();
        assert_eq!(stream_name(prefix), s.events_stream());
        assert_eq!(tenant_filter(prefix, "demo"), s.tenant_events("demo"));
    }
}

#[tokio::test]
async fn replaying_from_a_sequence_prints_the_tenants_events_in_order_and_acks_them() {
    let env = TestEnv::new().await;
    let (_client, js) = env.bus().await;
    let first = publish(&js, &env.subjects, "demo", 1, "created").await;
    publish(&js, &env.subjects, "demo", 2, "updated").await;
    // Another tenant's event between: filtered out.
    publish(&js, &env.subjects, "other", 3, "created").await;
    let last = publish(&js, &env.subjects, "demo", 4, "deactivated").await;

    let mut consumer = bind(&js, &options(&env, Start::Sequence(first)))
        .await
        .unwrap();
    let (task, mut rx) = run(consumer.clone());
    assert_eq!(next_line(&mut rx).await, line(1, "created"));
    assert_eq!(next_line(&mut rx).await, line(2, "updated"));
    assert_eq!(next_line(&mut rx).await, line(4, "deactivated"));
    acked_through(&mut consumer, last).await;
    task.abort();
    env.teardown().await;
}

#[tokio::test]
async fn without_a_start_only_new_events_and_the_durable_resumes_after_a_restart() {
    let env = TestEnv::new().await;
    let (_client, js) = env.bus().await;
    publish(&js, &env.subjects, "demo", 1, "created").await;

    let consumer = bind(&js, &options(&env, Start::New)).await.unwrap();
    let (task, mut rx) = run(consumer);
    let second = publish(&js, &env.subjects, "demo", 2, "created").await;
    // The event published before the durable existed is not delivered.
    assert_eq!(next_line(&mut rx).await, line(2, "created"));
    let mut again = bind(&js, &options(&env, Start::New)).await.unwrap();
    acked_through(&mut again, second).await;
    task.abort();
    let _ = task.await;

    // "Down" while 3 is published; back, it resumes with 3, not 2 again.
    publish(&js, &env.subjects, "demo", 3, "deleted").await;
    let (task, mut rx) = run(again);
    assert_eq!(next_line(&mut rx).await, line(3, "deleted"));
    task.abort();
    env.teardown().await;
}

#[tokio::test]
async fn replaying_since_a_time_starts_at_the_first_event_at_or_after_it() {
    let env = TestEnv::new().await;
    let (_client, js) = env.bus().await;
    publish(&js, &env.subjects, "demo", 1, "created").await;
    let stream = js.get_stream(env.subjects.events_stream()).await.unwrap();
    let published_first = stream.get_raw_message(1).await.unwrap().time;
    publish(&js, &env.subjects, "demo", 2, "updated").await;
    let published_second = stream.get_raw_message(2).await.unwrap().time;
    assert!(published_second > published_first);
    let since = published_second
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();

    let consumer = bind(&js, &options(&env, Start::since(&since).unwrap()))
        .await
        .unwrap();
    let (task, mut rx) = run(consumer);
    assert_eq!(next_line(&mut rx).await, line(2, "updated"));
    task.abort();
    env.teardown().await;
}
