//! The notifier: delivers a tenant's committed changes to the applications
//! that subscribe to them (docs/design.md §1; invariants 3, 4, 6 and 7
//! carried through to subscribers).
//!
//! Subscriptions come from the configuration file and from the operator
//! API (stored in Postgres); the [`supervisor`] reloads them every second
//! and runs one [`driver`] per subscription. Of the replicas, the one that
//! holds a subscription's Postgres advisory lock drives it: it reads the
//! tenant's changes from `SCIMBUS_CHANGES` from the subscription's
//! position (kept in Postgres), decides for each whether it is an event the
//! subscription asked for ([`handle`]), renders it (CloudEvents JSON or a
//! signed SCIM event token) and delivers it ([`deliver`]): a signed
//! webhook, the public `SCIMBUS_EVENTS` stream, or the queue a polling
//! application drains. A resource's events go in order, different
//! resources side by side ([`follow`]); a failing receiver is retried with
//! backoff for hours, then its event is parked; a gap in the tenant's
//! change sequence is filled from Postgres, never skipped.
//!
//! Nothing is kept in memory that a crash could make wrong: the position
//! moves only past events that were delivered or parked, so a driver that
//! takes over delivers again at most what was in flight (each event keeps
//! its id, so a receiver drops what it has seen).

mod catalog;
mod deliver;
mod driver;
mod follow;
mod handle;
mod render;
mod supervisor;
mod tally;
mod webhook;

pub use supervisor::{NotifyShared, run};
