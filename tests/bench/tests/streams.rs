//! `drop-streams` against the real NATS of the test run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use scimbus_events::Subjects;

#[tokio::test]
async fn every_stream_of_a_bench_prefix_is_deleted_the_events_stream_too() {
    let url = scimbus_testkit::nats_url();
    let prefix = format!("bdrop-{}", std::process::id());
    let subjects = Subjects::new(&prefix).unwrap();
    let (_client, js) = scimbus_bus::connect(&url, "scimbus-bench-test")
        .await
        .unwrap();
    scimbus_bus::ensure_streams(&js, &subjects, &Default::default())
        .await
        .unwrap();

    let mut deleted = scimbus_bench::streams::drop(&url, &prefix).await.unwrap();
    deleted.sort();
    let mut all = vec![
        subjects.command_stream(),
        subjects.change_stream(),
        subjects.dlq_stream(),
        subjects.events_stream(),
    ];
    all.sort();
    assert_eq!(deleted, all);
    for name in all {
        assert!(js.get_stream(&name).await.is_err(), "{name} is still there");
    }
}
