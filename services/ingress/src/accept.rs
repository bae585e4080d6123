//! Content negotiation (RFC 7644 §3.1 and §8.1, RFC 9110 §12.5.1): every
//! SCIM answer is JSON, sent as `application/scim+json`. A client whose
//! `Accept` allows neither that nor `application/json` would get what it
//! said it cannot read, so it gets a 406 SCIM error instead, before
//! anything is done. No `Accept`, an empty one, `*/*` and `application/*`
//! accept JSON; `q=0` excludes a type; the most specific range decides.

use axum::extract::Request;
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// The media types a SCIM answer can be sent as.
const JSON_TYPES: [(&str, &str); 2] = [("application", "scim+json"), ("application", "json")];

/// Answers 406 to a request whose `Accept` allows no JSON.
pub async fn require_json(req: Request, next: Next) -> Response {
    let accept: Vec<&str> = req
        .headers()
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    if accepts_json(&accept.join(",")) {
        return next.run(req).await;
    }
    ApiError::status(
        406,
        format!(
            "SCIM answers are application/scim+json (or application/json), which \"Accept: {}\" does not allow",
            accept.join(", ")
        ),
    )
    .into_response()
}

/// Whether an `Accept` value (the values of several headers joined by
/// commas) allows a JSON answer. Ranges that cannot be read are ignored, and
/// a header with none that can be read allows anything (RFC 9110 §12.5.1
/// lets a server disregard it).
pub fn accepts_json(accept: &str) -> bool {
    let ranges: Vec<Range<'_>> = accept.split(',').filter_map(Range::parse).collect();
    if ranges.is_empty() {
        return true;
    }
    JSON_TYPES.iter().any(|&(ty, sub)| {
        ranges
            .iter()
            .filter_map(|r| r.specificity(ty, sub).map(|s| (s, r.q)))
            .max_by_key(|&(s, _)| s)
            .is_some_and(|(_, q)| q > 0)
    })
}

/// One media range: `type/subtype` (either may be `*`) and its weight in
/// thousandths.
struct Range<'a> {
    ty: &'a str,
    sub: &'a str,
    q: u16,
}

impl<'a> Range<'a> {
    fn parse(s: &'a str) -> Option<Range<'a>> {
        let mut parts = s.split(';');
        let (ty, sub) = parts.next()?.trim().split_once('/')?;
        let (ty, sub) = (ty.trim(), sub.trim());
        if ty.is_empty() || sub.is_empty() || (ty == "*" && sub != "*") {
            return None;
        }
        let mut q = 1000;
        for p in parts {
            if let Some((k, v)) = p.split_once('=')
                && k.trim().eq_ignore_ascii_case("q")
            {
                q = qvalue(v.trim())?;
            }
        }
        Some(Range { ty, sub, q })
    }

    /// How specifically this range names `ty/sub`: 2 exactly, 1 as `ty/*`,
    /// 0 as `*/*`; `None` if it does not.
    fn specificity(&self, ty: &str, sub: &str) -> Option<u8> {
        if self.ty == "*" {
            return Some(0);
        }
        if !self.ty.eq_ignore_ascii_case(ty) {
            return None;
        }
        if self.sub == "*" {
            return Some(1);
        }
        self.sub.eq_ignore_ascii_case(sub).then_some(2)
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in
/// thousandths.
fn qvalue(v: &str) -> Option<u16> {
    let (whole, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths: u16 = format!("{frac:0<3}").parse().ok()?;
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_accepted_by_name_by_wildcard_or_by_default() {
        for accept in [
            "",
            " ",
            "*/*",
            "application/*",
            "application/json",
            "Application/SCIM+JSON; charset=utf-8",
            "text/html, application/json;q=0.5",
            "application/xml;q=0.9, */*;q=0.1",
            "application/json;q=0, */*",
            "application/scim+json;q=0, application/json",
            "application/json;q=0.001",
            "text/html;level=1;q=1.0, application/*;q=0.2",
            "garbage",
            "application/xml;q=5, text/html;q=x",
        ] {
            assert!(accepts_json(accept), "{accept:?}");
        }
    }

    #[test]
    fn no_json_no_answer() {
        for accept in [
            "application/xml",
            "text/html, application/xml;q=0.9",
            "text/*",
            "application/json;q=0, application/scim+json;q=0",
            "application/xml, application/json;q=0",
            "application/*;q=0, */*",
            "application/json;q=0.000, application/xml",
            "*/*;q=0",
        ] {
            assert!(!accepts_json(accept), "{accept:?}");
        }
    }

    #[test]
    fn qvalues_follow_the_grammar() {
        assert_eq!(qvalue("1"), Some(1000));
        assert_eq!(qvalue("1.000"), Some(1000));
        assert_eq!(qvalue("0.5"), Some(500));
        assert_eq!(qvalue("0.05"), Some(50));
        assert_eq!(qvalue("0"), Some(0));
        for bad in ["1.5", "2", "0.1234", "-0", "", "0.x", ".5"] {
            assert_eq!(qvalue(bad), None, "{bad}");
        }
    }
}
