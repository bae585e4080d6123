//! What a client may send, before any schema looks at it: one strict reading
//! of a JSON body, and the limits on text that every service applies.
//!
//! Bad input must never crash a service, poison a stream or reach the
//! store. [`parse`] reads a body once into a [`Value`], refusing on the way:
//!
//! - **a member name given twice in one object** (`invalidSyntax`):
//!   RFC 8259 §4 leaves its meaning to the parser, and two parsers that pick
//!   different ones (this one and a downstream target's) see two different
//!   requests;
//! - **text no service can keep** (`invalidValue`, see [`check_text`]), in
//!   every string and every member name, known attribute or not;
//! - **an integer outside the signed 64-bit range** (`invalidValue`): the
//!   store sorts and compares integers as Postgres `bigint`;
//! - **a lone surrogate** (`\ud800`), which is no Unicode text, and a number
//!   beyond the range of a double (`1e400`): `serde_json` refuses both
//!   (`invalidSyntax`).
//!
//! Errors name where the value is, as a SCIM path (`emails[1].value`,
//! `urn:…:enterprise:2.0:User:department`, `Operations[0].value`).

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

use crate::error::{Result, ScimError};
use crate::path::is_urn;

/// The most bytes (UTF-8) of any one string or member name: generous for a
/// certificate or a photo URI, and a bound on what a target is sent.
pub const MAX_STRING_BYTES: usize = 65_536;

/// The most bytes (UTF-8) of an identifier the store keeps in an index
/// (`userName`, `displayName`, `externalId`, `emails.value`): a Postgres
/// B-tree entry holds about 2700 bytes, and lower-casing can make a string
/// half as long again. Longer than any identity provider allows.
pub const MAX_IDENTIFIER_BYTES: usize = 1024;

/// Why a string was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextError {
    /// A control character: U+0000 (which Postgres cannot store in `text`
    /// or `jsonb`) or another of U+0001–U+001F other than tab, line feed
    /// and carriage return (terminal escapes, log forgery; no identity
    /// attribute needs one, while a multi-line address needs the three).
    Control(char),
    /// More than `max` bytes.
    TooLong { len: usize, max: usize },
}

impl fmt::Display for TextError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TextError::Control(c) => write!(
                f,
                "must not contain the control character U+{:04X}",
                u32::from(*c)
            ),
            TextError::TooLong { len, max } => {
                write!(f, "is {len} bytes long; at most {max} are allowed")
            }
        }
    }
}

/// Checks one string: at most `max` bytes, no control character but tab,
/// line feed and carriage return.
pub fn check_text(s: &str, max: usize) -> Result<(), TextError> {
    if s.len() > max {
        return Err(TextError::TooLong { len: s.len(), max });
    }
    // Almost every string has no control character at all: a branch-free
    // pass (which the compiler vectorises) says so before any is looked for.
    if !s.bytes().fold(false, |any, b| any | (b < 0x20)) {
        return Ok(());
    }
    match s
        .bytes()
        .find(|&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
    {
        Some(b) => Err(TextError::Control(char::from(b))),
        None => Ok(()),
    }
}

/// Reads a JSON body strictly (see the module docs). Anything that is not
/// JSON is an `invalidSyntax` error carrying the parser's message.
pub fn parse(bytes: &[u8]) -> Result<Value> {
    let refused = Cell::new(None);
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let root = Node {
        at: At {
            parent: None,
            seg: Seg::Root,
        },
        refused: &refused,
    };
    let read = root.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    read.map_err(|e| {
        refused.take().unwrap_or_else(|| {
            ScimError::invalid_syntax(format!("the body is not valid JSON: {e}"))
        })
    })
}

/// One step of the path to a value.
#[derive(Clone, Copy)]
enum Seg<'a> {
    Root,
    Key(&'a str),
    Index(usize),
}

/// Where a value is: a chain of steps up to the root, on the stack; made
/// into text only for an error.
#[derive(Clone, Copy)]
struct At<'a> {
    parent: Option<&'a At<'a>>,
    seg: Seg<'a>,
}

