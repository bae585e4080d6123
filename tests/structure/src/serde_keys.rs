//! The keys a TOML file may hold, read from the serde types it is
//! deserialized into: structs and enums found by name in Rust source
//! ([`items`]), walked from a root type ([`keys`]) with serde's
//! `rename`, `rename_all`, `tag`, `untagged`, `flatten` and `skip`
//! honoured.
//!
//! Limits: a type is found by its last path segment, in the crate a
//! `scimbus_<crate>::` path names or else in the crate that uses it; a
//! hand-written `Deserialize` is read through the fields of the type (its
//! `Serialize` attributes, if any), so it must take the same keys; maps
//! (`BTreeMap<String, _>`) end a path, whatever keys they hold.

use std::collections::{BTreeMap, BTreeSet};

use crate::lex::Tok;
pub use crate::serde_items::{Field, Item, SerdeArgs, Shape, Variant, items};
use crate::serde_items::{arg, flag};

/// A name as serde's `rename_all` writes it. `name` is a field's
/// (snake_case) or a variant's (PascalCase).
pub fn rename_all(rule: &str, name: &str) -> String {
    // The words of either spelling.
    let mut words: Vec<String> = Vec::new();
    for part in name.split('_').filter(|p| !p.is_empty()) {
        let mut word = String::new();
        for c in part.chars() {
            if c.is_uppercase() && !word.is_empty() {
                words.push(std::mem::take(&mut word));
            }
            word.extend(c.to_lowercase());
        }
        words.push(word);
    }
    let cap = |w: &String| {
        let mut c = w.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    match rule {
        "lowercase" => words.concat(),
        "UPPERCASE" => words.concat().to_uppercase(),
        "snake_case" => words.join("_"),
        "SCREAMING_SNAKE_CASE" => words.join("_").to_uppercase(),
        "kebab-case" => words.join("-"),
        "SCREAMING-KEBAB-CASE" => words.join("-").to_uppercase(),
        "PascalCase" => words.iter().map(cap).collect(),
        "camelCase" => words
            .iter()
            .enumerate()
            .map(|(i, w)| if i == 0 { w.clone() } else { cap(w) })
            .collect(),
        _ => name.to_string(),
    }
}

/// The key paths a root type takes (`tenants.targets.circuit.trip_after`),
/// and for keys whose value is one of fixed words (a unit-variant enum, an
/// enum's tag) those words.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Keys {
    pub paths: BTreeSet<String>,
    pub values: BTreeMap<String, BTreeSet<String>>,
    /// Types named in fields that could not be told apart (two crates
    /// define them and no path says which).
    pub ambiguous: BTreeSet<String>,
}

/// The items, by name.
#[derive(Debug, Default)]
pub struct Items(BTreeMap<String, Vec<Item>>);

impl Items {
    pub fn new(all: Vec<Item>) -> Items {
        let mut map: BTreeMap<String, Vec<Item>> = BTreeMap::new();
        for i in all {
            map.entry(i.name.clone()).or_default().push(i);
        }
        Items(map)
    }

    pub fn find(&self, krate: &str, name: &str) -> Option<&Item> {
        self.0.get(name)?.iter().find(|i| i.krate == krate)
    }

    /// The items a type's tokens name, resolved from crate `krate`.
    fn named_in(&self, krate: &str, ty: &[Tok], keys: &mut Keys) -> Vec<&Item> {
        let mut out = Vec::new();
        for (k, t) in ty.iter().enumerate() {
            let Tok::Ident(name) = t else { continue };
            let Some(found) = self.0.get(name) else {
                continue;
            };
            let pick = match path_root(ty, k) {
                // `scimbus_notify::X`: the crate `notify`.
                Some(root) => match root.strip_prefix("scimbus_") {
                    Some(c) => found.iter().find(|i| i.krate == c),
                    None if ["crate", "self", "super"].contains(&root) => {
                        found.iter().find(|i| i.krate == krate)
                    }
                    // `serde_json::Value`, `std::…`: not ours.
                    None => continue,
                },
                None => found
                    .iter()
                    .find(|i| i.krate == krate)
                    .or_else(|| found.first().filter(|_| found.len() == 1)),
            };
            match pick {
                Some(i) => out.push(i),
                None => {
                    keys.ambiguous.insert(name.clone());
                }
            }
        }
        out
    }
}

