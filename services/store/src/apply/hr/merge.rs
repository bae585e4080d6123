//! Which of an HR event's attributes replace what a user has: an attribute
//! is taken unless the value in place took effect later (an event older
//! than the last applied change of that attribute does not overwrite it),
//! or the identity provider owns it and has set it (precedence). Pure.
//!
//! Attributes are compared at the granularity precedence is written in:
//! a top-level attribute (`title`, `name`, `emails`), or one attribute of
//! an extension (`urn:…:enterprise:2.0:User:department`), case-insensitive.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use uuid::Uuid;

/// When a value took effect, and which event brought it (the tie-break
/// between two events of the same effective time: the later accepted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Stamp {
    pub effective: DateTime<Utc>,
    pub event: Uuid,
}

impl Stamp {
    fn to_json(self) -> Value {
        Value::Array(vec![
            Value::String(self.effective.to_rfc3339()),
            Value::String(self.event.to_string()),
        ])
    }

    fn from_json(v: &Value) -> Option<Stamp> {
        let a = v.as_array()?;
        let effective = DateTime::parse_from_rfc3339(a.first()?.as_str()?)
            .ok()?
            .with_timezone(&Utc);
        let event = Uuid::parse_str(a.get(1)?.as_str()?).ok()?;
        Some(Stamp { effective, event })
    }
}

/// Keys that are not attributes an event can set.
const NOT_ATTRIBUTES: [&str; 4] = ["schemas", "id", "meta", "externalid"];

/// The attributes of a (SCIM JSON) user at precedence granularity: the
/// lower-cased name, and where it is (`None`: top level; `Some(urn)`:
/// inside that extension's object).
fn attributes(doc: &Value) -> Vec<(String, Option<String>, String)> {
    let mut out = Vec::new();
    let Some(obj) = doc.as_object() else {
        return out;
    };
    for (k, v) in obj {
        if NOT_ATTRIBUTES.contains(&k.to_lowercase().as_str()) {
            continue;
        }
        if k.starts_with("urn:") {
            if let Some(ext) = v.as_object() {
                for sub in ext.keys() {
                    out.push((
                        format!("{k}:{sub}").to_lowercase(),
                        Some(k.clone()),
                        sub.clone(),
                    ));
                }
            }
        } else {
            out.push((k.to_lowercase(), None, k.clone()));
        }
    }
    out
}

/// The attribute names of a user, lower-cased (what the identity provider
/// is taken to have set on a user it made before HR knew of it).
pub fn names(doc: &Value) -> Vec<String> {
    attributes(doc).into_iter().map(|(n, _, _)| n).collect()
}

/// The key of `obj` equal to `key` but for case.
fn key_ci(obj: &Map<String, Value>, key: &str) -> Option<String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(key)).cloned()
}

/// Sets `key` of `obj` (replacing a key that differs only in case).
fn put(obj: &mut Map<String, Value>, key: &str, value: Value) {
    if let Some(old) = key_ci(obj, key) {
        obj.remove(&old);
    }
    obj.insert(key.to_string(), value);
}

/// Sets attribute `key` (of extension `ext`, when given) of `doc`.
fn place(doc: &mut Map<String, Value>, ext: Option<&str>, key: &str, value: Value) {
    let Some(urn) = ext else {
        put(doc, key, value);
        return;
    };
    let urn_key = key_ci(doc, urn).unwrap_or_else(|| urn.to_string());
    let slot = doc
        .entry(urn_key)
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Some(o) = slot.as_object_mut() {
        put(o, key, value);
    }
}

/// What merging an event did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Merged {
    /// The user with the event's attributes that were taken.
    pub doc: Value,
    /// Attributes taken.
    pub taken: Vec<String>,
    /// Attributes left because the value in place took effect later.
    pub older: Vec<String>,
    /// Attributes left because the identity provider owns and set them.
    pub idp_owned: Vec<String>,
}

/// Who owns what.
pub struct Precedence<'a> {
    /// Whether HR owns an attribute (lower-cased name).
    pub hr_owns: &'a (dyn Fn(&str) -> bool + Sync),
    /// Attributes the identity provider has set (lower-cased names).
    pub idp_set: &'a [String],
}

