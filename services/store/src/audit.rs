//! The audit entry of a write the store applied or refused, written in the
//! same transaction as its effect (`batch::apply_batch`): who (the
//! command's source and client name), what (operation, resource, the
//! attribute paths that changed — never a value), how it ended (the HTTP
//! status it got, the SCIM error type), from where (client address, trace
//! id), when (the transaction's time).

use chrono::{DateTime, Utc};
use scimbus_db::audit::Entry;
use scimbus_events::v1::{command, source};
use uuid::Uuid;

use crate::apply::{Applied, Cmd, Operation};

fn actor_kind(kind: i32) -> &'static str {
    match source::Kind::try_from(kind) {
        Ok(source::Kind::Scim) => "scim",
        Ok(source::Kind::Hr) => "hr",
        Ok(source::Kind::Operator) => "operator",
        _ => "unknown",
    }
}

fn action(op: i32) -> &'static str {
    match command::Operation::try_from(op) {
        Ok(command::Operation::Create) => "create",
        Ok(command::Operation::Replace) => "replace",
        Ok(command::Operation::Patch) => "patch",
        Ok(command::Operation::Delete) => "delete",
        Ok(command::Operation::HrEvent) => "hr_event",
        _ => "unknown",
    }
}

fn text(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The entry of `cmd`, which `applied` answered, at `at`.
pub fn entry(at: DateTime<Utc>, cmd: Cmd<'_>, applied: &Applied) -> Entry {
    let wire = cmd.wire;
    let source = wire.source.clone().unwrap_or_default();
    let hr = wire.operation == command::Operation::HrEvent as i32;
    let change = applied.change.as_ref();
    // An HR command is keyed by employee, not by resource: its resource is
    // the one it changed, if any.
    let resource_id = match change {
        Some(c) => Some(c.resource_id),
        None if hr => None,
        None => Uuid::parse_str(&wire.resource_id).ok(),
    };
    let status = match &applied.result.error {
        Some(e) => i32::try_from(e.status).unwrap_or(500),
        None => match change.map(|c| c.operation) {
            Some(Operation::Created) => 201,
            Some(Operation::Deleted) => 204,
            _ if wire.operation == command::Operation::Create as i32 => 201,
            _ if wire.operation == command::Operation::Delete as i32 => 204,
            _ => 200,
        },
    };
    Entry {
        tenant: wire.tenant.clone(),
        at,
        actor_kind: actor_kind(source.kind).to_string(),
        actor: source.client_id,
        actor_name: wire.client_name.clone(),
        action: action(wire.operation).to_string(),
        resource_type: text(&wire.resource_type),
        resource_id,
        attributes: change
            .map(|c| c.changed_attributes.clone())
            .unwrap_or_default(),
        status,
        scim_type: applied
            .result
            .error
            .as_ref()
            .and_then(|e| text(&e.scim_type)),
        command_id: Some(cmd.id),
        client_address: text(&wire.client_address),
        request_id: text(&wire.request_id),
        trace_id: text(&wire.trace_id),
    }
}