/// The first segment of the path that ends at `ty[k]` (`scimbus_hr` of
/// `scimbus_hr::SourceSpec`), if it is a path.
fn path_root(ty: &[Tok], k: usize) -> Option<&str> {
    let mut root = None;
    let mut at = k;
    while at >= 3
        && ty[at - 1] == Tok::Punct(':')
        && ty[at - 2] == Tok::Punct(':')
        && let Tok::Ident(seg) = &ty[at - 3]
    {
        root = Some(seg.as_str());
        at -= 3;
    }
    root
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

/// Every key path of `root` (crate `krate`), see [`Keys`].
pub fn keys(items: &Items, krate: &str, root: &str) -> Option<Keys> {
    let item = items.find(krate, root)?;
    let mut keys = Keys::default();
    walk(items, item, "", &mut keys, &mut Vec::new());
    Some(keys)
}

fn walk(items: &Items, item: &Item, prefix: &str, keys: &mut Keys, stack: &mut Vec<String>) {
    if stack.contains(&item.name) {
        return;
    }
    stack.push(item.name.clone());
    let rule = arg(&item.serde, "rename_all");
    match &item.shape {
        Some(Shape::Named(fields)) => fields_at(items, item, fields, rule, prefix, keys, stack),
        Some(Shape::Tuple(ty)) => {
            for inner in items.named_in(&item.krate, ty, keys) {
                value_at(items, inner, prefix, keys, stack);
            }
        }
        Some(Shape::Unit) => {}
        None => {
            let field_rule = arg(&item.serde, "rename_all_fields");
            let word = |v: &Variant| {
                arg(&v.serde, "rename")
                    .map(str::to_string)
                    .unwrap_or_else(|| rule.map_or(v.name.clone(), |r| rename_all(r, &v.name)))
            };
            let tag = arg(&item.serde, "tag");
            if let Some(tag) = tag {
                let path = join(prefix, tag);
                keys.paths.insert(path.clone());
                let words = item.variants.iter().map(word).collect();
                keys.values.insert(path, words);
            }
            for v in &item.variants {
                let at = if tag.is_some() || flag(&item.serde, "untagged") {
                    prefix.to_string()
                } else {
                    if matches!(v.shape, Shape::Unit) {
                        continue;
                    }
                    let path = join(prefix, &word(v));
                    keys.paths.insert(path.clone());
                    path
                };
                match &v.shape {
                    Shape::Named(fields) => {
                        fields_at(items, item, fields, field_rule, &at, keys, stack);
                    }
                    Shape::Tuple(ty) => {
                        for inner in items.named_in(&item.krate, ty, keys) {
                            value_at(items, inner, &at, keys, stack);
                        }
                    }
                    Shape::Unit => {}
                }
            }
        }
    }
    stack.pop();
}

fn fields_at(
    items: &Items,
    item: &Item,
    fields: &[Field],
    rule: Option<&str>,
    prefix: &str,
    keys: &mut Keys,
    stack: &mut Vec<String>,
) {
    for f in fields {
        if flag(&f.serde, "skip") || flag(&f.serde, "skip_deserializing") {
            continue;
        }
        // A map's keys are the writer's: its path ends here.
        let map =
            f.ty.iter()
                .any(|t| matches!(t, Tok::Ident(n) if n.ends_with("Map")));
        let inner = if map {
            Vec::new()
        } else {
            items.named_in(&item.krate, &f.ty, keys)
        };
        if flag(&f.serde, "flatten") {
            for i in inner {
                walk(items, i, prefix, keys, stack);
            }
            continue;
        }
        let key = arg(&f.serde, "rename")
            .map(str::to_string)
            .unwrap_or_else(|| rule.map_or(f.name.clone(), |r| rename_all(r, &f.name)));
        let path = join(prefix, &key);
        keys.paths.insert(path.clone());
        for i in inner {
            value_at(items, i, &path, keys, stack);
        }
    }
}

/// The value at `path` is an `item`: words if it is an enum of unit
/// variants only, else the keys it holds.
fn value_at(items: &Items, item: &Item, path: &str, keys: &mut Keys, stack: &mut Vec<String>) {
    let words_only = item.shape.is_none()
        && arg(&item.serde, "tag").is_none()
        && !flag(&item.serde, "untagged")
        && item.variants.iter().all(|v| matches!(v.shape, Shape::Unit));
    if words_only {
        let rule = arg(&item.serde, "rename_all");
        let words = item.variants.iter().map(|v| {
            arg(&v.serde, "rename")
                .map(str::to_string)
                .unwrap_or_else(|| rule.map_or(v.name.clone(), |r| rename_all(r, &v.name)))
        });
        keys.values
            .entry(path.to_string())
            .or_default()
            .extend(words);
    } else {
        walk(items, item, path, keys, stack);
    }
}
