//! Which subscriptions are driven here: reloaded every second from the
//! configuration file and Postgres; a driver starts for each new one,
//! starts again when its subscription changed, and stops when it is gone.

use std::collections::HashMap;

use scimbus_db::subscriptions::{SubscriptionKey, progress};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::catalog;
use super::driver;
use super::shared::NotifyShared;

/// Runs the subscriptions' drivers until `stop`, then waits for them.
pub async fn run(shared: NotifyShared, stop: CancellationToken) {
    let drivers = TaskTracker::new();
    // (tenant, name) → (fingerprint, the driver's stop token)
    let mut running: HashMap<(String, String), (String, CancellationToken)> = HashMap::new();
    // Unworkable subscriptions already reported, by fingerprint.
    let mut reported: HashMap<(String, String), String> = HashMap::new();
    loop {
        let loaded = catalog::load(&shared, |tenant, name, fingerprint| {
            let id = (tenant.to_string(), name.to_string());
            running.get(&id).is_some_and(|(f, _)| f == fingerprint)
                || reported.get(&id).is_some_and(|f| f == fingerprint)
        })
        .await;
        match loaded {
            Ok(catalog::Loaded {
                unchanged,
                active,
                unworkable,
            }) => {
                let mut wanted: std::collections::HashSet<(String, String)> =
                    unchanged.into_iter().collect();
                for a in active {
                    let id = (a.tenant.clone(), a.sub.name.clone());
                    wanted.insert(id.clone());
                    reported.remove(&id);
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
                    tracing::warn!(tenant = %u.tenant, subscription = %u.name, why = %u.why,
                        "subscription cannot be driven");
                    let key = SubscriptionKey {
                        tenant: &u.tenant,
                        name: &u.name,
                    };
                    let why = format!("cannot be driven: {}", u.why);
                    if progress::note_error(&shared.pool, key, &why).await.is_ok() {
                        reported.insert(id.clone(), u.fingerprint);
                    }
                    // One that could be driven before and cannot now stops.
                    if let Some((_, old)) = running.remove(&id) {
                        old.cancel();
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
                reported.retain(|id, _| !running.contains_key(id));
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
