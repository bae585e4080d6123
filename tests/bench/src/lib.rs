//! Helpers of `make bench` (`tests/bench/run.sh`), none of which is part of
//! scimbus itself:
//!
//! - [`reference`]: the trivial axum handler whose GET rate under the same
//!   wrk script is the HTTP ceiling of the machine (DESIGN.md §9);
//! - [`streams`]: removes the JetStream streams of a bench run's bus prefix,
//!   so that runs do not pile up messages in a NATS shared with others.
//!
//! It must not grow into a load generator: wrk drives the load.

pub mod reference;
pub mod streams;
