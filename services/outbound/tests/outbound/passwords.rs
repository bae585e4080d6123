//! Passwords passed on to the targets configured to receive one
//! (`send_passwords`), and to no other: sealed while they wait (never in
//! clear on the bus or in a table), sent with the user's state by POST, PUT
//! or PATCH, deleted once every such target has them; a password waits for
//! a user entering a target's scope (or coming back into it, deactivated
//! there meanwhile), not past its expiry, not past the user's deletion.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use reqwest::Method;
use scimbus_runtime::passwords::{KeyConfig, PasswordKeys, PasswordsConfig};
use serde_json::{Value, json};

use crate::fake_target::FakeTarget;
use crate::support::{Hub, TENANT, eventually, target, user};

const SETTLE: Duration = Duration::from_secs(30);
const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// A key of 32 bytes (a test's: two UUIDv7s), in a file of its own.
fn keys(prefix: &str) -> Arc<PasswordKeys> {
    use base64::Engine;
    let mut bytes = Vec::with_capacity(32);
    bytes.extend_from_slice(uuid::Uuid::now_v7().as_bytes());
    bytes.extend_from_slice(uuid::Uuid::now_v7().as_bytes());
    let path = std::env::temp_dir().join(format!("scimbus-pwkey-{prefix}"));
    std::fs::write(
        &path,
        base64::engine::general_purpose::STANDARD.encode(bytes),
    )
    .unwrap();
    Arc::new(
        PasswordKeys::resolve(&PasswordsConfig {
            current_key: "k1".into(),
            keys: vec![KeyConfig {
                id: "k1".into(),
                key: format!("file:{}", path.display()),
            }],
            ttl_hours: 1,
        })
        .unwrap(),
    )
}

/// The hub with these targets, the ingress sealing passwords for those that
/// receive them, and every message on the bus collected.
async fn hub(targets: &[scimbus_runtime::TargetConfig]) -> (Hub, Arc<Mutex<Vec<u8>>>) {
    let prefix = uuid::Uuid::now_v7().simple().to_string();
    let k = keys(&prefix);
    let declared: Vec<(String, _)> = targets
        .iter()
        .map(|t| (TENANT.to_string(), t.clone()))
        .collect();
    let mut hub = Hub::with_ingress(|b| b.targets(declared).passwords(k.clone())).await;
    hub.passwords = Some(k);
    let (nats, _) = hub.env.bus().await;
    let mut wire = nats.subscribe(">").await.unwrap();
    nats.flush().await.unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    tokio::spawn({
        let seen = seen.clone();
        async move {
            while let Some(m) = wire.next().await {
                seen.lock().unwrap().extend_from_slice(&m.payload);
            }
        }
    });
    (hub, seen)
}

/// Every password a target was sent, in order: a POST's or PUT's
/// `password`, a PATCH operation's on `password`.
fn sent_passwords(t: &FakeTarget) -> Vec<(Method, String)> {
    let mut out = Vec::new();
    for (m, _, body) in t.log() {
        let Some(b) = body else { continue };
        if let Some(p) = b.get("password").and_then(Value::as_str) {
            out.push((m.clone(), p.to_string()));
        }
        for op in b["Operations"].as_array().into_iter().flatten() {
            if op["path"] == json!("password") {
                out.push((m.clone(), op["value"].as_str().unwrap_or("").to_string()));
            }
        }
    }
    out
}

async fn wait_sent(t: &FakeTarget, what: &str, want: (Method, &str)) {
    eventually(what, SETTLE, || async {
        let sent = sent_passwords(t);
        if sent.iter().any(|(m, p)| *m == want.0 && p == want.1) {
            Ok(())
        } else {
            Err(format!("{sent:?}"))
        }
    })
    .await;
}

async fn pending(hub: &Hub) -> Vec<(String, Vec<String>)> {
    sqlx::query_as("select resource_id::text, targets from pending_passwords order by resource_id")
        .fetch_all(&hub.env.pool)
        .await
        .unwrap()
}

async fn wait_none_pending(hub: &Hub) {
    eventually("no password is pending", SETTLE, || async {
        match pending(hub).await {
            p if p.is_empty() => Ok(()),
            p => Err(format!("{p:?}")),
        }
    })
    .await;
}

/// No table row holds `value`, as text or as the hex of a `bytea`.
async fn no_table_holds(hub: &Hub, value: &str) {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables \
         where table_schema = current_schema() and table_type = 'BASE TABLE'",
    )
    .fetch_all(&hub.env.pool)
    .await
    .unwrap();
    let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
    for table in tables {
        let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "select count(*) from \"{table}\" t where strpos(t::text, $1) > 0 or strpos(t::text, $2) > 0"
        )))
        .bind(value)
        .bind(&hex)
        .fetch_one(&hub.env.pool)
        .await
        .unwrap();
        assert_eq!(n, 0, "{table} holds {value}");
    }
}

