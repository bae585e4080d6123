//! Precedence: which attributes of a user HR owns and which the identity
//! provider (SCIM) owns, per tenant. The owner's value wins once set,
//! whichever arrives first; the other side fills in what the owner has
//! not set.

use std::collections::HashMap;

/// What HR owns when a tenant does not say: the person's employment —
/// whether they work here, their name and title, where they sit and who
/// they report to. The identity provider owns the rest (`userName`,
/// `emails`, `phoneNumbers` …).
pub const DEFAULT_HR_OWNS: [&str; 11] = [
    "active",
    "name",
    "displayName",
    "title",
    "userType",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:organization",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:division",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager",
];

/// The attributes HR owns, per tenant (lower-cased).
#[derive(Debug, Clone, Default)]
pub struct Owners {
    per_tenant: HashMap<String, Vec<String>>,
}

impl Owners {
    /// `configured`: tenants whose configuration lists what HR owns; the
    /// others get [`DEFAULT_HR_OWNS`].
    pub fn new(configured: impl IntoIterator<Item = (String, Vec<String>)>) -> Owners {
        Owners {
            per_tenant: configured
                .into_iter()
                .map(|(t, l)| (t, l.iter().map(|a| a.to_lowercase()).collect()))
                .collect(),
        }
    }

    /// Whether HR owns `attribute` (lower-cased) of the tenant's users. An
    /// extension's whole object stands for all its attributes.
    pub fn hr_owns(&self, tenant: &str, attribute: &str) -> bool {
        let covers = |owned: &str| {
            owned == attribute
                || (owned.starts_with("urn:")
                    && attribute.starts_with(owned)
                    && attribute[owned.len()..].starts_with(':'))
        };
        match self.per_tenant.get(tenant) {
            Some(list) => list.iter().any(|o| covers(o)),
            None => DEFAULT_HR_OWNS.iter().any(|o| covers(&o.to_lowercase())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scimbus_scim::registry::ENTERPRISE_USER_SCHEMA;

    fn ent(attr: &str) -> String {
        format!("{ENTERPRISE_USER_SCHEMA}:{attr}").to_lowercase()
    }

    #[test]
    fn the_default_gives_hr_the_employment_and_the_idp_the_rest() {
        let o = Owners::default();
        for a in [
            "active",
            "title",
            "name",
            &ent("department"),
            &ent("manager"),
        ] {
            assert!(o.hr_owns("demo", a), "{a}");
        }
        for a in ["username", "emails", "phonenumbers"] {
            assert!(!o.hr_owns("demo", a), "{a}");
        }
    }

    #[test]
    fn a_tenant_says_what_hr_owns_and_an_extension_covers_its_attributes() {
        let o = Owners::new([(
            "t".to_string(),
            vec!["Emails".to_string(), ENTERPRISE_USER_SCHEMA.to_string()],
        )]);
        assert!(o.hr_owns("t", "emails"));
        assert!(o.hr_owns("t", &ent("costcenter")));
        assert!(!o.hr_owns("t", "title"));
        assert!(o.hr_owns("other", "title"));
    }
}
