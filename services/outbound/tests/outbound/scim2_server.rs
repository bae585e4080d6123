//! python-scim's `scim2-server` (PyPI, pinned in tests/scim2-server): a real
//! third-party SCIM 2.0 server as a target. `make test` installs it and
//! exports its path as `SCIMBUS_SCIM2_SERVER`; each test starts its own on a
//! free port.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use serde_json::Value;

pub struct Scim2Server {
    pub url: String,
    pub token: String,
    _child: tokio::process::Child,
    http: reqwest::Client,
}

impl Scim2Server {
    pub async fn start(token: &str) -> Scim2Server {
        let bin = std::env::var("SCIMBUS_SCIM2_SERVER").unwrap_or_else(|_| {
            panic!(
                "SCIMBUS_SCIM2_SERVER is not set: run the tests with `make test`, which installs \
                 scim2-server (tests/scim2-server/ensure.sh prints its path)"
            )
        });
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = tokio::process::Command::new(&bin)
            .args(["--hostname", "127.0.0.1", "--port", &port.to_string()])
            .args(["--bearer-token", token])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let _ = rustls::crypto::ring::default_provider().install_default();
        let s = Scim2Server {
            url: format!("http://127.0.0.1:{port}"),
            token: token.into(),
            _child: child,
            http: reqwest::Client::new(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let ok = s
                .http
                .get(format!("{}/ServiceProviderConfig", s.url))
                .bearer_auth(token)
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ok {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "scim2-server did not start on {port}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The resources of an endpoint ("Users", "Groups"), by id, as it
    /// lists them.
    pub async fn resources(&self, endpoint: &str) -> BTreeMap<String, Value> {
        let body: Value = self
            .http
            .get(format!("{}/{endpoint}?count=1000", self.url))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        body["Resources"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|r| (r["id"].as_str().unwrap_or_default().to_string(), r))
            .collect()
    }
}
