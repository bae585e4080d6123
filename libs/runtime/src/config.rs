//! The configuration file (TOML): tenants and the bearer tokens of their
//! SCIM clients, and the targets their changes are pushed to
//! ([`crate::target`]), and the applications notified of their changes
//! (`[[tenants.subscriptions]]`, checked for form here and in full by the
//! services that know the SCIM schemas), and the HR systems that post
//! joiner/mover/leaver events (`[[tenants.hr_sources]]`, checked for form
//! here).
//!
//! ```toml
//! [[tenants]]
//! name = "demo"
//! tokens = ["env:SCIMBUS_DEMO_TOKEN", "sha256:9f86d0…"]
//! ```

mod jwt;
mod rate_limit;
pub use jwt::{JWT_ALGORITHMS, JwtConfig};
pub use rate_limit::RateLimit;

use serde::Deserialize;

use crate::secret::{Secret, SecretError};
use crate::target::{TargetConfig, TargetError};

/// The file as written.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    #[serde(default)]
    pub tenants: Vec<TenantConfig>,
    /// The operator API (`/admin/v1`) and its bearer tokens.
    #[serde(default)]
    pub admin: Option<AdminConfig>,
    /// The keys that seal passwords for targets with `send_passwords`
    /// ([`crate::passwords`]).
    #[serde(default)]
    pub passwords: Option<crate::passwords::PasswordsConfig>,
}

/// The operator API's tokens (references, as tenants' tokens are).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminConfig {
    /// Tokens that may read and act (`admin:read admin:write`).
    #[serde(default)]
    pub tokens: Vec<String>,
    /// Tokens that may only read (`admin:read`): `GET` of the operator API.
    #[serde(default)]
    pub read_tokens: Vec<String>,
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
    /// Applications notified of this tenant's changes (webhook, NATS,
    /// polling); more can be made through the operator API.
    #[serde(default)]
    pub subscriptions: Vec<scimbus_notify::SubscriptionSpec>,
    /// The user attributes HR owns (precedence over the identity
    /// provider); unset: the store's default (`DEFAULT_HR_OWNS`).
    #[serde(default)]
    pub hr_owns: Option<Vec<String>>,
    /// HR systems posting events to `POST /hr/v1/{tenant}/{source}`.
    #[serde(default)]
    pub hr_sources: Vec<scimbus_hr::SourceSpec>,
    /// How many requests the tenant, and each of its tokens, may make.
    #[serde(default)]
    pub rate_limit: RateLimit,
    /// JWT bearer tokens of an authorization server, besides `tokens`.
    #[serde(default)]
    pub jwt: Option<JwtConfig>,
}

/// A tenant with its tokens resolved to hashes.
#[derive(Debug, Clone, PartialEq)]
pub struct Tenant {
    pub name: String,
    pub token_hashes: Vec<[u8; 32]>,
    pub rate_limit: RateLimit,
    pub jwt: Option<JwtConfig>,
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
    #[error("{path}: {source}")]
    Invalid {
        path: String,
        #[source]
        source: FileError,
    },
}

/// Why the text of a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// Not TOML, or not of the file's shape (an unknown key too).
    #[error(transparent)]
    Toml(#[from] toml::de::Error),
    #[error(transparent)]
    TenantName(#[from] scimbus_events::TenantError),
    #[error("tenant \"{0}\" is declared twice")]
    TenantTwice(String),
    #[error("tenant \"{tenant}\": {problem}")]
    Setting { tenant: String, problem: String },
    #[error("tenant \"{tenant}\": {source}")]
    Target {
        tenant: String,
        #[source]
        source: TargetError,
    },
    #[error("tenant \"{tenant}\": target \"{target}\" is declared twice")]
    TargetTwice { tenant: String, target: String },
    #[error("tenant \"{tenant}\": subscriptions[{index}]: {source}")]
    Subscription {
        tenant: String,
        index: usize,
        #[source]
        source: scimbus_notify::SpecError,
    },
    #[error("tenant \"{tenant}\": subscription \"{name}\" is declared twice")]
    SubscriptionTwice { tenant: String, name: String },
    #[error("tenant \"{tenant}\": hr_sources[{index}]: {source}")]
    HrSource {
        tenant: String,
        index: usize,
        #[source]
        source: scimbus_hr::SpecError,
    },
    #[error("tenant \"{tenant}\": HR source \"{name}\" is declared twice")]
    HrSourceTwice { tenant: String, name: String },
    #[error("{0}")]
    Passwords(String),
    #[error(
        "tenant \"{tenant}\": target \"{target}\" has send_passwords = true, and there is no [passwords] section with the keys to seal them"
    )]
    NoPasswordKeys { tenant: String, target: String },
}

/// A secret reference of the file that does not resolve; says which.
#[derive(Debug, thiserror::Error)]
#[error("{field}: {source}")]
pub struct SecretRefError {
    /// Where in the file: `tenants.demo.tokens[0]`, `admin.tokens[1]`.
    pub field: String,
    #[source]
    pub source: SecretError,
}

