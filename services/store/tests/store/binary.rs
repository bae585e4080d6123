//! The store binary through the service skeleton: a bad setting stops it
//! with exit code 78 naming the setting; SIGTERM in the middle of a load
//! drains within the bound and loses nothing.

use std::time::{Duration, Instant};

use scimbus_testkit::TestEnv;
use scimbus_testkit::process::{exit_within, run_with_only, terminate};
use tokio::process::Child;

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_scimbus-store");
/// The drain bound the store is started with.
const DRAIN: Duration = Duration::from_secs(10);

fn spawn_store(env: &TestEnv) -> Child {
    scimbus_e2e::binary::command(BIN, env)
        .env("SCIMBUS_TENANTS", "acme")
        .env("SCIMBUS_PARTITIONS", PARTITIONS.to_string())
        .env("SCIMBUS_STORE_ADDR", "127.0.0.1:0")
        .env("SCIMBUS_STORE_BATCH", "20")
        .env("SCIMBUS_DRAIN_SECS", DRAIN.as_secs().to_string())
        .spawn()
        .expect("start scimbus-store")
}

#[tokio::test]
async fn a_bad_setting_stops_the_store_with_exit_78_naming_it() {
    scimbus_e2e::binary::assert_bad_settings_exit_78(
        BIN,
        &[
            ("SCIMBUS_STORE_BATCH", "0"),
            ("SCIMBUS_DRAIN_SECS", "soon"),
            ("SCIMBUS_STORE_ADDR", "nowhere"),
            ("SCIMBUS_DATABASE_URL", "mysql://x@127.0.0.1/x"),
            ("SCIMBUS_TENANTS", "Acme!"),
            ("SCIMBUS_STREAM_REPLICAS", "7"),
            ("SCIMBUS_NATS_CREDS_FILE", "/nonexistent/scimbus.creds"),
            ("SCIMBUS_NATS_USER", "scimbus"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
    )
    .await;
    let db = ("SCIMBUS_DATABASE_URL", "postgres://x@127.0.0.1:1/x");
    let (code, err) = run_with_only(BIN, &[]).await;
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("SCIMBUS_DATABASE_URL"), "{err}");
    // Good settings, but Postgres does not answer: a failure, not a
    // configuration error (restarting may help). (NATS that does not
    // answer is waited for: it may come up after the store.)
    let env = TestEnv::new().await;
    let (code, err) = run_with_only(
        BIN,
        &[
            db,
            ("SCIMBUS_NATS_URL", &env.nats_url),
            ("SCIMBUS_BUS_PREFIX", &env.prefix),
        ],
    )
    .await;
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("cannot connect to Postgres"), "{err}");
    env.teardown().await;
}

#[tokio::test]
async fn sigterm_under_load_drains_within_the_bound_and_loses_nothing() {
    let h = Harness::on(TestEnv::new().await).await;
    const N: usize = 2000;
    let mut cmds = Vec::new();
    for i in 0..N {
        cmds.push(create_user("acme", &format!("drain{i}")).1);
    }
    // All of it waits before the store starts, so the store is busy when
    // the signal comes.
    for cmd in &cmds {
        h.publish(cmd, None).await;
    }
    let mut store = spawn_store(&h.env);
    let deadline = Instant::now() + Duration::from_secs(60);
    while h.count("select count(*) from applied_commands").await < 100 {
        assert!(
            Instant::now() < deadline,
            "the load never got going in 60 s"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    terminate(&store);
    let (status, took) = exit_within(&mut store, DRAIN + Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "a clean drain exits 0 ({took:?})");
    assert!(took < DRAIN, "drained in {took:?}, bound {DRAIN:?}");

    // A clean stop leaves nothing half done: every command is either
    // applied (and acknowledged: gone from the work queue) or still
    // waiting, and every applied change is published.
    let applied = h.count("select count(*) from applied_commands").await;
    assert!(
        applied < N as i64,
        "SIGTERM came before the end ({applied})"
    );
    let mut queue =
        h.js.get_stream(h.env.subjects.command_stream())
            .await
            .unwrap();
    let waiting = queue.info().await.unwrap().state.messages as i64;
    assert_eq!(
        applied + waiting,
        N as i64,
        "applied {applied}, waiting {waiting}"
    );
    assert_eq!(h.count("select count(*) from unpublished_changes").await, 0);
    assert_eq!(h.changes(applied as usize).await.len(), applied as usize);

    // The next store does the rest, once each.
    let mut store = spawn_store(&h.env);
    let changes = h.changes(N).await;
    terminate(&store);
    let (status, _) = exit_within(&mut store, DRAIN + Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0));
    assert_eq!(changes.len(), N);
    assert_eq!(h.count("select count(*) from resources").await, N as i64);
    assert_eq!(h.count("select count(*) from changes").await, N as i64);
    h.teardown().await;
}
