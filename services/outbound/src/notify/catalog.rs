//! The subscriptions to drive: the configuration file's and those made
//! through the operator API, each checked and with its secrets resolved.

use std::sync::Arc;

use scimbus_db::subscriptions::{self, SubscriptionKey};
use scimbus_notify::{Delivery, Subscription, SubscriptionSpec, WebhookSecret};
use scimbus_runtime::Secret;

use super::deliver::Deliverer;
use super::shared::NotifyShared;

/// A subscription ready to drive.
#[derive(Debug)]
pub(crate) struct Active {
    pub(crate) tenant: String,
    pub(crate) sub: Subscription,
    /// What it was made from: a driver whose subscription changed is
    /// started again.
    pub(crate) fingerprint: String,
    /// Newest first: every one signs a webhook; the first signs tokens.
    pub(crate) secrets: Vec<WebhookSecret>,
    pub(crate) deliverer: Deliverer,
}

impl Active {
    pub(crate) fn key(&self) -> SubscriptionKey<'_> {
        SubscriptionKey {
            tenant: &self.tenant,
            name: &self.sub.name,
        }
    }
}

/// A subscription that cannot be driven as it is, and why.
#[derive(Debug)]
pub(crate) struct Unworkable {
    pub(crate) tenant: String,
    pub(crate) name: String,
    pub(crate) fingerprint: String,
    pub(crate) why: String,
}

/// Every subscription, in three lots: those `unchanged` says are already
/// in hand as they are now (by tenant, name and fingerprint: nothing is
/// checked or built for them again), those newly ready to drive, and those
/// that cannot be driven.
pub(crate) struct Loaded {
    pub(crate) unchanged: Vec<(String, String)>,
    pub(crate) active: Vec<Arc<Active>>,
    pub(crate) unworkable: Vec<Unworkable>,
}

/// Reads the subscriptions; `unchanged(tenant, name, fingerprint)` tells
/// which are in hand as they are (a subscription's HTTP client, with its
/// root certificates, is built once, not at every reload).
pub(crate) async fn load(
    shared: &NotifyShared,
    unchanged: impl Fn(&str, &str, &str) -> bool,
) -> sqlx::Result<Loaded> {
    let mut specs: Vec<(String, String, SubscriptionSpec, String)> = shared
        .configured
        .iter()
        .map(|(tenant, spec)| {
            let name = spec.name.clone().unwrap_or_default();
            // The file is read once, at start: its subscriptions do not
            // change while the service runs.
            (tenant.clone(), name, spec.clone(), "config".to_string())
        })
        .collect();
    let mut unworkable = Vec::new();
    for stored in subscriptions::all(&shared.pool, None).await? {
        if specs
            .iter()
            .any(|(t, n, _, _)| *t == stored.tenant && *n == stored.name)
        {
            // The file's subscription of that name wins (the API refuses
            // to make one; this is one made before the file named it).
            continue;
        }
        let fingerprint = format!("api:{}", stored.updated_at.timestamp_micros());
        match serde_json::from_value::<SubscriptionSpec>(stored.spec.clone()) {
            Ok(spec) => specs.push((
                stored.tenant,
                stored.name,
                spec.with_secrets(stored.secrets),
                fingerprint,
            )),
            Err(e) => unworkable.push(Unworkable {
                tenant: stored.tenant,
                name: stored.name,
                fingerprint,
                why: format!("the stored subscription does not read: {e}"),
            }),
        }
    }
    let mut active = Vec::with_capacity(specs.len());
    let mut same = Vec::new();
    for (tenant, name, spec, fingerprint) in specs {
        if unchanged(&tenant, &name, &fingerprint) {
            same.push((tenant, name));
            continue;
        }
        match prepare(shared, &tenant, &name, &spec) {
            Ok((sub, secrets, deliverer)) => active.push(Arc::new(Active {
                tenant,
                sub,
                fingerprint,
                secrets,
                deliverer,
            })),
            Err(why) => unworkable.push(Unworkable {
                tenant,
                name,
                fingerprint,
                why,
            }),
        }
    }
    Ok(Loaded {
        unchanged: same,
        active,
        unworkable,
    })
}

/// Checks a subscription and resolves its secrets; why not, in words.
fn prepare(
    shared: &NotifyShared,
    tenant: &str,
    name: &str,
    spec: &SubscriptionSpec,
) -> Result<(Subscription, Vec<WebhookSecret>, Deliverer), String> {
    let sub = spec
        .check(name, &shared.registry, shared.key.is_some())
        .map_err(|e| e.to_string())?;
    let refs = match &sub.delivery {
        Delivery::Webhook { secrets, .. } | Delivery::Poll { secrets } => secrets.clone(),
        Delivery::Nats => Vec::new(),
    };
    let secrets = refs
        .iter()
        .enumerate()
        .map(|(i, r)| resolve(r).map_err(|e| format!("delivery.secret[{i}]: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let deliverer = Deliverer::new(shared, tenant, &sub).map_err(|e| e.to_string())?;
    Ok((sub, secrets, deliverer))
}

/// A `whsec_…` secret as written, or by `env:` / `file:` reference.
fn resolve(r: &str) -> Result<WebhookSecret, String> {
    let value = if r.starts_with("whsec_") {
        r.to_string()
    } else {
        match Secret::resolve(r).map_err(|e| e.to_string())? {
            Secret::Value(v) => v,
            Secret::Hash(_) => return Err("a webhook secret cannot be a sha256: hash".into()),
        }
    };
    WebhookSecret::parse(&value).map_err(|e| e.to_string())
}
