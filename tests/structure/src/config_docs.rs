//! The configuration reference (`docs/configuration.md`) against the code:
//! what the code reads (environment variables in string literals of
//! non-test source, the keys of the configuration file's serde types) and
//! what the page documents (table rows), compared both ways. The checks
//! are pure functions of what was read, so tests can feed them a changed
//! code or page and see them fail.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::lex::{Tok, lex, names_with_prefix, non_test_strings, test_only};
use crate::markdown::{Row, code_spans, rows, toml_tables};
use crate::serde_keys::Keys;

/// The heading (level 2) of the page's section for development: variables
/// of tests, benchmarks and the local stack.
pub const DEVELOPMENT: &str = "For development";

/// The non-test Rust sources of the crates of `floor` (`libs`,
/// `services`): every `.rs` below each crate's `src/`, except `tests/`
/// directories and the files of `#[cfg(test)] mod x;` modules.
pub fn non_test_sources(root: &Path, floor: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for krate in crate::crates_of(&root.join(floor)) {
        let files = crate::rust_files(&krate.join("src"));
        let mut excluded: Vec<PathBuf> = Vec::new();
        for f in &files {
            let text = std::fs::read_to_string(f).unwrap_or_default();
            let dir = match f.file_stem().and_then(|s| s.to_str()) {
                Some("lib" | "main" | "mod") => f.parent().map(Path::to_path_buf),
                _ => Some(f.with_extension("")),
            };
            for m in test_only(&lex(&text)).module_files {
                if let Some(d) = &dir {
                    excluded.push(d.join(format!("{m}.rs")));
                    excluded.push(d.join(m));
                }
            }
        }
        out.extend(files.into_iter().filter(|f| {
            !f.components().any(|c| c.as_os_str() == "tests")
                && !excluded.iter().any(|e| f.starts_with(e))
        }));
    }
    out
}

/// Names with `prefix` (`SCIMBUS_`, `OTEL_`) in the string literals of
/// `files`, each with the files that have it (relative to `root`).
pub fn names_in_literals(
    root: &Path,
    files: &[PathBuf],
    prefix: &str,
) -> BTreeMap<String, BTreeSet<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for f in files {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let rel = f.strip_prefix(root).unwrap_or(f).display().to_string();
        for s in non_test_strings(&text) {
            let names = if s == prefix {
                vec![s.clone()]
            } else {
                names_with_prefix(&s, prefix)
            };
            for n in names {
                out.entry(n).or_default().insert(rel.clone());
            }
        }
    }
    out
}

/// Every text file of the repository that is not documentation (`docs/`,
/// `*.md`), built or local state (`target`, `.git`, `.data`), or this
/// crate (whose tests name variables that must not exist).
pub fn repository_files(root: &Path) -> Vec<PathBuf> {
    let this = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                let skip = name.starts_with('.')
                    || name == "target"
                    || p == root.join("docs")
                    || p == this;
                if !skip {
                    stack.push(p);
                }
            } else if !name.ends_with(".md") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every `SCIMBUS_` name the repository's files hold (see
/// [`repository_files`]).
pub fn repository_names(files: &[PathBuf]) -> BTreeSet<String> {
    files
        .iter()
        .filter_map(|f| std::fs::read_to_string(f).ok())
        .flat_map(|t| names_with_prefix(&t, "SCIMBUS_"))
        .collect()
}

/// The `SCIMBUS_` variables tests, tools and scripts read from the
/// environment, with a file that does: `env::var("…")` / `var_os("…")` in
/// any Rust file, `${NAME:-…}` (a default the caller may override) in a
/// shell script or the Makefile.
pub fn knobs(root: &Path, files: &[PathBuf]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let rel = f.strip_prefix(root).unwrap_or(f).display().to_string();
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".rs") {
            let toks = lex(&text);
            for w in toks.windows(3) {
                if let [Tok::Ident(call), Tok::Punct('('), Tok::Str(s)] = w
                    && (call == "var" || call == "var_os")
                {
                    for n in names_with_prefix(s, "SCIMBUS_") {
                        out.entry(n).or_insert_with(|| rel.clone());
                    }
                }
            }
        } else if name.ends_with(".sh") || name == "Makefile" {
            for part in text.split("${").skip(1) {
                let n: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                let rest = &part[n.len()..];
                let defaulted = [":-", "-", ":=", ":?"].iter().any(|d| rest.starts_with(d));
                if n.starts_with("SCIMBUS_") && defaulted {
                    out.entry(n).or_insert_with(|| rel.clone());
                }
            }
        }
    }
    out
}

/// Whether a code span names an environment variable.
fn variable(s: &str) -> bool {
    let form = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    form && (s.starts_with("SCIMBUS_") || s.starts_with("OTEL_") || s == "RUST_LOG")
}

/// What the page documents of the environment.
#[derive(Debug, Default, Clone)]
pub struct EnvDoc {
    /// Variables with a row outside the section for development, and the
    /// row's line.
    pub reference: BTreeMap<String, usize>,
    /// Variables with a row in the section for development.
    pub development: BTreeMap<String, usize>,
    /// Every `SCIMBUS_` name the page mentions anywhere.
    pub mentioned: BTreeSet<String>,
    /// Rows that document a variable twice.
    pub twice: Vec<String>,
}

