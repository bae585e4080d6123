//! The one line printed per event: what an application would hand to its
//! own logic, shown instead.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// A body that is not the event its content type says.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("the body is not a JSON object: {0}")]
    NotJson(String),
    #[error("the CloudEvent has no `type`")]
    NoType,
    #[error("the body is not a compact JWT (header.payload.signature)")]
    NotJwt,
    #[error("the SET's payload is not base64url JSON: {0}")]
    BadPayload(String),
}

/// `<time> <type> <subject> seq=<sequence>` of a CloudEvent in structured
/// JSON mode; an attribute the event lacks is printed as `-`.
pub fn cloudevent_line(body: &[u8]) -> Result<String, LineError> {
    let event: Value =
        serde_json::from_slice(body).map_err(|e| LineError::NotJson(e.to_string()))?;
    if !event.is_object() {
        return Err(LineError::NotJson("not an object".into()));
    }
    let attr = |name: &str| event.get(name).and_then(Value::as_str).unwrap_or("-");
    let kind = event
        .get("type")
        .and_then(Value::as_str)
        .ok_or(LineError::NoType)?;
    Ok(format!(
        "{} {kind} {} seq={}",
        attr("time"),
        attr("subject"),
        attr("sequence")
    ))
}

/// `SET jti=<jti> events=<uri>[,<uri>…]` of a Security Event Token
/// (RFC 8417, `application/secevent+jwt`). The token's own signature is
/// NOT verified here: this example only shows what a SET holds. The
/// request as a whole was verified (its Standard Webhooks signature covers
/// the token's bytes); an application that relies on the token's JWS
/// signature checks it against the issuer's key with a JOSE library.
pub fn set_line(body: &[u8]) -> Result<String, LineError> {
    let token = std::str::from_utf8(body)
        .map_err(|_| LineError::NotJwt)?
        .trim();
    let mut parts = token.split('.');
    let (Some(_header), Some(payload), Some(_signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(LineError::NotJwt);
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| LineError::BadPayload(e.to_string()))?;
    let claims: Value =
        serde_json::from_slice(&bytes).map_err(|e| LineError::BadPayload(e.to_string()))?;
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("-");
    let events: Vec<&str> = claims
        .get("events")
        .and_then(Value::as_object)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    let events = if events.is_empty() {
        "-".to_string()
    } else {
        events.join(",")
    };
    Ok(format!("SET jti={jti} events={events}"))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cloudevent_is_time_type_subject_and_sequence() {
        let body = br#"{"specversion":"1.0","id":"0190","source":"/scim/v2/demo",
            "type":"dev.scimbus.user.created","subject":"u-1","time":"2026-01-02T03:04:05.678Z",
            "sequence":"00000000000000000042","data":{}}"#;
        assert_eq!(
            cloudevent_line(body).unwrap(),
            "2026-01-02T03:04:05.678Z dev.scimbus.user.created u-1 seq=00000000000000000042"
        );
    }

    #[test]
    fn absent_attributes_are_dashes_and_a_type_is_required() {
        assert_eq!(cloudevent_line(br#"{"type":"t"}"#).unwrap(), "- t - seq=-");
        assert!(matches!(
            cloudevent_line(br#"{"id":"x"}"#),
            Err(LineError::NoType)
        ));
        assert!(matches!(
            cloudevent_line(b"[1]"),
            Err(LineError::NotJson(_))
        ));
    }

    #[test]
    fn a_set_is_its_jti_and_event_uris() {
        let claims = serde_json::json!({"jti": "j-1", "iat": 1,
            "events": {"urn:ietf:params:scim:event:create": {"ref": "x"}}});
        let token = format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        assert_eq!(
            set_line(token.as_bytes()).unwrap(),
            "SET jti=j-1 events=urn:ietf:params:scim:event:create"
        );
        assert!(matches!(set_line(b"not-a-jwt"), Err(LineError::NotJwt)));
    }
}
