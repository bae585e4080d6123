//! `[tenants.jwt]`: JWT bearer tokens (RFC 7519, RFC 6750) of an OAuth 2.0
//! authorization server, accepted besides the tenant's own tokens.

use serde::Deserialize;

/// The algorithms a tenant may allow: asymmetric only (never `none`, never
/// an HMAC that a public key could be mistaken for).
pub const JWT_ALGORITHMS: [&str; 3] = ["RS256", "ES256", "EdDSA"];

/// Who issues the tenant's JWTs and how they are checked.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// `iss` must be this.
    pub issuer: String,
    /// `aud` must be (or contain) this.
    pub audience: String,
    /// The signature algorithms allowed (of [`JWT_ALGORITHMS`]).
    #[serde(default = "JwtConfig::default_algorithms")]
    pub algorithms: Vec<String>,
    /// Where the issuer publishes its keys (a JWKS), fetched when a token
    /// names a key not known yet (at most every 30 s).
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// The keys inline instead: a JWKS as JSON text.
    #[serde(default)]
    pub jwks: Option<String>,
    /// The claim that carries the scopes (a space-separated string or an
    /// array of strings).
    #[serde(default = "JwtConfig::default_scope_claim")]
    pub scope_claim: String,
    /// The least time between two fetches of `jwks_url`, in seconds (1 to
    /// 3600): a token naming an unknown key fetches the JWKS again only
    /// this long after the last fetch.
    #[serde(default = "JwtConfig::default_min_refresh")]
    pub jwks_min_refresh_secs: u64,
    /// Clock skew allowed on `exp` and `nbf`, in seconds (at most 300).
    #[serde(default = "JwtConfig::default_leeway")]
    pub leeway_secs: u64,
}

impl JwtConfig {
    fn default_algorithms() -> Vec<String> {
        JWT_ALGORITHMS.iter().map(|a| a.to_string()).collect()
    }
    fn default_scope_claim() -> String {
        "scope".into()
    }
    fn default_leeway() -> u64 {
        60
    }
    fn default_min_refresh() -> u64 {
        30
    }

    /// Why it cannot work, if it cannot.
    pub fn problem(&self) -> Option<String> {
        if self.issuer.trim().is_empty() || self.audience.trim().is_empty() {
            return Some("jwt: issuer and audience must not be empty".into());
        }
        if self.algorithms.is_empty() {
            return Some("jwt.algorithms: name at least one".into());
        }
        if let Some(a) = self
            .algorithms
            .iter()
            .find(|a| !JWT_ALGORITHMS.contains(&a.as_str()))
        {
            return Some(format!(
                "jwt.algorithms: \"{a}\" is not allowed (allowed: RS256, ES256, EdDSA)"
            ));
        }
        match (&self.jwks_url, &self.jwks) {
            (Some(_), Some(_)) | (None, None) => {
                return Some("jwt: give jwks_url or jwks (one of them)".into());
            }
            (Some(url), None) => {
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Some(format!("jwt.jwks_url: \"{url}\" is not an http(s) URL"));
                }
            }
            (None, Some(text)) => {
                let keys = serde_json::from_str::<serde_json::Value>(text)
                    .ok()
                    .and_then(|v| v.get("keys").and_then(|k| k.as_array()).map(Vec::len));
                if keys.is_none() {
                    return Some("jwt.jwks: not a JWKS (JSON with a \"keys\" array)".into());
                }
            }
        }
        if !(1..=3600).contains(&self.jwks_min_refresh_secs) {
            return Some(format!(
                "jwt.jwks_min_refresh_secs: {} is not 1 to 3600",
                self.jwks_min_refresh_secs
            ));
        }
        if self.leeway_secs > 300 {
            return Some(format!(
                "jwt.leeway_secs: {} is more than 300",
                self.leeway_secs
            ));
        }
        None
    }
}
