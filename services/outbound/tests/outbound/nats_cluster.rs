//! Scale-out on one machine (docs/architecture.md): the stack on a
//! three-node JetStream cluster with every stream replicated three times.
//! The node leading the command stream is killed in the middle of a write
//! load and brought back 5 s later. Writes are refused (503, "try again")
//! only once the node is lost, and are taken again after it is back; every
//! write the ingress acknowledged is in Postgres, every user in Postgres
//! reaches the outbound target, and nothing is there twice.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use reqwest::Method;
use scimbus_e2e::{IngressBuilder, OutboundBuilder, StoreBuilder, TestEnv};
use scimbus_testkit::NatsCluster;

use crate::fake_target::FakeTarget;
use crate::support::{TENANT, TOKEN, eventually, target, user};

/// Creates users `<writer>-<n>` one after another until `stop`; returns
/// each userName with the status the ingress answered (0: no answer) and
/// when the answer came.
async fn writer(
    http: reqwest::Client,
    base: String,
    name: String,
    stop: Arc<AtomicBool>,
) -> Vec<(String, u16, Instant)> {
    let mut out = Vec::new();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let user_name = format!("{name}-{n}");
        n += 1;
        let answer = http
            .request(Method::POST, format!("{base}/Users"))
            .bearer_auth(TOKEN)
            .header("content-type", "application/scim+json")
            .json(&user(&user_name, "eng"))
            .timeout(Duration::from_secs(30))
            .send()
            .await;
        let status = match answer {
            Ok(r) => r.status().as_u16(),
            Err(_) => 0,
        };
        if status != 201 {
            // A refused write is not retried at once: an IdP backs off.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        out.push((user_name, status, Instant::now()));
    }
    out
}

