//! Changes reach targets: scoped, mapped, in order, without duplicates;
//! a failing target does not hold up a healthy one.

use std::time::{Duration, Instant};

use reqwest::Method;
use scimbus_runtime::{AuthConfig, Deprovision};
use serde_json::json;

use crate::fake_target::{FakeTarget, Fault};
use crate::mirror::{Remote, department, mirrors};
use crate::scim2_server::Scim2Server;
use crate::support::{Hub, TENANT, eventually, target};

const SETTLE: Duration = Duration::from_secs(30);

/// How long the failing target stays down after the last write: ample for
/// the healthy target to get its 20 users (about 0.3 s here, under load).
const BAD_DOWN: Duration = Duration::from_secs(6);

#[tokio::test]
async fn users_and_groups_reach_every_target_scoped_and_in_step() {
    let mut hub = Hub::new().await;
    let a = FakeTarget::start(Some("token-a"), true).await;
    let b = FakeTarget::start(None, false).await;
    let c = Scim2Server::start("token-c").await;
    let file = std::env::temp_dir().join(format!("scimbus-a-{}", std::process::id()));
    std::fs::write(&file, "token-a").unwrap();
    let mut ta = target("a", &a.url());
    ta.auth = AuthConfig::Bearer {
        token: format!("file:{}", file.display()),
    };
    ta.member_chunk = 2;
    let mut tb = target("b", &b.url());
    tb.filter = Some(
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq \"Sales\"".into(),
    );
    let mut tc = target("c", &c.url);
    let file_c = std::env::temp_dir().join(format!("scimbus-c-{}", std::process::id()));
    std::fs::write(&file_c, "token-c").unwrap();
    tc.auth = AuthConfig::Bearer {
        token: format!("file:{}", file_c.display()),
    };
    hub.start_outbound(vec![ta, tb, tc]).await;

    let mut ids = Vec::new();
    for i in 0..6 {
        let dept = if i % 2 == 0 { "Sales" } else { "Support" };
        ids.push(hub.create_user(&format!("u{i}"), dept).await);
    }
    let members: Vec<&str> = ids.iter().map(String::as_str).collect();
    let group = hub.create_group("everyone", &members[..5]).await;
    // Updates: a title (PATCH of one attribute on a), a user moving out of
    // b's scope and one moving in, a member leaving and one joining.
    hub.patch(
        &format!("/Users/{}", ids[0]),
        json!([{"op": "replace", "path": "title", "value": "Lead"}]),
    )
    .await;
    hub.patch(
        &format!("/Users/{}", ids[2]),
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Support"}]),
    )
    .await;
    hub.patch(
        &format!("/Users/{}", ids[3]),
        json!([{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"}]),
    )
    .await;
    hub.patch(
        &format!("/Groups/{group}"),
        json!([
            {"op": "remove", "path": format!("members[value eq \"{}\"]", ids[1])},
            {"op": "add", "path": "members", "value": [{"value": ids[5]}]}
        ]),
    )
    .await;
    // A user deleted here: deactivated there (the default policy).
    let (s, _) = hub
        .call(Method::DELETE, &format!("/Users/{}", ids[4]), None)
        .await;
    assert_eq!(s, 204);

    eventually("target a mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&a), "a", |_| true)
    })
    .await;
    eventually("target b mirrors the Sales users", SETTLE, || {
        mirrors(&hub, Remote::Fake(&b), "b", |u| department(u) == "Sales")
    })
    .await;
    eventually("scim2-server (target c) mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Scim2(&c), "c", |_| true)
    })
    .await;

    // a offers PATCH: the title went as a PATCH naming only what changed,
    // and members in chunks of at most 2.
    let log = a.log();
    let title_patch = log
        .iter()
        .find(|(m, _, body)| {
            *m == Method::PATCH
                && body
                    .as_ref()
                    .is_some_and(|b| b.to_string().contains("Lead"))
        })
        .expect("the title change went as a PATCH");
    let ops = title_patch.2.as_ref().unwrap()["Operations"].clone();
    assert_eq!(ops, json!([{"op": "replace", "value": {"title": "Lead"}}]));
    for (m, _, body) in &log {
        if *m != Method::PATCH {
            continue;
        }
        for op in body.as_ref().unwrap()["Operations"].as_array().unwrap() {
            if op["path"] == "members" && op["op"] == "add" {
                assert!(op["value"].as_array().unwrap().len() <= 2, "{op}");
            }
        }
    }
    // b offers no PATCH: updates were PUTs; nothing was sent to b about
    // users out of its scope, and u2 (moved out) is deactivated there.
    assert!(b.log().iter().all(|(m, _, _)| *m != Method::PATCH));
    let u2 = hub.link("b", &ids[2]).await.unwrap();
    assert!(!u2.2);
    assert_eq!(b.resources("Users")[&u2.0]["active"], false);
    assert!(hub.link("b", &ids[1]).await.is_none());
    // Every change was handled exactly once per target: nothing parked.
    assert_eq!(hub.count("select count(*) from parked_changes").await, 0);
    let _ = std::fs::remove_file(&file);
    let _ = std::fs::remove_file(&file_c);
    hub.teardown().await;
}

#[tokio::test]
async fn a_failing_target_does_not_hold_up_a_healthy_one() {
    let mut hub = Hub::new().await;
    let good = Scim2Server::start("token-good").await;
    let bad = FakeTarget::start(None, true).await;
    // bad: errors and a slow answer first, then down for a while.
    for _ in 0..3 {
        bad.fail(Some(Method::POST), "/Users", Fault::Status(503));
    }
    bad.fail(Some(Method::POST), "/Users", Fault::TooMany(1));
    bad.fail(None, "/Users", Fault::Slow(Duration::from_secs(3)));
    let mut tbad = target("bad", &bad.url());
    tbad.max_attempts = 50;
    let file = std::env::temp_dir().join(format!("scimbus-good-{}", std::process::id()));
    std::fs::write(&file, "token-good").unwrap();
    let mut tgood = target("good", &good.url);
    tgood.auth = AuthConfig::Bearer {
        token: format!("file:{}", file.display()),
    };
    hub.start_outbound(vec![tgood, tbad]).await;
    bad.down();

    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(hub.create_user(&format!("f{i}"), "Sales").await);
    }
    // The failing target stays down for a while after the last write, on
    // its own clock, then comes back; the healthy one must have every user
    // before that (a healthy target held up by a failing one gets its users
    // only once the failing one answers again).
    let (healthy_at, back_at) = tokio::join!(
        async {
            eventually("the healthy target has every user", SETTLE, || {
                mirrors(&hub, Remote::Scim2(&good), "good", |_| true)
            })
            .await;
            Instant::now()
        },
        async {
            tokio::time::sleep(BAD_DOWN).await;
            bad.up().await;
            Instant::now()
        }
    );
    assert!(
        healthy_at < back_at,
        "the healthy target had every user only {:?} after the failing one came back",
        healthy_at - back_at
    );
    eventually("the failing target catches up", SETTLE, || {
        mirrors(&hub, Remote::Fake(&bad), "bad", |_| true)
    })
    .await;
    // Retried, not duplicated: each user was created once there.
    let posts = bad
        .log()
        .iter()
        .filter(|(m, p, _)| *m == Method::POST && p.ends_with("/Users"))
        .count();
    assert!(posts >= 20 + 4, "the faults were met: {posts} POSTs");
    assert_eq!(bad.resources("Users").len(), 20);
    assert_eq!(hub.count("select count(*) from parked_changes").await, 0);
    // The status counts the failed attempts of each target.
    let pool = &hub.env.pool;
    let failed = |name: &'static str| async move {
        scimbus_cli::target_status(pool, Some(TENANT))
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.target == name)
            .map(|s| s.progress)
            .unwrap()
    };
    let p = eventually("the failures are counted", SETTLE, || async {
        let p = failed("bad").await;
        if p.failed >= 4 {
            Ok(p)
        } else {
            Err(format!("{p:?}"))
        }
    })
    .await;
    assert!(p.last_error.is_some(), "{p:?}");
    assert_eq!(failed("good").await.failed, 0);
    let _ = std::fs::remove_file(&file);
    hub.teardown().await;
}