/// The variables of the page: the code spans of a row's first cell that
/// name one (rows under a TOML table heading are keys, not variables).
pub fn env_doc(md: &str) -> EnvDoc {
    let mut doc = EnvDoc {
        mentioned: names_with_prefix(md, "SCIMBUS_").into_iter().collect(),
        ..EnvDoc::default()
    };
    for row in rows(md) {
        if !toml_tables(row.heading()).is_empty() {
            continue;
        }
        let first = row.cells.first().map(String::as_str).unwrap_or("");
        for name in code_spans(first).into_iter().filter(|s| variable(s)) {
            let seen = doc.reference.contains_key(&name) || doc.development.contains_key(&name);
            if seen {
                doc.twice
                    .push(format!("line {}: {name} has a row already", row.line));
            }
            let section = if row.under(2, DEVELOPMENT) {
                &mut doc.development
            } else {
                &mut doc.reference
            };
            section.insert(name, row.line);
        }
    }
    doc
}

/// What the code reads of the environment, for [`check_env`].
#[derive(Debug, Default, Clone)]
pub struct EnvCode {
    /// `SCIMBUS_`, `OTEL_` names and `RUST_LOG` in non-test string
    /// literals of the libraries and services, with their files.
    pub read: BTreeMap<String, BTreeSet<String>>,
    /// Every `SCIMBUS_` name of the repository's files.
    pub repository: BTreeSet<String>,
    /// Variables read by tests, tools and scripts, with a file.
    pub knobs: BTreeMap<String, String>,
}

/// Whether `name` is in `names`, or is a prefix (`SCIMBUS_STACK_`) of one.
fn known(names: &BTreeSet<String>, name: &str) -> bool {
    names.contains(name) || (name.ends_with('_') && names.iter().any(|n| n.starts_with(name)))
}

/// Every way the page and the code disagree about the environment.
pub fn check_env(code: &EnvCode, doc: &EnvDoc) -> Vec<String> {
    let mut out = doc.twice.clone();
    let documented = |n: &str| doc.reference.contains_key(n) || doc.development.contains_key(n);
    for (name, files) in &code.read {
        if !documented(name) {
            let files: Vec<&str> = files.iter().map(String::as_str).collect();
            out.push(format!(
                "{name} is read by {} but has no row",
                files.join(", ")
            ));
        }
    }
    for (name, line) in &doc.reference {
        if name.starts_with("SCIMBUS_") && !code.read.contains_key(name) {
            out.push(format!(
                "line {line}: {name} has a row, but no library or service reads it"
            ));
        }
    }
    for (name, line) in &doc.development {
        if !code.repository.contains(name) {
            out.push(format!(
                "line {line}: {name} has a row for development, but nothing in the repository has it"
            ));
        }
    }
    for (name, file) in &code.knobs {
        if !documented(name) {
            out.push(format!("{name} is read by {file} but has no row"));
        }
    }
    for name in &doc.mentioned {
        if !known(&code.repository, name) {
            out.push(format!(
                "{name} is mentioned, but nothing in the repository has it"
            ));
        }
    }
    out
}

/// The key paths the page's reference tables name, each with its row;
/// and the rows under a TOML table heading that name no key.
pub fn toml_doc(md: &str) -> (BTreeMap<String, Row>, Vec<String>) {
    let mut paths = BTreeMap::new();
    let mut bad = Vec::new();
    for row in rows(md) {
        let tables = toml_tables(row.heading());
        if tables.is_empty() {
            continue;
        }
        let first = row.cells.first().map(String::as_str).unwrap_or("");
        let spans = code_spans(first);
        let key = match spans.as_slice() {
            [k] if first == format!("`{k}`") => k.clone(),
            _ => {
                bad.push(format!(
                    "line {}: a row under a TOML table names no key (`key` alone in its first cell)",
                    row.line
                ));
                continue;
            }
        };
        for t in tables {
            // The heading documents its table too.
            paths.entry(t.clone()).or_insert_with(|| row.clone());
            paths.insert(format!("{t}.{key}"), row.clone());
        }
    }
    (paths, bad)
}

/// Every way the page's reference tables and the configuration types
/// disagree: a key without a row, a row without a key, a fixed word of a
/// key's value its row does not name.
pub fn check_keys(code: &Keys, doc: &BTreeMap<String, Row>) -> Vec<String> {
    let mut out = Vec::new();
    for t in &code.ambiguous {
        out.push(format!(
            "the type {t} is defined in several crates: which one is meant?"
        ));
    }
    for p in &code.paths {
        if !doc.contains_key(p) {
            out.push(format!("the key {p} has no row"));
        }
    }
    for (p, row) in doc {
        if !code.paths.contains(p) {
            out.push(format!(
                "line {}: {p} is documented, but no configuration type has it",
                row.line
            ));
        }
    }
    for (p, words) in &code.values {
        let Some(row) = doc.get(p) else { continue };
        for w in words {
            let named =
                row.text.contains(&format!("`{w}`")) || row.text.contains(&format!("`\"{w}\"`"));
            if !named {
                out.push(format!(
                    "line {}: the row of {p} does not name its value `{w}`",
                    row.line
                ));
            }
        }
    }
    out
}
