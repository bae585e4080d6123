//! What a tenant's API token may do: its scopes.
//!
//! - `scim:read`: read Users, Groups and the discovery endpoints (GET,
//!   `POST …/.search`);
//! - `scim:write`: create, replace, modify and delete Users and Groups (and
//!   `POST /Bulk` with any of those); `users:write` and `groups:write` the
//!   same for one resource type only;
//! - `events:poll`: poll the change notifications of the tenant's poll
//!   subscriptions;
//! - `hr:<source>`: post to `/hr/v1/{tenant}/<source>`, for an HR source
//!   that authenticates with bearer tokens (`auth = { scheme = "bearer" }`)
//!   instead of signatures.
//!
//! A token made without naming scopes has [`Scopes::tenant_default`]
//! (`scim:read scim:write events:poll`), which is what every token could do
//! before scopes existed.

use std::fmt;

/// One scope of a tenant's token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scope {
    ScimRead,
    ScimWrite,
    UsersWrite,
    GroupsWrite,
    EventsPoll,
}

impl Scope {
    /// Every scope, in the order they are listed.
    pub const ALL: [Scope; 5] = [
        Scope::ScimRead,
        Scope::ScimWrite,
        Scope::UsersWrite,
        Scope::GroupsWrite,
        Scope::EventsPoll,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ScimRead => "scim:read",
            Scope::ScimWrite => "scim:write",
            Scope::UsersWrite => "users:write",
            Scope::GroupsWrite => "groups:write",
            Scope::EventsPoll => "events:poll",
        }
    }

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not one of [`Scope::ALL`] or `hr:<source>`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "\"{0}\" is not a scope (scopes: scim:read, scim:write, users:write, groups:write, events:poll, hr:<source>)"
)]
pub struct UnknownScope(pub String);

/// The HR source an `hr:<source>` scope names: 1–64 of `a-z 0-9 _ -`, as
/// a source's name is.
fn hr_source(name: &str) -> Option<&str> {
    let source = name.strip_prefix("hr:")?;
    let fits = !source.is_empty()
        && source.len() <= 64
        && source
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    fits.then_some(source)
}

impl std::str::FromStr for Scope {
    type Err = UnknownScope;

    fn from_str(s: &str) -> Result<Scope, UnknownScope> {
        Scope::ALL
            .into_iter()
            .find(|scope| scope.as_str() == s)
            .ok_or_else(|| UnknownScope(s.to_string()))
    }
}

/// The scopes of one token.
#[derive(Clone, PartialEq, Eq, Hash, Default)]
pub struct Scopes {
    bits: u8,
    /// The sources of its `hr:<source>` scopes, sorted, each once.
    hr: Vec<String>,
}

impl Scopes {
    /// What a token of a tenant may do unless told otherwise (and what a
    /// token from the configuration file may do).
    pub fn tenant_default() -> Scopes {
        Scopes::of([Scope::ScimRead, Scope::ScimWrite, Scope::EventsPoll])
    }

    pub fn of(scopes: impl IntoIterator<Item = Scope>) -> Scopes {
        Scopes {
            bits: scopes.into_iter().fold(0, |bits, s| bits | s.bit()),
            hr: Vec::new(),
        }
    }

    /// These scopes and `hr:<source>`.
    pub fn with_hr(mut self, source: &str) -> Scopes {
        if let Err(at) = self.hr.binary_search_by(|s| s.as_str().cmp(source)) {
            self.hr.insert(at, source.to_string());
        }
        self
    }

    /// Parses scope names (as stored, or as an operator writes them, each
    /// one a name or several separated by spaces or commas).
    pub fn parse<S: AsRef<str>>(names: &[S]) -> Result<Scopes, UnknownScope> {
        let mut scopes = Scopes::default();
        for name in names {
            for part in name.as_ref().split([' ', ',']).filter(|p| !p.is_empty()) {
                scopes = match hr_source(part) {
                    Some(source) => scopes.with_hr(source),
                    None => {
                        let one = part.parse::<Scope>()?;
                        scopes.bits |= one.bit();
                        scopes
                    }
                };
            }
        }
        Ok(scopes)
    }

    /// The scopes among `names` that this server knows; the others are
    /// passed over (a JWT's `scope` claim names scopes of other APIs too).
    pub fn known<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Scopes {
        names.into_iter().fold(Scopes::default(), |scopes, name| {
            Scopes::parse(&[name.as_ref()]).map_or(scopes.clone(), |one| scopes.union(one))
        })
    }

