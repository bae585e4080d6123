//! Attribute paths: `[URI ":"] ATTRNAME ["." subAttr]` (RFC 7644 §3.10).

use std::fmt;

use crate::error::{Result, ScimError};

/// An attribute path as written by a client, before it is resolved against a
/// schema. Names keep the client's spelling; matching is case-insensitive.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AttrPath {
    /// The schema URN prefix, if the client wrote one
    /// (`urn:ietf:params:scim:schemas:core:2.0:User`).
    pub uri: Option<String>,
    /// The attribute name (`name`, `emails`, `$ref`).
    pub attr: String,
    /// The sub-attribute name (`familyName` in `name.familyName`).
    pub sub_attr: Option<String>,
}

impl AttrPath {
    /// A path without URN prefix.
    pub fn new(attr: impl Into<String>, sub_attr: Option<&str>) -> Self {
        AttrPath {
            uri: None,
            attr: attr.into(),
            sub_attr: sub_attr.map(str::to_string),
        }
    }

    /// Parses a complete path string. URN-prefixed paths split at the last
    /// `:`, so `urn:…:2.0:User:name.familyName` has uri `urn:…:2.0:User`,
    /// attr `name`, sub-attribute `familyName`.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        if s.is_empty() {
            return Err(ScimError::invalid_path("empty attribute path"));
        }
        let (uri, rest) = if is_urn(s) {
            match s.rfind(':') {
                Some(i) if i + 1 < s.len() => (Some(&s[..i]), &s[i + 1..]),
                _ => {
                    return Err(ScimError::invalid_path(format!(
                        "\"{s}\" names a schema but no attribute"
                    )));
                }
            }
        } else {
            (None, s)
        };
        let (attr, sub) = match rest.split_once('.') {
            Some((a, b)) => (a, Some(b)),
            None => (rest, None),
        };
        if !is_attr_name(attr) {
            return Err(ScimError::invalid_path(format!(
                "\"{attr}\" is not a valid attribute name in \"{s}\""
            )));
        }
        if let Some(sub) = sub
            && !is_attr_name(sub)
        {
            return Err(ScimError::invalid_path(format!(
                "\"{sub}\" is not a valid sub-attribute name in \"{s}\""
            )));
        }
        Ok(AttrPath {
            uri: uri.map(str::to_string),
            attr: attr.to_string(),
            sub_attr: sub.map(str::to_string),
        })
    }

    /// The same path with the sub-attribute dropped.
    pub fn parent(&self) -> AttrPath {
        AttrPath {
            uri: self.uri.clone(),
            attr: self.attr.clone(),
            sub_attr: None,
        }
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.attr)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// Whether a string starts like a URN (`urn:`, any case).
pub fn is_urn(s: &str) -> bool {
    s.len() > 4 && s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("urn:"))
}

/// `ATTRNAME = ALPHA *(nameChar)`, `nameChar = "-" / "_" / DIGIT / ALPHA`,
/// plus `$ref`, which RFC 7643 uses as an attribute name itself.
pub fn is_attr_name(s: &str) -> bool {
    if s.eq_ignore_ascii_case("$ref") {
        return true;
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c.is_ascii_alphabetic() => {}
        _ => return false,
    }
    chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_sub_and_urn_paths() {
        let p = AttrPath::parse("name.familyName").unwrap();
        assert_eq!(p, AttrPath::new("name", Some("familyName")));
        let p =
            AttrPath::parse("urn:ietf:params:scim:schemas:core:2.0:User:name.familyName").unwrap();
        assert_eq!(
            p.uri.as_deref(),
            Some("urn:ietf:params:scim:schemas:core:2.0:User")
        );
        assert_eq!(p.attr, "name");
        assert_eq!(p.sub_attr.as_deref(), Some("familyName"));
        let p = AttrPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(
            p.uri.as_deref(),
            Some("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User")
        );
        assert_eq!(
            p.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        );
        assert_eq!(
            AttrPath::parse("members.$ref").unwrap().sub_attr.as_deref(),
            Some("$ref")
        );
    }

    #[test]
    fn urn_check_is_safe_on_multibyte_text() {
        // Found by fuzzing: slicing at byte 4 inside a multi-byte character.
        assert!(!is_urn("urnƕetra"));
        assert!(is_urn("URN:x"));
        let e = AttrPath::parse("urnƕetra.s:rams:anager").unwrap_err();
        assert_eq!(e.scim_type, Some(crate::ScimType::InvalidPath));
        assert!(
            e.detail
                .starts_with("\"urnƕetra\" is not a valid attribute name"),
            "{}",
            e.detail
        );
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "",
            "1abc",
            "na me",
            "name.",
            ".x",
            "a.b.c",
            "urn:",
            "emails[type]",
        ] {
            let e = AttrPath::parse(bad).unwrap_err();
            assert_eq!(e.scim_type, Some(crate::ScimType::InvalidPath), "{bad}");
        }
    }
}
