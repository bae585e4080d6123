//! Single CEL expressions over named variables, compiled in the same
//! environment as a [`crate::Mapping`]'s `set` (the standard library, its
//! macros `has`, `all`, `exists`, `exists_one`, `map`, `filter`, optional
//! values, and the strings extension), for configurations that compute
//! values from something else than a SCIM resource: HR sources map an HR
//! event with them. One language for every mapping in scimbus, not two.
//!
//! A failure tells a missing key apart from every other failure, because a
//! caller that maps partial documents (an HR update carries only what
//! changed) reads "no such key" as "this input does not say", and anything
//! else as a mistake.

use std::collections::HashMap;
use std::sync::Arc;

use cel::objects::OptionalValue;
use cel::{Context, Env, ExecutionError, Program, Value as CelValue};
use serde_json::Value;

/// The environment of every scimbus CEL expression.
pub(crate) fn environment() -> Result<Env, String> {
    let mut env = Env::stdlib();
    cel::extensions::strings(&mut env).map_err(|e| format!("CEL strings extension: {e}"))?;
    Ok(env)
}

/// Compiles expressions and makes the scopes they are evaluated in.
#[derive(Clone)]
pub struct Cel {
    env: Arc<Env>,
}

impl std::fmt::Debug for Cel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cel")
    }
}

/// One compiled expression, with its source (for messages).
pub struct Expression {
    source: String,
    program: Program,
}

impl std::fmt::Debug for Expression {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Expression").field(&self.source).finish()
    }
}

/// Variables an expression is evaluated against. A scope made with
/// [`Scope::inner`] sees its parent's variables, so a large variable shared
/// by many evaluations (a whole request body) is converted once.
pub struct Scope<'p> {
    ctx: Context<'p, 'static>,
}

impl std::fmt::Debug for Scope<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scope")
    }
}

/// Why an expression gave no value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// A field or map key that the input does not have (CEL's "no such
    /// key"). A variable that is not bound is not one: it is
    /// [`EvalError::Failed`], as a misspelt name must not read as "absent".
    #[error("no such key: {0}")]
    NoSuchKey(String),
    /// Anything else: a type error, a bad function call, an index out of
    /// range, a value that is not JSON.
    #[error("{0}")]
    Failed(String),
}

/// What an expression evaluated to.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// A value (`null` included).
    Value(Value),
    /// CEL's `optional.none()`: the expression says, in CEL's own terms,
    /// that there is nothing (`list[?0]` of an empty list, `map[?key]`, …).
    Absent,
}

impl Cel {
    pub fn new() -> Result<Cel, String> {
        Ok(Cel {
            env: Arc::new(environment()?),
        })
    }

    /// Compiles `source`; the error is CEL's message.
    pub fn compile(&self, source: &str) -> Result<Expression, String> {
        let program = self.env.compile(source).map_err(|e| e.to_string())?;
        Ok(Expression {
            source: source.to_string(),
            program,
        })
    }

    /// An empty root scope.
    pub fn scope(&self) -> Scope<'static> {
        Scope {
            ctx: Context::with_env(self.env.clone()),
        }
    }
}

impl Expression {
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Evaluates the expression in `scope`.
    pub fn evaluate(&self, scope: &Scope<'_>) -> Result<Outcome, EvalError> {
        let value = self.program.execute(&scope.ctx).map_err(|e| match e {
            ExecutionError::NoSuchKey(k) => EvalError::NoSuchKey(k.to_string()),
            other => EvalError::Failed(other.to_string()),
        })?;
        let value = match <&OptionalValue>::try_from(&value) {
            // `optional.of(x)` is x; `optional.none()` is nothing.
            Ok(opt) => match opt.value() {
                Some(inner) => inner.clone(),
                None => return Ok(Outcome::Absent),
            },
            Err(_) => value,
        };
        value
            .json()
            .map(Outcome::Value)
            .map_err(|e| EvalError::Failed(format!("the value is not JSON: {e}")))
    }
}

/// A JSON value as CEL sees it (see [`Scope::bind`]).
fn to_cel(v: &Value) -> CelValue {
    match v {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => CelValue::Int(i),
            (None, Some(u)) => CelValue::UInt(u),
            _ => CelValue::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(a) => CelValue::List(Arc::new(a.iter().map(to_cel).collect())),
        Value::Object(o) => o
            .iter()
            .map(|(k, v)| (k.clone(), to_cel(v)))
            .collect::<HashMap<String, CelValue>>()
            .into(),
    }
}

impl Scope<'_> {
    /// Binds `name` to a JSON value. A JSON integer is a CEL `int` (a
    /// `uint` only above `int`'s range), so that `event.id + 1` and
    /// `event.id == 42` read as written; other numbers are `double`.
    pub fn bind(&mut self, name: &str, value: &Value) {
        self.ctx.add_variable_from_value(name, to_cel(value));
    }

    /// A child scope: its own variables, and this one's.
    pub fn inner(&self) -> Scope<'_> {
        Scope {
            ctx: self.ctx.new_inner_scope(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn eval(source: &str, event: Value) -> Result<Outcome, EvalError> {
        let cel = Cel::new().unwrap();
        let e = cel.compile(source).unwrap();
        let mut root = cel.scope();
        root.bind("body", &json!({"ts": "t"}));
        let mut scope = root.inner();
        scope.bind("event", &event);
        e.evaluate(&scope)
    }

    #[test]
    fn a_missing_key_is_told_apart_from_other_failures() {
        let ev = json!({"a": {"b": 1}, "s": "x", "l": [{"k": "p", "v": 2}]});
        assert_eq!(
            eval("event.a.b + 1", ev.clone()),
            Ok(Outcome::Value(json!(2)))
        );
        assert_eq!(eval("body.ts", ev.clone()), Ok(Outcome::Value(json!("t"))));
        assert_eq!(
            eval("event.a.c", ev.clone()),
            Err(EvalError::NoSuchKey("c".into()))
        );
        assert_eq!(
            eval("event.z.c", ev.clone()),
            Err(EvalError::NoSuchKey("z".into()))
        );
        assert_eq!(
            eval("event['z']", ev.clone()),
            Err(EvalError::NoSuchKey("z".into()))
        );
        assert!(matches!(
            eval("event.s + 1", ev.clone()),
            Err(EvalError::Failed(_))
        ));
        assert!(matches!(
            eval("event.s.c", ev.clone()),
            Err(EvalError::Failed(_))
        ));
        assert!(matches!(
            eval("evnt.a", ev.clone()),
            Err(EvalError::Failed(_))
        ));
        assert!(matches!(
            eval("nope(event)", ev.clone()),
            Err(EvalError::Failed(_))
        ));
        assert_eq!(
            eval("event.l.filter(x, x.k == 'p')[?0].v", ev.clone()),
            Ok(Outcome::Value(json!(2)))
        );
        assert_eq!(
            eval("event.l.filter(x, x.k == 'q')[?0].v", ev.clone()),
            Ok(Outcome::Absent)
        );
        assert_eq!(
            eval(
                "event.l.exists(x, x.k == 'p') && event.l.map(x, x.v)[0] == 2",
                ev
            ),
            Ok(Outcome::Value(json!(true)))
        );
    }
}
