//! scimbus-hr: HR sources, the pure part. HR systems post joiner, mover
//! and leaver events to `POST /hr/v1/{tenant}/{source}`; this crate reads
//! a source's configuration ([`SourceSpec`]), checks a request's signature
//! ([`Source::verify`]) and maps its events to SCIM users
//! ([`Source::events`]). No I/O: the ingress, the store and the scheduler
//! do that.
//!
//! # The mapping
//!
//! Every value of a source's `mapping` is a [CEL](https://cel.dev)
//! expression, compiled in the same environment as the outbound mappings
//! (`scimbus_mapping`: the standard library and its macros `has`, `all`,
//! `exists`, `exists_one`, `map`, `filter`, optional values, the strings
//! extension), over three variables: `event` (one event: an element of the
//! batch, or the whole body), `body` (the whole request body) and `now`
//! (the time of receipt, RFC 3339 text). JSON integers are CEL `int`s.
//!
//! ```text
//! [tenants.hr_sources.mapping]
//! employee_id = "event.worker.workerId"
//! kind        = "{'HIRE': 'hire', 'TERMINATION': 'terminate'}[?event.eventType].orValue('update')"
//! effective   = "event.effectiveDate"
//! event_id    = "event.eventId"
//! manager     = "event.worker.manager.workerId"
//! [tenants.hr_sources.mapping.set]
//! "title"     = "event.worker.businessTitle"
//! "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department" = "event.worker.department.name"
//! ```
//!
//! # Partial events
//!
//! HR updates carry only what changed (a job change has a title and no
//! name). So an expression of `set`, `user_name`, `manager` or `effective`
//! that fails only because the event lacks a key it reads (CEL's "no such
//! key", of a field or a map index), or that gives `optional.none()`
//! (`list[?0]` of an empty list), means *this event does not carry that
//! attribute*: the attribute is left out of the user, not set to null. Any
//! other failure (a type error, an unknown function, an index out of
//! range) is an error naming the event and the attribute. A `set` that
//! gives `null` is left out too. For `manager`, a missing key says nothing
//! about the manager, `null` (or `""`) clears it. `employee_id` and `kind`
//! must give a value; so must `event_id` when it is written.
//!
//! # Ids and times
//!
//! The employee id (a string, or an integer made its decimal string)
//! becomes the user's `externalId`. Without an `event_id` expression an
//! event's id is `sha256:` + the hex SHA-256 of its canonical JSON (keys
//! sorted), so that a retried event has the same id, whatever the order of
//! its keys. Ids are 1 to 256 characters without control characters. An
//! effective time is a date (`2026-12-01`: 00:00 in the source's
//! `time_zone`) or an RFC 3339 date-time; none or `null` means on receipt.
//! Without a `user_name` (or when it gives nothing) the userName is the
//! user's primary email, else its work email, else its first; a hire
//! without any is refused, other events keep the stored userName.

pub mod auth;
pub mod check;
pub mod effective;
pub mod event;
pub mod ids;
pub mod map;
pub mod source;
pub mod spec;

pub use auth::AuthError;
pub use event::{EventError, HrEvent, Kind};
pub use map::{CORE_USER, ENTERPRISE_USER};
pub use source::Source;
pub use spec::{AuthSpec, Encoding, MappingSpec, SourceSpec, SpecError};
