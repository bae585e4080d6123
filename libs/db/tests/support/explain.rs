//! Query plans of filters, custom and generic.

use scimbus_scim::filter::parse;
use sqlx::PgPool;

use super::rt;

/// The plan of `filter` on resources of tenant `big`: with its parameters
/// known (a custom plan, what a first execution gets), and as a generic
/// plan (what a prepared statement may switch to), given the third
/// parameter's text for the latter.
pub async fn plans(
    pool: &PgPool,
    registry: &scimbus_scim::Registry,
    rt_name: &str,
    filter: &str,
    param: &str,
) -> (String, String) {
    let rt = rt(registry, rt_name);
    let f = parse(filter).unwrap();
    let mut qb = sqlx::QueryBuilder::new("EXPLAIN SELECT r.id FROM resources r WHERE r.tenant = ");
    qb.push_bind("big")
        .push(" AND r.resource_type = ")
        .push_bind(rt_name.to_string())
        .push(" AND ");
    scimbus_db::push_filter(&mut qb, registry, rt, &f).unwrap();
    let sql = qb.sql().as_str().trim_start_matches("EXPLAIN ").to_string();
    let custom: Vec<String> = qb.build_query_scalar().fetch_all(pool).await.unwrap();

    let mut conn = pool.acquire().await.unwrap();
    let prepare = format!("PREPARE q AS {sql}");
    sqlx::raw_sql(sqlx::AssertSqlSafe(prepare))
        .execute(&mut *conn)
        .await
        .unwrap();
    sqlx::raw_sql("SET plan_cache_mode = force_generic_plan")
        .execute(&mut *conn)
        .await
        .unwrap();
    let exec = format!(
        "EXPLAIN EXECUTE q('big', '{rt_name}', '{}')",
        param.replace('\'', "''")
    );
    let generic: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(exec))
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    sqlx::raw_sql("DEALLOCATE q; RESET plan_cache_mode")
        .execute(&mut *conn)
        .await
        .unwrap();
    (custom.join("\n"), generic.join("\n"))
}
