//! The schema registry: which schemas exist, which resource types use them,
//! and how an attribute path resolves to an attribute definition.

use serde_json::{Map, Value};

use crate::error::{Result, ScimError};
use crate::path::AttrPath;
use crate::schema::{Attribute, Schema};

pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

const USER_JSON: &str = include_str!("../schemas/user.json");
const GROUP_JSON: &str = include_str!("../schemas/group.json");
const ENTERPRISE_USER_JSON: &str = include_str!("../schemas/enterprise_user.json");
const COMMON_JSON: &str = include_str!("../schemas/common.json");

/// An extension schema attached to a resource type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaExtension {
    pub schema: String,
    pub required: bool,
}

/// A resource type (RFC 7643 §6): `User` at `/Users` with its core schema
/// and extensions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceType {
    pub name: String,
    pub endpoint: String,
    pub description: String,
    pub schema: String,
    pub extensions: Vec<SchemaExtension>,
}

impl ResourceType {
    /// Whether `urn` is this type's core schema or one of its extensions.
    pub fn has_schema(&self, urn: &str) -> bool {
        self.schema.eq_ignore_ascii_case(urn) || self.extension(urn).is_some()
    }

    /// The extension entry for `urn`, case-insensitively.
    pub fn extension(&self, urn: &str) -> Option<&SchemaExtension> {
        self.extensions
            .iter()
            .find(|e| e.schema.eq_ignore_ascii_case(urn))
    }

    /// Whether a URN-qualified name (`urn:…:2.0:User`, or an attribute in
    /// it: `urn:…:2.0:User:userName`) belongs to this type's core schema or
    /// one of its extensions, case-insensitively.
    pub fn owns_urn(&self, name: &str) -> bool {
        self.schemas().any(|s| {
            name.get(..s.len())
                .is_some_and(|p| p.eq_ignore_ascii_case(s))
                && matches!(name.as_bytes().get(s.len()), None | Some(b':'))
        })
    }

    /// The core schema and the extensions, for error details.
    pub fn schema_list(&self) -> String {
        self.schemas().collect::<Vec<_>>().join(", ")
    }

    fn schemas(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.schema.as_str())
            .chain(self.extensions.iter().map(|e| e.schema.as_str()))
    }
}

/// Where a resolved attribute lives and what it is.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'r> {
    /// `None` for core and common attributes (top level of the resource),
    /// `Some(urn)` for attributes inside an extension object.
    pub extension: Option<&'r str>,
    pub attr: &'r Attribute,
    pub sub: Option<&'r Attribute>,
}

impl<'r> Resolved<'r> {
    /// The definition the path ends at: the sub-attribute if there is one.
    pub fn leaf(&self) -> &'r Attribute {
        self.sub.unwrap_or(self.attr)
    }

    /// The canonical path (`name.familyName`, or URN-qualified for
    /// extension attributes).
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        if let Some(urn) = self.extension {
            s.push_str(urn);
            s.push(':');
        }
        s.push_str(&self.attr.name);
        if let Some(sub) = self.sub {
            s.push('.');
            s.push_str(&sub.name);
        }
        s
    }

    /// The object that holds the attribute: the resource itself, or its
    /// extension object.
    pub fn container<'v>(&self, resource: &'v Value) -> Option<&'v Map<String, Value>> {
        let obj = resource.as_object()?;
        match self.extension {
            None => Some(obj),
            Some(urn) => get_ci(obj, urn)?.as_object(),
        }
    }

    /// Like [`Self::container`], creating the extension object if asked.
    pub fn container_mut<'v>(
        &self,
        resource: &'v mut Value,
        create: bool,
    ) -> Option<&'v mut Map<String, Value>> {
        let obj = resource.as_object_mut()?;
        match self.extension {
            None => Some(obj),
            Some(urn) => {
                let key = key_ci(obj, urn).unwrap_or_else(|| urn.to_string());
                if create && !obj.contains_key(&key) {
                    obj.insert(key.clone(), Value::Object(Map::new()));
                }
                obj.get_mut(&key)?.as_object_mut()
            }
        }
    }

    /// The attribute's value in a resource (not descending into the
    /// sub-attribute).
    pub fn value<'v>(&self, resource: &'v Value) -> Option<&'v Value> {
        get_ci(self.container(resource)?, &self.attr.name)
    }
}

