//! SCIM filters and sort orders as SQL over `resources`, so that list and
//! `.search` queries run in Postgres: parameterised (every client value is
//! a bound parameter), index-backed where it matters, and returning exactly
//! what the evaluator [`scimbus_scim::filter::Matcher`] decides for the
//! resource a client would read.
//!
//! ```text
//! select … from resources r
//! where r.tenant = $1 and r.resource_type = $2 and ( <push_filter> )
//! order by <Sort::push_order_by>
//! ```
//!
//! # What the SQL reads
//!
//! The resource a client reads is `doc` (canonical, from
//! `resource::normalize`) plus `id`, `meta` (`resourceType`, `created` and
//! `lastModified` as [`crate::render::timestamp`] renders them, `version`
//! as `W/"<version>"`), for Groups `members` (`value`, `type`) from
//! `group_members`, and for Users `groups` (`value`, `display` = the
//! group's `display_name`, `type` = `"direct"`): [`crate::render::resource`].
//! Derived lists are in id order (it matters only to
//! `sortBy=members.value` and the like). The columns `user_name`,
//! `external_id`, `display_name`, `active` and `emails` must hold
//! [`crate::resources::Columns::of`] of `doc`.
//!
//! Index-backed: `userName eq` (`lower(user_name)`), `externalId eq`, `id
//! eq`, `displayName eq` (`lower(display_name)`), `emails.value eq` and
//! `emails[value eq …]` (GIN on `emails`), `meta.lastModified` comparisons,
//! `members.value eq` and `groups.value eq` (on `group_members`).
//!
//! # Where SQL and the evaluator can differ
//!
//! - Case folding: the evaluator uses `str::to_lowercase`, the SQL
//!   `lower()` under the database's `LC_CTYPE` (C.UTF-8 in the dev stack).
//!   They differ on U+0130 (İ: Rust gives "i̇", glibc "i"), on a final Σ
//!   (Rust gives ς), and on characters newer than the C library's Unicode
//!   tables (Unicode 16 additions for glibc 2.36). The `emails` column is
//!   lower-cased in Rust, so `emails.value eq` is exact.
//! - dateTimes in `doc` with more than microsecond precision (Postgres
//!   rounds them, chrono keeps nanoseconds), or in shapes Postgres would
//!   read differently (year 0000, leap second, offsets beyond ±15:59),
//!   which compare as unparseable. `meta` timestamps compare exactly.
//! - Decimal values beyond 2^53 stored in exponent form compare as
//!   integers (Postgres does not keep the form of a JSON number).
//! - Non-canonical documents (a list where the schema says single-valued).
//! - `meta.location` is never there: the read path leaves it out (the
//!   ingress adds it from the request URL), so filters on it see nothing.

mod datetime;
mod predicate;
mod sort;
mod sql;
mod target;
mod translate;

use scimbus_scim::filter::Filter;
use scimbus_scim::{Registry, ResourceType, ScimError};
use sqlx::{Postgres, QueryBuilder};

pub use sort::{Cursor, Sort, SortValue, push_order_by};

/// Appends a parenthesised boolean SQL expression that is true for the
/// rows (`resources` aliased `r`) the evaluator matches with `filter`.
///
/// Attribute names resolve through `registry` for `rt` as the evaluator
/// resolves them; a filter the evaluator rejects gets the same
/// `invalidFilter` error, and nothing is appended.
pub fn push_filter(
    qb: &mut QueryBuilder<Postgres>,
    registry: &Registry,
    rt: &ResourceType,
    filter: &Filter,
) -> Result<(), ScimError> {
    FilterSql::new(registry, rt, filter)?.push(qb);
    Ok(())
}

/// A filter validated and translated once, to push into as many queries as
/// a request runs (a count and a page); also the keyset predicate of a
/// cursor ([`Sort::after`]).
#[derive(Debug, Clone)]
pub struct FilterSql(sql::Sql);

impl FilterSql {
    /// Validates and translates `filter` (see [`push_filter`]).
    pub fn new(registry: &Registry, rt: &ResourceType, filter: &Filter) -> Result<Self, ScimError> {
        Ok(FilterSql(translate::filter(registry, rt, filter)?.paren()))
    }

    /// Appends the parenthesised expression.
    pub fn push(&self, qb: &mut QueryBuilder<Postgres>) {
        self.0.emit(qb);
    }
}
