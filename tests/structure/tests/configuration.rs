//! `docs/configuration.md` is true to the code, both ways.
//!
//! **Environment.** Every `SCIMBUS_…` and `OTEL_…` name, and `RUST_LOG`,
//! in a string literal of the non-test source of `libs/*/src` and
//! `services/*/src` (outside `#[cfg(test)]` items, the files of
//! `#[cfg(test)] mod x;` and `tests/` directories) has a row: a table row
//! whose first cell holds the name in a code span. Every `SCIMBUS_…` row
//! outside the section "For development" is such a name of the code.
//! Every row of that section names a variable some file of the repository
//! has (tests and scripts, which the first rule does not read). Every
//! variable tests, tools and scripts read with a default (`env::var("…")`,
//! `${NAME:-…}`) has a row, and every `SCIMBUS_…` name the page mentions
//! anywhere exists in the repository. No variable has two rows.
//!
//! **Configuration file.** The serde types the file is read into are
//! walked from `FileConfig` (libs/runtime) through the types its fields
//! name, in any library (`rename`, `rename_all`, `tag`, `untagged`,
//! `flatten`, `skip` honoured), giving every key path
//! (`tenants.targets.circuit.trip_after`). The page documents a key by a
//! row whose first cell is the key alone in a code span, under a heading
//! that names its table in a code span (`` `[[tenants.targets]]` ``; a
//! heading may name several tables, its rows then belong to each); a key
//! may be dotted (`auth.type` under `[[tenants.targets]]`). The two sets
//! are equal, and a key whose value is one of fixed words (an enum of unit
//! variants, an enum's tag) names each word in its row, in a code span.
//!
//! Limits (of a reader that is not a compiler): a variable whose name is
//! built at run time (`format!("SCIMBUS_{x}")`) is not seen; a type is
//! found by its name in the crate a path names (`scimbus_notify::X`) or
//! else in the crate that uses it; a hand-written `Deserialize` must take
//! the keys its type's fields (and serde attributes) say; a map ends a key
//! path; `#[cfg(…)]` counts as test-only when it names `test` and not
//! `not`. Anything the reader cannot find makes the test fail (no files,
//! no `FileConfig`, too few names or keys), never pass by finding nothing.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use scimbus_structure::config_docs::{
    EnvCode, check_env, check_keys, env_doc, knobs, names_in_literals, non_test_sources,
    repository_files, repository_names, toml_doc,
};
use scimbus_structure::lex::non_test_strings;
use scimbus_structure::root;
use scimbus_structure::serde_keys::{Items, Keys, items, keys, rename_all};

const PAGE: &str = "docs/configuration.md";

fn page() -> String {
    std::fs::read_to_string(root().join(PAGE))
        .unwrap_or_else(|e| panic!("{PAGE} cannot be read: {e}"))
}

fn sources() -> Vec<PathBuf> {
    let root = root();
    let mut files = Vec::new();
    for floor in ["libs", "services"] {
        let found = non_test_sources(&root, floor);
        assert!(
            found.len() > 40,
            "only {} non-test source files were found under {}: did {floor}/ move?",
            found.len(),
            root.join(floor).display()
        );
        files.extend(found);
    }
    files
}

fn env_code() -> EnvCode {
    let root = root();
    let files = sources();
    let mut read = names_in_literals(&root, &files, "SCIMBUS_");
    read.extend(names_in_literals(&root, &files, "OTEL_"));
    read.extend(names_in_literals(&root, &files, "RUST_LOG"));
    let scimbus = read.keys().filter(|n| n.starts_with("SCIMBUS_")).count();
    assert!(
        scimbus >= 20,
        "only {scimbus} SCIMBUS_ variables found in the code: {read:?}"
    );
    let repo = repository_files(&root);
    EnvCode {
        read,
        repository: repository_names(&repo),
        knobs: knobs(&root, &repo),
    }
}

/// The crate a source file belongs to (`runtime` of libs/runtime/src/…).
fn crate_of(root: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file);
    rel.components()
        .nth(1)
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Every struct and enum of the libraries (the configuration is theirs).
fn library_items() -> Items {
    let root = root();
    let mut all = Vec::new();
    for f in non_test_sources(&root, "libs") {
        let text = std::fs::read_to_string(&f).unwrap();
        all.extend(items(&crate_of(&root, &f), &text));
    }
    Items::new(all)
}

