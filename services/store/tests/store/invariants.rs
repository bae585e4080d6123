//! docs/design.md §2 invariants 2–6, as far as they are the store's.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use scimbus_events::v1::{Change, command_result::Outcome};
use serde_json::json;

use crate::support::*;

/// Invariant 2: a command delivered twice changes the store once.
#[tokio::test]
async fn a_redelivered_command_has_one_effect() {
    let h = Harness::new(&["acme"]).await;
    let (id, create) = create_user("acme", "once");
    let first = h.send(&create).await;
    assert_eq!(first.outcome, Outcome::Applied as i32);
    // The same command again (a new Nats-Msg-Id, so JetStream passes it on).
    let again = h.send(&create).await;
    assert!(again.replayed, "{again:?}");
    assert_eq!(again.outcome, Outcome::Applied as i32);
    assert_eq!(again.resource, first.resource, "the recorded answer");
    // A PATCH that adds a value, delivered twice, applies once.
    let add = patch(
        "acme",
        "User",
        id,
        json!([{"op": "add", "path": "emails", "value": [{"value": "x@example.com", "type": "home"}]}]),
    );
    let a = h.send(&add).await;
    let b = h.send(&add).await;
    assert_eq!((a.version, b.version, b.replayed), (2, 2, true));
    // Twice within one batch, too.
    let title = patch(
        "acme",
        "User",
        id,
        json!([{"op": "replace", "path": "title", "value": "t"}]),
    );
    h.publish(&title, None).await;
    h.publish(&title, None).await;
    // A sentinel behind them (same resource, so same partition, applied
    // after both): once it is applied, so is whatever the two did.
    let sentinel = patch(
        "acme",
        "User",
        id,
        json!([{"op": "replace", "path": "nickName", "value": "after"}]),
    );
    let s = h.send(&sentinel).await;
    assert_eq!(s.outcome, Outcome::Applied as i32, "{s:?}");
    assert_eq!(
        s.version, 4,
        "create, add, title once, sentinel: a second title would make it 5"
    );
    let changes = h.changes(4).await;
    let commands: Vec<&str> = changes.iter().map(|c| c.command_id.as_str()).collect();
    assert_eq!(
        commands,
        [&create.id, &add.id, &title.id, &sentinel.id],
        "one change each, in order"
    );
    assert_eq!(h.count("select count(*) from changes").await, 4);
    assert_eq!(h.count("select version from resources").await, 4);
    assert_eq!(h.count("select count(*) from applied_commands").await, 4);
    h.teardown().await;
}

/// Invariant 6: what cannot be decoded is parked with its reason, and the
/// commands behind it are applied.
#[tokio::test]
async fn an_undecodable_command_is_parked_and_the_stream_flows() {
    let h = Harness::new(&["acme"]).await;
    h.publish_raw("acme", b"\xff\xff\xff not protobuf").await;
    let mut forged = create_user("acme", "forged").1;
    forged.tenant = "acme2".into();
    h.publish_with_header_tenant(&forged, "acme").await;
    let (_, ok) = create_user("acme", "fine");
    let r = h.send(&ok).await;
    assert_eq!(r.outcome, Outcome::Applied as i32);
    let dead = h.dead_letters(1).await;
    assert!(!dead.is_empty());
    let undecodable = dead
        .iter()
        .find(|d| d.reason.contains("not a scimbus.v1.Command"))
        .expect("parked");
    assert_eq!(undecodable.origin, "cmd");
    assert_eq!(undecodable.tenant, "acme");
    assert_eq!(undecodable.payload, b"\xff\xff\xff not protobuf");
    // The message with the wrong tenant went to the same place.
    let dead = h.dead_letters(2).await;
    assert!(
        dead.iter()
            .any(|d| d.reason.contains("does not name the command's tenant")),
        "{dead:?}"
    );
    // A command for a tenant the configuration does not declare is parked
    // at once (retrying cannot help), and answered.
    let (_, stranger) = create_user("nobody", "x");
    let r = h.send(&stranger).await;
    assert_eq!(r.error.unwrap().status, 500);
    let dead = h.dead_letters(3).await;
    let parked = dead.iter().find(|d| d.tenant == "nobody").expect("parked");
    assert_eq!(parked.attempts, 1, "{}", parked.reason);
    assert_eq!(h.count("select count(*) from resources").await, 1);
    h.teardown().await;
}

