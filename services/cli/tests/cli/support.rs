//! Running the binary, temporary files, looking into `api_tokens`.

use std::process::{Command, Output};

use scimbus_testkit::TestEnv;
use sqlx::PgPool;
use uuid::Uuid;

/// Runs the binary on `database_url` with nothing else from the
/// environment that could change what it does.
pub fn scimbus_on(database_url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_scimbus"))
        .args(args)
        .env("SCIMBUS_DATABASE_URL", database_url)
        .env_remove("SCIMBUS_CONFIG")
        .env_remove("SCIMBUS_PUBLIC_URL")
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

pub fn scimbus(env: &TestEnv, args: &[&str]) -> Output {
    scimbus_on(&env.database_url, args)
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

#[track_caller]
pub fn assert_exit(o: &Output, code: i32) {
    assert_eq!(
        o.status.code(),
        Some(code),
        "stdout: {}\nstderr: {}",
        stdout(o),
        stderr(o)
    );
}

/// The `key:` line of `token create`'s output.
pub fn field(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key}: line in {out}"))
        .trim()
        .to_string()
}

/// A file in the temporary directory, removed on drop.
pub struct TempFile(std::path::PathBuf);

impl TempFile {
    pub fn new(text: &str) -> TempFile {
        let path = std::env::temp_dir().join(format!("scimbus-cli-{}.toml", Uuid::now_v7()));
        std::fs::write(&path, text).unwrap();
        TempFile(path)
    }
    pub fn path(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// How many rows of `api_tokens` contain `text` anywhere (the row as text).
pub async fn rows_containing(pool: &PgPool, text: &str) -> i64 {
    sqlx::query_scalar("select count(*) from api_tokens t where position($1 in t::text) > 0")
        .bind(text)
        .fetch_one(pool)
        .await
        .unwrap()
}
