//! The configuration file (TOML): tenants and the bearer tokens of their
//! SCIM clients, and the targets their changes are pushed to
//! ([`crate::target`]). Later issues add subscriptions and HR sources.
//!
//! ```toml
//! [[tenants]]
//! name = "demo"
//! tokens = ["env:SCIMBUS_DEMO_TOKEN", "sha256:9f86d0…"]
//! ```

use serde::Deserialize;

use crate::secret::Secret;
use crate::target::TargetConfig;

/// The file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    /// The operator API (`/admin/v1`) and its bearer tokens.
    #[serde(default)]
    pub admin: Option<AdminConfig>,
}

/// The operator API's tokens (references, as tenants' tokens are).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    #[serde(default)]
    pub tokens: Vec<String>,
}

/// One tenant.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TenantConfig {
    pub name: String,
    /// References to bearer tokens (see [`crate::secret`]).
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Downstream SCIM applications this tenant's changes go to.
    #[serde(default)]
    pub targets: Vec<TargetConfig>,
}

/// A tenant with its tokens resolved to hashes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tenant {
    pub name: String,
    pub token_hashes: Vec<[u8; 32]>,
}

/// A configuration file that cannot be used; says where.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

impl FileConfig {
    /// Reads and checks a file.
    pub fn load(path: &str) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|message| ConfigError::Invalid {
            path: path.to_string(),
            message,
        })
    }

    /// Parses and checks the text of a file.
    pub fn parse(text: &str) -> Result<FileConfig, String> {
        let cfg: FileConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        let mut seen = std::collections::HashSet::new();
        for t in &cfg.tenants {
            if !scimbus_events::valid_tenant(&t.name) {
                return Err(scimbus_events::TenantError(t.name.clone()).to_string());
            }
            if !seen.insert(t.name.as_str()) {
                return Err(format!("tenant \"{}\" is declared twice", t.name));
            }
            let mut targets = std::collections::HashSet::new();
            for target in &t.targets {
                target
                    .check()
                    .map_err(|e| format!("tenant \"{}\": {e}", t.name))?;
                if !targets.insert(target.name.as_str()) {
                    return Err(format!(
                        "tenant \"{}\": target \"{}\" is declared twice",
                        t.name, target.name
                    ));
                }
            }
        }
        Ok(cfg)
    }

    /// The tenants with their token references resolved.
    pub fn resolve_tenants(&self) -> Result<Vec<Tenant>, String> {
        self.tenants
            .iter()
            .map(|t| {
                let token_hashes = t
                    .tokens
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        Secret::resolve(r)
                            .map(|s| s.token_hash())
                            .map_err(|e| format!("tenants.{}.tokens[{i}]: {e}", t.name))
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Tenant {
                    name: t.name.clone(),
                    token_hashes,
                })
            })
            .collect()
    }

    /// The hashes of the operator API's tokens.
    pub fn resolve_admin_tokens(&self) -> Result<Vec<[u8; 32]>, String> {
        self.admin
            .iter()
            .flat_map(|a| a.tokens.iter().enumerate())
            .map(|(i, r)| {
                Secret::resolve(r)
                    .map(|s| s.token_hash())
                    .map_err(|e| format!("admin.tokens[{i}]: {e}"))
            })
            .collect()
    }

    pub fn tenant_names(&self) -> Vec<String> {
        self.tenants.iter().map(|t| t.name.clone()).collect()
    }

    /// Every tenant's targets, as (tenant, target).
    pub fn targets(&self) -> Vec<(String, TargetConfig)> {
        self.tenants
            .iter()
            .flat_map(|t| t.targets.iter().map(|x| (t.name.clone(), x.clone())))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_checked() {
        let c = FileConfig::parse(
            "[[tenants]]\nname = \"a\"\ntokens = [\"sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"]\n[[tenants]]\nname = \"b\"\n",
        )
        .unwrap();
        assert_eq!(c.tenant_names(), vec!["a", "b"]);
        let t = c.resolve_tenants().unwrap();
        assert_eq!(t[0].token_hashes, vec![crate::token_hash("abc")]);
        assert!(
            FileConfig::parse("[[tenants]]\nname = \"A!\"")
                .unwrap_err()
                .contains("not a valid tenant")
        );
        assert!(
            FileConfig::parse("[[tenants]]\nname = \"a\"\n[[tenants]]\nname = \"a\"")
                .unwrap_err()
                .contains("twice")
        );
        let e = FileConfig::parse("[[tenants]]\nname = \"a\"\ntoken = []").unwrap_err();
        assert!(
            e.contains("unknown field `token`"),
            "unknown keys are refused: {e}"
        );
        let c = FileConfig::parse("[[tenants]]\nname = \"a\"\ntokens = [\"inline\"]").unwrap();
        assert!(
            c.resolve_tenants()
                .unwrap_err()
                .starts_with("tenants.a.tokens[0]")
        );
    }
}
