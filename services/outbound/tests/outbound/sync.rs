//! Full sync: a new target gets the current state and then follows the
//! stream with no gap, even while writes go on; an on-demand sync repairs
//! drift, and its dry run only reports.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use reqwest::Method;
use serde_json::json;
use tokio::sync::Semaphore;

use crate::fake_target::FakeTarget;
use crate::mirror::{Remote, mirrors};
use crate::support::{Hub, TENANT, eventually, target};

const SETTLE: Duration = Duration::from_secs(60);

#[tokio::test]
async fn a_new_target_is_synced_while_writes_go_on_and_misses_nothing() {
    let mut hub = Hub::new().await;
    // State from before the target existed: users, a group, an update, a
    // deletion.
    let mut ids = Vec::new();
    for i in 0..30 {
        ids.push(hub.create_user(&format!("old{i}"), "Sales").await);
    }
    let members: Vec<&str> = ids[..10].iter().map(String::as_str).collect();
    hub.create_group("old-group", &members).await;
    hub.patch(
        &format!("/Users/{}", ids[0]),
        json!([{"op": "replace", "path": "title", "value": "Before"}]),
    )
    .await;
    let (s, _) = hub
        .call(Method::DELETE, &format!("/Users/{}", ids[29]), None)
        .await;
    assert_eq!(s, 204);

    // Writes keep coming while the target is added and synced: a writer
    // that does one write (a create and an update) per permit, and says
    // how many it has done.
    let idp = hub.idp();
    let old: Vec<String> = ids[..20].to_vec();
    let permits = Arc::new(Semaphore::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (permits, done) = (permits.clone(), done.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                permits.acquire().await.unwrap().forget();
                idp.create_user(&format!("new{i}"), "Sales").await;
                idp.set_title(&old[i % old.len()], &format!("During {i}"))
                    .await;
                done.store(i + 1, Ordering::SeqCst);
            }
        })
    };
    let writes = |n: usize| {
        let done = done.clone();
        async move {
            eventually(&format!("{n} writes done"), SETTLE, || async {
                let d = done.load(Ordering::SeqCst);
                if d >= n {
                    Ok(())
                } else {
                    Err(format!("{d} done"))
                }
            })
            .await;
        }
    };
    let t = FakeTarget::start(None, true).await;
    // The target had one of them already: adopted, not duplicated.
    let pre = t.seed(
        "Users",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "OLD5", "active": true}),
    );
    // Ten writes before the target exists, ten more while it starts (the
    // stream position and the snapshot are taken), and twenty while the
    // sync is held at its first pushes: the target holds its writes until
    // then (and the client waits that long for them).
    permits.add_permits(10);
    writes(10).await;
    let before_target = done.load(Ordering::SeqCst);
    t.hold_writes();
    permits.add_permits(10);
    let mut cfg = target("t", &t.url());
    cfg.timeout_secs = 120;
    hub.start_outbound_nowait(vec![cfg]).await;
    eventually("the sync is held at its first pushes", SETTLE, || async {
        match t.writes_held() {
            0 => Err("no write held".to_string()),
            _ => Ok(()),
        }
    })
    .await;
    permits.add_permits(20);
    writer.await.unwrap();
    let synced: Option<bool> = sqlx::query_scalar(
        "select synced_at is not null from target_progress where tenant = $1 and target = 't'",
    )
    .bind(TENANT)
    .fetch_optional(&hub.env.pool)
    .await
    .unwrap();
    assert_ne!(synced, Some(true), "the writes went on while the sync ran");
    t.release_writes();

    eventually("the new target mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    let status = scimbus_cli::target_status(&hub.env.pool, Some(TENANT))
        .await
        .unwrap();
    let p = &status[0].progress;
    assert!(p.synced_at.is_some());
    let report = p.last_sync.clone().unwrap();
    assert!(!report.dry_run, "{report}");
    // The deleted user was never pushed: 29 old users and the group at
    // least came through the snapshot.
    assert!(report.created >= 28, "{report}");
    assert_eq!(report.adopted, 1, "{report}");
    assert_eq!(hub.link("t", &ids[5]).await.unwrap().0, pre);
    // The snapshot looked for existing copies in one listing, not one
    // filtered lookup per resource: no lookup named a resource that was
    // there before the target (those the stream created after the snapshot
    // may be looked up).
    let mut snapshot: Vec<String> = (0..29).map(|i| format!("old{i}")).collect();
    snapshot.extend((0..before_target).map(|i| format!("new{i}")));
    snapshot.push("old-group".into());
    let lookups = t.lookups();
    let of_snapshot: Vec<&String> = lookups
        .iter()
        .filter(|f| {
            let named = f.split('"').nth(1).unwrap_or_default();
            snapshot.iter().any(|s| s.eq_ignore_ascii_case(named))
        })
        .collect();
    assert!(
        of_snapshot.is_empty(),
        "{} of {} lookups named resources of the snapshot: {of_snapshot:?}",
        of_snapshot.len(),
        lookups.len()
    );
    assert_eq!(hub.count("select count(*) from parked_changes").await, 0);
    hub.teardown().await;
}

