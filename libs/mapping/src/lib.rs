//! scimbus-mapping: attribute mappings as configuration writes them —
//! which attributes go (`keep`), which do not (`drop`), and attributes set
//! from [CEL](https://cel.dev) expressions (`set`), evaluated with the
//! standard library and the strings extension (`lowerAscii`, `split`,
//! `join`, `replace`, `trim`, `substring` …) over `resource`, the whole
//! SCIM resource as scimbus holds it (with `id` and `meta`).
//!
//! ```text
//! keep = ["userName", "name", "emails", "active"]
//! drop = ["phoneNumbers"]
//! [set]
//! "userName"        = "resource.userName.lowerAscii()"
//! "displayName"     = "[resource.name.givenName, resource.name.familyName].join(' ')"
//! "title"           = "has(resource.title) ? resource.title : 'Staff'"
//! "externalId"      = "resource.id"
//! "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter" = "'4130'"
//! ```
//!
//! A `set` that evaluates to `null` removes the attribute. Paths are
//! `attr`, `attr.sub`, or an extension's `urn:…:attr[.sub]`. An expression
//! that does not compile stops the configuration with the attribute named;
//! one that fails on a resource fails that resource's mapping (the caller
//! parks it) with the attribute and CEL's message.

use std::collections::BTreeMap;
use std::sync::Arc;

use cel::{Context, Env, Program};

pub mod expr;
pub use expr::{Cel, EvalError, Expression, Outcome, Scope};
use serde_json::{Map, Value};

/// A mapping that cannot be used, or failed on a resource.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("mapping of \"{attribute}\": {message}")]
pub struct MappingError {
    pub attribute: String,
    pub message: String,
}

/// A compiled mapping.
pub struct Mapping {
    env: Arc<Env>,
    keep: Option<Vec<Path>>,
    drop: Vec<Path>,
    set: Vec<(Path, String, Program)>,
}

impl std::fmt::Debug for Mapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mapping")
            .field("keep", &self.keep)
            .field("drop", &self.drop)
            .field(
                "set",
                &self.set.iter().map(|(p, s, _)| (p, s)).collect::<Vec<_>>(),
            )
            .finish()
    }
}

/// An attribute path: the top-level key (an extension's URN for its
/// attributes) and the keys below it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    pub text: String,
    keys: Vec<String>,
}

impl Path {
    pub fn parse(text: &str) -> Result<Path, MappingError> {
        let bad = |m: &str| MappingError {
            attribute: text.to_string(),
            message: m.to_string(),
        };
        let keys: Vec<String> = if text.starts_with("urn:") {
            let (urn, rest) = text
                .rsplit_once(':')
                .ok_or_else(|| bad("an extension path is urn:…:attribute"))?;
            std::iter::once(urn.to_string())
                .chain(rest.split('.').map(str::to_string))
                .collect()
        } else {
            text.split('.').map(str::to_string).collect()
        };
        if keys.iter().any(|k| k.is_empty()) {
            return Err(bad("not an attribute path"));
        }
        Ok(Path {
            text: text.to_string(),
            keys,
        })
    }

    /// The top-level key.
    pub fn top(&self) -> &str {
        &self.keys[0]
    }

    /// The keys in `doc`: a whole extension (`urn:…:User`) when `doc` has
    /// that key, else an extension's attribute (`urn:…:User:attr`).
    fn keys_in(&self, doc: &Value) -> Vec<String> {
        if self.text.starts_with("urn:") && doc.get(&self.text).is_some() {
            vec![self.text.clone()]
        } else {
            self.keys.clone()
        }
    }

    /// The value at this path in `doc`, if any.
    pub fn get<'v>(&self, doc: &'v Value) -> Option<&'v Value> {
        self.keys_in(doc)
            .iter()
            .try_fold(doc, |node, k| node.get(k))
    }

    /// Puts `value` at this path in `doc`, making the objects on the way
    /// (an HR source builds its SCIM user this way).
    pub fn set(&self, doc: &mut Value, value: Value) {
        let keys = self.keys_in(doc);
        let mut node = doc;
        for k in &keys[..keys.len() - 1] {
            if !node.get(k).is_some_and(Value::is_object)
                && let Some(o) = node.as_object_mut()
            {
                o.insert(k.clone(), Value::Object(Map::new()));
            }
            match node.get_mut(k) {
                Some(n) => node = n,
                None => return,
            }
        }
        if let (Some(o), Some(last)) = (node.as_object_mut(), keys.last()) {
            o.insert(last.clone(), value);
        }
    }

    fn remove(&self, doc: &mut Value) {
        let keys = self.keys_in(doc);
        let mut node = doc;
        for k in &keys[..keys.len() - 1] {
            match node.get_mut(k) {
                Some(n) => node = n,
                None => return,
            }
        }
        if let (Some(o), Some(last)) = (node.as_object_mut(), keys.last()) {
            o.remove(last);
        }
    }
}