/// Merges `event` (the attributes an HR event carries) into `existing`
/// (the user's document, `{}` for a new one), updating `times` (the
/// stamps of the values in place, by attribute).
pub fn merge(
    existing: &Value,
    event: &Value,
    stamp: Stamp,
    times: &mut Map<String, Value>,
    precedence: &Precedence<'_>,
) -> Merged {
    let mut doc = existing.as_object().cloned().unwrap_or_default();
    let mut m = Merged::default();
    for (name, ext, key) in attributes(event) {
        let value = match &ext {
            None => event.get(&key),
            Some(urn) => event.get(urn).and_then(|e| e.get(&key)),
        };
        let Some(value) = value else { continue };
        if times
            .get(&name)
            .and_then(Stamp::from_json)
            .is_some_and(|held| stamp < held)
        {
            m.older.push(name);
            continue;
        }
        if !(precedence.hr_owns)(&name) && precedence.idp_set.contains(&name) {
            m.idp_owned.push(name);
            continue;
        }
        place(&mut doc, ext.as_deref(), &key, value.clone());
        times.insert(name.clone(), stamp.to_json());
        m.taken.push(name);
    }
    m.doc = Value::Object(doc);
    m
}

/// The value of attribute `name` (lower-cased, as [`attributes`] names
/// it) in `doc`.
fn value_of<'d>(doc: &'d Value, name: &str) -> Option<&'d Value> {
    attributes(doc)
        .into_iter()
        .find(|(n, _, _)| n == name)
        .and_then(|(_, ext, key)| match ext {
            None => doc.get(&key),
            Some(urn) => doc.get(&urn).and_then(|e| e.get(&key)),
        })
}

/// Removes attribute `name` from `doc`; the extension's URN of an
/// extension attribute is in `ext` (as spelled in `doc`).
fn remove(doc: &mut Value, ext: Option<&str>, key: &str) {
    let Some(o) = doc.as_object_mut() else {
        return;
    };
    match ext {
        None => {
            o.remove(key);
        }
        Some(urn) => {
            if let Some(e) = o.get_mut(urn).and_then(Value::as_object_mut) {
                e.remove(key);
            }
        }
    }
}

