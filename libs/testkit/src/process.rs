//! Running a service's real binary: a bad setting, a SIGTERM, the exit.

use std::process::ExitStatus;
use std::time::{Duration, Instant};

use tokio::process::Child;

/// Runs `binary` with only `vars` set (nothing inherited) and returns its
/// exit code and what it wrote to stderr; a bad setting must stop it at
/// once, so it is given 30 s.
pub async fn run_with_only(binary: &str, vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let mut cmd = tokio::process::Command::new(binary);
    cmd.env_clear()
        .envs(vars.iter().copied())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(30), cmd.output())
        .await
        .unwrap_or_else(|_| panic!("{binary} with {vars:?} still runs after 30 s"))
        .unwrap_or_else(|e| panic!("cannot run {binary}: {e}"));
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Sends SIGTERM, as Kubernetes does to stop a pod.
pub fn terminate(child: &Child) {
    let pid = child.id().expect("the process is still running");
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -TERM {pid}: {status}");
}

/// Waits for `child` to exit, failing the test if it takes longer than
/// `bound`; returns how it exited and how long it took.
pub async fn exit_within(child: &mut Child, bound: Duration) -> (ExitStatus, Duration) {
    let start = Instant::now();
    match tokio::time::timeout(bound, child.wait()).await {
        Ok(status) => (status.expect("wait for the process"), start.elapsed()),
        Err(_) => {
            let _ = child.start_kill();
            panic!("the process did not exit within {bound:?} of the signal")
        }
    }
}