impl Mapping {
    /// Compiles a mapping; an error names the attribute.
    pub fn compile(
        keep: Option<&[String]>,
        drop: &[String],
        set: &BTreeMap<String, String>,
    ) -> Result<Mapping, MappingError> {
        let env = Arc::new(expr::environment().map_err(|message| MappingError {
            attribute: "-".into(),
            message,
        })?);
        let paths = |list: &[String]| {
            list.iter()
                .map(|p| Path::parse(p))
                .collect::<Result<Vec<_>, _>>()
        };
        let keep = keep.map(paths).transpose()?;
        let drop = paths(drop)?;
        let mut compiled = Vec::with_capacity(set.len());
        for (attr, source) in set {
            let path = Path::parse(attr)?;
            let program = env.compile(source).map_err(|e| MappingError {
                attribute: attr.clone(),
                message: e.to_string(),
            })?;
            compiled.push((path, source.clone(), program));
        }
        Ok(Mapping {
            env,
            keep,
            drop,
            set: compiled,
        })
    }

    /// Whether the attribute at `path` (a canonical path of ours) reaches
    /// the target: not dropped, kept (when there is a keep list), or set.
    pub fn sends(&self, path: &str) -> bool {
        let Ok(p) = Path::parse(path) else {
            return true;
        };
        // A whole extension (`urn:…:User`) covers its attributes.
        let prefix = |a: &Path, b: &Path| {
            (a.keys.len() <= b.keys.len() && a.keys == b.keys[..a.keys.len()])
                || (a.text.starts_with("urn:") && b.text.starts_with(&format!("{}:", a.text)))
        };
        if self
            .set
            .iter()
            .any(|(s, _, _)| prefix(s, &p) || prefix(&p, s))
        {
            return true;
        }
        if self.drop.iter().any(|d| prefix(d, &p)) {
            return false;
        }
        match &self.keep {
            None => true,
            Some(keep) => keep.iter().any(|k| prefix(k, &p) || prefix(&p, k)),
        }
    }

    /// The paths `set` writes.
    pub fn set_paths(&self) -> impl Iterator<Item = &Path> {
        self.set.iter().map(|(p, _, _)| p)
    }

    /// Maps `body` (what would be sent without a mapping), with `resource`
    /// (the whole resource) as the expressions' input.
    pub fn apply(&self, resource: &Value, body: &Value) -> Result<Value, MappingError> {
        let mut out = match &self.keep {
            None => body.clone(),
            Some(keep) => {
                let mut o = Map::new();
                if let Some(s) = body.get("schemas") {
                    o.insert("schemas".into(), s.clone());
                }
                let mut kept = Value::Object(o);
                for p in keep {
                    if let Some(v) = p.get(body) {
                        p.set(&mut kept, v.clone());
                    }
                }
                kept
            }
        };
        for p in &self.drop {
            p.remove(&mut out);
        }
        if self.set.is_empty() {
            return Ok(out);
        }
        let mut ctx = Context::with_env(self.env.clone());
        ctx.add_variable("resource", resource.clone())
            .map_err(|e| MappingError {
                attribute: "resource".into(),
                message: e.to_string(),
            })?;
        for (path, _, program) in &self.set {
            let fail = |message: String| MappingError {
                attribute: path.text.clone(),
                message,
            };
            let value = program
                .execute(&ctx)
                .map_err(|e| fail(e.to_string()))?
                .json()
                .map_err(|e| fail(format!("the value is not JSON: {e}")))?;
            if value.is_null() {
                path.remove(&mut out);
            } else {
                path.set(&mut out, value);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn resource() -> Value {
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ENT],
            "id": "2819c223",
            "userName": "BJensen",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "emails": [{"value": "bjensen@example.com", "primary": true}],
            "phoneNumbers": [{"value": "555"}],
            "active": true,
            ENT: {"department": "Tour Operations", "costCenter": "4130"}
        })
    }

