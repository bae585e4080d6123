//! `scimbus subscriptions …`, as an operator runs them: made from a JSON
//! file, listed with the configuration file's, shown without secrets,
//! replaced, refused field by field, paused, resumed, replayed, deleted.

use scimbus_testkit::TestEnv;

use crate::support::*;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[tokio::test]
async fn subscriptions_are_made_listed_shown_replaced_paused_and_deleted() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;
    let body = TempFile::new(&format!(
        r#"{{"delivery": {{"type": "webhook", "url": "https://app.example.com/hooks", "secret": "{SECRET}"}}, "events": ["created"]}}"#
    ));
    let config = TempFile::new(
        "[[tenants]]\nname = \"acme\"\n[[tenants.subscriptions]]\nname = \"bus\"\ndelivery = { type = \"nats\" }\n",
    );
    let o = scimbus(&env, &["subscriptions", "list"]);
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "no subscriptions\n");

    let o = scimbus(
        &env,
        &[
            "subscriptions",
            "put",
            "--tenant",
            "acme",
            "hooks",
            body.path(),
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "made subscription hooks (tenant acme)\n");
    let o = scimbus(
        &env,
        &[
            "subscriptions",
            "put",
            "--tenant",
            "acme",
            "hooks",
            body.path(),
        ],
    );
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "replaced subscription hooks (tenant acme)\n");

    // Listed with the file's own; the file's cannot be changed here.
    let o = scimbus(&env, &["subscriptions", "list", "--config", config.path()]);
    assert_exit(&o, 0);
    let out = stdout(&o);
    let rows: Vec<Vec<&str>> = out
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(rows.len(), 2, "{out}");
    assert_eq!(
        &rows[0][..5],
        ["acme", "bus", "config", "nats", "not"],
        "{out}"
    );
    assert_eq!(
        &rows[1][..5],
        ["acme", "hooks", "api", "webhook", "running"],
        "{out}"
    );
    let o = scimbus(
        &env,
        &[
            "subscriptions",
            "delete",
            "--tenant",
            "acme",
            "bus",
            "--config",
            config.path(),
        ],
    );
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("configuration file"), "{}", stderr(&o));

    let o = scimbus(
        &env,
        &["subscriptions", "show", "--tenant", "acme", "hooks"],
    );
    assert_exit(&o, 0);
    let shown: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(shown["delivery"]["secretCount"], 1);
    assert_eq!(shown["events"], serde_json::json!(["created"]));
    assert!(!stdout(&o).contains("whsec_"), "{}", stdout(&o));

    let o = scimbus(
        &env,
        &["subscriptions", "pause", "--tenant", "acme", "hooks"],
    );
    assert_exit(&o, 0);
    let paused: bool =
        sqlx::query_scalar("select paused from subscription_progress where name = 'hooks'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert!(paused, "the row the notifier reads");
    let o = scimbus(
        &env,
        &["subscriptions", "resume", "--tenant", "acme", "hooks"],
    );
    assert_exit(&o, 0);

    // A replay from a change the tenant does not have is refused; one
    // since a time is asked for.
    let o = scimbus(
        &env,
        &[
            "subscriptions",
            "replay",
            "--tenant",
            "acme",
            "hooks",
            "--from-sequence",
            "7",
        ],
    );
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("from_sequence"), "{}", stderr(&o));
    let o = scimbus(
        &env,
        &[
            "subscriptions",
            "replay",
            "--tenant",
            "acme",
            "hooks",
            "--since",
            "2026-01-01T00:00:00Z",
        ],
    );
    assert_exit(&o, 0);
    let since: Option<chrono::DateTime<chrono::Utc>> =
        sqlx::query_scalar("select replay_since from subscription_progress where name = 'hooks'")
            .fetch_one(&env.pool)
            .await
            .unwrap();
    assert_eq!(
        since.map(|t| t.to_rfc3339()),
        Some("2026-01-01T00:00:00+00:00".into())
    );
    let o = scimbus(
        &env,
        &[
            "subscriptions",
            "replay",
            "--tenant",
            "acme",
            "hooks",
            "--parked",
        ],
    );
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("nothing parked"), "{}", stderr(&o));
    let o = scimbus(
        &env,
        &["subscriptions", "parked", "--tenant", "acme", "hooks"],
    );
    assert_exit(&o, 0);
    assert_eq!(stdout(&o), "nothing parked\n");

    let o = scimbus(
        &env,
        &["subscriptions", "delete", "--tenant", "acme", "hooks"],
    );
    assert_exit(&o, 0);
    let o = scimbus(
        &env,
        &["subscriptions", "show", "--tenant", "acme", "hooks"],
    );
    assert_exit(&o, 1);
    assert!(
        stderr(&o).contains("no subscription hooks"),
        "{}",
        stderr(&o)
    );
    env.teardown().await;
}

#[tokio::test]
async fn a_bad_subscription_is_refused_naming_its_field_and_nothing_is_stored() {
    let env = TestEnv::new().await;
    env.tenants(&["acme"]).await;
    for (text, field) in [
        (
            r#"{"delivery": {"type": "webhook", "url": "ftp://x", "secret": "env:S"}}"#,
            "delivery.url",
        ),
        (
            r#"{"delivery": {"type": "nats"}, "filter": "userName eq"}"#,
            "filter",
        ),
        (
            r#"{"delivery": {"type": "poll"}, "format": "cloudevents"}"#,
            "format",
        ),
    ] {
        let body = TempFile::new(text);
        let o = scimbus(
            &env,
            &["subscriptions", "put", "--tenant", "acme", "s", body.path()],
        );
        assert_exit(&o, 1);
        assert!(
            stderr(&o).contains(&format!("{field}: ")),
            "{text}: {}",
            stderr(&o)
        );
    }
    let body = TempFile::new(r#"{"delivery": {"type": "nats"}}"#);
    let o = scimbus(
        &env,
        &[
            "subscriptions",
            "put",
            "--tenant",
            "nobody",
            "s",
            body.path(),
        ],
    );
    assert_exit(&o, 1);
    assert!(stderr(&o).contains("no tenant nobody"), "{}", stderr(&o));
    let stored: i64 = sqlx::query_scalar("select count(*) from subscriptions")
        .fetch_one(&env.pool)
        .await
        .unwrap();
    assert_eq!(stored, 0);
    env.teardown().await;
}
