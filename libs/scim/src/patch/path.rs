//! PATCH paths (RFC 7644 §3.5.2): `PATH = attrPath / valuePath [subAttr]`.

use std::fmt;

use crate::error::{Result, ScimError};
use crate::filter::{self, Filter};
use crate::path::{AttrPath, is_attr_name};

/// A parsed PATCH `path`: an attribute, optionally narrowed by a value filter
/// and then to one sub-attribute (`emails[type eq "work"].value`).
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    pub attr: AttrPath,
    pub filter: Option<Filter>,
    /// The sub-attribute after the filter's closing bracket.
    pub filter_sub: Option<String>,
}

impl PatchPath {
    pub fn parse(s: &str) -> Result<PatchPath> {
        let s = s.trim();
        let Some(open) = s.find('[') else {
            return Ok(PatchPath {
                attr: AttrPath::parse(s)?,
                filter: None,
                filter_sub: None,
            });
        };
        let close = closing_bracket(s, open).ok_or_else(|| {
            ScimError::invalid_path(format!("\"{s}\": the value filter has no closing \"]\""))
        })?;
        let attr = AttrPath::parse(&s[..open])?;
        if attr.sub_attr.is_some() {
            return Err(ScimError::invalid_path(format!(
                "\"{s}\": a value filter applies to an attribute, not to a sub-attribute"
            )));
        }
        let inner = filter::parse(&s[open + 1..close])
            .map_err(|e| ScimError::invalid_path(format!("\"{s}\": {}", e.detail)))?;
        let rest = &s[close + 1..];
        let filter_sub = match rest.strip_prefix('.') {
            None if rest.is_empty() => None,
            Some(sub) if is_attr_name(sub) => Some(sub.to_string()),
            _ => {
                return Err(ScimError::invalid_path(format!(
                    "\"{s}\": unexpected \"{rest}\" after the value filter"
                )));
            }
        };
        Ok(PatchPath {
            attr,
            filter: Some(inner),
            filter_sub,
        })
    }

    /// The sub-attribute the path ends at, whichever form it was written in.
    pub fn sub(&self) -> Option<&str> {
        self.filter_sub.as_deref().or(self.attr.sub_attr.as_deref())
    }
}

impl fmt::Display for PatchPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.filter {
            None => write!(f, "{}", self.attr),
            Some(filter) => {
                write!(f, "{}[{filter}]", self.attr)?;
                if let Some(sub) = &self.filter_sub {
                    write!(f, ".{sub}")?;
                }
                Ok(())
            }
        }
    }
}

/// The index of the `]` that closes the `[` at `open`, skipping brackets
/// inside string literals.
fn closing_bracket(s: &str, open: usize) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in s.char_indices().skip_while(|(i, _)| *i <= open) {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_string => escaped = true,
            '"' => in_string = !in_string,
            ']' if !in_string => return Some(i),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_path_form() {
        let p = PatchPath::parse("members").unwrap();
        assert_eq!(
            (p.attr.attr.as_str(), p.filter.is_none(), p.sub()),
            ("members", true, None)
        );
        let p = PatchPath::parse("name.familyName").unwrap();
        assert_eq!(p.sub(), Some("familyName"));
        let p = PatchPath::parse(r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#)
            .unwrap();
        assert!(p.filter.is_some() && p.sub().is_none());
        let p = PatchPath::parse(r#"emails[type eq "work" and value ew "]x"].display"#).unwrap();
        assert_eq!(p.sub(), Some("display"));
        let p = PatchPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(p.sub(), Some("value"));
        assert_eq!(
            p.to_string(),
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
        );
        let again = PatchPath::parse(
            &PatchPath::parse(r#"addresses[type eq "work"].streetAddress"#)
                .unwrap()
                .to_string(),
        )
        .unwrap();
        assert_eq!(again.sub(), Some("streetAddress"));
    }

    #[test]
    fn rejects_malformed_paths_as_invalid_path() {
        for bad in [
            "",
            r#"emails[type eq "work""#,
            r#"emails[type eq ]"#,
            r#"emails[type eq "work"]value"#,
            r#"emails[type eq "work"].x.y"#,
            r#"name.givenName[type eq "x"]"#,
            "emails..value",
        ] {
            let e = PatchPath::parse(bad).unwrap_err();
            assert_eq!(
                e.scim_type,
                Some(crate::ScimType::InvalidPath),
                "{bad}: {e}"
            );
        }
    }
}
