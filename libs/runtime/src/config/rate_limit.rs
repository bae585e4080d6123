//! `[tenants.rate_limit]`: the request rates of a tenant and its tokens.

use serde::Deserialize;

/// Request rates of a tenant's SCIM and polling clients (token buckets):
/// the tenant as a whole, and each token. Enforced by each ingress
/// replica on its share: the rates divided by `SCIMBUS_INGRESS_REPLICAS`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per second of the whole tenant.
    #[serde(default = "RateLimit::default_tenant_rate")]
    pub requests_per_second: f64,
    /// Requests the tenant may make at once above its rate.
    #[serde(default = "RateLimit::default_tenant_burst")]
    pub burst: f64,
    /// Requests per second of one token.
    #[serde(default = "RateLimit::default_token_rate")]
    pub token_requests_per_second: f64,
    /// Requests one token may make at once above its rate.
    #[serde(default = "RateLimit::default_token_burst")]
    pub token_burst: f64,
}

impl RateLimit {
    fn default_tenant_rate() -> f64 {
        100_000.0
    }
    fn default_tenant_burst() -> f64 {
        200_000.0
    }
    fn default_token_rate() -> f64 {
        50_000.0
    }
    fn default_token_burst() -> f64 {
        100_000.0
    }

    /// Why it cannot work, if it cannot (a rate or burst not positive).
    pub fn problem(&self) -> Option<String> {
        [
            ("requests_per_second", self.requests_per_second),
            ("burst", self.burst),
            ("token_requests_per_second", self.token_requests_per_second),
            ("token_burst", self.token_burst),
        ]
        .into_iter()
        .find(|(_, v)| !(v.is_finite() && *v >= 1.0))
        .map(|(k, v)| format!("rate_limit.{k} must be a number of at least 1 (got {v})"))
    }
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            requests_per_second: Self::default_tenant_rate(),
            burst: Self::default_tenant_burst(),
            token_requests_per_second: Self::default_token_rate(),
            token_burst: Self::default_token_burst(),
        }
    }
}
