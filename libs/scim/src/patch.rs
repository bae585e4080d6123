//! PATCH (RFC 7644 §3.5.2): `add`, `replace` and `remove` with every path
//! form, and what Entra ID and Okta send in practice.
//!
//! [`apply`] takes the stored (canonical) resource and a request, and gives
//! the new resource — checked again as a whole against its schemas, so a
//! PATCH can never leave behind what a PUT could not store — together with
//! the attribute paths that changed.

mod apply;
mod check;
mod filtered;
mod path;
mod request;
mod unfiltered;

use serde_json::Value;

pub use check::check;
pub use path::PatchPath;
pub use request::{OpKind, PATCH_OP_SCHEMA, PatchOp, PatchRequest};

use crate::error::Result;
use crate::registry::{Registry, ResourceType};
use crate::resource::{Intent, Leniency, normalize};

/// The result of a PATCH.
#[derive(Debug, Clone, PartialEq)]
pub struct Patched {
    /// The new resource, in canonical form without readOnly attributes (the
    /// store sets `id`, `meta`, `groups`), as [`crate::resource::normalize`]
    /// gives it.
    pub resource: Value,
    /// Canonical paths of the attributes that changed (`name.givenName`,
    /// `emails`, `urn:…:enterprise:2.0:User:department`), in schema order.
    pub changed: Vec<String>,
}

/// Applies a PATCH request to a stored resource. The operations apply in
/// order and all or nothing: an error in any leaves nothing changed, and
/// names the operation (`Operations[2]: …`).
pub fn apply(
    registry: &Registry,
    rt: &ResourceType,
    resource: &Value,
    request: &PatchRequest,
    leniency: Leniency,
) -> Result<Patched> {
    let mut doc = resource.clone();
    for (i, op) in request.operations.iter().enumerate() {
        apply::apply_op(registry, rt, &mut doc, op, leniency)
            .map_err(|e| e.at(format_args!("Operations[{i}]")))?;
    }
    let existing = Intent::Replace { existing: resource };
    let resource_out = normalize(registry, rt, &doc, existing, leniency)?;
    let changed = crate::diff::changed_paths(registry, rt, resource, &resource_out);
    Ok(Patched {
        resource: resource_out,
        changed,
    })
}