/// All schemas and resource types a tenant's SCIM endpoint knows.
#[derive(Debug, Clone)]
pub struct Registry {
    common: Schema,
    schemas: Vec<Schema>,
    resource_types: Vec<ResourceType>,
}

impl Registry {
    /// The standard registry: User with the EnterpriseUser extension, and Group.
    pub fn standard() -> Result<Registry> {
        let load = |text: &str| {
            let json: Value = serde_json::from_str(text)
                .map_err(|e| ScimError::internal(format!("built-in schema: {e}")))?;
            Schema::from_json(&json)
        };
        Ok(Registry {
            common: load(COMMON_JSON)?,
            schemas: vec![
                load(USER_JSON)?,
                load(GROUP_JSON)?,
                load(ENTERPRISE_USER_JSON)?,
            ],
            resource_types: vec![
                ResourceType {
                    name: "User".into(),
                    endpoint: "/Users".into(),
                    description: "User Account".into(),
                    schema: USER_SCHEMA.into(),
                    extensions: vec![SchemaExtension {
                        schema: ENTERPRISE_USER_SCHEMA.into(),
                        required: false,
                    }],
                },
                ResourceType {
                    name: "Group".into(),
                    endpoint: "/Groups".into(),
                    description: "Group".into(),
                    schema: GROUP_SCHEMA.into(),
                    extensions: vec![],
                },
            ],
        })
    }

    /// Adds a custom extension schema, given in its RFC 7643 §7 JSON form, to
    /// a resource type.
    pub fn add_extension_json(
        &mut self,
        resource_type: &str,
        schema: &Value,
        required: bool,
    ) -> Result<()> {
        self.add_extension(resource_type, Schema::from_json(schema)?, required)
    }

    /// Adds a custom extension schema to a resource type.
    pub fn add_extension(
        &mut self,
        resource_type: &str,
        schema: Schema,
        required: bool,
    ) -> Result<()> {
        schema.check()?;
        if self.schema(&schema.id).is_some() || schema.id.eq_ignore_ascii_case(&self.common.id) {
            return Err(ScimError::invalid_value(format!(
                "schema {} is already registered",
                schema.id
            )));
        }
        let rt = self
            .resource_types
            .iter_mut()
            .find(|rt| rt.name.eq_ignore_ascii_case(resource_type))
            .ok_or_else(|| {
                ScimError::invalid_value(format!("unknown resource type \"{resource_type}\""))
            })?;
        rt.extensions.push(SchemaExtension {
            schema: schema.id.clone(),
            required,
        });
        self.schemas.push(schema);
        Ok(())
    }

    /// Every schema served under `/Schemas` (the common attributes are not a
    /// schema of their own, RFC 7643 §3.1).
    pub fn schemas(&self) -> &[Schema] {
        &self.schemas
    }

    /// The common attributes (`id`, `externalId`, `meta`).
    pub fn common(&self) -> &Schema {
        &self.common
    }

    pub fn schema(&self, id: &str) -> Option<&Schema> {
        self.schemas.iter().find(|s| s.id.eq_ignore_ascii_case(id))
    }

    pub fn resource_types(&self) -> &[ResourceType] {
        &self.resource_types
    }

    /// A resource type by name (`User`), case-insensitively.
    pub fn resource_type(&self, name: &str) -> Option<&ResourceType> {
        self.resource_types
            .iter()
            .find(|rt| rt.name.eq_ignore_ascii_case(name))
    }

    /// A resource type by endpoint (`/Users` or `Users`), case-insensitively.
    pub fn resource_type_by_endpoint(&self, endpoint: &str) -> Option<&ResourceType> {
        let endpoint = endpoint.trim_start_matches('/');
        self.resource_types.iter().find(|rt| {
            rt.endpoint
                .trim_start_matches('/')
                .eq_ignore_ascii_case(endpoint)
        })
    }

