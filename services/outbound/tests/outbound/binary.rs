//! The outbound binary through the service skeleton: a bad setting — in
//! the environment or in a target of the configuration file — stops it
//! with exit code 78 naming it; SIGTERM while it works through a backlog
//! drains within the bound, records a clean stop, and the next run pushes
//! the rest, each user once.

use std::time::Duration;

use reqwest::Method;
use scimbus_testkit::process::{exit_within, run_with_only, terminate};
use tokio::process::Child;

use crate::fake_target::{FakeTarget, Fault};
use crate::support::{Hub, TENANT, eventually};

const BIN: &str = env!("CARGO_BIN_EXE_scimbus-outbound");
const DRAIN: Duration = Duration::from_secs(10);

fn config_file(hub: &Hub, name: &str, target: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("scimbus-{name}-{}", hub.env.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("scimbus.toml");
    std::fs::write(
        &path,
        format!("[[tenants]]\nname = \"{TENANT}\"\n\n[[tenants.targets]]\n{target}\n"),
    )
    .unwrap();
    path
}

fn spawn_outbound(hub: &Hub, config: &std::path::Path) -> Child {
    scimbus_e2e::binary::command(BIN, &hub.env)
        .env("SCIMBUS_OUTBOUND_ADDR", "127.0.0.1:0")
        .env("SCIMBUS_DRAIN_SECS", DRAIN.as_secs().to_string())
        .env("SCIMBUS_CONFIG", config)
        .spawn()
        .expect("start scimbus-outbound")
}

#[tokio::test]
async fn a_bad_setting_stops_the_outbound_with_exit_78_naming_it() {
    scimbus_e2e::binary::assert_bad_settings_exit_78(
        BIN,
        &[
            ("SCIMBUS_OUTBOUND_BACKOFF_MS", "0"),
            ("SCIMBUS_OUTBOUND_ADDR", "nowhere"),
            ("SCIMBUS_BUS_PREFIX", "a.b"),
            ("SCIMBUS_CONFIG", "/nonexistent/scimbus.toml"),
        ],
    )
    .await;
    // A target whose filter cannot work is found once the service has
    // its schemas: still a configuration error.
    let hub = Hub::new().await;
    let config = config_file(
        &hub,
        "bad-filter",
        "name = \"t\"\nurl = \"http://127.0.0.1:1/scim/v2\"\nfilter = \"nosuchattribute eq 1\"",
    );
    let (code, err) = run_with_only(
        BIN,
        &[
            ("SCIMBUS_NATS_URL", &hub.env.nats_url),
            ("SCIMBUS_DATABASE_URL", &hub.env.database_url),
            ("SCIMBUS_BUS_PREFIX", &hub.env.prefix),
            ("SCIMBUS_OUTBOUND_ADDR", "127.0.0.1:0"),
            ("SCIMBUS_CONFIG", config.to_str().unwrap()),
        ],
    )
    .await;
    assert_eq!(code, Some(78), "{err}");
    assert!(
        err.contains("SCIMBUS_CONFIG") && err.contains("nosuchattribute"),
        "{err}"
    );
    hub.teardown().await;
}

/// Creates `n` users named `{prefix}{i}`, 25 at a time.
async fn create_users(hub: &Hub, prefix: &str, n: usize) {
    let idp = hub.idp();
    for batch in (0..n).collect::<Vec<_>>().chunks(25) {
        let names: Vec<String> = batch.iter().map(|i| format!("{prefix}{i}")).collect();
        let made = names.iter().map(|n| idp.create_user(n, "Sales"));
        futures_util::future::join_all(made).await;
    }
}

/// Makes each of the next `n` creates take the target 100 ms.
fn slow_creates(t: &FakeTarget, n: usize) {
    for _ in 0..n {
        t.fail(
            Some(Method::POST),
            "/Users",
            Fault::Slow(Duration::from_millis(100)),
        );
    }
}

async fn users_reach(t: &FakeTarget, at_least: usize) {
    eventually(
        "users reach the target",
        Duration::from_secs(60),
        || async {
            let n = t.resources("Users").len();
            if n >= at_least {
                Ok(())
            } else {
                Err(format!("{n}"))
            }
        },
    )
    .await;
}

/// SIGTERM, then: exit 0 within the bound; returns how many users the
/// target had then.
async fn stop(outbound: &mut Child, t: &FakeTarget) -> usize {
    terminate(outbound);
    let (status, took) = exit_within(outbound, DRAIN + Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "a clean drain exits 0 ({took:?})");
    assert!(took < DRAIN, "drained in {took:?}, bound {DRAIN:?}");
    t.resources("Users").len()
}

/// Every one of the `n` users is on the target, once.
fn each_user_once(t: &FakeTarget, n: usize) {
    let users = t.resources("Users");
    let mut names: Vec<&str> = users
        .values()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!((users.len(), names.len()), (n, n), "{names:?}");
}

#[tokio::test]
async fn sigterm_while_following_changes_drains_within_the_bound_and_stops_cleanly() {
    let hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let config = config_file(
        &hub,
        "follow",
        &format!("name = \"t\"\nurl = \"{}\"\nconcurrency = 8", t.url()),
    );
    let mut outbound = spawn_outbound(&hub, &config);
    eventually(
        "the initial sync is done",
        Duration::from_secs(60),
        || async {
            match hub
                .count("select count(*) from target_progress where synced_at is not null")
                .await
            {
                1 => Ok(()),
                n => Err(format!("{n}")),
            }
        },
    )
    .await;
    const USERS: usize = 300;
    slow_creates(&t, USERS);
    create_users(&hub, "f", USERS).await;
    users_reach(&t, 30).await;
    let at_stop = stop(&mut outbound, &t).await;
    assert!(at_stop < USERS, "SIGTERM came before the end ({at_stop})");
    let clean = hub
        .count("select count(*) from target_progress where clean_stop")
        .await;
    assert_eq!(clean, 1, "the stop is recorded as clean");

    let mut outbound = spawn_outbound(&hub, &config);
    users_reach(&t, USERS).await;
    stop(&mut outbound, &t).await;
    each_user_once(&t, USERS);
    hub.teardown().await;
}

#[tokio::test]
async fn sigterm_in_an_initial_sync_stops_within_the_bound_and_the_next_run_finishes_it() {
    let hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let config = config_file(
        &hub,
        "sync",
        &format!("name = \"t\"\nurl = \"{}\"\nconcurrency = 8", t.url()),
    );
    // Users from before the target existed: its first run syncs them.
    const USERS: usize = 300;
    create_users(&hub, "s", USERS).await;
    slow_creates(&t, USERS);
    let mut outbound = spawn_outbound(&hub, &config);
    users_reach(&t, 30).await;
    let at_stop = stop(&mut outbound, &t).await;
    assert!(at_stop < USERS, "SIGTERM came before the end ({at_stop})");
    let (clean, synced) = (
        hub.count("select count(*) from target_progress where clean_stop")
            .await,
        hub.count("select count(*) from target_progress where synced_at is not null")
            .await,
    );
    assert_eq!(
        (clean, synced),
        (0, 0),
        "a sync cut short is neither a clean stop nor a finished sync"
    );

    let mut outbound = spawn_outbound(&hub, &config);
    users_reach(&t, USERS).await;
    stop(&mut outbound, &t).await;
    each_user_once(&t, USERS);
    hub.teardown().await;
}
