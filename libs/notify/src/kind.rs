//! What happened to a resource, as a subscriber chooses events: the six
//! kinds of change the store publishes.

use scimbus_events::v1::Change;
use scimbus_events::v1::change::Operation;
use serde::{Deserialize, Serialize};

/// The kind of a change, named as subscriptions write it (`"created"` …
/// `"membership"`) and as CloudEvent types end (`dev.scimbus.user.created`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Created,
    Updated,
    Deleted,
    Activated,
    Deactivated,
    Membership,
}

impl EventKind {
    /// Every kind, in the order subscriptions list them by default.
    pub const ALL: [EventKind; 6] = [
        EventKind::Created,
        EventKind::Updated,
        EventKind::Deleted,
        EventKind::Activated,
        EventKind::Deactivated,
        EventKind::Membership,
    ];

    /// The kind of `change`, from its operation. `None` for an unspecified
    /// operation or one this build does not know (a newer store's): such a
    /// change is not delivered rather than delivered as something it is not.
    pub fn of(change: &Change) -> Option<EventKind> {
        match Operation::try_from(change.operation).ok()? {
            Operation::Unspecified => None,
            Operation::Created => Some(EventKind::Created),
            Operation::Updated => Some(EventKind::Updated),
            Operation::Deleted => Some(EventKind::Deleted),
            Operation::Activated => Some(EventKind::Activated),
            Operation::Deactivated => Some(EventKind::Deactivated),
            Operation::MembershipChanged => Some(EventKind::Membership),
        }
    }

    /// The name subscriptions and CloudEvent types use.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Created => "created",
            EventKind::Updated => "updated",
            EventKind::Deleted => "deleted",
            EventKind::Activated => "activated",
            EventKind::Deactivated => "deactivated",
            EventKind::Membership => "membership",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(op: i32) -> Change {
        Change {
            operation: op,
            ..Change::default()
        }
    }

    #[test]
    fn every_operation_has_its_kind_and_unknown_ones_none() {
        let pairs = [
            (Operation::Created, "created"),
            (Operation::Updated, "updated"),
            (Operation::Deleted, "deleted"),
            (Operation::Activated, "activated"),
            (Operation::Deactivated, "deactivated"),
            (Operation::MembershipChanged, "membership"),
        ];
        for (op, name) in pairs {
            let kind = EventKind::of(&change(op as i32)).unwrap();
            assert_eq!(kind.as_str(), name);
            assert_eq!(serde_json::to_value(kind).unwrap(), name);
        }
        assert_eq!(EventKind::of(&change(Operation::Unspecified as i32)), None);
        assert_eq!(EventKind::of(&change(99)), None);
    }
}
