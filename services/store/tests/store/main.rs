//! The store against a real NATS server and a real Postgres: commands in,
//! rows and changes out, and the invariants of docs/design.md §2 that are the
//! store's to keep.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

mod apply;
mod audit;
mod binary;
mod crash;
mod hr;
mod invariants;
mod members;
mod nats_crash;
mod one_session;
mod patch_run;
mod postgres_blip;
mod readiness;
mod replicas;
