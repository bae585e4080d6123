//! The SCIM filter language (RFC 7644 §3.4.2.2): parse, print, evaluate.

mod ast;

pub use ast::{CompValue, CompareOp, Filter};
