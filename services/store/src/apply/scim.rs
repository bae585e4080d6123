//! SCIM errors and outcomes on the wire.

use scimbus_events::v1::{ScimError as PbError, command_result::Outcome};
use scimbus_scim::ScimError;

/// The outcome a refused command reports, from its error's status.
pub fn outcome_of(e: &ScimError) -> Outcome {
    match e.status {
        409 => Outcome::Conflict,
        404 => Outcome::NotFound,
        412 => Outcome::PreconditionFailed,
        _ => Outcome::Invalid,
    }
}

/// A SCIM error as the protobuf message.
pub fn pb_error(e: &ScimError) -> PbError {
    PbError {
        status: u32::from(e.status),
        // Empty is "none" on the wire (a proto3 string).
        scim_type: e
            .scim_type
            .map(|t| t.as_str().to_string())
            .unwrap_or_default(),
        detail: e.detail.clone(),
    }
}