#[tokio::test]
async fn losing_the_stream_leader_under_load_loses_and_repeats_nothing() {
    let mut cluster = NatsCluster::start(3).await;
    let env = TestEnv::with_nats_replicas(&cluster.url(), 3).await;
    let (_client, js) = env.bus().await;
    let cmd = env.subjects.command_stream();
    let info = js
        .get_stream(&cmd)
        .await
        .unwrap()
        .info()
        .await
        .unwrap()
        .clone();
    assert_eq!(info.config.num_replicas, 3, "the streams are R3");

    let store = StoreBuilder::new(&env).tenants([TENANT]).start().await;
    let ingress = IngressBuilder::new(&env)
        .tenants([TENANT])
        .tenant(TENANT, &[TOKEN])
        .admin_tokens(&[])
        .start()
        .await;
    let t = FakeTarget::start(None, true).await;
    let outbound = OutboundBuilder::new(&env)
        .targets(TENANT, vec![target("t", &t.url())])
        .start()
        .await;
    let base = format!("http://{}/scim/v2/{TENANT}", ingress.addr());
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();

    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..8)
        .map(|w| {
            tokio::spawn(writer(
                http.clone(),
                base.clone(),
                format!("w{w}"),
                stop.clone(),
            ))
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut stream = js.get_stream(&cmd).await.unwrap();
    let leader = stream
        .info()
        .await
        .unwrap()
        .cluster
        .as_ref()
        .and_then(|c| c.leader.clone())
        .expect("the command stream has a leader");
    let node = cluster
        .index_of(&leader)
        .expect("the leader is one of ours");
    let killed = Instant::now();
    cluster.kill(node).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.restart(node).await;
    let back = Instant::now();
    // The cluster takes writes again once the node is back: a user made
    // now is acknowledged (within 60 s; elections take seconds).
    eventually(
        "writes are acknowledged again",
        Duration::from_secs(60),
        || async {
            let probe = http
                .post(format!("{base}/Users"))
                .bearer_auth(TOKEN)
                .header("content-type", "application/scim+json")
                .json(&user(
                    &format!("probe-{}", uuid::Uuid::now_v7().simple()),
                    "eng",
                ))
                .send()
                .await
                .map_err(|e| e.to_string())?;
            match probe.status().as_u16() {
                201 => Ok(()),
                s => Err(s.to_string()),
            }
        },
    )
    .await;
    let recovered = Instant::now();
    tokio::time::sleep(Duration::from_secs(2)).await;
    stop.store(true, Ordering::Relaxed);
    let mut answered = Vec::new();
    for w in writers {
        answered.extend(w.await.unwrap());
    }

    let acknowledged: Vec<&str> = answered
        .iter()
        .filter(|(_, s, _)| *s == 201)
        .map(|(n, _, _)| n.as_str())
        .collect();
    let refused: Vec<&(String, u16, Instant)> =
        answered.iter().filter(|(_, s, _)| *s != 201).collect();
    // Refusals come only once the node is lost.
    let before = refused.iter().filter(|(_, _, at)| *at < killed).count();
    let first = refused.iter().map(|(_, _, at)| *at).min();
    let last = refused.iter().map(|(_, _, at)| *at).max();
    eprintln!(
        "nats cluster: refusals from {:?} to {:?} after the kill; the node came back after {:?}, writes were taken again after {:?}",
        first.map(|f| f.saturating_duration_since(killed)),
        last.map(|l| l.saturating_duration_since(killed)),
        back - killed,
        recovered - killed
    );
    assert_eq!(before, 0, "refusals before the node was lost");
    assert!(
        acknowledged.len() >= 50,
        "too little load: {}",
        acknowledged.len()
    );
    for (name, status, _) in &refused {
        // A write the cluster could not take now is answered as such (or
        // not at all, while its node is gone), never as a failure of ours.
        assert!(matches!(status, 0 | 503 | 504), "{name}: {status}");
    }
    // Every acknowledged write is in Postgres, once.
    let in_db: Vec<String> = sqlx::query_scalar(
        "select user_name from resources where tenant = $1 and resource_type = 'User'",
    )
    .bind(TENANT)
    .fetch_all(&env.pool)
    .await
    .unwrap();
    let set: std::collections::HashSet<&str> = in_db.iter().map(String::as_str).collect();
    assert_eq!(set.len(), in_db.len(), "a user twice in Postgres");
    for name in &acknowledged {
        assert!(
            set.contains(name),
            "{name} was acknowledged and is not in Postgres"
        );
    }
    // Every user in Postgres (the acknowledged ones and any unanswered
    // write that was applied) reaches the target, once.
    eventually(
        "every user reached the target",
        Duration::from_secs(120),
        || async {
            let there: Vec<String> = t
                .resources("Users")
                .values()
                .filter_map(|u| u["userName"].as_str().map(str::to_string))
                .collect();
            if there.len() >= in_db.len() {
                return Ok(());
            }
            let progress: Option<(i64, i64, Option<String>, bool)> = sqlx::query_as(
                "select stream_seq, pushed, last_error, synced_at is not null
                 from target_progress where tenant = $1 and target = 't'",
            )
            .bind(TENANT)
            .fetch_optional(&env.pool)
            .await
            .map_err(|e| e.to_string())?;
            Err(format!(
                "{} of {}; the target's progress: {progress:?}",
                there.len(),
                in_db.len()
            ))
        },
    )
    .await;
    let mut there: Vec<String> = t
        .resources("Users")
        .values()
        .filter_map(|u| u["userName"].as_str().map(str::to_string))
        .collect();
    there.sort();
    let mut want = in_db.clone();
    want.sort();
    assert_eq!(there, want, "the target holds each user once");
    // Each user was created at the target once.
    let posts = t
        .log()
        .iter()
        .filter(|(m, p, _)| *m == Method::POST && p.ends_with("/Users"))
        .count();
    assert_eq!(posts, in_db.len(), "a user was created twice at the target");
    eprintln!(
        "nats cluster: {} acknowledged, {} refused or unanswered, leader {leader} lost and back",
        acknowledged.len(),
        refused.len()
    );
    outbound.stop().await.unwrap();
    ingress.stop().await.unwrap();
    store.stop().await.unwrap();
    env.teardown().await;
}