#[tokio::test]
async fn existing_remote_objects_are_adopted_not_duplicated() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    // The target had BJensen and cjones before us.
    let pre_b = t.seed(
        "Users",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "BJensen", "active": true}),
    );
    let pre_c = t.seed(
        "Users",
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"], "userName": "cjones", "active": true}),
    );
    hub.start_outbound(vec![target("t", &t.url())]).await;
    // bjensen: the lookup by userName (case-insensitive) finds it.
    let b = hub.create_user("bjensen", "Sales").await;
    eventually("bjensen is linked", SETTLE, || async {
        hub.link("t", &b).await.ok_or_else(|| "no link".to_string())
    })
    .await;
    assert!(
        !t.log()
            .iter()
            .any(|(m, p, _)| *m == Method::POST && p.ends_with("/Users")),
        "found by its lookup: no create"
    );
    // cjones: the lookup misses (as with a target that filters badly), the
    // create meets a 409, and the worker looks again and adopts.
    t.fail(Some(Method::GET), "/Users", Fault::Miss);
    let c = hub.create_user("cjones", "Sales").await;
    eventually("the target mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    assert_eq!(hub.link("t", &b).await.unwrap().0, pre_b);
    assert_eq!(hub.link("t", &c).await.unwrap().0, pre_c);
    assert_eq!(t.resources("Users").len(), 2, "no duplicates");
    let posts = t
        .log()
        .iter()
        .filter(|(m, p, _)| *m == Method::POST && p.ends_with("/Users"))
        .count();
    assert_eq!(posts, 1, "one create, answered 409");
    hub.teardown().await;
}

