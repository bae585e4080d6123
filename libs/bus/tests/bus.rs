//! The bus against a real NATS server, and against a fake old one.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use bytes::Bytes;
use scimbus_bus::{BusError, Outgoing, StreamSettings};
use scimbus_events::Subjects;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

fn nats_url() -> String {
    std::env::var("SCIMBUS_NATS_URL").expect("SCIMBUS_NATS_URL: run the tests with `make test`")
}

fn prefix() -> String {
    format!("t{}", &uuid::Uuid::now_v7().simple().to_string()[22..])
}

#[tokio::test]
async fn streams_are_declared_under_a_prefix_and_publishes_are_deduplicated() {
    let (_client, js) = scimbus_bus::connect(&nats_url(), "bus-test").await.unwrap();
    let subjects = Subjects::new(&prefix()).unwrap();
    scimbus_bus::ensure_streams(&js, &subjects, &StreamSettings::default())
        .await
        .unwrap();
    // Twice is harmless.
    scimbus_bus::ensure_streams(&js, &subjects, &StreamSettings::default())
        .await
        .unwrap();
    let mut cmd = js.get_stream(subjects.command_stream()).await.unwrap();
    let info = cmd.info().await.unwrap();
    assert_eq!(
        info.config.retention,
        async_nats::jetstream::stream::RetentionPolicy::WorkQueue
    );
    assert_eq!(info.config.subjects, vec![subjects.all_commands()]);

    let msg = Outgoing {
        subject: subjects.command("acme", 3),
        msg_id: "cmd-1".into(),
        tenant: "acme".into(),
        payload: Bytes::from_static(b"x"),
        traceparent: Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into()),
        tracestate: None,
        reply_to: None,
        reply_batch: None,
    };
    let first = scimbus_bus::publish(&js, &msg)
        .await
        .unwrap()
        .await
        .unwrap();
    let again = scimbus_bus::publish(&js, &msg)
        .await
        .unwrap()
        .await
        .unwrap();
    assert!(!first.duplicate);
    assert!(again.duplicate, "the same Nats-Msg-Id is dropped");
    let stored = cmd.get_raw_message(first.sequence).await.unwrap();
    assert_eq!(
        stored.headers.get("Scimbus-Tenant").unwrap().as_str(),
        "acme"
    );
    assert_eq!(
        stored.headers.get("Content-Type").unwrap().as_str(),
        "application/x-protobuf"
    );
    assert!(stored.headers.get("traceparent").is_some());
    assert_eq!(cmd.info().await.unwrap().state.messages, 1);
    for s in [
        subjects.command_stream(),
        subjects.change_stream(),
        subjects.dlq_stream(),
    ] {
        js.delete_stream(s).await.unwrap();
    }
}

/// A server that says it is nats-server 2.9.25 and answers PING with PONG.
async fn fake_server(version: &'static str, jetstream: bool) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (r, mut w) = sock.into_split();
                let info = format!(
                    "INFO {{\"server_id\":\"FAKE\",\"server_name\":\"fake\",\"version\":\"{version}\",\"proto\":1,\"go\":\"go1\",\"host\":\"127.0.0.1\",\"port\":4222,\"headers\":true,\"max_payload\":1048576,\"jetstream\":{jetstream}}}\r\n"
                );
                if w.write_all(info.as_bytes()).await.is_err() {
                    return;
                }
                let mut lines = BufReader::new(r).lines();
                while let Ok(Some(line)) = lines.next_line().await {
                    if line.starts_with("PING") && w.write_all(b"PONG\r\n").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("nats://{addr}")
}

#[tokio::test]
async fn an_old_server_is_refused_with_a_clear_message() {
    let url = fake_server("2.9.25", true).await;
    let e = tokio::time::timeout(Duration::from_secs(10), scimbus_bus::connect(&url, "t"))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(matches!(e, BusError::ServerTooOld { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains("2.9.25") && text.contains("2.10.0 or newer"),
        "{text}"
    );
}

#[tokio::test]
async fn a_server_without_jetstream_is_refused() {
    let url = fake_server("2.10.22", false).await;
    let e = tokio::time::timeout(Duration::from_secs(10), scimbus_bus::connect(&url, "t"))
        .await
        .expect("no hang")
        .unwrap_err();
    assert!(matches!(e, BusError::NoJetStream { .. }), "{e}");
}

#[tokio::test]
async fn a_list_of_servers_connects_to_one_that_answers() {
    // The first server of the list is down: the client goes on to the next
    // (a string with commas read as one URL would reach none).
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let url = format!("nats://{dead},{}", nats_url());
    let (client, _js) = tokio::time::timeout(
        Duration::from_secs(20),
        scimbus_bus::connect(&url, "list-test"),
    )
    .await
    .expect("no hang")
    .unwrap();
    assert_eq!(
        client.connection_state(),
        async_nats::connection::State::Connected
    );
}
