//! `scimbus token create | revoke | list`.

use std::process::Command;

use scimbus_cli::{CliError, TOKEN_PREFIX};
use scimbus_runtime::token_hash;
use scimbus_testkit::TestEnv;
use uuid::Uuid;

use crate::support::*;

#[tokio::test]
async fn library_create_stores_only_the_hash() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;

    let t = scimbus_cli::create_token(&env.pool, "acme", "okta")
        .await
        .unwrap();
    assert!(t.token.starts_with(TOKEN_PREFIX));
    assert_eq!(t.token.len(), TOKEN_PREFIX.len() + 43);
    assert!(
        !format!("{t:?}").contains(&t.token),
        "Debug hides the token"
    );

    let (tenant, label, hash): (String, String, Vec<u8>) =
        sqlx::query_as("select tenant, label, token_hash from api_tokens where id = $1")
            .bind(t.id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!((tenant.as_str(), label.as_str()), ("acme", "okta"));
    assert_eq!(hash, token_hash(&t.token));
    assert_eq!(rows_containing(&env.pool, &t.token).await, 0);
    assert_eq!(
        rows_containing(&env.pool, &t.token[TOKEN_PREFIX.len()..]).await,
        0
    );

    let other = scimbus_cli::create_token(&env.pool, "acme", "")
        .await
        .unwrap();
    assert_ne!(other.token, t.token);
    env.teardown().await;
}

#[tokio::test]
async fn token_create_prints_the_token_once_and_keeps_its_hash() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;

    let o = scimbus(
        &env,
        &["token", "create", "--tenant", "acme", "--label", "entra id"],
    );
    assert_exit(&o, 0);
    let out = stdout(&o);
    let token = field(&out, "token");
    let id: Uuid = field(&out, "id").parse().unwrap();
    assert_eq!(field(&out, "tenant"), "acme");
    assert!(token.starts_with(TOKEN_PREFIX), "{out}");
    assert_eq!(out.matches(&token).count(), 1, "printed once: {out}");
    assert!(!stderr(&o).contains(&token), "not on stderr");
    assert!(stderr(&o).contains("only this once"), "{}", stderr(&o));

    let hash: Vec<u8> = sqlx::query_scalar("select token_hash from api_tokens where id = $1")
        .bind(id)
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(hash, token_hash(&token));
    assert_eq!(
        rows_containing(&env.pool, &token).await,
        0,
        "no plain text stored"
    );
    assert_eq!(
        rows_containing(&env.pool, "entra id").await,
        1,
        "the check itself works"
    );

    // Neither list shows it, nor its hash.
    let list = stdout(&scimbus(&env, &["token", "list"]));
    assert!(list.contains(&id.to_string()), "{list}");
    assert!(!list.contains(&token));
    assert!(!list.contains(&scimbus_runtime::secret::to_hex(&hash)));
    env.teardown().await;
}

#[tokio::test]
async fn an_unknown_tenant_is_named() {
    let env = TestEnv::new().await;
    env.tenants(&["acme", "beta"]).await;

    let err = scimbus_cli::create_token(&env.pool, "nope", "")
        .await
        .unwrap_err();
    assert!(matches!(&err, CliError::UnknownTenant { tenant, .. } if tenant == "nope"));
    let msg = err.to_string();
    assert!(msg.contains("tenant \"nope\" does not exist"), "{msg}");
    assert!(msg.contains("known tenants: acme, beta"), "{msg}");

    let o = scimbus(&env, &["token", "create", "--tenant", "nope"]);
    assert_exit(&o, 1);
    assert!(stdout(&o).is_empty(), "no token printed: {}", stdout(&o));
    assert!(
        stderr(&o).contains("tenant \"nope\" does not exist"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("--config"),
        "says how to add it: {}",
        stderr(&o)
    );
    let n: i64 = sqlx::query_scalar("select count(*) from api_tokens")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);

    let o = scimbus(&env, &["token", "list", "--tenant", "nope"]);
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("\"nope\""), "{}", stderr(&o));
    env.teardown().await;
}

#[tokio::test]
async fn token_create_adds_the_tenants_of_the_config_file_first() {
    let env = TestEnv::new().await;
    let file =
        TempFile::new("[[tenants]]\nname = \"fromfile\"\n\n[[tenants]]\nname = \"second\"\n");

    let o = scimbus(
        &env,
        &[
            "token",
            "create",
            "--tenant",
            "fromfile",
            "--config",
            file.path(),
        ],
    );
    assert_exit(&o, 0);
    // The same through SCIMBUS_CONFIG.
    let o = Command::new(env!("CARGO_BIN_EXE_scimbus"))
        .args(["token", "create", "--tenant", "second"])
        .env("SCIMBUS_DATABASE_URL", &env.database_url)
        .env("SCIMBUS_CONFIG", file.path())
        .output()
        .unwrap();
    assert_exit(&o, 0);
    let tenants: Vec<String> = sqlx::query_scalar("select tenant from api_tokens order by tenant")
        .fetch_all(&env.pool)
        .await
        .unwrap();
    assert_eq!(tenants, ["fromfile", "second"]);

    // A file that does not load stops it before anything is created.
    let o = scimbus(
        &env,
        &[
            "token",
            "create",
            "--tenant",
            "fromfile",
            "--config",
            "/nonexistent/scimbus.toml",
        ],
    );
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("--config / SCIMBUS_CONFIG"),
        "{}",
        stderr(&o)
    );
    assert!(
        stderr(&o).contains("/nonexistent/scimbus.toml"),
        "{}",
        stderr(&o)
    );
    env.teardown().await;
}