/// What a SCIM write may change of a user HR manages: an attribute HR
/// owns and has set keeps its value (the identity provider's is dropped);
/// an attribute the identity provider owns is recorded in `idp_set` when
/// it writes it, so that HR no longer overwrites it. Returns the
/// attributes kept.
pub fn guard(
    existing: &Value,
    new: &mut Value,
    times: &Map<String, Value>,
    hr_owns: &dyn Fn(&str) -> bool,
    idp_set: &mut Vec<String>,
) -> Vec<String> {
    let mut seen: Vec<(String, Option<String>, String)> = attributes(existing);
    for a in attributes(new) {
        if !seen.iter().any(|(n, _, _)| *n == a.0) {
            seen.push(a);
        }
    }
    let mut kept = Vec::new();
    for (name, ext, key) in seen {
        let before = value_of(existing, &name).cloned();
        let after = value_of(new, &name).cloned();
        if before == after {
            continue;
        }
        if hr_owns(&name) {
            if !times.contains_key(&name) {
                continue;
            }
            // Drop what the write says, under any spelling, and put back
            // what is in place.
            for (n, e, k) in attributes(new) {
                if n == name {
                    remove(new, e.as_deref(), &k);
                }
            }
            if let (Some(v), Some(o)) = (before, new.as_object_mut()) {
                place(o, ext.as_deref(), &key, v);
            }
            kept.push(name);
        } else if !idp_set.contains(&name) {
            idp_set.push(name);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const ENT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    fn stamp(day: u32, n: u128) -> Stamp {
        at(6, day, n)
    }

    fn at(month: u32, day: u32, n: u128) -> Stamp {
        Stamp {
            effective: DateTime::parse_from_rfc3339(&format!("2026-{month:02}-{day:02}T00:00:00Z"))
                .unwrap()
                .with_timezone(&Utc),
            event: Uuid::from_u128(n),
        }
    }

    fn hr_owns_title_and_department(a: &str) -> bool {
        a == "title" || a == format!("{ENT}:department").to_lowercase()
    }

    #[test]
    fn an_older_event_does_not_overwrite_a_newer_value_of_the_same_attribute() {
        let mut times = Map::new();
        let p = Precedence {
            hr_owns: &|_| true,
            idp_set: &[],
        };
        let june = merge(
            &json!({"userName": "t"}),
            &json!({"title": "Senior", ENT: {"department": "Tier 2"}}),
            stamp(1, 2),
            &mut times,
            &p,
        );
        assert_eq!(
            june.taken,
            vec!["title", &format!("{ENT}:department").to_lowercase()]
        );
        let may = merge(
            &june.doc,
            &json!({"title": "Engineer II", "displayName": "T R"}),
            at(5, 1, 3),
            &mut times,
            &p,
        );
        assert_eq!(may.older, vec!["title"]);
        assert_eq!(may.taken, vec!["displayname"]);
        assert_eq!(
            may.doc,
            json!({"userName": "t", "title": "Senior", "displayName": "T R",
                   ENT: {"department": "Tier 2"}})
        );
        // Same effective time: the later accepted event wins.
        let tie = merge(
            &may.doc,
            &json!({"title": "Lead"}),
            stamp(1, 5),
            &mut times,
            &p,
        );
        assert_eq!(tie.doc["title"], "Lead");
    }

    #[test]
    fn the_identity_provider_keeps_what_it_owns_and_set() {
        let mut times = Map::new();
        let idp_set = vec!["emails".to_string(), "title".to_string()];
        let p = Precedence {
            hr_owns: &hr_owns_title_and_department,
            idp_set: &idp_set,
        };
        let m = merge(
            &json!({"emails": [{"value": "idp@x"}], "title": "from idp"}),
            &json!({"emails": [{"value": "hr@x"}], "title": "from hr",
                    "nickName": "n", "externalId": "9", "schemas": []}),
            stamp(2, 1),
            &mut times,
            &p,
        );
        assert_eq!(m.idp_owned, vec!["emails"]);
        assert_eq!(m.doc["emails"], json!([{"value": "idp@x"}]));
        assert_eq!(m.doc["title"], "from hr");
        // Not set by the identity provider: HR fills it in.
        assert_eq!(m.doc["nickName"], "n");
        assert!(m.doc.get("externalId").is_none() && m.doc.get("schemas").is_none());
        assert!(!times.contains_key("emails") && times.contains_key("title"));
    }

    #[test]
    fn a_scim_write_keeps_what_hr_owns_and_set_and_records_what_the_idp_set() {
        let mut times = Map::new();
        times.insert("title".into(), stamp(1, 1).to_json());
        times.insert(
            format!("{ENT}:department").to_lowercase(),
            stamp(1, 1).to_json(),
        );
        let existing = json!({"userName": "u", "title": "HR title",
                              ENT: {"department": "HR dept"}});
        let mut new = json!({"userName": "u", "title": "IdP title", "nickName": "nick",
                             "emails": [{"value": "a@x"}], "displayName": "IdP name",
                             ENT: {"costCenter": "9"}});
        let mut idp_set = vec!["emails".to_string()];
        let kept = guard(
            &existing,
            &mut new,
            &times,
            &|a: &str| {
                ["title", "displayname"].contains(&a)
                    || a.starts_with("urn:") && a.ends_with(":department")
            },
            &mut idp_set,
        );
        assert_eq!(
            kept,
            vec!["title", &format!("{ENT}:department").to_lowercase()]
        );
        assert_eq!(
            new,
            json!({"userName": "u", "title": "HR title", "nickName": "nick",
                   "emails": [{"value": "a@x"}], "displayName": "IdP name",
                   ENT: {"costCenter": "9", "department": "HR dept"}})
        );
        // displayName: HR owns it but never set it, so the IdP's stays and
        // is not recorded as the IdP's.
        assert_eq!(
            idp_set,
            vec![
                "emails",
                "nickname",
                &format!("{ENT}:costcenter").to_lowercase()
            ]
        );
    }

    #[test]
    fn keys_differing_in_case_are_one_attribute() {
        let mut times = Map::new();
        let p = Precedence {
            hr_owns: &|_| true,
            idp_set: &[],
        };
        let m = merge(
            &json!({"displayName": "a", ENT: {"costCenter": "1"}}),
            &json!({"displayname": "b", ENT: {"costcenter": "2"}}),
            stamp(3, 1),
            &mut times,
            &p,
        );
        assert_eq!(m.doc, json!({"displayname": "b", ENT: {"costcenter": "2"}}));
        let mut got = names(&m.doc);
        got.sort();
        assert_eq!(
            got,
            vec!["displayname", &format!("{ENT}:costcenter").to_lowercase()]
        );
    }
}
