//! The SCIM filter language (RFC 7644 §3.4.2.2): parse, print, evaluate.
//!
//! [`parse`] turns `?filter=` text into a [`Filter`]; `Display` prints the
//! canonical form, which parses back to the same tree; [`validate`],
//! [`matches`], [`matches_element`] and [`Matcher`] check a filter against
//! the schema registry and evaluate it against resources.
//!
//! ```
//! use scimbus_scim::{Registry, filter};
//! use serde_json::json;
//! # fn main() -> scimbus_scim::Result<()> {
//! let registry = Registry::standard()?;
//! let users = registry.resource_type("User").ok_or_else(|| scimbus_scim::ScimError::internal("no User"))?;
//! let f = filter::parse(r#"userType EQ "Employee" and emails[type eq "work" and value co "@example.com"]"#)?;
//! assert_eq!(
//!     f.to_string(),
//!     r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#
//! );
//! let m = filter::Matcher::new(&registry, users, &f)?;
//! let barbara = json!({
//!     "userType": "employee",
//!     "emails": [{"value": "bjensen@example.com", "type": "work"}]
//! });
//! assert!(m.matches(&barbara));
//! let e = filter::parse("userName foo \"x\"").unwrap_err();
//! assert_eq!(e.detail, r#"at position 10: expected a comparison operator or "pr", found "foo""#);
//! # Ok(())
//! # }
//! ```
//!
//! # Evaluation semantics
//!
//! After RFC 7644 §3.4.2.2, with choices where it is silent:
//!
//! - A multi-valued attribute matches if any of its values matches.
//! - `pr`: some value is non-null and non-empty (`""`, `[]` and `{}` count
//!   as absent). `eq null` means "not present", `ne null` means "present";
//!   `null` with any other operator is an error.
//! - `ne`: matches when the attribute is absent (missing, null, or `[]`: a
//!   missing title is indeed not equal to `"Manager"`), and otherwise when
//!   some value of the same JSON type differs. So on a multi-valued
//!   attribute `emails.type ne "work"` matches any user with a non-work
//!   email, as the "any value" rule reads; it is not `not (… eq …)`.
//! - Strings compare under the attribute's `caseExact`, dateTimes as
//!   instants, numbers as numbers ([`crate::value`] decides all three).
//!   `co sw ew` compare text: strings, references, binaries, and dateTimes
//!   as written (`meta.created sw "2011-05"`).
//! - A value of another JSON type than the literal (`userName eq 5`) never
//!   matches and is not an error: stored data is not the client's fault.
//! - Errors (`invalidFilter`) for filters that can never be meaningful:
//!   unknown paths; `gt ge lt le` on booleans and binaries (RFC 7644) and
//!   `co sw ew` on booleans and numbers; a dateTime compared with a string
//!   that is not a dateTime; a complex attribute compared without a
//!   sub-attribute unless it has a `value` sub-attribute (`emails co "x"`
//!   reads `emails.value co "x"`, while `emails pr` and `emails eq null`
//!   test the attribute itself); `[…]` on anything but a complex attribute.
//! - `schemas` is not in any schema but is filterable: a multi-valued,
//!   case-insensitive list of URIs at the top level.

mod ast;
mod eval;
mod lexer;
mod parser;
mod print;

pub use ast::{CompValue, CompareOp, Filter};
pub use eval::{Matcher, matches, matches_element, validate};
pub use parser::{MAX_CLAUSES, MAX_DEPTH, parse, parse_value_filter};
