//! Passwords passed on to the targets configured to receive one
//! (`send_passwords = true`): sealed by the ingress with AES-256-GCM under
//! the current key, kept (sealed) by the store until each of those targets
//! has it or it expires, opened by the outbound worker that sends it.
//!
//! ```toml
//! [passwords]
//! current_key = "2026-12"
//! keys = [
//!   { id = "2026-12", key = "env:SCIMBUS_PASSWORD_KEY" },
//!   { id = "2026-06", key = "file:/run/secrets/scimbus-password-2026-06" },
//! ]
//! ttl_hours = 72
//! ```
//!
//! A key is 32 random bytes in base64 (`openssl rand -base64 32`), given by
//! reference like every secret. New passwords are sealed under
//! `current_key`; the others only open what they sealed, so a rotation adds
//! a key, makes it current, and removes the old one after `ttl_hours`.
//! The associated data binds a sealed password to its tenant, resource and
//! key id: moved to another user's row it does not open.

use std::collections::HashMap;

use base64::Engine;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use scimbus_events::v1::SealedPassword;
use serde::Deserialize;

use crate::secret::{Secret, SecretError};

/// `[passwords]` as written.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordsConfig {
    /// The id of the key new passwords are sealed with.
    pub current_key: String,
    pub keys: Vec<KeyConfig>,
    /// How long a password waits for the targets that have not had it.
    #[serde(default = "ttl_hours")]
    pub ttl_hours: u32,
}

/// One key: an id (kept with what it sealed) and a secret reference.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyConfig {
    pub id: String,
    pub key: String,
}

fn ttl_hours() -> u32 {
    72
}

impl PasswordsConfig {
    /// What is wrong with the section's form (keys are resolved later).
    pub fn problem(&self) -> Option<String> {
        let mut ids = std::collections::HashSet::new();
        for k in &self.keys {
            let good = !k.id.is_empty()
                && k.id.len() <= 64
                && k.id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
            if !good {
                return Some(format!(
                    "passwords.keys: id \"{}\" must be 1–64 of A-Z a-z 0-9 - _ .",
                    k.id
                ));
            }
            if !ids.insert(k.id.as_str()) {
                return Some(format!("passwords.keys: id \"{}\" is given twice", k.id));
            }
        }
        if !ids.contains(self.current_key.as_str()) {
            return Some(format!(
                "passwords.current_key: \"{}\" is not one of passwords.keys",
                self.current_key
            ));
        }
        if !(1..=8760).contains(&self.ttl_hours) {
            return Some(format!(
                "passwords.ttl_hours: {} is not within 1..=8760",
                self.ttl_hours
            ));
        }
        None
    }
}

/// A key that cannot be used; says which.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("passwords.keys.{id}: {source}")]
    Secret {
        id: String,
        #[source]
        source: SecretError,
    },
    #[error("passwords.keys.{id}: must be 32 bytes in base64 (openssl rand -base64 32)")]
    Form { id: String },
}

/// Why a sealed password does not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error("it was sealed with key \"{0}\", which is not configured")]
    UnknownKey(String),
    #[error("it does not open with key \"{0}\" (altered, or sealed for another resource)")]
    Refused(String),
}

/// The resolved keys.
pub struct PasswordKeys {
    current: String,
    keys: HashMap<String, LessSafeKey>,
    /// How long a sealed password is kept, in microseconds.
    pub ttl_micros: i64,
}

impl std::fmt::Debug for PasswordKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a key.
        f.debug_struct("PasswordKeys")
            .field("current", &self.current)
            .field("keys", &self.keys.len())
            .finish()
    }
}

/// What binds a sealed password to where it belongs.
fn aad(tenant: &str, resource_id: &str, key_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + tenant.len() + resource_id.len() + key_id.len());
    for part in ["scimbus-password-v1", tenant, resource_id, key_id] {
        out.extend_from_slice(part.as_bytes());
        out.push(0);
    }
    out
}

impl PasswordKeys {
    /// Resolves the keys of a checked section ([`PasswordsConfig::problem`]).
    pub fn resolve(cfg: &PasswordsConfig) -> Result<PasswordKeys, KeyError> {
        let mut keys = HashMap::with_capacity(cfg.keys.len());
        for k in &cfg.keys {
            let value = match Secret::resolve(&k.key) {
                Ok(Secret::Value(v)) => v,
                Ok(Secret::Hash(_)) => return Err(KeyError::Form { id: k.id.clone() }),
                Err(source) => {
                    return Err(KeyError::Secret {
                        id: k.id.clone(),
                        source,
                    });
                }
            };
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value.trim())
                .ok()
                .filter(|b| b.len() == 32)
                .ok_or_else(|| KeyError::Form { id: k.id.clone() })?;
            let key = UnboundKey::new(&AES_256_GCM, &bytes)
                .map_err(|_| KeyError::Form { id: k.id.clone() })?;
            keys.insert(k.id.clone(), LessSafeKey::new(key));
        }
        Ok(PasswordKeys {
            current: cfg.current_key.clone(),
            keys,
            ttl_micros: i64::from(cfg.ttl_hours) * 3_600_000_000,
        })
    }

    /// Seals `password` for `targets`, to expire `ttl_hours` after
    /// `now_micros`. `None` only if the system's random source fails.
    pub fn seal(
        &self,
        tenant: &str,
        resource_id: &str,
        password: &str,
        targets: Vec<String>,
        now_micros: i64,
    ) -> Option<SealedPassword> {
        let key = self.keys.get(&self.current)?;
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).ok()?;
        let mut sealed = password.as_bytes().to_vec();
        key.seal_in_place_append_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(aad(tenant, resource_id, &self.current)),
            &mut sealed,
        )
        .ok()?;
        Some(SealedPassword {
            key_id: self.current.clone(),
            nonce: nonce.to_vec(),
            ciphertext: sealed,
            targets,
            expires_at_unix_micros: now_micros.saturating_add(self.ttl_micros),
        })
    }

    /// The password `sealed` holds, if it was sealed for this tenant and
    /// resource with a key configured here.
    pub fn open(
        &self,
        tenant: &str,
        resource_id: &str,
        key_id: &str,
        nonce: &[u8],
        ciphertext: &[u8],
    ) -> Result<String, OpenError> {
        let key = self
            .keys
            .get(key_id)
            .ok_or_else(|| OpenError::UnknownKey(key_id.to_string()))?;
        let refused = || OpenError::Refused(key_id.to_string());
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut buf = ciphertext.to_vec();
        let plain = key
            .open_in_place(nonce, Aad::from(aad(tenant, resource_id, key_id)), &mut buf)
            .map_err(|_| refused())?;
        String::from_utf8(plain.to_vec()).map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests;
