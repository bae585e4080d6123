//! `scimbus` against a real Postgres (and, for the end-to-end check, a real
//! NATS and the ingress's router): the library functions called directly,
//! and the built binary run as an operator would run it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "cli/support.rs"]
mod support;

#[path = "cli/audit.rs"]
mod audit;
#[path = "cli/config.rs"]
mod config;
#[path = "cli/hr.rs"]
mod hr;
#[path = "cli/ingress.rs"]
mod ingress;
#[path = "cli/migrate.rs"]
mod migrate;
#[path = "cli/subscriptions.rs"]
mod subscriptions;
#[path = "cli/targets.rs"]
mod targets;
#[path = "cli/tokens.rs"]
mod tokens;
