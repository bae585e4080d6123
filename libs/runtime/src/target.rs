//! Downstream SCIM applications ("targets") a tenant's changes are pushed
//! to, as the configuration file declares them:
//!
//! ```toml
//! [[tenants.targets]]
//! name = "crm"
//! url = "https://crm.example.com/scim/v2"
//! auth = { type = "bearer", token = "env:CRM_SCIM_TOKEN" }
//! resource_types = ["User", "Group"]
//! filter = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "Sales"'
//! deprovision = "deactivate"
//! ```
//!
//! Secrets are references (`env:` / `file:`), resolved when the worker
//! starts and never logged. Checking a filter's syntax is the outbound
//! service's business (this crate knows nothing of SCIM).

use std::time::Duration;

use serde::Deserialize;

/// One target of a tenant.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Unique within the tenant; 1–63 of `a-z 0-9 - _`.
    pub name: String,
    /// The target's SCIM base URL (the one `/Users` hangs off).
    pub url: String,
    #[serde(default)]
    pub auth: AuthConfig,
    /// Which resource types it gets (default: User and Group).
    #[serde(default = "both_types")]
    pub resource_types: Vec<String>,
    /// A SCIM filter a resource must match to be pushed (default: all).
    #[serde(default)]
    pub filter: Option<String>,
    /// What happens on the target when a user is deleted here or leaves
    /// the scope. Groups are always deleted.
    #[serde(default)]
    pub deprovision: Deprovision,
    /// How updates are sent; `auto` asks the target's
    /// `/ServiceProviderConfig` whether it supports PATCH.
    #[serde(default)]
    pub update: UpdateStyle,
    /// Whether groups (and memberships) are pushed at all.
    #[serde(default = "yes")]
    pub groups: bool,
    /// Most members per membership PATCH.
    #[serde(default = "member_chunk")]
    pub member_chunk: usize,
    /// Most requests per second (none: unlimited).
    #[serde(default)]
    pub rate_per_sec: Option<u32>,
    /// Most requests in flight (different resources in parallel).
    #[serde(default = "concurrency")]
    pub concurrency: usize,
    /// Per request.
    #[serde(default = "timeout_secs")]
    pub timeout_secs: u64,
    /// Attempts at a change that keeps failing transiently before it is
    /// parked.
    #[serde(default = "max_attempts")]
    pub max_attempts: u32,
    /// How users are mapped for this target (none: as they are).
    #[serde(default)]
    pub mapping: Option<MappingConfig>,
    /// How groups are mapped (none: as they are). Their members are sent
    /// by themselves (translated to the target's ids), never mapped.
    #[serde(default)]
    pub group_mapping: Option<MappingConfig>,
    /// Compare the target with the tenant this often and report the drift
    /// (`scimbus targets show`); none: only on demand.
    #[serde(default)]
    pub reconcile_every_secs: Option<u64>,
    /// When to stop sending for a while after a run of failures.
    #[serde(default)]
    pub circuit: CircuitConfig,
    /// Whether users' passwords are sent to it (some applications need an
    /// initial one). They are kept sealed only until every such target
    /// has them ([`crate::passwords`]); needs `[passwords]` and `User`
    /// among the resource types.
    #[serde(default)]
    pub send_passwords: bool,
}

/// An attribute mapping (see the scimbus-mapping crate): attributes kept
/// (an allow list), dropped, and set from CEL expressions over `resource`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MappingConfig {
    #[serde(default)]
    pub keep: Option<Vec<String>>,
    #[serde(default)]
    pub drop: Vec<String>,
    #[serde(default)]
    pub set: std::collections::BTreeMap<String, String>,
}

/// How scimbus authenticates to a target.
#[derive(Debug, Clone, PartialEq, Default, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthConfig {
    /// No `Authorization` header.
    #[default]
    None,
    /// `Authorization: Bearer <token>`.
    Bearer { token: String },
    /// HTTP basic.
    Basic { username: String, password: String },
    /// OAuth 2.0 client credentials (RFC 6749 §4.4): a token fetched from
    /// `token_url` and fetched again before it expires.
    Oauth2 {
        token_url: String,
        client_id: String,
        client_secret: String,
        #[serde(default)]
        scope: Option<String>,
    },
}

