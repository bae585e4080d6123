//! What a target holds of one of our resources, and the step that brings it
//! to what we hold now. Pure: no network, no Postgres. Every push (a change
//! from the stream, a full sync's resource, a change seen again after a
//! crash) is one [`step`] from the target's state to ours; the code that
//! sends requests and keeps links (`push.rs`) carries the step out.
//!
//! ```text
//!                      enter                    leave (deactivate)
//!   ┌────────┐ ───────────────────> ┌──────────┐ ─────────────────> ┌──────────────┐
//!   │ absent │                      │ in scope │                    │ out of scope │
//!   └────────┘ <─────────────────── └──────────┘ <───────────────── └──────────────┘
//!        ▲      leave (delete),          │ update        return          │
//!        │      remove                   ▼                               │
//!        └──────────────────── remove (delete policy) ──────────────────┘
//! ```
//!
//! A user that enters or returns joins the groups the target holds of its
//! groups here; one that leaves under the delete policy leaves them first. A
//! group that enters brings its members.

use scimbus_db::links::Link;
use scimbus_runtime::Deprovision;

/// What a target holds of a resource (from its link).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    /// Nothing (never pushed, deleted there, or forgotten).
    Absent,
    /// A copy placed by another resource's push (a member pushed before
    /// its group), with the state it had then but not its own memberships:
    /// linked at version 0, so that its own change, when it comes, settles
    /// it whole.
    Placed,
    /// A copy in scope, pushed at this version.
    InScope(i64),
    /// A deactivated copy (out of scope, or deleted here under the
    /// deactivate policy), as of this version.
    OutOfScope(i64),
}

impl Held {
    pub fn of(link: Option<&Link>) -> Held {
        match link {
            None => Held::Absent,
            Some(l) if l.in_scope && l.version == 0 => Held::Placed,
            Some(l) if l.in_scope => Held::InScope(l.version),
            Some(l) => Held::OutOfScope(l.version),
        }
    }

    fn version(self) -> Option<i64> {
        match self {
            Held::Absent => None,
            Held::Placed => Some(0),
            Held::InScope(v) | Held::OutOfScope(v) => Some(v),
        }
    }
}

/// What we hold of the resource: as a change carries it, or as Postgres
/// has it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ours {
    /// It exists and matches the target's scope.
    InScope(i64),
    /// It exists outside the target's scope.
    OutOfScope(i64),
    /// Deleted here.
    Deleted,
}

/// Why a step is taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// A change from the stream: a version the target has already is
    /// skipped, an update sends what the change changed.
    Change,
    /// A change seen again after a driver died, answered with the current
    /// state (which is at least as new as anything the dead driver sent):
    /// updates are whole, versions already pushed are skipped.
    Recover,
    /// A full sync: the current state whatever the versions say (a sync
    /// repairs drift); memberships come with the groups, synced after the
    /// users.
    Sync,
}

/// How a resource leaves the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Deactivated (`active: false`), kept and linked out of scope.
    Deactivate,
    /// Deleted there (a user leaves its groups there first); the link is
    /// forgotten.
    Delete,
}

/// What to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing, and why.
    Skip(&'static str),
    /// Absent there: adopt its copy or create one; a user joins its groups
    /// there (unless syncing), a group brings its members.
    Enter,
    /// Deactivated there and in scope again, or placed there by another
    /// resource's push: replaced whole (active again); a user joins its
    /// groups there (unless syncing), a group gets all its members.
    Return,
    /// In scope there and here: the changes (`whole`: the whole state).
    Update { whole: bool },
    /// In scope there, out of scope or deleted here.
    Leave(Exit),
    /// Deactivated there, deleted here under the delete policy (or a
    /// group): deleted there too.
    Remove,
}

impl Step {
    /// Whether a user taking this step joins its groups on the target.
    pub fn joins_groups(self, mode: Mode) -> bool {
        matches!(self, Step::Enter | Step::Return) && mode != Mode::Sync
    }

    /// Whether this step sends the resource's state (a user's waiting
    /// password goes with it).
    pub fn sends_state(self) -> bool {
        matches!(self, Step::Enter | Step::Return | Step::Update { .. })
    }
}

/// The exit a resource takes: groups are always deleted (a deactivated
/// group means nothing), users by the target's policy.
pub fn exit(policy: Deprovision, is_group: bool) -> Exit {
    if is_group || policy == Deprovision::Delete {
        Exit::Delete
    } else {
        Exit::Deactivate
    }
}