fn config_keys(items: &Items) -> Keys {
    let keys = keys(items, "runtime", "FileConfig").expect(
        "FileConfig, the configuration file's type, is not in libs/runtime/src: did it move?",
    );
    assert!(
        keys.paths.len() >= 60,
        "only {} keys found: {:?}",
        keys.paths.len(),
        keys.paths
    );
    keys
}

#[test]
fn every_variable_read_is_documented_and_every_one_documented_is_read() {
    let doc = env_doc(&page());
    assert!(
        doc.reference.len() >= 20,
        "{PAGE} has {} variable rows",
        doc.reference.len()
    );
    let problems = check_env(&env_code(), &doc);
    assert!(
        problems.is_empty(),
        "{PAGE} and the code disagree:\n{}",
        problems.join("\n")
    );
}

#[test]
fn every_key_of_the_file_is_documented_and_every_one_documented_exists() {
    let keys = config_keys(&library_items());
    let (doc, bad) = toml_doc(&page());
    let mut problems = bad;
    problems.extend(check_keys(&keys, &doc));
    assert!(
        problems.is_empty(),
        "{PAGE} and the configuration types disagree:\n{}",
        problems.join("\n")
    );
}

/// A copy of the page with `line` added after the first line that starts
/// with `after`.
fn page_with(after: &str, line: &str) -> String {
    let text = page();
    let at = text
        .find(after)
        .unwrap_or_else(|| panic!("{PAGE} has no line {after:?}"));
    let end = at + text[at..].find('\n').unwrap();
    format!("{}\n{line}{}", &text[..end], &text[end..])
}

#[test]
fn a_variable_added_on_one_side_only_is_seen() {
    let code = env_code();
    let doc = env_doc(&page());
    // Read by the code, with no row.
    let mut more = code.clone();
    let source = r#"
        fn f() { std::env::var("SCIMBUS_SURELY_NEW"); }
        #[cfg(test)]
        mod tests { const X: &str = "SCIMBUS_ONLY_IN_TESTS"; }
    "#;
    for n in non_test_strings(source) {
        more.read.entry(n).or_default().insert("new.rs".into());
    }
    let p = check_env(&more, &doc);
    assert!(
        p.iter()
            .any(|p| p.starts_with("SCIMBUS_SURELY_NEW is read")),
        "{p:?}"
    );
    assert!(
        !p.iter().any(|p| p.contains("SCIMBUS_ONLY_IN_TESTS")),
        "{p:?}"
    );
    // A row for what nothing reads, in the reference and for development.
    let row = "| `SCIMBUS_SURELY_GONE` | 1 | all | nothing |";
    let text = page_with("| `SCIMBUS_DRAIN_SECS`", row);
    let p = check_env(&code, &env_doc(&text));
    assert!(
        p.iter()
            .any(|p| p.contains("SCIMBUS_SURELY_GONE has a row, but no")),
        "{p:?}"
    );
    let text = page_with("| `SCIMBUS_TEST_KEEP`", row);
    let p = check_env(&code, &env_doc(&text));
    assert!(
        p.iter()
            .any(|p| p.contains("SCIMBUS_SURELY_GONE has a row for development")),
        "{p:?}"
    );
    // A knob of a script, with no row.
    let mut more = code.clone();
    more.knobs
        .insert("SCIMBUS_SURELY_KNOB".into(), "x.sh".into());
    let p = check_env(&more, &doc);
    assert!(
        p.iter()
            .any(|p| p.starts_with("SCIMBUS_SURELY_KNOB is read by x.sh")),
        "{p:?}"
    );
}

#[test]
fn a_key_added_on_one_side_only_is_seen() {
    let root = root();
    let target = root.join("libs/runtime/src/target.rs");
    let text = std::fs::read_to_string(&target).unwrap();
    let struct_at = text
        .find("pub struct CircuitConfig {")
        .expect("CircuitConfig in target.rs");
    let open = struct_at + text[struct_at..].find('{').unwrap() + 1;
    let changed = format!(
        "{}\n    pub surely_new: u32,{}",
        &text[..open],
        &text[open..]
    );
    let mut all = Vec::new();
    for f in non_test_sources(&root, "libs") {
        let src = if f == target {
            changed.clone()
        } else {
            std::fs::read_to_string(&f).unwrap()
        };
        all.extend(items(&crate_of(&root, &f), &src));
    }
    // What the checks say of the code and the page as they are: each
    // change below must add its problem to these.
    let keys = config_keys(&library_items());
    let (doc, _) = toml_doc(&page());
    let before = check_keys(&keys, &doc);
    let added =
        |p: Vec<String>| -> Vec<String> { p.into_iter().filter(|x| !before.contains(x)).collect() };

    let changed_keys = config_keys(&Items::new(all));
    let p = added(check_keys(&changed_keys, &doc));
    assert_eq!(p, ["the key tenants.targets.circuit.surely_new has no row"]);

    let text = page_with("| `trip_after`", "| `surely_gone` | 1 | nothing |");
    let (changed_doc, _) = toml_doc(&text);
    let p = added(check_keys(&keys, &changed_doc));
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].ends_with(
            "tenants.targets.circuit.surely_gone is documented, but no configuration type has it"
        ),
        "{p:?}"
    );

    let mut more = keys.clone();
    more.values
        .entry("tenants.targets.deprovision".into())
        .or_default()
        .insert("archive".into());
    let p = added(check_keys(&more, &doc));
    assert!(
        p.iter()
            .any(|p| p.ends_with("does not name its value `archive`")),
        "{p:?}"
    );
}