/// What deprovisioning does on the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Deprovision {
    /// `active: false`, the account stays.
    #[default]
    Deactivate,
    /// `DELETE`.
    Delete,
}

/// How an update is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateStyle {
    /// PATCH if the target says it supports it, else PUT.
    #[default]
    Auto,
    Patch,
    Put,
}

/// A target's circuit breaker: after `trip_after` transient failures in a
/// row (timeouts, refused connections, 429, 5xx) no request goes for a
/// while; then one trial request does, and its failure opens the circuit
/// again. The pause is what the target's `Retry-After` says when it sends
/// one (a target that says when to come back is asked then); otherwise
/// `open_ms` at first, times `growth` after each failed trial, never over
/// `max_open_ms` (nor is a `Retry-After`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CircuitConfig {
    pub trip_after: u32,
    pub open_ms: u64,
    pub growth: f64,
    pub max_open_ms: u64,
}

impl Default for CircuitConfig {
    fn default() -> Self {
        CircuitConfig {
            trip_after: 5,
            open_ms: 2_000,
            growth: 2.0,
            max_open_ms: 30_000,
        }
    }
}

fn both_types() -> Vec<String> {
    vec!["User".into(), "Group".into()]
}
fn yes() -> bool {
    true
}
fn member_chunk() -> usize {
    100
}
fn concurrency() -> usize {
    4
}
fn timeout_secs() -> u64 {
    10
}
fn max_attempts() -> u32 {
    8
}

impl TargetConfig {
    pub fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs)
    }

    /// Checks what can be checked without SCIM knowledge; the error says
    /// which field.
    pub fn check(&self) -> Result<(), TargetError> {
        let name = || self.name.clone();
        if !scimbus_events::valid_tenant(&self.name) {
            return Err(TargetError::Name { name: name() });
        }
        if !(self.url.starts_with("http://") || self.url.starts_with("https://")) {
            return Err(TargetError::Url {
                name: name(),
                url: self.url.clone(),
            });
        }
        if let Some(rt) = self
            .resource_types
            .iter()
            .find(|rt| *rt != "User" && *rt != "Group")
        {
            return Err(TargetError::ResourceType {
                name: name(),
                resource_type: rt.clone(),
            });
        }
        if self.send_passwords && !self.resource_types.iter().any(|rt| rt == "User") {
            return Err(TargetError::PasswordsWithoutUsers { name: name() });
        }
        if self.member_chunk == 0 || self.concurrency == 0 || self.max_attempts == 0 {
            return Err(TargetError::Sizes { name: name() });
        }
        let c = &self.circuit;
        if c.trip_after == 0 || c.open_ms == 0 || c.open_ms > c.max_open_ms {
            return Err(TargetError::CircuitTimes { name: name() });
        }
        if !(1.0..=10.0).contains(&c.growth) {
            return Err(TargetError::CircuitGrowth { name: name() });
        }
        if self.timeout_secs == 0 || self.rate_per_sec == Some(0) {
            return Err(TargetError::Rates { name: name() });
        }
        Ok(())
    }
}

