//! A downstream SCIM application for tests: Users and Groups in memory,
//! validated and patched with `scimbus-scim` (strict like a real service
//! provider: unique userName / displayName → 409), and told to fail on
//! demand — 5xx, 429 with `Retry-After`, slow answers, a refused
//! connection (server down), a connection cut in the middle of an answer,
//! a lookup that finds nothing — and told to hold its writes until released.

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::Method;
use axum::routing::get;
use scimbus_scim::Registry;
use serde_json::{Value, json};

mod handlers;
mod oauth;

/// What the next matching request gets instead of a normal answer.
#[derive(Debug, Clone)]
pub enum Fault {
    /// This status with a SCIM error body.
    Status(u16),
    /// 429 with `Retry-After: <secs>`.
    TooMany(u64),
    /// The normal answer, this much later.
    Slow(Duration),
    /// A list answer with no resources (a lookup that misses).
    Miss,
    /// The request is carried out, then the connection is cut in the middle
    /// of the answer: the status line and half the body arrive, the rest
    /// never does (the client cannot know whether it took effect).
    Cut,
}

/// A request the target got: method, path (with query).
pub type Logged = (Method, String, Option<Value>);

#[derive(Default)]
struct Data {
    /// id → resource (with `id` and `meta`), per endpoint ("Users", "Groups").
    resources: BTreeMap<String, BTreeMap<String, Value>>,
    next_id: u64,
    /// (method filter, path substring, fault), consumed in order.
    faults: VecDeque<(Option<Method>, String, Fault)>,
    log: Vec<Logged>,
    /// The `traceparent` each request came with, in the log's order.
    traceparents: Vec<(Method, String, Option<String>)>,
}

struct Shared {
    registry: Registry,
    data: Mutex<Data>,
    token: Option<String>,
    patch: bool,
    oauth: Option<OAuth>,
    /// While true, writes (anything but GET) wait before they are served.
    hold: tokio::sync::watch::Sender<bool>,
    /// How many writes wait now.
    held: std::sync::atomic::AtomicUsize,
}

/// OAuth 2.0 client credentials: the token endpoint's client, and the
/// tokens it issued with when they expire.
struct OAuth {
    client_id: String,
    secret: String,
    lifetime: Duration,
    issued: Mutex<std::collections::HashMap<String, std::time::Instant>>,
    count: Mutex<u64>,
}

/// A running fake target.
pub struct FakeTarget {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl FakeTarget {
    /// Starts one; `token` is the bearer token it wants (none: no auth),
    /// `patch` whether its ServiceProviderConfig offers PATCH.
    pub async fn start(token: Option<&str>, patch: bool) -> FakeTarget {
        Self::start_with(token, patch, None).await
    }

    /// One that wants OAuth 2.0 client-credentials tokens from its
    /// `/oauth/token`, valid for `lifetime`.
    pub async fn start_oauth(client_id: &str, secret: &str, lifetime: Duration) -> FakeTarget {
        Self::start_with(
            None,
            true,
            Some(OAuth {
                client_id: client_id.into(),
                secret: secret.into(),
                lifetime,
                issued: Mutex::default(),
                count: Mutex::new(0),
            }),
        )
        .await
    }

