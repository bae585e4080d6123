//! An HR source of scheme `bearer` (for integration platforms that call out
//! with OAuth 2.0 tokens instead of signing): its requests carry a token of
//! the tenant with the scope `hr:<source>`, and nothing else gets in — no
//! token, a token without that scope or with another source's, a signature.
//! The scope opens that source and nothing more.

use axum::http::Method;
use scimbus_hr::AuthSpec;
use scimbus_runtime::api_tokens::{self, TokenSpec};
use scimbus_runtime::scope::Scopes;
use serde_json::{Value, json};

use crate::hr_support::{Hr, SECRET, demo_sources, hire, now_unix, our_id, signed};

const SOURCE: &str = "workday-oauth";

async fn token(hr: &Hr, scopes: &str) -> String {
    let spec = TokenSpec {
        tenant: "acme",
        label: "hr platform",
        scopes: Scopes::parse(&[scopes]).unwrap(),
        expires_at: None,
    };
    api_tokens::create_with(&hr.env.pool, &spec)
        .await
        .unwrap()
        .token
}

async fn post(hr: &Hr, source: &str, body: &Value, headers: Vec<(String, String)>) -> (u16, Value) {
    let raw = serde_json::to_vec(body).unwrap();
    let r = hr
        .post_raw(&format!("/hr/v1/acme/{source}"), raw, &headers)
        .await;
    (r.status.as_u16(), r.body)
}

fn bearer(token: &str) -> Vec<(String, String)> {
    vec![("authorization".into(), format!("Bearer {token}"))]
}

#[tokio::test]
async fn a_bearer_source_takes_a_token_with_its_scope_and_nothing_else() {
    let hr = Hr::with(
        |b| {
            let mut spec = demo_sources()
                .into_iter()
                .find(|s| s.name == "workday")
                .unwrap();
            spec.name = SOURCE.into();
            spec.auth = AuthSpec::Bearer {};
            b.hr_source("acme", scimbus_hr::Source::compile(&spec, vec![]).unwrap())
        },
        |s| s,
    )
    .await;
    hr.env.tenants(&["acme"]).await;
    let body = hire("oa-1", "600100", "Iker", "Ibarra", "2026-01-05");
    let raw = serde_json::to_vec(&body).unwrap();

    let good = token(&hr, &format!("hr:{SOURCE}")).await;
    let other_source = token(&hr, "hr:workday").await;
    let scim_only = token(&hr, "scim:read scim:write").await;
    let refusals = [
        (Vec::new(), 401, "a bearer token is required"),
        (bearer("not-a-token"), 401, "not valid"),
        (bearer(&scim_only), 403, "hr:workday-oauth"),
        (bearer(&other_source), 403, "hr:workday-oauth"),
        // A signature, however good, is not what this source takes.
        (
            signed("workday", SECRET, &raw, now_unix()),
            401,
            "bearer token",
        ),
    ];
    for (headers, status, says) in refusals {
        let (got, answer) = post(&hr, SOURCE, &body, headers).await;
        assert_eq!(got, status, "{says}: {answer}");
        let detail = answer["detail"].as_str().unwrap_or_default();
        assert!(detail.contains(says), "{says}: {detail}");
    }
    assert_eq!(hr.recorded().await, 0, "a refused request records nothing");
    // A body that does not map, from a proved sender: refused, audited.
    let (status, answer) = post(&hr, SOURCE, &json!({"nothing": 1}), bearer(&good)).await;
    assert_eq!(status, 400, "{answer}");

    let (status, answer) = post(&hr, SOURCE, &body, bearer(&good)).await;
    assert_eq!(status, 202, "{answer}");
    let events = answer["events"].as_array().unwrap().clone();
    hr.settled(&our_id(&events), "applied").await;
    let u = hr
        .user_where("600100", "hired", |u| u["active"] == true)
        .await;
    assert_eq!(u["userName"], "iker.ibarra@example.org");

    // The scope opens that source only: not a signing source, not SCIM.
    let (status, answer) = post(&hr, "workday", &body, bearer(&good)).await;
    assert_eq!(status, 401, "{answer}");
    let r = hr
        .scim_as(&good, Method::GET, "/scim/v2/acme/Users", json!(null))
        .await;
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.body["detail"].as_str().unwrap().contains("scim:read"));
    assert_eq!(hr.recorded().await, 1);

    // The trail: the two tokens without the scope (not the requests that
    // proved nobody), the body that did not map, the hire as applied.
    let q = scimbus_db::audit::Query {
        limit: 100,
        ..Default::default()
    };
    let trail = scimbus_db::audit::list(&hr.env.pool, "acme", &q)
        .await
        .unwrap();
    let got: Vec<(&str, &str, &str, i32)> = trail
        .iter()
        .map(|(_, e)| {
            (
                e.actor_kind.as_str(),
                e.actor_name.as_str(),
                e.action.as_str(),
                e.status,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("hr", SOURCE, "hr_event", 201),
            ("hr", SOURCE, "hr_event", 400),
            ("scim", "hr platform", "hr_event", 403),
            ("scim", "hr platform", "hr_event", 403),
        ]
    );
    let applied = &trail[0].1;
    assert_eq!(applied.actor, SOURCE);
    assert_eq!(
        applied.resource_id.map(|r| r.to_string()),
        u["id"].as_str().map(String::from)
    );
    assert!(
        applied.attributes.iter().any(|a| a == "userName"),
        "{applied:?}"
    );
    hr.teardown().await;
}
