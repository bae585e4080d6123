//! Lists: filters, sorting, index and cursor paging, projection.

use std::collections::HashSet;

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::support::*;

async fn seed(api: &Api, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        let mut u = user(&format!("user{i:02}"));
        u["title"] = json!(if i % 2 == 0 { "Even" } else { "Odd" });
        let r = api.post(USERS, u).await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.body);
        ids.push(r.body["id"].as_str().unwrap().to_string());
    }
    ids
}

fn ids(body: &Value) -> Vec<String> {
    body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn index_paging_sorting_and_projection() {
    let api = Api::new().await;
    let all = seed(&api, 7).await;
    let r = api.get(&format!("{USERS}?startIndex=3&count=2")).await;
    assert_eq!(r.body["totalResults"], 7);
    assert_eq!(r.body["startIndex"], 3);
    assert_eq!(r.body["itemsPerPage"], 2);
    assert_eq!(
        ids(&r.body),
        all[2..4].to_vec(),
        "default order is creation order"
    );
    let r = api.get(&format!("{USERS}?count=0")).await;
    assert_eq!(
        (r.body["totalResults"].as_u64(), ids(&r.body).len()),
        (Some(7), 0)
    );
    let r = api.get(&format!("{USERS}?startIndex=0&count=-4")).await;
    assert_eq!(r.body["startIndex"], 1);

    let r = api
        .get(&format!(
            "{USERS}?sortBy=userName&sortOrder=descending&filter=title%20eq%20%22even%22"
        ))
        .await;
    let names: Vec<&str> = r.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["user06", "user04", "user02", "user00"]);

    let r = api
        .get(&format!("{USERS}?attributes=userName&count=1"))
        .await;
    let u = &r.body["Resources"][0];
    assert_eq!(u["userName"], "user00");
    assert!(u.get("id").is_some(), "id is always returned");
    assert!(u.get("name").is_none() && u.get("emails").is_none(), "{u}");

    // .search with the same parameters in a body.
    let r = api
        .call(Method::POST, &format!("{USERS}/.search"), ACME, Some(json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:SearchRequest"], "filter": "emails.value eq \"user03@EXAMPLE.com\"", "attributes": ["userName"]})))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["totalResults"], 1);
    assert_eq!(r.body["Resources"][0]["userName"], "user03");
    // Root search spans resource types.
    api.post(
        GROUPS,
        json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": "G"}),
    )
    .await;
    let r = api
        .call(
            Method::POST,
            "/scim/v2/acme/.search",
            ACME,
            Some(json!({"filter": "meta.lastModified gt \"2000-01-01T00:00:00Z\""})),
        )
        .await;
    assert_eq!(r.body["totalResults"], 8, "{}", r.body);
    api.teardown().await;
}

#[tokio::test]
async fn cursor_paging_is_stable_while_others_write() {
    let api = Api::new().await;
    let all = seed(&api, 9).await;
    let mut seen = Vec::new();
    let mut cursor = String::new();
    let mut pages = 0;
    loop {
        let r = api
            .get(&format!("{USERS}?cursor={cursor}&count=4&sortBy=userName"))
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert!(r.body.get("startIndex").is_none());
        seen.extend(ids(&r.body));
        pages += 1;
        if pages == 1 {
            // Writes between pages: a user sorting before the cursor and one
            // deleted behind it change nothing of what is still to come.
            api.post(USERS, user("aaa-new")).await;
            api.call(Method::DELETE, &format!("{USERS}/{}", all[0]), ACME, None)
                .await;
        }
        match r.body["nextCursor"].as_str() {
            Some(c) => cursor = c.to_string(),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(
        seen, all,
        "every user once, in order, none skipped or repeated"
    );
    assert_eq!(seen.iter().collect::<HashSet<_>>().len(), 9);
    // A cursor of another query is refused.
    let r = api
        .get(&format!("{USERS}?cursor=&count=2&sortBy=userName"))
        .await;
    let c = r.body["nextCursor"].as_str().unwrap().to_string();
    api.get(&format!("{USERS}?cursor={c}&count=2&sortBy=title"))
        .await
        .assert_error(400, Some("invalidCursor"));
    api.teardown().await;
}
