//! scimbus-scim: SCIM 2.0 as RFC 7643 and RFC 7644 define it, and as real
//! identity providers send it.
//!
//! Schemas and resource types, resource validation, the filter language
//! (parse, print, evaluate), PATCH, projection (`attributes` /
//! `excludedAttributes`), sorting, ETags and the SCIM error type.
//!
//! This crate is pure: it does no I/O and must not depend on an async
//! runtime, an HTTP framework, a database or a message bus. Every service
//! shares it, and it is tested on its own.

pub mod diff;
pub mod discovery;
pub mod error;
pub mod filter;
pub mod input;
pub mod message;
pub mod patch;
pub mod path;
pub mod projection;
pub mod registry;
pub mod resource;
pub mod schema;
pub mod secrets;
pub mod sort;
pub mod value;
pub mod version;

pub use discovery::{Capabilities, ListResponse};
pub use error::{Result, ScimError, ScimType};
pub use path::AttrPath;
pub use projection::Projection;
pub use registry::{Registry, Resolved, ResourceType};
pub use schema::{Attribute, AttributeType, Mutability, Returned, Schema, Uniqueness};
pub use sort::{SortKey, SortOrder};
pub use version::{Precondition, Version};
