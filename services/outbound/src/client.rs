//! HTTP to one target: authentication (bearer, basic, OAuth 2.0 client
//! credentials with a cached token), timeouts, and the sorting of failures
//! into transient (retry) and permanent (park) as issue 4 defines them.

use std::time::{Duration, Instant};

use reqwest::{Method, StatusCode};
use scimbus_runtime::secret::SecretError;
use scimbus_runtime::{AuthConfig, Secret, telemetry};
use serde_json::Value;
use tokio::sync::Mutex;
use tracing::Instrument;

pub use crate::answer::{Answer, Exchange, PushError};

/// `application/scim+json`, what SCIM requests carry.
const SCIM_JSON: &str = "application/scim+json";

/// How requests are authorised, with secrets resolved.
enum Auth {
    None,
    Bearer(String),
    Basic {
        username: String,
        password: String,
    },
    OAuth2 {
        token_url: String,
        client_id: String,
        client_secret: String,
        scope: Option<String>,
        /// The current token and when to fetch a new one.
        token: Mutex<Option<(String, Instant)>>,
    },
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a secret.
        f.write_str(match self {
            Auth::None => "Auth::None",
            Auth::Bearer(_) => "Auth::Bearer(…)",
            Auth::Basic { .. } => "Auth::Basic(…)",
            Auth::OAuth2 { .. } => "Auth::OAuth2(…)",
        })
    }
}

