//! An event as its subscription gets it: CloudEvents JSON, or a SCIM event
//! token signed with the subscription's secret or the service's key.

use scimbus_events::v1::Change;
use scimbus_notify::{
    CLOUDEVENTS_JSON, EventKind, Format, SECEVENT_JWT, Signer, Signing, cloud_event, set_claims,
    sign_jwt,
};

use super::catalog::Active;
use super::supervisor::NotifyShared;

/// One event, ready to deliver.
#[derive(Debug, Clone)]
pub(crate) struct Rendered {
    /// The change id: the same for every delivery of this event.
    pub(crate) id: String,
    pub(crate) kind: EventKind,
    pub(crate) body: Vec<u8>,
    pub(crate) content_type: &'static str,
}

/// Renders `change` as event `kind` (`left`: the resource stopped matching
/// the subscription's filter) in the subscription's format.
pub(crate) fn render(
    shared: &NotifyShared,
    active: &Active,
    change: &Change,
    kind: EventKind,
    left: bool,
) -> Result<Rendered, String> {
    let (body, content_type) = match active.sub.format {
        Format::Cloudevents => (
            serde_json::to_vec(&cloud_event(change, kind, left)).map_err(|e| e.to_string())?,
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
            (token.into_bytes(), SECEVENT_JWT)
        }
    };
    Ok(Rendered {
        id: change.id.clone(),
        kind,
        body,
        content_type,
    })
}