#[tokio::test]
async fn passwords_reach_the_targets_that_receive_them_and_are_kept_sealed_until_then() {
    let (patching, putting, plain) = (
        FakeTarget::start(None, true).await,
        FakeTarget::start(None, false).await,
        FakeTarget::start(None, true).await,
    );
    let mut p = target("patching", &patching.url());
    p.send_passwords = true;
    let mut q = target("putting", &putting.url());
    q.send_passwords = true;
    let r = target("plain", &plain.url());
    let targets = vec![p, q, r];
    let (mut hub, bus) = hub(&targets).await;
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let pw = |n: u32| format!("Pw{n}-{unique}");

    // Written while no worker runs: the password waits, sealed, for the
    // two targets that receive passwords.
    let mut body = user("holder", "Eng");
    body["password"] = json!(pw(1));
    let (s, created) = hub.call(Method::POST, "/Users", Some(body.clone())).await;
    assert_eq!(s, 201, "{created}");
    assert!(created.get("password").is_none());
    let id = created["id"].as_str().unwrap().to_string();
    let waiting = pending(&hub).await;
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].0, id);
    assert_eq!(waiting[0].1, vec!["patching", "putting"]);
    no_table_holds(&hub, &pw(1)).await;

    hub.start_outbound(targets).await;
    wait_sent(&patching, "patching: the create", (Method::POST, &pw(1))).await;
    wait_sent(&putting, "putting: the create", (Method::POST, &pw(1))).await;
    wait_none_pending(&hub).await;

    // A PATCH of the password alone: a PATCH of it, or the whole user PUT.
    hub.patch(
        &format!("/Users/{id}"),
        json!([{"op": "replace", "path": "password", "value": pw(2)}]),
    )
    .await;
    wait_sent(&patching, "patching: the PATCH", (Method::PATCH, &pw(2))).await;
    wait_sent(&putting, "putting: the PATCH", (Method::PUT, &pw(2))).await;
    wait_none_pending(&hub).await;

    // A PUT whose only change is the password is a change of it.
    body["password"] = json!(pw(3));
    let (s, b) = hub
        .call(Method::PUT, &format!("/Users/{id}"), Some(body.clone()))
        .await;
    assert_eq!(s, 200, "{b}");
    wait_sent(&patching, "patching: the PUT", (Method::PATCH, &pw(3))).await;
    wait_sent(&putting, "putting: the PUT", (Method::PUT, &pw(3))).await;
    wait_none_pending(&hub).await;
    // The last change reached the plain target too (its userName is there).
    eventually("plain has the user", SETTLE, || async {
        let log = plain.log();
        if log.iter().any(|(m, _, _)| *m == Method::POST) {
            Ok(())
        } else {
            Err(format!("{log:?}"))
        }
    })
    .await;

    assert_eq!(sent_passwords(&plain), Vec::new(), "plain got a password");
    let bus = String::from_utf8_lossy(&bus.lock().unwrap()).to_string();
    assert!(bus.contains("holder"), "the collector saw the commands");
    for n in 1..=3 {
        assert!(!bus.contains(&pw(n)), "the bus carried {}", pw(n));
        no_table_holds(&hub, &pw(n)).await;
    }
    hub.teardown().await;
}

