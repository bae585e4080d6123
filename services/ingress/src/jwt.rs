//! JWT bearer tokens (RFC 7519, RFC 6750) of a tenant's OAuth 2.0
//! authorization server (`[tenants.jwt]`): signed with an allowed
//! asymmetric algorithm by a key of the issuer's JWKS, from the configured
//! issuer, for the configured audience, within `exp`/`nbf` (with the
//! configured skew). The scopes are those of the scope claim this server
//! knows (others, such as `openid`, are ignored).
//!
//! The JWKS is fetched when a token names a key not known yet — at once the
//! first time, then at most every `jwks_min_refresh_secs` (30 s), so that a
//! flood of made-up key ids cannot make the ingress hammer the issuer — and
//! kept in memory.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use scimbus_runtime::config::{JwtConfig, Tenant};
use scimbus_runtime::scope::Scopes;
use serde_json::Value;

use crate::tokens::Client;

/// How long a JWKS fetch may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a verified token is trusted without verifying it again (never
/// past its `exp`): a client sends the same token for its lifetime, and a
/// signature check costs far more than a lookup. A key the issuer removes
/// stops working within this time.
const VERIFIED_FOR: Duration = Duration::from_secs(60);
/// At most this many verified tokens are remembered.
const VERIFIED_MAX: usize = 10_000;

/// The JWT verifiers of the tenants that have one.
#[derive(Debug, Default)]
pub struct Jwt(HashMap<String, Verifier>);

