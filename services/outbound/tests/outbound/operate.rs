//! What operators do with targets (through the `scimbus` CLI's functions):
//! status, pause and resume, parked changes and their replay.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::fake_target::{FakeTarget, Fault};
use crate::mirror::{Remote, mirrors};
use crate::support::{Hub, TENANT, eventually, target};

const SETTLE: Duration = Duration::from_secs(30);

#[tokio::test]
async fn parked_changes_are_replayed_in_order() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url())]).await;
    // Refused once for good: the create parks, and the update after it
    // parks behind it.
    t.fail(Some(Method::POST), "/Users", Fault::Status(422));
    let id = hub.create_user("late", "Sales").await;
    hub.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "title", "value": "Second"}]),
    )
    .await;
    let pool = &hub.env.pool;
    let parked = eventually("both changes are parked", SETTLE, || async {
        let p = scimbus_cli::parked_changes(pool, TENANT, "t")
            .await
            .unwrap();
        if p.len() == 2 {
            Ok(p)
        } else {
            Err(format!("{} parked", p.len()))
        }
    })
    .await;
    assert!(parked[0].seq < parked[1].seq);
    assert!(parked[0].reason.contains("422"), "{}", parked[0].reason);
    assert!(
        parked[1].reason.contains("waits behind"),
        "{}",
        parked[1].reason
    );
    // The status follows within the worker's flush interval.
    let status = eventually("the status shows the error", SETTLE, || async {
        let s = scimbus_cli::target_status(pool, Some(TENANT))
            .await
            .unwrap();
        if s[0].progress.last_error.is_some() {
            Ok(s)
        } else {
            Err(format!("{s:?}"))
        }
    })
    .await;
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].progress.parked, 2);

    // Replaying the first takes its successor along, in order.
    let n = scimbus_cli::replay_parked(pool, TENANT, "t", Some(parked[0].seq))
        .await
        .unwrap();
    assert_eq!(n, 1);
    eventually("the replay emptied the parked list", SETTLE, || async {
        let p = scimbus_cli::parked_changes(pool, TENANT, "t")
            .await
            .unwrap();
        if p.is_empty() {
            Ok(())
        } else {
            Err(format!("{} parked", p.len()))
        }
    })
    .await;
    eventually("the target mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    let users = t.resources("Users");
    assert_eq!(users.len(), 1);
    assert_eq!(users.values().next().unwrap()["title"], "Second");
    // A later change flows normally again.
    hub.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "title", "value": "Third"}]),
    )
    .await;
    eventually("the next change arrives", SETTLE, || async {
        let u = t.resources("Users");
        let title = u.values().next().map(|u| u["title"].clone());
        if title == Some(json!("Third")) {
            Ok(())
        } else {
            Err(format!("{title:?}"))
        }
    })
    .await;
    // Nothing left to replay: the CLI says so.
    assert_eq!(
        scimbus_cli::replay_parked(pool, TENANT, "t", None)
            .await
            .unwrap(),
        0
    );
    hub.teardown().await;
}

#[tokio::test]
async fn a_paused_target_gets_nothing_until_resumed() {
    let mut hub = Hub::new().await;
    let t = FakeTarget::start(None, true).await;
    // Never paused: when it has a change, the paused target was offered it.
    let w = FakeTarget::start(None, true).await;
    hub.start_outbound(vec![target("t", &t.url()), target("w", &w.url())])
        .await;
    let first = hub.create_user("first", "Sales").await;
    eventually("the first user arrives", SETTLE, || async {
        hub.link("t", &first)
            .await
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    let pool = &hub.env.pool;
    let progress = |name: &'static str| async move {
        scimbus_cli::target_status(pool, Some(TENANT))
            .await
            .unwrap()
            .into_iter()
            .find(|s| s.target == name)
            .map(|s| s.progress)
            .unwrap()
    };
    scimbus_cli::set_paused(pool, TENANT, "t", true)
        .await
        .unwrap();
    eventually("the worker acknowledges the pause", SETTLE, || async {
        let p = progress("t").await;
        if p.paused && p.pause_acknowledged {
            Ok(())
        } else {
            Err(format!("{p:?}"))
        }
    })
    .await;
    let requests = t.log().len();
    let second = hub.create_user("second", "Sales").await;
    eventually("the other target gets the second user", SETTLE, || async {
        hub.link("w", &second)
            .await
            .ok_or_else(|| "not yet".to_string())
    })
    .await;
    assert_eq!(
        t.log()[requests..],
        [],
        "paused: not a request since the pause was acknowledged"
    );
    assert!(hub.link("t", &second).await.is_none());
    assert_eq!(t.resources("Users").len(), 1);
    scimbus_cli::set_paused(pool, TENANT, "t", false)
        .await
        .unwrap();
    assert!(
        !progress("t").await.pause_acknowledged,
        "a resume clears it"
    );
    eventually("resumed: the target catches up", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    let p = eventually("the status counts both", SETTLE, || async {
        let p = progress("t").await;
        if p.pushed == 2 {
            Ok(p)
        } else {
            Err(format!("{p:?}"))
        }
    })
    .await;
    assert!(!p.paused && !p.pause_acknowledged, "{p:?}");
    assert_eq!(p.lag, 0);
    assert_eq!(p.circuit, "closed");
    hub.teardown().await;
}

#[tokio::test]
async fn oauth_tokens_are_fetched_reused_and_fetched_again() {
    let mut hub = Hub::new().await;
    // Tokens live 31 s: the client fetches a new one 30 s early, so every
    // request here finds its token about to expire after a second.
    let t = FakeTarget::start_oauth("scimbus", "s3cret", Duration::from_secs(31)).await;
    let file = std::env::temp_dir().join(format!("scimbus-oauth-{}", std::process::id()));
    std::fs::write(&file, "s3cret\n").unwrap();
    let mut cfg = target("t", &t.url());
    cfg.auth = scimbus_runtime::AuthConfig::Oauth2 {
        token_url: format!("http://{}/oauth/token", t.addr),
        client_id: "scimbus".into(),
        client_secret: format!("file:{}", file.display()),
        scope: Some("scim".into()),
    };
    hub.start_outbound(vec![cfg]).await;
    let a = hub.create_user("o1", "Sales").await;
    eventually("o1 arrives", SETTLE, || async {
        hub.link("t", &a).await.ok_or_else(|| "not yet".to_string())
    })
    .await;
    let first = t.tokens_issued();
    assert!(first >= 1);
    // The server forgets its tokens: the next request gets 401, the client
    // fetches a new token and the request goes through.
    t.revoke_tokens();
    let b = hub.create_user("o2", "Sales").await;
    eventually("o2 arrives", SETTLE, || async {
        hub.link("t", &b).await.ok_or_else(|| "not yet".to_string())
    })
    .await;
    assert!(t.tokens_issued() > first);
    eventually("the target mirrors the tenant", SETTLE, || {
        mirrors(&hub, Remote::Fake(&t), "t", |_| true)
    })
    .await;
    assert_eq!(hub.count("select count(*) from parked_changes").await, 0);
    let _ = std::fs::remove_file(&file);
    hub.teardown().await;
}
