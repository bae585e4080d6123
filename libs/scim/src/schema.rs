//! The schema model of RFC 7643 §2.2 and §7: attributes and their
//! characteristics, readable from and writable to the JSON representation
//! that `/Schemas` serves, so custom extensions load without code.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Result, ScimError};

/// `type` of an attribute (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum AttributeType {
    #[default]
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

/// `mutability` (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Mutability {
    ReadOnly,
    #[default]
    ReadWrite,
    Immutable,
    WriteOnly,
}

/// `returned` (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Returned {
    Always,
    Never,
    #[default]
    Default,
    Request,
}

/// `uniqueness` (RFC 7643 §7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub enum Uniqueness {
    #[default]
    None,
    Server,
    Global,
}

/// One attribute definition with its characteristics. Missing
/// characteristics take the defaults of RFC 7643 §2.2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Attribute {
    pub name: String,
    #[serde(rename = "type", default)]
    pub kind: AttributeType,
    #[serde(default)]
    pub multi_valued: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub canonical_values: Vec<String>,
    #[serde(default)]
    pub case_exact: bool,
    #[serde(default)]
    pub mutability: Mutability,
    #[serde(default)]
    pub returned: Returned,
    #[serde(default)]
    pub uniqueness: Uniqueness,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reference_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sub_attributes: Vec<Attribute>,
}

impl Attribute {
    /// A sub-attribute by name, case-insensitively.
    pub fn sub(&self, name: &str) -> Option<&Attribute> {
        find(&self.sub_attributes, name)
    }

    pub fn is_complex(&self) -> bool {
        self.kind == AttributeType::Complex
    }

    /// Whether `canonicalValues` restrict the value; `parent` is the complex
    /// attribute this one belongs to, if any. The `type` sub-attribute of a
    /// multi-valued attribute is a label (`emails.type`, `phoneNumbers.type`)
    /// that only *suggests* values: RFC 7643 §2.4 lets service providers
    /// accept others. Where the complex attribute carries a `$ref`
    /// (`members`, `groups`), its `type` names the kind of the referenced
    /// resource and binds; so does every other non-empty list.
    pub fn canonical_binds(&self, parent: Option<&Attribute>) -> bool {
        if self.canonical_values.is_empty() {
            return false;
        }
        match parent {
            Some(p) if self.name.eq_ignore_ascii_case("type") => p.sub("$ref").is_some(),
            _ => true,
        }
    }

    fn check(&self, depth: usize, at: &str) -> Result<()> {
        if !crate::path::is_attr_name(&self.name) {
            return Err(ScimError::invalid_value(format!(
                "{at}: \"{}\" is not a valid attribute name",
                self.name
            )));
        }
        let here = format!("{at}.{}", self.name);
        match (self.kind, self.sub_attributes.is_empty()) {
            (AttributeType::Complex, true) => {
                return Err(ScimError::invalid_value(format!(
                    "{here}: a complex attribute needs subAttributes"
                )));
            }
            (AttributeType::Complex, false) if depth > 0 => {
                return Err(ScimError::invalid_value(format!(
                    "{here}: a complex attribute cannot contain another complex attribute (RFC 7643 §2.3.8)"
                )));
            }
            (kind, false) if kind != AttributeType::Complex => {
                return Err(ScimError::invalid_value(format!(
                    "{here}: only complex attributes have subAttributes"
                )));
            }
            _ => {}
        }
        check_unique_names(&self.sub_attributes, &here)?;
        for sub in &self.sub_attributes {
            sub.check(depth + 1, &here)?;
        }
        Ok(())
    }
}

/// A schema: its URN, name, description and attributes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Schema {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub attributes: Vec<Attribute>,
}

impl Schema {
    /// Reads a schema from its RFC 7643 §7 JSON representation (as `/Schemas`
    /// serves it; `schemas` and `meta` are ignored) and checks it.
    pub fn from_json(json: &Value) -> Result<Schema> {
        let schema: Schema = serde_json::from_value(json.clone())
            .map_err(|e| ScimError::invalid_syntax(format!("schema definition: {e}")))?;
        schema.check()?;
        Ok(schema)
    }

    /// Checks what serde cannot: the id is a URN, names are valid and unique,
    /// complex attributes have sub-attributes and nest only one level.
    pub fn check(&self) -> Result<()> {
        if !crate::path::is_urn(&self.id) {
            return Err(ScimError::invalid_value(format!(
                "schema id \"{}\" is not a URN",
                self.id
            )));
        }
        check_unique_names(&self.attributes, &self.id)?;
        for a in &self.attributes {
            a.check(0, &self.id)?;
        }
        Ok(())
    }

    /// A top-level attribute by name, case-insensitively.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        find(&self.attributes, name)
    }
}

/// Finds an attribute by name, case-insensitively (RFC 7643 §2.1).
pub fn find<'a>(attrs: &'a [Attribute], name: &str) -> Option<&'a Attribute> {
    attrs.iter().find(|a| a.name.eq_ignore_ascii_case(name))
}

fn check_unique_names(attrs: &[Attribute], at: &str) -> Result<()> {
    for (i, a) in attrs.iter().enumerate() {
        if attrs[..i]
            .iter()
            .any(|b| b.name.eq_ignore_ascii_case(&a.name))
        {
            return Err(ScimError::invalid_value(format!(
                "{at}: attribute \"{}\" is defined twice",
                a.name
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn loads_a_custom_extension_with_rfc_defaults() {
        let s = Schema::from_json(&json!({
            "id": "urn:example:params:scim:schemas:extension:acme:2.0:User",
            "name": "AcmeUser",
            "attributes": [
                {"name": "badgeNumber"},
                {"name": "clearance", "type": "string", "canonicalValues": ["low", "high"]},
                {"name": "sites", "type": "complex", "multiValued": true, "subAttributes": [
                    {"name": "code", "type": "string", "caseExact": true, "required": true},
                    {"name": "since", "type": "dateTime"}
                ]}
            ]
        }))
        .unwrap();
        let badge = s.attribute("BADGENUMBER").unwrap();
        assert_eq!(badge.kind, AttributeType::String);
        assert_eq!(badge.mutability, Mutability::ReadWrite);
        assert_eq!(badge.returned, Returned::Default);
        assert_eq!(badge.uniqueness, Uniqueness::None);
        assert!(!badge.case_exact && !badge.required && !badge.multi_valued);
        assert!(s.attribute("clearance").unwrap().canonical_binds(None));
        assert!(
            s.attribute("sites")
                .unwrap()
                .sub("CODE")
                .unwrap()
                .case_exact
        );
    }

    #[test]
    fn rejects_malformed_definitions() {
        let cases = [
            json!({"id": "acme", "attributes": []}),
            json!({"id": "urn:x:y", "attributes": [{"name": "a"}, {"name": "A"}]}),
            json!({"id": "urn:x:y", "attributes": [{"name": "c", "type": "complex"}]}),
            json!({"id": "urn:x:y", "attributes": [{"name": "s", "subAttributes": [{"name": "x"}]}]}),
            json!({"id": "urn:x:y", "attributes": [{"name": "c", "type": "complex", "subAttributes": [
                {"name": "d", "type": "complex", "subAttributes": [{"name": "e"}]}]}]}),
            json!({"id": "urn:x:y", "attributes": [{"name": "bad name"}]}),
            json!({"id": "urn:x:y", "attributes": [{"name": "a", "type": "float"}]}),
            json!({"id": "urn:x:y"}),
        ];
        for c in cases {
            let e = Schema::from_json(&c).unwrap_err();
            assert_eq!(e.status, 400, "{c}");
        }
    }
}
