//! The notifier across crashes: the outbound binary is killed (SIGKILL)
//! again and again while users are written; once it runs again, every
//! committed change's event has arrived, what arrived twice had arrived
//! before, and each resource's events first arrived in change order.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio::process::Child;

use crate::notify_support::{
    SECRET, assert_in_order_per_resource, committed, wait_caught_up, wait_driven,
};
use crate::receiver::{Answer, Receiver};
use crate::support::{Hub, TENANT, TOKEN, eventually};

fn spawn_outbound(hub: &Hub, config: &std::path::Path) -> Child {
    scimbus_e2e::binary::command(env!("CARGO_BIN_EXE_scimbus-outbound"), &hub.env)
        .env("SCIMBUS_OUTBOUND_ADDR", "127.0.0.1:0")
        .env("SCIMBUS_NOTIFY_BACKOFF_MS", "50")
        .env("SCIMBUS_NOTIFY_RELOAD_MS", "100")
        .env("SCIMBUS_CONFIG", config)
        .spawn()
        .expect("start scimbus-outbound")
}

#[tokio::test]
async fn a_killed_notifier_loses_no_event_and_keeps_each_resource_in_order() {
    let hub = Hub::new().await;
    let r = Receiver::start(SECRET).await;
    // Answers take a little while: events are in flight when it is killed.
    r.answer(Answer::Jitter(Duration::from_millis(30)));
    let dir = std::env::temp_dir().join(format!("scimbus-notify-crash-{}", hub.env.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("scimbus.toml");
    std::fs::write(
        &config,
        format!(
            "[[tenants]]\nname = \"{TENANT}\"\n\n[[tenants.subscriptions]]\nname = \"hook\"\n\
             concurrency = 8\ndelivery = {{ type = \"webhook\", url = \"{}\", secret = \"{SECRET}\" }}\n",
            r.url()
        ),
    )
    .unwrap();
    let mut outbound = spawn_outbound(&hub, &config);
    wait_driven(&hub, "hook").await;

    let mut users = Vec::new();
    for i in 0..8 {
        users.push(hub.create_user(&format!("k{i}"), "Sales").await);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn({
        let (idp, users, stop) = (hub.idp(), users.clone(), stop.clone());
        async move {
            let mut round = 0;
            while !stop.load(Ordering::Relaxed) {
                round += 1;
                let title = format!("r{round}");
                futures_util::future::join_all(users.iter().map(|u| idp.set_title(u, &title)))
                    .await;
            }
        }
    });
    let churn = tokio::spawn({
        let (idp, base, stop) = (hub.idp(), hub.base.clone(), stop.clone());
        async move {
            let http = reqwest::Client::new();
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let id = idp.create_user(&format!("churn{n}"), "Sales").await;
                let res = http
                    .delete(format!("{base}/Users/{id}"))
                    .bearer_auth(TOKEN)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status().as_u16(), 204);
                n += 1;
            }
        }
    });
    for _ in 0..4 {
        // Each life lasts until it has delivered something more (and a
        // little longer), then it is killed mid-stream.
        let before = r.took().len();
        eventually("the notifier delivers", Duration::from_secs(30), || async {
            let n = r.took().len();
            if n > before + 5 {
                Ok(())
            } else {
                Err(format!("{n} taken"))
            }
        })
        .await;
        tokio::time::sleep(Duration::from_millis(200)).await;
        outbound.start_kill().unwrap();
        outbound.wait().await.unwrap();
        outbound = spawn_outbound(&hub, &config);
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    churn.await.unwrap();

    let rows = committed(&hub).await;
    let want: HashMap<String, i64> = rows.iter().map(|c| (c.id.to_string(), c.seq)).collect();
    eventually(
        "every committed change's event arrived",
        Duration::from_secs(60),
        || async {
            let got: HashSet<String> = r.took().into_iter().map(|g| g.id).collect();
            let missing = want.keys().filter(|id| !got.contains(*id)).count();
            if missing == 0 {
                Ok(())
            } else {
                Err(format!("{missing} of {} missing", want.len()))
            }
        },
    )
    .await;
    wait_caught_up(&hub, "hook").await;
    let got = r.took();
    let mut seen = HashSet::new();
    let mut again = 0;
    for g in &got {
        assert_eq!(
            want.get(&g.id),
            Some(&g.sequence()),
            "an event of a committed change, with its sequence: {}",
            g.event
        );
        if !seen.insert(g.id.clone()) {
            again += 1;
        }
    }
    assert_eq!(seen.len(), want.len());
    assert_in_order_per_resource(&got);
    eprintln!(
        "{} changes, {} events taken, {again} of them again",
        want.len(),
        got.len()
    );
    r.assert_all_signed();
    outbound.start_kill().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    hub.teardown().await;
}
