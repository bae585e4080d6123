//! Resource versions as weak ETags, and the `If-Match` / `If-None-Match`
//! preconditions that guard them (RFC 7644 §3.14, RFC 7232).
//!
//! A resource's version is a counter the store bumps on every write. It is
//! served as a *weak* entity tag (`W/"7"`), in the `ETag` header and in
//! `meta.version`, because two representations of the same version may differ
//! byte for byte (attribute projection, key order) while being semantically
//! the same resource.

use std::fmt;

use crate::error::{Result, ScimError};

/// The version of a stored resource: a counter incremented on every write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Version(pub u64);

impl Version {
    /// The version a newly created resource gets.
    pub const INITIAL: Version = Version(1);

    /// The version after one more write. Saturates rather than wrapping, so a
    /// version never goes back to one a client may still hold.
    pub fn next(self) -> Version {
        Version(self.0.saturating_add(1))
    }

    /// The weak entity tag, `W/"<n>"`, for the `ETag` header and
    /// `meta.version`.
    pub fn to_etag(self) -> String {
        format!("W/\"{}\"", self.0)
    }

    /// Reads an entity tag this server issued, weak (`W/"7"`) or strong
    /// (`"7"`): clients and proxies sometimes strip the `W/`. Anything else,
    /// including tags from other servers and numbers with leading zeros
    /// (whose opaque-tag would not compare equal to ours), is `None`.
    pub fn from_etag(tag: &str) -> Option<Version> {
        let tag = tag.trim();
        let opaque = tag.strip_prefix("W/").unwrap_or(tag);
        version_of_opaque(opaque)
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A parsed `If-Match` or `If-None-Match` header value.
///
/// `matches` answers "does the header name the current representation?";
/// `If-Match` proceeds when it does, `If-None-Match` when it does not. A
/// malformed value therefore fails an `If-Match` (the write is refused rather
/// than applied blindly) and leaves an `If-None-Match` without effect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// `*`: any current representation.
    Any,
    /// A list of entity tags. Well-formed tags this server did not issue are
    /// dropped: they can never match.
    Tags(Vec<Version>),
    /// Not `*` and not a valid list of entity tags.
    Malformed,
}

impl Precondition {
    /// Parses a header value: `If-Match = "*" / 1#entity-tag` (RFC 7232 §3.1;
    /// `If-None-Match` has the same grammar).
    pub fn parse(header: &str) -> Precondition {
        let header = header.trim();
        if header == "*" {
            return Precondition::Any;
        }
        match parse_tag_list(header) {
            Some(tags) => Precondition::Tags(tags),
            None => Precondition::Malformed,
        }
    }

    /// Whether the header names the current representation; `None` when the
    /// resource does not exist.
    ///
    /// Tags compare with the *weak* comparison function (RFC 7232 §2.3.2).
    /// RFC 7232 §3.1 asks for strong comparison in `If-Match`, but SCIM
    /// (RFC 7644 §3.14) issues weak ETags and shows them in `If-Match`, so
    /// strong comparison would refuse every SCIM client.
    pub fn matches(&self, current: Option<Version>) -> bool {
        match (self, current) {
            (_, None) | (Precondition::Malformed, _) => false,
            (Precondition::Any, Some(_)) => true,
            (Precondition::Tags(tags), Some(v)) => tags.contains(&v),
        }
    }

    pub fn is_malformed(&self) -> bool {
        matches!(self, Precondition::Malformed)
    }
}

/// Enforces an optional `If-Match` header before a write: 412 when it is
/// present and does not name the current version.
pub fn check_if_match(header: Option<&str>, current: Option<Version>) -> Result<()> {
    let Some(header) = header else {
        return Ok(());
    };
    if Precondition::parse(header).matches(current) {
        return Ok(());
    }
    let detail = match current {
        Some(v) => format!(
            "If-Match {header} does not match the current version {}",
            v.to_etag()
        ),
        None => format!("If-Match {header} given for a resource that does not exist"),
    };
    Err(ScimError::precondition_failed(detail))
}

/// Parses `1#entity-tag` where `entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE`.
/// Commas may appear inside an opaque-tag, so the list is scanned rather than
/// split; empty list elements are allowed (RFC 7230 §7).
fn parse_tag_list(s: &str) -> Option<Vec<Version>> {
    let mut rest = s;
    let mut tags = Vec::new();
    let mut seen = 0usize;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let body = rest.strip_prefix("W/").unwrap_or(rest);
        let inner = body.strip_prefix('"')?;
        let close = inner.find('"')?;
        let opaque = &body[..close + 2];
        if !inner[..close].bytes().all(is_etagc) {
            return None;
        }
        seen += 1;
        tags.extend(version_of_opaque(opaque));
        rest = &inner[close + 1..];
        // After a tag: only whitespace, then a comma or the end.
        let after = rest.trim_start_matches([' ', '\t']);
        if !(after.is_empty() || after.starts_with(',')) {
            return None;
        }
        rest = after;
    }
    (seen > 0).then_some(tags)
}

