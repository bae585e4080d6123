//! Checking a [`SubscriptionSpec`] and filling its defaults in: the form
//! alone (`check_form`, for the TOML file, before the schemas are known)
//! and in full against the tenant's SCIM schemas (`check`).

use std::collections::HashSet;
use std::time::Duration;

use scimbus_scim::Registry;
use scimbus_scim::filter::{Filter, Matcher};
use scimbus_scim::path::AttrPath;

use crate::kind::EventKind;
use crate::select::Selector;
use crate::spec::{
    DeliverySpec, Format, Secrets, Signing, SpecError, SubscriptionSpec, canonical_type, defaults,
};
use crate::webhook::WebhookSecret;

/// A checked subscription with every default filled in.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub name: String,
    pub delivery: Delivery,
    pub format: Format,
    pub selector: Selector,
    pub signing: Signing,
    pub audience: String,
    pub timeout: Duration,
    pub max_attempts: u32,
    pub concurrency: usize,
}

/// Where a checked subscription's events go. Secrets are as written
/// (`whsec_…` or an `env:` / `file:` reference the outbound resolves),
/// newest first; `Debug` counts them and never shows them.
#[derive(Clone, PartialEq, Eq)]
pub enum Delivery {
    Webhook { url: String, secrets: Vec<String> },
    Nats,
    Poll { secrets: Vec<String> },
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Delivery::Webhook { url, secrets } => f
                .debug_struct("Webhook")
                .field("url", url)
                .field("secrets", &format_args!("{} hidden", secrets.len()))
                .finish(),
            Delivery::Nats => f.write_str("Nats"),
            Delivery::Poll { secrets } => f
                .debug_struct("Poll")
                .field("secrets", &format_args!("{} hidden", secrets.len()))
                .finish(),
        }
    }
}

/// The form-checked settings `check` builds a [`Subscription`] from.
struct Form {
    resource_types: Vec<String>,
    events: Vec<EventKind>,
    format: Format,
    signing: Signing,
}

impl SubscriptionSpec {
    /// Everything that can be checked without the SCIM schemas (for the
    /// TOML file, where `name` is required).
    pub fn check_form(&self) -> Result<(), SpecError> {
        let name = self
            .name
            .as_deref()
            .ok_or_else(|| SpecError::new("name", "is required"))?;
        check_name(name)?;
        self.form(None).map(drop)
    }

    /// The full check (form, then filter and attributes against the
    /// registry). `name` is the subscription's name (the API's path);
    /// `key_available` says whether an RS256/ES256 signing key is
    /// configured.
    pub fn check(
        &self,
        name: &str,
        registry: &Registry,
        key_available: bool,
    ) -> Result<Subscription, SpecError> {
        check_name(name)?;
        if let Some(own) = &self.name
            && own != name
        {
            return Err(SpecError::new(
                "name",
                format!("\"{own}\" differs from the subscription's name \"{name}\""),
            ));
        }
        let form = self.form(Some(key_available))?;
        let filter = match &self.filter {
            None => None,
            Some(text) => Some(check_filter(registry, &form.resource_types, text)?),
        };
        let attributes = match &self.attributes {
            None => None,
            Some(list) => Some(check_attributes(registry, &form.resource_types, list)?),
        };
        let secrets = self.secrets();
        let delivery = match &self.delivery {
            DeliverySpec::Webhook { url, .. } => Delivery::Webhook {
                url: url.clone(),
                secrets,
            },
            DeliverySpec::Nats {} => Delivery::Nats,
            DeliverySpec::Poll { .. } => Delivery::Poll { secrets },
        };
        Ok(Subscription {
            name: name.to_string(),
            delivery,
            format: form.format,
            selector: Selector::new(
                form.resource_types,
                form.events,
                filter.map(|f| (f, registry.clone())),
                attributes,
            ),
            signing: form.signing,
            audience: self
                .effective_audience(Some(name))
                .unwrap_or_else(|| format!("scimbus:{name}")),
            timeout: Duration::from_secs(self.timeout_secs.unwrap_or(defaults::TIMEOUT_SECS)),
            max_attempts: self.max_attempts.unwrap_or(defaults::MAX_ATTEMPTS),
            concurrency: self.concurrency.unwrap_or(defaults::CONCURRENCY) as usize,
        })
    }