#[tokio::test]
async fn leaving_the_scope_deletes_under_the_delete_policy() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    let mut cfg = target("t", &t.url());
    cfg.filter = Some("active eq true".into());
    cfg.deprovision = Deprovision::Delete;
    hub.start_outbound(vec![cfg]).await;
    let x = hub.create_user("x", "Sales").await;
    let y = hub.create_user("y", "Sales").await;
    eventually("both are there", SETTLE, || async {
        let n = t.resources("Users").len();
        if n == 2 {
            Ok(())
        } else {
            Err(format!("{n} users"))
        }
    })
    .await;
    hub.patch(
        &format!("/Users/{x}"),
        json!([{"op": "replace", "path": "active", "value": false}]),
    )
    .await;
    eventually("x is deleted there and unlinked", SETTLE, || async {
        let left: Vec<String> = t
            .resources("Users")
            .values()
            .map(|u| u["userName"].as_str().unwrap().to_string())
            .collect();
        match hub.link("t", &x).await {
            None if left == ["y"] => Ok(()),
            l => Err(format!("there: {left:?}, link: {l:?}")),
        }
    })
    .await;
    // Back in scope: created again.
    hub.patch(
        &format!("/Users/{x}"),
        json!([{"op": "replace", "path": "active", "value": true}]),
    )
    .await;
    eventually("x is back", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |u| u["active"] == true)
    })
    .await;
    assert!(hub.link("t", &y).await.is_some());
    hub.teardown().await;
}

