//! Which subscriptions are driven here: reloaded every second from the
//! configuration file and Postgres; a driver starts for each new one,
//! starts again when its subscription changed, and stops when it is gone.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use scimbus_db::subscriptions::{SubscriptionKey, progress};
use scimbus_events::Subjects;
use scimbus_notify::{SigningKey, SubscriptionSpec};
use scimbus_scim::Registry;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::catalog;
use super::driver;

/// What every subscription driver of the service shares.
#[derive(Debug, Clone)]
pub struct NotifyShared {
    pub js: jetstream::Context,
    pub subjects: Subjects,
    /// The options lease connections open with.
    pub pg: PgConnectOptions,
    pub pool: PgPool,
    pub registry: Arc<Registry>,
    /// The configuration file's subscriptions, per tenant.
    pub configured: Arc<Vec<(String, SubscriptionSpec)>>,
    /// The key that signs event tokens of subscriptions with
    /// `signing = "key"` (its public half is served by the ingress).
    pub key: Option<Arc<SigningKey>>,
    /// The base URL of the ingress (the `iss` of event tokens).
    pub public_url: String,
    /// The first retry delay (doubles, with jitter, up to an hour).
    pub backoff: Duration,
    /// How often a replica tries to take a subscription someone else drives.
    pub lease_retry: Duration,
    /// How often the subscriptions are read again.
    pub reload: Duration,
}

/// Runs the subscriptions' drivers until `stop`, then waits for them.
pub async fn run(shared: NotifyShared, stop: CancellationToken) {
    let drivers = TaskTracker::new();
    // (tenant, name) → (fingerprint, the driver's stop token)
    let mut running: HashMap<(String, String), (String, CancellationToken)> = HashMap::new();
    // Unworkable subscriptions already reported, by fingerprint.
    let mut reported: HashMap<(String, String), String> = HashMap::new();
    loop {
        match catalog::load(&shared).await {
            Ok((active, unworkable)) => {
                let mut wanted = std::collections::HashSet::new();
                for a in active {
                    let id = (a.tenant.clone(), a.sub.name.clone());
                    wanted.insert(id.clone());
                    if running.get(&id).is_some_and(|(f, _)| *f == a.fingerprint) {
                        continue;
                    }
                    if let Some((_, old)) = running.remove(&id) {
                        old.cancel();
                    }
                    let token = stop.child_token();
                    running.insert(id, (a.fingerprint.clone(), token.clone()));
                    tracing::info!(tenant = %a.tenant, subscription = %a.sub.name, "subscription driver started");
                    drivers.spawn(driver::run(shared.clone(), a, token));
                }
                for u in unworkable {
                    let id = (u.tenant.clone(), u.name.clone());
                    if reported.get(&id) == Some(&u.fingerprint) {
                        continue;
                    }
                    tracing::warn!(tenant = %u.tenant, subscription = %u.name, why = %u.why,
                        "subscription cannot be driven");
                    let key = SubscriptionKey {
                        tenant: &u.tenant,
                        name: &u.name,
                    };
                    let why = format!("cannot be driven: {}", u.why);
                    if progress::create(&shared.pool, key).await.is_ok()
                        && progress::disable(&shared.pool, key, &why).await.is_ok()
                    {
                        reported.insert(id, u.fingerprint);
                    }
                }
                running.retain(|id, (_, token)| {
                    let keep = wanted.contains(id);
                    if !keep {
                        tracing::info!(tenant = %id.0, subscription = %id.1, "subscription gone; driver stopped");
                        token.cancel();
                    }
                    keep
                });
            }
            Err(e) => tracing::warn!(error = %e, "cannot read the subscriptions"),
        }
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(shared.reload) => {}
        }
    }
    drivers.close();
    drivers.wait().await;
}