    fn union(mut self, other: Scopes) -> Scopes {
        self.bits |= other.bits;
        other.hr.iter().fold(self, |s, source| s.with_hr(source))
    }

    pub fn contains(&self, scope: Scope) -> bool {
        self.bits & scope.bit() != 0
    }

    pub fn is_empty(&self) -> bool {
        self.bits == 0 && self.hr.is_empty()
    }

    /// The scopes of [`Scope::ALL`] it has, in that order.
    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        Scope::ALL.into_iter().filter(move |s| self.contains(*s))
    }

    /// The names, as stored: those of [`Scope::ALL`], then `hr:<source>`.
    pub fn names(&self) -> Vec<String> {
        self.iter()
            .map(|s| s.as_str().to_string())
            .chain(self.hr.iter().map(|source| format!("hr:{source}")))
            .collect()
    }

    /// Posting events of HR source `source`.
    pub fn can_post_hr(&self, source: &str) -> bool {
        self.hr.binary_search_by(|s| s.as_str().cmp(source)).is_ok()
    }

    /// Reading Users, Groups, the discovery endpoints.
    pub fn can_read(&self) -> bool {
        self.contains(Scope::ScimRead)
    }

    /// Writing resources of `resource_type` (`User`, `Group`, or another
    /// type this server knows, which only `scim:write` covers).
    pub fn can_write(&self, resource_type: &str) -> bool {
        self.contains(Scope::ScimWrite)
            || match resource_type {
                "User" => self.contains(Scope::UsersWrite),
                "Group" => self.contains(Scope::GroupsWrite),
                _ => false,
            }
    }

    /// Writing anything at all (the door of `/Bulk`).
    pub fn can_write_any(&self) -> bool {
        self.contains(Scope::ScimWrite)
            || self.contains(Scope::UsersWrite)
            || self.contains(Scope::GroupsWrite)
    }

    /// The scope a write of `resource_type` lacks, to name in a refusal.
    pub fn write_scope_for(resource_type: &str) -> String {
        match resource_type {
            "User" => "scim:write or users:write".into(),
            "Group" => "scim:write or groups:write".into(),
            _ => "scim:write".into(),
        }
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(" "))
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_in_any_spelling_and_print_as_stored() {
        let s = Scopes::parse(&["scim:read users:write", "events:poll,"]).unwrap();
        assert_eq!(s.to_string(), "scim:read users:write events:poll");
        assert_eq!(Scopes::parse(&s.names()).unwrap(), s);
        let e = Scopes::parse(&["scim:read", "scim:admin"]).unwrap_err();
        assert_eq!(e, UnknownScope("scim:admin".into()));
        assert!(Scopes::parse::<&str>(&[]).unwrap().is_empty());
    }

    #[test]
    fn hr_scopes_name_one_source_each() {
        let s = Scopes::parse(&["hr:workday scim:read", "hr:bamboo-hr,hr:workday"]).unwrap();
        assert_eq!(s.to_string(), "scim:read hr:bamboo-hr hr:workday");
        assert_eq!(Scopes::parse(&s.names()).unwrap(), s);
        assert!(s.can_post_hr("workday") && s.can_post_hr("bamboo-hr"));
        assert!(!s.can_post_hr("personio") && !s.can_write_any());
        assert!(!Scopes::tenant_default().can_post_hr("workday"));
        for bad in ["hr:", "hr:Workday", "hr:a/b", "hr:*"] {
            assert_eq!(
                Scopes::parse(&[bad]),
                Err(UnknownScope(bad.into())),
                "{bad}"
            );
        }
        let only_hr = Scopes::parse(&["hr:workday"]).unwrap();
        assert!(!only_hr.is_empty() && !only_hr.can_read());
        // A JWT's claim: what this server does not know is passed over.
        let claim = Scopes::known("openid scim:read hr:workday profile".split(' '));
        assert_eq!(claim.names(), ["scim:read", "hr:workday"]);
    }

    #[test]
    fn a_resource_type_scope_writes_that_type_only() {
        let users = Scopes::of([Scope::UsersWrite]);
        assert!(users.can_write("User"));
        assert!(!users.can_write("Group"));
        assert!(!users.can_read());
        assert!(users.can_write_any());
        let all = Scopes::of([Scope::ScimWrite]);
        assert!(all.can_write("User") && all.can_write("Group") && all.can_write("Device"));
        let read = Scopes::of([Scope::ScimRead]);
        assert!(!read.can_write("User") && !read.can_write_any());
        let default = Scopes::tenant_default();
        assert!(default.can_read() && default.can_write("Group"));
        assert!(default.contains(Scope::EventsPoll));
    }
}