#[tokio::test]
async fn a_password_waits_for_its_user_in_scope_but_not_past_expiry_or_deletion() {
    let t = FakeTarget::start(None, true).await;
    let mut scoped = target("scoped", &t.url());
    scoped.send_passwords = true;
    scoped.filter = Some(format!("{ENTERPRISE}:department eq \"Sales\""));
    let (mut hub, _) = hub(std::slice::from_ref(&scoped)).await;
    hub.start_outbound(vec![scoped]).await;
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let create = |name: &str, pw: &str| {
        let mut b = user(name, "Eng");
        b["password"] = json!(pw);
        b
    };
    let to_sales =
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Sales"}]);

    // Out of scope: not sent, kept; in scope later: created with it.
    let p1 = format!("Enter-{unique}");
    let (s, b) = hub
        .call(Method::POST, "/Users", Some(create("enters", &p1)))
        .await;
    assert_eq!(s, 201, "{b}");
    let enters = b["id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(pending(&hub).await.len(), 1);
    assert!(sent_passwords(&t).is_empty());
    hub.patch(&format!("/Users/{enters}"), to_sales.clone())
        .await;
    wait_sent(&t, "the user entering scope", (Method::POST, &p1)).await;
    wait_none_pending(&hub).await;

    // Out of scope again (deactivated there), a new password meanwhile:
    // it waits, and comes back with the user.
    let to_eng =
        json!([{"op": "replace", "path": format!("{ENTERPRISE}:department"), "value": "Eng"}]);
    hub.patch(&format!("/Users/{enters}"), to_eng).await;
    eventually("deactivated there", SETTLE, || async {
        match t
            .resources("Users")
            .values()
            .find(|u| u["userName"] == json!("enters"))
        {
            Some(u) if u["active"] == json!(false) => Ok(()),
            other => Err(format!("{other:?}")),
        }
    })
    .await;
    let back = format!("Back-{unique}");
    hub.patch(
        &format!("/Users/{enters}"),
        json!([{"op": "replace", "path": "password", "value": back}]),
    )
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(pending(&hub).await.len(), 1, "waits while out of scope");
    assert!(!sent_passwords(&t).iter().any(|(_, p)| *p == back));
    hub.patch(&format!("/Users/{enters}"), to_sales.clone())
        .await;
    wait_sent(&t, "the user coming back", (Method::PUT, &back)).await;
    wait_none_pending(&hub).await;

    // Expired while out of scope: the user arrives without it, and the
    // store's pruning deletes it.
    let p2 = format!("Expires-{unique}");
    let (s, b) = hub
        .call(Method::POST, "/Users", Some(create("expires", &p2)))
        .await;
    assert_eq!(s, 201, "{b}");
    let expires = b["id"].as_str().unwrap().to_string();
    sqlx::query("update pending_passwords set expires_at = now() - interval '1 second'")
        .execute(&hub.env.pool)
        .await
        .unwrap();
    hub.patch(&format!("/Users/{expires}"), to_sales.clone())
        .await;
    eventually("the expired one's user is there", SETTLE, || async {
        let there = t
            .resources("Users")
            .values()
            .any(|u| u["userName"] == json!("expires"));
        if there { Ok(()) } else { Err("not yet".into()) }
    })
    .await;
    assert!(
        !sent_passwords(&t).iter().any(|(_, p)| *p == p2),
        "an expired password was sent"
    );
    assert_eq!(pending(&hub).await.len(), 1);
    let pruned = scimbus_db::passwords::prune(&hub.env.pool, chrono::Utc::now(), 100)
        .await
        .unwrap();
    assert_eq!(pruned, 1);
    assert!(pending(&hub).await.is_empty());

    // Deleted while it waits: it goes with the user.
    let (s, b) = hub
        .call(
            Method::POST,
            "/Users",
            Some(create("leaves", &format!("Gone-{unique}"))),
        )
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(pending(&hub).await.len(), 1);
    let leaves = b["id"].as_str().unwrap();
    let (s, _) = hub
        .call(Method::DELETE, &format!("/Users/{leaves}"), None)
        .await;
    assert_eq!(s, 204);
    assert!(pending(&hub).await.is_empty());
    hub.teardown().await;
}

#[tokio::test]
async fn a_password_that_does_not_open_parks_its_users_change_with_the_reason() {
    let t = FakeTarget::start(None, true).await;
    let mut receives = target("receives", &t.url());
    receives.send_passwords = true;
    let (mut hub, _) = hub(std::slice::from_ref(&receives)).await;
    // The outbound service has a key of the same id, not the same key (a
    // key rotated away too early, or a wrong secret).
    hub.passwords = Some(keys(&format!("other-{}", uuid::Uuid::now_v7().simple())));
    hub.start_outbound(vec![receives]).await;
    let secret = format!("Unopened-{}", uuid::Uuid::now_v7().simple());
    let mut body = user("unopened", "Eng");
    body["password"] = json!(secret);
    let (s, b) = hub.call(Method::POST, "/Users", Some(body)).await;
    assert_eq!(s, 201, "{b}");
    eventually("the change is parked", SETTLE, || async {
        match hub.count("select count(*) from parked_changes").await {
            1 => Ok(()),
            n => Err(format!("{n} parked")),
        }
    })
    .await;
    let (reason, request): (String, Option<String>) =
        sqlx::query_as("select reason, request from parked_changes")
            .fetch_one(&hub.env.pool)
            .await
            .unwrap();
    assert!(
        reason.contains("pending password") && reason.contains("does not open with key \"k1\""),
        "{reason}"
    );
    assert!(!reason.contains(&secret) && !request.unwrap_or_default().contains(&secret));
    assert!(
        !t.log().iter().any(|(m, _, _)| *m == Method::POST),
        "the user went without its password"
    );
    // Still waiting, sealed, for a replay once the key is right.
    assert_eq!(pending(&hub).await.len(), 1);
    hub.teardown().await;
}