    async fn start_with(token: Option<&str>, patch: bool, oauth: Option<OAuth>) -> FakeTarget {
        let shared = Arc::new(Shared {
            registry: Registry::standard().unwrap(),
            data: Mutex::new(Data::default()),
            token: token.map(str::to_string),
            patch,
            oauth,
            hold: tokio::sync::watch::Sender::new(false),
            held: std::sync::atomic::AtomicUsize::new(0),
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let t = FakeTarget {
            addr,
            shared,
            server: Mutex::new(None),
        };
        t.serve(listener);
        t
    }

    fn serve(&self, listener: tokio::net::TcpListener) {
        let app = Router::new()
            .route("/oauth/token", axum::routing::post(oauth::token))
            .route("/scim/v2/ServiceProviderConfig", get(handlers::spc))
            .route(
                "/scim/v2/{endpoint}",
                get(handlers::list).post(handlers::create),
            )
            .route(
                "/scim/v2/{endpoint}/{id}",
                get(handlers::read)
                    .put(handlers::replace)
                    .patch(handlers::modify)
                    .delete(handlers::remove),
            )
            .layer(axum::middleware::from_fn_with_state(
                self.shared.clone(),
                handlers::cut,
            ))
            .with_state(self.shared.clone());
        let handle = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        *self.server.lock().unwrap() = Some(handle);
    }

    /// How many tokens the token endpoint issued.
    pub fn tokens_issued(&self) -> u64 {
        self.shared
            .oauth
            .as_ref()
            .map_or(0, |o| *o.count.lock().unwrap())
    }

    /// Forgets every token it issued (as a server does on a key rotation).
    pub fn revoke_tokens(&self) {
        if let Some(o) = &self.shared.oauth {
            o.issued.lock().unwrap().clear();
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}/scim/v2", self.addr)
    }

    /// Stops answering: connections are refused until [`Self::up`].
    pub fn down(&self) {
        if let Some(h) = self.server.lock().unwrap().take() {
            h.abort();
        }
    }

    /// Answers again, on the same port.
    pub async fn up(&self) {
        let mut tries = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(l) => break l,
                Err(e) if tries < 50 => {
                    tries += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot listen on {} again: {e}", self.addr),
            }
        };
        self.serve(listener);
    }

    /// Queues a fault for the next request whose path contains `path` (and
    /// whose method is `method`, if given).
    pub fn fail(&self, method: Option<Method>, path: &str, fault: Fault) {
        self.shared
            .data
            .lock()
            .unwrap()
            .faults
            .push_back((method, path.to_string(), fault));
    }

    /// The member ids of one of its groups, sorted.
    pub fn members(&self, group: &str) -> Vec<String> {
        let mut m: Vec<String> = self.resources("Groups")[group]["members"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .map(|m| m["value"].as_str().unwrap().to_string())
            .collect();
        m.sort();
        m
    }

    /// Holds every write (logged, then kept waiting) until
    /// [`Self::release_writes`]; reads are served.
    pub fn hold_writes(&self) {
        self.shared.hold.send_replace(true);
    }

    pub fn release_writes(&self) {
        self.shared.hold.send_replace(false);
    }

    /// How many writes are being held now.
    pub fn writes_held(&self) -> usize {
        self.shared.held.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// The filters of the lookups it got (filtered GETs), decoded, in order.
    pub fn lookups(&self) -> Vec<String> {
        self.log()
            .iter()
            .filter(|(m, _, _)| *m == Method::GET)
            .filter_map(|(_, p, _)| {
                let q = p.split_once('?')?.1;
                q.split('&')
                    .find_map(|kv| kv.strip_prefix("filter="))
                    .map(handlers::percent_decode)
            })
            .collect()
    }

    /// How many queued faults no request has met yet.
    pub fn faults_left(&self) -> usize {
        self.shared.data.lock().unwrap().faults.len()
    }

    /// The resources of an endpoint ("Users", "Groups"), by id.
    pub fn resources(&self, endpoint: &str) -> BTreeMap<String, Value> {
        self.shared
            .data
            .lock()
            .unwrap()
            .resources
            .get(endpoint)
            .cloned()
            .unwrap_or_default()
    }

    /// Puts a resource there directly (one the target had before us).
    pub fn seed(&self, endpoint: &str, body: Value) -> String {
        let mut d = self.shared.data.lock().unwrap();
        d.next_id += 1;
        let id = format!("pre-{}", d.next_id);
        let mut r = body;
        r["id"] = json!(id);
        d.resources
            .entry(endpoint.to_string())
            .or_default()
            .insert(id.clone(), r);
        id
    }

    /// Changes a resource behind our back (drift).
    pub fn edit(&self, endpoint: &str, id: &str, f: impl FnOnce(&mut Value)) {
        let mut d = self.shared.data.lock().unwrap();
        if let Some(r) = d.resources.get_mut(endpoint).and_then(|m| m.get_mut(id)) {
            f(r);
        }
    }

    /// Removes a resource behind our back (drift).
    pub fn forget(&self, endpoint: &str, id: &str) {
        let mut d = self.shared.data.lock().unwrap();
        if let Some(m) = d.resources.get_mut(endpoint) {
            m.remove(id);
        }
    }

    pub fn log(&self) -> Vec<Logged> {
        self.shared.data.lock().unwrap().log.clone()
    }

    /// Each request's method, path and `traceparent` header, in order.
    pub fn traceparents(&self) -> Vec<(Method, String, Option<String>)> {
        self.shared.data.lock().unwrap().traceparents.clone()
    }
}