    /// The form rules. `key_available` is `None` when it is not known yet
    /// (the TOML file is read before the key): `signing = "key"` is then
    /// taken on trust, and `check` asks again.
    fn form(&self, key_available: Option<bool>) -> Result<Form, SpecError> {
        let secrets = self.secrets();
        let secret_field = |i: usize| match &self.delivery {
            DeliverySpec::Webhook {
                secret: Some(Secrets::Many(_)),
                ..
            }
            | DeliverySpec::Poll {
                secret: Some(Secrets::Many(_)),
            } => format!("delivery.secret[{i}]"),
            _ => "delivery.secret".to_string(),
        };
        for (i, s) in secrets.iter().enumerate() {
            check_secret(s).map_err(|detail| SpecError::new(secret_field(i), detail))?;
        }
        if let DeliverySpec::Webhook { url, .. } = &self.delivery {
            check_url(url)?;
            if secrets.is_empty() {
                return Err(SpecError::new(
                    "delivery.secret",
                    "a webhook needs at least one secret (webhooks are always signed): \
                     \"whsec_\" and 24 to 64 random bytes in base64",
                ));
            }
        }
        let format = self.effective_format();
        match (&self.delivery, format) {
            (DeliverySpec::Nats {}, Format::ScimSet) => {
                return Err(SpecError::new(
                    "format",
                    "nats delivery carries CloudEvents only (\"cloudevents\")",
                ));
            }
            (DeliverySpec::Poll { .. }, Format::Cloudevents) => {
                return Err(SpecError::new(
                    "format",
                    "poll delivery (RFC 8936) serves Security Event Tokens only (\"scim-set\")",
                ));
            }
            _ => {}
        }
        let signing = self.effective_signing();
        match (self.signing, signing) {
            (Some(Signing::Secret), _) if secrets.is_empty() => {
                return Err(SpecError::new(
                    "signing",
                    "\"secret\" signs with the subscription's first secret, and it has none",
                ));
            }
            // The default (`key` for a secretless subscription) is only a
            // problem where something is signed with it: SETs.
            (Some(Signing::Key), _) | (None, Signing::Key)
                if key_available == Some(false)
                    && (self.signing.is_some() || format == Format::ScimSet) =>
            {
                return Err(SpecError::new(
                    "signing",
                    "\"key\" needs the notifier's RS256/ES256 signing key, and none is configured \
                     (or give the subscription a secret and sign with it)",
                ));
            }
            _ => {}
        }
        if let Some(a) = &self.audience
            && a.trim().is_empty()
        {
            return Err(SpecError::new("audience", "must not be empty"));
        }
        in_range("timeout_secs", self.timeout_secs, 1, 60)?;
        in_range("max_attempts", self.max_attempts.map(u64::from), 1, 30)?;
        in_range("concurrency", self.concurrency.map(u64::from), 1, 64)?;
        let resource_types = match &self.resource_types {
            None => defaults::RESOURCE_TYPES.map(String::from).to_vec(),
            Some(list) => check_types(list)?,
        };
        let events = match &self.events {
            None => EventKind::ALL.to_vec(),
            Some(list) => check_events(list)?,
        };
        if let Some(list) = &self.attributes
            && list.is_empty()
        {
            return Err(SpecError::new(
                "attributes",
                "must list at least one attribute (leave it out to hear of every change)",
            ));
        }
        Ok(Form {
            resource_types,
            events,
            format,
            signing,
        })
    }
}

