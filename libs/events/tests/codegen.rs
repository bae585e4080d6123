#![allow(clippy::unwrap_used)]
//! The committed generated code matches the .proto files. Run with
//! `SCIMBUS_REGENERATE=1` to rewrite it after editing a .proto.

use std::path::{Path, PathBuf};

#[test]
fn generated_code_matches_the_proto_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let proto_dir = root.join("proto");
    let files: Vec<PathBuf> = ["common", "command", "change"]
        .iter()
        .map(|f| proto_dir.join(format!("scimbus/v1/{f}.proto")))
        .collect();
    let fds = protox::compile(&files, [&proto_dir]).expect("the .proto files compile");
    let out = tempdir();
    prost_build::Config::new()
        .out_dir(&out)
        .compile_fds(fds)
        .expect("prost generates code");
    let fresh = std::fs::read_to_string(out.join("scimbus.v1.rs")).unwrap();
    let committed_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/gen/scimbus.v1.rs");
    if std::env::var_os("SCIMBUS_REGENERATE").is_some() {
        std::fs::write(&committed_path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&committed_path).unwrap_or_default();
    assert!(
        committed == fresh,
        "src/gen/scimbus.v1.rs is stale: run `SCIMBUS_REGENERATE=1 cargo test -p scimbus-events --test codegen`"
    );
    let _ = std::fs::remove_dir_all(&out);
}

fn tempdir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("scimbus-codegen-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
