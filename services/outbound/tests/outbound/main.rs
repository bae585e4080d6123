//! The outbound service end to end, with real NATS and Postgres: an
//! IdP-style client writes to the ingress, the store commits, and target
//! workers push to downstream SCIM servers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod binary;
mod circuit;
mod crash;
mod fake_target;
mod hr;
mod mapping;
mod metrics;
mod mirror;
mod nats_cluster;
mod notify_api;
mod notify_crash;
mod notify_delivery;
mod notify_failures;
mod notify_filter;
mod notify_gap;
mod notify_parked;
mod notify_poll;
mod notify_support;
mod operate;
mod passwords;
mod push;
mod readiness;
mod receiver;
mod reconcile;
mod replicas;
mod scim2_server;
mod secrets;
mod stopping;
mod support;
mod sync;
mod traces;
mod transitions;
mod undecodable;
