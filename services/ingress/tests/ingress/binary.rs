//! The ingress binary through the service skeleton: a bad setting stops it
//! before it binds with exit code 78 naming the setting; SIGTERM under load
//! answers every request in flight, within the drain bound.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use scimbus_testkit::TestEnv;
use scimbus_testkit::process::{exit_within, run_with_only, terminate};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;

const BIN: &str = env!("CARGO_BIN_EXE_scimbus-ingress");
const DRAIN: Duration = Duration::from_secs(10);
const TOKEN: &str = "binary-test-token";

#[tokio::test]
async fn a_bad_setting_stops_the_ingress_with_exit_78_naming_it() {
    scimbus_e2e::binary::assert_bad_settings_exit_78(
        BIN,
        &[
            ("SCIMBUS_PARTITIONS", "zero"),
            ("SCIMBUS_WRITE_TIMEOUT_MS", "soon"),
            ("SCIMBUS_INGRESS_ADDR", "nowhere"),
            ("SCIMBUS_DATABASE_READ_URL", "mysql://x@127.0.0.1/x"),
            ("SCIMBUS_READ_DATABASE_URL", "mysql://x@127.0.0.1/x"),
            ("SCIMBUS_TRUSTED_PROXIES", "the-load-balancer"),
            ("SCIMBUS_INGRESS_REPLICAS", "0"),
            ("SCIMBUS_NATS_URL", "nats://127.0.0.1:port"),
            ("SCIMBUS_DRAIN_SECS", "0"),
            ("SCIMBUS_CONFIG", "/nonexistent/scimbus.toml"),
        ],
    )
    .await;
    let (code, err) = run_with_only(BIN, &[]).await;
    assert_eq!(code, Some(78), "{err}");
    assert!(err.contains("SCIMBUS_DATABASE_URL"), "{err}");
}

/// One request on its own connection; the status, or `None` when the
/// connection was refused or closed without an answer.
async fn post_user(addr: &str, user_name: &str) -> Option<u16> {
    let body = serde_json::json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
    })
    .to_string();
    let mut conn = TcpStream::connect(addr).await.ok()?;
    let head = format!(
        "POST /scim/v2/acme/Users HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {TOKEN}\r\n\
         Content-Type: application/scim+json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.ok()?;
    conn.write_all(body.as_bytes()).await.ok()?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer).await.ok()?;
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

async fn readyz(addr: &str) -> bool {
    let Ok(mut conn) = TcpStream::connect(addr).await else {
        return false;
    };
    let req = format!("GET /readyz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if conn.write_all(req.as_bytes()).await.is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer).await;
    answer.starts_with(b"HTTP/1.1 200")
}

/// What one request saw: when it was sent, when it was answered, how.
#[derive(Debug, Clone)]
struct Sent {
    user_name: String,
    at: Instant,
    answered: Instant,
    status: Option<u16>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sigterm_under_load_answers_every_request_in_flight_within_the_bound() {
    let mut api = Api::without_store(Duration::from_secs(15)).await;
    api.start_store().await;
    let env: &TestEnv = &api.env;
    let scopes = scimbus_runtime::scope::Scopes::tenant_default().names();
    scimbus_db::tokens::insert(
        &env.pool,
        &scimbus_db::tokens::NewRow {
            id: uuid::Uuid::now_v7(),
            tenant: "acme",
            hash: &scimbus_runtime::token_hash(TOKEN),
            label: "binary test",
            prefix: "",
            scopes: &scopes,
            expires_at: None,
        },
    )
    .await
    .unwrap()
    .expect("tenant acme exists");
    // A free port for the binary (it is told the port; nothing else binds
    // it in between on a test machine).
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().to_string()
    };
    let mut ingress = scimbus_e2e::binary::command(BIN, env)
        .env("SCIMBUS_INGRESS_ADDR", &addr)
        .env("SCIMBUS_PARTITIONS", "4")
        .env("SCIMBUS_DRAIN_SECS", DRAIN.as_secs().to_string())
        .spawn()
        .expect("start scimbus-ingress");
    let deadline = Instant::now() + Duration::from_secs(30);
    while !readyz(&addr).await {
        assert!(Instant::now() < deadline, "not ready within 30 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Eight clients create users until the ingress stops answering.
    let log: Arc<Mutex<Vec<Sent>>> = Arc::default();
    let clients: Vec<_> = (0..8)
        .map(|c| {
            let (addr, log) = (addr.clone(), log.clone());
            tokio::spawn(async move {
                for i in 0.. {
                    let user_name = format!("drain-{c}-{i}");
                    let at = Instant::now();
                    let status = post_user(&addr, &user_name).await;
                    log.lock().unwrap().push(Sent {
                        user_name,
                        at,
                        answered: Instant::now(),
                        status,
                    });
                    if status.is_none() {
                        break;
                    }
                }
            })
        })
        .collect();
    let deadline = Instant::now() + Duration::from_secs(60);
    while log.lock().unwrap().len() < 200 {
        assert!(Instant::now() < deadline, "the load never got going");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let signalled = Instant::now();
    terminate(&ingress);
    let (status, took) = exit_within(&mut ingress, DRAIN + Duration::from_secs(5)).await;
    assert_eq!(status.code(), Some(0), "a clean drain exits 0 ({took:?})");
    assert!(took < DRAIN, "drained in {took:?}, bound {DRAIN:?}");
    for c in clients {
        c.await.unwrap();
    }

    let sent = log.lock().unwrap().clone();
    let answered: Vec<&Sent> = sent.iter().filter(|s| s.status.is_some()).collect();
    let odd: Vec<&&Sent> = answered.iter().filter(|s| s.status != Some(201)).collect();
    assert!(odd.is_empty(), "every answer is 201 Created: {odd:?}");
    // Requests in flight at the signal were answered, not cut off.
    let drained = answered
        .iter()
        .filter(|s| s.at < signalled && s.answered > signalled)
        .count();
    assert!(drained > 0, "no request was in flight at the signal");
    // Every user answered 201 is in Postgres.
    let names: Vec<String> = answered.iter().map(|s| s.user_name.clone()).collect();
    let stored: i64 = sqlx::query_scalar(
        "select count(*) from resources where tenant = 'acme' and user_name = any($1)",
    )
    .bind(&names)
    .fetch_one(&env.pool)
    .await
    .unwrap();
    assert_eq!(stored, names.len() as i64, "every 201 is stored");
    api.teardown().await;
}
