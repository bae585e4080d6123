//! The discovery documents: `/ServiceProviderConfig` (RFC 7643 §5, with the
//! RFC 9865 `pagination` block), `/ResourceTypes` (§6) and `/Schemas` (§7),
//! plus the `ListResponse` envelope (RFC 7644 §3.4.2, RFC 9865 cursors).
//!
//! Every document is generated from the [`Registry`] and [`Capabilities`],
//! never written by hand, so what a client discovers is exactly what the
//! server enforces — a custom extension added to the registry shows up here
//! without further work.

use serde_json::{Map, Value, json};

use crate::registry::{Registry, ResourceType};
use crate::schema::Schema;

pub const SERVICE_PROVIDER_CONFIG_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
pub const RESOURCE_TYPE_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
pub const SCHEMA_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
pub const LIST_RESPONSE_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";

/// What this service provider supports, as `/ServiceProviderConfig`
/// advertises it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capabilities {
    pub patch: bool,
    /// `None`: bulk is not supported.
    pub bulk: Option<BulkLimits>,
    /// `None`: filtering is not supported.
    pub filter: Option<FilterLimits>,
    pub change_password: bool,
    pub sort: bool,
    pub etag: bool,
    pub pagination: Pagination,
    pub authentication_schemes: Vec<AuthenticationScheme>,
    /// A help page for this service provider.
    pub documentation_uri: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BulkLimits {
    pub max_operations: u32,
    /// In bytes.
    pub max_payload_size: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilterLimits {
    /// The most resources one query returns.
    pub max_results: u32,
}

/// Paging support (RFC 9865 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    pub cursor: bool,
    pub index: bool,
    /// The method used when a request names neither `cursor` nor
    /// `startIndex`.
    pub default_method: PagingMethod,
    pub default_page_size: u32,
    pub max_page_size: u32,
    /// How long a cursor stays valid, in seconds.
    pub cursor_timeout_secs: u32,
}

impl Pagination {
    /// The default method, corrected to the one method supported when only
    /// one is: advertising a default the server cannot do would mislead.
    pub fn effective_default(&self) -> PagingMethod {
        match (self.default_method, self.cursor, self.index) {
            (PagingMethod::Cursor, false, true) => PagingMethod::Index,
            (PagingMethod::Index, true, false) => PagingMethod::Cursor,
            (method, _, _) => method,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PagingMethod {
    Cursor,
    Index,
}

impl PagingMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            PagingMethod::Cursor => "cursor",
            PagingMethod::Index => "index",
        }
    }
}

/// One entry of `authenticationSchemes` (RFC 7643 §5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthenticationScheme {
    /// `type`: "oauth", "oauth2", "oauthbearertoken", "httpbasic",
    /// "httpdigest".
    pub kind: String,
    pub name: String,
    pub description: String,
    pub spec_uri: Option<String>,
    pub documentation_uri: Option<String>,
    pub primary: bool,
}

impl AuthenticationScheme {
    /// Bearer tokens (RFC 6750), what identity providers use in practice.
    pub fn oauth_bearer_token() -> Self {
        AuthenticationScheme {
            kind: "oauthbearertoken".into(),
            name: "OAuth Bearer Token".into(),
            description: "Authentication scheme using the OAuth Bearer Token Standard".into(),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc6750".into()),
            documentation_uri: None,
            primary: true,
        }
    }

    /// JWT access tokens (RFC 9068) from an OAuth 2.0 authorization server,
    /// sent as bearer tokens: `issuer`'s, for `audience`.
    pub fn oauth2_jwt(issuer: &str, audience: &str) -> Self {
        AuthenticationScheme {
            kind: "oauth2".into(),
            name: "OAuth 2.0 JWT Access Token".into(),
            description: format!(
                "JWT access tokens (RFC 9068) issued by {issuer} for the audience {audience}, \
                 signed with an asymmetric key of the issuer's JWKS, sent as bearer tokens"
            ),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc9068".into()),
            documentation_uri: None,
            primary: false,
        }
    }

