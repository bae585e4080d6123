//! Load for the HR bench: signed HR webhooks as fast as the ingress takes
//! them, over `conns` connections for `secs` seconds — one hire per request
//! in the workday shape, or batches of hires in the bamboohr shape — with
//! the time each request took to be answered 202 (every event durable in
//! Postgres). How fast and how late they are *applied* the bench reads
//! from the inbox afterwards (`hr_events.applied_at - received_at`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::drive::percentile;

/// Settings of an HR run.
#[derive(Debug, Clone)]
pub struct HrLoad {
    /// `http://host:port/hr/v1/<tenant>/<source>`.
    pub url: String,
    /// The HMAC secret (workday: `X-Signature: sha256=<hex>` of the body;
    /// bamboohr: `X-BambooHR-Signature: <hex>` of body + timestamp).
    pub secret: String,
    pub secs: u64,
    pub conns: usize,
    /// Events per request: 1 sends the workday shape, more the bamboohr
    /// shape.
    pub batch: usize,
    /// Makes employee and event ids unique to this run.
    pub run: String,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(secret: &str, data: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    hex(ring::hmac::sign(&key, data).as_ref())
}

/// A workday-shaped hire.
fn workday(id: &str) -> Value {
    json!({
        "eventId": format!("ev-{id}"), "eventType": "HIRE", "effectiveDate": "2026-01-05",
        "sentAt": "2026-01-01T00:00:00Z",
        "worker": {
            "workerId": id,
            "legalName": {"firstName": "Amaia", "lastName": "Etxeberria"},
            "preferredName": {"firstName": "Amaia"},
            "workEmail": format!("{id}@example.com"),
            "businessTitle": "Account Executive",
            "department": {"id": "D-310", "name": "Sales EMEA"},
            "costCenter": "CC-4410",
            "company": "Example Iberia SL",
            "manager": {"workerId": "bench-manager"}
        }
    })
}

/// A bamboohr-shaped new employee.
fn bamboo(id: &str) -> Value {
    json!({
        "id": id, "action": "Created",
        "changedFields": ["firstName", "lastName", "workEmail", "jobTitle", "department", "status"],
        "fields": {
            "employeeNumber": format!("E-{id}"), "firstName": "Kwame", "lastName": "Mensah",
            "preferredName": "", "workEmail": format!("{id}@example.com"),
            "jobTitle": "Data Analyst", "department": "Finance", "status": "Active",
            "supervisorEId": "bench-manager", "hireDate": "2026-01-05"
        }
    })
}

/// One request: its body and signature headers.
fn request(load: &HrLoad, conn: usize, n: u64) -> (Vec<u8>, Vec<(&'static str, String)>) {
    let id = |i: usize| format!("{}-{conn}-{n}-{i}", load.run);
    if load.batch <= 1 {
        let body = serde_json::to_vec(&workday(&id(0))).unwrap_or_default();
        let sig = format!("sha256={}", hmac(&load.secret, &body));
        return (body, vec![("X-Signature", sig)]);
    }
    let employees: Vec<Value> = (0..load.batch).map(|i| bamboo(&id(i))).collect();
    let ts = chrono::Utc::now().timestamp().to_string();
    let body = serde_json::to_vec(&json!({
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "employees": employees
    }))
    .unwrap_or_default();
    let mut signed = body.clone();
    signed.extend_from_slice(ts.as_bytes());
    let sig = hmac(&load.secret, &signed);
    (
        body,
        vec![("X-BambooHR-Signature", sig), ("X-BambooHR-Timestamp", ts)],
    )
}

/// Runs the load and prints one line:
/// `BENCH requests=… events=… accepted_eps=… p50_ms=… p99_ms=… errors=… first_error=…`.
pub async fn run(load: HrLoad) -> anyhow::Result<()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()?;
    let errors = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(std::sync::Mutex::new(String::new()));
    let start = Instant::now();
    let until = start + Duration::from_secs(load.secs);
    let mut tasks = Vec::with_capacity(load.conns);
    for conn in 0..load.conns {
        let (client, load) = (client.clone(), load.clone());
        let (errors, first_error) = (errors.clone(), first_error.clone());
        tasks.push(tokio::spawn(async move {
            let mut took = Vec::new();
            let mut n = 0u64;
            while Instant::now() < until {
                let (body, headers) = request(&load, conn, n);
                n += 1;
                let mut req = client
                    .post(&load.url)
                    .header("content-type", "application/json");
                for (k, v) in headers {
                    req = req.header(k, v);
                }
                let t0 = Instant::now();
                match req.body(body).send().await {
                    Ok(r) if r.status().as_u16() == 202 => {
                        let _ = r.bytes().await;
                        took.push(t0.elapsed().as_secs_f64() * 1000.0);
                    }
                    other => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        let why = match other {
                            Ok(r) => {
                                format!("{} {}", r.status(), r.text().await.unwrap_or_default())
                            }
                            Err(e) => e.to_string(),
                        };
                        if let Ok(mut f) = first_error.lock()
                            && f.is_empty()
                        {
                            *f = why;
                        }
                    }
                }
            }
            took
        }));
    }
    let mut took = Vec::new();
    for t in tasks {
        took.extend(t.await?);
    }
    let elapsed = start.elapsed().as_secs_f64();
    took.sort_by(f64::total_cmp);
    let requests = took.len();
    let events = requests * load.batch.max(1);
    let first = first_error
        .lock()
        .map(|f| f.replace(char::is_whitespace, "_"))
        .unwrap_or_default();
    println!(
        "BENCH requests={requests} events={events} accepted_eps={:.1} p50_ms={:.2} p99_ms={:.2} errors={} first_error={}",
        events as f64 / elapsed,
        percentile(&took, 0.5),
        percentile(&took, 0.99),
        errors.load(Ordering::Relaxed),
        if first.is_empty() {
            "-".to_string()
        } else {
            first.chars().take(200).collect::<String>()
        },
    );
    Ok(())
}
