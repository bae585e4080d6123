//! Helpers of `make bench` (`tests/bench/run.sh`), none of which is part of
//! scimbus itself:
//!
//! - [`reference`]: the trivial axum handler whose GET rate under the same
//!   wrk script is the HTTP ceiling of the machine (docs/design.md §9);
//! - [`floor`]: the GET's floor on the chosen packages — the GET's own SQL
//!   through sqlx and the row's bytes spliced into the answer — whose rate
//!   against pgbench running that SQL bounds any axum and sqlx server's;
//! - [`streams`]: removes the JetStream streams of a bench run's bus prefix,
//!   so that runs do not pile up messages in a NATS shared with others;
//! - [`target`] and [`drive`]: the outbound bench (`tests/bench/outbound.sh`):
//!   a fast in-memory SCIM target that records when each user arrived, a
//!   steady-rate writer that records when each write was acknowledged, and
//!   creates sent straight to a target. wrk cannot join the two clocks, so
//!   this bench brings its own load; the HTTP bench keeps wrk;
//! - [`receiver`] and [`notify`]: webhook subscribers that record when each
//!   created user's notification arrived, and the notification latency
//!   measured from them in the same propagation run;
//! - [`hr`]: signed HR webhooks (single hires and batches) as fast as the
//!   ingress answers 202;
//! - [`otlp_sink`]: the tracing bench's (`tests/bench/tracing.sh`) OTLP/HTTP
//!   trace receiver, which decodes every export and counts its spans.

pub mod drive;
pub mod floor;
pub mod hr;
pub mod notify;
pub mod otlp_sink;
pub mod receiver;
pub mod reference;
pub mod streams;
pub mod target;
