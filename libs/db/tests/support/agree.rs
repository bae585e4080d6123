//! The agreement check: random filters over a stored data set, run in
//! SQL and in the evaluator.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::test_runner::{Config, TestCaseError, TestRunner};
use sqlx::PgPool;

use super::{eval_ids, id_of, sql_ids};

pub const USER_PATHS: &[&str] = &[
    "userName",
    "USERNAME",
    "urn:ietf:params:scim:schemas:core:2.0:User:userName",
    "name",
    "name.familyName",
    "Name.GivenName",
    "displayName",
    "nickName",
    "title",
    "userType",
    "active",
    "emails",
    "emails.value",
    "Emails.Value",
    "emails.type",
    "emails.primary",
    "emails.display",
    "phoneNumbers.value",
    "phoneNumbers.type",
    "addresses.locality",
    "externalId",
    "id",
    "meta",
    "meta.created",
    "meta.lastModified",
    "META.LASTMODIFIED",
    "meta.resourceType",
    "meta.version",
    "meta.location",
    "schemas",
    "department",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "employeeNumber",
    "manager",
    "manager.value",
    "level",
    "urn:example:params:scim:schemas:extension:acme:2.0:User:level",
    "score",
    "hired",
    "remote",
    "tags",
    "code",
    "blob",
    "badges",
    "badges.code",
    "badges.since",
    "badges.level",
    "groups",
    "groups.value",
    "groups.display",
    "groups.type",
    "nick",
    "urn:example:o'brien:2.0:User:nick",
    "x509Certificates.value",
    "nope",
    "name.nope",
];

pub const USER_VALUE_PATHS: &[(&str, &[&str])] = &[
    ("emails", &["value", "type", "primary", "display"]),
    ("phoneNumbers", &["value", "type"]),
    ("badges", &["code", "since", "level", "primary"]),
    ("groups", &["value", "display", "type", "$ref"]),
    ("name", &["givenName", "familyName", "formatted"]),
    ("manager", &["value", "displayName"]),
    ("meta", &["created", "lastModified", "version", "location"]),
    ("addresses", &["type", "locality"]),
    ("userName", &["value"]),
];

pub const GROUP_PATHS: &[&str] = &[
    "displayName",
    "DisplayName",
    "members",
    "members.value",
    "members.type",
    "members.display",
    "members.$ref",
    "externalId",
    "id",
    "meta.created",
    "meta.lastModified",
    "meta.version",
    "meta.resourceType",
    "schemas",
    "rank",
    "since",
    "urn:example:params:scim:schemas:extension:acme:2.0:Group:rank",
    "groups",
    "userName",
];

pub const GROUP_VALUE_PATHS: &[(&str, &[&str])] = &[
    ("members", &["value", "type", "display", "$ref"]),
    ("meta", &["created", "resourceType"]),
];

/// How many random filters per resource type; more with
/// `SCIMBUS_PROPTEST_CASES`.
pub fn cases(default: u32) -> u32 {
    std::env::var("SCIMBUS_PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

#[derive(Debug, Default)]
pub struct Stats {
    pub filters: AtomicUsize,
    pub invalid: AtomicUsize,
    pub some_but_not_all: AtomicUsize,
}

/// Random filters over `resources`: SQL finds exactly the ids the
/// evaluator matches, or fails with the same error.
pub async fn agree(
    pool: &PgPool,
    registry: &scimbus_scim::Registry,
    rt_name: &'static str,
    resources: Vec<serde_json::Value>,
    catalog: super::filters::Catalog,
    n: u32,
) -> Stats {
    let (pool, registry) = (pool.clone(), registry.clone());
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || {
        let stats = Stats::default();
        let rt = registry.resource_type(rt_name).unwrap();
        let strategy = super::filters::filter(Arc::new(catalog));
        let config = Config {
            cases: n,
            failure_persistence: None,
            max_shrink_iters: 2000,
            ..Config::default()
        };
        let mut runner = TestRunner::new(config);
        let result = runner.run(&strategy, |f| {
            stats.filters.fetch_add(1, Ordering::Relaxed);
            let want = eval_ids(&registry, rt, &resources, &f);
            let got = handle.block_on(sql_ids(&pool, &registry, rt, "acme", &f));
            match &want {
                Err(_) => {
                    stats.invalid.fetch_add(1, Ordering::Relaxed);
                }
                Ok(ids) if !ids.is_empty() && ids.len() < resources.len() => {
                    stats.some_but_not_all.fetch_add(1, Ordering::Relaxed);
                }
                Ok(_) => {}
            }
            if got == want {
                return Ok(());
            }
            let diff = match (&want, &got) {
                (Ok(w), Ok(g)) => {
                    let extra: Vec<_> = g.iter().filter(|i| !w.contains(i)).collect();
                    let missing: Vec<_> = w.iter().filter(|i| !g.contains(i)).collect();
                    let first = extra.first().or(missing.first()).copied();
                    let example = resources.iter().find(|r| Some(&id_of(r)) == first);
                    format!(
                        "SQL also finds {} resources, misses {}, e.g. {:#}",
                        extra.len(),
                        missing.len(),
                        example.unwrap_or(&serde_json::Value::Null)
                    )
                }
                _ => format!("evaluator: {want:?}\nSQL: {got:?}"),
            };
            Err(TestCaseError::fail(format!(
                "{rt_name} filter: {f}\n{diff}"
            )))
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        stats
    })
    .await
    .unwrap()
}

/// Every string of the data lower-cases the same in Rust and in Postgres
/// (the data avoids the characters where they differ).
pub async fn check_case_folding(pool: &PgPool, resources: &[serde_json::Value]) {
    fn strings(v: &serde_json::Value, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            serde_json::Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    resources.iter().for_each(|r| strings(r, &mut all));
    let pg: Vec<(String, String)> = sqlx::query_as("select s, lower(s) from unnest($1::text[]) s")
        .bind(&all)
        .fetch_all(pool)
        .await
        .unwrap();
    for (s, lower) in pg {
        assert_eq!(
            lower,
            s.to_lowercase(),
            "Postgres and Rust lower-case {s:?} differently"
        );
    }
}
