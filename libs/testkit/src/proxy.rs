//! A TCP proxy in front of a server (Postgres), to take the server away
//! from a service and give it back without touching the server itself:
//! [`TcpProxy::cut`] closes every connection through it and refuses new
//! ones; [`TcpProxy::restore`] accepts again on the same port.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

/// A proxy on a port of its own, to `upstream`.
#[derive(Debug)]
pub struct TcpProxy {
    pub addr: SocketAddr,
    upstream: SocketAddr,
    running: Option<tokio::task::JoinHandle<()>>,
}

impl TcpProxy {
    pub async fn start(upstream: SocketAddr) -> TcpProxy {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a proxy port");
        let addr = listener.local_addr().expect("its address");
        let mut p = TcpProxy {
            addr,
            upstream,
            running: None,
        };
        p.serve(listener);
        p
    }

    fn serve(&mut self, listener: TcpListener) {
        let upstream = self.upstream;
        self.running = Some(tokio::spawn(async move {
            // Dropped with this task: aborting it closes every connection.
            let mut conns = JoinSet::new();
            loop {
                let Ok((mut client, _)) = listener.accept().await else {
                    return;
                };
                while conns.try_join_next().is_some() {}
                conns.spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        }));
    }

    /// Closes every connection through the proxy and refuses new ones.
    pub async fn cut(&mut self) {
        if let Some(task) = self.running.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Accepts connections again, on the same port.
    pub async fn restore(&mut self) {
        let listener = TcpListener::bind(self.addr)
            .await
            .expect("bind the proxy port again");
        self.serve(listener);
    }

    /// `url` (a postgres:// URL) with its host and port replaced by the
    /// proxy's.
    pub fn postgres_url(&self, url: &str) -> String {
        let (scheme, rest) = url.split_once("://").expect("a URL");
        let (auth, after) = match rest.rsplit_once('@') {
            Some((a, r)) => (format!("{a}@"), r),
            None => (String::new(), rest),
        };
        let path = after.find('/').map_or("", |i| &after[i..]);
        format!("{scheme}://{auth}{}{path}", self.addr)
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        if let Some(task) = self.running.take() {
            task.abort();
        }
    }
}

/// The address of a postgres:// URL's server.
pub fn postgres_addr(url: &str) -> SocketAddr {
    let rest = url.split_once("://").expect("a URL").1;
    let after = rest.rsplit_once('@').map_or(rest, |(_, r)| r);
    let hostport = after.split(['/', '?']).next().expect("a host");
    let hostport = if hostport.contains(':') {
        hostport.to_string()
    } else {
        format!("{hostport}:5432")
    };
    let hostport = hostport.replace("localhost", "127.0.0.1");
    hostport.parse().expect("a host:port")
}
