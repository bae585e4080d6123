//! When an event takes effect: a date is the start of that day in the
//! source's time zone (a payroll date means the local working day, not
//! UTC's), an RFC 3339 date-time is itself.

use chrono::{DateTime, LocalResult, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

/// Reads an effective time written as `YYYY-MM-DD` or RFC 3339; the error
/// says what was found.
pub fn effective_at(text: &str, zone: Tz) -> Result<DateTime<Utc>, String> {
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return start_of_day(date, zone)
            .ok_or_else(|| format!("\"{text}\" has no start of day in {zone}"));
    }
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("\"{text}\" is neither a date (YYYY-MM-DD) nor an RFC 3339 date-time"))
}

/// 00:00 of `date` in `zone`; the earlier of two when the clocks go back
/// over midnight, the first minute that exists when they skip it.
fn start_of_day(date: NaiveDate, zone: Tz) -> Option<DateTime<Utc>> {
    let midnight = date.and_hms_opt(0, 0, 0)?;
    (0..=180)
        .map(|m| midnight + chrono::Duration::minutes(m))
        .find_map(|local| match zone.from_local_datetime(&local) {
            LocalResult::Single(t) | LocalResult::Ambiguous(t, _) => Some(t.with_timezone(&Utc)),
            LocalResult::None => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_date_is_midnight_in_the_zone() {
        let madrid: Tz = "Europe/Madrid".parse().unwrap();
        assert_eq!(
            effective_at("2026-12-01", madrid),
            Ok(utc("2026-11-30T23:00:00Z"))
        );
        assert_eq!(
            effective_at("2026-07-01", madrid),
            Ok(utc("2026-06-30T22:00:00Z"))
        );
        assert_eq!(
            effective_at("2026-12-01", Tz::UTC),
            Ok(utc("2026-12-01T00:00:00Z"))
        );
    }

    #[test]
    fn a_midnight_the_clocks_skip_is_the_first_minute_that_exists() {
        // Chile moved its clocks from 00:00 to 01:00 on 2024-09-08.
        let santiago: Tz = "America/Santiago".parse().unwrap();
        assert_eq!(
            effective_at("2024-09-08", santiago),
            Ok(utc("2024-09-08T04:00:00Z"))
        );
    }

    #[test]
    fn a_date_time_is_itself_and_anything_else_is_refused() {
        assert_eq!(
            effective_at("2026-11-21T10:03:44+02:00", Tz::UTC),
            Ok(utc("2026-11-21T08:03:44Z"))
        );
        for bad in ["2026-13-01", "21/11/2026", "2026-11-21 10:00", ""] {
            let e = effective_at(bad, Tz::UTC).unwrap_err();
            assert!(e.contains("is neither a date"), "{bad}: {e}");
        }
    }
}
