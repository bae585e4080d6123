//! SCIM filters and sort orders in Postgres agree with the in-memory
//! evaluator (`scimbus_scim::filter::Matcher`, `SortKey::sort`) on real
//! data, and the index-backed ones use their indexes. Each test gets a
//! fresh, migrated database (`#[sqlx::test]`, needs `DATABASE_URL`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use scimbus_scim::filter::parse;
use scimbus_scim::{ScimType, SortKey};
use sqlx::PgPool;
use support::agree::*;
use support::table::{gid, uid};
use support::*;

/// The hand-made data set in tenant `t`; another tenant's group lists
/// user 1.
async fn table_fixture(pool: &PgPool) -> scimbus_scim::Registry {
    let registry = registry();
    ensure_tenants(pool, &["t", "other"]).await;
    let mut all = support::table::users();
    all.extend(support::table::groups());
    store(pool, &registry, "t", &all).await;
    store(pool, &registry, "other", &support::table::intruders()).await;
    registry
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn filters_find_the_expected_resources(pool: PgPool) {
    let registry = table_fixture(&pool).await;
    let (u, g) = (|k| uid(k).to_string(), |k| gid(k).to_string());
    let upper = |s: String| s.to_uppercase();
    let user_cases: Vec<(String, Vec<u32>)> = vec![
        // userName: lower(user_name), unique index
        (r#"userName eq "bjensen""#.into(), vec![1]),
        (r#"USERNAME eq "BJENSEN""#.into(), vec![1]),
        (
            r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "jsmith""#.into(),
            vec![2],
        ),
        (r#"userName ne "bjensen""#.into(), vec![2, 3, 4, 5, 6]),
        (r#"userName co "SMI""#.into(), vec![2]),
        (r#"userName sw "j""#.into(), vec![2, 3]),
        (r#"userName ew "ØFF""#.into(), vec![]),
        (r#"userName ew "OFF""#.into(), vec![4]),
        (r#"userName co "%""#.into(), vec![4]),
        (r#"userName co "_""#.into(), vec![4]),
        (r#"userName co "ÆR""#.into(), vec![3]),
        (r#"userName gt "j" and userName lt "k""#.into(), vec![2, 3]),
        (r#"userName le "bjensen""#.into(), vec![1, 4]),
        (r#"userName eq 5"#.into(), vec![]),
        (r#"userName ne 5"#.into(), vec![]),
        // externalId: caseExact
        (r#"externalId eq "EXT-1""#.into(), vec![1]),
        (r#"externalId eq "ext-1""#.into(), vec![2]),
        (r#"externalId pr"#.into(), vec![1, 2]),
        (r#"externalId ne "EXT-1""#.into(), vec![2, 3, 4, 5, 6]),
        (r#"externalId sw "EXT""#.into(), vec![1]),
        // id: uuid column
        (format!("id eq \"{}\"", u(1)), vec![1]),
        (format!("id eq \"{}\"", upper(u(1))), vec![]),
        (format!("id ne \"{}\"", u(1)), vec![2, 3, 4, 5, 6]),
        (r#"id eq "nonsense""#.into(), vec![]),
        (r#"id ne "nonsense""#.into(), vec![1, 2, 3, 4, 5, 6]),
        (r#"id sw "2222""#.into(), vec![2]),
        (r#"id gt "5""#.into(), vec![5, 6]),
        (r#"id pr"#.into(), vec![1, 2, 3, 4, 5, 6]),
        // displayName: lower(display_name)
        (r#"displayName eq "babs jensen""#.into(), vec![1]),
        (r#"displayName pr"#.into(), vec![1, 2]),
        (r#"displayName eq """#.into(), vec![3]),
        (r#"displayName ne "x""#.into(), vec![1, 2, 3, 4, 5, 6]),
        // emails: GIN on the lower-cased values, value paths per element
        (r#"emails.value eq "BJENSEN@example.com""#.into(), vec![1]),
        (r#"emails eq "jürgen@EXÄMPLE.DE""#.into(), vec![3]),
        (r#"emails[value eq "john@example.com"]"#.into(), vec![2]),
        (
            r#"emails[value eq "john@example.com" and type eq "work"]"#.into(),
            vec![],
        ),
        (
            r#"emails[type eq "work" and value co "@example.com"]"#.into(),
            vec![1],
        ),
        (
            r#"emails.type eq "work" and emails.value co "@example.com""#.into(),
            vec![1, 2],
        ),
        (
            r#"emails[type eq "work" or value ew ".io"]"#.into(),
            vec![1, 2, 3, 6],
        ),
        (r#"emails[not (type eq "work")]"#.into(), vec![1, 2, 6]),
        (r#"emails.type ne "work""#.into(), vec![1, 2, 4, 5, 6]),
        (r#"not (emails.type eq "work")"#.into(), vec![4, 5]),
        (r#"emails pr"#.into(), vec![1, 2, 3, 6]),
        (r#"emails eq null"#.into(), vec![4, 5]),
        (r#"emails[primary eq true]"#.into(), vec![1, 6]),
        (r#"emails.primary eq false"#.into(), vec![]),
        // active
        (r#"active eq true"#.into(), vec![1, 4]),
        (r#"active eq false"#.into(), vec![2]),
        (r#"active ne true"#.into(), vec![2, 3, 5, 6]),
        (r#"active pr"#.into(), vec![1, 2, 4]),
        (r#"not (active eq true)"#.into(), vec![2, 3, 5, 6]),
        (r#"active eq "true""#.into(), vec![]),
        // meta: timestamptz columns, compared as instants, exact
        (
            r#"meta.lastModified gt "2020-06-30T12:00:00Z""#.into(),
            vec![5, 6],
        ),
        (
            r#"meta.lastModified ge "2020-06-30T14:00:00+02:00""#.into(),
            vec![3, 4, 5, 6],
        ),
        (
            r#"meta.lastModified eq "2020-06-30T12:00:00""#.into(),
            vec![3, 4],
        ),
        (
            r#"meta.lastModified lt "2012-01-01T00:00:00.1234565Z""#.into(),
            vec![1, 2],
        ),
        (
            r#"meta.lastModified gt "2012-01-01T00:00:00.1234555Z""#.into(),
            vec![2, 3, 4, 5, 6],
        ),
        (
            r#"meta.lastModified eq "2012-01-01T00:00:00.1234560001Z""#.into(),
            vec![2],
        ),
        (
            r#"meta.lastModified le "2012-01-01T00:00:00.1234559Z""#.into(),
            vec![1],
        ),
        (r#"meta.created sw "2020-06""#.into(), vec![3, 4]),
        (
            r#"meta.lastModified co "T12:00:00.000000""#.into(),
            vec![3, 4],
        ),
        (
            r#"meta.resourceType eq "User""#.into(),
            vec![1, 2, 3, 4, 5, 6],
        ),
        (r#"meta.resourceType eq "user""#.into(), vec![]),
        (r#"meta.version eq "W/\"3\"""#.into(), vec![3]),
        (r#"meta.location pr"#.into(), vec![]),
        (r#"meta.location ne "x""#.into(), vec![1, 2, 3, 4, 5, 6]),
        (
            r#"meta[created lt "2012-01-01T00:00:00Z" or version eq "W/\"6\""]"#.into(),
            vec![1, 6],
        ),
        // doc: strings, sub-attributes, extensions
        (r#"name.familyName eq "jensen""#.into(), vec![1]),
        (r#"name.givenName pr"#.into(), vec![1, 2]),
        (r#"name pr"#.into(), vec![1, 2, 4]),
        (r#"name[familyName eq "o'brien"]"#.into(), vec![4]),
        (r#"title pr"#.into(), vec![1, 6]),
        (r#"title eq """#.into(), vec![2]),
        (r#"title eq null"#.into(), vec![2, 3, 4, 5]),
        (r#"title ne "manager""#.into(), vec![1, 2, 3, 4, 5]),
        (r#"userName ne null"#.into(), vec![1, 2, 3, 4, 5, 6]),
        (r#"department eq "tour operations""#.into(), vec![1, 3]),
        (
            format!(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"{}\"",
                u(2)
            ),
            vec![1],
        ),
        (format!("manager eq \"{}\"", u(2)), vec![1]),
        (r#"nick eq "KID""#.into(), vec![5]),
        (
            r#"schemas eq "urn:example:params:scim:schemas:extension:acme:2.0:user""#.into(),
            vec![1, 2, 3, 6],
        ),
        // numbers, dateTimes, booleans, multi-valued, caseExact
        (r#"level gt 4"#.into(), vec![1, 2]),
        (r#"level eq 9007199254740993"#.into(), vec![2]),
        (r#"level eq 9007199254740992"#.into(), vec![]),
        (r#"level lt 0"#.into(), vec![6]),
        (r#"level ne 5"#.into(), vec![2, 3, 4, 5, 6]),
        (r#"score ge 2.5"#.into(), vec![1]),
        (r#"score lt 0"#.into(), vec![2]),
        (r#"score gt 0.0000001"#.into(), vec![1]),
        (r#"score eq 1e-7"#.into(), vec![6]),
        (r#"hired eq "2011-05-13T04:42:34Z""#.into(), vec![1]),
        (r#"hired gt "2011-05-13T04:42:34Z""#.into(), vec![2, 3]),
        (r#"hired lt "2011-05-13T04:42:34.6Z""#.into(), vec![1, 3]),
        (r#"hired sw "2011-05-13T06""#.into(), vec![2]),
        (r#"remote eq false"#.into(), vec![6]),
        (r#"remote ne true"#.into(), vec![2, 3, 4, 5, 6]),
        (r#"tags eq "alpha""#.into(), vec![1, 3]),
        (r#"tags co "ET""#.into(), vec![1]),
        (r#"tags ne "alpha""#.into(), vec![1, 2, 4, 5, 6]),
        (r#"code eq "abc""#.into(), vec![2]),
        (r#"code eq "ABC""#.into(), vec![]),
        (r#"badges[code eq "ABC" and level gt 5]"#.into(), vec![6]),
        (r#"badges[code eq "abc" and level gt 5]"#.into(), vec![]),
        (
            r#"badges.code eq "abc" and badges.level gt 5"#.into(),
            vec![6],
        ),
        (r#"badges[since pr]"#.into(), vec![1, 6]),
        (r#"badges.since gt "2016-01-01T00:00:00Z""#.into(), vec![6]),
        // groups: derived from group_members, this tenant only
        (format!("groups.value eq \"{}\"", g(1)), vec![1, 2]),
        (format!("groups eq \"{}\"", upper(g(2))), vec![1, 3]),
        (r#"groups.display eq "tour guides""#.into(), vec![1, 3]),
        (r#"groups pr"#.into(), vec![1, 2, 3]),
        (
            r#"groups[display sw "Ad" and type eq "direct"]"#.into(),
            vec![1, 2],
        ),
        (r#"groups.display eq "Intruders""#.into(), vec![]),
        (r#"groups.display ne "admins""#.into(), vec![1, 3, 4, 5, 6]),
        // and / or / not precedence
        (
            r#"userName eq "bjensen" or userName eq "jsmith" and active eq true"#.into(),
            vec![1],
        ),
        (
            r#"(userName eq "bjensen" or userName eq "jsmith") and active eq false"#.into(),
            vec![2],
        ),
        (
            r#"not (userName eq "bjensen" or active eq false)"#.into(),
            vec![3, 4, 5, 6],
        ),
        (
            r#"userName eq "jsmith" or not (active pr)"#.into(),
            vec![2, 3, 5, 6],
        ),
        (r#"not (not (title pr))"#.into(), vec![1, 6]),
        (
            r#"not (title eq "x" or nickName co "a")"#.into(),
            vec![1, 2, 3, 4, 5, 6],
        ),
    ];
    let group_cases: Vec<(String, Vec<u32>)> = vec![
        (format!("members.value eq \"{}\"", u(1)), vec![1, 2]),
        (format!("members eq \"{}\"", upper(u(1))), vec![1, 2]),
        (r#"members.type eq "group""#.into(), vec![1]),
        (r#"members pr"#.into(), vec![1, 2]),
        (r#"members eq null"#.into(), vec![3]),
        (
            format!("members[value eq \"{}\" and type eq \"User\"]", u(3)),
            vec![2],
        ),
        (format!("members.value ne \"{}\"", u(1)), vec![1, 2, 3]),
        (r#"members.display pr"#.into(), vec![]),
        (r#"members.display ne "x""#.into(), vec![1, 2, 3]),
        (r#"displayName eq "admins""#.into(), vec![1]),
        (
            r#"displayName sw "T" or externalId eq "G-1""#.into(),
            vec![1, 2],
        ),
        (r#"not (members.type eq "User")"#.into(), vec![3]),
    ];
    for (rt_name, cases, id) in [
        ("User", user_cases, uid as fn(u32) -> _),
        ("Group", group_cases, gid),
    ] {
        let rt = rt(&registry, rt_name);
        let all = read_all(&pool, "t", rt_name).await;
        for (text, want) in cases {
            let f = parse(&text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            let mut want: Vec<_> = want.into_iter().map(id).collect();
            want.sort();
            let sql = sql_ids(&pool, &registry, rt, "t", &f).await.unwrap();
            let eval = eval_ids(&registry, rt, &all, &f).unwrap();
            assert_eq!(eval, want, "evaluator, {rt_name}: {text}");
            assert_eq!(sql, want, "SQL, {rt_name}: {text}");
        }
    }
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn invalid_filters_get_the_evaluators_errors(pool: PgPool) {
    let registry = table_fixture(&pool).await;
    let users = rt(&registry, "User");
    for text in [
        "nope pr",
        "active gt true",
        "emails.primary co \"t\"",
        "name eq \"x\"",
        "userName gt null",
        "meta.created gt \"yesterday\"",
        "userName[value eq \"x\"]",
        "groups.nope eq \"x\"",
        "level co \"1\"",
    ] {
        let f = parse(text).unwrap();
        let want = eval_ids(&registry, users, &[], &f).unwrap_err();
        assert_eq!(want.scim_type, Some(ScimType::InvalidFilter), "{text}");
        let got = sql_ids(&pool, &registry, users, "t", &f).await.unwrap_err();
        assert_eq!(got, want, "{text}");
    }
}

#[test]
fn a_cursor_from_another_sort_order_is_refused() {
    let registry = registry();
    let users = rt(&registry, "User");
    let key = SortKey::parse(&registry, users, "meta.lastModified", None).unwrap();
    let sort = scimbus_db::Sort::new(&registry, users, &key);
    let cursor = scimbus_db::Cursor {
        value: scimbus_db::SortValue::Text("bjensen".into()),
        id: uuid::Uuid::nil(),
    };
    let mut qb = sqlx::QueryBuilder::new("");
    let e = sort.push_after(&mut qb, &cursor).unwrap_err();
    assert_eq!(e.scim_type, Some(ScimType::InvalidCursor));
}

#[sqlx::test(migrator = "scimbus_db::MIGRATOR")]
async fn sql_agrees_with_the_evaluator(pool: PgPool) {
    let registry = registry();
    ensure_tenants(&pool, &["acme", "other"]).await;
    let data = support::data::dataset(20_240_601, 300, 40);
    store(&pool, &registry, "acme", &data).await;
    // Another tenant: its own resources, and a group that lists acme's users.
    let mut other = support::data::dataset(7, 30, 4);
    if let Some(g) = other.iter_mut().find(|n| n.resource_type == "Group") {
        let acme_users = data.iter().filter(|n| n.resource_type == "User");
        g.members = acme_users
            .take(50)
            .map(|n| (n.id, "User".to_string()))
            .collect();
    }
    store(&pool, &registry, "other", &other).await;
    let users = read_all(&pool, "acme", "User").await;
    let groups = read_all(&pool, "acme", "Group").await;
    check_case_folding(&pool, &users).await;
    check_case_folding(&pool, &groups).await;

    let user_rt = rt(&registry, "User");
    let group_rt = rt(&registry, "Group");
    let cat = support::filters::catalog(&registry, user_rt, &users, USER_PATHS, USER_VALUE_PATHS);
    let u = agree(&pool, &registry, "User", users.clone(), cat, cases(3000)).await;
    let cat =
        support::filters::catalog(&registry, group_rt, &groups, GROUP_PATHS, GROUP_VALUE_PATHS);
    let g = agree(&pool, &registry, "Group", groups.clone(), cat, cases(1000)).await;
    // Agreement on filters that match everything, nothing, or fail alike
    // in both says little: a good share must tell resources apart. Measured
    // at 41-43 % (User) and 29-32 % (Group) discriminating, about 26 %
    // invalid; with values that miss the data (a generator that no longer
    // draws from it) 32 % and 20 %. The floors sit between, at least four
    // standard deviations below the measured shares at the default numbers
    // of cases (fewer cases, with SCIMBUS_PROPTEST_CASES, are noisier).
    for (name, s, floor) in [("User", u, 36), ("Group", g, 24)] {
        let (filters, invalid, some) = (
            s.filters.into_inner(),
            s.invalid.into_inner(),
            s.some_but_not_all.into_inner(),
        );
        eprintln!("{name}: {filters} filters, {invalid} invalid, {some} matching some but not all");
        assert!(
            some * 100 >= filters * floor,
            "{name}: only {some} of {filters} random filters match some but not all resources (floor {floor} %)"
        );
        assert!(
            invalid * 2 <= filters,
            "{name}: {invalid} of {filters} random filters are invalid (at most half may be)"
        );
    }

    let keys: &[(&str, &[&str])] = &[
        (
            "User",
            &[
                "userName",
                "name.familyName",
                "emails",
                "emails.type",
                "meta.lastModified",
                "meta.created",
                "meta.version",
                "displayName",
                "title",
                "externalId",
                "active",
                "id",
                "level",
                "score",
                "hired",
                "remote",
                "tags",
                "code",
                "badges.level",
                "badges.since",
                "groups.display",
                "groups",
                "manager",
                "phoneNumbers.value",
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            ],
        ),
        (
            "Group",
            &[
                "displayName",
                "members",
                "members.type",
                "rank",
                "since",
                "meta.lastModified",
            ],
        ),
    ];
    for (rt_name, paths) in keys {
        let rt = rt(&registry, rt_name);
        let all = if *rt_name == "User" { &users } else { &groups };
        for path in *paths {
            for order in ["ascending", "descending"] {
                let key = SortKey::parse(&registry, rt, path, Some(order)).unwrap();
                let want = eval_order(&registry, rt, all, &key);
                let got = sql_order(&pool, &registry, rt, "acme", &key, None).await;
                assert_eq!(got, want, "sortBy={path} sortOrder={order}");
                let paged = sql_order(&pool, &registry, rt, "acme", &key, Some(13)).await;
                assert_eq!(paged, want, "pages of sortBy={path} sortOrder={order}");
            }
        }
    }
}
