//! Running a service's real binary on a [`TestEnv`] (drain, crash and
//! bad-setting tests).

use std::process::Stdio;

use scimbus_testkit::TestEnv;
use tokio::process::Command;

/// The settings that put a binary on `env`: its NATS, its database, its
/// bus prefix.
pub fn env_vars(env: &TestEnv) -> [(&'static str, &str); 3] {
    [
        ("SCIMBUS_NATS_URL", &env.nats_url),
        ("SCIMBUS_DATABASE_URL", &env.database_url),
        ("SCIMBUS_BUS_PREFIX", &env.prefix),
    ]
}

/// `binary` on `env`: [`env_vars`], no `SCIMBUS_CONFIG` from the outer
/// environment (a test sets its own), warnings logged to the test's
/// stderr, killed when the handle is dropped (a failing test leaves no
/// process behind). The caller adds its service's settings and spawns.
pub fn command(binary: &str, env: &TestEnv) -> Command {
    let mut cmd = Command::new(binary);
    cmd.envs(env_vars(env))
        .env_remove("SCIMBUS_CONFIG")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    cmd
}

/// Runs `binary` once per `(setting, bad value)`, with only that and a
/// well-formed database URL set, and asserts that each stops it with exit
/// code 78 (EX_CONFIG) and a message naming the setting: a bad setting is
/// reported as one, at once, before anything is reached.
pub async fn assert_bad_settings_exit_78(binary: &str, bad: &[(&str, &str)]) {
    let db = ("SCIMBUS_DATABASE_URL", "postgres://x@127.0.0.1:1/x");
    for &(name, value) in bad {
        let (code, err) =
            scimbus_testkit::process::run_with_only(binary, &[db, (name, value)]).await;
        assert_eq!(code, Some(78), "{name}={value}: {err}");
        assert!(err.contains(name), "{name}={value}: {err}");
    }
}
