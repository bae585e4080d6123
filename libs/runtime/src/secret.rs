//! Secrets by reference, never inline: `env:NAME` (an environment
//! variable), `file:/path` (a file's contents, trailing newline removed), or
//! for bearer tokens `sha256:<64 hex digits>` (only the token's hash).

use sha2::{Digest, Sha256};

/// A resolved secret.
#[derive(Clone, PartialEq, Eq)]
pub enum Secret {
    /// The secret itself.
    Value(String),
    /// Only the SHA-256 of a token.
    Hash([u8; 32]),
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        match self {
            Secret::Value(_) => f.write_str("Secret::Value(…)"),
            Secret::Hash(_) => f.write_str("Secret::Hash(…)"),
        }
    }
}

/// A secret reference that does not resolve.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    /// `env:NAME` of a variable unset or empty.
    #[error("environment variable {name} is not set")]
    EnvUnset {
        name: String,
        /// Absent when the variable is set but empty.
        #[source]
        source: Option<std::env::VarError>,
    },
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("sha256: needs 64 hexadecimal digits")]
    BadHash,
    #[error("a secret is given by reference: env:NAME, file:/path or sha256:<hex>, never inline")]
    Inline,
}

impl Secret {
    /// Resolves a reference.
    pub fn resolve(reference: &str) -> Result<Secret, SecretError> {
        let reference = reference.trim();
        if let Some(name) = reference.strip_prefix("env:") {
            return match std::env::var(name) {
                Ok(v) if !v.is_empty() => Ok(Secret::Value(v)),
                got => Err(SecretError::EnvUnset {
                    name: name.to_string(),
                    source: got.err(),
                }),
            };
        }
        if let Some(path) = reference.strip_prefix("file:") {
            return std::fs::read_to_string(path)
                .map(|s| Secret::Value(s.trim_end_matches(['\n', '\r']).to_string()))
                .map_err(|source| SecretError::Read {
                    path: path.to_string(),
                    source,
                });
        }
        if let Some(hex) = reference.strip_prefix("sha256:") {
            return parse_hex(hex).map(Secret::Hash).ok_or(SecretError::BadHash);
        }
        Err(SecretError::Inline)
    }

    /// The SHA-256 of a token secret.
    pub fn token_hash(&self) -> [u8; 32] {
        match self {
            Secret::Value(v) => token_hash(v),
            Secret::Hash(h) => *h,
        }
    }
}

/// The SHA-256 of a bearer token: what is stored and compared.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// Lower-case hex of bytes.
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, chunk) in s.as_bytes().chunks(2).enumerate() {
        let hi = (chunk[0] as char).to_digit(16)?;
        let lo = (chunk[1] as char).to_digit(16)?;
        out[i] = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_resolve() {
        let h = token_hash("abc");
        assert_eq!(
            to_hex(&h),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            Secret::resolve(&format!("sha256:{}", to_hex(&h))).unwrap(),
            Secret::Hash(h)
        );
        let e = Secret::resolve("sha256:xyz").unwrap_err();
        assert!(matches!(e, SecretError::BadHash), "{e:?}");
        assert_eq!(e.to_string(), "sha256: needs 64 hexadecimal digits");
        let e = Secret::resolve("plain-token").unwrap_err();
        assert!(matches!(e, SecretError::Inline), "{e:?}");
        assert!(e.to_string().contains("never inline"));
        let dir = std::env::temp_dir().join(format!("scimbus-secret-{}", std::process::id()));
        std::fs::write(&dir, "s3cret\n").unwrap();
        let s = Secret::resolve(&format!("file:{}", dir.display())).unwrap();
        assert_eq!(s, Secret::Value("s3cret".into()));
        assert_eq!(format!("{s:?}"), "Secret::Value(…)");
        std::fs::remove_file(&dir).unwrap();
        let e = Secret::resolve("env:SCIMBUS_SURELY_UNSET_VARIABLE").unwrap_err();
        assert_eq!(
            e.to_string(),
            "environment variable SCIMBUS_SURELY_UNSET_VARIABLE is not set"
        );
        assert!(
            std::error::Error::source(&e).is_some_and(|s| s.is::<std::env::VarError>()),
            "the cause is kept: {e:?}"
        );
        let e = Secret::resolve("file:/nonexistent/x").unwrap_err();
        assert!(e.to_string().contains("/nonexistent/x"), "{e}");
        assert!(
            std::error::Error::source(&e).is_some_and(|s| s.is::<std::io::Error>()),
            "the cause is kept: {e:?}"
        );
    }
}
