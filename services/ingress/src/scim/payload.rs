//! What a write's command carries: its body checked with the store's own
//! code, never-returned values (`password`) taken out of it, and the
//! password it sets sealed for the tenant's targets that receive one.

use bytes::Bytes;
use scimbus_events::v1::command;
use scimbus_scim::patch::{self, PatchRequest};
use scimbus_scim::resource::{Intent, Leniency, normalize};
use scimbus_scim::secrets;
use scimbus_scim::{ResourceType, ScimError};
use serde_json::Value;
use uuid::Uuid;

use crate::body::ScimBody;
use crate::state::AppState;
use crate::tokens::Client;

/// Checks a write's body before it becomes a command, with the same
/// `scimbus_scim` code the store applies it with: what the store would
/// refuse costs no round trip, and what it must never see (a value of the
/// wrong type, a string it cannot keep, an unregistered extension) never
/// reaches it. What only the stored resource can tell is left to the store.
fn check_body(
    state: &AppState,
    rt: &ResourceType,
    op: command::Operation,
    body: &Value,
) -> Result<(), ScimError> {
    let (registry, leniency) = (&*state.registry, Leniency::default());
    match op {
        command::Operation::Create => {
            normalize(registry, rt, body, Intent::Create, leniency).map(drop)
        }
        command::Operation::Replace => {
            normalize(registry, rt, body, Intent::ReplaceUnseen, leniency).map(drop)
        }
        command::Operation::Patch => {
            patch::check(registry, rt, &PatchRequest::parse(body)?, leniency)
        }
        _ => Ok(()),
    }
}

/// Checks a write's body ([`check_body`]), then takes out the values of
/// never-returned attributes (`password`): each becomes `[redacted]`
/// (`scimbus_scim::secrets`), so none is published, kept on the bus, in a
/// dead letter or in Postgres; the attribute stays named, so the write
/// still counts as its change. What was taken out (the password the write
/// sets, for the targets that receive one).
pub(super) fn check_and_redact(
    state: &AppState,
    rt: &ResourceType,
    op: command::Operation,
    body: &mut Value,
) -> Result<secrets::Redacted, ScimError> {
    check_body(state, rt, op, body)?;
    let kind = match op {
        command::Operation::Create | command::Operation::Replace => secrets::Body::Resource,
        command::Operation::Patch => secrets::Body::Patch,
        _ => return Ok(secrets::Redacted::default()),
    };
    if !secrets::has_secrets(&state.registry, rt) {
        return Ok(secrets::Redacted::default());
    }
    Ok(secrets::redact(&state.registry, rt, kind, body))
}

/// What a write's command carries: the body, and the password it sets
/// (sealed once the resource id is known, if a target receives it).
pub(super) struct Payload {
    pub bytes: Bytes,
    pub password: Option<String>,
}

impl Payload {
    /// A DELETE's.
    pub fn empty() -> Payload {
        Payload {
            bytes: Bytes::new(),
            password: None,
        }
    }
}

/// The password a write of `resource_id` sets, sealed for the tenant's
/// targets that receive passwords (none if no target does).
pub(super) fn sealed(
    state: &AppState,
    client: &Client,
    resource_id: Uuid,
    password: Option<String>,
) -> Option<scimbus_events::v1::SealedPassword> {
    let p = password?;
    state
        .passwords
        .seal(&client.tenant, &resource_id.to_string(), &p)
}

/// The payload of a single-resource write: the body as the client sent
/// it, or as [`check_and_redact`] left it.
pub(super) fn command_payload(
    state: &AppState,
    rt: &ResourceType,
    op: command::Operation,
    mut body: ScimBody,
) -> Result<Payload, ScimError> {
    let taken = check_and_redact(state, rt, op, &mut body.value)?;
    let bytes = if taken.any {
        Bytes::from(body.value.to_string())
    } else {
        body.raw
    };
    Ok(Payload {
        bytes,
        password: taken.password,
    })
}
