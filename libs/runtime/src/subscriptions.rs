//! What an operator does with change-notification subscriptions, whether
//! through the operator API or the CLI: list the configuration file's and
//! those made through the API together, show one with its status, make,
//! replace, delete, and ask for a replay — with the same checks and the
//! same view, so that both say the same thing. The outbound service's
//! notifier reads the rows written here.

use chrono::{DateTime, Utc};
use scimbus_db::subscriptions::progress::{self, Progress, ReplayFrom};
use scimbus_db::subscriptions::{self, SubscriptionKey};
use scimbus_notify::{SpecError, SubscriptionSpec};
use scimbus_scim::Registry;
use serde_json::{Value, json};
use sqlx::PgPool;

/// Where a subscription is declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The configuration file: changed only there.
    Config,
    /// Made through the operator API (or the CLI), kept in Postgres.
    Api,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Config => "config",
            Source::Api => "api",
        }
    }
}

/// Why an operation on a subscription cannot be done.
#[derive(Debug, thiserror::Error)]
pub enum SubscriptionError {
    #[error("no tenant {0}")]
    UnknownTenant(String),
    #[error("no subscription {name} of tenant {tenant}")]
    Unknown { tenant: String, name: String },
    /// The configuration file declares it: it is changed there.
    #[error("subscription {0} is declared in the configuration file; change it there")]
    Configured(String),
    /// A field of the subscription or the request is wrong.
    #[error(transparent)]
    Invalid(#[from] SpecError),
    #[error("Postgres: {0}")]
    Db(#[from] sqlx::Error),
    #[error("a stored subscription does not read: {0}")]
    Stored(#[source] serde_json::Error),
}

/// The file's subscriptions, per tenant, and Postgres.
#[derive(Debug, Clone, Copy)]
pub struct Subscriptions<'a> {
    pub pool: &'a PgPool,
    pub configured: &'a [(String, SubscriptionSpec)],
}

/// A subscription as an operator sees it: its effective settings (never a
/// secret: `delivery.secretCount` only), `tenant`, `name`, `source`, and
/// `status` (`state` running | pausing | paused | disabled | not started,
/// `position`, `changeSequence`, `lag`, `delivered`, `skipped`, `failed`,
/// `parked`, `queued`, `disabledReason`, `disabledAt`, `lastError`,
/// `lastErrorAt`, `lastSuccessAt`, `startedAt`, `replay`).
pub fn view(
    tenant: &str,
    name: &str,
    spec: &SubscriptionSpec,
    source: Source,
    p: Option<&Progress>,
) -> Value {
    let mut named = spec.clone();
    named.name = Some(name.to_string());
    let mut out = named.shown();
    out["tenant"] = json!(tenant);
    out["name"] = json!(name);
    out["source"] = json!(source.as_str());
    out["status"] = status(p);
    out
}

fn status(p: Option<&Progress>) -> Value {
    let Some(p) = p else {
        return json!({"state": "not started"});
    };
    let at = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339());
    let replay = match (p.replay_from_seq, p.replay_since) {
        (Some(s), _) => json!({"fromSequence": s}),
        (None, Some(t)) => json!({"since": t.to_rfc3339()}),
        (None, None) => Value::Null,
    };
    json!({
        "state": state(p),
        "position": p.stream_seq,
        "changeSequence": p.change_seq,
        "lag": p.lag,
        "delivered": p.delivered,
        "skipped": p.skipped,
        "failed": p.failed,
        "parked": p.parked,
        "queued": p.queued,
        "disabledReason": p.disabled_reason,
        "disabledAt": at(p.disabled_at),
        "lastError": p.last_error,
        "lastErrorAt": at(p.last_error_at),
        "lastSuccessAt": at(p.last_success_at),
        "startedAt": p.started_at.to_rfc3339(),
        "replay": replay,
    })
}

/// running | pausing (asked, not yet held) | paused | disabled.
pub fn state(p: &Progress) -> &'static str {
    if p.paused && p.pause_acknowledged {
        "paused"
    } else if p.paused {
        "pausing"
    } else if p.disabled_reason.is_some() {
        "disabled"
    } else {
        "running"
    }
}

