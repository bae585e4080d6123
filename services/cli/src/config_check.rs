//! `scimbus config check`: loads the configuration file the way the
//! services do, secret references included, and says what it found.

use scimbus_runtime::FileConfig;

use crate::CliError;

/// A configuration file that the services would accept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSummary {
    pub path: String,
    /// Each tenant with the number of bearer tokens it declares.
    pub tenants: Vec<(String, usize)>,
    /// `[passwords]`: the id of the key that seals, and how many keys
    /// there are (each resolved and of the right size).
    pub password_keys: Option<(String, usize)>,
}

/// Reads, parses and checks the file, and resolves its secret references
/// (`env:` variables must be set, `file:` files readable) and compiles its
/// HR sources and password keys, as the ingress does at start.
pub fn check(path: &str) -> Result<ConfigSummary, CliError> {
    let cfg = FileConfig::load(path)?;
    let tenants = cfg
        .resolve_tenants()
        .map_err(|source| CliError::ConfigSecret {
            path: path.to_string(),
            source,
        })?;
    scimbus_runtime::hr_sources::compile(&cfg).map_err(|source| CliError::HrSource {
        path: path.to_string(),
        source: Box::new(source),
    })?;
    cfg.resolve_passwords()
        .map_err(|source| CliError::PasswordKey {
            path: path.to_string(),
            source,
        })?;
    Ok(ConfigSummary {
        password_keys: cfg
            .passwords
            .as_ref()
            .map(|p| (p.current_key.clone(), p.keys.len())),
        path: path.to_string(),
        tenants: tenants
            .into_iter()
            .map(|t| (t.name, t.token_hashes.len()))
            .collect(),
    })
}