    /// HTTP Basic (RFC 7617).
    pub fn http_basic() -> Self {
        AuthenticationScheme {
            kind: "httpbasic".into(),
            name: "HTTP Basic".into(),
            description: "Authentication scheme using the HTTP Basic Standard".into(),
            spec_uri: Some("https://www.rfc-editor.org/info/rfc7617".into()),
            documentation_uri: None,
            primary: false,
        }
    }
}

impl Default for Capabilities {
    /// What scimbus implements: PATCH, filters, sorting, ETags, both paging
    /// methods with index as the default (RFC 9865 asks existing index-based
    /// providers to keep it, and Entra ID and Okta page by index), bearer
    /// tokens. No bulk and no password change.
    fn default() -> Self {
        Capabilities {
            patch: true,
            bulk: None,
            filter: Some(FilterLimits { max_results: 200 }),
            change_password: false,
            sort: true,
            etag: true,
            pagination: Pagination {
                cursor: true,
                index: true,
                default_method: PagingMethod::Index,
                default_page_size: 100,
                max_page_size: 200,
                cursor_timeout_secs: 600,
            },
            authentication_schemes: vec![AuthenticationScheme::oauth_bearer_token()],
            documentation_uri: None,
        }
    }
}

/// The `/ServiceProviderConfig` document.
pub fn service_provider_config(caps: &Capabilities, base_url: &str) -> Value {
    let supported = |on: bool| json!({ "supported": on });
    let bulk = caps.bulk.unwrap_or(BulkLimits {
        max_operations: 0,
        max_payload_size: 0,
    });
    let p = &caps.pagination;
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([SERVICE_PROVIDER_CONFIG_SCHEMA]));
    if let Some(uri) = &caps.documentation_uri {
        doc.insert("documentationUri".into(), json!(uri));
    }
    doc.insert("patch".into(), supported(caps.patch));
    doc.insert(
        "bulk".into(),
        json!({
            "supported": caps.bulk.is_some(),
            "maxOperations": bulk.max_operations,
            "maxPayloadSize": bulk.max_payload_size,
        }),
    );
    doc.insert(
        "filter".into(),
        json!({
            "supported": caps.filter.is_some(),
            "maxResults": caps.filter.map_or(0, |f| f.max_results),
        }),
    );
    doc.insert("changePassword".into(), supported(caps.change_password));
    doc.insert("sort".into(), supported(caps.sort));
    doc.insert("etag".into(), supported(caps.etag));
    doc.insert(
        "pagination".into(),
        json!({
            "cursor": p.cursor,
            "index": p.index,
            "defaultPaginationMethod": p.effective_default().as_str(),
            "defaultPageSize": p.default_page_size,
            "maxPageSize": p.max_page_size,
            "cursorTimeout": p.cursor_timeout_secs,
        }),
    );
    let schemes = caps.authentication_schemes.iter().map(scheme_doc).collect();
    doc.insert("authenticationSchemes".into(), Value::Array(schemes));
    doc.insert(
        "meta".into(),
        meta(
            "ServiceProviderConfig",
            location(base_url, &["ServiceProviderConfig"]),
        ),
    );
    Value::Object(doc)
}

fn scheme_doc(s: &AuthenticationScheme) -> Value {
    let mut doc = Map::new();
    doc.insert("type".into(), json!(s.kind));
    doc.insert("name".into(), json!(s.name));
    doc.insert("description".into(), json!(s.description));
    if let Some(uri) = &s.spec_uri {
        doc.insert("specUri".into(), json!(uri));
    }
    if let Some(uri) = &s.documentation_uri {
        doc.insert("documentationUri".into(), json!(uri));
    }
    doc.insert("primary".into(), json!(s.primary));
    Value::Object(doc)
}

