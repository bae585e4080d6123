//! The one line printed per event.

use serde_json::Value;

/// A message that is not a CloudEvent.
#[derive(Debug, thiserror::Error)]
pub enum LineError {
    #[error("not a JSON object: {0}")]
    NotJson(String),
    #[error("the CloudEvent has no `type`")]
    NoType,
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_cloudevent_is_time_type_subject_and_sequence() {
        let body = br#"{"specversion":"1.0","id":"0190","type":"dev.scimbus.group.membership",
            "subject":"g-1","time":"2026-01-02T03:04:05Z","sequence":"00000000000000000003"}"#;
        assert_eq!(
            cloudevent_line(body).unwrap(),
            "2026-01-02T03:04:05Z dev.scimbus.group.membership g-1 seq=00000000000000000003"
        );
        assert!(matches!(cloudevent_line(b"{}"), Err(LineError::NoType)));
        assert!(matches!(cloudevent_line(b"x"), Err(LineError::NotJson(_))));
    }
}
