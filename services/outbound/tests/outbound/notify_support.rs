//! What the notifier's tests share: subscriptions as an operator writes
//! them, the hub's outbound service started with them, a subscription's
//! progress, the tenant's committed changes, and the checks every test
//! makes of what a receiver took (each event once, in order per resource).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use reqwest::Method;
use scimbus_db::changes::{self, ChangeRow};
use scimbus_db::subscriptions::SubscriptionKey;
use scimbus_db::subscriptions::progress::{self, Progress};
use scimbus_e2e::OutboundBuilder;
use scimbus_notify::SubscriptionSpec;
use serde_json::{Value, json};

use crate::receiver::{Got, Receiver};
use crate::support::{Hub, TENANT, eventually};

/// The secret every test webhook is signed with (32 bytes).
pub const SECRET: &str = "whsec_AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=";

/// How long a test waits for what the notifier does in well under a second.
pub const WITHIN: Duration = Duration::from_secs(20);

/// A subscription from its JSON, as the operator API takes it.
pub fn spec(json: Value) -> SubscriptionSpec {
    SubscriptionSpec::from_json(json.to_string().as_bytes()).unwrap()
}

/// A webhook subscription of every change, to `r`, signed with [`SECRET`];
/// `extra` fields are added to it.
pub fn webhook(name: &str, r: &Receiver, extra: Value) -> SubscriptionSpec {
    let mut s = json!({
        "name": name,
        "delivery": {"type": "webhook", "url": r.url(), "secret": SECRET},
    });
    if let (Some(o), Value::Object(e)) = (s.as_object_mut(), extra) {
        o.extend(e);
    }
    spec(s)
}

/// Starts the outbound service with these subscriptions of tenant `acme`
/// (first retry after 50 ms) and waits until each is driven.
pub async fn start_notifier(hub: &mut Hub, subs: Vec<SubscriptionSpec>) {
    let names: Vec<String> = subs.iter().filter_map(|s| s.name.clone()).collect();
    let o = OutboundBuilder::new(&hub.env)
        .subscriptions(TENANT, subs)
        .notify_backoff(Duration::from_millis(50))
        .start()
        .await;
    hub.outbound = Some(o);
    for name in names {
        wait_driven(hub, &name).await;
    }
}

/// Waits until a driver has taken the subscription (its progress row is
/// made then, and it gets every change published from then on).
pub async fn wait_driven(hub: &Hub, name: &str) {
    eventually(
        &format!("subscription {name} is driven"),
        WITHIN,
        || async {
            progress::find(&hub.env.pool, key(name))
                .await
                .map_err(|e| e.to_string())?
                .map(drop)
                .ok_or_else(|| "no progress yet".to_string())
        },
    )
    .await;
}

pub fn key(name: &str) -> SubscriptionKey<'_> {
    SubscriptionKey {
        tenant: TENANT,
        name,
    }
}

pub async fn progress(hub: &Hub, name: &str) -> Progress {
    progress::find(&hub.env.pool, key(name))
        .await
        .unwrap()
        .unwrap()
}

/// Waits until the subscription's written position has passed every
/// change committed so far: all of them are handled (delivered, skipped or
/// parked), and what it was to deliver of them it has.
pub async fn wait_caught_up(hub: &Hub, name: &str) {
    let last = changes::last_seq(&hub.env.pool, TENANT).await.unwrap();
    eventually(
        &format!("subscription {name} has handled change {last}"),
        WITHIN,
        || async {
            let p = progress(hub, name).await;
            if p.change_seq >= last {
                Ok(())
            } else {
                Err(format!("at change {}", p.change_seq))
            }
        },
    )
    .await;
}

/// Every change of the tenant, in sequence order.
pub async fn committed(hub: &Hub) -> Vec<ChangeRow> {
    changes::after(
        &hub.env.pool,
        TENANT,
        0,
        chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
        i64::MAX,
    )
    .await
    .unwrap()
}

/// The ids of changes, in the order given.
pub fn ids(rows: &[ChangeRow]) -> Vec<String> {
    rows.iter().map(|r| r.id.to_string()).collect()
}

/// Every event arrived once: no id twice.
pub fn assert_once_each(got: &[Got]) {
    let mut seen = HashSet::new();
    let twice: Vec<&str> = got
        .iter()
        .filter(|g| !seen.insert(g.id.as_str()))
        .map(|g| g.id.as_str())
        .collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
}

/// A resource's events arrived in its change order: per subject, the
/// first arrival of each id has a higher sequence than the one before
/// (later arrivals of an id seen already are redeliveries).
pub fn assert_in_order_per_resource(got: &[Got]) {
    let mut seen = HashSet::new();
    let mut per: HashMap<&str, Vec<i64>> = HashMap::new();
    for g in got {
        if seen.insert(g.id.as_str()) {
            per.entry(g.subject()).or_default().push(g.sequence());
        }
    }
    for (subject, seqs) in per {
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "the events of {subject} arrived out of order: {seqs:?}"
        );
    }
}

/// Sets a user's title through the ingress.
pub async fn set_title(hub: &Hub, id: &str, title: &str) {
    hub.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "title", "value": title}]),
    )
    .await;
}

/// Deletes a resource through the ingress (`path`: `/Users/{id}`).
pub async fn delete(hub: &Hub, path: &str) {
    let (s, b) = hub.call(Method::DELETE, path, None).await;
    assert_eq!(s, 204, "{b}");
}
