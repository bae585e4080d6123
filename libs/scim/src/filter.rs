//! The SCIM filter language (RFC 7644 §3.4.2.2): parse, print, evaluate.
//!
//! [`parse`] turns `?filter=` text into a [`Filter`]; `Display` prints the
//! canonical form, which parses back to the same tree.

mod ast;
mod lexer;
mod parser;
mod print;

pub use ast::{CompValue, CompareOp, Filter};
pub use parser::{MAX_CLAUSES, MAX_DEPTH, parse, parse_value_filter};
