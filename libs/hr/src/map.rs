//! The CEL mapping of one HR event to an [`HrEvent`], in the same CEL
//! environment as the outbound mappings (`scimbus_mapping`).
//!
//! HR updates carry only what changed, so an expression that fails only
//! because the event lacks a key (CEL's "no such key") or that gives
//! `optional.none()` means "this event does not carry that attribute"; any
//! other failure is an error naming the attribute. `employee_id` and
//! `kind` must give a value.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use scimbus_mapping::{Cel, EvalError, Expression, MappingError, Outcome, Path, Scope};
use serde_json::{Map, Value};

use crate::effective::effective_at;
use crate::event::{HrEvent, Kind};
use crate::ids::{check_id, derived_id};
use crate::spec::{MappingSpec, SpecError};

pub const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A failure of one event: its id when known, and why.
pub(crate) type Failure = (Option<String>, String);

/// A compiled [`MappingSpec`].
pub(crate) struct EventMapping {
    cel: Cel,
    employee_id: Expression,
    kind: Expression,
    effective: Option<Expression>,
    event_id: Option<Expression>,
    user_name: Option<Expression>,
    manager: Option<Expression>,
    set: Vec<(Path, Expression)>,
    zone: Tz,
}

impl std::fmt::Debug for EventMapping {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventMapping")
            .field("employee_id", &self.employee_id)
            .field("kind", &self.kind)
            .field("set", &self.set.len())
            .field("zone", &self.zone)
            .finish()
    }
}

/// Why an attribute path cannot be `set` by an HR mapping, if it cannot:
/// what the mapping has a field of its own for, or the store decides.
fn reserved(path: &Path) -> Option<&'static str> {
    let manager = format!("{ENTERPRISE_USER}:manager");
    match path.text.as_str() {
        "externalId" => Some("comes from mapping.employee_id"),
        "userName" => Some("comes from mapping.user_name"),
        "active" => Some("follows from the event's kind"),
        "id" | "meta" | "schemas" => Some("is scimbus's own"),
        t if t == manager || t.starts_with(&format!("{manager}.")) => {
            Some("comes from mapping.manager (the store resolves the HR id)")
        }
        _ => None,
    }
}

/// The message of a failed attribute, as the outbound mappings write it.
fn failed(attribute: &str, message: impl Into<String>) -> String {
    MappingError {
        attribute: attribute.to_string(),
        message: message.into(),
    }
    .to_string()
}

impl EventMapping {
    /// Compiles every expression and attribute path; an error names the
    /// field (`mapping.set.title`).
    pub(crate) fn compile(spec: &MappingSpec, zone: Tz) -> Result<EventMapping, SpecError> {
        let cel = Cel::new().map_err(|e| SpecError::new("mapping", e))?;
        let one = |field: &str, source: &str| {
            cel.compile(source)
                .map_err(|e| SpecError::new(format!("mapping.{field}"), e))
        };
        let opt = |field: &str, source: &Option<String>| {
            source.as_deref().map(|s| one(field, s)).transpose()
        };
        let mut set = Vec::with_capacity(spec.set.len());
        for (attr, source) in &spec.set {
            let field = format!("mapping.set.{attr}");
            let path = Path::parse(attr).map_err(|e| SpecError::new(&field, e.message))?;
            if let Some(why) = reserved(&path) {
                return Err(SpecError::new(field, why));
            }
            let e = cel.compile(source).map_err(|e| SpecError::new(&field, e))?;
            set.push((path, e));
        }
        Ok(EventMapping {
            employee_id: one("employee_id", &spec.employee_id)?,
            kind: one("kind", &spec.kind)?,
            effective: opt("effective", &spec.effective)?,
            event_id: opt("event_id", &spec.event_id)?,
            user_name: opt("user_name", &spec.user_name)?,
            manager: opt("manager", &spec.manager)?,
            set,
            zone,
            cel,
        })
    }