/// Invariant 5: an id of another tenant is not found, and nothing of it
/// changes.
#[tokio::test]
async fn tenants_are_walls() {
    let h = Harness::new(&["a", "b"]).await;
    let (id, cmd) = create_user("a", "alice");
    h.send(&cmd).await;
    let r = h
        .send(&patch(
            "b",
            "User",
            id,
            json!([{"op": "replace", "path": "title", "value": "x"}]),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::NotFound as i32);
    let r = h
        .send(&command(
            "b",
            scimbus_events::v1::command::Operation::Delete,
            "User",
            id,
            json!(null),
        ))
        .await;
    assert_eq!(r.outcome, Outcome::NotFound as i32);
    let title: Option<String> =
        sqlx::query_scalar("select doc->>'title' from resources where id = $1")
            .bind(id)
            .fetch_one(&h.env.pool)
            .await
            .unwrap();
    assert_eq!(title, None);
    // Each tenant's change sequence is its own.
    let changes = h.changes(1).await;
    assert_eq!(
        changes
            .iter()
            .map(|c| (c.tenant.as_str(), c.sequence))
            .collect::<Vec<_>>(),
        vec![("a", 1)]
    );
    h.teardown().await;
}

/// Invariant 3: with two store replicas, the commands of each resource are
/// applied in the order the bus accepted them.
#[tokio::test]
async fn two_replicas_keep_per_resource_order() {
    let mut h = Harness::new(&["acme"]).await;
    let second = start_store(&h.env, &["acme"]).await;
    const USERS: usize = 12;
    const STEPS: usize = 25;
    let mut ids = Vec::new();
    for i in 0..USERS {
        let (id, cmd) = create_user("acme", &format!("u{i}"));
        h.publish(&cmd, None).await;
        ids.push(id);
    }
    // Interleaved: step s of every user, then step s+1 …
    let step = |s: usize, id: uuid::Uuid| title_step("acme", s, id);
    for s in 0..STEPS / 2 {
        for id in &ids {
            h.publish(&step(s, *id), None).await;
        }
    }
    // Half-way through, one replica stops: the other takes its partitions.
    // The stop comes once some of the load is applied, and before the rest
    // is even published: the survivor has work to take over.
    let expected = USERS * (STEPS + 1);
    let deadline = Instant::now() + Duration::from_secs(20);
    while h.count("select count(*) from applied_commands").await < USERS as i64 {
        assert!(Instant::now() < deadline, "nothing applied in 20 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let before = partition_holders(&h).await;
    h.store.take().unwrap().stop().await.unwrap();
    for s in STEPS / 2..STEPS {
        for id in &ids {
            h.publish(&step(s, *id), None).await;
        }
    }
    let changes = h.changes(expected).await;
    assert_eq!(changes.len(), expected);
    let mut by_resource: HashMap<&str, Vec<&Change>> = HashMap::new();
    for c in &changes {
        by_resource
            .entry(c.resource_id.as_str())
            .or_default()
            .push(c);
    }
    for id in &ids {
        let list = &by_resource[id.to_string().as_str()];
        let titles: Vec<String> = list
            .iter()
            .skip(1)
            .map(|c| {
                serde_json::from_slice::<serde_json::Value>(&c.resource).unwrap()["title"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        let want: Vec<String> = (0..STEPS).map(|s| format!("step {s}")).collect();
        assert_eq!(titles, want, "resource {id}");
        let versions: Vec<u64> = list.iter().map(|c| c.version).collect();
        assert_eq!(versions, (1..=(STEPS as u64 + 1)).collect::<Vec<_>>());
    }
    // The per-tenant sequence is contiguous.
    let mut seqs: Vec<u64> = changes.iter().map(|c| c.sequence).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=expected as u64).collect::<Vec<_>>());
    // The stopped replica held partitions, and the survivor holds them now.
    let after = partition_holders(&h).await;
    assert_eq!(after.len(), PARTITIONS as usize, "{after:?}");
    let handed_over = before
        .iter()
        .filter(|(p, pid)| after.get(p) != Some(pid))
        .count();
    assert!(
        handed_over > 0,
        "no partition changed hands: before {before:?}, after {after:?}"
    );
    second.stop().await.unwrap();
    h.teardown().await;
}

/// One sweep of the User change subjects, looking back an hour.
async fn sweep_users(h: &Harness) -> Result<usize, scimbus_store::OutboxError> {
    scimbus_store::sweep(
        &h.js,
        &h.env.subjects,
        &h.env.pool,
        &["User".to_string()],
        Duration::ZERO,
        Duration::from_secs(3600),
    )
    .await
}

/// Invariant 4: a change committed but not published (a crash between the
/// two) is published when the store starts.
#[tokio::test]
async fn unpublished_changes_are_published_on_start() {
    let mut h = Harness::new(&["acme"]).await;
    h.store.take().unwrap().stop().await.unwrap();
    // As if a store had died right after commit, before publishing: apply
    // a command with the store's own batch code, and publish nothing.
    let (_, cmd) = create_user("acme", "x");
    let registry = scimbus_scim::Registry::standard().unwrap();
    let mut conn = h.env.pool.acquire().await.unwrap();
    let id: uuid::Uuid = cmd.id.parse().unwrap();
    let done = scimbus_store::apply_batch(
        &mut conn,
        &registry,
        &scimbus_store::Owners::default(),
        chrono::Utc::now(),
        &[(id, &cmd)],
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(done.changes.len(), 1);
    assert!(h.changes(0).await.is_empty());
    h.store = Some(start_store(&h.env, &["acme"]).await);
    let changes = h.changes(1).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].sequence, 1);
    assert_eq!(h.count("select count(*) from unpublished_changes").await, 0);
    h.teardown().await;
}

/// A recorded result that does not decode is a broken invariant: the
/// command is parked and answered as a failure — not answered with a
/// made-up empty result that says nothing happened.
#[tokio::test]
async fn a_command_whose_recorded_result_is_corrupt_is_parked_not_answered_empty() {
    let h = Harness::new(&["acme"]).await;
    let (_, cmd) = create_user("acme", "recorded");
    let id: uuid::Uuid = cmd.id.parse().unwrap();
    sqlx::query("insert into applied_commands (tenant, command_id, result) values ($1, $2, $3)")
        .bind("acme")
        .bind(id)
        .bind(b"\xff\xff\xff not a result".as_slice())
        .execute(&h.env.pool)
        .await
        .unwrap();
    let r = h.send(&cmd).await;
    assert!(!r.replayed, "{r:?}");
    assert_eq!(r.error.as_ref().map(|e| e.status), Some(500), "{r:?}");
    let dead = h.dead_letters(1).await;
    let parked = dead
        .iter()
        .find(|d| d.reason.contains("recorded result"))
        .unwrap_or_else(|| panic!("parked: {dead:?}"));
    assert_eq!(parked.attempts, 1, "{}", parked.reason);
    assert_eq!(parked.tenant, "acme");
    // Commands behind it flow.
    let (_, ok) = create_user("acme", "next");
    assert_eq!(h.send(&ok).await.outcome, Outcome::Applied as i32);
    h.teardown().await;
}

/// Only the store publishes changes: a message at the tail of a change
/// subject that is not one is an error the sweep reports, not "the stream
/// holds nothing" (which would republish every change still retained).
#[tokio::test]
async fn a_foreign_message_on_a_change_subject_is_reported_and_poisons_nothing() {
    let h = Harness::new(&["acme"]).await;
    let (_, cmd) = create_user("acme", "swept");
    assert_eq!(h.send(&cmd).await.outcome, Outcome::Applied as i32);
    assert_eq!(h.changes(1).await.len(), 1);
    let subject = h.env.subjects.change("acme", "User");
    h.js.publish(subject.clone(), "not a change".into())
        .await
        .unwrap()
        .await
        .unwrap();
    let e = sweep_users(&h).await.unwrap_err();
    assert!(
        matches!(&e, scimbus_store::OutboxError::Foreign { subject: s, .. } if *s == subject),
        "{e}"
    );
    // It poisons nothing: a store starts beside it and applies writes, and
    // its next change on that subject supersedes the foreign message.
    let again = start_store(&h.env, &["acme"]).await;
    let (_, cmd) = create_user("acme", "after");
    assert_eq!(h.send(&cmd).await.outcome, Outcome::Applied as i32);
    again.stop().await.unwrap();
    sweep_users(&h).await.unwrap();
    h.teardown().await;
}