/// A target client that cannot be made as configured; names the field.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{field}: {source}")]
    Secret {
        field: &'static str,
        #[source]
        source: SecretError,
    },
    /// A `sha256:` reference: fine to check a token against, useless to
    /// send one.
    #[error("{field}: a sha256: hash cannot be sent; use env: or file:")]
    HashOnly { field: &'static str },
    #[error("HTTP client: {0}")]
    Http(#[source] reqwest::Error),
}

fn secret(field: &'static str, reference: &str) -> Result<String, ClientError> {
    match Secret::resolve(reference).map_err(|source| ClientError::Secret { field, source })? {
        Secret::Value(v) => Ok(v),
        Secret::Hash(_) => Err(ClientError::HashOnly { field }),
    }
}

impl Auth {
    fn resolve(cfg: &AuthConfig) -> Result<Auth, ClientError> {
        Ok(match cfg {
            AuthConfig::None => Auth::None,
            AuthConfig::Bearer { token } => Auth::Bearer(secret("auth.token", token)?),
            AuthConfig::Basic { username, password } => Auth::Basic {
                username: username.clone(),
                password: secret("auth.password", password)?,
            },
            AuthConfig::Oauth2 {
                token_url,
                client_id,
                client_secret,
                scope,
            } => Auth::OAuth2 {
                token_url: token_url.clone(),
                client_id: client_id.clone(),
                client_secret: secret("auth.client_secret", client_secret)?,
                scope: scope.clone(),
                token: Mutex::new(None),
            },
        })
    }
}

/// A target's HTTP client.
#[derive(Debug)]
pub struct TargetClient {
    http: reqwest::Client,
    /// Without a trailing `/`.
    base: String,
    auth: Auth,
}

impl TargetClient {
    /// Resolves the secrets; an error names the field.
    pub fn new(base: &str, auth: &AuthConfig, timeout: Duration) -> Result<Self, ClientError> {
        install_crypto();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("scimbus/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(ClientError::Http)?;
        Ok(TargetClient {
            http,
            base: base.trim_end_matches('/').to_string(),
            auth: Auth::resolve(auth)?,
        })
    }

    /// The URL of a path under the base (`/Users/…`).
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Sends a request; `Err` only when no answer came (transient), or the
    /// OAuth token could not be had. A 401 with an OAuth token fetches a
    /// new token and tries once more.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Answer, PushError> {
        let first = self.send_once(method.clone(), path, body, false).await?;
        if first.status == StatusCode::UNAUTHORIZED && matches!(self.auth, Auth::OAuth2 { .. }) {
            return self.send_once(method, path, body, true).await;
        }
        Ok(first)
    }

    async fn send_once(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
        fresh_token: bool,
    ) -> Result<Answer, PushError> {
        let url = self.url(path);
        // The body is serialized once, for the request and its record.
        let text = body.map(Value::to_string);
        // Never a password in the record (logs, parked changes), nor in
        // what a target that echoes it answers.
        let secret = body.is_some_and(crate::redact::holds_password);
        let mut exchange = Exchange {
            request: match (&text, body) {
                (Some(_), Some(b)) if secret => {
                    format!("{method} {url}\n{}", crate::redact::redacted(b))
                }
                (Some(b), _) => format!("{method} {url}\n{b}"),
                (None, _) => format!("{method} {url}"),
            },
            response: None,
        };
        let mut req = self
            .http
            .request(method.clone(), &url)
            .header(reqwest::header::ACCEPT, SCIM_JSON);
        if let Some(b) = text {
            req = req.header(reqwest::header::CONTENT_TYPE, SCIM_JSON).body(b);
        }
        req = match &self.auth {
            Auth::None => req,
            Auth::Bearer(t) => req.bearer_auth(t),
            Auth::Basic { username, password } => req.basic_auth(username, Some(password)),
            Auth::OAuth2 { .. } => {
                let token = self.oauth_token(fresh_token, &exchange).await?;
                req.bearer_auth(token)
            }
        };
        let (span, trace) = telemetry::http::client(method.as_str(), &url);
        let req = telemetry::http::with_trace(req, &trace);
        let resp = match req.send().instrument(span.clone()).await {
            Ok(r) => r,
            Err(e) => {
                telemetry::http::answered(&span, None);
                return Err(transport(&method, &url, &e, exchange));
            }
        };
        let status = resp.status();
        telemetry::http::answered(&span, Some(status.as_u16()));
        let retry_after = retry_after(resp.headers());
        let text = match resp.text().await {
            Ok(t) => t,
            Err(e) => return Err(transport(&method, &url, &e, exchange)),
        };
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        let shown = if secret {
            crate::redact::redacted(&body).to_string()
        } else {
            text
        };
        exchange.response = Some(format!("{}\n{}", status.as_u16(), excerpt(&shown)));
        let answer = Answer {
            status,
            body,
            exchange,
        };
        if status == StatusCode::TOO_MANY_REQUESTS
            || status == StatusCode::REQUEST_TIMEOUT
            || status.is_server_error()
        {
            return Err(answer.into_error(&format!("{method} {path}"), retry_after));
        }
        Ok(answer)
    }

    /// The OAuth token, fetched when there is none, it is about to expire,
    /// or the target refused it.
    async fn oauth_token(&self, refresh: bool, exchange: &Exchange) -> Result<String, PushError> {
        let Auth::OAuth2 {
            token_url,
            client_id,
            client_secret,
            scope,
            token,
        } = &self.auth
        else {
            return Err(PushError::permanent(
                "not an OAuth target",
                exchange.clone(),
            ));
        };
        let mut cached = token.lock().await;
        if let Some((t, until)) = cached.as_ref()
            && !refresh
            && Instant::now() < *until
        {
            return Ok(t.clone());
        }
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(s) = scope {
            form.push(("scope", s.as_str()));
        }
        let token_exchange = Exchange {
            request: format!("POST {token_url} (client credentials of {client_id})"),
            response: None,
        };
        let resp = self
            .http
            .post(token_url)
            .basic_auth(client_id, Some(client_secret))
            .form(&form)
            .send()
            .await
            .map_err(|e| transport(&Method::POST, token_url, &e, token_exchange.clone()))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        let token_exchange = Exchange {
            response: Some(format!("{}\n{}", status.as_u16(), excerpt(&text))),
            ..token_exchange
        };
        let doc: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        let Some(access) = doc.get("access_token").and_then(Value::as_str) else {
            let reason = format!("OAuth token endpoint answered {} without a token", status);
            return Err(
                if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
                    PushError::Transient {
                        reason,
                        retry_after: None,
                        exchange: Box::new(token_exchange),
                    }
                } else {
                    PushError::permanent(reason, token_exchange)
                },
            );
        };
        let lifetime = doc
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(3600);
        // Fetch again a little before it expires.
        let until = Instant::now() + Duration::from_secs(lifetime.saturating_sub(30).max(1));
        *cached = Some((access.to_string(), until));
        Ok(access.to_string())
    }
}

