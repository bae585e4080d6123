#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The crate stays pure: no async runtime, HTTP framework, database driver or
//! message bus among its (normal) dependencies.

use std::process::Command;

#[test]
fn dependency_tree_has_no_runtime_http_database_or_bus() {
    let out = Command::new(env!("CARGO"))
        .args([
            "tree",
            "-p",
            "scimbus-scim",
            "-e",
            "normal",
            "--prefix",
            "none",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo tree runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tree = String::from_utf8_lossy(&out.stdout);
    let crates: Vec<&str> = tree
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert!(crates.contains(&"serde_json"), "the tree was read: {tree}");
    for banned in [
        "tokio",
        "axum",
        "hyper",
        "sqlx",
        "async-nats",
        "reqwest",
        "tower",
        "mio",
        "futures",
    ] {
        assert!(
            !crates.contains(&banned),
            "{banned} is a dependency of scimbus-scim:\n{tree}"
        );
    }
}
