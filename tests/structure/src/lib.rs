//! scimbus-structure: the workspace's shape, read from its files.
//!
//! Its tests (in `tests/`) keep the house drawn from imports as it is meant
//! to be: the libraries (`libs/`) below the services (`services/`) and
//! never using them; inside each crate, modules that do not use each other
//! in a circle; no source file over 500 lines; and the configuration
//! reference true to the code (`tests/configuration.rs`: every
//! environment variable and every key of the configuration file, both
//! ways). This library holds the reading — of Rust source ([`lex`],
//! [`serde_items`], [`serde_keys`]) and of Markdown ([`markdown`]) — and
//! the comparisons ([`config_docs`]); it has no dependencies and runs
//! nothing else.

pub mod config_docs;
pub mod lex;
pub mod markdown;
pub mod serde_items;
pub mod serde_keys;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The workspace root (two levels above this crate).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .map(Path::to_path_buf)
        .unwrap_or_default()
}

/// Every `.rs` file below `dir`, sorted.
pub fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// The crates of a floor (`libs` or `services`): their directories.
pub fn crates(floor: &str) -> Vec<PathBuf> {
    crates_of(&root().join(floor))
}

/// The crates in a directory: its subdirectories with a `Cargo.toml`.
pub fn crates_of(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.join("Cargo.toml").is_file())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

/// The path dependencies of a crate's `[dependencies]` section (not its
/// dev-dependencies): the `path = "..."` values.
pub fn path_dependencies(manifest: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_deps = false;
    for line in manifest.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if !in_deps {
            continue;
        }
        if let Some(at) = line.find("path = \"") {
            let rest = &line[at + "path = \"".len()..];
            if let Some(end) = rest.find('"') {
                out.push(rest[..end].to_string());
            }
        }
    }
    out
}

/// The module a file of `src` is (`crate` for lib.rs and main.rs,
/// `a::b` for src/a/b.rs).
fn module_of(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).unwrap_or(file).with_extension("");
    let name = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("::");
    match name.as_str() {
        "lib" | "main" => "crate".to_string(),
        n => n.strip_suffix("::mod").unwrap_or(n).to_string(),
    }
}

/// The modules each module of a crate uses through `crate::` paths (in
/// `use` lines and in code), resolved to the longest module that exists.
pub fn module_uses(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let files = rust_files(src);
    let texts: BTreeMap<String, String> = files
        .iter()
        .map(|f| {
            (
                module_of(src, f),
                std::fs::read_to_string(f).unwrap_or_default(),
            )
        })
        .collect();
    let mut uses = BTreeMap::new();
    for (module, text) in &texts {
        let mut to = BTreeSet::new();
        for path in crate_paths(text) {
            let parts: Vec<&str> = path.split("::").collect();
            for n in (1..=parts.len()).rev() {
                let candidate = parts[..n].join("::");
                if texts.contains_key(&candidate) {
                    if &candidate != module {
                        to.insert(candidate);
                    }
                    break;
                }
            }
        }
        uses.insert(module.clone(), to);
    }
    uses
}

/// The paths after `crate::` in code (comments left out), with
/// `crate::{a, b::c}` groups split.
fn crate_paths(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for item in group[..end].split(',') {
                    let item = item.trim();
                    if !item.is_empty() {
                        out.push(path_prefix(item));
                    }
                }
            } else {
                out.push(path_prefix(rest));
            }
        }
    }
    out
}

fn path_prefix(s: &str) -> String {
    s.chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ':')
        .collect::<String>()
        .trim_end_matches(':')
        .to_string()
}

/// The circles of a use graph: each strongly connected set of two or more
/// modules.
pub fn circles(uses: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    // Kosaraju: order by finish time, then walk the reversed graph.
    let mut order = Vec::new();
    let mut seen = BTreeSet::new();
    for start in uses.keys() {
        visit(start, uses, &mut seen, &mut order);
    }
    let mut reversed: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (from, tos) in uses {
        for to in tos {
            reversed.entry(to.as_str()).or_default().push(from.as_str());
        }
    }
    let mut assigned = BTreeSet::new();
    let mut out = Vec::new();
    for start in order.iter().rev() {
        if assigned.contains(start.as_str()) {
            continue;
        }
        let mut set = Vec::new();
        let mut stack = vec![start.as_str()];
        while let Some(m) = stack.pop() {
            if !assigned.insert(m.to_string()) {
                continue;
            }
            set.push(m.to_string());
            for &n in reversed.get(m).map(Vec::as_slice).unwrap_or(&[]) {
                stack.push(n);
            }
        }
        if set.len() > 1 {
            set.sort();
            out.push(set);
        }
    }
    out
}

fn visit(
    m: &str,
    uses: &BTreeMap<String, BTreeSet<String>>,
    seen: &mut BTreeSet<String>,
    order: &mut Vec<String>,
) {
    if !seen.insert(m.to_string()) {
        return;
    }
    for n in uses.get(m).into_iter().flatten() {
        visit(n, uses, seen, order);
    }
    order.push(m.to_string());
}