/// One `/ResourceTypes` entry. `schemaExtensions` is left out when there are
/// none, as in the RFC 7643 §8.6 Group example.
pub fn resource_type_doc(rt: &ResourceType, base_url: &str) -> Value {
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([RESOURCE_TYPE_SCHEMA]));
    doc.insert("id".into(), json!(rt.name));
    doc.insert("name".into(), json!(rt.name));
    doc.insert("endpoint".into(), json!(rt.endpoint));
    doc.insert("description".into(), json!(rt.description));
    doc.insert("schema".into(), json!(rt.schema));
    if !rt.extensions.is_empty() {
        let exts = rt
            .extensions
            .iter()
            .map(|e| json!({ "schema": e.schema, "required": e.required }))
            .collect();
        doc.insert("schemaExtensions".into(), Value::Array(exts));
    }
    doc.insert(
        "meta".into(),
        meta(
            "ResourceType",
            location(base_url, &["ResourceTypes", &rt.name]),
        ),
    );
    Value::Object(doc)
}

/// Every resource type of the registry.
pub fn resource_types(registry: &Registry, base_url: &str) -> Vec<Value> {
    registry
        .resource_types()
        .iter()
        .map(|rt| resource_type_doc(rt, base_url))
        .collect()
}

/// One `/Schemas` entry: the schema in its RFC 7643 §7 form, which is how
/// [`Schema`] serialises, so [`Schema::from_json`] reads it back unchanged.
pub fn schema_doc(schema: &Schema, base_url: &str) -> Value {
    let mut doc = Map::new();
    doc.insert("schemas".into(), json!([SCHEMA_SCHEMA]));
    // Serialising a Schema cannot fail (string keys, no custom serialisers).
    if let Ok(Value::Object(body)) = serde_json::to_value(schema) {
        doc.extend(body);
    }
    doc.insert(
        "meta".into(),
        meta("Schema", location(base_url, &["Schemas", &schema.id])),
    );
    Value::Object(doc)
}

/// Every schema the registry serves (not the common attributes, RFC 7643
/// §3.1).
pub fn schemas(registry: &Registry, base_url: &str) -> Vec<Value> {
    registry
        .schemas()
        .iter()
        .map(|s| schema_doc(s, base_url))
        .collect()
}

fn meta(resource_type: &str, location: String) -> Value {
    json!({ "resourceType": resource_type, "location": location })
}

/// Joins the base URL, with or without a trailing slash, and path segments.
fn location(base_url: &str, segments: &[&str]) -> String {
    let mut s = base_url.trim_end_matches('/').to_string();
    for seg in segments {
        s.push('/');
        s.push_str(seg);
    }
    s
}

/// A `ListResponse` (RFC 7644 §3.4.2, RFC 9865 §2.2). Optional members are
/// rendered only when set: `startIndex` for index paging, `nextCursor` /
/// `previousCursor` for cursor paging (a missing `nextCursor` is how a
/// client knows it has the last page).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ListResponse {
    pub resources: Vec<Value>,
    pub total_results: u64,
    pub start_index: Option<u64>,
    pub items_per_page: Option<u64>,
    pub next_cursor: Option<String>,
    pub previous_cursor: Option<String>,
}

impl ListResponse {
    pub fn to_json(&self) -> Value {
        self.clone().into_json()
    }

    /// Like [`Self::to_json`], without copying the resources.
    pub fn into_json(self) -> Value {
        let mut doc = Map::new();
        doc.insert("schemas".into(), json!([LIST_RESPONSE_SCHEMA]));
        doc.insert("totalResults".into(), json!(self.total_results));
        if let Some(n) = self.items_per_page {
            doc.insert("itemsPerPage".into(), json!(n));
        }
        if let Some(n) = self.start_index {
            doc.insert("startIndex".into(), json!(n));
        }
        if let Some(c) = self.next_cursor {
            doc.insert("nextCursor".into(), json!(c));
        }
        if let Some(c) = self.previous_cursor {
            doc.insert("previousCursor".into(), json!(c));
        }
        doc.insert("Resources".into(), Value::Array(self.resources));
        Value::Object(doc)
    }
}

/// Shorthand for [`ListResponse::into_json`].
pub fn list_response(
    resources: Vec<Value>,
    total: u64,
    start_index: Option<u64>,
    items_per_page: Option<u64>,
    next_cursor: Option<String>,
    previous_cursor: Option<String>,
) -> Value {
    ListResponse {
        resources,
        total_results: total,
        start_index,
        items_per_page,
        next_cursor,
        previous_cursor,
    }
    .into_json()
}

#[cfg(test)]
mod tests;