/// rustls needs a process-wide crypto provider; ring is the one async-nats
/// already brings.
fn install_crypto() {
    // An error means one is installed already: fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn transport(method: &Method, url: &str, e: &reqwest::Error, exchange: Exchange) -> PushError {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "failed"
    };
    PushError::Transient {
        reason: format!("{method} {url} {what}: {e}"),
        retry_after: None,
        exchange: Box::new(exchange),
    }
}

/// `Retry-After` as seconds or as an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let wait = at.signed_duration_since(chrono::Utc::now());
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

/// At most 2 000 characters of a body, for the record.
fn excerpt(text: &str) -> String {
    // Fewer bytes than the limit: fewer characters too.
    if text.len() <= 2000 {
        return text.to_string();
    }
    match text.char_indices().nth(2000) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn retry_after_is_seconds_or_a_date() {
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        let later = (chrono::Utc::now() + chrono::Duration::seconds(90)).to_rfc2822();
        h.insert(RETRY_AFTER, HeaderValue::from_str(&later).unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(80) && d <= Duration::from_secs(90),
            "{d:?}"
        );
        h.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&h), Some(Duration::ZERO));
        h.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn answers_sort_into_transient_and_permanent() {
        let a = |s: u16| Answer {
            status: StatusCode::from_u16(s).unwrap(),
            body: serde_json::json!({"detail": "nope"}),
            exchange: Exchange::default(),
        };
        for s in [408, 429, 500, 502, 503] {
            assert!(a(s).into_error("x", None).is_transient(), "{s}");
        }
        for s in [400, 401, 403, 404, 409, 412, 422] {
            let e = a(s).into_error("PUT /Users/1", None);
            assert!(!e.is_transient(), "{s}");
            assert_eq!(
                e.to_string(),
                format!("PUT /Users/1: the target answered {s}: nope")
            );
        }
    }

    #[test]
    fn secrets_are_references_and_never_printed() {
        let file = std::env::temp_dir().join(format!("scimbus-token-{}", std::process::id()));
        std::fs::write(&file, "s3cret\n").unwrap();
        let c = TargetClient::new(
            "http://127.0.0.1:1/scim/v2/",
            &AuthConfig::Bearer {
                token: format!("file:{}", file.display()),
            },
            Duration::from_secs(1),
        )
        .unwrap();
        let _ = std::fs::remove_file(&file);
        assert!(!format!("{c:?}").contains("s3cret"));
        assert_eq!(c.url("/Users"), "http://127.0.0.1:1/scim/v2/Users");
        let e = TargetClient::new(
            "http://x",
            &AuthConfig::Basic {
                username: "u".into(),
                password: "env:SCIMBUS_TEST_UNSET_VARIABLE".into(),
            },
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("auth.password: "), "{e}");
        assert!(
            matches!(
                e,
                ClientError::Secret {
                    field: "auth.password",
                    source: SecretError::EnvUnset { .. }
                }
            ),
            "{e:?}"
        );
        let e = TargetClient::new(
            "http://x",
            &AuthConfig::Bearer {
                token: format!("sha256:{}", "0".repeat(64)),
            },
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "auth.token: a sha256: hash cannot be sent; use env: or file:"
        );
    }
}