/// A target the configuration file declares wrongly; names the target and
/// the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TargetError {
    #[error("target \"{name}\": not a valid name (1-63 of a-z 0-9 - _)")]
    Name { name: String },
    #[error("target \"{name}\": url \"{url}\" is not an http(s) URL")]
    Url { name: String, url: String },
    #[error("target \"{name}\": resource_types: \"{resource_type}\" is neither User nor Group")]
    ResourceType { name: String, resource_type: String },
    #[error("target \"{name}\": member_chunk, concurrency and max_attempts must be at least 1")]
    Sizes { name: String },
    #[error(
        "target \"{name}\": circuit: trip_after and open_ms must be at least 1, and open_ms at most max_open_ms"
    )]
    CircuitTimes { name: String },
    #[error("target \"{name}\": circuit: growth must be between 1 and 10")]
    CircuitGrowth { name: String },
    #[error("target \"{name}\": timeout_secs and rate_per_sec must be at least 1")]
    Rates { name: String },
    #[error("target \"{name}\": send_passwords needs User among resource_types")]
    PasswordsWithoutUsers { name: String },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target as the configuration file declares it, checked.
    fn parse(toml_text: &str) -> Result<TargetConfig, Box<dyn std::error::Error>> {
        let t: TargetConfig = toml::from_str(toml_text)?;
        t.check()?;
        Ok(t)
    }

    #[test]
    fn defaults_and_checks() {
        let t = parse("name = \"crm\"\nurl = \"http://127.0.0.1:9/scim/v2\"").unwrap();
        assert_eq!(t.auth, AuthConfig::None);
        assert_eq!(t.resource_types, vec!["User", "Group"]);
        assert_eq!(t.deprovision, Deprovision::Deactivate);
        assert_eq!(t.update, UpdateStyle::Auto);
        assert!(t.groups);
        assert_eq!((t.member_chunk, t.concurrency, t.max_attempts), (100, 4, 8));
        let t = parse(
            "name = \"a\"\nurl = \"https://x\"\nauth = { type = \"oauth2\", token_url = \"https://x/token\", client_id = \"c\", client_secret = \"env:S\" }\ndeprovision = \"delete\"\nupdate = \"put\"",
        )
        .unwrap();
        assert!(matches!(t.auth, AuthConfig::Oauth2 { .. }));
        assert_eq!(t.deprovision, Deprovision::Delete);
        let t = parse(
            "name = \"a\"\nurl = \"https://x\"\n[mapping]\ndrop = [\"emails\"]\n[group_mapping.set]\ndisplayName = \"'app-' + resource.displayName\"",
        )
        .unwrap();
        assert_eq!(t.mapping.unwrap().drop, vec!["emails"]);
        let groups = t.group_mapping.unwrap();
        assert_eq!(groups.set["displayName"], "'app-' + resource.displayName");
        assert!(groups.drop.is_empty() && groups.keep.is_none());
        for (bad, why) in [
            ("name = \"A\"\nurl = \"http://x\"", "not a valid name"),
            ("name = \"a\"\nurl = \"ftp://x\"", "is not an http(s) URL"),
            (
                "name = \"a\"\nurl = \"http://x\"\nresource_types = [\"Device\"]",
                "\"Device\" is neither User nor Group",
            ),
            (
                "name = \"a\"\nurl = \"http://x\"\nconcurrency = 0",
                "must be at least 1",
            ),
            (
                "name = \"a\"\nurl = \"http://x\"\nauth = { type = \"bearer\" }",
                "missing field `token`",
            ),
            (
                "name = \"a\"\nurl = \"http://x\"\nsurprise = 1",
                "unknown field `surprise`",
            ),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn circuit_settings_have_defaults_and_are_checked() {
        let t = parse("name = \"a\"\nurl = \"http://x\"").unwrap();
        assert_eq!(t.circuit, CircuitConfig::default());
        let t = parse("name = \"a\"\nurl = \"http://x\"\n[circuit]\nopen_ms = 500\ngrowth = 1.5")
            .unwrap();
        assert_eq!(
            (
                t.circuit.trip_after,
                t.circuit.open_ms,
                t.circuit.growth,
                t.circuit.max_open_ms
            ),
            (5, 500, 1.5, 30_000)
        );
        for (bad, says) in [
            ("trip_after = 0", "trip_after"),
            ("open_ms = 40000", "open_ms at most max_open_ms"),
            ("growth = 0.5", "growth must be between 1 and 10"),
            ("surprise = 1", "unknown field"),
        ] {
            let text = format!("name = \"a\"\nurl = \"http://x\"\n[circuit]\n{bad}");
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
    }
}