/// `etagc = %x21 / %x23-7E / obs-text`.
fn is_etagc(b: u8) -> bool {
    b == 0x21 || (0x23..=0x7e).contains(&b) || b >= 0x80
}

/// The version in an opaque-tag (`"7"`), if it is one this server issues.
fn version_of_opaque(opaque: &str) -> Option<Version> {
    let digits = opaque.strip_prefix('"')?.strip_suffix('"')?;
    let canonical = !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && (digits == "0" || !digits.starts_with('0'));
    if !canonical {
        return None;
    }
    digits.parse().ok().map(Version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_round_trips_in_weak_and_strong_form() {
        let v = Version(42);
        assert_eq!(v.to_etag(), "W/\"42\"");
        assert_eq!(Version::from_etag(&v.to_etag()), Some(v));
        assert_eq!(Version::from_etag("\"42\""), Some(v));
        assert_eq!(Version::from_etag("  W/\"0\" "), Some(Version(0)));
        assert_eq!(Version::INITIAL.next(), Version(2));
        assert_eq!(Version(u64::MAX).next(), Version(u64::MAX));
    }

    #[test]
    fn foreign_or_malformed_etags_are_not_versions() {
        for bad in [
            "42",
            "W/42",
            "w/\"42\"",
            "\"\"",
            "\"abc\"",
            "\"-1\"",
            "\"007\"",
            "\"4 2\"",
            "W/\"42",
            "\"18446744073709551616\"",
            "",
        ] {
            assert_eq!(Version::from_etag(bad), None, "{bad}");
        }
    }

    #[test]
    fn parses_star_lists_and_foreign_tags() {
        assert_eq!(Precondition::parse(" * "), Precondition::Any);
        assert_eq!(
            Precondition::parse("W/\"3\""),
            Precondition::Tags(vec![Version(3)])
        );
        assert_eq!(
            Precondition::parse("W/\"3\", \"4\",W/\"x,y\" ,, W/\"5\""),
            Precondition::Tags(vec![Version(3), Version(4), Version(5)])
        );
        // Well-formed but not ours: parses, never matches.
        let foreign = Precondition::parse("\"e180ee84f0671b1\"");
        assert_eq!(foreign, Precondition::Tags(vec![]));
        assert!(!foreign.matches(Some(Version(1))));
    }

    #[test]
    fn malformed_headers_never_match() {
        for bad in [
            "",
            ",",
            "3",
            "W/3",
            "*, W/\"3\"",
            "W/\"3\" W/\"4\"",
            "\"3",
            "W/\"3\"x",
            "\"a\"b\"",
            "**",
        ] {
            let p = Precondition::parse(bad);
            assert!(p.is_malformed(), "{bad:?}");
            assert!(!p.matches(Some(Version(3))), "{bad:?}");
        }
        let e = check_if_match(Some("3"), Some(Version(3))).unwrap_err();
        assert_eq!(e.status, 412, "a malformed If-Match never matches");
        assert!(
            e.detail.starts_with("If-Match 3 does not match"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn if_match_semantics_follow_rfc7232() {
        let v = Some(Version(7));
        assert!(Precondition::parse("*").matches(v));
        // `If-Match: *` fails on a missing resource (RFC 7232 §3.1).
        assert!(!Precondition::parse("*").matches(None));
        assert!(Precondition::parse("W/\"7\"").matches(v));
        // Weak comparison: a strong tag matches the weak one we issued.
        assert!(Precondition::parse("\"7\"").matches(v));
        assert!(Precondition::parse("W/\"6\", W/\"7\"").matches(v));
        assert!(!Precondition::parse("W/\"6\"").matches(v));
        assert!(!Precondition::parse("W/\"7\"").matches(None));
    }

    #[test]
    fn if_none_match_is_the_negation() {
        // `If-None-Match: *` on create: proceed only if nothing exists.
        let star = Precondition::parse("*");
        assert!(!star.matches(None));
        assert!(star.matches(Some(Version(1))));
        // A conditional GET with the current tag: not modified.
        assert!(Precondition::parse("W/\"2\"").matches(Some(Version(2))));
        // A malformed If-None-Match never matches, so it has no effect.
        assert!(!Precondition::parse("garbage").matches(Some(Version(2))));
    }

    #[test]
    fn check_if_match_answers_412() {
        assert_eq!(check_if_match(None, Some(Version(1))), Ok(()));
        assert_eq!(check_if_match(None, None), Ok(()));
        assert_eq!(check_if_match(Some("W/\"1\""), Some(Version(1))), Ok(()));
        let e = check_if_match(Some("W/\"1\""), Some(Version(2))).unwrap_err();
        assert_eq!(e.status, 412);
        assert!(e.detail.contains("W/\"2\""), "{}", e.detail);
        assert_eq!(check_if_match(Some("*"), None).unwrap_err().status, 412);
    }
}
