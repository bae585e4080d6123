//! An event as its subscription gets it: CloudEvents JSON, or a SCIM event
//! token signed with the subscription's secret or the service's key.

use scimbus_events::v1::Change;
use scimbus_notify::{
    CLOUDEVENTS_JSON, EventKind, Format, SECEVENT_JWT, Signer, Signing, Subscription,
    WebhookSecret, cloud_event, set_claims, sign_jwt,
};

/// Whose event it is: the tenant, the subscription, its secrets (newest
/// first).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Whose<'a> {
    pub(crate) tenant: &'a str,
    pub(crate) sub: &'a Subscription,
    pub(crate) secrets: &'a [WebhookSecret],
}

use super::shared::NotifyShared;

/// One event, ready to deliver.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    /// The change id: the same for every delivery of this event.
    pub(crate) id: String,
    pub(crate) kind: EventKind,
    /// Shared (cheap to clone) by every subscription that renders it alike.
    pub(crate) body: bytes::Bytes,
    pub(crate) content_type: &'static str,
}

/// The CloudEvents JSON of recent changes, rendered once for every
/// subscription that takes them in that format (they read the same
/// changes within moments of each other): by change id and `left`, the
/// oldest forgotten first.
#[derive(Debug, Default)]
pub struct RenderCache {
    inner: std::sync::Mutex<CacheInner>,
}

#[derive(Debug, Default)]
struct CacheInner {
    bodies: std::collections::HashMap<(String, EventKind, bool), bytes::Bytes>,
    order: std::collections::VecDeque<(String, EventKind, bool)>,
}

/// How many rendered events are kept.
const CACHED: usize = 4096;

impl RenderCache {
    fn get_or(
        &self,
        key: (String, EventKind, bool),
        make: impl FnOnce() -> Result<bytes::Bytes, String>,
    ) -> Result<bytes::Bytes, String> {
        if let Ok(c) = self.inner.lock()
            && let Some(b) = c.bodies.get(&key)
        {
            return Ok(b.clone());
        }
        let body = make()?;
        if let Ok(mut c) = self.inner.lock()
            && !c.bodies.contains_key(&key)
        {
            c.bodies.insert(key.clone(), body.clone());
            c.order.push_back(key);
            while c.order.len() > CACHED {
                if let Some(old) = c.order.pop_front() {
                    c.bodies.remove(&old);
                }
            }
        }
        Ok(body)
    }
}

/// Renders `change` as event `kind` (`left`: the resource stopped matching
/// the subscription's filter) in the subscription's format.
pub(crate) fn render(
    shared: &NotifyShared,
    active: Whose<'_>,
    change: &Change,
    kind: EventKind,
    left: bool,
) -> Result<Rendered, String> {
    let (body, content_type) = match active.sub.format {
        Format::Cloudevents => (
            shared
                .rendered
                .get_or((change.id.clone(), kind, left), || {
                    serde_json::to_vec(&cloud_event(change, kind, left))
                        .map(bytes::Bytes::from)
                        .map_err(|e| e.to_string())
                })?,
            CLOUDEVENTS_JSON,
        ),
        Format::ScimSet => {
            let issuer = format!("{}/scim/v2/{}", shared.public_url, active.tenant);
            let claims = set_claims(
                change,
                kind,
                left,
                &issuer,
                &active.sub.audience,
                chrono::Utc::now().timestamp(),
            );
            let signer = match (active.sub.signing, active.secrets.first(), &shared.key) {
                (Signing::Secret, Some(s), _) => Signer::Hs256(s.bytes()),
                (Signing::Key, _, Some(k)) => Signer::Key(k),
                (Signing::Secret, None, _) => return Err("signing: no secret to sign with".into()),
                (Signing::Key, _, None) => {
                    return Err(
                        "signing: no signing key is configured (SCIMBUS_EVENTS_SIGNING_KEY)".into(),
                    );
                }
            };
            let token = sign_jwt(&claims, &signer).map_err(|e| e.to_string())?;
            (bytes::Bytes::from(token.into_bytes()), SECEVENT_JWT)
        }
    };
    Ok(Rendered {
        id: change.id.clone(),
        kind,
        body,
        content_type,
    })
}