fn check_name(name: &str) -> Result<(), SpecError> {
    let ok = (1..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_'))
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    if ok {
        Ok(())
    } else {
        Err(SpecError::new(
            "name",
            format!(
                "\"{name}\" is not a subscription name: 1 to 63 of a-z, 0-9, - and _, \
                 starting with a letter or digit"
            ),
        ))
    }
}

fn check_url(url: &str) -> Result<(), SpecError> {
    let bad = |why: &str| SpecError::new("delivery.url", format!("\"{url}\" {why}"));
    let parsed = url::Url::parse(url).map_err(|e| bad(&format!("is not an absolute URL ({e})")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("is not an http or https URL"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    Ok(())
}

/// A secret as written: `whsec_…`, or a reference the outbound resolves.
fn check_secret(s: &str) -> Result<(), String> {
    if let Some(var) = s.strip_prefix("env:") {
        let ok = var
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && var.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        return if ok {
            Ok(())
        } else {
            Err(format!(
                "\"env:{var}\" does not name an environment variable"
            ))
        };
    }
    if let Some(path) = s.strip_prefix("file:") {
        return if path.starts_with('/') && path.len() > 1 {
            Ok(())
        } else {
            Err("a file reference is \"file:\" and an absolute path".to_string())
        };
    }
    WebhookSecret::parse(s).map(drop).map_err(|e| e.to_string())
}

fn in_range(field: &str, value: Option<u64>, min: u64, max: u64) -> Result<(), SpecError> {
    match value {
        Some(v) if !(min..=max).contains(&v) => Err(SpecError::new(
            field,
            format!("{v} is out of range: {min} to {max}"),
        )),
        _ => Ok(()),
    }
}

fn check_types(list: &[String]) -> Result<Vec<String>, SpecError> {
    if list.is_empty() {
        return Err(SpecError::new(
            "resource_types",
            "must list \"User\", \"Group\" or both (leave it out for both)",
        ));
    }
    let mut out: Vec<String> = Vec::new();
    for (i, t) in list.iter().enumerate() {
        let field = format!("resource_types[{i}]");
        let c = canonical_type(t);
        if !defaults::RESOURCE_TYPES.contains(&c.as_str()) {
            return Err(SpecError::new(
                field,
                format!("\"{t}\" is not a resource type: \"User\" or \"Group\""),
            ));
        }
        if out.contains(&c) {
            return Err(SpecError::new(field, format!("\"{c}\" is listed twice")));
        }
        out.push(c);
    }
    Ok(out)
}

fn check_events(list: &[EventKind]) -> Result<Vec<EventKind>, SpecError> {
    if list.is_empty() {
        return Err(SpecError::new(
            "events",
            "must list at least one event (leave it out for all six)",
        ));
    }
    let mut seen = HashSet::new();
    for (i, k) in list.iter().enumerate() {
        if !seen.insert(*k) {
            return Err(SpecError::new(
                format!("events[{i}]"),
                format!("\"{}\" is listed twice", k.as_str()),
            ));
        }
    }
    Ok(list.to_vec())
}

/// The filter must parse and be meaningful for at least one selected type
/// (it never matches resources of a type it does not fit).
fn check_filter(registry: &Registry, types: &[String], text: &str) -> Result<Filter, SpecError> {
    let f = scimbus_scim::filter::parse(text).map_err(|e| SpecError::new("filter", e.detail))?;
    let mut why = Vec::new();
    for t in types {
        match registry.resource_type(t) {
            Some(rt) => match Matcher::new(registry, rt, &f) {
                Ok(_) => return Ok(f),
                Err(e) => why.push(format!("{t}: {}", e.detail)),
            },
            None => why.push(format!("{t}: not a resource type of this tenant")),
        }
    }
    Err(SpecError::new(
        "filter",
        format!(
            "fits none of the selected resource types ({})",
            why.join("; ")
        ),
    ))
}

/// Each attribute must name something of at least one selected type. The
/// result is every canonical spelling (lower-cased) the selector compares
/// changed paths with: an unqualified extension attribute written
/// `department` becomes `urn:…:enterprise:2.0:user:department`, the form
/// changes carry.
fn check_attributes(
    registry: &Registry,
    types: &[String],
    list: &[String],
) -> Result<Vec<String>, SpecError> {
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let mut known = false;
        for rt in types.iter().filter_map(|t| registry.resource_type(t)) {
            let canonical = if let Some(ext) = rt.extension(a.trim()) {
                Some(ext.schema.clone())
            } else {
                AttrPath::parse(a)
                    .ok()
                    .and_then(|p| registry.resolve(rt, &p).ok())
                    .map(|r| r.canonical())
            };
            if let Some(c) = canonical {
                known = true;
                let c = c.to_ascii_lowercase();
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
        if !known {
            return Err(SpecError::new(
                format!("attributes[{i}]"),
                format!("\"{a}\" is not an attribute of {}", types.join(" or ")),
            ));
        }
    }
    Ok(out)
}
