//! A JetStream cluster of the test's own: three (or more) nats-servers of
//! the pinned version on loopback, routed to each other, each with its own
//! store directory, to lose a node and bring it back (the scale-out fault
//! test). The binary is the one [`crate::PrivateNats`] uses.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// One node: its client and route ports, its directory, its process.
#[derive(Debug)]
struct Node {
    name: String,
    port: u16,
    cluster_port: u16,
    dir: PathBuf,
    child: Option<Child>,
}

/// A nats-server cluster with JetStream.
#[derive(Debug)]
pub struct NatsCluster {
    nodes: Vec<Node>,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("a free port");
    l.local_addr().expect("its address").port()
}

impl NatsCluster {
    /// Starts `n` nodes and waits until JetStream answers (a meta leader
    /// was elected).
    pub async fn start(n: usize) -> NatsCluster {
        let tag = uuid::Uuid::now_v7().simple().to_string();
        let nodes = (0..n)
            .map(|i| {
                let dir = std::env::temp_dir().join(format!("scimbus-nats-cluster-{tag}-{i}"));
                std::fs::create_dir_all(&dir).expect("a JetStream directory");
                Node {
                    name: format!("n{i}"),
                    port: free_port(),
                    cluster_port: free_port(),
                    dir,
                    child: None,
                }
            })
            .collect();
        let mut c = NatsCluster { nodes };
        for i in 0..n {
            c.spawn(i);
        }
        for i in 0..n {
            c.wait_listening(i).await;
        }
        c.wait_jetstream().await;
        c
    }

    /// The URLs of every node, as a client's server list.
    pub fn url(&self) -> String {
        self.nodes
            .iter()
            .map(|n| format!("nats://127.0.0.1:{}", n.port))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The index of the node named `name` (`n0`, `n1`, ...).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    fn spawn(&mut self, i: usize) {
        let routes: Vec<String> = self
            .nodes
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, n)| format!("nats://127.0.0.1:{}", n.cluster_port))
            .collect();
        let node = &mut self.nodes[i];
        let bin = crate::nats::binary();
        assert!(
            bin.exists(),
            "{} not found: `make test` installs it (deploy/local/stack.sh up)",
            bin.display()
        );
        let child = Command::new(&bin)
            .args(["-js", "-a", "127.0.0.1", "-p", &node.port.to_string()])
            .args([
                "--server_name",
                &node.name,
                "--cluster_name",
                "scimbus-test",
            ])
            .args([
                "--cluster",
                &format!("nats://127.0.0.1:{}", node.cluster_port),
                "--routes",
                &routes.join(","),
                "-sd",
            ])
            .arg(&node.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server");
        node.child = Some(child);
    }

    async fn wait_listening(&self, i: usize) {
        let port = self.nodes[i].port;
        let deadline = Instant::now() + Duration::from_secs(20);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nats-server n{i} did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until JetStream answers through the cluster.
    pub async fn wait_jetstream(&self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(client) = async_nats::connect(scimbus_bus::servers(&self.url())).await {
                let js = async_nats::jetstream::new(client);
                if js.query_account().await.is_ok() {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the JetStream cluster elected no leader within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// SIGKILL of node `i`: it flushes nothing.
    pub async fn kill(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            let _ = c.start_kill();
            let _ = c.wait().await;
        }
    }

    /// Starts node `i` again on its ports and directory.
    pub async fn restart(&mut self, i: usize) {
        self.spawn(i);
        self.wait_listening(i).await;
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for n in &mut self.nodes {
            if let Some(c) = n.child.as_mut() {
                let _ = c.start_kill();
            }
            let _ = std::fs::remove_dir_all(&n.dir);
        }
    }
}
