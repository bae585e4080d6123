//! The HR sources of the configuration, with their secrets resolved and
//! their mappings compiled: what the ingress serves at `/hr/v1`, and what
//! `scimbus config check` proves can be served.

use std::sync::Arc;

use scimbus_hr::Source;

use crate::FileConfig;
use crate::secret::{Secret, SecretError};

/// A source that cannot be served.
#[derive(Debug, thiserror::Error)]
pub enum HrSourceError {
    #[error("tenant \"{tenant}\": HR source \"{source_name}\": secret {reference}: {error}")]
    Secret {
        tenant: String,
        source_name: String,
        reference: String,
        #[source]
        error: SecretError,
    },
    #[error(
        "tenant \"{tenant}\": HR source \"{source_name}\": secret {reference}: an HR secret is \
         the secret itself (env:NAME or file:/path), not a hash"
    )]
    Hash {
        tenant: String,
        source_name: String,
        reference: String,
    },
    #[error("tenant \"{tenant}\": HR source \"{source_name}\": {error}")]
    Compile {
        tenant: String,
        source_name: String,
        #[source]
        error: scimbus_hr::SpecError,
    },
}

/// Every tenant's HR sources, compiled, as (tenant, source).
pub fn compile(file: &FileConfig) -> Result<Vec<(String, Arc<Source>)>, HrSourceError> {
    let mut out = Vec::new();
    for t in &file.tenants {
        for spec in &t.hr_sources {
            let mut secrets = Vec::new();
            for reference in spec.auth.secrets() {
                match Secret::resolve(reference) {
                    Ok(Secret::Value(v)) => secrets.push(v.into_bytes()),
                    Ok(Secret::Hash(_)) => {
                        return Err(HrSourceError::Hash {
                            tenant: t.name.clone(),
                            source_name: spec.name.clone(),
                            reference: reference.clone(),
                        });
                    }
                    Err(error) => {
                        return Err(HrSourceError::Secret {
                            tenant: t.name.clone(),
                            source_name: spec.name.clone(),
                            reference: reference.clone(),
                            error,
                        });
                    }
                }
            }
            let source =
                Source::compile(spec, secrets).map_err(|error| HrSourceError::Compile {
                    tenant: t.name.clone(),
                    source_name: spec.name.clone(),
                    error,
                })?;
            out.push((t.name.clone(), Arc::new(source)));
        }
    }
    Ok(out)
}

/// A source as an operator sees it (operator API and CLI alike): its
/// spec as [`scimbus_hr::SourceSpec::shown`] gives it — never a secret,
/// not even a reference, only `auth.secretCount` — with `tenant` and
/// `endpoint`, the URL its HR system posts to (`public_url` without a
/// trailing `/`).
pub fn view(tenant: &str, spec: &scimbus_hr::SourceSpec, public_url: &str) -> serde_json::Value {
    let mut out = spec.shown();
    out["tenant"] = serde_json::json!(tenant);
    out["endpoint"] = serde_json::json!(format!("{public_url}/hr/v1/{tenant}/{}", spec.name));
    out
}