    /// The root scope of a request: `body` and `now` bound.
    pub(crate) fn scope(&self, body: &Value, now: DateTime<Utc>) -> Scope<'static> {
        let mut scope = self.cel.scope();
        scope.bind("body", body);
        scope.bind("now", &Value::String(now.to_rfc3339()));
        scope
    }

    /// Maps one event, `raw`, with `scope` (the request's) as the parent of
    /// its own.
    pub(crate) fn map(&self, scope: &Scope<'_>, raw: &Value) -> Result<HrEvent, Failure> {
        let mut scope = scope.inner();
        scope.bind("event", raw);
        let scope = &scope;
        let event_id = match &self.event_id {
            None => derived_id(raw),
            Some(e) => must(e, scope, "event_id")
                .and_then(|v| required_id("event_id", v))
                .map_err(|reason| (None, reason))?,
        };
        let fail = |reason: String| (Some(event_id.clone()), reason);
        let employee_id = must(&self.employee_id, scope, "employee_id")
            .and_then(|v| required_id("employee_id", v))
            .map_err(fail)?;
        let kind = match must(&self.kind, scope, "kind").map_err(fail)? {
            Value::String(s) => s.parse::<Kind>().map_err(|e| failed("kind", e.to_string())),
            other => Err(failed("kind", format!("{other} is not a string"))),
        }
        .map_err(fail)?;
        let effective_at = match &self.effective {
            None => None,
            Some(e) => match eval(e, scope, "effective").map_err(fail)? {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) => {
                    Some(effective_at(&s, self.zone).map_err(|m| fail(failed("effective", m)))?)
                }
                Some(other) => {
                    return Err(fail(failed(
                        "effective",
                        format!("{other} is not a date or date-time string"),
                    )));
                }
            },
        };
        let mut user = Map::new();
        user.insert("schemas".into(), Value::Array(Vec::new()));
        user.insert("externalId".into(), Value::String(employee_id.clone()));
        let mut user = Value::Object(user);
        for (path, e) in &self.set {
            match eval(e, scope, &path.text).map_err(fail)? {
                None | Some(Value::Null) => {}
                Some(v) => path.set(&mut user, v),
            }
        }
        let named = match &self.user_name {
            None => None,
            Some(e) => match eval(e, scope, "userName").map_err(fail)? {
                None | Some(Value::Null) => None,
                Some(Value::String(s)) if !s.is_empty() => Some(s),
                Some(other) => {
                    return Err(fail(failed(
                        "userName",
                        format!("{other} is not a non-empty string"),
                    )));
                }
            },
        };
        match named.or_else(|| email(&user)) {
            Some(name) => {
                if let Some(o) = user.as_object_mut() {
                    o.insert("userName".into(), Value::String(name));
                }
            }
            None if kind == Kind::Hire => {
                return Err(fail(
                    "no userName: a hire needs a userName or an email, and the event has neither"
                        .into(),
                ));
            }
            None => {}
        }
        let schemas = schemas(&user);
        user["schemas"] = schemas;
        let manager_id = match &self.manager {
            None => None,
            Some(e) => match eval(e, scope, "manager").map_err(fail)? {
                None => None,
                Some(Value::Null) => Some(None),
                Some(Value::String(s)) if s.is_empty() => Some(None),
                Some(v) => Some(Some(required_id("manager", v).map_err(fail)?)),
            },
        };
        Ok(HrEvent {
            event_id,
            employee_id,
            kind,
            effective_at,
            user,
            manager_id,
            raw: raw.clone(),
        })
    }
}

/// The expression's value; None when the event lacks a key it reads (or
/// it gives `optional.none()`).
fn eval(e: &Expression, scope: &Scope<'_>, attribute: &str) -> Result<Option<Value>, String> {
    match e.evaluate(scope) {
        Ok(Outcome::Value(v)) => Ok(Some(v)),
        Ok(Outcome::Absent) | Err(EvalError::NoSuchKey(_)) => Ok(None),
        Err(EvalError::Failed(m)) => Err(failed(attribute, m)),
    }
}

/// The value of an expression that must give one: a missing key is an
/// error here.
fn must(e: &Expression, scope: &Scope<'_>, attribute: &str) -> Result<Value, String> {
    match e.evaluate(scope) {
        Ok(Outcome::Value(v)) => Ok(v),
        Ok(Outcome::Absent) => Err(failed(attribute, "the expression gave optional.none()")),
        Err(e) => Err(failed(attribute, e.to_string())),
    }
}

/// An id that must be there: a string, or an integer made its decimal
/// string.
fn required_id(attribute: &str, v: Value) -> Result<String, String> {
    let id = match v {
        Value::String(s) => s,
        Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
        other => {
            return Err(failed(
                attribute,
                format!("{other} is not a string or an integer"),
            ));
        }
    };
    check_id(&id).map_err(|m| failed(attribute, m))?;
    Ok(id)
}

/// The user's primary email, else its work email, else its first.
fn email(user: &Value) -> Option<String> {
    let emails = user.get("emails")?.as_array()?;
    let pick = emails
        .iter()
        .find(|e| e.get("primary") == Some(&Value::Bool(true)))
        .or_else(|| {
            emails
                .iter()
                .find(|e| e.get("type").and_then(Value::as_str) == Some("work"))
        })
        .or_else(|| emails.first())?;
    pick.get("value")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(String::from)
}

/// The core User schema and the extensions the user has attributes of.
fn schemas(user: &Value) -> Value {
    let mut out = vec![Value::String(CORE_USER.into())];
    if let Some(o) = user.as_object() {
        out.extend(
            o.keys()
                .filter(|k| k.starts_with("urn:"))
                .map(|k| Value::String(k.clone())),
        );
    }
    Value::Array(out)
}
