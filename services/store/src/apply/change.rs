//! The change a write makes, as the store keeps it in memory: typed ids and
//! operation, the fields the outbox needs. It becomes a `scimbus.v1.Change`
//! once, when its outbox row is written (`outbox::row`): the row holds the
//! bytes the bus carries.

use chrono::{DateTime, Utc};
use scimbus_events::v1::Source;
use uuid::Uuid;

/// What a change did to its resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Created,
    Updated,
    Deleted,
    /// `active` went to true.
    Activated,
    /// `active` went to false.
    Deactivated,
    /// Only the members of a group changed.
    MembershipChanged,
}

/// One change of one resource. Its per-tenant sequence is not here: it is
/// assigned when the batch commits, and goes straight into the outbox row.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Made with the change (UUIDv7) and never remade: it is the
    /// `Nats-Msg-Id` by which JetStream drops a republished change.
    pub id: Uuid,
    pub tenant: String,
    pub resource_type: String,
    pub resource_id: Uuid,
    pub operation: Operation,
    /// The resource version after the change.
    pub version: u64,
    /// The resource after the change (SCIM JSON with meta, a group without
    /// its members); empty on delete.
    pub resource: Vec<u8>,
    /// Canonical paths of the attributes that changed.
    pub changed_attributes: Vec<String>,
    /// The command that made it.
    pub command_id: Uuid,
    /// Who sent the command: passed on as the command carried it, never
    /// read by the store.
    pub source: Option<Source>,
    /// The transaction's time.
    pub committed_at: DateTime<Utc>,
    pub members_added: Vec<Uuid>,
    pub members_removed: Vec<Uuid>,
}