#[tokio::test]
async fn a_permanent_error_parks_the_change_and_its_successors_only() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;
    // The target refuses the first create of "refused" for good.
    t.fail(Some(Method::POST), "/Users", Fault::Status(400));
    let refused = hub.create_user("refused", "Sales").await;
    eventually("the refused create is parked", SETTLE, || async {
        let n = hub.count("select count(*) from parked_changes").await;
        if n == 1 {
            Ok(())
        } else {
            Err(format!("{n} parked"))
        }
    })
    .await;
    // A later change of the same resource parks behind it; other resources
    // flow.
    hub.patch(
        &format!("/Users/{refused}"),
        json!([{"op": "replace", "path": "title", "value": "After"}]),
    )
    .await;
    let ok = hub.create_user("fine", "Sales").await;
    eventually("the other user arrives", SETTLE, || async {
        hub.link("t", &ok)
            .await
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    eventually("the successor is parked behind", SETTLE, || async {
        let n = hub
            .count("select count(*) from parked_changes where resource_id = (select resource_id from parked_changes order by seq limit 1)")
            .await;
        if n == 2 { Ok(()) } else { Err(format!("{n} parked")) }
    })
    .await;
    assert!(hub.link("t", &refused).await.is_none());
    let (reason, request, response): (String, Option<String>, Option<String>) =
        sqlx::query_as("select reason, request, response from parked_changes order by seq limit 1")
            .fetch_one(&hub.env.pool)
            .await
            .unwrap();
    assert!(reason.contains("400"), "{reason}");
    assert!(request.unwrap().starts_with("POST "));
    assert!(response.unwrap().starts_with("400"));
    // And on SCIMBUS_DLQ, with the request and the answer.
    let js = async_nats::jetstream::new(async_nats::connect(&hub.env.nats_url).await.unwrap());
    let mut dlq = js.get_stream(hub.env.subjects.dlq_stream()).await.unwrap();
    let info = dlq.info().await.unwrap();
    assert_eq!(info.state.messages, 2, "two dead letters");
    hub.teardown().await;
}

#[tokio::test]
async fn answers_cut_mid_way_are_retried_without_duplicates() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    // The fake really cuts: the status arrives, the body does not.
    t.fail(Some(Method::GET), "/ServiceProviderConfig", Fault::Cut);
    let answer = reqwest::get(format!("{}/ServiceProviderConfig", t.url()))
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    // reqwest reports a body that ends in a reset as one it cannot decode.
    let cut = answer.bytes().await.unwrap_err();
    assert!(cut.is_decode(), "the body was cut: {cut:?}");
    // Every kind of write has its answer cut once, after the target did it.
    t.fail(Some(Method::POST), "/Users", Fault::Cut);
    t.fail(Some(Method::POST), "/Groups", Fault::Cut);
    t.fail(Some(Method::PATCH), "/Users/", Fault::Cut);
    t.fail(Some(Method::PATCH), "/Groups/", Fault::Cut);
    t.fail(Some(Method::GET), "/Users", Fault::Cut);
    hub.start_outbound(vec![target("t", &t.url())]).await;

    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(hub.create_user(&format!("c{i}"), "Sales").await);
    }
    let group = hub.create_group("cut", &[&ids[0], &ids[1]]).await;
    hub.patch(
        &format!("/Users/{}", ids[0]),
        json!([{"op": "replace", "path": "title", "value": "Lead"}]),
    )
    .await;
    hub.patch(
        &format!("/Groups/{group}"),
        json!([{"op": "add", "path": "members", "value": [{"value": ids[2]}]}]),
    )
    .await;
    let (s, _) = hub
        .call(Method::DELETE, &format!("/Users/{}", ids[3]), None)
        .await;
    assert_eq!(s, 204);

    eventually("the target mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    assert_eq!(t.faults_left(), 0, "every cut was met");
    assert_eq!(t.resources("Users").len(), 4, "no duplicate users");
    assert_eq!(t.resources("Groups").len(), 1, "no duplicate groups");
    let members: Vec<String> = t.resources("Groups").values().next().unwrap()["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["value"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(members.len(), 3, "each member once: {members:?}");
    assert_eq!(hub.count("select count(*) from parked_changes").await, 0);
    hub.teardown().await;
}

#[tokio::test]
async fn nested_and_circular_groups_arrive_with_their_members() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;
    let u = hub.create_user("cu", "Sales").await;
    // Written one right after the other: the outer group's push meets the
    // inner one before the inner one's own change is through.
    let inner = hub.create_group("inner", &[&u]).await;
    let outer = hub.create_group("outer", &[&inner, &u]).await;
    // A contains B and B contains A (RFC 7644 §3.7.1 allows it).
    let a = hub.create_group("ring-a", &[&u]).await;
    let b = hub.create_group("ring-b", &[&a]).await;
    hub.patch(
        &format!("/Groups/{a}"),
        json!([{"op": "add", "path": "members", "value": [{"value": b}]}]),
    )
    .await;
    let h = &hub;
    let remote = |id: String| async move {
        h.link("t", &id)
            .await
            .map(|l| l.0)
            .ok_or_else(|| format!("{id} not linked"))
    };
    let expected = [
        (outer.clone(), vec![inner.clone(), u.clone()]),
        (inner.clone(), vec![u.clone()]),
        (a.clone(), vec![u.clone(), b.clone()]),
        (b.clone(), vec![a.clone()]),
    ];
    eventually("each group has its members there", SETTLE, || async {
        for (g, ms) in &expected {
            let rg = remote(g.clone()).await?;
            let mut want = Vec::new();
            for m in ms {
                want.push(remote(m.clone()).await?);
            }
            want.sort();
            let got = t.members(&rg);
            if got != want {
                return Err(format!("{g}: {got:?} != {want:?}"));
            }
        }
        Ok(())
    })
    .await;
    assert_eq!(t.resources("Groups").len(), 4, "one copy each");
    assert_eq!(hub.count("select count(*) from parked_changes").await, 0);
    hub.teardown().await;
}
