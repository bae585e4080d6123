//! What every subscription driver of the service shares.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use chrono::{DateTime, Utc};
use scimbus_events::Subjects;
use scimbus_notify::{SigningKey, SubscriptionSpec};
use scimbus_scim::Registry;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

use super::error::DriverError;

/// What every subscription driver of the service shares.
#[derive(Debug, Clone)]
pub struct NotifyShared {
    pub js: jetstream::Context,
    /// Where NATS is: each driver reads the change stream on a connection
    /// of its own, so that no subscription's traffic queues behind
    /// another's or a target's on one socket.
    pub nats_url: String,
    /// Credentials beyond the URL's.
    pub nats_auth: scimbus_bus::NatsAuth,
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
    /// CloudEvents rendered once for every subscription.
    pub rendered: Arc<super::render::RenderCache>,
    /// Deliveries by subscription and outcome (`/metrics`).
    pub deliveries: scimbus_runtime::metrics::Counter,
}

impl NotifyShared {
    /// An ordered consumer of one tenant's changes, from `policy` on.
    pub(crate) async fn tenant_changes(
        &self,
        tenant: &str,
        policy: consumer::DeliverPolicy,
    ) -> Result<consumer::pull::Ordered, DriverError> {
        let js_err = |e: &dyn std::fmt::Display| DriverError::JetStream(e.to_string());
        self.js
            .get_stream(self.subjects.change_stream())
            .await
            .map_err(|e| js_err(&e))?
            .create_consumer(consumer::pull::OrderedConfig {
                filter_subject: self.subjects.tenant_changes(tenant),
                deliver_policy: policy,
                ..Default::default()
            })
            .await
            .map_err(|e| js_err(&e))?
            .messages()
            .await
            .map_err(|e| js_err(&e))
    }
}

/// The changes published from `t` on.
pub(crate) fn since(t: DateTime<Utc>) -> Result<consumer::DeliverPolicy, DriverError> {
    let start_time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(t.timestamp_micros()) * 1000)
            .map_err(|e| DriverError::JetStream(e.to_string()))?;
    Ok(consumer::DeliverPolicy::ByStartTime { start_time })
}
