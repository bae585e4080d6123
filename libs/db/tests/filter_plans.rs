//! Index-backed SCIM filters are planned as index scans on a table big
//! enough for the planner to care (real Postgres, EXPLAIN).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod support;
use sqlx::PgPool;
use support::explain::plans;
use support::*;

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn index_backed_filters_use_their_indexes(pool: PgPool) {
    let registry = registry();
    ensure_tenants(&pool, &["big", "small"]).await;
    let data = support::data::dataset(99, 10_500, 500);
    store(&pool, &registry, "big", &data).await;
    store(
        &pool,
        &registry,
        "small",
        &support::data::dataset(5, 300, 20),
    )
    .await;
    sqlx::raw_sql("ANALYZE").execute(&pool).await.unwrap();

    let body = |pred: &dyn Fn(&serde_json::Value) -> bool| {
        data.iter()
            .map(|n| &n.body)
            .find(|b| pred(b))
            .unwrap()
            .clone()
    };
    let named = body(&|b| b["displayName"].as_str().is_some_and(|s| !s.is_empty()));
    let external = body(&|b| b["externalId"].is_string());
    let mailed = body(&|b| {
        b["emails"][0]["value"]
            .as_str()
            .is_some_and(|s| s.contains('.'))
    });
    let latest = data.iter().map(|n| n.last_modified).max().unwrap() - chrono::TimeDelta::hours(1);
    let latest = latest.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let (user_name, display) = (
        body(&|_| true)["userName"].clone(),
        named["displayName"].clone(),
    );
    let email = mailed["emails"][0]["value"].as_str().unwrap().to_string();
    let id = data[17].id.to_string();
    let group = data.iter().find(|n| n.members.len() > 2).unwrap();
    let (gid, member) = (group.id.to_string(), group.members[0].0.to_string());
    let plans = |rt_name: &'static str, filter: String, param: String| {
        let (pool, registry) = (&pool, &registry);
        async move {
            (
                filter.clone(),
                plans(pool, registry, rt_name, &filter, &param).await,
            )
        }
    };
    let cases = [
        (
            "User",
            format!("userName eq {user_name}"),
            user_name.as_str().unwrap().to_string(),
        ),
        (
            "User",
            format!("externalId eq {}", external["externalId"]),
            external["externalId"].as_str().unwrap().into(),
        ),
        (
            "User",
            format!("emails.value eq {}", serde_json::json!(email)),
            email.to_lowercase(),
        ),
        (
            "User",
            format!("emails[value eq {}]", serde_json::json!(email)),
            email.to_lowercase(),
        ),
        ("User", format!("id eq \"{id}\""), id.clone()),
        (
            "User",
            format!("displayName eq {display}"),
            display.as_str().unwrap().into(),
        ),
        (
            "User",
            format!("meta.lastModified gt \"{latest}\""),
            latest.clone(),
        ),
        ("User", format!("groups.value eq \"{gid}\""), gid.clone()),
        (
            "Group",
            format!("members.value eq \"{member}\""),
            member.clone(),
        ),
        (
            "Group",
            format!("displayName eq {}", group.body["displayName"]),
            group.body["displayName"].as_str().unwrap().into(),
        ),
    ];
    for (rt_name, filter, param) in cases {
        let (filter, (custom, generic)) = plans(rt_name, filter, param).await;
        eprintln!("{filter}\n  custom plan:\n{custom}\n  generic plan:\n{generic}\n");
        assert!(
            !custom.contains("Seq Scan on resources"),
            "{filter}:\n{custom}"
        );
        assert!(custom.contains("Index"), "{filter}:\n{custom}");
        assert!(
            !generic.contains("Seq Scan on resources"),
            "{filter}:\n{generic}"
        );
        assert!(
            generic.contains("Index Cond: ") && !generic.contains("Filter: (lower(user_name)"),
            "{filter}:\n{generic}"
        );
    }
}
