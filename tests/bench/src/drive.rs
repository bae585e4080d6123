//! Load for the outbound bench: creates at a steady rate through the
//! ingress, with the time each was acknowledged, against the time each
//! target received it (propagation latency); and creates sent straight to a
//! target (the rate it accepts, the full sync's reference).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::target::now_micros;

fn client() -> anyhow::Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()?)
}

fn user(user_name: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": user_name,
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "emails": [{"value": format!("{user_name}@example.com"), "type": "work", "primary": true}],
        "active": true
    })
}

/// The `p` quantile (nearest rank) of ascending `sorted`; NaN when empty.
pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Settings of a propagation run.
#[derive(Debug)]
pub struct Propagation {
    pub ingress: String,
    pub token: String,
    pub rate: u64,
    pub secs: u64,
    pub conns: usize,
    pub targets: Vec<String>,
    /// Webhook subscribers ([`crate::receiver`]) of the same tenant: when
    /// any, the run also prints their notification latency
    /// ([`crate::notify::measure`]).
    pub receivers: Vec<String>,
    pub run: String,
}

/// Creates `rate × secs` users at a steady `rate` over `conns` connections,
/// then waits for every target to have them; prints the latencies of those
/// that arrived, and how many did not: `missing` (user × target arrivals
/// that never came), `missing_users` (users absent from some target) and
/// `errors` (creates not answered 201). The latencies describe only what
/// arrived, so a run with any of those three is no measurement of the
/// propagation: outbound.sh fails its verdict. Then, with receivers, the
/// `BENCH notify` line of [`crate::notify::Figures`].
pub async fn propagation(p: Propagation) -> anyhow::Result<()> {
    let http = client()?;
    let n = p.rate * p.secs;
    let acks: Arc<Vec<AtomicU64>> = Arc::new((0..n).map(|_| AtomicU64::new(0)).collect());
    let errors = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let start = Instant::now() + Duration::from_millis(100);
    let mut tasks = Vec::new();
    for _ in 0..p.conns {
        let (http, acks, errors, next) = (http.clone(), acks.clone(), errors.clone(), next.clone());
        let url = format!("{}/Users", p.ingress);
        let (token, run, rate) = (p.token.clone(), p.run.clone(), p.rate);
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= n {
                    return;
                }
                let due = start + Duration::from_micros(i * 1_000_000 / rate);
                tokio::time::sleep_until(due.into()).await;
                let body = user(&format!("{run}-{i}")).to_string();
                let ok = http
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/scim+json")
                    .body(body)
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 201);
                if ok {
                    acks[i as usize].store(now_micros(), Ordering::Relaxed);
                } else {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let sent_secs = start.elapsed().as_secs_f64();
    // Every target has every acknowledged user, or 60 s have passed.
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut latencies: Vec<f64> = Vec::new();
    let mut missing = 0u64;
    let mut absent = std::collections::BTreeSet::new();
    for t in &p.targets {
        let acked = (0..n)
            .filter(|i| acks[*i as usize].load(Ordering::Relaxed) > 0)
            .count() as u64;
        // Poll the count (cheap), then fetch the arrivals once.
        loop {
            let have: u64 = http.get(format!("{t}/_count")).send().await?.json().await?;
            if have >= acked || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let arrivals: Value = http
            .get(format!("{t}/_arrivals"))
            .send()
            .await?
            .json()
            .await?;
        for i in 0..n {
            let ack = acks[i as usize].load(Ordering::Relaxed);
            if ack == 0 {
                continue;
            }
            match arrivals
                .get(format!("{}-{i}", p.run))
                .and_then(Value::as_u64)
            {
                // Arrived before the client had its answer: no wait at all.
                Some(at) => latencies.push(at.saturating_sub(ack) as f64 / 1000.0),
                None => {
                    missing += 1;
                    absent.insert(i);
                }
            }
        }
    }
    latencies.sort_by(f64::total_cmp);
    let acked = (0..n)
        .filter(|i| acks[*i as usize].load(Ordering::Relaxed) > 0)
        .count();
    println!(
        "BENCH propagation writes={n} acked={acked} seconds={sent_secs:.1} rate={:.0} targets={} p50_ms={:.2} p99_ms={:.2} max_ms={:.2} missing={missing} missing_users={} errors={}",
        n as f64 / sent_secs,
        p.targets.len(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        absent.len(),
        errors.load(Ordering::Relaxed),
    );
    if !p.receivers.is_empty() {
        let acks: Vec<u64> = acks.iter().map(|a| a.load(Ordering::Relaxed)).collect();
        let figures = crate::notify::measure(&http, &p.receivers, &p.run, &acks, deadline).await?;
        println!("{figures}");
    }
    Ok(())
}

/// The full sync's reference: the users another target received (`from`,
/// its `/_dump/Users`: the very bodies the sync sent, their `id` removed),
/// created again on the target at `url` with `conns` connections. The
/// bodies are serialized before the clock starts: what is timed is the
/// target taking them. `errors`: creates not answered 201 (a reference
/// with errors is no reference; outbound.sh fails its verdict).
pub async fn direct(url: &str, conns: usize, from: &str) -> anyhow::Result<()> {
    let http = client()?;
    let dumped: Vec<Value> = http
        .get(format!("{from}/_dump/Users"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let bodies: Arc<Vec<String>> = Arc::new(
        dumped
            .into_iter()
            .map(|mut u| {
                if let Some(o) = u.as_object_mut() {
                    o.remove("id");
                    o.remove("meta");
                }
                u.to_string()
            })
            .collect(),
    );
    let n = bodies.len() as u64;
    anyhow::ensure!(n > 0, "{from} has no users to replay");
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..conns {
        let (http, next, errors, bodies) =
            (http.clone(), next.clone(), errors.clone(), bodies.clone());
        let url = format!("{url}/Users");
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(body) = bodies.get(i as usize) else {
                    return;
                };
                let ok = http
                    .post(&url)
                    .header("content-type", "application/scim+json")
                    .body(body.clone())
                    .send()
                    .await
                    .is_ok_and(|r| r.status().as_u16() == 201);
                if !ok {
                    errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    for t in tasks {
        t.await?;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "BENCH direct creates={n} seconds={secs:.2} rate={:.0} conns={conns} errors={}",
        n as f64 / secs,
        errors.load(Ordering::Relaxed)
    );
    Ok(())
}
