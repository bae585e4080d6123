//! What a write does to its user's pending password, in the batch's
//! transaction: a write that set a password sealed for targets
//! (`Command.password`) and stored a new version keeps it, replacing an
//! older one; a deleted user's goes with it. A refused write keeps
//! nothing, and a replayed one does nothing again.

use chrono::DateTime;
use scimbus_db::passwords::{Pending, Write};

use crate::apply::{Applied, Cmd, Operation};

/// The password writes of `cmd`, which `applied` answered.
pub fn writes(cmd: Cmd<'_>, applied: &Applied) -> Vec<Write> {
    let mut out = Vec::new();
    for c in applied.change.iter().chain(&applied.others) {
        if c.operation == Operation::Deleted && c.resource_type == "User" {
            out.push(Write::Drop {
                tenant: c.tenant.clone(),
                resource_id: c.resource_id,
            });
        }
    }
    let (Some(sealed), Some(c)) = (&cmd.wire.password, &applied.change) else {
        return out;
    };
    if c.operation == Operation::Deleted || c.resource_type != "User" || sealed.targets.is_empty() {
        return out;
    }
    // A version past i64 is a store that breaks its own invariant; the
    // change itself would fail to be written first.
    let Ok(version) = i64::try_from(c.version) else {
        return out;
    };
    let Some(expires_at) = DateTime::from_timestamp_micros(sealed.expires_at_unix_micros) else {
        return out;
    };
    out.push(Write::Keep(Pending {
        tenant: c.tenant.clone(),
        resource_id: c.resource_id,
        command_id: cmd.id,
        version,
        key_id: sealed.key_id.clone(),
        nonce: sealed.nonce.clone(),
        ciphertext: sealed.ciphertext.clone(),
        targets: sealed.targets.clone(),
        expires_at,
    }));
    out
}
