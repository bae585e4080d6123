//! Delivering one rendered event: a signed webhook, a CloudEvent on the
//! public events stream, or a token queued for a polling application.

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::jetstream;
use scimbus_db::subscriptions::{SubscriptionKey, polled};
use scimbus_events::v1::Change;
use scimbus_events::{Subjects, headers};
use scimbus_notify::{Delivery, Subscription};
use sqlx::PgPool;

use super::render::Rendered;
use super::shared::NotifyShared;
use super::webhook::Webhook;

/// Where a subscription's events go.
#[derive(Debug)]
pub(crate) enum Deliverer {
    Webhook(Webhook),
    Nats(Box<(jetstream::Context, Subjects)>),
    Poll { pool: PgPool },
}

/// Why a delivery did not get through.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Failure {
    /// Worth another attempt (a 5xx, 429, a timeout, no connection, NATS
    /// away), after the receiver's `Retry-After` if it sent one.
    #[error("{detail}")]
    Transient {
        detail: String,
        retry_after: Option<Duration>,
        response: Option<String>,
    },
    /// Refused for good (a 4xx): parked at once.
    #[error("{detail}")]
    Permanent {
        detail: String,
        response: Option<String>,
    },
    /// 410 Gone: the receiver does not want the subscription any more.
    #[error("{detail}")]
    Gone { detail: String },
}

impl Failure {
    /// The receiver's status and the start of its answer, if there was one.
    pub(crate) fn response(&self) -> Option<&str> {
        match self {
            Failure::Transient { response, .. } | Failure::Permanent { response, .. } => {
                response.as_deref()
            }
            Failure::Gone { .. } => None,
        }
    }
}

/// What could not be built for a subscription's delivery.
#[derive(Debug, thiserror::Error)]
#[error("delivery: {0}")]
pub(crate) struct DeliveryError(String);

impl Deliverer {
    pub(crate) fn new(
        shared: &NotifyShared,
        _tenant: &str,
        sub: &Subscription,
    ) -> Result<Deliverer, DeliveryError> {
        Ok(match &sub.delivery {
            Delivery::Webhook { url, .. } => Deliverer::Webhook(
                Webhook::new(url, sub.timeout).map_err(|e| DeliveryError(e.to_string()))?,
            ),
            Delivery::Nats => {
                Deliverer::Nats(Box::new((shared.js.clone(), shared.subjects.clone())))
            }
            Delivery::Poll { .. } => Deliverer::Poll {
                pool: shared.pool.clone(),
            },
        })
    }

    /// Delivers one event (`secrets` sign webhooks).
    pub(crate) async fn deliver(
        &self,
        key: SubscriptionKey<'_>,
        change: &Change,
        event: &Rendered,
        secrets: &[scimbus_notify::WebhookSecret],
    ) -> Result<(), Failure> {
        match self {
            Deliverer::Webhook(w) => w.post(event, secrets).await,
            Deliverer::Nats(nats) => {
                let (js, subjects) = nats.as_ref();
                let subject =
                    subjects.event(key.tenant, &change.resource_type, event.kind.as_str());
                let mut h = HeaderMap::new();
                h.insert(headers::MSG_ID, event.id.as_str());
                h.insert(headers::TENANT, key.tenant);
                h.insert(headers::CONTENT_TYPE, event.content_type);
                let transient = |e: &dyn std::fmt::Display| Failure::Transient {
                    detail: format!("publishing to {subject}: {e}"),
                    retry_after: None,
                    response: None,
                };
                js.publish_with_headers(subject.clone(), h, event.body.clone())
                    .await
                    .map_err(|e| transient(&e))?
                    .await
                    .map_err(|e| transient(&e))?;
                Ok(())
            }
            Deliverer::Poll { pool } => {
                let token = std::str::from_utf8(&event.body).map_err(|e| Failure::Permanent {
                    detail: format!("a token that is not text: {e}"),
                    response: None,
                })?;
                let seq = i64::try_from(change.sequence).unwrap_or(i64::MAX);
                polled::queue(pool, key, &event.id, seq, token)
                    .await
                    .map_err(|e| Failure::Transient {
                        detail: format!("queueing for polling: {e}"),
                        retry_after: None,
                        response: None,
                    })
            }
        }
    }
}