/// The step from what the target holds to what we hold.
pub fn step(held: Held, ours: Ours, exit: Exit, mode: Mode) -> Step {
    let ours_version = match ours {
        Ours::InScope(v) | Ours::OutOfScope(v) => Some(v),
        Ours::Deleted => None,
    };
    if mode != Mode::Sync
        && let (Some(have), Some(v)) = (held.version(), ours_version)
        && have >= v
    {
        return Step::Skip("this version was pushed already");
    }
    match (held, ours) {
        (Held::Absent, Ours::InScope(_)) => Step::Enter,
        (Held::Absent, Ours::OutOfScope(_)) => Step::Skip("out of scope"),
        (Held::Absent, Ours::Deleted) => Step::Skip("never pushed"),
        (Held::InScope(_), Ours::InScope(_)) => Step::Update {
            whole: mode != Mode::Change,
        },
        (Held::InScope(_), Ours::OutOfScope(_) | Ours::Deleted) => Step::Leave(exit),
        (Held::OutOfScope(_) | Held::Placed, Ours::InScope(_)) => Step::Return,
        (Held::Placed, Ours::OutOfScope(_) | Ours::Deleted) => Step::Leave(exit),
        (Held::OutOfScope(_), Ours::OutOfScope(_)) => Step::Skip("deprovisioned already"),
        (Held::OutOfScope(_), Ours::Deleted) => match exit {
            Exit::Delete => Step::Remove,
            Exit::Deactivate => Step::Skip("deprovisioned already"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Held::{Absent, InScope as HeldIn, OutOfScope as HeldOut};
    use Ours::{Deleted, InScope as In, OutOfScope as Out};

    const D: Exit = Exit::Deactivate;
    const X: Exit = Exit::Delete;

    /// Every (held, ours, exit, mode) with what it must give.
    #[test]
    fn each_transition_takes_its_step() {
        let skip_done = Step::Skip("this version was pushed already");
        let table: &[(Held, Ours, Exit, Mode, Step)] = &[
            // Absent there.
            (Absent, In(1), D, Mode::Change, Step::Enter),
            (Absent, In(3), X, Mode::Recover, Step::Enter),
            (Absent, In(3), D, Mode::Sync, Step::Enter),
            (Absent, Out(2), D, Mode::Change, Step::Skip("out of scope")),
            (Absent, Deleted, X, Mode::Change, Step::Skip("never pushed")),
            // In scope there.
            (
                HeldIn(1),
                In(2),
                D,
                Mode::Change,
                Step::Update { whole: false },
            ),
            (
                HeldIn(1),
                In(5),
                D,
                Mode::Recover,
                Step::Update { whole: true },
            ),
            (
                HeldIn(9),
                In(5),
                D,
                Mode::Sync,
                Step::Update { whole: true },
            ),
            (HeldIn(2), In(2), D, Mode::Change, skip_done),
            (HeldIn(3), In(2), D, Mode::Recover, skip_done),
            (HeldIn(1), Out(2), D, Mode::Change, Step::Leave(D)),
            (HeldIn(1), Out(2), X, Mode::Change, Step::Leave(X)),
            (HeldIn(4), Out(2), X, Mode::Change, skip_done),
            (HeldIn(4), Out(2), X, Mode::Sync, Step::Leave(X)),
            (HeldIn(4), Deleted, D, Mode::Change, Step::Leave(D)),
            (HeldIn(4), Deleted, X, Mode::Recover, Step::Leave(X)),
            // Placed there by another resource's push.
            (Held::Placed, In(4), D, Mode::Change, Step::Return),
            (Held::Placed, In(4), D, Mode::Sync, Step::Return),
            (Held::Placed, Out(4), X, Mode::Change, Step::Leave(X)),
            (Held::Placed, Deleted, D, Mode::Recover, Step::Leave(D)),
            // Deactivated there.
            (HeldOut(2), In(3), D, Mode::Change, Step::Return),
            (HeldOut(2), In(3), D, Mode::Sync, Step::Return),
            (HeldOut(3), In(3), D, Mode::Change, skip_done),
            (
                HeldOut(2),
                Out(3),
                D,
                Mode::Change,
                Step::Skip("deprovisioned already"),
            ),
            (
                HeldOut(2),
                Deleted,
                D,
                Mode::Change,
                Step::Skip("deprovisioned already"),
            ),
            (HeldOut(2), Deleted, X, Mode::Change, Step::Remove),
        ];
        for (held, ours, exit, mode, want) in table {
            assert_eq!(
                step(*held, *ours, *exit, *mode),
                *want,
                "{held:?} → {ours:?} ({exit:?}, {mode:?})"
            );
        }
    }

    #[test]
    fn users_join_their_groups_when_they_enter_or_return_outside_a_sync() {
        for mode in [Mode::Change, Mode::Recover] {
            assert!(Step::Enter.joins_groups(mode));
            assert!(Step::Return.joins_groups(mode));
            assert!(!Step::Update { whole: true }.joins_groups(mode));
            assert!(!Step::Leave(D).joins_groups(mode));
        }
        // A sync replaces every group's members after the users.
        assert!(!Step::Enter.joins_groups(Mode::Sync));
        assert!(!Step::Return.joins_groups(Mode::Sync));
    }

    #[test]
    fn groups_always_leave_by_deletion() {
        assert_eq!(exit(Deprovision::Deactivate, true), Exit::Delete);
        assert_eq!(exit(Deprovision::Delete, true), Exit::Delete);
        assert_eq!(exit(Deprovision::Deactivate, false), Exit::Deactivate);
        assert_eq!(exit(Deprovision::Delete, false), Exit::Delete);
    }

    #[test]
    fn held_reads_the_link() {
        let l = |in_scope| Link {
            resource_id: uuid::Uuid::nil(),
            resource_type: "User".into(),
            remote_id: "r".into(),
            version: 7,
            in_scope,
        };
        assert_eq!(Held::of(None), Held::Absent);
        assert_eq!(Held::of(Some(&l(true))), Held::InScope(7));
        let placed = Link {
            version: 0,
            ..l(true)
        };
        assert_eq!(Held::of(Some(&placed)), Held::Placed);
        assert_eq!(Held::of(Some(&l(false))), Held::OutOfScope(7));
    }
}