#[tokio::test]
async fn an_on_demand_sync_repairs_drift_and_a_dry_run_only_reports() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(hub.create_user(&format!("d{i}"), "Sales").await);
    }
    eventually("the target mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    // Drift behind our back: one user gone there, one changed there.
    let gone = hub.link("t", &ids[0]).await.unwrap().0;
    let changed = hub.link("t", &ids[1]).await.unwrap().0;
    t.forget("Users", &gone);
    t.edit("Users", &changed, |u| {
        u["name"]["familyName"] = json!("Tampered")
    });
    let drift = mirrors(&hub, Remote::Fake(&t), "t", |_| true)
        .await
        .unwrap_err();
    assert!(
        drift.contains(&gone) || drift.contains("Tampered"),
        "the drift is what differs: {drift}"
    );

    let pool = &hub.env.pool;
    scimbus_cli::request_sync(pool, TENANT, "t", true)
        .await
        .unwrap();
    let report = eventually("the dry run reports", SETTLE, || async {
        let s = scimbus_cli::target_status(pool, Some(TENANT))
            .await
            .unwrap();
        match s[0].progress.last_sync.clone() {
            Some(r) if r.dry_run => Ok(r),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    // Every linked user would be updated (a sync pushes the current state);
    // nothing was sent.
    assert_eq!(report.updated, 5, "{report}");
    assert!(!t.resources("Users").contains_key(&gone));

    scimbus_cli::request_sync(pool, TENANT, "t", false)
        .await
        .unwrap();
    eventually("the sync repaired the drift", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    let s = scimbus_cli::target_status(pool, Some(TENANT))
        .await
        .unwrap();
    let report = s[0].progress.last_sync.clone().unwrap();
    assert!(!report.dry_run, "{report}");
    assert_eq!(t.resources("Users").len(), 5, "{report}");
    hub.teardown().await;
}

#[tokio::test]
async fn a_sync_of_many_pages_pushes_every_resource_once() {
    let mut hub = Hub::new().await;
    // A tenant of 1 234 users (three pages and a part), written straight
    // into Postgres as the store writes them, before the target existed.
    let n = 1234;
    sqlx::query(
        "insert into resources (tenant, id, resource_type, user_name, active, version, created, last_modified, doc)
         select $1, gen_random_uuid(), 'User', 'bulk-' || i, true, 1, now(), now(),
                jsonb_build_object('schemas', jsonb_build_array('urn:ietf:params:scim:schemas:core:2.0:User'),
                                   'userName', 'bulk-' || i, 'active', true)
         from generate_series(1, $2) i",
    )
    .bind(TENANT)
    .bind(n)
    .execute(&hub.env.pool)
    .await
    .unwrap();
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;

    let users = t.resources("Users");
    let mut names: Vec<String> = users
        .values()
        .map(|u| u["userName"].as_str().unwrap().to_string())
        .collect();
    names.sort();
    names.dedup();
    assert_eq!(users.len(), n as usize, "one copy each");
    assert_eq!(names.len(), n as usize, "every user");
    let linked = hub
        .count("select count(*) from target_links where target = 't' and in_scope")
        .await;
    assert_eq!(linked, i64::from(n), "each linked");
    let status = scimbus_cli::target_status(&hub.env.pool, Some(TENANT))
        .await
        .unwrap();
    let report = status[0].progress.last_sync.clone().unwrap();
    assert!(!report.dry_run, "{report}");
    assert_eq!(report.created, i64::from(n), "{report}");
    hub.teardown().await;
}

#[tokio::test]
async fn nested_groups_are_synced_once_each_with_their_members_translated() {
    let mut hub = Hub::new().await;
    // Groups inside groups, in both orders of creation (a sync pushes them
    // in id order: an inner group is met as a member before its own turn
    // or after it).
    let u = hub.create_user("nu", "Sales").await;
    let inner_first = hub.create_group("inner-first", &[&u]).await;
    let outer = hub.create_group("outer", &[&u, &inner_first]).await;
    let inner_later = hub.create_group("inner-later", &[&u]).await;
    hub.patch(
        &format!("/Groups/{outer}"),
        json!([{"op": "add", "path": "members", "value": [{"value": inner_later}]}]),
    )
    .await;
    let top = hub.create_group("top", &[&outer]).await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;

    let groups = t.resources("Groups");
    let mut names: Vec<&str> = groups
        .values()
        .map(|g| g["displayName"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["inner-first", "inner-later", "outer", "top"],
        "one each"
    );
    let h = &hub;
    let remote = |id: &str| {
        let id = id.to_string();
        async move { h.link("t", &id).await.unwrap().0 }
    };
    let mut want = vec![
        remote(&u).await,
        remote(&inner_first).await,
        remote(&inner_later).await,
    ];
    want.sort();
    assert_eq!(t.members(&remote(&outer).await), want);
    assert_eq!(t.members(&remote(&top).await), [remote(&outer).await]);
    assert_eq!(
        hub.count("select count(*) from target_links where target = 't'")
            .await,
        5
    );
    hub.teardown().await;
}
