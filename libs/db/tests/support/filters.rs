//! Random filters over a data set: paths of every kind (columns, `doc`,
//! derived lists, unknown ones), every operator, literals drawn from the
//! stored values and bent (case, prefixes, neighbouring numbers and
//! instants, other JSON types, `null`).

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta};
use proptest::prelude::*;
use proptest::strategy::Union;
use scimbus_scim::filter::{CompValue, CompareOp, Filter};
use scimbus_scim::registry::get_ci;
use scimbus_scim::value::parse_datetime;
use scimbus_scim::{AttrPath, AttributeType, Registry, ResourceType};
use serde_json::{Number, Value};

/// A path to filter on, with the values the data holds there.
#[derive(Debug, Clone)]
pub struct Spec {
    pub path: AttrPath,
    pub kind: AttributeType,
    /// `meta` timestamps: columns, exact at any precision.
    pub exact_ns: bool,
    pub strings: Vec<String>,
    pub numbers: Vec<Number>,
}

#[derive(Debug, Clone)]
pub struct Catalog {
    pub attrs: Vec<Spec>,
    /// Complex attributes and the specs of the sub-attributes used in `[…]`.
    pub value_paths: Vec<(AttrPath, Vec<Spec>)>,
}

const WORDS: &[&str] = &[
    "", "x", "%", "_", "\\", "é", "Ω", "@", "com", "2011", "true", "-",
];

fn scalars<'v>(v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Array(items) => out.extend(items.iter()),
        other => out.push(other),
    }
}

/// A spec for `path` (relative to `parent` inside `[…]` when given).
fn spec(
    registry: &Registry,
    rt: &ResourceType,
    data: &[Value],
    path: &str,
    parent: Option<&str>,
) -> Spec {
    let full = match parent {
        Some(p) => format!("{p}.{path}"),
        None => path.to_string(),
    };
    let full_path = AttrPath::parse(&full).unwrap();
    let resolved = registry.resolve(rt, &full_path).ok();
    let (mut kind, mut sub) = (AttributeType::String, resolved.and_then(|r| r.sub));
    if let Some(r) = resolved {
        if r.leaf().is_complex() {
            sub = r.attr.sub("value");
        }
        kind = sub.unwrap_or(r.attr).kind;
    }
    let mut values = Vec::new();
    for doc in data {
        let mut top = Vec::new();
        match resolved {
            Some(r) => scalars_opt(r.value(doc), &mut top),
            None if full.eq_ignore_ascii_case("schemas") => {
                scalars_opt(doc.get("schemas"), &mut top)
            }
            None => {}
        }
        match sub {
            Some(s) => {
                for e in top.iter().filter_map(|e| e.as_object()) {
                    scalars_opt(get_ci(e, &s.name), &mut values);
                }
            }
            None => values.extend(top),
        }
    }
    let strings = values
        .iter()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let numbers = values
        .iter()
        .filter_map(|v| v.as_number().cloned())
        .collect();
    Spec {
        path: AttrPath::parse(path).unwrap(),
        kind,
        exact_ns: full.to_ascii_lowercase().starts_with("meta."),
        strings,
        numbers,
    }
}

fn scalars_opt<'v>(v: Option<&'v Value>, out: &mut Vec<&'v Value>) {
    if let Some(v) = v {
        scalars(v, out);
    }
}

pub fn catalog(
    registry: &Registry,
    rt: &ResourceType,
    data: &[Value],
    paths: &[&str],
    value_paths: &[(&str, &[&str])],
) -> Catalog {
    Catalog {
        attrs: paths
            .iter()
            .map(|p| spec(registry, rt, data, p, None))
            .collect(),
        value_paths: value_paths
            .iter()
            .map(|(p, subs)| {
                let specs = subs
                    .iter()
                    .map(|s| spec(registry, rt, data, s, Some(p)))
                    .collect();
                (AttrPath::parse(p).unwrap(), specs)
            })
            .collect(),
    }
}

/// Mostly operators the attribute's type allows (the rest are
/// `invalidFilter`, which must come out the same too).
fn op(kind: AttributeType) -> BoxedStrategy<CompareOp> {
    use CompareOp::*;
    let valid = match kind {
        AttributeType::Boolean => vec![Eq, Ne],
        AttributeType::Binary => vec![Eq, Ne, Co, Sw, Ew],
        AttributeType::Integer | AttributeType::Decimal => vec![Eq, Ne, Gt, Ge, Lt, Le],
        _ => vec![Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le],
    };
    prop_oneof![
        12 => proptest::sample::select(valid),
        1 => proptest::sample::select(vec![Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le]),
    ]
    .boxed()
}

fn pool_or_words(pool: &[String]) -> Vec<String> {
    if pool.is_empty() {
        WORDS.iter().map(|s| s.to_string()).collect()
    } else {
        pool.to_vec()
    }
}

fn string_lit(pool: &[String]) -> BoxedStrategy<CompValue> {
    let pool = pool_or_words(pool);
    (proptest::sample::select(pool), 0..8u8, 0..64usize)
        .prop_map(|(s, how, k)| {
            let chars: Vec<char> = s.chars().collect();
            let n = chars.len();
            let cut = |a: usize, b: usize| chars[a.min(b)..b].iter().collect::<String>();
            CompValue::Str(match how {
                0 => s,
                1 => s.to_uppercase(),
                2 => s.to_lowercase(),
                3 => cut(0, k % (n + 1)),
                4 => cut(n - k % (n + 1), n),
                5 => cut(k % (n + 1) / 2, k % (n + 1)),
                6 => format!("{s}z"),
                _ => WORDS[k % WORDS.len()].to_string(),
            })
        })
        .boxed()
}

