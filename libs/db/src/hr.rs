//! HR webhooks in Postgres: the inbox of accepted events (`hr_events`,
//! written by the ingress before its 202, applied by the store at their
//! time) and what the store knows of each person an HR source manages
//! (`hr_workers`).

pub mod due;
pub mod events;
pub mod workers;

pub use events::{Accepted, EventRow, Filter, NewEvent, Outcome, Status};
pub use workers::Worker;
