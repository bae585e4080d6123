//! dateTime values in SQL: comparing them as instants like
//! [`scimbus_scim::value::compare`], and rendering `meta` timestamps as
//! text like the read path does.
//!
//! Two kinds of stored dateTimes:
//!
//! - `meta.created` / `meta.lastModified` are `timestamptz` columns, whole
//!   microseconds. A literal with more precision is compared exactly: `gt`
//!   against its floor, `ge` against its ceiling, `eq` never matches.
//! - dateTimes inside `doc` are text as the client sent it. Postgres casts
//!   them, but only when they have a shape it parses the way chrono does
//!   (anything else would make the whole query fail); the rest compare as
//!   unparseable. The cast rounds to microseconds, so the literal is rounded
//!   the same way: equal text gives equal instants, but values that differ
//!   below a microsecond can compare equal (chrono keeps nanoseconds).

use chrono::{DateTime, FixedOffset, Utc};
use scimbus_scim::filter::CompareOp;
use scimbus_scim::value::parse_datetime;

use super::sql::{Arg, Sql};

/// SQL text for a `timestamptz` column exactly as the read path renders
/// `meta` timestamps ([`crate::render::timestamp`]: RFC 3339, UTC, six
/// fraction digits), for `co`/`sw`/`ew`, which compare text.
pub(crate) fn render_column(col: &str) -> Sql {
    Sql::raw(format!(
        "(to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || 'Z')"
    ))
}

/// RFC 3339 with an offset, as chrono reads it, minus what Postgres rejects
/// or reads differently: year 0000, leap seconds, offsets beyond ±15:59.
const WITH_OFFSET: &str = "^ *(?!0000)[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-5][0-9]([.][0-9]+)?([Zz]|[+-](0[0-9]|1[0-5]):[0-5][0-9]) *$";
/// The offset-less form `value::parse_datetime` also takes, as UTC.
const WITHOUT_OFFSET: &str =
    "^ *(?!0000)[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}T[0-9]{1,2}:[0-9]{1,2}:[0-5]?[0-9]([.][0-9]+)? *$";

/// `timestamptz` from a text expression; NULL when it is NULL or not a
/// dateTime Postgres reads like chrono. Never fails.
pub(crate) fn parse_text(text: &Sql) -> Sql {
    let mut s = Sql::raw("(CASE WHEN ");
    s.append(text)
        .push(format!(" ~ '{WITH_OFFSET}' THEN ("))
        .append(text)
        .push(")::timestamptz WHEN ")
        .append(text)
        .push(format!(" ~ '{WITHOUT_OFFSET}' THEN ("))
        .append(text)
        .push(")::timestamp AT TIME ZONE 'UTC' END)");
    s
}

/// The earliest `timestamptz` (4714-11-24 00:00 BC), in Unix microseconds.
const PG_MIN_MICROS: i64 = -210_866_803_200_000_000;

/// A dateTime literal of a filter.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Literal {
    /// Whole seconds since the Unix epoch (UTC) and the nanoseconds after
    /// them; a leap second has `nanos >= 1e9`, as in chrono.
    secs: i64,
    nanos: u32,
}

impl Literal {
    /// `None` unless `value::parse_datetime` reads `s`.
    pub(crate) fn parse(s: &str) -> Option<Literal> {
        let t: DateTime<FixedOffset> = parse_datetime(s)?;
        Some(Literal {
            secs: t.timestamp(),
            nanos: t.timestamp_subsec_nanos(),
        })
    }

    /// The instant as Postgres reads the same text: a leap second is the
    /// next minute's first, the fraction rounds to microseconds exactly as
    /// `ParseFractionalSecond` does (`rint(strtod(frac) * 1e6)`).
    pub(crate) fn rounded(&self) -> Sql {
        let (secs, nanos) = match self.nanos.checked_sub(1_000_000_000) {
            Some(n) => (self.secs.saturating_add(1), n),
            None => (self.secs, self.nanos),
        };
        // strtod of "0.<nanos>": the double nearest nanos / 1e9, which is
        // what IEEE division of the two (both exact) rounds to.
        let frac = f64::from(nanos) / 1e9;
        // At most 1e6 after rounding, so the cast is exact.
        let micros = (frac * 1e6).round_ties_even() as i64;
        instant(secs.saturating_mul(1_000_000).saturating_add(micros))
    }

    /// The largest whole microsecond not after the literal, and whether
    /// the literal lies strictly after it.
    fn floor(&self) -> (i64, bool) {
        let base = self.secs.saturating_mul(1_000_000);
        if self.nanos >= 1_000_000_000 {
            // chrono orders a leap second after hh:mm:59.999999999.
            return (base.saturating_add(999_999), true);
        }
        (
            base.saturating_add(i64::from(self.nanos / 1000)),
            !self.nanos.is_multiple_of(1000),
        )
    }

    /// `col op literal` for a `timestamptz` column that holds whole
    /// microseconds and is never NULL; exact at any precision.
    pub(crate) fn column_compare(&self, col: &str, op: CompareOp) -> Sql {
        let (floor, inexact) = self.floor();
        let cmp = |sym: &str| {
            let mut s = Sql::raw(format!("{col} {sym} "));
            s.append(&instant(floor));
            s.paren()
        };
        match (op, inexact) {
            (CompareOp::Eq, true) => Sql::constant(false),
            (CompareOp::Ne, true) => Sql::constant(true),
            (CompareOp::Eq, false) => cmp("="),
            (CompareOp::Ne, false) => cmp("<>"),
            (CompareOp::Gt, _) | (CompareOp::Ge, true) => cmp(">"),
            (CompareOp::Ge, false) => cmp(">="),
            (CompareOp::Lt, false) => cmp("<"),
            (CompareOp::Lt, true) | (CompareOp::Le, _) => cmp("<="),
            // Text operators are handled on the rendered text.
            (CompareOp::Co | CompareOp::Sw | CompareOp::Ew, _) => Sql::constant(false),
        }
    }
}

/// A bound `timestamptz`, or `-infinity` below Postgres' range (chrono's
/// reaches further back; its upper end is within Postgres').
fn instant(micros: i64) -> Sql {
    match DateTime::<Utc>::from_timestamp_micros(micros) {
        Some(t) if micros >= PG_MIN_MICROS => {
            let mut s = Sql::new();
            s.bind(Arg::Instant(t));
            s
        }
        _ if micros < 0 => Sql::raw("'-infinity'::timestamptz"),
        _ => Sql::raw("'infinity'::timestamptz"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floors_and_leap_seconds() {
        let l = Literal::parse("1970-01-01T00:00:01.0000015Z").unwrap();
        assert_eq!(l.floor(), (1_000_001, true));
        let l = Literal::parse("1969-12-31T23:59:59.5Z").unwrap();
        assert_eq!(l.floor(), (-500_000, false));
        let l = Literal::parse("1970-01-01T00:00:59.5").unwrap();
        assert_eq!(l.floor(), (59_500_000, false));
        let leap = Literal::parse("2016-12-31T23:59:60Z").unwrap();
        assert!(leap.floor().1);
    }
}
