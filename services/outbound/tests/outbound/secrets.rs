//! No secret ever appears in a log line, an operator API answer or `scimbus
//! config check`: the three binaries run on `make run`'s configuration
//! (tenant, admin and HR secrets) plus a target with a bearer token, logging
//! at `debug`; after a write that reaches the target, a refused token and
//! the operator API's views, every log and answer is searched for each
//! secret.
//!
//! And no password is kept or passed on (`returned: never`, RFC 7643) but to
//! a target configured to receive them (`send_passwords`, with a
//! `[passwords]` key, itself a secret searched for): users are written with
//! passwords by POST, PUT, PATCH (with and without a path), Bulk and a
//! refused POST; then every answer, log line, message on the bus (a
//! subscription to `>` for the whole run), row of every table and request
//! the other target received is searched for each of them.

use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::{Value, json};

use scimbus_e2e::TestEnv;

use crate::fake_target::FakeTarget;
use crate::support::eventually;
use crate::traces::{binary, free_addr, ready};

#[tokio::test]
async fn no_secret_appears_in_a_log_an_api_answer_or_config_check() {
    let env = TestEnv::new().await;
    let (nats, _) = env.bus().await;
    // Every message on the bus from here on.
    let mut wire = nats.subscribe(">").await.unwrap();
    nats.flush().await.unwrap();
    let on_the_bus = Arc::new(Mutex::new(Vec::<u8>::new()));
    let collect = tokio::spawn({
        let seen = on_the_bus.clone();
        async move {
            while let Some(m) = wire.next().await {
                seen.lock().unwrap().extend_from_slice(&m.payload);
            }
        }
    });
    let unique = uuid::Uuid::now_v7().simple().to_string();
    let secret = |what: &str| format!("{what}-{unique}");
    let (admin, demo, demo2, hr, target) = (
        secret("admin-token"),
        secret("demo-token"),
        secret("demo2-token"),
        secret("hr-secret"),
        secret("target-token"),
    );
    let whsec_bytes = secret("whsec");
    use base64::Engine;
    let whsec_b64 = base64::engine::general_purpose::STANDARD.encode(whsec_bytes.as_bytes());
    let t = FakeTarget::start(Some(&target), true).await;
    let receives = FakeTarget::start(None, true).await;
    // The key that signs event tokens: a fresh P-256 key, PEM.
    let signing_der = {
        use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};
        let rng = ring::rand::SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        base64::engine::general_purpose::STANDARD.encode(doc.as_ref())
    };
    let signing_pem = {
        let lines: Vec<String> = signing_der
            .as_bytes()
            .chunks(64)
            .map(|c| String::from_utf8_lossy(c).to_string())
            .collect();
        format!(
            "-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n",
            lines.join("\n")
        )
    };
    let password_key = {
        let mut bytes = Vec::from(*uuid::Uuid::now_v7().as_bytes());
        bytes.extend_from_slice(uuid::Uuid::now_v7().as_bytes());
        base64::engine::general_purpose::STANDARD.encode(bytes)
    };

    // `make run`'s file, and a target of tenant demo2 (the last tenant).
    let mut file = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/local/scimbus.toml"
    ))
    .unwrap();
    file.push_str(&format!(
        "\n[[tenants.targets]]\nname = \"app\"\nurl = \"{}\"\n\
         auth = {{ type = \"bearer\", token = \"env:SECRETS_TEST_TARGET\" }}\n\
         [[tenants.targets]]\nname = \"receives\"\nurl = \"{}\"\nsend_passwords = true\n\
         [passwords]\ncurrent_key = \"k1\"\n\
         keys = [{{ id = \"k1\", key = \"env:SECRETS_TEST_PASSWORD_KEY\" }}]\n",
        t.url(),
        receives.url()
    ));
    let dir = std::env::temp_dir().join(format!("scimbus-secrets-{}", env.prefix));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("scimbus.toml");
    std::fs::write(&config, &file).unwrap();
    let secrets_env = [
        ("SCIMBUS_ADMIN_TOKEN", admin.clone()),
        ("SCIMBUS_DEMO_TOKEN", demo.clone()),
        ("SCIMBUS_DEMO2_TOKEN", demo2.clone()),
        ("SCIMBUS_DEMO_HR_SECRET", hr.clone()),
        ("SCIMBUS_DEMO_HR_WHSEC", format!("whsec_{whsec_b64}")),
        ("SECRETS_TEST_TARGET", target.clone()),
        ("SECRETS_TEST_PASSWORD_KEY", password_key.clone()),
        ("SECRETS_TEST_SIGNING_KEY", signing_pem.clone()),
        (
            "SCIMBUS_EVENTS_SIGNING_KEY",
            "env:SECRETS_TEST_SIGNING_KEY".to_string(),
        ),
    ];

    let (ia, sa, oa) = (free_addr(), free_addr(), free_addr());
    let mut children = Vec::new();
    for (name, var, addr) in [
        ("scimbus-store", "SCIMBUS_STORE_ADDR", &sa),
        ("scimbus-ingress", "SCIMBUS_INGRESS_ADDR", &ia),
        ("scimbus-outbound", "SCIMBUS_OUTBOUND_ADDR", &oa),
    ] {
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).unwrap();
        let child = scimbus_e2e::binary::command(binary(name).to_str().unwrap(), &env)
            .env(var, addr.as_str())
            .env("SCIMBUS_CONFIG", &config)
            .env("SCIMBUS_PUBLIC_URL", format!("http://{ia}"))
            .env("RUST_LOG", "debug")
            .envs(secrets_env.iter().map(|(k, v)| (*k, v.as_str())))
            .env_remove("OTEL_EXPORTER_OTLP_ENDPOINT")
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap();
        children.push((name, child));
    }
    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::new();
    for a in [&ia, &sa, &oa] {
        ready(&http, a).await;
    }

    // A write that reaches the target (with its bearer token), a refused
    // token, the operator API's views.
    let mut answers = Vec::new();
    let r = http
        .post(format!("http://{ia}/scim/v2/demo2/Users"))
        .bearer_auth(&demo2)
        .header("content-type", "application/scim+json")
        .body(r#"{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"kept-secret"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    answers.push(r.text().await.unwrap());
    eventually(
        "the target has the user",
        Duration::from_secs(60),
        || async {
            let pushed = t
                .log()
                .iter()
                .any(|(m, p, _)| m == reqwest::Method::POST && p.ends_with("/Users"));
            if pushed {
                Ok(())
            } else {
                Err("not yet".to_string())
            }
        },
    )
    .await;
    let passwords = write_passwords(&http, &ia, &demo2, &unique, &mut answers).await;
    eventually(
        "the target has the last write",
        Duration::from_secs(60),
        || async {
            let log = t.log();
            let bulk = log.iter().any(|(_, _, b)| {
                b.as_ref().and_then(|b| b.get("userName")) == Some(&json!("pw-bulk"))
            });
            let patched = log.iter().any(|(_, _, b)| {
                b.as_ref()
                    .is_some_and(|b| b.to_string().contains("PW after"))
            });
            if bulk && patched {
                Ok(())
            } else {
                Err(format!("{log:?}"))
            }
        },
    )
    .await;
    // The target that receives passwords has the last one of each user.
    eventually(
        "the receiving target has the passwords",
        Duration::from_secs(60),
        || async {
            let sent: Vec<String> = receives
                .log()
                .iter()
                .filter_map(|(_, _, b)| b.as_ref().map(Value::to_string))
                .collect();
            let has = |p: &str| sent.iter().any(|b| b.contains(p));
            if has(&passwords[3]) && has(&passwords[4]) {
                Ok(())
            } else {
                Err(format!("{sent:?}"))
            }
        },
    )
    .await;
    let r = http
        .get(format!("http://{ia}/scim/v2/demo/Users"))
        .bearer_auth(format!("{demo}-not"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    answers.push(r.text().await.unwrap());
    for path in [
        "/events/v1/jwks.json",
        "/admin/v1/targets",
        "/admin/v1/subscriptions",
        "/admin/v1/tenants/demo/hr-sources",
        "/admin/v1/tenants/demo2/tokens",
    ] {
        let r = http
            .get(format!("http://{ia}{path}"))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{path}");
        answers.push(r.text().await.unwrap());
    }

    // `scimbus config check` on the same file and secrets.
    let check = tokio::process::Command::new(binary("scimbus"))
        .args(["config", "check", "--config"])
        .arg(&config)
        .envs(secrets_env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .await
        .unwrap();
    assert!(check.status.success(), "{check:?}");
    answers.push(String::from_utf8_lossy(&check.stdout).to_string());
    answers.push(String::from_utf8_lossy(&check.stderr).to_string());

    for (_, child) in &mut children {
        if let Some(pid) = child.id() {
            let _ = std::process::Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status();
        }
    }
    for (name, child) in &mut children {
        let done = tokio::time::timeout(Duration::from_secs(30), child.wait()).await;
        assert!(done.is_ok(), "{name} did not stop within 30 s");
    }
    let mut logs = Vec::new();
    for (name, _) in &children {
        logs.push((
            *name,
            std::fs::read_to_string(dir.join(format!("{name}.log"))).unwrap(),
        ));
    }
    // The logs said something (debug), or the search proves nothing.
    for (name, log) in &logs {
        assert!(
            log.lines().count() > 5,
            "{name} logged almost nothing:\n{log}"
        );
    }
    assert!(
        answers
            .iter()
            .any(|a| a.contains("passwords: 1 key(s), new ones sealed with \"k1\"")),
        "config check names the password keys"
    );
    for s in [
        &admin,
        &demo,
        &demo2,
        &hr,
        &target,
        &whsec_b64,
        &password_key,
    ] {
        for (name, log) in &logs {
            assert!(!log.contains(s.as_str()), "{name}'s log holds a secret");
        }
        for a in &answers {
            assert!(!a.contains(s.as_str()), "an answer holds a secret: {a}");
        }
    }
    collect.abort();
    let bus = String::from_utf8_lossy(&on_the_bus.lock().unwrap()).to_string();
    assert!(
        bus.contains("pw-bulk"),
        "the subscription saw the writes' commands"
    );
    let sent: Vec<String> = t
        .log()
        .iter()
        .filter_map(|(_, _, b)| b.as_ref().map(Value::to_string))
        .collect();
    assert!(sent.iter().any(|b| b.contains("pw-holder")));
    let tables = tables_holding(&env.pool, &passwords).await;
    for p in &passwords {
        assert!(!bus.contains(p.as_str()), "a message on the bus holds {p}");
        for (name, log) in &logs {
            assert!(!log.contains(p.as_str()), "{name}'s log holds {p}");
        }
        for a in &answers {
            assert!(!a.contains(p.as_str()), "an answer holds {p}: {a}");
        }
        for b in &sent {
            assert!(!b.contains(p.as_str()), "the target was sent {p}: {b}");
        }
    }
    assert_eq!(tables, Vec::<String>::new(), "tables holding a password");
    let received = receives
        .log()
        .iter()
        .filter_map(|(_, _, b)| b.as_ref().map(Value::to_string))
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        !received.contains(&passwords[5]),
        "a refused write's password was passed on"
    );
    let _ = std::fs::remove_dir_all(&dir);
    env.teardown().await;
}

/// Writes users with passwords every way a SCIM client can; the passwords.
async fn write_passwords(
    http: &reqwest::Client,
    ingress: &str,
    token: &str,
    unique: &str,
    answers: &mut Vec<String>,
) -> Vec<String> {
    let base = format!("http://{ingress}/scim/v2/demo2");
    let pw = |how: &str| format!("Pw-{how}-{unique}");
    let send = |method: reqwest::Method, path: &str, body: Value| {
        http.request(method, format!("{base}{path}"))
            .bearer_auth(token)
            .header("content-type", "application/scim+json")
            .body(body.to_string())
            .send()
    };
    let user = "urn:ietf:params:scim:schemas:core:2.0:User";
    let patch_op = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    let r = send(
        reqwest::Method::POST,
        "/Users",
        json!({"schemas": [user], "userName": "pw-holder", "password": pw("create")}),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    answers.push(created.to_string());
    let id = created["id"].as_str().unwrap().to_string();
    let path = format!("/Users/{id}");
    let steps = [
        (
            reqwest::Method::PUT,
            path.as_str(),
            json!({"schemas": [user], "userName": "pw-holder", "password": pw("put")}),
            200,
        ),
        (
            reqwest::Method::PATCH,
            &path,
            json!({"schemas": [patch_op], "Operations": [
                {"op": "replace", "path": "password", "value": pw("patch-path")}]}),
            200,
        ),
        (
            reqwest::Method::PATCH,
            &path,
            json!({"schemas": [patch_op], "Operations": [
                {"op": "replace", "value": {"password": pw("patch-value"), "displayName": "PW after"}}]}),
            200,
        ),
        (
            reqwest::Method::POST,
            "/Bulk",
            json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [
                {"method": "POST", "path": "/Users", "bulkId": "b1",
                 "data": {"schemas": [user], "userName": "pw-bulk", "password": pw("bulk")}}]}),
            200,
        ),
        (
            reqwest::Method::POST,
            "/Users",
            json!({"schemas": [user], "userName": "pw-holder", "password": pw("refused")}),
            409,
        ),
    ];
    for (method, path, body, status) in steps {
        let r = send(method.clone(), path, body).await.unwrap();
        assert_eq!(r.status(), status, "{method} {path}");
        answers.push(r.text().await.unwrap());
    }
    for query in ["", "?attributes=password"] {
        let r = http
            .get(format!("{base}{path}{query}"))
            .bearer_auth(token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        answers.push(r.text().await.unwrap());
    }
    [
        "create",
        "put",
        "patch-path",
        "patch-value",
        "bulk",
        "refused",
    ]
    .map(pw)
    .to_vec()
}

/// The tables with a row holding one of `values`, as text or (in a `bytea`
/// column: commands' results, encoded changes) as the hex Postgres prints.
async fn tables_holding(pool: &sqlx::PgPool, values: &[String]) -> Vec<String> {
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables \
         where table_schema = current_schema() and table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    let mut holding = Vec::new();
    for table in tables {
        for v in values {
            let hex: String = v.bytes().map(|b| format!("{b:02x}")).collect();
            // The names are Postgres's own, from information_schema.
            let n: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
                "select count(*) from \"{table}\" t where strpos(t::text, $1) > 0 or strpos(t::text, $2) > 0"
            )))
            .bind(v)
            .bind(&hex)
            .fetch_one(pool)
            .await
            .unwrap();
            if n > 0 {
                holding.push(format!("{table} ({v})"));
            }
        }
    }
    holding
}