impl Jwt {
    pub fn new(tenants: &[Tenant]) -> Result<Jwt, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(FETCH_TIMEOUT)
            .user_agent(concat!("scimbus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        let mut verifiers = HashMap::new();
        for t in tenants {
            if let Some(cfg) = &t.jwt {
                let v = Verifier::new(cfg.clone(), http.clone())
                    .map_err(|e| format!("tenant \"{}\": jwt: {e}", t.name))?;
                verifiers.insert(t.name.clone(), v);
            }
        }
        Ok(Jwt(verifiers))
    }

    /// The verifier of `tenant`, if it takes JWTs.
    pub fn of(&self, tenant: &str) -> Option<&Verifier> {
        self.0.get(tenant)
    }
}

/// Whether a bearer token has the shape of a JWT (three base64url parts,
/// a JSON header first).
pub fn looks_like_jwt(token: &str) -> bool {
    token.starts_with("eyJ") && token.split('.').count() == 3
}

/// One tenant's issuer, its keys, and how its tokens are checked.
#[derive(Debug)]
pub struct Verifier {
    cfg: JwtConfig,
    algorithms: Vec<Algorithm>,
    /// By `kid` (a key without one under "").
    keys: RwLock<HashMap<String, (DecodingKey, Option<Algorithm>)>>,
    /// When the JWKS was last fetched; the lock also makes fetches one at
    /// a time.
    fetched: tokio::sync::Mutex<Option<Instant>>,
    http: reqwest::Client,
    /// Tokens verified lately, by their SHA-256: the client and until when.
    verified: RwLock<HashMap<[u8; 32], (Client, Instant)>>,
}

impl Verifier {
    fn new(cfg: JwtConfig, http: reqwest::Client) -> Result<Verifier, String> {
        let algorithms = cfg
            .algorithms
            .iter()
            .map(|a| a.parse::<Algorithm>().map_err(|e| format!("{a}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        let v = Verifier {
            algorithms,
            keys: RwLock::default(),
            fetched: tokio::sync::Mutex::new(None),
            http,
            verified: RwLock::default(),
            cfg,
        };
        if let Some(text) = &v.cfg.jwks {
            let set: JwkSet = serde_json::from_str(text).map_err(|e| format!("jwks: {e}"))?;
            v.install(&set);
        }
        Ok(v)
    }

    /// How `/ServiceProviderConfig` names this way in.
    pub fn scheme(&self) -> scimbus_scim::discovery::AuthenticationScheme {
        scimbus_scim::discovery::AuthenticationScheme::oauth2_jwt(
            &self.cfg.issuer,
            &self.cfg.audience,
        )
    }

    /// The client of a good token of `tenant`, or why it is not good.
    pub async fn verify(&self, tenant: &str, token: &str) -> Result<Client, String> {
        let hash = scimbus_runtime::token_hash(token);
        if let Ok(verified) = self.verified.read()
            && let Some((client, until)) = verified.get(&hash)
            && Instant::now() < *until
        {
            return Ok(client.clone());
        }
        let (client, exp) = self.check(tenant, token).await?;
        let left = exp - chrono::Utc::now().timestamp();
        if left > 0
            && let Ok(mut verified) = self.verified.write()
        {
            if verified.len() >= VERIFIED_MAX {
                verified.clear();
            }
            let for_ = VERIFIED_FOR.min(Duration::from_secs(left.unsigned_abs()));
            verified.insert(hash, (client.clone(), Instant::now() + for_));
        }
        Ok(client)
    }

    /// Verifies a token: its client and its `exp`, or why it is not good.
    async fn check(&self, tenant: &str, token: &str) -> Result<(Client, i64), String> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|e| format!("not a JWT of an allowed algorithm ({e})"))?;
        if !self.algorithms.contains(&header.alg) {
            return Err(format!("the algorithm {:?} is not allowed", header.alg));
        }
        let kid = header.kid.clone().unwrap_or_default();
        let key = match self.key(&kid) {
            Some(k) => k,
            None => {
                self.refresh().await?;
                self.key(&kid)
                    .ok_or_else(|| format!("no key \"{kid}\" in the issuer's JWKS"))?
            }
        };
        if key.1.is_some_and(|alg| alg != header.alg) {
            return Err(format!("key \"{kid}\" is not for {:?}", header.alg));
        }
        let mut validation = Validation::new(header.alg);
        validation.set_issuer(&[&self.cfg.issuer]);
        validation.set_audience(&[&self.cfg.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.validate_nbf = true;
        validation.leeway = self.cfg.leeway_secs;
        let data = jsonwebtoken::decode::<Value>(token, &key.0, &validation).map_err(why)?;
        let claims = data.claims;
        let scopes = match claims.get(&self.cfg.scope_claim) {
            Some(Value::String(s)) => s.split_whitespace().map(str::to_string).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect(),
            _ => Vec::new(),
        };
        let scopes = Scopes::known(&scopes);
        let subject = ["client_id", "azp", "sub"]
            .iter()
            .find_map(|c| claims.get(*c).and_then(Value::as_str))
            .unwrap_or("unknown")
            .to_string();
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
        Ok((
            Client {
                tenant: tenant.to_string(),
                client_id: format!("jwt:{subject}"),
                name: subject,
                scopes,
                address: None,
                request_id: None,
            },
            exp,
        ))
    }

    fn key(&self, kid: &str) -> Option<(DecodingKey, Option<Algorithm>)> {
        self.keys.read().ok()?.get(kid).cloned()
    }

    /// Fetches the JWKS again, unless it was fetched within 30 s.
    async fn refresh(&self) -> Result<(), String> {
        let Some(url) = &self.cfg.jwks_url else {
            return Ok(());
        };
        let mut fetched = self.fetched.lock().await;
        let every = Duration::from_secs(self.cfg.jwks_min_refresh_secs);
        if fetched.is_some_and(|at| at.elapsed() < every) {
            return Ok(());
        }
        *fetched = Some(Instant::now());
        let set: JwkSet = async {
            self.http
                .get(url)
                .send()
                .await?
                .error_for_status()?
                .json()
                .await
        }
        .await
        .map_err(|e| {
            tracing::warn!(url = %url, error = %e, "fetching a JWKS");
            "the issuer's keys could not be fetched".to_string()
        })?;
        self.install(&set);
        Ok(())
    }

    /// Replaces the keys with those of `set` that this server can use.
    fn install(&self, set: &JwkSet) {
        let keys = set
            .keys
            .iter()
            .filter_map(|jwk| {
                let key = DecodingKey::from_jwk(jwk).ok()?;
                let alg = jwk
                    .common
                    .key_algorithm
                    .and_then(|a| a.to_string().parse::<Algorithm>().ok());
                Some((jwk.common.key_id.clone().unwrap_or_default(), (key, alg)))
            })
            .collect();
        if let Ok(mut k) = self.keys.write() {
            *k = keys;
        }
    }
}

/// What is wrong with a token, in words for the client.
fn why(e: jsonwebtoken::errors::Error) -> String {
    use jsonwebtoken::errors::ErrorKind;
    match e.kind() {
        ErrorKind::ExpiredSignature => "the token has expired".into(),
        ErrorKind::ImmatureSignature => "the token is not valid yet (nbf)".into(),
        ErrorKind::InvalidIssuer => "the token is from another issuer".into(),
        ErrorKind::InvalidAudience => "the token is for another audience".into(),
        ErrorKind::InvalidSignature => "the signature does not hold".into(),
        ErrorKind::MissingRequiredClaim(c) => format!("the token has no \"{c}\" claim"),
        ErrorKind::InvalidAlgorithm => "the key does not fit the algorithm".into(),
        _ => format!("the token cannot be read ({e})"),
    }
}