fn date_lit(pool: &[String], exact_ns: bool) -> BoxedStrategy<CompValue> {
    let mut pool: Vec<String> = pool.to_vec();
    pool.push("2011-05-13T04:42:34Z".into());
    (proptest::sample::select(pool), 0..20u8)
        .prop_map(move |(s, how)| {
            let Some(t) = parse_datetime(&s) else {
                return CompValue::Str(s);
            };
            let shift = |d: TimeDelta| (t + d).to_rfc3339_opts(SecondsFormat::AutoSi, true);
            let east = FixedOffset::east_opt(5 * 3600 + 1800).unwrap();
            CompValue::Str(match how {
                0 => s,
                1 => t
                    .with_timezone(&east)
                    .to_rfc3339_opts(SecondsFormat::AutoSi, false),
                2 => shift(TimeDelta::seconds(1)),
                3 => shift(TimeDelta::seconds(-1)),
                4 => shift(TimeDelta::microseconds(1)),
                5 => shift(TimeDelta::microseconds(-1)),
                6 => s.chars().take(7).collect(),
                7 if exact_ns => shift(TimeDelta::nanoseconds(1)),
                8 if exact_ns => shift(TimeDelta::nanoseconds(-500)),
                7 | 8 => naive(t),
                9 => "yesterday".into(),
                _ => s,
            })
        })
        .boxed()
}

/// Without an offset (read as UTC).
fn naive(t: DateTime<FixedOffset>) -> String {
    t.naive_utc().format("%Y-%m-%dT%H:%M:%S%.f").to_string()
}

fn number_lit(pool: &[Number]) -> BoxedStrategy<CompValue> {
    let mut pool = pool.to_vec();
    pool.push(Number::from(0));
    (proptest::sample::select(pool), 0..8u8)
        .prop_map(|(n, how)| {
            let f = n.as_f64().unwrap_or(0.0);
            let i = n.as_i64();
            let num = match (how, i) {
                (0, _) => Some(n),
                (1, Some(i)) => i.checked_add(1).map(Number::from),
                (2, Some(i)) => i.checked_sub(1).map(Number::from),
                (3, _) => Number::from_f64(f + 0.5),
                (4, _) => Number::from_f64(f),
                (5, _) => Some(Number::from(u64::MAX)),
                (6, _) => Number::from_f64(1e20),
                _ => Some(Number::from(9_007_199_254_740_993_i64)),
            };
            CompValue::Number(num.unwrap_or(Number::from(-1)))
        })
        .boxed()
}

fn literal(spec: &Spec) -> BoxedStrategy<CompValue> {
    let typed = match spec.kind {
        AttributeType::DateTime => date_lit(&spec.strings, spec.exact_ns),
        AttributeType::Integer | AttributeType::Decimal => number_lit(&spec.numbers),
        AttributeType::Boolean => any::<bool>().prop_map(CompValue::Bool).boxed(),
        _ => string_lit(&spec.strings),
    };
    let other = prop_oneof![
        any::<bool>().prop_map(CompValue::Bool),
        (-3i64..50).prop_map(|i| CompValue::Number(i.into())),
        string_lit(&[]),
    ];
    prop_oneof![12 => typed, 2 => other].boxed()
}

fn leaf(spec: &Spec) -> BoxedStrategy<Filter> {
    let (p1, p2, p3) = (spec.path.clone(), spec.path.clone(), spec.path.clone());
    let null_op = prop_oneof![
        8 => proptest::sample::select(vec![CompareOp::Eq, CompareOp::Ne]),
        1 => Just(CompareOp::Gt),
    ];
    prop_oneof![
        2 => Just(Filter::Present(p1)),
        1 => null_op.prop_map(move |op| Filter::Compare(p2.clone(), op, CompValue::Null)),
        12 => (op(spec.kind), literal(spec))
            .prop_map(move |(op, v)| Filter::Compare(p3.clone(), op, v)),
    ]
    .boxed()
}

fn combine(leaves: BoxedStrategy<Filter>, depth: u32) -> BoxedStrategy<Filter> {
    leaves
        .prop_recursive(depth, 12, 2, |inner| {
            prop_oneof![
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
                (inner.clone(), inner.clone())
                    .prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
                inner.prop_map(|a| Filter::Not(Box::new(a))),
            ]
        })
        .boxed()
}

/// Filters over `cat`: comparisons, presence, value paths, combined with
/// `and`, `or` and `not` up to three levels.
pub fn filter(cat: Arc<Catalog>) -> BoxedStrategy<Filter> {
    let attrs = Union::new(cat.attrs.iter().map(leaf)).boxed();
    let vps: Vec<BoxedStrategy<Filter>> = cat
        .value_paths
        .iter()
        .filter(|(_, subs)| !subs.is_empty())
        .map(|(p, subs)| {
            let inner = combine(Union::new(subs.iter().map(leaf)).boxed(), 2);
            let p = p.clone();
            inner
                .prop_map(move |f| Filter::ValuePath(p.clone(), Box::new(f)))
                .boxed()
        })
        .collect();
    let leaves = prop_oneof![3 => attrs, 1 => Union::new(vps)].boxed();
    combine(leaves, 3)
}