impl FileConfig {
    /// Reads and checks a file.
    pub fn load(path: &str) -> Result<FileConfig, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_string(),
            source,
        })?;
        Self::parse(&text).map_err(|source| ConfigError::Invalid {
            path: path.to_string(),
            source,
        })
    }

    /// Parses and checks the text of a file.
    pub fn parse(text: &str) -> Result<FileConfig, FileError> {
        let cfg: FileConfig = toml::from_str(text)?;
        if let Some(problem) = cfg.passwords.as_ref().and_then(|p| p.problem()) {
            return Err(FileError::Passwords(problem));
        }
        let mut seen = std::collections::HashSet::new();
        for t in &cfg.tenants {
            if !scimbus_events::valid_tenant(&t.name) {
                return Err(scimbus_events::TenantError(t.name.clone()).into());
            }
            if !seen.insert(t.name.as_str()) {
                return Err(FileError::TenantTwice(t.name.clone()));
            }
            if let Some(problem) = t
                .rate_limit
                .problem()
                .or_else(|| t.jwt.as_ref().and_then(JwtConfig::problem))
            {
                return Err(FileError::Setting {
                    tenant: t.name.clone(),
                    problem,
                });
            }
            let mut targets = std::collections::HashSet::new();
            for target in &t.targets {
                target.check().map_err(|source| FileError::Target {
                    tenant: t.name.clone(),
                    source,
                })?;
                if target.send_passwords && cfg.passwords.is_none() {
                    return Err(FileError::NoPasswordKeys {
                        tenant: t.name.clone(),
                        target: target.name.clone(),
                    });
                }
                if !targets.insert(target.name.as_str()) {
                    return Err(FileError::TargetTwice {
                        tenant: t.name.clone(),
                        target: target.name.clone(),
                    });
                }
            }
            let mut subscriptions = std::collections::HashSet::new();
            for (index, sub) in t.subscriptions.iter().enumerate() {
                sub.check_form().map_err(|source| FileError::Subscription {
                    tenant: t.name.clone(),
                    index,
                    source,
                })?;
                let name = sub.name.clone().unwrap_or_default();
                if !subscriptions.insert(name.clone()) {
                    return Err(FileError::SubscriptionTwice {
                        tenant: t.name.clone(),
                        name,
                    });
                }
            }
            let mut hr_sources = std::collections::HashSet::new();
            for (index, source) in t.hr_sources.iter().enumerate() {
                source.check_form().map_err(|source| FileError::HrSource {
                    tenant: t.name.clone(),
                    index,
                    source,
                })?;
                if !hr_sources.insert(source.name.as_str()) {
                    return Err(FileError::HrSourceTwice {
                        tenant: t.name.clone(),
                        name: source.name.clone(),
                    });
                }
            }
        }
        Ok(cfg)
    }

    /// The tenants with their token references resolved.
    pub fn resolve_tenants(&self) -> Result<Vec<Tenant>, SecretRefError> {
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
                            .map_err(|source| SecretRefError {
                                field: format!("tenants.{}.tokens[{i}]", t.name),
                                source,
                            })
                    })
                    .collect::<Result<_, _>>()?;
                Ok(Tenant {
                    name: t.name.clone(),
                    token_hashes,
                    rate_limit: t.rate_limit,
                    jwt: t.jwt.clone(),
                })
            })
            .collect()
    }

    /// The hashes of the operator API's tokens.
    pub fn resolve_admin_tokens(&self) -> Result<Vec<[u8; 32]>, SecretRefError> {
        resolve_list(self.admin.iter().flat_map(|a| &a.tokens), "admin.tokens")
    }

    /// The hashes of the operator API's read-only tokens.
    pub fn resolve_admin_read_tokens(&self) -> Result<Vec<[u8; 32]>, SecretRefError> {
        resolve_list(
            self.admin.iter().flat_map(|a| &a.read_tokens),
            "admin.read_tokens",
        )
    }

    pub fn tenant_names(&self) -> Vec<String> {
        self.tenants.iter().map(|t| t.name.clone()).collect()
    }

    /// The tenants that say which user attributes HR owns, with the list.
    pub fn hr_owns(&self) -> Vec<(String, Vec<String>)> {
        self.tenants
            .iter()
            .filter_map(|t| t.hr_owns.clone().map(|l| (t.name.clone(), l)))
            .collect()
    }

    /// Every tenant's subscriptions, as (tenant, subscription).
    pub fn subscriptions(&self) -> Vec<(String, scimbus_notify::SubscriptionSpec)> {
        self.tenants
            .iter()
            .flat_map(|t| t.subscriptions.iter().map(|s| (t.name.clone(), s.clone())))
            .collect()
    }

    /// Every tenant's HR sources, as (tenant, source).
    pub fn hr_sources(&self) -> Vec<(String, scimbus_hr::SourceSpec)> {
        self.tenants
            .iter()
            .flat_map(|t| t.hr_sources.iter().map(|s| (t.name.clone(), s.clone())))
            .collect()
    }

    /// The keys of `[passwords]`, resolved (none without the section).
    pub fn resolve_passwords(
        &self,
    ) -> Result<Option<std::sync::Arc<crate::passwords::PasswordKeys>>, crate::passwords::KeyError>
    {
        self.passwords
            .as_ref()
            .map(|p| crate::passwords::PasswordKeys::resolve(p).map(std::sync::Arc::new))
            .transpose()
    }

    /// Every tenant's targets, as (tenant, target).
    pub fn targets(&self) -> Vec<(String, TargetConfig)> {
        self.tenants
            .iter()
            .flat_map(|t| t.targets.iter().map(|x| (t.name.clone(), x.clone())))
            .collect()
    }
}

/// The hashes of a list of token references (`field` names the list in
/// errors).
fn resolve_list<'a>(
    refs: impl Iterator<Item = &'a String>,
    field: &str,
) -> Result<Vec<[u8; 32]>, SecretRefError> {
    refs.enumerate()
        .map(|(i, r)| {
            Secret::resolve(r)
                .map(|s| s.token_hash())
                .map_err(|source| SecretRefError {
                    field: format!("{field}[{i}]"),
                    source,
                })
        })
        .collect()
}

#[cfg(test)]
mod tests;