impl fmt::Display for At<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut segs = Vec::new();
        let mut here = Some(self);
        while let Some(at) = here {
            segs.push(at.seg);
            here = at.parent;
        }
        let mut prev: Option<&str> = None;
        let mut wrote = false;
        for seg in segs.iter().rev() {
            match seg {
                Seg::Root => {}
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Key(k) => {
                    // `urn:…:User` then `department`: the SCIM path form.
                    match prev {
                        _ if !wrote => {}
                        Some(p) if is_urn(p) => f.write_str(":")?,
                        _ => f.write_str(".")?,
                    }
                    f.write_str(k)?;
                    prev = Some(k);
                }
            }
            wrote |= !matches!(seg, Seg::Root);
        }
        if !wrote {
            f.write_str("the body")?;
        }
        Ok(())
    }
}

/// Reads one value at `at`; a refusal is left in `refused` (a
/// `serde_json::Error` cannot carry a `ScimError`).
struct Node<'a> {
    at: At<'a>,
    refused: &'a Cell<Option<ScimError>>,
}

impl Node<'_> {
    fn refuse<E: de::Error>(&self, e: ScimError) -> E {
        self.refused.set(Some(e));
        E::custom("refused")
    }

    fn text<E: de::Error>(&self, s: &str) -> Result<(), E> {
        check_text(s, MAX_STRING_BYTES)
            .map_err(|t| self.refuse(ScimError::invalid_value(format!("\"{}\" {t}", self.at))))
    }
}

impl<'de> DeserializeSeed<'de> for Node<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Node<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: de::Error>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Bool(b))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<Value, E> {
        Ok(Value::from(n))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<Value, E> {
        match i64::try_from(n) {
            Ok(n) => Ok(Value::from(n)),
            Err(_) => Err(self.refuse(ScimError::invalid_value(format!(
                "\"{}\": {n} is out of range; integers must lie between {} and {}",
                self.at,
                i64::MIN,
                i64::MAX
            )))),
        }
    }