    fn body() -> Value {
        let mut b = resource();
        b.as_object_mut().unwrap().remove("id");
        b
    }

    fn mapping(keep: Option<&[&str]>, drop: &[&str], set: &[(&str, &str)]) -> Mapping {
        let keep: Option<Vec<String>> = keep.map(|k| k.iter().map(|s| s.to_string()).collect());
        let drop: Vec<String> = drop.iter().map(|s| s.to_string()).collect();
        let set: BTreeMap<String, String> = set
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        Mapping::compile(keep.as_deref(), &drop, &set).unwrap()
    }

    #[test]
    fn transforms_renames_constants_conditions_and_extensions() {
        let m = mapping(
            None,
            &["phoneNumbers", "name.familyName"],
            &[
                ("userName", "resource.userName.lowerAscii()"),
                (
                    "displayName",
                    "[resource.name.givenName, resource.name.familyName].join(' ')",
                ),
                ("nickName", "resource.userName.substring(0, 2)"),
                ("title", "has(resource.title) ? resource.title : 'Staff'"),
                ("externalId", "resource.id"),
                ("userType", "'Employee'"),
                ("name.middleName", "resource.name.givenName.split('r')[0]"),
                (
                    "division",
                    "resource['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'].department",
                ),
                (
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter",
                    "null",
                ),
            ],
        );
        let out = m.apply(&resource(), &body()).unwrap();
        assert_eq!(out["userName"], "bjensen");
        assert_eq!(out["displayName"], "Barbara Jensen");
        assert_eq!(out["nickName"], "BJ");
        assert_eq!(out["title"], "Staff");
        assert_eq!(out["externalId"], "2819c223");
        assert_eq!(out["userType"], "Employee");
        assert_eq!(
            out["name"],
            json!({"givenName": "Barbara", "middleName": "Ba"})
        );
        assert_eq!(out["division"], "Tour Operations");
        assert_eq!(out[ENT], json!({"department": "Tour Operations"}));
        assert!(out.get("phoneNumbers").is_none());
        assert_eq!(out["emails"], resource()["emails"]);
    }

    #[test]
    fn keep_is_an_allow_list() {
        let m = mapping(
            Some(&[
                "userName",
                "name.givenName",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            ]),
            &[],
            &[],
        );
        let out = m.apply(&resource(), &body()).unwrap();
        assert_eq!(
            out,
            json!({
                "schemas": resource()["schemas"],
                "userName": "BJensen",
                "name": {"givenName": "Barbara"},
                ENT: {"department": "Tour Operations"}
            })
        );
    }

    #[test]
    fn what_is_sent() {
        let m = mapping(
            Some(&["userName", "name"]),
            &["name.middleName"],
            &[("title", "'x'")],
        );
        assert!(m.sends("userName"));
        assert!(m.sends("name.givenName"));
        assert!(!m.sends("name.middleName"));
        assert!(m.sends("title"));
        assert!(!m.sends("emails"));
        assert!(mapping(None, &["emails"], &[]).sends("active"));
        let whole = mapping(None, &[ENT], &[]);
        assert!(!whole.sends(&format!("{ENT}:department")));
        let out = whole.apply(&resource(), &body()).unwrap();
        assert!(out.get(ENT).is_none());
        assert!(!mapping(None, &["emails"], &[]).sends("emails"));
    }

    #[test]
    fn errors_name_the_attribute() {
        let set: BTreeMap<String, String> =
            [("title".to_string(), "resource.title +".to_string())].into();
        let e = Mapping::compile(None, &[], &set).unwrap_err();
        assert_eq!(e.attribute, "title");
        let m = mapping(None, &[], &[("title", "resource.title.lowerAscii()")]);
        let e = m.apply(&resource(), &body()).unwrap_err();
        assert_eq!(e.attribute, "title");
        assert!(e.to_string().starts_with("mapping of \"title\": "), "{e}");
        for bad in ["name..x", "urn:"] {
            let e = Path::parse(bad).unwrap_err();
            assert_eq!(
                (e.attribute.as_str(), e.message.as_str()),
                (bad, "not an attribute path")
            );
        }
    }
}
