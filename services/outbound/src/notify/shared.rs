//! What every subscription driver of the service shares.

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream;
use scimbus_events::Subjects;
use scimbus_notify::{SigningKey, SubscriptionSpec};
use scimbus_scim::Registry;
use sqlx::PgPool;
use sqlx::postgres::PgConnectOptions;

/// What every subscription driver of the service shares.
#[derive(Debug, Clone)]
pub struct NotifyShared {
    pub js: jetstream::Context,
    /// Where NATS is: each driver reads the change stream on a connection
    /// of its own, so that no subscription's traffic queues behind
    /// another's or a target's on one socket.
    pub nats_url: String,
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
}
