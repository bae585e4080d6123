//! Connecting to NATS and checking the server is one scimbus can use.

use async_nats::jetstream;

/// The oldest nats-server scimbus accepts: 2.9 silently ignores 2.10
/// stream and consumer fields (a consumer's `filter_subjects` becomes no
/// filter at all), which would break ordering and tenant isolation.
pub const MIN_SERVER_VERSION: (u32, u32, u32) = (2, 10, 0);

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot connect to NATS at {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: async_nats::ConnectError,
    },
    #[error(
        "nats-server {found} at {url} is too old: scimbus needs {}.{}.{} or newer (Debian's 2.9 package silently ignores 2.10 stream settings)",
        MIN_SERVER_VERSION.0, MIN_SERVER_VERSION.1, MIN_SERVER_VERSION.2
    )]
    ServerTooOld { url: String, found: String },
    #[error("nats-server at {url} does not have JetStream enabled (start it with -js)")]
    NoJetStream { url: String },
    #[error("JetStream: {0}")]
    JetStream(String),
    #[error("NATS credentials file {path}: {reason}")]
    Credentials { path: String, reason: String },
    #[error("not connected to NATS ({0})")]
    NotConnected(String),
    #[error("publish to {subject}: {reason}")]
    Publish { subject: String, reason: String },
}

/// Parses `2.10.22`, `v2.11.0-beta.1` into (major, minor, patch).
pub fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let v = v.trim().trim_start_matches('v');
    let core = v.split(['-', '+']).next()?;
    let mut parts = core.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
    ))
}

/// Checks a server's reported version and JetStream flag.
pub fn check_server(url: &str, info: &async_nats::ServerInfo) -> Result<(), BusError> {
    match parse_version(&info.version) {
        Some(v) if v >= MIN_SERVER_VERSION => {}
        _ => {
            return Err(BusError::ServerTooOld {
                url: url.to_string(),
                found: info.version.clone(),
            });
        }
    }
    if !info.jetstream {
        return Err(BusError::NoJetStream {
            url: url.to_string(),
        });
    }
    Ok(())
}

/// How a client proves who it is, beyond what the URL carries (a token or
/// `user:password@` in the URL work as they are).
#[derive(Debug, Clone, Default)]
pub struct NatsAuth {
    /// A `.creds` file: the user JWT and its nkey seed (decentralized auth).
    pub creds_file: Option<std::path::PathBuf>,
    /// A user and password kept out of the URL.
    pub user_password: Option<(String, String)>,
}

/// The servers of a `SCIMBUS_NATS_URL`: one URL, or several separated by
/// commas (the seed list of a cluster; the client learns the rest from the
/// servers). async-nats reads a string as one URL, so the list is split
/// here.
pub fn servers(url: &str) -> Vec<String> {
    url.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// Connects with no credentials beyond the URL's; see [`connect_with`].
pub async fn connect(
    url: &str,
    name: &str,
) -> Result<(async_nats::Client, jetstream::Context), BusError> {
    connect_with(url, name, &NatsAuth::default()).await
}

/// Connects, checks the server, and returns the client with its JetStream
/// context. `name` shows up in the server's connection list.
pub async fn connect_with(
    url: &str,
    name: &str,
    auth: &NatsAuth,
) -> Result<(async_nats::Client, jetstream::Context), BusError> {
    let mut options = async_nats::ConnectOptions::new();
    if let Some(path) = &auth.creds_file {
        options = options
            .credentials_file(path)
            .await
            .map_err(|e| BusError::Credentials {
                path: path.display().to_string(),
                reason: e.to_string(),
            })?;
    }
    if let Some((user, password)) = &auth.user_password {
        options = options.user_and_password(user.clone(), password.clone());
    }
    let client = options
        .name(name)
        .retry_on_initial_connect()
        .max_reconnects(None)
        .connect(servers(url))
        .await
        .map_err(|source| BusError::Connect {
            url: url.to_string(),
            source,
        })?;
    // retry_on_initial_connect returns before the handshake; wait for it.
    client
        .flush()
        .await
        .map_err(|e| BusError::JetStream(e.to_string()))?;
    check_server(url, &client.server_info())?;
    let js = jetstream::new(client.clone());
    js.query_account()
        .await
        .map_err(|_| BusError::NoJetStream {
            url: url.to_string(),
        })?;
    Ok((client, js))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_list_of_urls_is_every_server_of_it() {
        assert_eq!(servers("nats://a:4222"), ["nats://a:4222"]);
        assert_eq!(
            servers("nats://a:4222, nats://b:4222,nats://c:4222,"),
            ["nats://a:4222", "nats://b:4222", "nats://c:4222"]
        );
    }

    #[test]
    fn versions() {
        assert_eq!(parse_version("2.10.22"), Some((2, 10, 22)));
        assert_eq!(parse_version("v2.11.0-beta.1"), Some((2, 11, 0)));
        assert_eq!(parse_version("2.9"), Some((2, 9, 0)));
        assert_eq!(parse_version("x"), None);
        assert!(parse_version("2.9.25").unwrap() < MIN_SERVER_VERSION);
        assert!(parse_version("2.10.0").unwrap() >= MIN_SERVER_VERSION);
        assert!(parse_version("3.0.0").unwrap() >= MIN_SERVER_VERSION);
    }

    #[test]
    fn old_or_jetstream_less_servers_are_refused() {
        let mut info = async_nats::ServerInfo {
            version: "2.9.25".into(),
            jetstream: true,
            ..Default::default()
        };
        let e = check_server("nats://x", &info).unwrap_err();
        assert!(
            e.to_string().contains("2.9.25 at nats://x is too old"),
            "{e}"
        );
        info.version = "2.10.1".into();
        info.jetstream = false;
        assert!(matches!(
            check_server("nats://x", &info),
            Err(BusError::NoJetStream { .. })
        ));
        info.jetstream = true;
        assert!(check_server("nats://x", &info).is_ok());
    }
}
