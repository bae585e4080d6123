//! The form checks of a [`SourceSpec`]: everything that needs nothing
//! resolved, so that the configuration file is refused at start, with the
//! field named, rather than the first request failing.

use chrono_tz::Tz;

use crate::auth::check_form as check_auth;
use crate::map::EventMapping;
use crate::spec::{SourceSpec, SpecError};

/// The longest source name (it is a URL path segment and a label).
pub const MAX_NAME_CHARS: usize = 64;

impl SourceSpec {
    /// Form checks that need nothing resolved: name, time zone, where the
    /// events are, the authentication (one or two secret references, header
    /// names, what is signed), every expression compiles and every attribute
    /// path parses. The error says the field (`mapping.set.title: …`).
    pub fn check_form(&self) -> Result<(), SpecError> {
        check_name(&self.name)?;
        let zone = self.zone()?;
        if let Some(path) = &self.events
            && (path.is_empty() || path.split('.').any(str::is_empty))
        {
            return Err(SpecError::new(
                "events",
                format!("\"{path}\" is not a dotted path of keys"),
            ));
        }
        check_auth(&self.auth)?;
        EventMapping::compile(&self.mapping, zone).map(drop)
    }

    /// The time zone, read.
    pub(crate) fn zone(&self) -> Result<Tz, SpecError> {
        self.time_zone.parse::<Tz>().map_err(|_| {
            SpecError::new(
                "time_zone",
                format!(
                    "\"{}\" is not an IANA time zone (e.g. \"Europe/Madrid\")",
                    self.time_zone
                ),
            )
        })
    }
}

/// `[a-z0-9_-]{1,64}`.
fn check_name(name: &str) -> Result<(), SpecError> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME_CHARS
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(SpecError::new(
            "name",
            format!("\"{name}\" is not 1 to {MAX_NAME_CHARS} of a-z, 0-9, _ and -"),
        ))
    }
}
