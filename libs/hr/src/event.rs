//! An HR event as the mapping made it: who (the HR employee id), what (the
//! kind), when (the effective time), the SCIM user it carries, and the
//! event as received.

use chrono::{DateTime, Utc};
use serde_json::Value;

/// What happened to the employee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A joiner: the user is made.
    Hire,
    /// A mover: the attributes the event carries change.
    Update,
    /// A leaver: the user is deactivated (and deleted later if the source
    /// says so).
    Terminate,
    /// A returner: the same identity is activated again.
    Rehire,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Hire, Kind::Update, Kind::Terminate, Kind::Rehire];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Hire => "hire",
            Kind::Update => "update",
            Kind::Terminate => "terminate",
            Kind::Rehire => "rehire",
        }
    }
}

impl std::fmt::Display for Kind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A kind that is none of the four.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("\"{0}\" is not one of hire, update, terminate, rehire")]
pub struct UnknownKind(pub String);

impl std::str::FromStr for Kind {
    type Err = UnknownKind;

    fn from_str(s: &str) -> Result<Kind, UnknownKind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| UnknownKind(s.to_string()))
    }
}

/// One mapped event.
#[derive(Debug, Clone, PartialEq)]
pub struct HrEvent {
    /// The source's id of the event, or `sha256:` of its canonical JSON: a
    /// retried event has the same id, so it has no second effect.
    pub event_id: String,
    /// The HR employee id: the user's `externalId`.
    pub employee_id: String,
    pub kind: Kind,
    /// None: effective on receipt.
    pub effective_at: Option<DateTime<Utc>>,
    /// The SCIM User (core + enterprise extension) with the attributes this
    /// event carries: `schemas`, `externalId` = employee_id, `userName`,
    /// what `set` produced. No `active` (the store derives it from `kind`),
    /// no `manager` (the store resolves `manager_id`).
    pub user: Value,
    /// The manager's HR employee id: None = the event does not say,
    /// Some(None) = the event clears the manager; never Some("").
    pub manager_id: Option<Option<String>>,
    /// The event as received (one element of the batch, or the body), kept
    /// raw so that a mapping fixed later can be run on it again.
    pub raw: Value,
}

/// Why a body or one of its events cannot be mapped. A batch is all or
/// nothing: this is the first event that failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct EventError {
    /// The event's place in the batch (0 = the first); None for the body
    /// itself, or a body that is one event.
    pub index: Option<usize>,
    /// The event's id, when it was known before the failure.
    pub event_id: Option<String>,
    pub reason: String,
}

impl EventError {
    /// A failure of the body as a whole.
    pub fn body(reason: impl Into<String>) -> EventError {
        EventError {
            index: None,
            event_id: None,
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for EventError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.index, &self.event_id) {
            (Some(i), Some(id)) => write!(f, "event {i} ({id}): {}", self.reason),
            (Some(i), None) => write!(f, "event {i}: {}", self.reason),
            (None, Some(id)) => write!(f, "event {id}: {}", self.reason),
            (None, None) => f.write_str(&self.reason),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_what_they_write() {
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
        }
        assert_eq!(
            "Hire".parse::<Kind>().unwrap_err().to_string(),
            "\"Hire\" is not one of hire, update, terminate, rehire"
        );
    }

    #[test]
    fn errors_say_which_event() {
        let e = |index, id: Option<&str>| EventError {
            index,
            event_id: id.map(String::from),
            reason: "mapping of \"title\": x".into(),
        };
        assert_eq!(
            e(Some(2), Some("wd-evt-1")).to_string(),
            "event 2 (wd-evt-1): mapping of \"title\": x"
        );
        assert_eq!(
            e(Some(0), None).to_string(),
            "event 0: mapping of \"title\": x"
        );
        assert_eq!(
            e(None, Some("e")).to_string(),
            "event e: mapping of \"title\": x"
        );
        assert_eq!(
            EventError::body("the body is not JSON: x").to_string(),
            "the body is not JSON: x"
        );
    }
}
