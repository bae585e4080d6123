//! The structs and enums of Rust source with what serde needs of them:
//! their `#[serde(…)]` arguments, their fields (name, arguments, the
//! tokens of the type) and their variants. Read from tokens, outside what
//! `#[cfg(test)]` guards; [`crate::serde_keys`] walks them.

use crate::lex::{Tok, close_of, lex, test_only};

/// `#[serde(…)]` arguments: `rename_all = "snake_case"` is
/// `("rename_all", Some("snake_case"))`, `untagged` is `("untagged", None)`.
pub type SerdeArgs = Vec<(String, Option<String>)>;

pub(crate) fn arg<'a>(args: &'a SerdeArgs, key: &str) -> Option<&'a str> {
    args.iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.as_deref())
}

pub(crate) fn flag(args: &SerdeArgs, key: &str) -> bool {
    args.iter().any(|(k, _)| k == key)
}

/// A named field: its name, serde arguments and the tokens of its type.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    pub serde: SerdeArgs,
    pub ty: Vec<Tok>,
}

/// What a struct or an enum variant holds.
#[derive(Debug, Clone)]
pub enum Shape {
    Named(Vec<Field>),
    Tuple(Vec<Tok>),
    Unit,
}

/// A struct or an enum of a crate.
#[derive(Debug, Clone)]
pub struct Item {
    pub krate: String,
    pub name: String,
    pub serde: SerdeArgs,
    /// A struct's shape, or `None` for an enum.
    pub shape: Option<Shape>,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone)]
pub struct Variant {
    pub name: String,
    pub serde: SerdeArgs,
    pub shape: Shape,
}

/// The `serde(…)` arguments of one attribute's tokens (`#[…]` inside).
fn serde_args(attr: &[Tok]) -> SerdeArgs {
    let mut out = Vec::new();
    if attr.first() != Some(&Tok::Ident("serde".into())) {
        return out;
    }
    let inner = &attr[2.min(attr.len())..attr.len().saturating_sub(1)];
    for part in split_top(inner, ',') {
        let Some(Tok::Ident(key)) = part.first() else {
            continue;
        };
        // `rename = "x"`, or `rename(deserialize = "x")`.
        let value = part.iter().rev().find_map(|t| match t {
            Tok::Str(s) => Some(s.clone()),
            _ => None,
        });
        let deserialize = part.contains(&Tok::Ident("deserialize".into()));
        let serialize_only = part.contains(&Tok::Ident("serialize".into())) && !deserialize;
        if !serialize_only {
            out.push((key.clone(), value));
        }
    }
    out
}

/// `toks` split on `sep` outside any group (`()`, `[]`, `{}`, `<>`).
fn split_top(toks: &[Tok], sep: char) -> Vec<&[Tok]> {
    let mut out = Vec::new();
    let (mut depth, mut from) = (0i32, 0);
    for (k, t) in toks.iter().enumerate() {
        match t {
            Tok::Punct('(' | '[' | '{' | '<') => depth += 1,
            Tok::Punct(')' | ']' | '}') => depth -= 1,
            // `->` is no closing angle.
            Tok::Punct('>') if k == 0 || toks[k - 1] != Tok::Punct('-') => depth -= 1,
            Tok::Punct(c) if *c == sep && depth == 0 => {
                out.push(&toks[from..k]);
                from = k + 1;
            }
            _ => {}
        }
    }
    if from < toks.len() {
        out.push(&toks[from..]);
    }
    out
}

/// Leading attributes and visibility of a field or variant: the serde
/// arguments of its attributes, and where the rest starts.
fn attributes(toks: &[Tok]) -> (SerdeArgs, usize) {
    let mut serde = Vec::new();
    let mut k = 0;
    loop {
        if toks.get(k) == Some(&Tok::Punct('#')) && toks.get(k + 1) == Some(&Tok::Punct('[')) {
            let end = close_of(toks, k + 1);
            serde.extend(serde_args(&toks[k + 2..end.saturating_sub(1).max(k + 2)]));
            k = end;
        } else if toks.get(k) == Some(&Tok::Ident("pub".into())) {
            k += 1;
            if toks.get(k) == Some(&Tok::Punct('(')) {
                k = close_of(toks, k);
            }
        } else {
            return (serde, k);
        }
    }
}

fn named_fields(body: &[Tok]) -> Vec<Field> {
    split_top(body, ',')
        .into_iter()
        .filter_map(|part| {
            let (serde, k) = attributes(part);
            match (part.get(k), part.get(k + 1)) {
                (Some(Tok::Ident(name)), Some(Tok::Punct(':'))) => Some(Field {
                    name: name.clone(),
                    serde,
                    ty: part[k + 2..].to_vec(),
                }),
                _ => None,
            }
        })
        .collect()
}

/// The shape that starts at `toks[k]` (`{`, `(`, or anything else: unit),
/// and where it ends.
fn shape_at(toks: &[Tok], k: usize) -> (Shape, usize) {
    match toks.get(k) {
        Some(Tok::Punct('{')) => {
            let end = close_of(toks, k);
            (Shape::Named(named_fields(&toks[k + 1..end - 1])), end)
        }
        Some(Tok::Punct('(')) => {
            let end = close_of(toks, k);
            (Shape::Tuple(toks[k + 1..end - 1].to_vec()), end)
        }
        _ => (Shape::Unit, k),
    }
}

fn variants(body: &[Tok]) -> Vec<Variant> {
    split_top(body, ',')
        .into_iter()
        .filter_map(|part| {
            let (serde, k) = attributes(part);
            let Some(Tok::Ident(name)) = part.get(k) else {
                return None;
            };
            let (shape, _) = shape_at(part, k + 1);
            Some(Variant {
                name: name.clone(),
                serde,
                shape,
            })
        })
        .collect()
}

/// The structs and enums of one source file of crate `krate`, outside
/// what `#[cfg(test)]` guards.
pub fn items(krate: &str, src: &str) -> Vec<Item> {
    let toks = lex(src);
    let test = test_only(&toks);
    let mut out = Vec::new();
    let mut serde: SerdeArgs = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        if test.contains(k) {
            k += 1;
            continue;
        }
        match &toks[k] {
            Tok::Punct('#') if toks.get(k + 1) == Some(&Tok::Punct('[')) => {
                let end = close_of(&toks, k + 1);
                serde.extend(serde_args(&toks[k + 2..end.saturating_sub(1).max(k + 2)]));
                k = end;
                continue;
            }
            Tok::Ident(v) if v == "pub" => {
                k += 1;
                if toks.get(k) == Some(&Tok::Punct('(')) {
                    k = close_of(&toks, k);
                }
                continue;
            }
            Tok::Ident(kw) if kw == "struct" || kw == "enum" => {
                if let Some(Tok::Ident(name)) = toks.get(k + 1) {
                    let mut j = k + 2;
                    // Generics and a where clause, up to the body.
                    while j < toks.len() && !matches!(toks[j], Tok::Punct('{' | '(' | ';')) {
                        j += 1;
                    }
                    let (shape, end) = shape_at(&toks, j);
                    let (shape, vars) = match (kw.as_str(), shape) {
                        ("enum", Shape::Named(_)) => {
                            (None, variants(&toks[j + 1..end.saturating_sub(1)]))
                        }
                        (_, s) => (Some(s), Vec::new()),
                    };
                    out.push(Item {
                        krate: krate.to_string(),
                        name: name.clone(),
                        serde: std::mem::take(&mut serde),
                        shape,
                        variants: vars,
                    });
                    k = end.max(k + 2);
                    continue;
                }
            }
            _ => {}
        }
        serde.clear();
        k += 1;
    }
    out
}
