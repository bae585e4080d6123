//! A user's password, for a target that receives passwords
//! (`send_passwords`): the sealed one the store keeps until each such
//! target has had it (`pending_passwords`), opened just before the request
//! that carries it, and the target taken off it once the target accepted
//! that request. A worker that dies in between sends it again (setting a
//! password twice is harmless); one that never gets to send it leaves it to
//! expire. The password is in the request body only: the record of the
//! exchange (logs, parked changes, reports) shows `[redacted]`
//! ([`crate::redact`]).

use scimbus_db::passwords::{self, Pending};
use scimbus_scim::ResourceType;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::adopt::ours as ours_error;
use crate::client::PushError;
use crate::target::{Target, db};

/// An opened password, and the write that set it.
pub(crate) struct Password {
    command_id: Uuid,
    value: String,
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Password({}, [redacted])", self.command_id)
    }
}

impl Password {
    /// `body` (a resource), with the password set.
    pub fn set_in(&self, body: &mut Value) {
        if let Some(o) = body.as_object_mut() {
            o.insert("password".into(), Value::String(self.value.clone()));
        }
    }

    /// The PATCH operation that sets it.
    pub fn patch_op(&self) -> Value {
        json!({"op": "replace", "path": "password", "value": self.value})
    }
}

impl Target {
    /// The password this target has still to get for user `id`, opened;
    /// none when the target does not receive passwords or none is waiting
    /// (or it expired). One that does not open (its key was removed, or
    /// the row was altered) is a permanent failure: the change is parked
    /// with the reason, rather than the user sent without the password it
    /// needs.
    pub(crate) async fn pending_password(
        &self,
        rt: &ResourceType,
        id: Uuid,
    ) -> Result<Option<Password>, PushError> {
        let Some(keys) = self.passwords.as_ref().filter(|_| rt.name == "User") else {
            return Ok(None);
        };
        let Some(p): Option<Pending> =
            passwords::pending_for(&self.pool, &self.tenant, id, &self.cfg.name)
                .await
                .map_err(db)?
        else {
            return Ok(None);
        };
        let value = keys
            .open(
                &self.tenant,
                &id.to_string(),
                &p.key_id,
                &p.nonce,
                &p.ciphertext,
            )
            .map_err(|e| ours_error(format!("the user's pending password: {e}")))?;
        Ok(Some(Password {
            command_id: p.command_id,
            value,
        }))
    }

    /// The target accepted the request that carried `p`.
    pub(crate) async fn password_delivered(&self, id: Uuid, p: &Password) -> Result<(), PushError> {
        let mut conn = self.pool.acquire().await.map_err(db)?;
        passwords::delivered(&mut conn, &self.tenant, id, p.command_id, &self.cfg.name)
            .await
            .map_err(db)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_is_set_in_a_body_or_a_patch_and_never_printed() {
        let p = Password {
            command_id: Uuid::nil(),
            value: "Sekr1t".into(),
        };
        let mut user = json!({"userName": "b"});
        p.set_in(&mut user);
        assert_eq!(user["password"], "Sekr1t");
        assert_eq!(
            p.patch_op(),
            json!({"op": "replace", "path": "password", "value": "Sekr1t"})
        );
        assert!(!format!("{p:?}").contains("Sekr1t"));
    }
}