#[test]
fn literals_are_read_outside_comments_and_test_code() {
    let src = r####"
        // "SCIMBUS_IN_A_COMMENT"
        /* "SCIMBUS_IN_A_BLOCK" /* nested */ */
        const A: &str = "SCIMBUS_A";
        const B: &str = r#"x "SCIMBUS_B" y"#;
        const C: char = '"';
        fn f<'a>(x: &'a str) -> &'a str { let _ = b"SCIMBUS_C"; x }
        #[cfg(test)]
        mod tests { const T: &str = "SCIMBUS_T"; }
        #[cfg(test)]
        fn helper() { "SCIMBUS_T2"; }
        const D: &str = "SCIMBUS_{name} and SCIMBUS_D_";
    "####;
    let strings = non_test_strings(src);
    let names: BTreeSet<String> = strings
        .iter()
        .flat_map(|s| scimbus_structure::lex::names_with_prefix(s, "SCIMBUS_"))
        .collect();
    let want: BTreeSet<String> = ["SCIMBUS_A", "SCIMBUS_B", "SCIMBUS_C", "SCIMBUS_D_"]
        .map(String::from)
        .into();
    assert_eq!(names, want, "{strings:?}");
    let test = scimbus_structure::lex::test_only(&scimbus_structure::lex::lex(
        "#[cfg(test)]\nmod tests;\n#[cfg(not(test))]\nfn real() {}",
    ));
    assert_eq!(test.module_files, ["tests"]);
    assert_eq!(test.ranges.len(), 1);
}

#[test]
fn keys_follow_serde_renames_tags_and_flattening() {
    let src = r#"
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct Root {
            pub plain: u32,
            #[serde(rename = "other")]
            pub renamed: String,
            #[serde(default)]
            pub inner: Vec<Inner>,
            pub auth: Auth,
            pub mode: Mode,
            #[serde(flatten)]
            pub extra: Extra,
            #[serde(skip)]
            pub hidden: u8,
            pub ext: serde_json::Value,
            pub map: std::collections::BTreeMap<String, Inner>,
        }
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub(crate) struct Inner { pub time_zone: String }
        #[derive(Deserialize)]
        #[serde(tag = "scheme", rename_all = "kebab-case")]
        pub enum Auth { StandardWebhooks { tolerance_secs: u64 }, Hmac { header: String } }
        #[derive(Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Mode { AutoPatch, Put }
        #[derive(Deserialize)]
        pub struct Extra { pub flat: bool }
        pub struct Value { pub not_ours: bool }
    "#;
    let all = Items::new(items("x", src));
    let k = keys(&all, "x", "Root").unwrap();
    let paths: Vec<&str> = k.paths.iter().map(String::as_str).collect();
    assert_eq!(
        paths,
        [
            "auth",
            "auth.header",
            "auth.scheme",
            "auth.tolerance_secs",
            "ext",
            "flat",
            "inner",
            "inner.timeZone",
            "map",
            "mode",
            "other",
            "plain"
        ]
    );
    let words = |p: &str| k.values[p].iter().cloned().collect::<Vec<_>>();
    assert_eq!(words("auth.scheme"), ["hmac", "standard-webhooks"]);
    assert_eq!(words("mode"), ["auto_patch", "put"]);
    assert_eq!(rename_all("camelCase", "max_open_ms"), "maxOpenMs");
    assert_eq!(rename_all("lowercase", "Oauth2"), "oauth2");
    assert_eq!(rename_all("kebab-case", "ScimSet"), "scim-set");
}
