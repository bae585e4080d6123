//! The notification half of the propagation run: how long after its
//! commit each healthy webhook subscriber ([`crate::receiver`]) had each
//! created user, and what the failing subscriber was sent.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::drive::percentile;

/// What one receiver reports at `/_stats`.
#[derive(Debug, Default)]
struct Stats {
    fail: bool,
    requests: u64,
    unsigned: u64,
    duplicates: u64,
}

async fn stats(http: &reqwest::Client, url: &str) -> anyhow::Result<Stats> {
    let v: Value = http
        .get(format!("{url}/_stats"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    Ok(Stats {
        fail: v["fail"].as_bool().unwrap_or(false),
        requests: n("requests"),
        unsigned: n("unsigned"),
        duplicates: n("duplicates"),
    })
}

async fn map(http: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    Ok(http
        .get(url)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The notification figures of one propagation run.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Figures {
    pub receivers: usize,
    pub healthy: usize,
    /// Commit (the event's `time`) → arrival, ms, ascending.
    pub from_commit: Vec<f64>,
    /// 201 → arrival, ms, ascending.
    pub from_ack: Vec<f64>,
    /// user × healthy receiver pairs never received
    pub missing: u64,
    /// received, but the event's `time` did not parse
    pub untimed: u64,
    /// requests without one of the three `webhook-*` headers, all receivers
    pub unsigned: u64,
    /// created events received again by a receiver that had them
    pub duplicates: u64,
    /// what the failing receivers were sent (proof they were tried)
    pub failing_requests: u64,
}

impl std::fmt::Display for Figures {
    /// The `BENCH notify` line outbound.sh reads.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "BENCH notify receivers={} healthy={} notify_p50_ms={:.2} notify_p99_ms={:.2} notify_max_ms={:.2} notify_ack_p50_ms={:.2} notify_ack_p99_ms={:.2} notify_missing={} notify_untimed={} notify_unsigned={} notify_duplicates={} notify_failing_requests={}",
            self.receivers,
            self.healthy,
            percentile(&self.from_commit, 0.50),
            percentile(&self.from_commit, 0.99),
            self.from_commit.last().copied().unwrap_or(f64::NAN),
            percentile(&self.from_ack, 0.50),
            percentile(&self.from_ack, 0.99),
            self.missing,
            self.untimed,
            self.unsigned,
            self.duplicates,
            self.failing_requests,
        )
    }
}

/// Waits (until `deadline`) for every healthy receiver to have the users
/// acknowledged in `acks` (unix µs of each create's 201, 0: not
/// acknowledged; user `i` is `{run}-{i}`), then collects the [`Figures`]:
/// latency from the commit time the event carries to its arrival (the
/// notification latency), the same from the 201 (comparable with the
/// propagation's figures), the pairs never received, and what the failing
/// receivers (`/_stats` says `fail`) were sent.
pub async fn measure(
    http: &reqwest::Client,
    receivers: &[String],
    run: &str,
    acks: &[u64],
    deadline: Instant,
) -> anyhow::Result<Figures> {
    let acked = acks.iter().filter(|a| **a > 0).count() as u64;
    let mut fig = Figures {
        receivers: receivers.len(),
        ..Figures::default()
    };
    for r in receivers {
        if stats(http, r).await?.fail {
            continue;
        }
        fig.healthy += 1;
        loop {
            let have: u64 = http.get(format!("{r}/_count")).send().await?.json().await?;
            if have >= acked || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let arrivals = map(http, &format!("{r}/_arrivals")).await?;
        let commits = map(http, &format!("{r}/_commits")).await?;
        for (i, ack) in acks.iter().enumerate() {
            if *ack == 0 {
                continue;
            }
            let user = format!("{run}-{i}");
            let Some(at) = arrivals.get(&user).and_then(Value::as_u64) else {
                fig.missing += 1;
                continue;
            };
            fig.from_ack.push(at.saturating_sub(*ack) as f64 / 1000.0);
            match commits.get(&user).and_then(Value::as_u64) {
                Some(c) => fig.from_commit.push(at.saturating_sub(c) as f64 / 1000.0),
                None => fig.untimed += 1,
            }
        }
    }
    // Counters last: the healthy ones' wait gave the notifier time to
    // retry the failing ones.
    for r in receivers {
        let s = stats(http, r).await?;
        fig.unsigned += s.unsigned;
        fig.duplicates += s.duplicates;
        if s.fail {
            fig.failing_requests += s.requests;
        }
    }
    fig.from_commit.sort_by(f64::total_cmp);
    fig.from_ack.sort_by(f64::total_cmp);
    Ok(fig)
}
