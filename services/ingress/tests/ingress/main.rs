//! The ingress against a real NATS server, a real Postgres and a running
//! store: the SCIM HTTP surface end to end (requests go to the router, the
//! writes round-trip through JetStream and the store).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod admin;
mod audit;
mod binary;
mod bulk;
mod console;
mod console_api;
mod errors;
mod hr;
mod hr_admin;
mod hr_bearer;
mod hr_input;
mod hr_rules;
mod hr_support;
mod jwt;
mod lists;
mod postgres_blip;
mod rates;
mod readiness;
mod scopes;
mod strict_input;
mod subscriptions;
mod timeout;
mod tokens;
mod upgrade;
mod users_groups;
