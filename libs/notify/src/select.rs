//! Which changes a subscription delivers: its resource types, its event
//! kinds, its filter (with the resource leaving the filter always told),
//! and the attributes it cares about.

use scimbus_events::v1::Change;
use scimbus_scim::Registry;
use scimbus_scim::filter::{Filter, Matcher};
use serde_json::Value;

use crate::kind::EventKind;

/// What to do with one change for one subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    Skip,
    /// Deliver it as `kind`; `left` when the resource matched the
    /// subscription's filter before and does not now.
    Deliver {
        kind: EventKind,
        left: bool,
    },
}

/// A subscription's selection, built by `SubscriptionSpec::check`.
#[derive(Clone)]
pub struct Selector {
    /// Canonical names: `User`, `Group`.
    resource_types: Vec<String>,
    events: Vec<EventKind>,
    /// The filter with the registry it was checked against (a tenant's
    /// registry can carry custom extensions).
    filter: Option<(Filter, Registry)>,
    /// Canonical attribute paths, lower-cased.
    attributes: Option<Vec<String>>,
}

/// The filter as text, not the registry it holds (every schema of the
/// tenant, which would drown a log line).
impl std::fmt::Debug for Selector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Selector")
            .field("resource_types", &self.resource_types)
            .field("events", &self.events)
            .field("filter", &self.filter.as_ref().map(|(f, _)| f.to_string()))
            .field("attributes", &self.attributes)
            .finish()
    }
}

impl Selector {
    pub(crate) fn new(
        resource_types: Vec<String>,
        events: Vec<EventKind>,
        filter: Option<(Filter, Registry)>,
        attributes: Option<Vec<String>>,
    ) -> Selector {
        Selector {
            resource_types,
            events,
            filter,
            attributes,
        }
    }

    pub fn has_filter(&self) -> bool {
        self.filter.is_some()
    }

    /// What to do with `change`. `was_in`: whether the resource matched the
    /// filter as of the last event delivered for it (read only when
    /// [`Self::has_filter`]). Returns the decision and whether the resource
    /// matches the filter now: false once deleted, true for a live resource
    /// without a filter.
    ///
    /// A resource that leaves the filter is delivered (`left: true`)
    /// whatever `events` and `attributes` say, so the app learns it is gone
    /// from its view; one that enters it passes the attribute check, since
    /// the app has not seen it yet.
    pub fn decide(&self, change: &Change, was_in: bool) -> (Decision, bool) {
        let now = self.matches_now(change);
        let Some(kind) = EventKind::of(change) else {
            return (Decision::Skip, now);
        };
        if !self
            .resource_types
            .iter()
            .any(|t| t.eq_ignore_ascii_case(&change.resource_type))
        {
            return (Decision::Skip, now);
        }
        if self.has_filter() && !now {
            let d = if was_in {
                Decision::Deliver { kind, left: true }
            } else {
                Decision::Skip
            };
            return (d, now);
        }
        if !self.events.contains(&kind) {
            return (Decision::Skip, now);
        }
        if let Some(attrs) = &self.attributes {
            let entered = self.has_filter() && !was_in;
            let passes = matches!(kind, EventKind::Created | EventKind::Deleted)
                || entered
                || changed_paths(change)
                    .any(|c| attrs.iter().any(|a| overlaps(&c.to_ascii_lowercase(), a)));
            if !passes {
                return (Decision::Skip, now);
            }
        }
        (Decision::Deliver { kind, left: false }, now)
    }

    /// Whether the resource after `change` is in the subscription's view:
    /// not deleted, and matching the filter if there is one. A resource that
    /// does not parse, or of a type the filter does not fit, does not match.
    fn matches_now(&self, change: &Change) -> bool {
        if EventKind::of(change) == Some(EventKind::Deleted) {
            return false;
        }
        let Some((filter, registry)) = &self.filter else {
            return true;
        };
        let Some(rt) = registry.resource_type(&change.resource_type) else {
            return false;
        };
        let Ok(resource) = serde_json::from_slice::<Value>(&change.resource) else {
            return false;
        };
        Matcher::new(registry, rt, filter).is_ok_and(|m| m.matches(&resource))
    }
}

/// The paths a change touched; a membership change touched `members`
/// (whether or not the store listed it).
fn changed_paths(change: &Change) -> impl Iterator<Item = &str> {
    let members = EventKind::of(change) == Some(EventKind::Membership)
        || !change.members_added.is_empty()
        || !change.members_removed.is_empty();
    change
        .changed_attributes
        .iter()
        .map(String::as_str)
        .chain(members.then_some("members"))
}

/// Whether two lower-cased paths overlap: equal, or one inside the other
/// (`name` and `name.givenname`; an extension URN and its attributes,
/// `urn:…:user` and `urn:…:user:department`).
fn overlaps(a: &str, b: &str) -> bool {
    let inside = |inner: &str, outer: &str| {
        inner
            .strip_prefix(outer)
            .is_some_and(|rest| rest.starts_with('.') || rest.starts_with(':'))
    };
    a == b || inside(a, b) || inside(b, a)
}

#[cfg(test)]
mod tests {
    use super::overlaps;

    #[test]
    fn paths_overlap_when_one_holds_the_other() {
        assert!(overlaps("name", "name"));
        assert!(overlaps("name.givenname", "name"));
        assert!(overlaps("name", "name.givenname"));
        assert!(overlaps(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user"
        ));
        assert!(!overlaps("name", "nickname"));
        assert!(!overlaps("name.givenname", "name.familyname"));
        assert!(!overlaps("emails", "emailsx"));
    }
}