    /// The core schema of a resource type.
    pub fn core_schema(&self, rt: &ResourceType) -> Option<&Schema> {
        self.schema(&rt.schema)
    }

    /// The extension schemas of a resource type, in declaration order.
    pub fn extension_schemas<'a>(
        &'a self,
        rt: &'a ResourceType,
    ) -> impl Iterator<Item = (&'a SchemaExtension, &'a Schema)> + 'a {
        rt.extensions
            .iter()
            .filter_map(|e| self.schema(&e.schema).map(|s| (e, s)))
    }

    /// If `path` names a whole extension schema of `rt`
    /// (`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User`, which
    /// parses as uri `…:2.0` and attr `User`), that schema.
    pub fn whole_extension(&self, rt: &ResourceType, path: &AttrPath) -> Option<&Schema> {
        let uri = path.uri.as_deref()?;
        if path.sub_attr.is_some() {
            return None;
        }
        let full = format!("{uri}:{}", path.attr);
        rt.extension(&full).and_then(|e| self.schema(&e.schema))
    }

    /// Resolves a path to its attribute definition. Unqualified names are
    /// looked up in the common attributes, then the core schema, then (as real
    /// clients sometimes omit the URN) in the extensions. Unknown names are an
    /// `invalidPath` error; callers that parse filters re-map it.
    pub fn resolve<'r>(&'r self, rt: &'r ResourceType, path: &AttrPath) -> Result<Resolved<'r>> {
        let unknown = || {
            ScimError::invalid_path(format!(
                "\"{path}\" is not an attribute of resource type {}",
                rt.name
            ))
        };
        let (extension, attr) = match path.uri.as_deref() {
            Some(uri) if uri.eq_ignore_ascii_case(&rt.schema) => (
                None,
                self.core_attribute(rt, &path.attr).ok_or_else(unknown)?,
            ),
            Some(uri) => {
                let ext = rt.extension(uri).ok_or_else(unknown)?;
                let schema = self.schema(&ext.schema).ok_or_else(unknown)?;
                let attr = schema.attribute(&path.attr).ok_or_else(unknown)?;
                (Some(schema.id.as_str()), attr)
            }
            None => match self.core_attribute(rt, &path.attr) {
                Some(a) => (None, a),
                None => self
                    .extension_schemas(rt)
                    .find_map(|(_, s)| s.attribute(&path.attr).map(|a| (Some(s.id.as_str()), a)))
                    .ok_or_else(unknown)?,
            },
        };
        let sub = match path.sub_attr.as_deref() {
            None => None,
            Some(name) => Some(attr.sub(name).ok_or_else(unknown)?),
        };
        Ok(Resolved {
            extension,
            attr,
            sub,
        })
    }

    /// Resolves a sub-attribute name relative to a complex attribute, as in
    /// value filters (`emails[type eq "work"]`).
    pub fn resolve_sub<'r>(&self, parent: &Resolved<'r>, name: &str) -> Result<Resolved<'r>> {
        let sub = parent.attr.sub(name).ok_or_else(|| {
            ScimError::invalid_path(format!(
                "\"{name}\" is not a sub-attribute of \"{}\"",
                parent.attr.name
            ))
        })?;
        Ok(Resolved {
            extension: parent.extension,
            attr: parent.attr,
            sub: Some(sub),
        })
    }

    fn core_attribute<'r>(&'r self, rt: &ResourceType, name: &str) -> Option<&'r Attribute> {
        self.common
            .attribute(name)
            .or_else(|| self.core_schema(rt)?.attribute(name))
    }
}

/// Looks a key up in a JSON object: exact spelling first, then ignoring
/// ASCII case (SCIM attribute names are case-insensitive).
pub fn get_ci<'v>(obj: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    obj.get(key).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// The key actually used in `obj` for `key`, ignoring ASCII case.
pub fn key_ci(obj: &Map<String, Value>, key: &str) -> Option<String> {
    if obj.contains_key(key) {
        return Some(key.to_string());
    }
    obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

#[cfg(test)]
mod tests;