    fn visit_f64<E: de::Error>(self, n: f64) -> Result<Value, E> {
        // serde_json gives only finite numbers.
        Ok(serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: de::Error>(self, s: &str) -> Result<Value, E> {
        self.text(s)?;
        Ok(Value::String(s.to_owned()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Value, E> {
        self.text(&s)?;
        Ok(Value::String(s))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        loop {
            let child = Node {
                at: At {
                    parent: Some(&self.at),
                    seg: Seg::Index(out.len()),
                },
                refused: self.refused,
            };
            match seq.next_element_seed(child)? {
                Some(v) => out.push(v),
                None => return Ok(Value::Array(out)),
            }
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = Node {
                at: At {
                    parent: Some(&self.at),
                    seg: Seg::Key(&key),
                },
                refused: self.refused,
            };
            // The name is text too, and is reported as where it is.
            child.text::<A::Error>(&key)?;
            let value = map.next_value_seed(child)?;
            match out.entry(key) {
                Entry::Vacant(e) => {
                    e.insert(value);
                }
                Entry::Occupied(e) => {
                    let at = At {
                        parent: Some(&self.at),
                        seg: Seg::Key(e.key()),
                    };
                    return Err(self.refuse(ScimError::invalid_syntax(format!(
                        "\"{at}\" is given twice; a member name may appear once in an object"
                    ))));
                }
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ScimType;
    use serde_json::json;

    fn refused(body: &str) -> ScimError {
        parse(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn reads_what_serde_json_reads() {
        let body =
            r#"{"schemas": ["urn:x"], "a": [1, -2, 2.5, true, null, {"b": "c\td\n"}], "e": {}}"#;
        let strict = parse(body.as_bytes()).unwrap();
        let plain: Value = serde_json::from_str(body).unwrap();
        assert_eq!(strict, plain);
        let keys: Vec<&String> = strict.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["schemas", "a", "e"], "order is kept");
        assert_eq!(parse(b"\"x\"").unwrap(), json!("x"));
        assert_eq!(
            parse(i64::MIN.to_string().as_bytes()).unwrap(),
            json!(i64::MIN)
        );
        assert_eq!(
            parse(i64::MAX.to_string().as_bytes()).unwrap(),
            json!(i64::MAX)
        );
    }

    #[test]
    fn duplicate_member_names_are_invalid_syntax_where_they_are() {
        let e = refused(r#"{"userName": "a", "userName": "b"}"#);
        assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax));
        assert!(e.detail.starts_with("\"userName\" is given twice"), "{e}");
        let e = refused(r#"{"emails": [{"value": "a"}, {"type": "w", "type": "h"}]}"#);
        assert!(e.detail.starts_with("\"emails[1].type\""), "{e}");
        // Names differing in case are the schema's business, not JSON's.
        assert!(parse(br#"{"userName": "a", "username": "b"}"#).is_ok());
    }

    #[test]
    fn control_characters_are_refused_naming_the_attribute() {
        let e = refused(r#"{"name": {"givenName": "a\u0000b"}}"#);
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        assert_eq!(
            e.detail,
            "\"name.givenName\" must not contain the control character U+0000"
        );
        let e = refused(
            r#"{"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "\u001b[0m"}}"#,
        );
        assert!(
            e.detail.starts_with(
                "\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department\""
            ),
            "{e}"
        );
        assert!(e.detail.ends_with("U+001B"), "{e}");
        let e = refused(r#"{"Operations": [{"value": {"a\u0007": 1}}]}"#);
        assert!(e.detail.contains("Operations[0].value.a"), "{e}");
        let e = refused(r#"["\u0001"]"#);
        assert!(e.detail.starts_with("\"[0]\""), "{e}");
        let e = refused(r#""\u0000""#);
        assert!(e.detail.starts_with("\"the body\""), "{e}");
        for ok in ["\t", "\n", "\r", "\u{7f}", "é", "😀"] {
            assert!(
                parse(json!({ "a": ok }).to_string().as_bytes()).is_ok(),
                "{ok:?}"
            );
        }
    }

    #[test]
    fn limits_on_length_and_range() {
        let long = json!({ "title": "x".repeat(MAX_STRING_BYTES + 1) }).to_string();
        let e = refused(&long);
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        assert!(e.detail.contains("\"title\" is 65537 bytes long"), "{e}");
        assert!(
            parse(
                json!({ "title": "x".repeat(MAX_STRING_BYTES) })
                    .to_string()
                    .as_bytes()
            )
            .is_ok()
        );
        let e = refused(r#"{"a": {"b": [18446744073709551615]}}"#);
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        assert!(
            e.detail
                .starts_with("\"a.b[0]\": 18446744073709551615 is out of range"),
            "{e}"
        );
        assert_eq!(check_text("ok", 2), Ok(()));
        assert_eq!(
            check_text("abc", 2),
            Err(TextError::TooLong { len: 3, max: 2 })
        );
        assert_eq!(check_text("a\u{1f}", 9), Err(TextError::Control('\u{1f}')));
    }

    #[test]
    fn what_is_no_json_is_invalid_syntax() {
        for body in [
            r#"{"a": "\ud800"}"#,
            r#"{"a": "\udc00"}"#,
            r#"{"a": 1e400}"#,
            r#"{"a": 1} x"#,
            "{\"a\": \"raw\u{1}control\"}",
            "",
        ] {
            let e = refused(body);
            assert_eq!(e.scim_type, Some(ScimType::InvalidSyntax), "{body}: {e}");
            assert!(e.detail.starts_with("the body is not valid JSON"), "{e}");
        }
        let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
        assert_eq!(refused(&deep).scim_type, Some(ScimType::InvalidSyntax));
    }
}
