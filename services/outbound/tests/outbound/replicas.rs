//! Several outbound replicas share the targets: one drives a target at a
//! time, and when it stops another takes over from where it was, with
//! nothing lost or pushed twice.

use std::time::Duration;

use reqwest::Method;
use scimbus_e2e::OutboundBuilder;
use scimbus_outbound::Outbound;
use scimbus_runtime::Running;

use crate::fake_target::FakeTarget;
use crate::mirror::{Remote, mirrors};
use crate::support::{Hub, TENANT, eventually, target};

const SETTLE: Duration = Duration::from_secs(30);

async fn replica(hub: &Hub, t: &FakeTarget) -> Running<Outbound> {
    OutboundBuilder::new(&hub.env)
        .targets(TENANT, [target("t", &t.url())])
        .start()
        .await
}

/// Waits until a replica drives the target (its initial sync is done).
async fn driven(hub: &Hub) {
    eventually("a replica drives the target", SETTLE, || async {
        let s = scimbus_cli::target_status(&hub.env.pool, Some(TENANT))
            .await
            .unwrap();
        if s.first().is_some_and(|s| s.progress.synced_at.is_some()) {
            Ok(())
        } else {
            Err(format!("{s:?}"))
        }
    })
    .await;
}

#[tokio::test]
async fn one_replica_drives_a_target_and_another_takes_over() {
    let hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let first = replica(&hub, &t).await;
    // The first one takes the target (its initial sync is done) before the
    // second starts.
    driven(&hub).await;
    let second = replica(&hub, &t).await;
    for i in 0..15 {
        hub.create_user(&format!("a{i}"), "Sales").await;
    }
    eventually("the target mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    // The one driving the target stops: the other takes over.
    first.stop().await.unwrap();
    for i in 0..15 {
        hub.create_user(&format!("b{i}"), "Sales").await;
    }
    eventually(
        "the target mirrors the tenant after the handover",
        SETTLE,
        || mirrors(&hub, Remote::Fake(&t), "t", |_| true),
    )
    .await;
    // Each user was created once: never two workers on the target.
    let posts = t
        .log()
        .iter()
        .filter(|(m, p, _)| *m == Method::POST && p.ends_with("/Users"))
        .count();
    assert_eq!(posts, 30);
    assert_eq!(t.resources("Users").len(), 30);
    second.stop().await.unwrap();
    hub.teardown().await;
}

#[tokio::test]
async fn a_worker_that_loses_postgres_mid_stream_is_replaced_without_duplicates() {
    let hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let only = replica(&hub, &t).await;
    driven(&hub).await;
    // Writes keep coming; halfway, the driver's connection (the one that
    // holds the target's lock and moves its position) is cut, with pushes
    // in flight and links not yet written.
    let lock_holder = || async {
        sqlx::query_scalar::<_, i32>(
            "select pid from pg_locks where locktype = 'advisory' and granted and database =
               (select oid from pg_database where datname = current_database())",
        )
        .fetch_optional(&hub.env.pool)
        .await
        .unwrap()
    };
    let mut cut = 0;
    for i in 0..40 {
        hub.create_user(&format!("c{i}"), "Sales").await;
        if i % 10 == 5
            && let Some(pid) = lock_holder().await
        {
            sqlx::query("select pg_terminate_backend($1)")
                .bind(pid)
                .execute(&hub.env.pool)
                .await
                .unwrap();
            cut += 1;
        }
    }
    assert!(cut >= 2, "the driver was cut {cut} times");
    eventually(
        "the target mirrors the tenant after the cuts",
        SETTLE,
        || mirrors(&hub, Remote::Fake(&t), "t", |_| true),
    )
    .await;
    // After each cut the worker takes the target again from the last
    // position it wrote: what it pushed since is seen again and skipped by
    // its link's version, never created twice.
    assert_eq!(t.resources("Users").len(), 40);
    let posts = t
        .log()
        .iter()
        .filter(|(m, p, _)| *m == Method::POST && p.ends_with("/Users"))
        .count();
    assert_eq!(posts, 40, "one create each");
    assert_eq!(hub.count("select count(*) from parked_changes").await, 0);
    only.stop().await.unwrap();
    hub.teardown().await;
}
