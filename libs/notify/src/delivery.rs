//! How a subscription's events reach the app, as written: a webhook, NATS,
//! or polling, with the secrets that sign them.

use std::fmt;

use serde::de::{Error, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};

/// The `delivery` of a subscription: `{"type": "webhook", "url": …,
/// "secret": …}`, `{"type": "nats"}` or `{"type": "poll", "secret": …}`.
///
/// Read by hand rather than as a serde-tagged enum: a tagged enum is
/// buffered before it is read, which loses the place of an error inside it,
/// and an operator must be told `delivery.url`, not `delivery`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum DeliverySpec {
    /// POSTed to `url`, signed (Standard Webhooks, and JWS for SETs).
    Webhook {
        url: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        secret: Option<Secrets>,
    },
    /// Published on the tenant's NATS notification subject.
    Nats {},
    /// Held for the app to poll (RFC 8936).
    Poll {
        #[serde(skip_serializing_if = "Option::is_none")]
        secret: Option<Secrets>,
    },
}

/// One secret or several, newest first (several while one is rotated).
/// Each is `whsec_<base64>` or an `env:NAME` / `file:/path` reference.
/// `Debug` says how many, never what they are, so a spec can be logged.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Secrets {
    One(String),
    Many(Vec<String>),
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = match self {
            Secrets::One(_) => 1,
            Secrets::Many(v) => v.len(),
        };
        write!(f, "Secrets({n} hidden)")
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum DeliveryType {
    Webhook,
    Nats,
    Poll,
}

const WEBHOOK_KEYS: &[&str] = &["type", "url", "secret"];
const NATS_KEYS: &[&str] = &["type"];
const POLL_KEYS: &[&str] = &["type", "secret"];

impl<'de> Deserialize<'de> for DeliverySpec {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<DeliverySpec, D::Error> {
        d.deserialize_map(DeliveryVisitor)
    }
}

struct DeliveryVisitor;

impl<'de> Visitor<'de> for DeliveryVisitor {
    type Value = DeliverySpec;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(r#"a delivery: {"type": "webhook", "nats" or "poll", …}"#)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DeliverySpec, A::Error> {
        let mut kind = None;
        let mut url: Option<String> = None;
        let mut secret: Option<Option<Secrets>> = None;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "type" if kind.is_some() => return Err(A::Error::duplicate_field("type")),
                "type" => kind = Some(map.next_value::<DeliveryType>()?),
                "url" if url.is_some() => return Err(A::Error::duplicate_field("url")),
                "url" => url = Some(map.next_value()?),
                "secret" if secret.is_some() => return Err(A::Error::duplicate_field("secret")),
                "secret" => secret = Some(map.next_value()?),
                other => return Err(A::Error::unknown_field(other, WEBHOOK_KEYS)),
            }
        }
        match kind.ok_or_else(|| A::Error::missing_field("type"))? {
            DeliveryType::Webhook => Ok(DeliverySpec::Webhook {
                url: url.ok_or_else(|| A::Error::missing_field("url"))?,
                secret: secret.flatten(),
            }),
            DeliveryType::Nats => {
                if url.is_some() {
                    return Err(A::Error::unknown_field("url", NATS_KEYS));
                }
                if secret.is_some() {
                    return Err(A::Error::unknown_field("secret", NATS_KEYS));
                }
                Ok(DeliverySpec::Nats {})
            }
            DeliveryType::Poll => {
                if url.is_some() {
                    return Err(A::Error::unknown_field("url", POLL_KEYS));
                }
                Ok(DeliverySpec::Poll {
                    secret: secret.flatten(),
                })
            }
        }
    }
}