#[tokio::test]
async fn revoke_sets_revoked_at_once_and_unknown_ids_fail() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;
    let t = scimbus_cli::create_token(&env.pool, "acme", "")
        .await
        .unwrap();

    let r = scimbus_cli::revoke_token(&env.pool, t.id).await.unwrap();
    assert_eq!((r.id, r.tenant.as_str(), r.already), (t.id, "acme", false));
    let again = scimbus_cli::revoke_token(&env.pool, t.id).await.unwrap();
    assert!(again.already);
    assert_eq!(
        again.revoked_at, r.revoked_at,
        "the first revocation time stays"
    );
    let stored: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select revoked_at from api_tokens where id = $1")
            .bind(t.id)
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(stored, Some(r.revoked_at));

    let unknown = Uuid::now_v7();
    let err = scimbus_cli::revoke_token(&env.pool, unknown)
        .await
        .unwrap_err();
    assert!(matches!(err, CliError::UnknownToken(id) if id == unknown));

    // The binary.
    let t2 = scimbus_cli::create_token(&env.pool, "acme", "")
        .await
        .unwrap();
    let o = scimbus(&env, &["token", "revoke", &t2.id.to_string()]);
    assert_exit(&o, 0);
    assert!(
        stdout(&o).starts_with(&format!("revoked token {} (tenant acme)", t2.id)),
        "{}",
        stdout(&o)
    );
    let o = scimbus(&env, &["token", "revoke", &t2.id.to_string()]);
    assert_exit(&o, 0);
    assert!(stdout(&o).contains("already revoked"), "{}", stdout(&o));
    let o = scimbus(&env, &["token", "revoke", &unknown.to_string()]);
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains(&format!("no API token with id {unknown}")),
        "{}",
        stderr(&o)
    );
    let o = scimbus(&env, &["token", "revoke", "not-a-uuid"]);
    assert_exit(&o, 2);
    env.teardown().await;
}

#[tokio::test]
async fn list_shows_tokens_without_secrets() {
    let env = TestEnv::new().await;
    env.tenants(&["acme", "beta"]).await;
    assert!(
        scimbus_cli::list_tokens(&env.pool, None)
            .await
            .unwrap()
            .is_empty()
    );
    let o = scimbus(&env, &["token", "list"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "no API tokens\n");

    let a1 = scimbus_cli::create_token(&env.pool, "acme", "okta")
        .await
        .unwrap();
    let a2 = scimbus_cli::create_token(&env.pool, "acme", "")
        .await
        .unwrap();
    let b1 = scimbus_cli::create_token(&env.pool, "beta", "workday")
        .await
        .unwrap();
    scimbus_cli::revoke_token(&env.pool, a2.id).await.unwrap();

    let all = scimbus_cli::list_tokens(&env.pool, None).await.unwrap();
    let ids: Vec<Uuid> = all.iter().map(|t| t.id).collect();
    assert_eq!(ids, [a1.id, a2.id, b1.id]);
    assert_eq!(all[0].label, "okta");
    assert!(all[0].revoked_at.is_none());
    assert!(all[1].revoked_at.is_some());
    let acme = scimbus_cli::list_tokens(&env.pool, Some("acme"))
        .await
        .unwrap();
    assert_eq!(acme.len(), 2);
    assert!(acme.iter().all(|t| t.tenant == "acme"));

    let o = scimbus(&env, &["token", "list", "--tenant", "beta"]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(lines[0].starts_with("ID"), "{out}");
    for col in ["TENANT", "LABEL", "CREATED", "REVOKED"] {
        assert!(lines[0].contains(col), "{out}");
    }
    assert!(
        lines[1].contains(&b1.id.to_string()) && lines[1].contains("workday"),
        "{out}"
    );

    let out = stdout(&scimbus(&env, &["token", "list"]));
    let revoked = out
        .lines()
        .find(|l| l.contains(&a2.id.to_string()))
        .unwrap();
    assert!(
        !revoked.trim_end().ends_with('-'),
        "revoked shows a time: {revoked}"
    );
    let live = out
        .lines()
        .find(|l| l.contains(&a1.id.to_string()))
        .unwrap();
    assert!(live.trim_end().ends_with('-'), "not revoked: {live}");
    for t in [&a1, &a2, &b1] {
        assert!(!out.contains(&t.token));
        assert!(!out.contains(&scimbus_runtime::secret::to_hex(&token_hash(&t.token))));
    }
    env.teardown().await;
}
