//! Invariant 3 across crashes of the outbound service: its binary is
//! killed (SIGKILL) again and again while users are updated, created and
//! deleted; the target never gets an older version of a user after a newer
//! one, and every user deleted here is deactivated there.

use std::collections::HashMap;
use std::time::Duration;

use reqwest::Method;
use tokio::process::Child;

use crate::fake_target::FakeTarget;
use crate::support::{Hub, TENANT, eventually};

fn spawn_outbound(hub: &Hub, config: &std::path::Path) -> Child {
    scimbus_e2e::binary::command(env!("CARGO_BIN_EXE_scimbus-outbound"), &hub.env)
        .env("SCIMBUS_OUTBOUND_ADDR", "127.0.0.1:0")
        .env("SCIMBUS_OUTBOUND_BACKOFF_MS", "50")
        .env("SCIMBUS_CONFIG", config)
        .spawn()
        .expect("start scimbus-outbound")
}

/// The `seq-N` titles a target was sent for each user (by the target's
/// id), in the order it got them.
fn titles_sent(t: &FakeTarget) -> HashMap<String, Vec<u32>> {
    let mut out: HashMap<String, Vec<u32>> = HashMap::new();
    for (method, path, body) in t.log() {
        if !matches!(method, Method::PUT | Method::PATCH) {
            continue;
        }
        let Some((_, id)) = path.split_once("/Users/") else {
            continue;
        };
        let text = body.map(|b| b.to_string()).unwrap_or_default();
        for part in text.split("seq-").skip(1) {
            let n: String = part.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(n) = n.parse() {
                out.entry(id.to_string()).or_default().push(n);
            }
        }
    }
    out
}

#[tokio::test]
async fn a_killed_outbound_never_sends_an_older_version_after_a_newer_one() {
    let hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let dir = std::env::temp_dir().join(format!("scimbus-crash-{}", hub.env.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("scimbus.toml");
    std::fs::write(
        &config,
        format!(
            "[[tenants]]\nname = \"{TENANT}\"\n\n[[tenants.targets]]\nname = \"t\"\nurl = \"{}\"\nconcurrency = 8\n",
            t.url()
        ),
    )
    .unwrap();
    let mut outbound = spawn_outbound(&hub, &config);

    const USERS: usize = 16;
    let mut ids = Vec::new();
    for i in 0..USERS {
        ids.push(hub.create_user(&format!("k{i}"), "Sales").await);
    }
    eventually(
        "every user is on the target",
        Duration::from_secs(60),
        || async {
            let n = t.resources("Users").len();
            if n == USERS {
                Ok(())
            } else {
                Err(format!("{n}"))
            }
        },
    )
    .await;

    // Each user's title goes seq-1, seq-2, … while the outbound service is
    // killed and started again, four times.
    let idp = hub.idp();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = tokio::spawn({
        let ids = ids.clone();
        let stop = stop.clone();
        async move {
            let mut round = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                round += 1;
                let title = format!("seq-{round}");
                let writes = ids.iter().map(|id| idp.set_title(id, &title));
                futures_util::future::join_all(writes).await;
            }
            round
        }
    });
    // Alongside, users come and go (created, then deleted at once).
    let churn = tokio::spawn({
        let hub_idp = hub.idp();
        let base = hub.base.clone();
        let stop = stop.clone();
        async move {
            let http = reqwest::Client::new();
            let mut n = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let id = hub_idp.create_user(&format!("churn{n}"), "Sales").await;
                let res = http
                    .delete(format!("{base}/Users/{id}"))
                    .bearer_auth(crate::support::TOKEN)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 204);
                n += 1;
            }
            n
        }
    });
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_millis(600)).await;
        outbound.start_kill().unwrap();
        outbound.wait().await.unwrap();
        outbound = spawn_outbound(&hub, &config);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let rounds = writer.await.unwrap();
    let churned = churn.await.unwrap();
    assert!(churned > 0);

    let last = format!("seq-{rounds}");
    eventually(
        "every user has the last title",
        Duration::from_secs(60),
        || async {
            let behind: Vec<String> = t
                .resources("Users")
                .values()
                .filter(|u| {
                    !u["userName"].as_str().unwrap_or("").starts_with("churn")
                        && u["title"] != serde_json::json!(last)
                })
                .map(|u| format!("{}={}", u["userName"], u["title"]))
                .collect();
            if behind.is_empty() {
                Ok(())
            } else {
                Err(behind.join(", "))
            }
        },
    )
    .await;
    eventually(
        "every user deleted here is deactivated there",
        Duration::from_secs(60),
        || async {
            let active: Vec<String> = t
                .resources("Users")
                .values()
                .filter(|u| {
                    u["userName"].as_str().unwrap_or("").starts_with("churn")
                        && u["active"] != serde_json::json!(false)
                })
                .map(|u| u["userName"].to_string())
                .collect();
            if active.is_empty() {
                Ok(())
            } else {
                Err(active.join(", "))
            }
        },
    )
    .await;
    let sent = titles_sent(&t);
    assert_eq!(sent.len(), USERS, "{sent:?}");
    for (user, titles) in &sent {
        assert!(
            titles.windows(2).all(|w| w[0] <= w[1]),
            "user {user} was sent an older title after a newer one: {titles:?}"
        );
    }
    outbound.start_kill().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    hub.teardown().await;
}
