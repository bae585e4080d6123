//! scimbus-notify: the pure part of the notifier.
//!
//! Apps subscribe to identity changes (users and groups created, updated,
//! deleted, activated, deactivated, membership changed) and receive them by
//! signed webhook, on NATS, or by RFC 8936 polling, as CloudEvents 1.0 JSON
//! or as SCIM Security Event Tokens (RFC 9967). This crate reads and checks
//! subscriptions, decides which changes each one gets, writes the events
//! and signs them. It does no I/O: the outbound's drivers, the ingress's
//! admin API and poll endpoint, and the database crate use it.

pub mod check;
pub mod cloudevent;
pub mod delivery;
pub mod jws;
pub mod kind;
pub mod select;
pub mod set;
pub mod spec;
pub mod webhook;

pub use check::{Delivery, Subscription};
pub use cloudevent::{CLOUDEVENTS_JSON, cloud_event};
pub use jws::{KeyError, Signer, SigningKey, sign_jwt};
pub use kind::EventKind;
pub use select::{Decision, Selector};
pub use set::{SECEVENT_JWT, set_claims};
pub use spec::{DeliverySpec, Format, Secrets, Signing, SpecError, SubscriptionSpec};
pub use webhook::{SecretFormError, WebhookSecret, webhook_signature};