impl Subscriptions<'_> {
    /// Every subscription (of one tenant, if given) with its progress, by
    /// tenant and name: (tenant, name, spec, source, progress).
    pub async fn list(&self, tenant: Option<&str>) -> Result<Vec<Listed>, SubscriptionError> {
        let stored = subscriptions::all(self.pool, tenant).await?;
        let progress = progress::all(self.pool, tenant).await?;
        let find = |t: &str, n: &str| {
            progress
                .iter()
                .find(|p| p.tenant == t && p.name == n)
                .cloned()
        };
        let mut out: Vec<Listed> = Vec::new();
        for (t, spec) in self.configured {
            if tenant.is_some_and(|w| w != t) {
                continue;
            }
            let name = spec.name.clone().unwrap_or_default();
            out.push(Listed {
                progress: find(t, &name),
                tenant: t.clone(),
                name,
                spec: spec.clone(),
                source: Source::Config,
            });
        }
        for s in stored {
            if out.iter().any(|l| l.tenant == s.tenant && l.name == s.name) {
                continue;
            }
            let spec = serde_json::from_value::<SubscriptionSpec>(s.spec)
                .map_err(SubscriptionError::Stored)?
                .with_secrets(s.secrets);
            out.push(Listed {
                progress: find(&s.tenant, &s.name),
                tenant: s.tenant,
                name: s.name,
                spec,
                source: Source::Api,
            });
        }
        out.sort_by(|a, b| (&a.tenant, &a.name).cmp(&(&b.tenant, &b.name)));
        Ok(out)
    }

    /// 404 material: the tenant must exist.
    pub async fn tenant_exists(&self, tenant: &str) -> Result<(), SubscriptionError> {
        if scimbus_db::tenants::exists(self.pool, tenant).await? {
            Ok(())
        } else {
            Err(SubscriptionError::UnknownTenant(tenant.to_string()))
        }
    }

    fn configured(&self, tenant: &str, name: &str) -> Option<&SubscriptionSpec> {
        self.configured
            .iter()
            .find(|(t, s)| t == tenant && s.name.as_deref() == Some(name))
            .map(|(_, s)| s)
    }

    /// One subscription with its progress.
    pub async fn find(&self, tenant: &str, name: &str) -> Result<Listed, SubscriptionError> {
        self.tenant_exists(tenant).await?;
        let key = SubscriptionKey { tenant, name };
        let (spec, source) = match self.configured(tenant, name) {
            Some(spec) => (spec.clone(), Source::Config),
            None => {
                let stored = subscriptions::get(self.pool, key).await?.ok_or_else(|| {
                    SubscriptionError::Unknown {
                        tenant: tenant.to_string(),
                        name: name.to_string(),
                    }
                })?;
                let spec = serde_json::from_value::<SubscriptionSpec>(stored.spec)
                    .map_err(SubscriptionError::Stored)?;
                (spec.with_secrets(stored.secrets), Source::Api)
            }
        };
        Ok(Listed {
            progress: progress::find(self.pool, key).await?,
            tenant: tenant.to_string(),
            name: name.to_string(),
            spec,
            source,
        })
    }

    /// Makes or replaces a subscription from a JSON body (checked in full;
    /// a `name` in it must be the path's); `true` if it is new.
    pub async fn put(
        &self,
        tenant: &str,
        name: &str,
        body: &[u8],
        registry: &Registry,
        key_available: bool,
    ) -> Result<bool, SubscriptionError> {
        self.tenant_exists(tenant).await?;
        if self.configured(tenant, name).is_some() {
            return Err(SubscriptionError::Configured(name.to_string()));
        }
        let mut spec = SubscriptionSpec::from_json(body)?;
        if let Some(other) = spec.name.as_deref().filter(|n| *n != name) {
            return Err(SpecError::new(
                "name",
                format!("\"{other}\" differs from the name in the path, \"{name}\""),
            )
            .into());
        }
        spec.check(name, registry, key_available)?;
        spec.name = Some(name.to_string());
        let secrets = spec.secrets();
        let stored =
            serde_json::to_value(spec.without_secrets()).map_err(SubscriptionError::Stored)?;
        let mut tx = self.pool.begin().await?;
        let created =
            subscriptions::put(&mut tx, SubscriptionKey { tenant, name }, &stored, &secrets)
                .await?;
        tx.commit().await?;
        Ok(created)
    }

    /// Deletes a subscription made through the API, with its progress,
    /// parked events and queue.
    pub async fn delete(&self, tenant: &str, name: &str) -> Result<(), SubscriptionError> {
        let found = self.find(tenant, name).await?;
        if found.source == Source::Config {
            return Err(SubscriptionError::Configured(name.to_string()));
        }
        let mut tx = self.pool.begin().await?;
        subscriptions::delete(&mut tx, SubscriptionKey { tenant, name }).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Asks the driver to deliver again the events from a change sequence
    /// (which must exist) or a time (not in the future).
    pub async fn replay(
        &self,
        tenant: &str,
        name: &str,
        from: ReplayFrom,
    ) -> Result<(), SubscriptionError> {
        self.find(tenant, name).await?;
        match from {
            ReplayFrom::Sequence(n) => {
                let last = scimbus_db::changes::last_seq(self.pool, tenant).await?;
                if n < 1 || n > last {
                    return Err(SpecError::new(
                        "from_sequence",
                        format!("tenant {tenant} has no change {n} (its changes are 1 to {last})"),
                    )
                    .into());
                }
            }
            ReplayFrom::Since(t) => {
                if t > Utc::now() {
                    return Err(SpecError::new("since", "is in the future").into());
                }
            }
        }
        progress::request_replay(self.pool, SubscriptionKey { tenant, name }, from).await?;
        Ok(())
    }
}

/// A subscription with where it is declared and its progress.
#[derive(Debug, Clone)]
pub struct Listed {
    pub tenant: String,
    pub name: String,
    pub spec: SubscriptionSpec,
    pub source: Source,
    pub progress: Option<Progress>,
}

impl Listed {
    /// [`view`] of it.
    pub fn view(&self) -> Value {
        view(
            &self.tenant,
            &self.name,
            &self.spec,
            self.source,
            self.progress.as_ref(),
        )
    }
}
